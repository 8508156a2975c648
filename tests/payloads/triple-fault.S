/* Loads an empty IDT and executes an undefined opcode: the CPU cannot deliver it and shuts down (triple
 * fault). The VMM must report it and exit non-zero. */
#include "payload.h"

	payload_start msg
	lidt idt_empty
	ud2
1:	jmp 1b

	define_puts

	.balign 8
idt_empty:
	.word 0
	.long 0
msg:	.asciz "payload: about to triple fault\n"
