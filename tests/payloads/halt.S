/* Announces itself, then halts with interrupts off for good: the VMM must sleep (not spin) and
 * still stop cleanly on SIGTERM. */
#include "payload.h"

	payload_start msg
	cli
1:	hlt
	jmp 1b

	define_puts

msg:	.asciz "payload: halting\n"
