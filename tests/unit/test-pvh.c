/* SPDX-License-Identifier: Apache-2.0 */
/* Loading ELF64 kernels with a Xen PVH entry note, synthesised here: two PT_LOAD segments (the second
 * with bss) and a PT_NOTE segment holding a GNU build-id note followed by the Xen entry note. */
#include <elf.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot/kernel.h"
#include "memory/guest-memory.h"

#define FILE_SIZE 0x5000
#define NOTE_OFFSET 0x200
#define SEG0_OFFSET 0x1000
#define SEG1_OFFSET 0x4000

struct elf_opts {
	uint8_t class;
	uint16_t machine;
	uint16_t type;
	uint64_t phoff;
	bool with_note_segment;
	bool with_xen_note;
	uint32_t xen_note_type;
	uint32_t xen_descsz;
	uint32_t xen_namesz;
	uint64_t entry;
	uint64_t seg0_paddr, seg0_filesz, seg0_memsz, seg0_offset;
	uint64_t seg1_paddr, seg1_filesz, seg1_memsz;
	size_t truncate_to;
};

static char *tmpdir;

static struct elf_opts elf_default(void)
{
	return (struct elf_opts){
	    .class = ELFCLASS64,
	    .machine = EM_X86_64,
	    .type = ET_EXEC,
	    .phoff = sizeof(Elf64_Ehdr),
	    .with_note_segment = true,
	    .with_xen_note = true,
	    .xen_note_type = 18,
	    .xen_descsz = 8,
	    .xen_namesz = 4,
	    .entry = 0x1000100,
	    .seg0_paddr = 0x1000000,
	    .seg0_filesz = 0x3000,
	    .seg0_memsz = 0x3000,
	    .seg0_offset = SEG0_OFFSET,
	    .seg1_paddr = 0x1200000,
	    .seg1_filesz = 0x800,
	    .seg1_memsz = 0x5000,
	};
}

static uint8_t file_byte(size_t off)
{
	return (uint8_t)(off * 11 + 5);
}

static size_t note_add(uint8_t *b, size_t off, uint32_t namesz, const char *name, uint32_t type,
		       const void *desc, uint32_t descsz)
{
	Elf64_Nhdr n = {.n_namesz = namesz, .n_descsz = descsz, .n_type = type};
	memcpy(b + off, &n, sizeof(n));
	off += sizeof(n);
	memcpy(b + off, name, strlen(name) + 1);
	off += (MIN(namesz, 64u) + 3) & ~3u;
	memcpy(b + off, desc, MIN(descsz, 64u));
	off += (MIN(descsz, 64u) + 3) & ~3u;
	return off;
}

