/* SPDX-License-Identifier: Apache-2.0 */
/* The ACPI tables as a guest sees them: the structure checks read fields at the offsets the ACPI
 * 6.5 specification gives, not through the builder's structs, and iasl then disassembles every
 * table and recompiles the DSDT to the same AML. */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "arch/x86/layout.h"

struct cpu_case {
	const char *name;
	unsigned boot;
	unsigned max;
	bool serial;
};

static const struct cpu_case cases[] = {
    {"1cpu", 1, 1, true},
    {"2cpu", 2, 2, true},
    {"4cpu", 4, 4, true},
    {"2of8cpu", 2, 8, true},
    {"2of8cpu-noserial", 2, 8, false},
    {"255cpu", 255, 255, true},
};

/* Offsets of the tables inside the build buffer, found by following the pointers. */
struct tables {
	const uint8_t *buf;
	size_t used;
	size_t xsdt, fadt, madt, dsdt;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum_bytes(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

/* A table at gpa must lie inside the buffer, carry the signature, and sum to zero. */
static size_t check_table_at(const struct tables *t, uint64_t gpa, const char *signature)
{
	g_assert_cmpuint(gpa, >=, LAYOUT_ACPI_START);
	g_assert_cmpuint(gpa - LAYOUT_ACPI_START, <=, t->used - 36);
	size_t off = (size_t)(gpa - LAYOUT_ACPI_START);
	const uint8_t *h = t->buf + off;
	uint32_t len = rd32(h + 4);

	g_assert_cmpmem(h, 4, signature, 4);
	g_assert_cmpuint(len, >=, 36);
	g_assert_cmpuint(len, <=, t->used - off);
	g_assert_cmpuint(sum_bytes(h, len), ==, 0);
	g_assert_cmpmem(h + 10, 6, "CHD   ", 6);
	return off;
}

static void build(const struct acpi_config *cfg, uint8_t *buf, size_t size, struct tables *ret)
{
	size_t used = 0;

	g_assert_cmpint(acpi_build(cfg, LAYOUT_ACPI_START, buf, size, &used), ==, 0);
	g_assert_cmpuint(used, >, 36);
	g_assert_cmpuint(used, <=, size);
	*ret = (struct tables){.buf = buf, .used = used};

	/* RSDP at offset 0, revision 2, both checksums */
	const uint8_t *r = buf;
	g_assert_cmpmem(r, 8, "RSD PTR ", 8);
	g_assert_cmpuint(sum_bytes(r, 20), ==, 0);
	g_assert_cmpuint(r[15], ==, 2);
	g_assert_cmpuint(rd32(r + 16), ==, 0); /* no RSDT */
	g_assert_cmpuint(rd32(r + 20), ==, 36);
	g_assert_cmpuint(sum_bytes(r, 36), ==, 0);

	/* XSDT: FADT and MADT, once each */
	ret->xsdt = check_table_at(ret, rd64(r + 24), "XSDT");
	const uint8_t *x = buf + ret->xsdt;
	uint32_t xlen = rd32(x + 4);
	g_assert_cmpuint(x[8], ==, 1);
	g_assert_cmpuint((xlen - 36) % 8, ==, 0);
	g_assert_cmpuint((xlen - 36) / 8, ==, 2);
	ret->fadt = ret->madt = 0;
	for (uint32_t i = 36; i < xlen; i += 8) {
		uint64_t gpa = rd64(x + i);
		g_assert_cmpuint(gpa, >=, LAYOUT_ACPI_START);
		g_assert_cmpuint(gpa - LAYOUT_ACPI_START, <, used);
		const char *sig = (const char *)buf + (gpa - LAYOUT_ACPI_START);
		if (memcmp(sig, "FACP", 4) == 0) {
			g_assert_cmpuint(ret->fadt, ==, 0);
			ret->fadt = check_table_at(ret, gpa, "FACP");
		} else {
			g_assert_cmpuint(ret->madt, ==, 0);
			ret->madt = check_table_at(ret, gpa, "APIC");
		}
	}
	g_assert_cmpuint(ret->fadt, !=, 0);
	g_assert_cmpuint(ret->madt, !=, 0);

	const uint8_t *f = buf + ret->fadt;
	ret->dsdt = check_table_at(ret, rd64(f + 140), "DSDT");
}

static void check_gas_io8(const uint8_t *gas, uint16_t port)
{
	g_assert_cmpuint(gas[0], ==, 1); /* SystemIO */
	g_assert_cmpuint(gas[1], ==, 8); /* bit width */
	g_assert_cmpuint(gas[2], ==, 0); /* bit offset */
	g_assert_cmpuint(gas[3], ==, 1); /* byte access */
	g_assert_cmpuint(rd64(gas + 4), ==, port);
}

static void check_fadt(const struct tables *t)
{
	const uint8_t *f = t->buf + t->fadt;
	uint32_t flags = rd32(f + 112);
	uint16_t boot_arch = rd16(f + 109);

	g_assert_cmpuint(rd32(f + 4), ==, 276);
	g_assert_cmpuint(f[8], ==, 6);	       /* major revision */
	g_assert_true(flags & (1u << 20));     /* HW_REDUCED_ACPI */
	g_assert_true(flags & (1u << 10));     /* RESET_REG_SUP */
	g_assert_true(flags & (1u << 4));      /* PWR_BUTTON: control method */
	g_assert_false(boot_arch & (1u << 1)); /* no 8042 */
	g_assert_true(boot_arch & (1u << 2));  /* VGA not present */
	g_assert_false(boot_arch & (1u << 5)); /* CMOS RTC present */
	check_gas_io8(f + 116, PORT_ACPI_RESET);
	g_assert_cmpuint(f[128], ==, ACPI_RESET_VALUE);
	check_gas_io8(f + 244, PORT_ACPI_SLEEP_CONTROL);
	check_gas_io8(f + 256, PORT_ACPI_SLEEP_STATUS);
	/* No FACS and no fixed-hardware blocks on a hardware-reduced platform */
	g_assert_cmpuint(rd32(f + 36), ==, 0);
	g_assert_cmpuint(rd64(f + 132), ==, 0);
	g_assert_cmpuint(rd32(f + 56), ==, 0);
	g_assert_cmpuint(rd32(f + 64), ==, 0);
	/* The 32-bit DSDT pointer, when set, agrees with X_DSDT */
	uint32_t dsdt32 = rd32(f + 40);
	g_assert_true(dsdt32 == 0 || dsdt32 == rd64(f + 140));
	g_assert_cmpuint(rd64(f + 268), !=, 0); /* hypervisor vendor identity */
}

static void check_madt(const struct tables *t, const struct cpu_case *c)
{
	const uint8_t *m = t->buf + t->madt;
	uint32_t len = rd32(m + 4);
	unsigned n_lapic = 0, n_ioapic = 0, n_iso = 0, n_nmi = 0, n_entries = 0;

	g_assert_cmpuint(m[8], >=, 5); /* online-capable flag needs revision 5 */
	g_assert_cmpuint(rd32(m + 36), ==, LAYOUT_LAPIC_START);
	g_assert_true(rd32(m + 40) & 1); /* PCAT_COMPAT */

	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = m + off;
		g_assert_cmpuint(len - off, >=, 2);
		g_assert_cmpuint(e[1], >=, 2);
		g_assert_cmpuint(e[1], <=, len - off);
		switch (e[0]) {
		case 0: /* Processor Local APIC */
			g_assert_cmpuint(e[1], ==, 8);
			g_assert_cmpuint(e[2], ==, n_lapic); /* ACPI processor UID */
			g_assert_cmpuint(e[3], ==, n_lapic); /* APIC ID */
			if (n_lapic < c->boot)
				g_assert_cmpuint(rd32(e + 4), ==, 1);
			else
				g_assert_cmpuint(rd32(e + 4), ==, 2); /* online capable, not enabled */
			n_lapic++;
			break;
		case 1: /* I/O APIC */
			g_assert_cmpuint(e[1], ==, 12);
			g_assert_cmpuint(e[2], ==, 0);
			g_assert_cmpuint(rd32(e + 4), ==, LAYOUT_IOAPIC_START);
			g_assert_cmpuint(rd32(e + 8), ==, 0);
			n_ioapic++;
			break;
		case 2: /* Interrupt Source Override */
			g_assert_cmpuint(e[1], ==, 10);
			g_assert_cmpuint(e[2], ==, 0); /* ISA */
			g_assert_cmpuint(e[3], ==, 0); /* IRQ0 */
			g_assert_cmpuint(rd32(e + 4), ==, 2);
			n_iso++;
			break;
		case 4: /* Local APIC NMI */
			g_assert_cmpuint(e[1], ==, 6);
			g_assert_cmpuint(e[2], ==, 0xff); /* all processors */
			g_assert_cmpuint(e[5], ==, 1);	  /* LINT1 */
			n_nmi++;
			break;
		default:
			g_assert_not_reached();
		}
		off += e[1];
		n_entries++;
	}
	g_assert_cmpuint(n_lapic, ==, c->max);
	g_assert_cmpuint(n_ioapic, ==, 1);
	g_assert_cmpuint(n_iso, ==, 1);
	g_assert_cmpuint(n_nmi, ==, 1);
	g_assert_cmpuint(n_entries, ==, c->max + 3);
}

static void check_dsdt(const struct tables *t)
{
	const uint8_t *d = t->buf + t->dsdt;
	uint32_t len = rd32(d + 4);

	g_assert_cmpuint(d[8], ==, 2); /* 64-bit integers */
	g_assert_cmpuint(len, >, 36);
	/* DefinitionBlock content starts with Scope (\_SB) */
	g_assert_cmpuint(d[36], ==, 0x10);

	/* _EVT: Local0 = GDAT; If ((Local0 & bit) == bit) { Notify (\_SB.PWRB, 0x80) }, with the
	 * power button bit as a ByteConst (or One) */
	const uint8_t read_event[] = {0x70, 'G', 'D', 'A', 'T', 0x60};
	g_assert_nonnull(memmem(d, len, read_event, sizeof(read_event)));
	G_STATIC_ASSERT(GED_EVENT_POWER_BUTTON == 1);
	const uint8_t notify[] = {0xa0, 0x14, 0x93, 0x7b, 0x60, 0x01, 0x00, 0x01, 0x86, 0x5c, 0x2e,
				  '_',	'S',  'B',  '_',  'P',	'W',  'R',  'B',  0x0a, 0x80};
	g_assert_nonnull(memmem(d, len, notify, sizeof(notify)));

	/* OperationRegion (GDST, SystemMemory, LAYOUT_GED_START, GED_REG_LEN) */
	const uint8_t region[] = {0x5b,
				  0x80,
				  'G',
				  'D',
				  'S',
				  'T',
				  0x00,
				  0x0c,
				  (uint8_t)LAYOUT_GED_START,
				  (uint8_t)(LAYOUT_GED_START >> 8),
				  (uint8_t)(LAYOUT_GED_START >> 16),
				  (uint8_t)(LAYOUT_GED_START >> 24),
				  0x0a,
				  GED_REG_LEN};
	g_assert_nonnull(memmem(d, len, region, sizeof(region)));

	/* Name (\_S5, Package (4) { ACPI_S5_SLP_TYP, 0, 0, 0 }) */
	const uint8_t s5[] = {0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, ACPI_S5_SLP_TYP,
			      0x00, 0x00, 0x00};
	g_assert_nonnull(memmem(d, len, s5, sizeof(s5)));
}

static void test_tables(gconstpointer data)
{
	const struct cpu_case *c = data;
	struct acpi_config cfg = {.n_cpus_boot = c->boot, .n_cpus_max = c->max, .serial = c->serial};
	g_autofree uint8_t *buf = g_malloc(LAYOUT_ACPI_SIZE);
	struct tables t;

	memset(buf, 0xcc, LAYOUT_ACPI_SIZE);
	build(&cfg, buf, LAYOUT_ACPI_SIZE, &t);
	check_fadt(&t);
	check_madt(&t, c);
	check_dsdt(&t);

	/* Same input, same bytes */
	g_autofree uint8_t *again = g_malloc0(LAYOUT_ACPI_SIZE);
	struct tables t2;
	build(&cfg, again, LAYOUT_ACPI_SIZE, &t2);
	g_assert_cmpmem(buf, t.used, again, t2.used);
}

/* Every size short of what the tables need fails cleanly without writing past the end. */
static void test_too_small(void)
{
	struct acpi_config cfg = {.n_cpus_boot = 2, .n_cpus_max = 8, .serial = true};
	g_autofree uint8_t *buf = g_malloc(LAYOUT_ACPI_SIZE);
	size_t used = 0, need;

	g_assert_cmpint(acpi_build(&cfg, LAYOUT_ACPI_START, buf, LAYOUT_ACPI_SIZE, &need), ==, 0);
	for (size_t size = 0; size < need; size++) {
		memset(buf, 0xcc, LAYOUT_ACPI_SIZE);
		g_assert_cmpint(acpi_build(&cfg, LAYOUT_ACPI_START, buf, size, &used), ==, -ENOSPC);
		for (size_t i = size; i < need + 64; i++)
			g_assert_cmpuint(buf[i], ==, 0xcc);
	}
	g_assert_cmpint(acpi_build(&cfg, LAYOUT_ACPI_START, buf, need, &used), ==, 0);
	g_assert_cmpuint(used, ==, need);
}

static void test_bad_config(void)
{
	uint8_t buf[4096];
	size_t used;
	const struct acpi_config bad[] = {
	    {.n_cpus_boot = 0, .n_cpus_max = 1},
	    {.n_cpus_boot = 3, .n_cpus_max = 2},
	    {.n_cpus_boot = 1, .n_cpus_max = ACPI_MAX_CPUS + 1},
	    {.n_cpus_boot = 1, .n_cpus_max = 1, .n_aml_sources = 1},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(acpi_build(&bad[i], LAYOUT_ACPI_START, buf, sizeof(buf), &used), ==,
				-EINVAL);
	const struct acpi_config ok = {.n_cpus_boot = 1, .n_cpus_max = 1};
	g_assert_cmpint(acpi_build(&ok, LAYOUT_ACPI_START + 8, buf, sizeof(buf), &used), ==, -EINVAL);
}

static int append_test_device(struct aml *a, void *userdata)
{
	aml_scope_begin(a, "\\_SB");
	aml_device_begin(a, userdata);
	aml_name_eisaid(a, "_HID", "PNP0C02");
	aml_end(a);
	return aml_end(a);
}

static int append_failing(struct aml *a, void *userdata)
{
	return -EIO;
}

static int append_unclosed(struct aml *a, void *userdata)
{
	return aml_device_begin(a, "\\_SB.OPEN");
}

static void test_aml_sources(void)
{
	g_autofree uint8_t *buf = g_malloc0(LAYOUT_ACPI_SIZE);
	const struct acpi_aml_source sources[] = {
	    {append_test_device, (void *)"TST0"},
	    {append_test_device, (void *)"TST1"},
	};
	struct acpi_config cfg = {
	    .n_cpus_boot = 1,
	    .n_cpus_max = 1,
	    .aml_sources = sources,
	    .n_aml_sources = G_N_ELEMENTS(sources),
	};
	struct tables t;
	size_t used;

	build(&cfg, buf, LAYOUT_ACPI_SIZE, &t);
	const uint8_t *d = t.buf + t.dsdt;
	g_assert_nonnull(memmem(d, rd32(d + 4), "TST0", 4));
	g_assert_nonnull(memmem(d, rd32(d + 4), "TST1", 4));

	const struct acpi_aml_source failing[] = {{append_failing, NULL}};
	cfg.aml_sources = failing;
	cfg.n_aml_sources = 1;
	g_assert_cmpint(acpi_build(&cfg, LAYOUT_ACPI_START, buf, LAYOUT_ACPI_SIZE, &used), ==, -EIO);

	const struct acpi_aml_source unclosed[] = {{append_unclosed, NULL}};
	cfg.aml_sources = unclosed;
	g_assert_cmpint(acpi_build(&cfg, LAYOUT_ACPI_START, buf, LAYOUT_ACPI_SIZE, &used), ==, -EINVAL);
}

/* iasl */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, data, (gssize)len, &error);
	g_assert_no_error(error);
}

