/* Shared pieces of the test payloads: the PVH note and small 32-bit routines, assembled with the
 * C preprocessor so the port numbers come from the VMM's own layout.h. */
#include "arch/x86/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define COM1_LSR (PORT_COM1 + 5)
#define LSR_THRE 0x20

/* The ELF note that makes the image bootable through PVH. */
.macro pvh_note entry
	.pushsection .note.Xen, "a", @note
	.balign 4
	.long 4
	.long 4
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long \entry
	.popsection
.endm

/* The common start of every payload: text section, PVH entry with its note, a stack, and a first
 * line on the console naming the payload. */
.macro payload_start msg
	.code32
	.text
	.globl pvh_start
pvh_start:
	pvh_note pvh_start
	mov $0x8000, %esp
	mov $\msg, %esi
	call puts
.endm

/* puts: ESI = NUL-terminated string; polls LSR.THRE like a boot loader would. Clobbers EAX, EDX, ESI. */
.macro define_puts
puts:
	lodsb
	test %al, %al
	jz 2f
	mov %al, %ah
1:	mov $COM1_LSR, %dx
	in %dx, %al
	test $LSR_THRE, %al
	jz 1b
	mov %ah, %al
	mov $PORT_COM1, %dx
	out %al, %dx
	jmp puts
2:	ret
.endm

/* Requests ACPI S5 through the hardware-reduced sleep control register. */
.macro acpi_poweroff
	mov $PORT_ACPI_SLEEP_CONTROL, %dx
	mov $((ACPI_S5_SLP_TYP << ACPI_SLEEP_CONTROL_SLP_TYP_SHIFT) | ACPI_SLEEP_CONTROL_SLP_EN), %al
	out %al, %dx
.endm
