/* Prints a line and asks for a reset through the ACPI reset register: the VMM boots the guest
 * again, so the line repeats until the test stops the VMM. */
#include "payload.h"

	payload_start msg
	mov $PORT_ACPI_RESET, %dx
	mov $ACPI_RESET_VALUE, %al
	out %al, %dx
1:	jmp 1b

	define_puts

msg:	.asciz "payload: booted, resetting\n"