/* Runs iasl in dir; returns whether it exited 0, with its output in *ret_output. */
static bool run_iasl(const char *iasl, const char *dir, const char *const *args, char **ret_output)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	int status = 0;

	g_ptr_array_add(argv, (char *)iasl);
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (char *)*a);
	g_ptr_array_add(argv, NULL);
	g_spawn_sync(dir, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
		     &error);
	g_assert_no_error(error);
	*ret_output = g_strconcat(out, err, NULL);
	return g_spawn_check_wait_status(status, NULL);
}

static void disassemble(const char *iasl, const char *dir, const char *file)
{
	const char *args[] = {"-d", file, NULL};
	g_autofree char *output = NULL;
	bool ok = run_iasl(iasl, dir, args, &output);

	if (!ok || strstr(output, "Error"))
		g_test_message("iasl -d %s:\n%s", file, output);
	g_assert_true(ok);
	g_assert_null(strstr(output, "Error"));
}

/* iasl releases before 2021 refuse to disassemble any RSDP file, even one they compiled from
 * their own template; only then is ours excused. */
static void disassemble_rsdp(const char *iasl, const char *dir)
{
	const char *ours[] = {"-d", "rsdp.dat", NULL};
	const char *template[] = {"-T", "RSDP", NULL};
	const char *compile[] = {"rsdp.asl", NULL};
	const char *reference[] = {"-d", "rsdp.aml", NULL};
	g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL;

	if (run_iasl(iasl, dir, ours, &o1) && !strstr(o1, "Error"))
		return;
	g_assert_true(run_iasl(iasl, dir, template, &o2));
	g_assert_true(run_iasl(iasl, dir, compile, &o3));
	if (run_iasl(iasl, dir, reference, &o4))
		g_error("iasl disassembles its own RSDP but not ours:\n%s", o1);
	g_test_message("this iasl cannot disassemble RSDP files; checked by offsets only");
}

