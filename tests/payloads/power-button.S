/* Waits for the ACPI power button the way a guest without interrupts can: it polls the Generic
 * Event Device's read-to-clear event register (one MMIO exit per poll, so the VMM's vCPU counters
 * show whether the vCPU runs), prints a dot on COM1 every 16 polls so the test sees it make
 * progress, and powers off through ACPI S5 when the power-button bit appears. Drives the control
 * socket tests: Pause must freeze the dots and the exits, PowerButton must end in status 0. */
#include "payload.h"

/* A short spin between polls keeps the exit rate low on hardware virtualization; where KVM emulates
 * guest instructions (this project's build machines) it takes about 10 ms. */
#define POLL_DELAY 2000

	payload_start msg
	xor %ebx, %ebx
poll:
	mov $POLL_DELAY, %ecx
1:	pause
	loop 1b
	mov (LAYOUT_GED_START + GED_REG_EVENT), %eax
	test $GED_EVENT_POWER_BUTTON, %eax
	jnz pressed
	inc %ebx
	test $15, %ebx
	jnz poll
	mov $dot, %esi
	call puts
	jmp poll
pressed:
	mov $msg_pressed, %esi
	call puts
	acpi_poweroff
2:	jmp 2b

	define_puts

msg:	.asciz "payload: waiting for the power button\n"
dot:	.asciz "."
msg_pressed: .asciz "\npayload: power button pressed, powering off\n"
