/* SPDX-License-Identifier: Apache-2.0 */
/* A 16-byte stand-in for a BIOS's entry point: what a guest that "jumps to the BIOS" to reboot
 * finds at F000:FFF0. */
#pragma once

struct guest_memory;

/* Writes the stub at LAYOUT_RESET_STUB: it resets through the ACPI reset register, then the i8042
 * pulse, then halts. -EFAULT when guest RAM does not cover the address. */
int reset_stub_write(struct guest_memory *mem);
