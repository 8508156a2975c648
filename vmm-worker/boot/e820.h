/* SPDX-License-Identifier: Apache-2.0 */
/* The BIOS E820 memory map we hand the guest, in the layout of boot_params.e820_table. PVH's
 * hvm_memmap_table_entry uses the same type numbers. */
#pragma once

#include <stdint.h>

struct guest_memory;

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4
#define E820_UNUSABLE 5

/* Entries the zero page has room for. */
#define E820_MAX_ENTRIES_ZEROPAGE 128

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct e820_entry) == 20, "e820 entry must match boot_params");

/* Fills out[0..max) sorted by address: RAM below the EBDA, the legacy hole (EBDA to 1 MiB, which
 * holds the ACPI tables) reserved, RAM from 1 MiB to the end of low RAM, the PCI ECAM window
 * reserved, RAM above 4 GiB if any. -E2BIG when max is too small. */
int e820_build(const struct guest_memory *mem, struct e820_entry *out, unsigned max, unsigned *ret_n);
