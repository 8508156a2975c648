/* SPDX-License-Identifier: Apache-2.0 */
/* bzImage loading and initramfs placement, on bzImages synthesised byte by byte at the offsets of
 * boot.rst (not through our own structs), so a wrong offset in the loader fails here. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "boot/kernel.h"
#include "memory/guest-memory.h"

struct bz_opts {
	uint8_t setup_sects;
	uint8_t jump;
	uint16_t boot_flag;
	uint32_t magic;
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t pm_size;   /* bytes of protected-mode kernel in the file */
	uint32_t syssize;   /* 0: pm_size / 16 */
	size_t trailer;	    /* bytes after the kernel, like a signature */
	size_t truncate_to; /* 0: no truncation */
};

static char *tmpdir;

static struct bz_opts bz_default(void)
{
	return (struct bz_opts){
	    .setup_sects = 4,
	    .jump = 0x6a,
	    .boot_flag = 0xaa55,
	    .magic = 0x53726448,
	    .version = 0x020f,
	    .loadflags = 0x01,
	    .xloadflags = 0x7f,
	    .relocatable = 1,
	    .alignment = 0x200000,
	    .pref_address = 0x1000000,
	    .init_size = 0x400000,
	    .pm_size = 0x3000,
	};
}

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, sizeof(v));
}
static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, sizeof(v));
}
static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

static uint8_t pm_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static size_t setup_size(const struct bz_opts *o)
{
	return ((size_t)(o->setup_sects ?: 4) + 1) * 512;
}

static uint8_t *bz_build(const struct bz_opts *o, size_t *ret_len)
{
	size_t setup = setup_size(o), len = setup + o->pm_size + o->trailer;
	uint8_t *b = g_malloc0(len);

	b[0x1f1] = o->setup_sects;
	put32(b, 0x1f4, o->syssize ?: o->pm_size / 16);
	put16(b, 0x1fa, 0xffff);
	put16(b, 0x1fe, o->boot_flag);
	b[0x200] = 0xeb;
	b[0x201] = o->jump;
	put32(b, 0x202, o->magic);
	put16(b, 0x206, o->version);
	b[0x211] = o->loadflags;
	put32(b, 0x214, 0x100000);
	put32(b, 0x22c, 0x7fffffff);
	put32(b, 0x230, o->alignment);
	b[0x234] = o->relocatable;
	b[0x235] = 21;
	put16(b, 0x236, o->xloadflags);
	put32(b, 0x238, 2047);
	put64(b, 0x258, o->pref_address);
	put32(b, 0x260, o->init_size);
	/* Setup code after the header, which must not be copied as header. */
	memset(b + 0x26c, 0x90, setup - 0x26c);
	for (size_t i = 0; i < o->pm_size; i++)
		b[setup + i] = pm_byte(i);
	memset(b + setup + o->pm_size, 0xee, o->trailer);

	if (o->truncate_to && o->truncate_to < len)
		len = o->truncate_to;
	*ret_len = len;
	return b;
}

static char *write_file(const char *name, const void *data, size_t len)
{
	char *path = g_build_filename(tmpdir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, data, (gssize)len, &error));
	g_assert_no_error(error);
	return path;
}

static char *bz_write(const struct bz_opts *o)
{
	g_autofree uint8_t *b = NULL;
	size_t len;

	b = bz_build(o, &len);
	return write_file("bzImage", b, len);
}

static struct guest_memory *mem_new(uint64_t size)
{
	struct guest_memory *m = NULL;
	g_assert_cmpint(guest_memory_new(size, &m), ==, 0);
	return m;
}

static void test_protocol_table(void)
{
	for (int i = 0; i < _BOOT_PROTOCOL_MAX; i++) {
		const char *s = boot_protocol_to_string(i);
		g_assert_nonnull(s);
		g_assert_cmpint(boot_protocol_from_string(s), ==, i);
	}
	g_assert_cmpstr(boot_protocol_to_string(BOOT_PROTOCOL_LINUX64), ==, "linux64");
	g_assert_cmpstr(boot_protocol_to_string(BOOT_PROTOCOL_PVH), ==, "pvh");
	g_assert_null(boot_protocol_to_string(_BOOT_PROTOCOL_MAX));
	g_assert_null(boot_protocol_to_string(_BOOT_PROTOCOL_INVALID));
	g_assert_cmpint(boot_protocol_from_string("bzimage"), ==, -EINVAL);
	g_assert_cmpint(boot_protocol_from_string(NULL), ==, -EINVAL);
}

