/* Reboots the way Linux's last-resort BIOS method does (machine_real_restart): leave protected
 * mode and far-jump to the BIOS entry point F000:FFF0. There is no BIOS, so the VMM's reset stub
 * must be there and reset the guest; the line repeats until the test stops the VMM. */
#include "payload.h"

#define LOAD_ADDRESS 0x100000 /* payload.ld */

	payload_start msg
	lgdt gdt_descriptor
	/* A 16-bit code segment based at the load address, so 16-bit offsets reach this code. */
	ljmp $0x08, $(real_mode_entry - LOAD_ADDRESS)

	.code16
real_mode_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr0, %eax
	and $0xfffffffe, %eax
	mov %eax, %cr0
	ljmp $0xf000, $0xfff0
	.code32

	define_puts

	.balign 8
gdt:
	.quad 0
	.quad 0x00009b100000ffff /* 0x08: 16-bit code, base 0x100000, limit 64 KiB */
	.quad 0x000093000000ffff /* 0x10: 16-bit data, base 0, limit 64 KiB */
gdt_descriptor:
	.word gdt_descriptor - gdt - 1
	.long gdt
msg:	.asciz "payload: booted, resetting through the BIOS entry point\n"
