/* Asks for a reset the way old kernels do, by pulsing the i8042 reset line (command 0xfe). */
#include "payload.h"

	payload_start msg
	mov $0xfe, %al
	out %al, $PORT_I8042_CMD
1:	jmp 1b

	define_puts

msg:	.asciz "payload: booted, i8042 reset\n"
