/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux zero page and the PVH start info, read back at the byte offsets of boot.rst,
 * zero-page.rst and Xen's start_info.h rather than through our own structs. */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot/boot-params.h"
#include "boot/kernel.h"
#include "memory/guest-memory.h"

static struct guest_memory *mem_new(uint64_t size)
{
	struct guest_memory *m = NULL;
	g_assert_cmpint(guest_memory_new(size, &m), ==, 0);
	return m;
}

static uint8_t rd8(struct guest_memory *m, uint64_t gpa)
{
	uint8_t v;
	g_assert_cmpint(guest_memory_read(m, gpa, &v, sizeof(v)), ==, 0);
	return v;
}
static uint16_t rd16(struct guest_memory *m, uint64_t gpa)
{
	uint16_t v;
	g_assert_cmpint(guest_memory_read(m, gpa, &v, sizeof(v)), ==, 0);
	return v;
}
static uint32_t rd32(struct guest_memory *m, uint64_t gpa)
{
	uint32_t v;
	g_assert_cmpint(guest_memory_read(m, gpa, &v, sizeof(v)), ==, 0);
	return v;
}
static uint64_t rd64(struct guest_memory *m, uint64_t gpa)
{
	uint64_t v;
	g_assert_cmpint(guest_memory_read(m, gpa, &v, sizeof(v)), ==, 0);
	return v;
}

static void hdr_put(struct kernel_image *k, size_t off, const void *v, size_t len)
{
	memcpy(k->setup_header + off - 0x1f1, v, len);
}

/* A kernel_image as bzimage.c leaves it, with a setup header built at boot.rst offsets. */
static struct kernel_image linux_image(uint16_t version, uint32_t cmdline_size)
{
	struct kernel_image k = {
	    .protocol = BOOT_PROTOCOL_LINUX64,
	    .entry = 0x1000200,
	    .load_start = 0x1000000,
	    .load_end = 0x1400000,
	    .setup_header_len = 0x26c - 0x1f1,
	    .boot_protocol_version = version,
	    .xloadflags = 0x7f,
	    .initrd_addr_max = 0x7fffffff,
	    .cmdline_size = cmdline_size,
	};
	uint32_t u32;
	uint16_t u16;
	uint64_t u64;

	k.setup_header[0] = 27; /* setup_sects */
	u16 = 0xaa55, hdr_put(&k, 0x1fe, &u16, 2);
	hdr_put(&k, 0x202, "HdrS", 4);
	hdr_put(&k, 0x206, &version, 2);
	k.setup_header[0x211 - 0x1f1] = 0x01; /* LOADED_HIGH */
	u32 = 0x100000, hdr_put(&k, 0x214, &u32, 4);
	u32 = 0x7fffffff, hdr_put(&k, 0x22c, &u32, 4);
	hdr_put(&k, 0x238, &cmdline_size, 4);
	u32 = 0x12, hdr_put(&k, 0x23c, &u32, 4);       /* hardware_subarch from a hostile file */
	u64 = 0xdeadbeef, hdr_put(&k, 0x250, &u64, 8); /* setup_data from a hostile file */
	u64 = 0x1000000, hdr_put(&k, 0x258, &u64, 8);
	u32 = 0x400000, hdr_put(&k, 0x260, &u32, 4);
	return k;
}