static void assert_pm_at(struct guest_memory *m, uint64_t gpa, size_t len)
{
	const uint8_t *p = guest_memory_ptr(m, gpa, len);
	g_assert_nonnull(p);
	for (size_t i = 0; i < len; i++)
		if (p[i] != pm_byte(i))
			g_error("byte %zu of the kernel at 0x%" G_GINT64_MODIFIER "x is 0x%02x", i, gpa,
				p[i]);
}

static void test_load_pref(void)
{
	struct bz_opts o = bz_default();
	g_autofree char *path = bz_write(&o);
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;
	const char *reason = "unset";

	g_assert_cmpint(kernel_load(path, m, &k, &reason), ==, 0);
	g_assert_null(reason);
	g_assert_cmpint(k.protocol, ==, BOOT_PROTOCOL_LINUX64);
	g_assert_cmphex(k.load_start, ==, 0x1000000);
	g_assert_cmphex(k.entry, ==, 0x1000200);
	g_assert_cmphex(k.load_end, ==, 0x1000000 + 0x400000);
	g_assert_cmphex(k.boot_protocol_version, ==, 0x020f);
	g_assert_cmphex(k.initrd_addr_max, ==, 0x7fffffff);
	g_assert_cmpuint(k.cmdline_size, ==, 2047);
	g_assert_cmphex(k.xloadflags, ==, 0x7f);
	assert_pm_at(m, 0x1000000, o.pm_size);

	/* The header runs from 0x1f1 to 0x202 + 0x6a and is copied as is. */
	size_t len;
	g_autofree uint8_t *b = bz_build(&o, &len);
	g_assert_cmpuint(k.setup_header_len, ==, 0x26c - 0x1f1);
	g_assert_cmpmem(k.setup_header, k.setup_header_len, b + 0x1f1, 0x26c - 0x1f1);

	/* Nothing went to 1 MiB. */
	const uint8_t *low = guest_memory_ptr(m, 0x100000, 0x1000);
	for (size_t i = 0; i < 0x1000; i++)
		g_assert_cmpuint(low[i], ==, 0);
	guest_memory_free(m);
}

static void test_load_unaligned_pref(void)
{
	struct bz_opts o = bz_default();
	o.pref_address = 0x1001000; /* not a multiple of kernel_alignment */
	g_autofree char *path = bz_write(&o);
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;

	g_assert_cmpint(kernel_load(path, m, &k, NULL), ==, 0);
	g_assert_cmphex(k.load_start, ==, 0x100000);
	g_assert_cmphex(k.entry, ==, 0x100200);
	/* It decompresses at max(align_up(1 MiB, 2 MiB), pref): the whole span is the kernel's. */
	g_assert_cmphex(k.load_end, ==, 0x1001000 + 0x400000);
	assert_pm_at(m, 0x100000, o.pm_size);
	guest_memory_free(m);
}

static void test_load_fixed(void)
{
	struct bz_opts o = bz_default();
	o.relocatable = 0;
	o.alignment = 0; /* meaningless for a fixed kernel, must not matter */
	g_autofree char *path = bz_write(&o);
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;

	g_assert_cmpint(kernel_load(path, m, &k, NULL), ==, 0);
	g_assert_cmphex(k.load_start, ==, 0x1000000);
	g_assert_cmphex(k.entry, ==, 0x1000200);
	guest_memory_free(m);
}

static void test_load_no_pref(void)
{
	struct bz_opts o = bz_default();
	o.pref_address = 0;
	o.setup_sects = 0; /* means 4 */
	o.trailer = 1472;  /* a signature after the kernel is not loaded */
	g_autofree char *path = bz_write(&o);
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;

	g_assert_cmpint(kernel_load(path, m, &k, NULL), ==, 0);
	g_assert_cmphex(k.load_start, ==, 0x100000);
	g_assert_cmphex(k.entry, ==, 0x100200);
	g_assert_cmphex(k.load_end, ==, 0x200000 + 0x400000);
	assert_pm_at(m, 0x100000, o.pm_size);
	const uint8_t *after = guest_memory_ptr(m, 0x100000 + o.pm_size, 16);
	for (size_t i = 0; i < 16; i++)
		g_assert_cmpuint(after[i], ==, 0);
	guest_memory_free(m);
}

