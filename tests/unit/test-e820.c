/* SPDX-License-Identifier: Apache-2.0 */
/* The E820 map for guests below, at and above the MMIO gap. */
#include <errno.h>
#include <glib.h>
#include <stdint.h>

#include "arch/x86/layout.h"
#include "boot/e820.h"
#include "memory/guest-memory.h"

static void assert_table(uint64_t ram, const struct e820_entry *want, unsigned n_want)
{
	struct guest_memory *m = NULL;
	struct e820_entry got[E820_MAX_ENTRIES_ZEROPAGE];
	unsigned n = 0;

	g_assert_cmpint(guest_memory_new(ram, &m), ==, 0);
	g_assert_cmpint(e820_build(m, got, G_N_ELEMENTS(got), &n), ==, 0);
	for (unsigned i = 0; i < n; i++)
		g_test_message("%u: 0x%09" G_GINT64_MODIFIER "x +0x%09" G_GINT64_MODIFIER "x type %u", i,
			       got[i].addr, got[i].size, got[i].type);
	g_assert_cmpuint(n, ==, n_want);
	for (unsigned i = 0; i < n; i++) {
		g_assert_cmphex(got[i].addr, ==, want[i].addr);
		g_assert_cmphex(got[i].size, ==, want[i].size);
		g_assert_cmpuint(got[i].type, ==, want[i].type);
	}

	/* Sorted, disjoint, and all RAM the guest has except the legacy hole. */
	uint64_t ram_listed = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			g_assert_cmphex(got[i - 1].addr + got[i - 1].size, <=, got[i].addr);
		if (got[i].type == E820_RAM)
			ram_listed += got[i].size;
	}
	g_assert_cmphex(ram_listed, ==, ram - (0x100000 - 0x9fc00));

	/* Every table size below the need is refused, not overrun. */
	for (unsigned max = 0; max < n; max++) {
		unsigned dummy = 12345;
		g_assert_cmpint(e820_build(m, got, max, &dummy), ==, -E2BIG);
		g_assert_cmpuint(dummy, ==, 12345);
	}
	guest_memory_free(m);
}

static void test_256m(void)
{
	const struct e820_entry want[] = {
	    {0x0, 0x9fc00, E820_RAM},
	    {0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED},
	    {0x100000, 256 * MiB - 0x100000, E820_RAM},
	    {LAYOUT_PCI_ECAM_START, LAYOUT_PCI_ECAM_SIZE, E820_RESERVED},
	};
	assert_table(256 * MiB, want, G_N_ELEMENTS(want));
}

static void test_3g(void)
{
	/* Exactly fills the space below the MMIO gap: nothing above 4 GiB. */
	const struct e820_entry want[] = {
	    {0x0, 0x9fc00, E820_RAM},
	    {0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED},
	    {0x100000, 0xc0000000 - 0x100000, E820_RAM},
	    {LAYOUT_PCI_ECAM_START, LAYOUT_PCI_ECAM_SIZE, E820_RESERVED},
	};
	assert_table(3 * GiB, want, G_N_ELEMENTS(want));
}

static void test_6g(void)
{
	const struct e820_entry want[] = {
	    {0x0, 0x9fc00, E820_RAM},
	    {0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED},
	    {0x100000, 0xc0000000 - 0x100000, E820_RAM},
	    {LAYOUT_PCI_ECAM_START, LAYOUT_PCI_ECAM_SIZE, E820_RESERVED},
	    {0x100000000, 3 * GiB, E820_RAM},
	};
	assert_table(6 * GiB, want, G_N_ELEMENTS(want));
}

static void test_layout(void)
{
	/* The reserved hole must cover the ACPI tables, and the ECAM window must lie in the gap. */
	g_assert_cmphex(LAYOUT_ACPI_START, >=, LAYOUT_EBDA_START);
	g_assert_cmphex(LAYOUT_ACPI_START + LAYOUT_ACPI_SIZE, <=, 0x100000);
	g_assert_cmphex(LAYOUT_PCI_ECAM_START, >=, LAYOUT_MMIO_GAP_START);
	g_assert_cmphex(LAYOUT_PCI_ECAM_START + LAYOUT_PCI_ECAM_SIZE, <=, LAYOUT_MMIO_GAP_END);
	g_assert_cmpuint(sizeof(struct e820_entry), ==, 20);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/e820/256m", test_256m);
	g_test_add_func("/e820/3g", test_3g);
	g_test_add_func("/e820/6g", test_6g);
	g_test_add_func("/e820/layout", test_layout);
	return g_test_run();
}