static void test_linux_fields(void)
{
	struct guest_memory *m = mem_new(256 * MiB);
	struct kernel_image k = linux_image(0x020f, 2047);
	const char *cmdline = "console=ttyS0 root=/dev/vda rw";
	struct boot_setup s = {
	    .cmdline = cmdline,
	    .initrd_gpa = 0x0f000000,
	    .initrd_size = 0x123456,
	    .rsdp_gpa = LAYOUT_ACPI_START,
	};
	const uint64_t zp = LAYOUT_ZERO_PAGE;
	const char *reason = "unset";

	/* Stale bytes in the zero page must not survive. */
	memset(guest_memory_ptr(m, zp, 4096), 0xcc, 4096);

	g_assert_cmpint(linux_boot_params_write(m, &k, &s, &reason), ==, 0);
	g_assert_null(reason);

	/* The kernel's header, copied. */
	g_assert_cmpuint(rd8(m, zp + 0x1f1), ==, 27);
	g_assert_cmphex(rd16(m, zp + 0x1fe), ==, 0xaa55);
	g_assert_cmpmem(guest_memory_ptr(m, zp + 0x202, 4), 4, "HdrS", 4);
	g_assert_cmphex(rd16(m, zp + 0x206), ==, 0x020f);
	g_assert_cmphex(rd32(m, zp + 0x22c), ==, 0x7fffffff);
	g_assert_cmphex(rd64(m, zp + 0x258), ==, 0x1000000);
	g_assert_cmphex(rd32(m, zp + 0x260), ==, 0x400000);
	/* The loader's fields. */
	g_assert_cmphex(rd8(m, zp + 0x210), ==, 0xff);		     /* type_of_loader */
	g_assert_cmphex(rd8(m, zp + 0x211), ==, 0x81);		     /* LOADED_HIGH | CAN_USE_HEAP */
	g_assert_cmphex(rd32(m, zp + 0x214), ==, 0x1000000);	     /* code32_start = where we loaded it */
	g_assert_cmphex(rd16(m, zp + 0x224), ==, 0xfe00);	     /* heap_end_ptr */
	g_assert_cmphex(rd32(m, zp + 0x228), ==, 0x20000);	     /* cmd_line_ptr */
	g_assert_cmphex(rd32(m, zp + 0x0c8), ==, 0);		     /* ext_cmd_line_ptr */
	g_assert_cmphex(rd32(m, zp + 0x218), ==, 0x0f000000);	     /* ramdisk_image */
	g_assert_cmphex(rd32(m, zp + 0x21c), ==, 0x123456);	     /* ramdisk_size */
	g_assert_cmphex(rd32(m, zp + 0x0c0), ==, 0);		     /* ext_ramdisk_image */
	g_assert_cmphex(rd32(m, zp + 0x0c4), ==, 0);		     /* ext_ramdisk_size */
	g_assert_cmphex(rd64(m, zp + 0x070), ==, LAYOUT_ACPI_START); /* acpi_rsdp_addr */
	g_assert_cmphex(rd32(m, zp + 0x23c), ==, 0);		     /* hardware_subarch */
	g_assert_cmphex(rd64(m, zp + 0x250), ==, 0);		     /* setup_data */
	g_assert_cmphex(rd8(m, zp + 0x1ef), ==, 0);		     /* sentinel */

	/* The command line, NUL-terminated, where cmd_line_ptr says. */
	g_assert_cmpstr(guest_memory_ptr(m, LAYOUT_CMDLINE, strlen(cmdline) + 1), ==, cmdline);

	/* E820: count at 0x1e8, 20-byte entries from 0x2d0. */
	g_assert_cmpuint(rd8(m, zp + 0x1e8), ==, 4);
	g_assert_cmphex(rd64(m, zp + 0x2d0), ==, 0);
	g_assert_cmphex(rd64(m, zp + 0x2d8), ==, 0x9fc00);
	g_assert_cmpuint(rd32(m, zp + 0x2e0), ==, 1);
	g_assert_cmphex(rd64(m, zp + 0x2d0 + 20), ==, 0x9fc00);
	g_assert_cmpuint(rd32(m, zp + 0x2d0 + 20 + 16), ==, 2);
	g_assert_cmphex(rd64(m, zp + 0x2d0 + 40), ==, 0x100000);
	g_assert_cmphex(rd64(m, zp + 0x2d0 + 40 + 8), ==, 255 * MiB);
	g_assert_cmpuint(rd32(m, zp + 0x2d0 + 40 + 16), ==, 1);

	/* Everything else is zero: after the header, after the e820 entries, the tail of the page. */
	for (uint64_t off = 0x26c; off < 0x2d0; off++)
		g_assert_cmphex(rd8(m, zp + off), ==, 0);
	for (uint64_t off = 0x2d0 + 4 * 20; off < 0x1000; off++)
		g_assert_cmphex(rd8(m, zp + off), ==, 0);
	for (uint64_t off = 0; off < 0x70; off++)
		g_assert_cmphex(rd8(m, zp + off), ==, 0);
	guest_memory_free(m);
}

static void test_linux_no_initrd_old_protocol(void)
{
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k = linux_image(0x020c, 2047);
	struct boot_setup s = {.rsdp_gpa = LAYOUT_ACPI_START};
	const uint64_t zp = LAYOUT_ZERO_PAGE;

	memset(guest_memory_ptr(m, LAYOUT_CMDLINE, 16), 'x', 16);
	g_assert_cmpint(linux_boot_params_write(m, &k, &s, NULL), ==, 0);
	g_assert_cmphex(rd32(m, zp + 0x218), ==, 0);
	g_assert_cmphex(rd32(m, zp + 0x21c), ==, 0);
	/* Protocol 2.12 has no acpi_rsdp_addr: the kernel scans the BIOS area instead. */
	g_assert_cmphex(rd64(m, zp + 0x070), ==, 0);
	/* A NULL command line is an empty one. */
	g_assert_cmphex(rd32(m, zp + 0x228), ==, 0x20000);
	g_assert_cmpuint(rd8(m, LAYOUT_CMDLINE), ==, 0);
	guest_memory_free(m);
}

