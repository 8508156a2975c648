/* SPDX-License-Identifier: Apache-2.0 */
/* The boot information a kernel finds at entry: the Linux zero page (64-bit boot protocol) or the
 * Xen PVH hvm_start_info, each with the command line, initramfs, E820 map and ACPI RSDP address.
 * Errors and *ret_reason as in kernel.h; -EINVAL when the image is of the other protocol or the
 * initramfs lies where the kernel cannot reach it, -E2BIG when the command line is too long. */
#pragma once

#include <stdint.h>

struct guest_memory;
struct kernel_image;

struct boot_setup {
	const char *cmdline;		  /* NULL means empty */
	uint64_t initrd_gpa, initrd_size; /* from initramfs_load(); size 0: no initramfs */
	uint64_t rsdp_gpa;		  /* 0: let the kernel scan the BIOS area */
};

/* Writes the zero page at LAYOUT_ZERO_PAGE and the command line at LAYOUT_CMDLINE. Enter with
 * RSI = LAYOUT_ZERO_PAGE, RIP = k->entry, in 64-bit mode. */
int linux_boot_params_write(struct guest_memory *mem, const struct kernel_image *k,
			    const struct boot_setup *s, const char **ret_reason);

/* Writes hvm_start_info at LAYOUT_PVH_INFO, its memory map at LAYOUT_PVH_MEMMAP, the module list at
 * LAYOUT_PVH_MODLIST and the command line at LAYOUT_CMDLINE. Enter with EBX = LAYOUT_PVH_INFO,
 * EIP = k->entry, in 32-bit protected mode with paging off. */
int pvh_start_info_write(struct guest_memory *mem, const struct kernel_image *k, const struct boot_setup *s,
			 const char **ret_reason);
