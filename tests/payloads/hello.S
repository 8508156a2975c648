/* Prints a line on COM1, leaves boot-progress markers on port 0x80, reads the PCI host bridge's
 * ID and an unclaimed PCI configuration register (must read all-ones) and powers off through ACPI S5: the whole
 * "boot, talk, power off" path with no kernel involved. */
#include "payload.h"

	payload_start msg
	mov $0x01, %al
	out %al, $PORT_DEBUG

	/* 00:00.0 is the host bridge (1b36:0008) */
	mov $PORT_PCI_CONFIG_ADDRESS, %dx
	mov $0x80000000, %eax
	out %eax, %dx
	mov $PORT_PCI_CONFIG_DATA, %dx
	in %dx, %eax
	cmp $0x00081b36, %eax
	jne 2f
	mov $msg_bridge, %esi
	call puts
2:
	/* Slot 31 is empty: configuration reads must come back as all-ones. */
	mov $PORT_PCI_CONFIG_ADDRESS, %dx
	mov $0x8000f800, %eax
	out %eax, %dx
	mov $PORT_PCI_CONFIG_DATA, %dx
	in %dx, %eax
	cmp $0xffffffff, %eax
	jne 1f
	mov $msg_pci, %esi
	call puts
1:
	mov $0x02, %al
	out %al, $PORT_DEBUG
	acpi_poweroff
	/* Not reached when power-off works: spin in place so the test times out visibly. */
2:	jmp 2b

	define_puts

msg:	.asciz "payload: hello from the guest\n"
msg_pci: .asciz "payload: unclaimed PCI config reads all-ones\n"
msg_bridge: .asciz "payload: PCI host bridge 1b36:0008\n"
