/* SPDX-License-Identifier: Apache-2.0 */
/* The legacy hole from the EBDA to 1 MiB is E820_RESERVED, not E820_ACPI, although our ACPI tables
 * live in it (LAYOUT_ACPI_START): type 3 tells the OS it may take the memory back once it has read
 * the tables, but the DSDT's AML is interpreted for the life of the guest, and real firmware marks
 * this BIOS area reserved too. Linux finds the RSDP there by its legacy 0xe0000-0xfffff scan or by
 * boot_params.acpi_rsdp_addr / hvm_start_info.rsdp_paddr; the e820 type plays no part in that.
 *
 * The PCI ECAM window is listed as reserved because Linux accepts MMCONFIG only where the window is
 * reserved in the E820 map or in ACPI motherboard resources; the rest of the MMIO gap stays a hole. */
#include <errno.h>

#include "arch/x86/layout.h"
#include "e820.h"
#include "macro.h"
#include "memory/guest-memory.h"

static int e820_add(struct e820_entry *out, unsigned max, unsigned *n, uint64_t addr, uint64_t size,
		    uint32_t type)
{
	if (size == 0)
		return 0;
	if (*n >= max)
		return -E2BIG;

	/* Keep the table sorted: guest regions and fixed ranges arrive in any order. */
	unsigned i = *n;
	while (i > 0 && out[i - 1].addr > addr) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = (struct e820_entry){.addr = addr, .size = size, .type = type};
	(*n)++;
	return 0;
}

int e820_build(const struct guest_memory *mem, struct e820_entry *out, unsigned max, unsigned *ret_n)
{
	unsigned n = 0;
	int r;

	for (unsigned i = 0; i < mem->n_regions; i++) {
		uint64_t start = mem->regions[i].gpa, end = start + mem->regions[i].size;

		/* RAM below the EBDA and from 1 MiB up; the legacy hole between is never RAM. */
		if (start < LAYOUT_EBDA_START) {
			r = e820_add(out, max, &n, start, MIN(end, LAYOUT_EBDA_START) - start, E820_RAM);
			if (r < 0)
				return r;
		}
		if (end > LAYOUT_HIGH_RAM_START) {
			uint64_t s = MAX(start, LAYOUT_HIGH_RAM_START);
			r = e820_add(out, max, &n, s, end - s, E820_RAM);
			if (r < 0)
				return r;
		}
	}

	r = e820_add(out, max, &n, LAYOUT_EBDA_START, LAYOUT_HIGH_RAM_START - LAYOUT_EBDA_START,
		     E820_RESERVED);
	if (r < 0)
		return r;
	r = e820_add(out, max, &n, LAYOUT_PCI_ECAM_START, LAYOUT_PCI_ECAM_SIZE, E820_RESERVED);
	if (r < 0)
		return r;

	*ret_n = n;
	return 0;
}
