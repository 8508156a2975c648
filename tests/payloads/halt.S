/* Announces itself, then halts with interrupts off for good: the VMM must sleep (not spin) and
 * still stop cleanly on SIGTERM. */
#include "payload.h"

	.code32
	.text
	.globl pvh_start
pvh_start:
	pvh_note pvh_start
	mov $0x8000, %esp
	mov $msg, %esi
	call puts
	cli
1:	hlt
	jmp 1b

	define_puts

msg:	.asciz "payload: halting\n"
