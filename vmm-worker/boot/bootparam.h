/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux x86 boot protocol ABI: the bzImage setup header and the zero page (struct boot_params),
 * after Documentation/arch/x86/boot.rst and zero-page.rst. Only the fields we read or write are
 * named; the rest is padding. Offsets are absolute within the zero page and asserted below. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "e820.h"

#define SETUP_HEADER_MAGIC 0x53726448 /* "HdrS" at 0x202 */
#define SETUP_BOOT_FLAG 0xaa55
#define SETUP_SECTOR_SIZE 512
#define SETUP_SECTS_DEFAULT 4 /* setup_sects == 0 means 4 */
#define SETUP_OFFSET_HEADER 0x202
#define SETUP_OFFSET_JUMP 0x200
/* The 64-bit entry point is this far into the protected-mode kernel (boot.rst, "64-bit Boot
 * Protocol"). */
#define SETUP_ENTRY64_OFFSET 0x200

#define BOOT_PROTOCOL_VERSION(major, minor) (((major) << 8) | (minor))

/* loadflags */
#define LOADED_HIGH (1u << 0)
#define CAN_USE_HEAP (1u << 7)

/* xloadflags (protocol 2.12+) */
#define XLF_KERNEL_64 (1u << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

/* type_of_loader for a boot loader without an assigned id */
#define LOADER_TYPE_UNDEFINED 0xff

struct setup_header {
	uint8_t setup_sects;		/* 0x1f1 */
	uint16_t root_flags;		/* 0x1f2 */
	uint32_t syssize;		/* 0x1f4: protected-mode size in 16-byte units */
	uint16_t ram_size;		/* 0x1f8 */
	uint16_t vid_mode;		/* 0x1fa */
	uint16_t root_dev;		/* 0x1fc */
	uint16_t boot_flag;		/* 0x1fe */
	uint8_t jump[2];		/* 0x200: jmp short; the header ends at 0x202 + jump[1] */
	uint32_t header;		/* 0x202 */
	uint16_t version;		/* 0x206 */
	uint32_t realmode_swtch;	/* 0x208 */
	uint16_t start_sys_seg;		/* 0x20c */
	uint16_t kernel_version;	/* 0x20e */
	uint8_t type_of_loader;		/* 0x210 */
	uint8_t loadflags;		/* 0x211 */
	uint16_t setup_move_size;	/* 0x212 */
	uint32_t code32_start;		/* 0x214 */
	uint32_t ramdisk_image;		/* 0x218 */
	uint32_t ramdisk_size;		/* 0x21c */
	uint32_t bootsect_kludge;	/* 0x220 */
	uint16_t heap_end_ptr;		/* 0x224 */
	uint8_t ext_loader_ver;		/* 0x226 */
	uint8_t ext_loader_type;	/* 0x227 */
	uint32_t cmd_line_ptr;		/* 0x228 */
	uint32_t initrd_addr_max;	/* 0x22c */
	uint32_t kernel_alignment;	/* 0x230 */
	uint8_t relocatable_kernel;	/* 0x234 */
	uint8_t min_alignment;		/* 0x235 */
	uint16_t xloadflags;		/* 0x236 */
	uint32_t cmdline_size;		/* 0x238 */
	uint32_t hardware_subarch;	/* 0x23c */
	uint64_t hardware_subarch_data; /* 0x240 */
	uint32_t payload_offset;	/* 0x248 */
	uint32_t payload_length;	/* 0x24c */
	uint64_t setup_data;		/* 0x250 */
	uint64_t pref_address;		/* 0x258 */
	uint32_t init_size;		/* 0x260 */
	uint32_t handover_offset;	/* 0x264 */
	uint32_t kernel_info_offset;	/* 0x268 */
} __attribute__((packed));

/* Protocol 2.12 (the oldest we accept) defines the header up to handover_offset. */
#define SETUP_HEADER_END_2_12 0x268

struct boot_params {
	uint8_t _pad0[0x070];
	uint64_t acpi_rsdp_addr; /* 0x070, protocol 2.14+ */
	uint8_t _pad1[0x0c0 - 0x078];
	uint32_t ext_ramdisk_image; /* 0x0c0 */
	uint32_t ext_ramdisk_size;  /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;  /* 0x0c8 */
	uint8_t _pad2[0x1e8 - 0x0cc];
	uint8_t e820_entries; /* 0x1e8 */
	uint8_t _pad3[0x1ef - 0x1e9];
	uint8_t sentinel; /* 0x1ef: must stay 0, or the kernel distrusts the loader's fields */
	uint8_t _pad4[1];
	struct setup_header hdr; /* 0x1f1 */
	uint8_t _pad5[0x2d0 - 0x1f1 - sizeof(struct setup_header)];
	struct e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2d0 */
	uint8_t _pad6[0x1000 - 0xcd0];
} __attribute__((packed));

#define ASSERT_BP_OFFSET(field, off)                                                                        \
	_Static_assert(offsetof(struct boot_params, field) == (off), #field " is at " #off)

ASSERT_BP_OFFSET(acpi_rsdp_addr, 0x070);
ASSERT_BP_OFFSET(ext_ramdisk_image, 0x0c0);
ASSERT_BP_OFFSET(ext_ramdisk_size, 0x0c4);
ASSERT_BP_OFFSET(ext_cmd_line_ptr, 0x0c8);
ASSERT_BP_OFFSET(e820_entries, 0x1e8);
ASSERT_BP_OFFSET(sentinel, 0x1ef);
ASSERT_BP_OFFSET(hdr, 0x1f1);
ASSERT_BP_OFFSET(hdr.syssize, 0x1f4);
ASSERT_BP_OFFSET(hdr.boot_flag, 0x1fe);
ASSERT_BP_OFFSET(hdr.header, 0x202);
ASSERT_BP_OFFSET(hdr.version, 0x206);
ASSERT_BP_OFFSET(hdr.type_of_loader, 0x210);
ASSERT_BP_OFFSET(hdr.loadflags, 0x211);
ASSERT_BP_OFFSET(hdr.code32_start, 0x214);
ASSERT_BP_OFFSET(hdr.ramdisk_image, 0x218);
ASSERT_BP_OFFSET(hdr.ramdisk_size, 0x21c);
ASSERT_BP_OFFSET(hdr.heap_end_ptr, 0x224);
ASSERT_BP_OFFSET(hdr.ext_loader_ver, 0x226);
ASSERT_BP_OFFSET(hdr.cmd_line_ptr, 0x228);
ASSERT_BP_OFFSET(hdr.initrd_addr_max, 0x22c);
ASSERT_BP_OFFSET(hdr.kernel_alignment, 0x230);
ASSERT_BP_OFFSET(hdr.relocatable_kernel, 0x234);
ASSERT_BP_OFFSET(hdr.xloadflags, 0x236);
ASSERT_BP_OFFSET(hdr.cmdline_size, 0x238);
ASSERT_BP_OFFSET(hdr.hardware_subarch, 0x23c);
ASSERT_BP_OFFSET(hdr.setup_data, 0x250);
ASSERT_BP_OFFSET(hdr.pref_address, 0x258);
ASSERT_BP_OFFSET(hdr.init_size, 0x260);
ASSERT_BP_OFFSET(hdr.kernel_info_offset, 0x268);
ASSERT_BP_OFFSET(e820_table, 0x2d0);
_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup header size");
_Static_assert(sizeof(struct boot_params) == 4096, "the zero page is one page");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the boot ABI is little-endian");