static void test_guest_too_small(void)
{
	struct bz_opts o = bz_default();
	g_autofree char *path = bz_write(&o);
	struct guest_memory *m = mem_new(16 * MiB);
	struct kernel_image k;
	const char *reason = NULL;

	g_assert_cmpint(kernel_load(path, m, &k, &reason), ==, -E2BIG);
	g_assert_nonnull(strstr(reason, "more memory"));
	guest_memory_free(m);
}

static void expect_reject(const struct bz_opts *o, int err, const char *needle)
{
	g_autofree char *path = bz_write(o);
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;
	const char *reason = NULL;

	int r = kernel_load(path, m, &k, &reason);
	g_test_message("reason: %s", reason);
	g_assert_cmpint(r, ==, err);
	g_assert_nonnull(reason);
	if (!strstr(reason, needle))
		g_error("reason '%s' does not mention '%s'", reason, needle);
	guest_memory_free(m);
}

static void expect_reject_bytes(const void *data, size_t len, int err, const char *needle)
{
	g_autofree char *path = write_file("junk", data, len);
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;
	const char *reason = NULL;

	int r = kernel_load(path, m, &k, &reason);
	g_test_message("reason: %s", reason);
	g_assert_cmpint(r, ==, err);
	g_assert_nonnull(reason);
	if (!strstr(reason, needle))
		g_error("reason '%s' does not mention '%s'", reason, needle);
	guest_memory_free(m);
}

static void test_reject_files(void)
{
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;
	const char *reason = NULL;
	g_autofree char *missing = g_build_filename(tmpdir, "no-such-kernel", NULL);

	g_assert_cmpint(kernel_load(missing, m, &k, &reason), ==, -ENOENT);
	g_assert_nonnull(strstr(reason, "cannot open"));
	g_assert_cmpint(kernel_load(tmpdir, m, &k, &reason), ==, -EISDIR);
	g_assert_cmpint(kernel_load("", m, &k, &reason), ==, -EINVAL);
	g_assert_cmpint(kernel_load("/dev/null", m, &k, &reason), ==, -EINVAL);
	guest_memory_free(m);

	expect_reject_bytes("", 0, -ENODATA, "empty");
	uint8_t junk[4096];
	memset(junk, 'x', sizeof(junk));
	expect_reject_bytes(junk, 100, -ENOEXEC, "not a Linux kernel");
	expect_reject_bytes(junk, sizeof(junk), -ENOEXEC, "HdrS");
	/* The signature, but the file ends inside the first setup sector. */
	memcpy(junk + 0x202, "HdrS", 4);
	expect_reject_bytes(junk, 0x300, -EBADMSG, "truncated");
}

static void test_reject_headers(void)
{
	struct bz_opts o;

	o = bz_default();
	o.setup_sects = 31;
	o.truncate_to = 4096;
	expect_reject(&o, -EBADMSG,
		      "claims 31 setup sectors (16384 bytes) but the file has only 4096 bytes");

	o = bz_default();
	o.truncate_to = setup_size(&o) + o.pm_size - 1;
	expect_reject(&o, -EBADMSG, "truncated");

	o = bz_default();
	o.syssize = 0x10000000;
	expect_reject(&o, -EBADMSG, "truncated");

	o = bz_default();
	o.boot_flag = 0x1234;
	expect_reject(&o, -ENOEXEC, "0xaa55");

	o = bz_default();
	o.magic = 0x53726449; /* "IdrS": not a bzImage at all */
	expect_reject(&o, -ENOEXEC, "not a Linux kernel");

	o = bz_default();
	o.version = 0x020b;
	expect_reject(&o, -ENOEXEC, "2.11 is too old");

	o = bz_default();
	o.xloadflags = 0x02;
	expect_reject(&o, -ENOEXEC, "XLF_KERNEL_64");

	o = bz_default();
	o.loadflags = 0;
	expect_reject(&o, -ENOEXEC, "zImage");

	o = bz_default();
	o.jump = 0x40; /* header ends at 0x242 */
	expect_reject(&o, -EBADMSG, "setup header ends at 0x242");

	o = bz_default();
	o.alignment = 0x3000;
	expect_reject(&o, -EBADMSG, "power of two");

	o = bz_default();
	o.relocatable = 0;
	o.pref_address = 0x7f000000; /* a fixed kernel that must run outside a 64 MiB guest */
	expect_reject(&o, -E2BIG, "more memory");

	o = bz_default();
	o.init_size = 0xfff00000;
	expect_reject(&o, -E2BIG, "more memory");
}