static uint8_t *elf_build(const struct elf_opts *o, size_t *ret_len)
{
	uint8_t *b = g_malloc0(FILE_SIZE);
	Elf64_Ehdr e = {
	    .e_type = o->type,
	    .e_machine = o->machine,
	    .e_version = EV_CURRENT,
	    .e_entry = 0xffffffff81000000,
	    .e_phoff = o->phoff,
	    .e_ehsize = sizeof(Elf64_Ehdr),
	    .e_phentsize = sizeof(Elf64_Phdr),
	    .e_phnum = o->with_note_segment ? 3 : 2,
	};
	memcpy(e.e_ident, ELFMAG, SELFMAG);
	e.e_ident[EI_CLASS] = o->class;
	e.e_ident[EI_DATA] = ELFDATA2LSB;
	e.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(b, &e, sizeof(e));

	for (size_t i = SEG0_OFFSET; i < FILE_SIZE; i++)
		b[i] = file_byte(i);

	uint8_t build_id[20];
	memset(build_id, 0xab, sizeof(build_id));
	size_t end = note_add(b, NOTE_OFFSET, 4, "GNU", NT_GNU_BUILD_ID, build_id, sizeof(build_id));
	if (o->with_xen_note)
		end = note_add(b, end, o->xen_namesz, "Xen", o->xen_note_type, &o->entry, o->xen_descsz);

	Elf64_Phdr ph[3] = {
	    {.p_type = PT_LOAD,
	     .p_flags = PF_R | PF_X,
	     .p_offset = o->seg0_offset,
	     .p_vaddr = 0xffffffff81000000,
	     .p_paddr = o->seg0_paddr,
	     .p_filesz = o->seg0_filesz,
	     .p_memsz = o->seg0_memsz,
	     .p_align = 0x200000},
	    {.p_type = PT_LOAD,
	     .p_flags = PF_R | PF_W,
	     .p_offset = SEG1_OFFSET,
	     .p_vaddr = 0xffffffff81200000,
	     .p_paddr = o->seg1_paddr,
	     .p_filesz = o->seg1_filesz,
	     .p_memsz = o->seg1_memsz,
	     .p_align = 0x200000},
	    {.p_type = PT_NOTE,
	     .p_offset = NOTE_OFFSET,
	     .p_filesz = end - NOTE_OFFSET,
	     .p_memsz = end - NOTE_OFFSET,
	     .p_align = 4},
	};
	if (o->phoff + sizeof(ph) <= FILE_SIZE)
		memcpy(b + o->phoff, ph, e.e_phnum * sizeof(Elf64_Phdr));

	*ret_len = o->truncate_to ? o->truncate_to : FILE_SIZE;
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

static char *elf_write(const struct elf_opts *o)
{
	size_t len;
	g_autofree uint8_t *b = elf_build(o, &len);
	return write_file("vmlinux", b, len);
}

static struct guest_memory *mem_new(uint64_t size)
{
	struct guest_memory *m = NULL;
	g_assert_cmpint(guest_memory_new(size, &m), ==, 0);
	return m;
}

static void assert_file_bytes_at(struct guest_memory *m, uint64_t gpa, size_t file_off, size_t len)
{
	const uint8_t *p = guest_memory_ptr(m, gpa, len);
	g_assert_nonnull(p);
	for (size_t i = 0; i < len; i++)
		if (p[i] != file_byte(file_off + i))
			g_error("byte 0x%zx at 0x%" G_GINT64_MODIFIER "x is 0x%02x", i, gpa, p[i]);
}

static void test_load(void)
{
	struct elf_opts o = elf_default();
	g_autofree char *path = elf_write(&o);
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;
	const char *reason = "unset";

	/* Garbage where the bss goes: the loader must clear it. */
	memset(guest_memory_ptr(m, 0x1200000, 0x5000), 0xaa, 0x5000);

	g_assert_cmpint(kernel_load(path, m, &k, &reason), ==, 0);
	g_assert_null(reason);
	g_assert_cmpint(k.protocol, ==, BOOT_PROTOCOL_PVH);
	g_assert_cmphex(k.entry, ==, 0x1000100);
	g_assert_cmphex(k.load_start, ==, 0x1000000);
	g_assert_cmphex(k.load_end, ==, 0x1205000);
	g_assert_cmphex(k.initrd_addr_max, ==, 0xffffffff);
	g_assert_cmpuint(k.setup_header_len, ==, 0);
	assert_file_bytes_at(m, 0x1000000, SEG0_OFFSET, 0x3000);
	assert_file_bytes_at(m, 0x1200000, SEG1_OFFSET, 0x800);
	const uint8_t *bss = guest_memory_ptr(m, 0x1200800, 0x4800);
	for (size_t i = 0; i < 0x4800; i++)
		g_assert_cmpuint(bss[i], ==, 0);
	/* And not a byte beyond the segment. */
	g_assert_cmpuint(*(uint8_t *)guest_memory_ptr(m, 0x1205000, 1), ==, 0);
	guest_memory_free(m);
}

static void test_load_descsz4(void)
{
	struct elf_opts o = elf_default();
	o.xen_descsz = 4;
	o.entry = 0x1200010;
	g_autofree char *path = elf_write(&o);
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k;

	g_assert_cmpint(kernel_load(path, m, &k, NULL), ==, 0);
	g_assert_cmphex(k.entry, ==, 0x1200010);
	guest_memory_free(m);
}

static void expect_reject(const struct elf_opts *o, uint64_t ram, int err, const char *needle)
{
	g_autofree char *path = elf_write(o);
	struct guest_memory *m = mem_new(ram);
	struct kernel_image k;
	const char *reason = NULL;

	int r = kernel_load(path, m, &k, &reason);
	g_test_message("reason: %s", reason);
	g_assert_cmpint(r, ==, err);
	g_assert_nonnull(reason);
	if (!strstr(reason, needle))
		g_error("reason '%s' does not mention '%s'", reason, needle);
	/* Nothing was written: checks come before copies. */
	const uint8_t *p = guest_memory_ptr(m, 0x1000000, 0x3000);
	for (size_t i = 0; i < 0x3000; i++)
		g_assert_cmpuint(p[i], ==, 0);
	guest_memory_free(m);
}

static void test_reject(void)
{
	struct elf_opts o;

	o = elf_default();
	o.with_xen_note = false;
	expect_reject(&o, 64 * MiB, -ENOEXEC, "no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");

	o = elf_default();
	o.with_note_segment = false;
	expect_reject(&o, 64 * MiB, -ENOEXEC, "CONFIG_PVH");

	o = elf_default();
	o.xen_note_type = 17;
	expect_reject(&o, 64 * MiB, -ENOEXEC, "XEN_ELFNOTE_PHYS32_ENTRY");

	o = elf_default();
	o.xen_descsz = 2;
	expect_reject(&o, 64 * MiB, -EBADMSG, "2-byte");

	o = elf_default();
	o.xen_namesz = 0x7fffffff;
	expect_reject(&o, 64 * MiB, -EBADMSG, "malformed ELF note");

	o = elf_default();
	o.entry = 0x2000000;
	expect_reject(&o, 64 * MiB, -EBADMSG, "outside the loaded kernel");

	o = elf_default();
	o.entry = 0x100000000;
	expect_reject(&o, 64 * MiB, -EBADMSG, "32-bit");

	/* Second segment beyond the end of a 64 MiB guest; the first one fits and must not be copied. */
	o = elf_default();
	o.seg1_paddr = 0x4000000 - 0x1000;
	expect_reject(&o, 64 * MiB, -ERANGE, "outside guest RAM");

	/* Above 4 GiB is RAM in a 6 GiB guest, but PVH starts with paging off. */
	o = elf_default();
	o.seg1_paddr = 0x100000000;
	expect_reject(&o, 6 * GiB, -ERANGE, "outside guest RAM below 4 GiB");

	o = elf_default();
	o.seg1_paddr = 0xe0000; /* over our ACPI tables */
	expect_reject(&o, 64 * MiB, -ERANGE, "below 1 MiB");

	o = elf_default();
	o.seg1_paddr = UINT64_MAX - 0x1000;
	expect_reject(&o, 64 * MiB, -ERANGE, "outside guest RAM");

	o = elf_default();
	o.seg0_filesz = 0xffffffffffff0000;
	o.seg0_memsz = 0xffffffffffff0000;
	expect_reject(&o, 64 * MiB, -EBADMSG, "truncated");

	o = elf_default();
	o.seg0_offset = UINT64_MAX - 0x100;
	expect_reject(&o, 64 * MiB, -EBADMSG, "truncated");

	o = elf_default();
	o.seg0_filesz = 0x4000;
	expect_reject(&o, 64 * MiB, -EBADMSG, "more file data");

	o = elf_default();
	o.phoff = 0x4ff0;
	expect_reject(&o, 64 * MiB, -EBADMSG, "program headers");

	o = elf_default();
	o.truncate_to = 0x3000; /* cuts the second segment's data */
	expect_reject(&o, 64 * MiB, -EBADMSG, "truncated");

	o = elf_default();
	o.truncate_to = 40;
	expect_reject(&o, 64 * MiB, -EBADMSG, "ELF64 header");

	o = elf_default();
	o.class = ELFCLASS32;
	expect_reject(&o, 64 * MiB, -ENOEXEC, "64-bit");

	o = elf_default();
	o.machine = EM_AARCH64;
	expect_reject(&o, 64 * MiB, -ENOEXEC, "x86-64");

	o = elf_default();
	o.type = ET_DYN;
	expect_reject(&o, 64 * MiB, -ENOEXEC, "executable");
}

static void test_initramfs(void)
{
	struct elf_opts o = elf_default();
	g_autofree char *path = elf_write(&o);
	struct guest_memory *m = mem_new(6 * GiB);
	struct kernel_image k;
	size_t size = 2 * MiB + 77;
	g_autofree uint8_t *data = g_malloc(size);
	uint64_t gpa, got;

	memset(data, 0x5a, size);
	g_autofree char *initrd = write_file("initrd", data, size);
	g_assert_cmpint(kernel_load(path, m, &k, NULL), ==, 0);
	g_assert_cmpint(initramfs_load(initrd, m, &k, &gpa, &got, NULL), ==, 0);
	/* PVH has no initrd_addr_max below 4 GiB: the MMIO gap is the ceiling. */
	g_assert_cmphex(gpa, ==, (LAYOUT_MMIO_GAP_START - size) & ~0xfffULL);
	g_assert_cmpmem(guest_memory_ptr(m, gpa, size), size, data, size);
	guest_memory_free(m);
}

static void test_real_vmlinux(void)
{
	const char *path = g_getenv("CHD_TEST_VMLINUX");
	if (!path) {
		g_test_skip("CHD_TEST_VMLINUX is not set");
		return;
	}

	struct guest_memory *m = mem_new(512 * MiB);
	struct kernel_image k;
	const char *reason = NULL;
	int r = kernel_load(path, m, &k, &reason);
	if (r < 0)
		g_error("%s: %s", path, reason);

	g_test_message("loaded at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
		       "x, PVH entry 0x%" G_GINT64_MODIFIER "x",
		       k.load_start, k.load_end, k.entry);
	g_assert_cmpint(k.protocol, ==, BOOT_PROTOCOL_PVH);
	g_assert_cmphex(k.load_start, >=, 1 * MiB);
	g_assert_cmphex(k.entry, >=, k.load_start);
	g_assert_cmphex(k.entry, <, k.load_end);
	g_assert_cmphex(k.entry, <, 4 * GiB);
	guest_memory_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_autoptr(GError) error = NULL;
	tmpdir = g_dir_make_tmp("chd-test-pvh-XXXXXX", &error);
	g_assert_no_error(error);

	g_test_add_func("/pvh/load", test_load);
	g_test_add_func("/pvh/load-descsz4", test_load_descsz4);
	g_test_add_func("/pvh/reject", test_reject);
	g_test_add_func("/pvh/initramfs", test_initramfs);
	g_test_add_func("/pvh/real-vmlinux", test_real_vmlinux);

	int r = g_test_run();

	const char *names[] = {"vmlinux", "initrd"};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *p = g_build_filename(tmpdir, names[i], NULL);
		(void)g_unlink(p);
	}
	(void)g_rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