static void test_linux_reject(void)
{
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k = linux_image(0x020f, 16);
	struct boot_setup s = {.cmdline = "0123456789abcdef"};
	const char *reason = NULL;

	/* Exactly cmdline_size characters is allowed, one more is not. */
	g_assert_cmpint(linux_boot_params_write(m, &k, &s, &reason), ==, 0);
	s.cmdline = "0123456789abcdefg";
	g_assert_cmpint(linux_boot_params_write(m, &k, &s, &reason), ==, -E2BIG);
	g_assert_nonnull(strstr(reason, "17 bytes long, but this kernel accepts at most 16"));

	/* The kernel would take more, but the layout has 64 KiB. */
	k.cmdline_size = UINT32_MAX;
	g_autofree char *huge = g_strnfill(LAYOUT_CMDLINE_MAX, 'a');
	s.cmdline = huge;
	g_assert_cmpint(linux_boot_params_write(m, &k, &s, &reason), ==, -E2BIG);
	g_assert_nonnull(strstr(reason, "room for"));
	huge[LAYOUT_CMDLINE_MAX - 1] = '\0';
	g_assert_cmpint(linux_boot_params_write(m, &k, &s, &reason), ==, 0);

	/* An initramfs the kernel cannot reach. */
	s.cmdline = NULL;
	s.initrd_gpa = 0x7ff00000;
	s.initrd_size = 2 * MiB;
	g_assert_cmpint(linux_boot_params_write(m, &k, &s, &reason), ==, -EINVAL);
	g_assert_nonnull(strstr(reason, "initrd_addr_max"));
	s.initrd_size = 1 * MiB; /* ends exactly at 2 GiB: allowed */
	g_assert_cmpint(linux_boot_params_write(m, &k, &s, &reason), ==, 0);

	/* A PVH kernel has no zero page. */
	k.protocol = BOOT_PROTOCOL_PVH;
	g_assert_cmpint(linux_boot_params_write(m, &k, &s, &reason), ==, -EINVAL);
	g_assert_nonnull(strstr(reason, "pvh"));
	guest_memory_free(m);
}

static struct kernel_image pvh_image(void)
{
	return (struct kernel_image){
	    .protocol = BOOT_PROTOCOL_PVH,
	    .entry = 0x1000850,
	    .load_start = 0x1000000,
	    .load_end = 0x3e00000,
	    .initrd_addr_max = 0xffffffff,
	    .cmdline_size = LAYOUT_CMDLINE_MAX - 1,
	};
}

static void test_pvh_fields(void)
{
	struct guest_memory *m = mem_new(6 * GiB);
	struct kernel_image k = pvh_image();
	const char *cmdline = "console=ttyS0 quiet";
	struct boot_setup s = {
	    .cmdline = cmdline,
	    .initrd_gpa = 0xbfc00000,
	    .initrd_size = 0x3ff000,
	    .rsdp_gpa = LAYOUT_ACPI_START,
	};
	const uint64_t si = LAYOUT_PVH_INFO, mm = LAYOUT_PVH_MEMMAP, ml = LAYOUT_PVH_MODLIST;
	const char *reason = "unset";

	g_assert_cmpint(pvh_start_info_write(m, &k, &s, &reason), ==, 0);
	g_assert_null(reason);

	g_assert_cmphex(rd32(m, si + 0x00), ==, 0x336ec578); /* magic */
	g_assert_cmpuint(rd32(m, si + 0x04), ==, 1);	     /* version */
	g_assert_cmphex(rd32(m, si + 0x08), ==, 0);	     /* flags */
	g_assert_cmpuint(rd32(m, si + 0x0c), ==, 1);	     /* nr_modules */
	g_assert_cmphex(rd64(m, si + 0x10), ==, ml);	     /* modlist_paddr */
	g_assert_cmphex(rd64(m, si + 0x18), ==, LAYOUT_CMDLINE);
	g_assert_cmphex(rd64(m, si + 0x20), ==, LAYOUT_ACPI_START); /* rsdp_paddr */
	g_assert_cmphex(rd64(m, si + 0x28), ==, mm);		    /* memmap_paddr */
	g_assert_cmpuint(rd32(m, si + 0x30), ==, 5);		    /* memmap_entries */
	g_assert_cmpstr(guest_memory_ptr(m, LAYOUT_CMDLINE, strlen(cmdline) + 1), ==, cmdline);

	/* 24-byte memmap entries: addr, size, type, reserved. */
	const uint64_t want[5][3] = {
	    {0x0, 0x9fc00, 1},
	    {0x9fc00, 0x60400, 2},
	    {0x100000, 0xbff00000, 1},
	    {LAYOUT_PCI_ECAM_START, LAYOUT_PCI_ECAM_SIZE, 2},
	    {0x100000000, 0xc0000000, 1},
	};
	for (unsigned i = 0; i < 5; i++) {
		g_assert_cmphex(rd64(m, mm + i * 24), ==, want[i][0]);
		g_assert_cmphex(rd64(m, mm + i * 24 + 8), ==, want[i][1]);
		g_assert_cmpuint(rd32(m, mm + i * 24 + 16), ==, want[i][2]);
		g_assert_cmpuint(rd32(m, mm + i * 24 + 20), ==, 0);
	}

	/* 32-byte module entries: paddr, size, cmdline_paddr, reserved. */
	g_assert_cmphex(rd64(m, ml + 0), ==, 0xbfc00000);
	g_assert_cmphex(rd64(m, ml + 8), ==, 0x3ff000);
	g_assert_cmphex(rd64(m, ml + 16), ==, 0);
	g_assert_cmphex(rd64(m, ml + 24), ==, 0);
	guest_memory_free(m);
}