/* Recompiling the disassembly must give our AML back, except the EndTag checksums, which iasl
 * leaves zero ("checksum OK" by definition) where we compute them. */
static void recompile_dsdt(const char *iasl, const char *dir, const uint8_t *dsdt, size_t len)
{
	const char *args[] = {"-on", "-p", "recompiled", "dsdt.dsl", NULL};
	g_autofree char *output = NULL, *path = NULL;
	g_autofree uint8_t *aml = NULL;
	g_autoptr(GError) error = NULL;
	size_t aml_len = 0;

	g_assert_true(run_iasl(iasl, dir, args, &output));
	path = g_build_filename(dir, "recompiled.aml", NULL);
	g_file_get_contents(path, (char **)&aml, &aml_len, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(aml_len, ==, len);
	for (size_t i = 36; i < len; i++) {
		if (aml[i] == dsdt[i])
			continue;
		if (aml[i] != 0 || dsdt[i - 1] != 0x79)
			g_error("recompiled DSDT differs at offset %zu: 0x%02x, ours 0x%02x", i, aml[i],
				dsdt[i]);
	}
}

static void test_iasl(gconstpointer data)
{
	const struct cpu_case *c = data;
	struct acpi_config cfg = {.n_cpus_boot = c->boot, .n_cpus_max = c->max, .serial = c->serial};
	g_autofree char *iasl = g_find_program_in_path("iasl");
	g_autofree uint8_t *buf = g_malloc0(LAYOUT_ACPI_SIZE);
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = NULL, *dsl_path = NULL, *dsl = NULL, *cpu = NULL;
	struct tables t;

	if (!iasl) {
		g_test_skip("iasl (acpica-tools) is not installed");
		return;
	}
	build(&cfg, buf, LAYOUT_ACPI_SIZE, &t);
	dir = g_dir_make_tmp("test-acpi-XXXXXX", &error);
	g_assert_no_error(error);

	write_file(dir, "rsdp.dat", buf, 36);
	write_file(dir, "xsdt.dat", buf + t.xsdt, rd32(buf + t.xsdt + 4));
	write_file(dir, "facp.dat", buf + t.fadt, rd32(buf + t.fadt + 4));
	write_file(dir, "apic.dat", buf + t.madt, rd32(buf + t.madt + 4));
	write_file(dir, "dsdt.dat", buf + t.dsdt, rd32(buf + t.dsdt + 4));

	disassemble_rsdp(iasl, dir);
	disassemble(iasl, dir, "xsdt.dat");
	disassemble(iasl, dir, "facp.dat");
	disassemble(iasl, dir, "apic.dat");
	disassemble(iasl, dir, "dsdt.dat");

	dsl_path = g_build_filename(dir, "dsdt.dsl", NULL);
	g_file_get_contents(dsl_path, &dsl, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(dsl, "Device (PWRB)"));
	g_assert_nonnull(strstr(dsl, "Device (GED)"));
	g_assert_nonnull(strstr(dsl, "Device (RTC)"));
	g_assert_nonnull(strstr(dsl, "_S5_"));
	g_assert_nonnull(strstr(dsl, "_EVT"));
	g_assert_nonnull(strstr(dsl, "Notify (\\_SB.PWRB, 0x80"));
	g_assert_nonnull(strstr(dsl, "0xFEB00000"));
	if (c->serial)
		g_assert_nonnull(strstr(dsl, "Device (COM1)"));
	else
		g_assert_null(strstr(dsl, "COM1"));
	cpu = g_strdup_printf("Device (CP%02X)", c->max - 1);
	g_assert_nonnull(strstr(dsl, cpu));
	g_free(cpu);
	cpu = g_strdup_printf("Device (CP%02X)", c->max);
	g_assert_null(strstr(dsl, cpu));

	recompile_dsdt(iasl, dir, buf + t.dsdt, rd32(buf + t.dsdt + 4));

	g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
	g_assert_no_error(error);
	for (const char *name; (name = g_dir_read_name(d));) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *tables = g_strdup_printf("/acpi/tables/%s", cases[i].name);
		g_autofree char *iasl = g_strdup_printf("/acpi/iasl/%s", cases[i].name);
		g_test_add_data_func(tables, &cases[i], test_tables);
		g_test_add_data_func(iasl, &cases[i], test_iasl);
	}
	g_test_add_func("/acpi/too-small", test_too_small);
	g_test_add_func("/acpi/bad-config", test_bad_config);
	g_test_add_func("/acpi/aml-sources", test_aml_sources);
	return g_test_run();
}
