/* SPDX-License-Identifier: Apache-2.0 */
/* bzImage with the 64-bit Linux boot protocol (boot.rst). Only the protected-mode part is loaded: with
 * the 64-bit entry the real-mode setup code never runs, and the zero page is built by
 * linux_boot_params_write() from the setup header saved here. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot-internal.h"
#include "bootparam.h"
#include "kernel.h"
#include "macro.h"
#include "memory/guest-memory.h"

static bool is_power_of_2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* Where the kernel runs after its decompressor has moved itself (arch/x86/boot/compressed/head_64.S):
 * a relocatable kernel at its load address aligned up to kernel_alignment but not below
 * LOAD_PHYSICAL_ADDR (which the header publishes as pref_address); a fixed one at pref_address. */
static uint64_t bzimage_run_address(const struct setup_header *h, uint64_t load)
{
	if (h->relocatable_kernel)
		return MAX(ALIGN_UP(load, (uint64_t)h->kernel_alignment), h->pref_address);
	return h->pref_address ?: load;
}

/* Loading at pref_address (LOAD_PHYSICAL_ADDR, 16 MiB on distribution kernels) makes the file, the
 * decompression buffer and the running kernel one range [pref, pref + init_size), so the initramfs
 * has the rest of RAM. Loading at LAYOUT_KERNEL_START (code32_start's default, what most VMMs do)
 * works too, but the kernel then still decompresses to pref_address and occupies two ranges. */
static bool bzimage_pref_usable(const struct setup_header *h, uint64_t pm_size, uint64_t low_end)
{
	uint64_t pref = h->pref_address, need = MAX(pm_size, (uint64_t)h->init_size);

	if (pref < LAYOUT_KERNEL_START || pref >= low_end || need > low_end - pref)
		return false;
	if (h->relocatable_kernel && pref % h->kernel_alignment != 0)
		return false;
	return true;
}

int bzimage_load(int fd, uint64_t size, const uint8_t *head, size_t head_len, struct guest_memory *mem,
		 struct kernel_image *ret, const char **ret_reason)
{
	struct kernel_image k = {.protocol = BOOT_PROTOCOL_LINUX64};
	struct setup_header h = {};
	uint64_t low_end = guest_memory_low_end(mem);
	int r;

	/* The smallest legal setup area is the boot sector plus one setup sector. */
	if (head_len < 2 * SETUP_SECTOR_SIZE)
		return boot_failf(ret_reason, -EBADMSG,
				  "file is truncated: it has the bzImage signature but only %" PRIu64
				  " bytes, less than the %u-byte minimum setup area",
				  size, 2 * SETUP_SECTOR_SIZE);

	size_t hdr_end = SETUP_OFFSET_HEADER + head[SETUP_OFFSET_JUMP + 1];
	hdr_end = MIN(hdr_end, (size_t)KERNEL_SETUP_HEADER_OFFSET + KERNEL_SETUP_HEADER_MAX);
	memcpy(&h, head + KERNEL_SETUP_HEADER_OFFSET, MIN(hdr_end - KERNEL_SETUP_HEADER_OFFSET, sizeof(h)));

	if (h.boot_flag != SETUP_BOOT_FLAG)
		return boot_failf(
		    ret_reason, -ENOEXEC,
		    "not a bzImage: boot sector signature is 0x%04x at offset 0x1fe, expected 0xaa55",
		    h.boot_flag);
	k.boot_protocol_version = h.version;
	if (h.version < BOOT_PROTOCOL_VERSION(2, 12))
		return boot_failf(
		    ret_reason, -ENOEXEC,
		    "boot protocol %u.%02u is too old: the 64-bit entry point needs protocol 2.12 "
		    "(Linux 3.8) or newer",
		    h.version >> 8, h.version & 0xff);
	if (hdr_end < SETUP_HEADER_END_2_12)
		return boot_failf(
		    ret_reason, -EBADMSG,
		    "setup header ends at 0x%zx, before the end of the protocol 2.12 fields (0x%x)", hdr_end,
		    SETUP_HEADER_END_2_12);
	if (!(h.loadflags & LOADED_HIGH))
		return boot_failf(
		    ret_reason, -ENOEXEC,
		    "this is a zImage (LOADED_HIGH not set in loadflags); only bzImages can be booted");
	if (!(h.xloadflags & XLF_KERNEL_64))
		return boot_failf(
		    ret_reason, -ENOEXEC,
		    "kernel has no 64-bit entry point (XLF_KERNEL_64 not set in xloadflags): a 32-bit "
		    "kernel cannot be booted; use an x86-64 kernel");
	if (h.relocatable_kernel && !is_power_of_2(h.kernel_alignment))
		return boot_failf(ret_reason, -EBADMSG, "kernel_alignment 0x%x is not a power of two",
				  h.kernel_alignment);

	unsigned setup_sects = h.setup_sects ?: SETUP_SECTS_DEFAULT;
	uint64_t setup_size = (uint64_t)(setup_sects + 1) * SETUP_SECTOR_SIZE;
	if (setup_size > size)
		return boot_failf(ret_reason, -EBADMSG,
				  "file is truncated: setup header claims %u setup sectors (%" PRIu64
				  " bytes) but the file has only %" PRIu64 " bytes",
				  setup_sects, setup_size, size);

	/* syssize is exact for 2.04+ kernels; anything after it (a signature) is not kernel. */
	uint64_t pm_size = (uint64_t)h.syssize * 16;
	if (pm_size == 0)
		return boot_failf(ret_reason, -EBADMSG,
				  "setup header says the protected-mode kernel is empty");
	if (pm_size > size - setup_size)
		return boot_failf(ret_reason, -EBADMSG,
				  "file is truncated: setup header claims a %" PRIu64
				  "-byte kernel after the %" PRIu64 "-byte setup, but only %" PRIu64
				  " bytes follow",
				  pm_size, setup_size, size - setup_size);

	uint64_t load = bzimage_pref_usable(&h, pm_size, low_end) ? h.pref_address : LAYOUT_KERNEL_START;
	uint64_t run = bzimage_run_address(&h, load);
	if (run >= low_end || h.init_size > low_end - run || pm_size > low_end - load)
		return boot_failf(ret_reason, -E2BIG,
				  "the kernel needs guest RAM up to 0x%" PRIx64
				  " (%u MiB to decompress at 0x%" PRIx64
				  ") but RAM below 4 GiB ends at 0x%" PRIx64 "; give the VM more memory",
				  MAX(run + h.init_size, load + pm_size),
				  (unsigned)((h.init_size + MiB - 1) / MiB), run, low_end);

	void *dst = guest_memory_ptr(mem, load, pm_size);
	if (!dst)
		return boot_failf(ret_reason, -E2BIG,
				  "the kernel at 0x%" PRIx64 " does not fit in guest RAM", load);
	r = boot_read_at(fd, dst, pm_size, setup_size);
	if (r < 0)
		return boot_failf(ret_reason, r, "cannot read the kernel file: %s",
				  r == -EIO ? "it became shorter while being read" : strerror(-r));

	k.entry = load + SETUP_ENTRY64_OFFSET;
	k.load_start = load;
	k.load_end = MAX(load + pm_size, run + h.init_size);
	k.setup_header_len = hdr_end - KERNEL_SETUP_HEADER_OFFSET;
	memcpy(k.setup_header, head + KERNEL_SETUP_HEADER_OFFSET, k.setup_header_len);
	k.xloadflags = h.xloadflags;
	k.initrd_addr_max = h.initrd_addr_max;
	k.cmdline_size = h.cmdline_size;

	*ret = k;
	return 0;
}