static void test_pvh_no_initrd_reject(void)
{
	struct guest_memory *m = mem_new(64 * MiB);
	struct kernel_image k = pvh_image();
	struct boot_setup s = {};
	const char *reason = NULL;

	g_assert_cmpint(pvh_start_info_write(m, &k, &s, &reason), ==, 0);
	g_assert_cmpuint(rd32(m, LAYOUT_PVH_INFO + 0x0c), ==, 0);
	g_assert_cmphex(rd64(m, LAYOUT_PVH_INFO + 0x10), ==, 0);
	g_assert_cmphex(rd64(m, LAYOUT_PVH_INFO + 0x20), ==, 0);
	g_assert_cmpuint(rd32(m, LAYOUT_PVH_INFO + 0x30), ==, 4);
	g_assert_cmpuint(rd8(m, LAYOUT_CMDLINE), ==, 0);

	g_autofree char *huge = g_strnfill(LAYOUT_CMDLINE_MAX, 'a');
	s.cmdline = huge;
	g_assert_cmpint(pvh_start_info_write(m, &k, &s, &reason), ==, -E2BIG);

	s.cmdline = NULL;
	s.initrd_gpa = 0xfff00000;
	s.initrd_size = 2 * MiB;
	g_assert_cmpint(pvh_start_info_write(m, &k, &s, &reason), ==, -EINVAL);

	k.protocol = BOOT_PROTOCOL_LINUX64;
	s = (struct boot_setup){};
	g_assert_cmpint(pvh_start_info_write(m, &k, &s, &reason), ==, -EINVAL);
	g_assert_nonnull(strstr(reason, "linux64"));
	guest_memory_free(m);
}

/* The whole chain on real files, when the environment provides them. */
static void test_real_chain(void)
{
	const char *bz = g_getenv("CHD_TEST_BZIMAGE"), *vmlinux = g_getenv("CHD_TEST_VMLINUX");
	const char *paths[] = {bz, vmlinux};
	bool any = false;

	for (unsigned i = 0; i < G_N_ELEMENTS(paths); i++) {
		if (!paths[i])
			continue;
		any = true;

		struct guest_memory *m = mem_new(512 * MiB);
		struct kernel_image k;
		const char *reason = NULL;
		int r = kernel_load(paths[i], m, &k, &reason);
		if (r < 0)
			g_error("%s: %s", paths[i], reason);

		struct boot_setup s = {.cmdline = "console=ttyS0 panic=-1", .rsdp_gpa = LAYOUT_ACPI_START};
		r = k.protocol == BOOT_PROTOCOL_LINUX64 ? linux_boot_params_write(m, &k, &s, &reason)
							: pvh_start_info_write(m, &k, &s, &reason);
		if (r < 0)
			g_error("%s: %s", paths[i], reason);
		guest_memory_free(m);
	}
	if (!any)
		g_test_skip("neither CHD_TEST_BZIMAGE nor CHD_TEST_VMLINUX is set");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/boot-params/linux-fields", test_linux_fields);
	g_test_add_func("/boot-params/linux-no-initrd-old-protocol", test_linux_no_initrd_old_protocol);
	g_test_add_func("/boot-params/linux-reject", test_linux_reject);
	g_test_add_func("/boot-params/pvh-fields", test_pvh_fields);
	g_test_add_func("/boot-params/pvh-no-initrd-reject", test_pvh_no_initrd_reject);
	g_test_add_func("/boot-params/real-chain", test_real_chain);
	return g_test_run();
}
