/* SPDX-License-Identifier: Apache-2.0 */
#include <glib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "memory/guest-memory.h"

static void test_small(void)
{
	struct guest_memory *m = NULL;
	g_assert_cmpint(guest_memory_new(256 * MiB, &m), ==, 0);
	g_assert_cmpuint(m->n_regions, ==, 1);
	g_assert_cmpuint(m->ram_size, ==, 256 * MiB);
	g_assert_cmpuint(guest_memory_low_end(m), ==, 256 * MiB);

	g_assert_nonnull(guest_memory_ptr(m, 0, 256 * MiB));
	g_assert_nonnull(guest_memory_ptr(m, 256 * MiB - 1, 1));
	g_assert_null(guest_memory_ptr(m, 256 * MiB - 1, 2));
	g_assert_null(guest_memory_ptr(m, 256 * MiB, 1));
	/* Lengths and addresses chosen to overflow naive "gpa + len" checks. */
	g_assert_null(guest_memory_ptr(m, 16, UINT64_MAX));
	g_assert_null(guest_memory_ptr(m, UINT64_MAX, 2));

	uint32_t v = 0xdeadbeef, out = 0;
	g_assert_cmpint(guest_memory_write(m, 0x1000, &v, sizeof(v)), ==, 0);
	g_assert_cmpint(guest_memory_read(m, 0x1000, &out, sizeof(out)), ==, 0);
	g_assert_cmpuint(out, ==, v);
	g_assert_cmpint(guest_memory_write(m, 256 * MiB - 2, &v, sizeof(v)), ==, -EFAULT);
	guest_memory_free(m);
}

static void test_split_around_gap(void)
{
	struct guest_memory *m = NULL;
	g_assert_cmpint(guest_memory_new(4 * GiB, &m), ==, 0);
	g_assert_cmpuint(m->n_regions, ==, 2);
	g_assert_cmpuint(guest_memory_low_end(m), ==, LAYOUT_MMIO_GAP_START);
	g_assert_cmpuint(m->regions[1].gpa, ==, LAYOUT_RAM_64BIT_START);
	g_assert_cmpuint(m->regions[1].size, ==, 4 * GiB - LAYOUT_MMIO_GAP_START);
	g_assert_null(guest_memory_ptr(m, LAYOUT_MMIO_GAP_START, 1));
	g_assert_null(guest_memory_ptr(m, LAYOUT_IOAPIC_START, 4));
	g_assert_nonnull(guest_memory_ptr(m, LAYOUT_RAM_64BIT_START, 4096));
	/* An access may not span the gap even though RAM lies on both sides. */
	g_assert_null(guest_memory_ptr(m, LAYOUT_MMIO_GAP_START - 4, 4 + (LAYOUT_RAM_64BIT_START - LAYOUT_MMIO_GAP_START)));
	guest_memory_free(m);
}

static void test_invalid(void)
{
	struct guest_memory *m = NULL;
	g_assert_cmpint(guest_memory_new(1 * MiB, &m), ==, -EINVAL);
	g_assert_cmpint(guest_memory_new(64 * MiB + 1, &m), ==, -EINVAL);
	g_assert_null(m);
	g_assert_null(guest_memory_free(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/guest-memory/small", test_small);
	g_test_add_func("/guest-memory/split-around-gap", test_split_around_gap);
	g_test_add_func("/guest-memory/invalid", test_invalid);
	return g_test_run();
}