static struct kernel_image kernel_at(uint64_t start, uint64_t end, uint64_t initrd_addr_max)
{
	return (struct kernel_image){
	    .protocol = BOOT_PROTOCOL_LINUX64,
	    .entry = start + 0x200,
	    .load_start = start,
	    .load_end = end,
	    .initrd_addr_max = initrd_addr_max,
	};
}

static uint8_t initrd_byte(size_t i)
{
	return (uint8_t)(i * 13 + 1);
}

static char *initrd_write(size_t size)
{
	g_autofree uint8_t *b = g_malloc(size ?: 1);
	for (size_t i = 0; i < size; i++)
		b[i] = initrd_byte(i);
	return write_file("initrd", b, size);
}

static void test_initramfs_top(void)
{
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k = kernel_at(16 * MiB, 20 * MiB, 0x7fffffff);
	size_t size = 1 * MiB + 123;
	g_autofree char *path = initrd_write(size);
	uint64_t gpa = 0, got = 0;
	const char *reason = "unset";

	g_assert_cmpint(initramfs_load(path, m, &k, &gpa, &got, &reason), ==, 0);
	g_assert_null(reason);
	g_assert_cmpuint(got, ==, size);
	g_assert_cmphex(gpa, ==, (64 * MiB - size) & ~0xfffULL);
	const uint8_t *p = guest_memory_ptr(m, gpa, size);
	for (size_t i = 0; i < size; i++)
		g_assert_cmpuint(p[i], ==, initrd_byte(i));
	guest_memory_free(m);
}

static void test_initramfs_limits(void)
{
	size_t size = 3 * MiB + 5;
	g_autofree char *path = initrd_write(size);
	uint64_t gpa, got;

	/* initrd_addr_max is inclusive: the initramfs may end exactly at 2 GiB. */
	struct guest_memory *m = mem_new(6 * GiB);
	struct kernel_image k = kernel_at(16 * MiB, 80 * MiB, 0x7fffffff);
	g_assert_cmpint(initramfs_load(path, m, &k, &gpa, &got, NULL), ==, 0);
	g_assert_cmphex(gpa, ==, (0x80000000 - size) & ~0xfffULL);

	/* Without a kernel limit the MMIO gap is the ceiling. */
	k.initrd_addr_max = UINT64_MAX;
	g_assert_cmpint(initramfs_load(path, m, &k, &gpa, &got, NULL), ==, 0);
	g_assert_cmphex(gpa, ==, (LAYOUT_MMIO_GAP_START - size) & ~0xfffULL);
	guest_memory_free(m);

	/* 3 GiB guest: RAM ends exactly at the gap. */
	m = mem_new(3 * GiB);
	k.initrd_addr_max = 0xffffffff;
	g_assert_cmpint(initramfs_load(path, m, &k, &gpa, &got, NULL), ==, 0);
	g_assert_cmphex(gpa + size, <=, 3 * GiB);
	g_assert_cmphex(gpa, ==, (3 * GiB - size) & ~0xfffULL);
	guest_memory_free(m);
}

static void test_initramfs_below_kernel(void)
{
	struct guest_memory *m = mem_new(24 * MiB);
	struct kernel_image k = kernel_at(16 * MiB, 22 * MiB, 0x7fffffff);
	size_t size = 3 * MiB;
	g_autofree char *path = initrd_write(size);
	uint64_t gpa, got;

	g_assert_cmpint(initramfs_load(path, m, &k, &gpa, &got, NULL), ==, 0);
	g_assert_cmphex(gpa, ==, 13 * MiB);
	g_assert_cmphex(gpa + size, <=, k.load_start);
	guest_memory_free(m);
}

