/* SPDX-License-Identifier: Apache-2.0 */
#include <glib.h>
#include <string.h>

#include "devices/bus.h"

struct dev {
	uint64_t last_offset;
	uint32_t last_len;
	uint8_t last_value;
	unsigned reads, writes;
};

static void dev_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct dev *d = opaque;
	d->reads++;
	d->last_offset = offset;
	memset(data, 0x42, len);
}

static void dev_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct dev *d = opaque;
	d->writes++;
	d->last_offset = offset;
	d->last_len = len;
	d->last_value = data[0];
}

static const struct bus_ops dev_ops = { .read = dev_read, .write = dev_write };

static void test_dispatch(void)
{
	struct bus b = { 0 };
	struct dev a = { 0 }, c = { 0 };
	g_assert_cmpint(bus_register(&b, 0x3f8, 8, &dev_ops, &a, "a"), ==, 0);
	g_assert_cmpint(bus_register(&b, 0x600, 4, &dev_ops, &c, "c"), ==, 0);

	uint8_t v = 7;
	g_assert_true(bus_write(&b, 0x3fd, &v, 1));
	g_assert_cmpuint(a.writes, ==, 1);
	g_assert_cmpuint(a.last_offset, ==, 5);
	g_assert_cmpuint(a.last_value, ==, 7);

	uint8_t buf[4];
	g_assert_true(bus_read(&b, 0x602, buf, 2));
	g_assert_cmpuint(c.reads, ==, 1);
	g_assert_cmpuint(c.last_offset, ==, 2);
	g_assert_cmpuint(buf[0], ==, 0x42);
}

static void test_unclaimed(void)
{
	struct bus b = { 0 };
	struct dev a = { 0 };
	g_assert_cmpint(bus_register(&b, 0x100, 4, &dev_ops, &a, "a"), ==, 0);

	uint8_t buf[4] = { 0 };
	g_assert_false(bus_read(&b, 0x104, buf, 4));
	g_assert_cmpuint(buf[3], ==, 0xff);
	/* An access that straddles the end of a range belongs to nobody. */
	g_assert_false(bus_read(&b, 0x102, buf, 4));
	g_assert_false(bus_write(&b, UINT64_MAX, buf, 4));
	g_assert_cmpuint(a.reads + a.writes, ==, 0);
	g_assert_cmpuint(b.unhandled, ==, 3);
}

static void test_register_errors(void)
{
	struct bus b = { 0 };
	struct dev a = { 0 };
	g_assert_cmpint(bus_register(&b, 0x100, 0x10, &dev_ops, &a, "a"), ==, 0);
	g_assert_cmpint(bus_register(&b, 0x10f, 1, &dev_ops, &a, "overlap"), ==, -EEXIST);
	g_assert_cmpint(bus_register(&b, 0x0f0, 0x11, &dev_ops, &a, "overlap"), ==, -EEXIST);
	g_assert_cmpint(bus_register(&b, 0x110, 1, &dev_ops, &a, "adjacent"), ==, 0);
	g_assert_cmpint(bus_register(&b, 0x200, 0, &dev_ops, &a, "empty"), ==, -EINVAL);
	g_assert_cmpint(bus_register(&b, UINT64_MAX, 2, &dev_ops, &a, "wraps"), ==, -EINVAL);
	for (unsigned i = b.n_ranges; i < BUS_MAX_RANGES; i++)
		g_assert_cmpint(bus_register(&b, 0x1000 + i, 1, &dev_ops, &a, "fill"), ==, 0);
	g_assert_cmpint(bus_register(&b, 0x9000, 1, &dev_ops, &a, "full"), ==, -E2BIG);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/bus/dispatch", test_dispatch);
	g_test_add_func("/bus/unclaimed", test_unclaimed);
	g_test_add_func("/bus/register-errors", test_register_errors);
	return g_test_run();
}
