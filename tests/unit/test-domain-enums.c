/* SPDX-License-Identifier: Apache-2.0 */
/* Every enum of the definition model: each value has a unique string that maps back to it, the
 * sentinels have none, and unknown strings are -EINVAL. Also the name, uuid, MAC and unit helpers. */
#include <errno.h>
#include <string.h>

#include "domain.h"

#include <glib.h>

static void walk_table(int max, const char *(*to_string)(int), int (*from_string)(const char *))
{
	for (int i = 0; i < max; i++) {
		const char *s = to_string(i);

		g_assert_nonnull(s);
		g_assert_cmpint(from_string(s), ==, i);
		for (int j = 0; j < i; j++)
			g_assert_cmpstr(to_string(j), !=, s);
	}
	g_assert_null(to_string(max));
	g_assert_null(to_string(-EINVAL));
	g_assert_cmpint(from_string(NULL), ==, -EINVAL);
	g_assert_cmpint(from_string(""), ==, -EINVAL);
	g_assert_cmpint(from_string("no-such-value"), ==, -EINVAL);
}

/* Adapters so one walker serves every enum type without casting function pointers. */
#define TABLE_TEST(prefix, type, max, ...)                                                                  \
	static const char *prefix##_to(int v)                                                               \
	{                                                                                                   \
		return prefix##_to_string((type)v);                                                         \
	}                                                                                                   \
	static int prefix##_from(const char *s)                                                             \
	{                                                                                                   \
		return (int)prefix##_from_string(s);                                                        \
	}                                                                                                   \
	static void test_##prefix(void)                                                                     \
	{                                                                                                   \
		const char *const expected[] = {__VA_ARGS__};                                               \
		walk_table(max, prefix##_to, prefix##_from);                                                \
		g_assert_cmpint(max, ==, G_N_ELEMENTS(expected));                                           \
		for (size_t i = 0; i < G_N_ELEMENTS(expected); i++)                                         \
			g_assert_cmpstr(prefix##_to((int)i), ==, expected[i]);                              \
	}

TABLE_TEST(domain_lifecycle_action, enum domain_lifecycle_action, _DOMAIN_LIFECYCLE_ACTION_MAX, "destroy",
	   "restart")
TABLE_TEST(domain_disk_type, enum domain_disk_type, _DOMAIN_DISK_TYPE_MAX, "file", "block")
TABLE_TEST(domain_disk_bus, enum domain_disk_bus, _DOMAIN_DISK_BUS_MAX, "virtio")
TABLE_TEST(domain_disk_format, enum domain_disk_format, _DOMAIN_DISK_FORMAT_MAX, "raw")
TABLE_TEST(domain_disk_cache, enum domain_disk_cache, _DOMAIN_DISK_CACHE_MAX, "default", "none",
	   "writethrough", "writeback", "directsync", "unsafe")
TABLE_TEST(domain_disk_io, enum domain_disk_io, _DOMAIN_DISK_IO_MAX, "default", "threads", "native",
	   "io_uring")
TABLE_TEST(domain_interface_type, enum domain_interface_type, _DOMAIN_INTERFACE_TYPE_MAX, "ethernet")
TABLE_TEST(domain_device_model, enum domain_device_model, _DOMAIN_DEVICE_MODEL_MAX, "virtio", "none")
TABLE_TEST(domain_chr_type, enum domain_chr_type, _DOMAIN_CHR_TYPE_MAX, "null", "pty", "file", "stdio")
TABLE_TEST(domain_console_target, enum domain_console_target, _DOMAIN_CONSOLE_TARGET_MAX, "serial", "virtio")
TABLE_TEST(domain_rng_backend, enum domain_rng_backend, _DOMAIN_RNG_BACKEND_MAX, "random")
TABLE_TEST(domain_fs_driver, enum domain_fs_driver, _DOMAIN_FS_DRIVER_MAX, "virtiofs")
TABLE_TEST(domain_watchdog_model, enum domain_watchdog_model, _DOMAIN_WATCHDOG_MODEL_MAX, "i6300esb")
TABLE_TEST(domain_watchdog_action, enum domain_watchdog_action, _DOMAIN_WATCHDOG_ACTION_MAX, "reset")
TABLE_TEST(domain_hostdev_type, enum domain_hostdev_type, _DOMAIN_HOSTDEV_TYPE_MAX, "pci")

static void test_names(void)
{
	const char *good[] = {"a", "web1", "db.prod-2_x+y", "0start", NULL};
	const char *bad[] = {"", "a/b", "../x", ".hidden", "-dash", "sp ace", "tab\t", "ünï", "a:b", NULL};
	char longname[DOMAIN_NAME_MAX + 2];
	g_autofree char *err = NULL;

	for (const char **n = good; *n; n++)
		g_assert_cmpint(domain_name_validate(*n, NULL), ==, 0);
	for (const char **n = bad; *n; n++)
		g_assert_cmpint(domain_name_validate(*n, NULL), ==, -EINVAL);
	g_assert_cmpint(domain_name_validate(NULL, NULL), ==, -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[DOMAIN_NAME_MAX] = 0;
	g_assert_cmpint(domain_name_validate(longname, NULL), ==, 0);
	longname[DOMAIN_NAME_MAX] = 'a';
	longname[DOMAIN_NAME_MAX + 1] = 0;
	g_assert_cmpint(domain_name_validate(longname, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "longer than 64"));
}

static void test_uuid(void)
{
	uint8_t u[16];
	char buf[DOMAIN_UUID_STRING_MAX];

	g_assert_cmpint(domain_uuid_parse("6A1F7C3E-9B2D-4E8F-A1B2-C3D4E5F60718", u), ==, 0);
	domain_uuid_format(u, buf);
	g_assert_cmpstr(buf, ==, "6a1f7c3e-9b2d-4e8f-a1b2-c3d4e5f60718");
	g_assert_cmpint(domain_uuid_parse("6a1f7c3e9b2d4e8fa1b2c3d4e5f60718", u), ==, 0);
	domain_uuid_format(u, buf);
	g_assert_cmpstr(buf, ==, "6a1f7c3e-9b2d-4e8f-a1b2-c3d4e5f60718");
	g_assert_cmpint(domain_uuid_parse("6a1f7c3e9b2d4e8fa1b2c3d4e5f607", u), ==, -EINVAL);
	g_assert_cmpint(domain_uuid_parse("6a1f7c3e9b2d4e8fa1b2c3d4e5f6071899", u), ==, -EINVAL);
	g_assert_cmpint(domain_uuid_parse("6a1f7c3e9b2d4e8fa1b2c3d4e5f6071g", u), ==, -EINVAL);
	g_assert_cmpint(domain_uuid_parse("", u), ==, -EINVAL);
}

static void test_mac(void)
{
	uint8_t m[6];
	char buf[DOMAIN_MAC_STRING_MAX];

	g_assert_cmpint(domain_mac_parse("52:54:00:AB:cd:0F", m), ==, 0);
	domain_mac_format(m, buf);
	g_assert_cmpstr(buf, ==, "52:54:00:ab:cd:0f");
	g_assert_cmpint(domain_mac_parse("52:54:00:ab:cd", m), ==, -EINVAL);
	g_assert_cmpint(domain_mac_parse("52:54:00:ab:cd:0f:", m), ==, -EINVAL);
	g_assert_cmpint(domain_mac_parse("52-54-00-ab-cd-0f", m), ==, -EINVAL);
	g_assert_cmpint(domain_mac_parse("5:54:00:ab:cd:0f", m), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(prefix) g_test_add_func("/domain/enum/" #prefix, test_##prefix)
	ADD(domain_lifecycle_action);
	ADD(domain_disk_type);
	ADD(domain_disk_bus);
	ADD(domain_disk_format);
	ADD(domain_disk_cache);
	ADD(domain_disk_io);
	ADD(domain_interface_type);
	ADD(domain_device_model);
	ADD(domain_chr_type);
	ADD(domain_console_target);
	ADD(domain_rng_backend);
	ADD(domain_fs_driver);
	ADD(domain_watchdog_model);
	ADD(domain_watchdog_action);
	ADD(domain_hostdev_type);
	g_test_add_func("/domain/names", test_names);
	g_test_add_func("/domain/uuid", test_uuid);
	g_test_add_func("/domain/mac", test_mac);
	return g_test_run();
}
