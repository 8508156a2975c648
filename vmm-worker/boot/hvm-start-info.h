/* SPDX-License-Identifier: Apache-2.0 */
/* The Xen PVH start-of-day ABI (xen/include/public/arch-x86/hvm/start_info.h), version 1: the
 * structure EBX points to at the PVH entry, its module list and its memory map. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HVM_START_MAGIC_VALUE 0x336ec578
#define HVM_START_INFO_VERSION 1 /* version 1 adds the memory map */

/* hvm_memmap_table_entry types: the E820 numbers. */
#define XEN_HVM_MEMMAP_TYPE_RAM 1
#define XEN_HVM_MEMMAP_TYPE_RESERVED 2
#define XEN_HVM_MEMMAP_TYPE_ACPI 3
#define XEN_HVM_MEMMAP_TYPE_NVS 4
#define XEN_HVM_MEMMAP_TYPE_UNUSABLE 5

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 0x10, "start_info layout");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == 0x20, "start_info layout");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 0x28, "start_info layout");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 0x30, "start_info layout");
_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist entry layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry layout");