static void test_initramfs_reject(void)
{
	struct guest_memory *m = mem_new(32 * MiB);
	struct kernel_image k = kernel_at(16 * MiB, 30 * MiB, 0x7fffffff);
	uint64_t gpa = 0x1234, got = 0x5678;
	const char *reason = NULL;
	g_autofree char *missing = g_build_filename(tmpdir, "no-such-initrd", NULL);

	g_assert_cmpint(initramfs_load(missing, m, &k, &gpa, &got, &reason), ==, -ENOENT);
	g_assert_nonnull(strstr(reason, "initramfs"));

	g_autofree char *empty = initrd_write(0);
	g_assert_cmpint(initramfs_load(empty, m, &k, &gpa, &got, &reason), ==, -ENODATA);
	g_assert_nonnull(strstr(reason, "empty"));

	/* Bigger than all of RAM: a sparse file, so the test stays cheap. */
	g_autofree char *big = g_build_filename(tmpdir, "big-initrd", NULL);
	int fd = g_open(big, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 40 * MiB), ==, 0);
	close(fd);
	g_assert_cmpint(initramfs_load(big, m, &k, &gpa, &got, &reason), ==, -E2BIG);
	g_test_message("reason: %s", reason);
	g_assert_nonnull(strstr(reason, "does not fit"));

	/* Exactly the 15 MiB between 1 MiB and the kernel fits; one byte more does not. */
	g_autofree char *fits = initrd_write(15 * MiB);
	g_assert_cmpint(initramfs_load(fits, m, &k, &gpa, &got, &reason), ==, 0);
	g_assert_cmphex(gpa, ==, 1 * MiB);
	g_autofree char *over = initrd_write(15 * MiB + 1);
	g_assert_cmpint(initramfs_load(over, m, &k, &gpa, &got, &reason), ==, -E2BIG);
	g_assert_cmphex(gpa, ==, 1 * MiB); /* untouched on failure */
	guest_memory_free(m);
}

static void test_real_bzimage(void)
{
	const char *path = g_getenv("CHD_TEST_BZIMAGE");
	if (!path) {
		g_test_skip("CHD_TEST_BZIMAGE is not set");
		return;
	}

	struct guest_memory *m = mem_new(512 * MiB);
	struct kernel_image k;
	const char *reason = NULL;
	int r = kernel_load(path, m, &k, &reason);
	if (r < 0)
		g_error("%s: %s", path, reason);

	g_test_message("protocol %x.%02x, loaded at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
		       "x, entry 0x%" G_GINT64_MODIFIER "x",
		       k.boot_protocol_version >> 8, k.boot_protocol_version & 0xff, k.load_start,
		       k.load_end, k.entry);
	g_assert_cmpint(k.protocol, ==, BOOT_PROTOCOL_LINUX64);
	g_assert_cmphex(k.boot_protocol_version, >=, 0x020c);
	g_assert_cmphex(k.entry, ==, k.load_start + 0x200);
	g_assert_cmphex(k.load_start % 0x200000, ==, 0);
	g_assert_true(k.xloadflags & 1);
	g_assert_cmpuint(k.cmdline_size, >=, 255);

	/* The loaded bytes are the file's, right after the setup sectors. */
	g_autofree char *data = NULL;
	gsize len;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	size_t setup = ((size_t)((uint8_t)data[0x1f1] ?: 4) + 1) * 512;
	g_assert_cmpmem(guest_memory_ptr(m, k.load_start, 4096), 4096, data + setup, 4096);
	guest_memory_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_autoptr(GError) error = NULL;
	tmpdir = g_dir_make_tmp("chd-test-bzimage-XXXXXX", &error);
	g_assert_no_error(error);

	g_test_add_func("/bzimage/protocol-table", test_protocol_table);
	g_test_add_func("/bzimage/load-pref", test_load_pref);
	g_test_add_func("/bzimage/load-unaligned-pref", test_load_unaligned_pref);
	g_test_add_func("/bzimage/load-fixed", test_load_fixed);
	g_test_add_func("/bzimage/load-no-pref", test_load_no_pref);
	g_test_add_func("/bzimage/guest-too-small", test_guest_too_small);
	g_test_add_func("/bzimage/reject-files", test_reject_files);
	g_test_add_func("/bzimage/reject-headers", test_reject_headers);
	g_test_add_func("/initramfs/top", test_initramfs_top);
	g_test_add_func("/initramfs/limits", test_initramfs_limits);
	g_test_add_func("/initramfs/below-kernel", test_initramfs_below_kernel);
	g_test_add_func("/initramfs/reject", test_initramfs_reject);
	g_test_add_func("/bzimage/real-kernel", test_real_bzimage);

	int r = g_test_run();

	const char *names[] = {"bzImage", "junk", "initrd", "big-initrd"};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *p = g_build_filename(tmpdir, names[i], NULL);
		(void)g_unlink(p);
	}
	(void)g_rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
