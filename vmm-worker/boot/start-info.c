/* SPDX-License-Identifier: Apache-2.0 */
/* The Xen PVH hvm_start_info (version 1) with its memory map and the initramfs as the one module. */
#include <errno.h>
#include <inttypes.h>

#include "arch/x86/layout.h"
#include "boot-internal.h"
#include "boot-params.h"
#include "e820.h"
#include "hvm-start-info.h"
#include "kernel.h"
#include "macro.h"
#include "memory/guest-memory.h"

#define PVH_MEMMAP_MAX 128

_Static_assert(LAYOUT_PVH_INFO + sizeof(struct hvm_start_info) <= LAYOUT_PVH_MEMMAP, "start_info fits");
_Static_assert(LAYOUT_PVH_MEMMAP + PVH_MEMMAP_MAX * sizeof(struct hvm_memmap_table_entry) <=
		   LAYOUT_PVH_MODLIST,
	       "memmap fits");
_Static_assert(LAYOUT_PVH_MODLIST + sizeof(struct hvm_modlist_entry) <= LAYOUT_ZERO_PAGE, "modlist fits");

int pvh_start_info_write(struct guest_memory *mem, const struct kernel_image *k, const struct boot_setup *s,
			 const char **ret_reason)
{
	struct e820_entry e820[PVH_MEMMAP_MAX];
	struct hvm_memmap_table_entry memmap[PVH_MEMMAP_MAX] = {};
	struct hvm_start_info info = {
	    .magic = HVM_START_MAGIC_VALUE,
	    .version = HVM_START_INFO_VERSION,
	    .cmdline_paddr = LAYOUT_CMDLINE,
	    .rsdp_paddr = s->rsdp_gpa,
	    .memmap_paddr = LAYOUT_PVH_MEMMAP,
	};
	unsigned n;
	int r;

	if (ret_reason)
		*ret_reason = NULL;
	if (k->protocol != BOOT_PROTOCOL_PVH)
		return boot_failf(ret_reason, -EINVAL, "the kernel uses the %s boot protocol, not pvh",
				  boot_protocol_to_string(k->protocol) ?: "unknown");

	r = boot_cmdline_write(mem, k, s->cmdline, ret_reason);
	if (r < 0)
		return r;

	if (s->initrd_size > 0) {
		/* The kernel starts with paging off: the module must be reachable with 32-bit addresses. */
		if (s->initrd_gpa > k->initrd_addr_max ||
		    s->initrd_size - 1 > k->initrd_addr_max - s->initrd_gpa)
			return boot_failf(ret_reason, -EINVAL,
					  "the initramfs at [0x%" PRIx64 ", +0x%" PRIx64
					  ") ends above 0x%" PRIx64,
					  s->initrd_gpa, s->initrd_size, k->initrd_addr_max);
		struct hvm_modlist_entry mod = {.paddr = s->initrd_gpa, .size = s->initrd_size};
		r = guest_memory_write(mem, LAYOUT_PVH_MODLIST, &mod, sizeof(mod));
		if (r < 0)
			return boot_failf(ret_reason, r, "guest RAM has no room for the PVH module list");
		info.nr_modules = 1;
		info.modlist_paddr = LAYOUT_PVH_MODLIST;
	}

	r = e820_build(mem, e820, ELEMENTSOF(e820), &n);
	if (r < 0)
		return boot_failf(ret_reason, r, "the memory map does not fit in the PVH memory map area");
	for (unsigned i = 0; i < n; i++)
		memmap[i] = (struct hvm_memmap_table_entry){
		    .addr = e820[i].addr, .size = e820[i].size, .type = e820[i].type, /* same numbering */
		};
	info.memmap_entries = n;
	r = guest_memory_write(mem, LAYOUT_PVH_MEMMAP, memmap, n * sizeof(memmap[0]));
	if (r < 0)
		return boot_failf(ret_reason, r, "guest RAM has no room for the PVH memory map");

	r = guest_memory_write(mem, LAYOUT_PVH_INFO, &info, sizeof(info));
	if (r < 0)
		return boot_failf(ret_reason, r, "guest RAM has no room for the PVH start info");
	return 0;
}
