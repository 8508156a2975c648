/* SPDX-License-Identifier: Apache-2.0 */
/* Loading a guest kernel (bzImage with the 64-bit Linux boot protocol, or an ELF vmlinux with a Xen
 * PVH entry note) and its initramfs into guest RAM. Kernel and initramfs files are untrusted: every
 * offset and size read from them is checked against the file and against guest RAM.
 *
 * Errors: 0 on success, else a negative errno and, when ret_reason is non-NULL, *ret_reason points
 * to a one-line English reason (no trailing period, no path: the caller names the file). The text
 * lives in a thread-local buffer that stays valid until the next failing call of any function of
 * vmm-worker/boot/ on the same thread; on success *ret_reason is set to NULL.
 *   -ENOEXEC   not a kernel this VMM can boot (unknown format, wrong magic, protocol too old,
 *              no 64-bit entry point, ELF without a PVH note, not x86-64)
 *   -EBADMSG   the file is malformed or truncated (an offset or size points outside the file)
 *   -ERANGE    the kernel asks to be loaded at an address outside usable guest RAM
 *   -E2BIG     the kernel or initramfs does not fit in guest RAM where it has to go
 *   -ENODATA   the file is empty
 *   other      from open(), fstat() or pread()
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct guest_memory;

enum boot_protocol {
	BOOT_PROTOCOL_LINUX64, /* bzImage, 64-bit entry: RSI = zero page, long mode, identity map */
	BOOT_PROTOCOL_PVH,     /* ELF vmlinux, Xen PVH entry: EBX = hvm_start_info, 32-bit, no paging */
	_BOOT_PROTOCOL_MAX,
	_BOOT_PROTOCOL_INVALID = -EINVAL,
};

const char *boot_protocol_to_string(enum boot_protocol p);
enum boot_protocol boot_protocol_from_string(const char *s);

/* The bzImage setup header runs from 0x1f1 to at most 0x290, where boot_params continues. */
#define KERNEL_SETUP_HEADER_OFFSET 0x1f1
#define KERNEL_SETUP_HEADER_MAX (0x290 - KERNEL_SETUP_HEADER_OFFSET)

struct kernel_image {
	enum boot_protocol protocol;
	/* Guest physical entry point: the 64-bit entry (load + 0x200) for LINUX64, the 32-bit
	 * XEN_ELFNOTE_PHYS32_ENTRY for PVH. */
	uint64_t entry;
	/* Guest RAM [load_start, load_end) the kernel occupies until it has started, including the
	 * bzImage decompression buffer (init_size) and the ELF bss; the initramfs goes elsewhere. */
	uint64_t load_start, load_end;
	/* LINUX64 only: the setup header bytes from file offset 0x1f1, as long as the kernel says
	 * (0x202 + the byte at 0x201), to copy into the zero page. */
	uint8_t setup_header[KERNEL_SETUP_HEADER_MAX];
	size_t setup_header_len;
	uint16_t boot_protocol_version; /* LINUX64: e.g. 0x020f for 2.15; PVH: 0 */
	uint16_t xloadflags;		/* LINUX64 only */
	/* Highest guest address the initramfs may occupy (inclusive, as in the setup header);
	 * 4 GiB - 1 for PVH, where the kernel starts with paging off. */
	uint64_t initrd_addr_max;
	/* Longest command line the kernel accepts, without the NUL. */
	uint32_t cmdline_size;
};

/* Detects the format (bzImage: "HdrS" at 0x202; ELF64 with a Xen PVH note), checks it and copies the
 * kernel into guest RAM. A bzImage goes to its pref_address when that is usable, else to
 * LAYOUT_KERNEL_START; ELF segments go to their p_paddr. */
int kernel_load(const char *path, struct guest_memory *mem, struct kernel_image *ret,
		const char **ret_reason);

/* Copies the initramfs into guest RAM, page-aligned, as high as possible below the lowest of the
 * kernel's initrd_addr_max, the end of RAM below 4 GiB and the MMIO gap, outside the kernel. */
int initramfs_load(const char *path, struct guest_memory *mem, const struct kernel_image *k,
		   uint64_t *ret_gpa, uint64_t *ret_size, const char **ret_reason);
