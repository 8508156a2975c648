/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux zero page for the 64-bit boot protocol: the kernel's own setup header, completed with
 * the fields boot.rst assigns to the boot loader, plus the E820 map and the RSDP address. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot-internal.h"
#include "boot-params.h"
#include "bootparam.h"
#include "e820.h"
#include "kernel.h"
#include "macro.h"
#include "memory/guest-memory.h"

/* The real-mode heap ends where a classic loader would put the command line, 64 KiB above the
 * setup code (boot.rst: heap_end_ptr is relative to the setup code, minus 0x200). The 64-bit entry
 * skips the real-mode setup, so this only keeps the header self-consistent. */
#define SETUP_HEAP_END_PTR (0x10000 - 0x200)

_Static_assert(LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX <= LAYOUT_EBDA_START, "command line below the EBDA");
_Static_assert(LAYOUT_ZERO_PAGE + sizeof(struct boot_params) <= LAYOUT_BOOT_STACK - 0x100,
	       "zero page below the boot stack");

int boot_cmdline_write(struct guest_memory *mem, const struct kernel_image *k, const char *cmdline,
		       const char **ret_reason)
{
	size_t len = cmdline ? strlen(cmdline) : 0;

	if (len > k->cmdline_size)
		return boot_failf(
		    ret_reason, -E2BIG,
		    "the kernel command line is %zu bytes long, but this kernel accepts at most %" PRIu32,
		    len, k->cmdline_size);
	if (len + 1 > LAYOUT_CMDLINE_MAX)
		return boot_failf(ret_reason, -E2BIG,
				  "the kernel command line is %zu bytes long, but the VMM has room for %llu",
				  len, LAYOUT_CMDLINE_MAX - 1);

	int r = guest_memory_write(mem, LAYOUT_CMDLINE, cmdline ?: "", len);
	if (r >= 0)
		r = guest_memory_write(mem, LAYOUT_CMDLINE + len, "", 1);
	if (r < 0)
		return boot_failf(ret_reason, r, "guest RAM has no room for the command line");
	return 0;
}

int linux_boot_params_write(struct guest_memory *mem, const struct kernel_image *k,
			    const struct boot_setup *s, const char **ret_reason)
{
	struct boot_params bp = {};
	unsigned n;
	int r;

	if (ret_reason)
		*ret_reason = NULL;
	if (k->protocol != BOOT_PROTOCOL_LINUX64)
		return boot_failf(ret_reason, -EINVAL, "the kernel uses the %s boot protocol, not linux64",
				  boot_protocol_to_string(k->protocol) ?: "unknown");
	if (k->setup_header_len < sizeof(uint32_t) + SETUP_OFFSET_HEADER - KERNEL_SETUP_HEADER_OFFSET ||
	    k->setup_header_len > KERNEL_SETUP_HEADER_MAX)
		return boot_failf(ret_reason, -EINVAL,
				  "the kernel image has no valid setup header (%zu bytes)",
				  k->setup_header_len);

	/* The header may be longer than the fields we name (newer protocols): copy it as bytes. */
	memcpy((uint8_t *)&bp + KERNEL_SETUP_HEADER_OFFSET, k->setup_header, k->setup_header_len);

	bp.hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	bp.hdr.loadflags |= CAN_USE_HEAP;
	bp.hdr.heap_end_ptr = SETUP_HEAP_END_PTR;
	bp.hdr.code32_start = (uint32_t)k->load_start;
	/* Fields the loader owns: never let values from the file point the kernel at guest memory. */
	bp.hdr.setup_data = 0;
	bp.hdr.hardware_subarch = 0; /* a normal PC */
	bp.hdr.hardware_subarch_data = 0;

	r = boot_cmdline_write(mem, k, s->cmdline, ret_reason);
	if (r < 0)
		return r;
	bp.hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	bp.ext_cmd_line_ptr = (uint32_t)(LAYOUT_CMDLINE >> 32);

	if (s->initrd_size > 0) {
		if (s->initrd_gpa > k->initrd_addr_max ||
		    s->initrd_size - 1 > k->initrd_addr_max - s->initrd_gpa)
			return boot_failf(ret_reason, -EINVAL,
					  "the initramfs at [0x%" PRIx64 ", +0x%" PRIx64
					  ") ends above the kernel's "
					  "initrd_addr_max 0x%" PRIx64,
					  s->initrd_gpa, s->initrd_size, k->initrd_addr_max);
		bp.hdr.ramdisk_image = (uint32_t)s->initrd_gpa;
		bp.ext_ramdisk_image = (uint32_t)(s->initrd_gpa >> 32);
		bp.hdr.ramdisk_size = (uint32_t)s->initrd_size;
		bp.ext_ramdisk_size = (uint32_t)(s->initrd_size >> 32);
	}

	r = e820_build(mem, bp.e820_table, ELEMENTSOF(bp.e820_table), &n);
	if (r < 0)
		return boot_failf(ret_reason, r, "the E820 memory map does not fit in the zero page");
	bp.e820_entries = (uint8_t)n;

	/* The boot_params field exists since protocol 2.14 (Linux 4.20); older kernels scan for it. */
	if (k->boot_protocol_version >= BOOT_PROTOCOL_VERSION(2, 14))
		bp.acpi_rsdp_addr = s->rsdp_gpa;

	r = guest_memory_write(mem, LAYOUT_ZERO_PAGE, &bp, sizeof(bp));
	if (r < 0)
		return boot_failf(ret_reason, r, "guest RAM has no room for the zero page");
	return 0;
}
