/* SPDX-License-Identifier: Apache-2.0 */
/* Initial vCPU state for the two direct-boot protocols: Linux's 64-bit boot protocol (long mode,
 * identity-mapped page tables, RSI = zero page) and Xen PVH (32-bit protected mode, paging off,
 * EBX = hvm_start_info). Also the boot GDT and the LAPIC LINT pins. */
#pragma once

#include <stdint.h>

struct guest_memory;

/* Writes the boot GDT and, for long mode, the page tables into guest RAM (once per boot). */
int regs_write_boot_tables(struct guest_memory *mem);

/* Puts the bootstrap vCPU at entry in long mode with RSI = boot_params. */
int regs_setup_linux64(int vcpu_fd, uint64_t entry, uint64_t boot_params);
/* Puts the bootstrap vCPU at entry in flat 32-bit protected mode with EBX = start_info. */
int regs_setup_pvh(int vcpu_fd, uint64_t entry, uint64_t start_info);
/* x87/SSE defaults every vCPU needs (FCW 0x37f, MXCSR 0x1f80). */
int regs_setup_fpu(int vcpu_fd);
/* LINT0 = ExtINT (the PIC), LINT1 = NMI, as firmware leaves them. */
int regs_setup_lapic(int vcpu_fd);
