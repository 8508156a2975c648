/* SPDX-License-Identifier: Apache-2.0 */
/* AML encodings checked byte for byte. Expected bytes come from the ACPI 6.5 grammar (chapter 20)
 * and the resource descriptor layouts (6.4); the longer sequences were cross-checked against
 * what iasl 20200925 emits for the same ASL with namepath optimisation off (-on). */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "acpi/aml.h"

typedef struct aml Aml;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Aml, aml_free)

static struct aml *aml_new_or_die(void)
{
	struct aml *a = NULL;
	g_assert_cmpint(aml_new(&a), ==, 0);
	g_assert_nonnull(a);
	return a;
}

static void assert_aml(const struct aml *a, const void *expected, size_t n)
{
	const uint8_t *data = NULL;
	size_t size = 0;

	g_assert_cmpint(aml_get(a, &data, &size), ==, 0);
	g_assert_cmpmem(data, size, expected, n);
}

#define ASSERT_AML(a, ...)                                                                                  \
	do {                                                                                                \
		const uint8_t _expected[] = {__VA_ARGS__};                                                  \
		assert_aml(a, _expected, sizeof(_expected));                                                \
	} while (0)

/* For sequences that are mostly names: a string literal without its NUL. */
#define ASSERT_AML_STR(a, s) assert_aml(a, s, sizeof(s) - 1)

static void test_pkglength_raw(void)
{
	static const struct {
		uint32_t value;
		uint8_t bytes[4];
		size_t n;
	} cases[] = {
	    {0, {0x00}, 1},
	    {63, {0x3f}, 1},	   /* largest one-byte encoding */
	    {64, {0x40, 0x04}, 2}, /* low nibble in the lead byte */
	    {0x1ff, {0x4f, 0x1f}, 2},
	    {4095, {0x4f, 0xff}, 2}, /* largest two-byte encoding */
	    {4096, {0x80, 0x00, 0x01}, 3},
	    {0xfffff, {0x8f, 0xff, 0xff}, 3},
	    {0x100000, {0xc0, 0x00, 0x00, 0x01}, 4},
	    {0x0fffffff, {0xcf, 0xff, 0xff, 0xff}, 4}, /* the maximum */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Aml) a = aml_new_or_die();
		g_assert_cmpint(aml_pkglength(a, cases[i].value), ==, 0);
		assert_aml(a, cases[i].bytes, cases[i].n);
	}

	g_autoptr(Aml) a = aml_new_or_die();
	g_assert_cmpint(aml_pkglength(a, 0x10000000), ==, -E2BIG);
	g_assert_cmpint(aml_error(a), ==, -E2BIG);
}

/* A PkgLength counts its own bytes, so the step to a longer encoding comes one body byte early:
 * Package () with NumElements 0 and n filler bytes has a body of n + 1. */
static void check_package_pkglength(size_t filler, const uint8_t *head, size_t head_len)
{
	g_autoptr(Aml) a = aml_new_or_die();
	g_autofree uint8_t *fill = g_malloc0(filler);
	const uint8_t *data;
	size_t size;

	memset(fill, 0xa3, filler); /* NoopOp */
	g_assert_cmpint(aml_package_begin(a, 0), ==, 0);
	g_assert_cmpint(aml_append_raw(a, fill, filler), ==, 0);
	g_assert_cmpint(aml_end(a), ==, 0);
	g_assert_cmpint(aml_get(a, &data, &size), ==, 0);
	g_assert_cmpuint(size, ==, 1 + head_len + 1 + filler);
	g_assert_cmpuint(data[0], ==, 0x12);
	g_assert_cmpmem(data + 1, head_len, head, head_len);
	g_assert_cmpuint(data[1 + head_len], ==, 0);
}

static void test_pkglength_objects(void)
{
	/* body 62 + 1 byte of PkgLength = 63 */
	check_package_pkglength(61, (const uint8_t[]){0x3f}, 1);
	/* body 63 no longer fits one byte: 63 + 2 = 65 */
	check_package_pkglength(62, (const uint8_t[]){0x41, 0x04}, 2);
	/* body 4093 + 2 = 4095 */
	check_package_pkglength(4092, (const uint8_t[]){0x4f, 0xff}, 2);
	/* body 4094 + 2 = 4096 needs three bytes: 4094 + 3 = 4097 */
	check_package_pkglength(4093, (const uint8_t[]){0x81, 0x00, 0x01}, 3);
}

static void test_integers(void)
{
	static const struct {
		uint64_t v;
		uint8_t bytes[9];
		size_t n;
	} cases[] = {
	    {0, {0x00}, 1},	  /* ZeroOp */
	    {1, {0x01}, 1},	  /* OneOp */
	    {2, {0x0a, 0x02}, 2}, /* BytePrefix */
	    {0xff, {0x0a, 0xff}, 2},
	    {0x100, {0x0b, 0x00, 0x01}, 3}, /* WordPrefix */
	    {0xffff, {0x0b, 0xff, 0xff}, 3},
	    {0x10000, {0x0c, 0x00, 0x00, 0x01, 0x00}, 5}, /* DWordPrefix */
	    {0xfeb00000, {0x0c, 0x00, 0x00, 0xb0, 0xfe}, 5},
	    {0xffffffff, {0x0c, 0xff, 0xff, 0xff, 0xff}, 5},
	    {0x100000000, {0x0e, 0, 0, 0, 0, 1, 0, 0, 0}, 9}, /* QWordPrefix */
	    {UINT64_MAX, {0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Aml) a = aml_new_or_die();
		g_assert_cmpint(aml_integer(a, cases[i].v), ==, 0);
		assert_aml(a, cases[i].bytes, cases[i].n);
	}

	g_autoptr(Aml) a = aml_new_or_die();
	g_assert_cmpint(aml_dword(a, 1), ==, 0);
	g_assert_cmpint(aml_qword(a, 2), ==, 0);
	ASSERT_AML(a, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x02, 0, 0, 0, 0, 0, 0, 0);
}

static void test_strings(void)
{
	g_autoptr(Aml) a = aml_new_or_die();
	g_assert_cmpint(aml_string(a, "ACPI0013"), ==, 0);
	g_assert_cmpint(aml_string(a, ""), ==, 0);
	ASSERT_AML_STR(a, "\x0d"
			  "ACPI0013\0"
			  "\x0d\0");

	g_autoptr(Aml) b = aml_new_or_die();
	g_assert_cmpint(aml_string(b, "caf\xc3\xa9"), ==, -EINVAL);
}

static void test_name_strings(void)
{
	static const struct {
		const char *path;
		const char *bytes;
		size_t n;
	} cases[] = {
	    {"_SB", "_SB_", 4},
	    {"PWRB", "PWRB", 4},
	    {"\\_SB", "\\_SB_", 5},
	    {"\\", "\\\0", 2},			  /* RootChar NullName */
	    {"", "\0", 1},			  /* NullName */
	    {"^^PWRB", "^^PWRB", 6},		  /* ParentPrefixChar */
	    {"\\_SB.PCI0", "\\\x2e_SB_PCI0", 10}, /* DualNamePrefix */
	    {"^_SB.A", "^\x2e_SB_A___", 10},
	    {"\\_SB.PCI0.S00", "\\\x2f\x03_SB_PCI0S00_", 15}, /* MultiNamePrefix SegCount */
	    {"A.B.C.D",
	     "\x2f\x04"
	     "A___B___C___D___",
	     18},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Aml) a = aml_new_or_die();
		g_assert_cmpint(aml_name_string(a, cases[i].path), ==, 0);
		assert_aml(a, cases[i].bytes, cases[i].n);
	}

	static const char *const invalid[] = {
	    "_sb", "TOOLONG", "\\_SB.", "1ABC", "A..B", "\\^A", "A-B", ".A", "^\\A", "\\_SB.PCI0.",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
		g_autoptr(Aml) a = aml_new_or_die();
		g_assert_cmpint(aml_name_string(a, invalid[i]), ==, -EINVAL);
	}
}

static void test_eisaid(void)
{
	g_autoptr(Aml) a = aml_new_or_die();

	g_assert_cmpint(aml_eisaid(a, "PNP0501"), ==, 0);
	g_assert_cmpint(aml_eisaid(a, "PNP0C0C"), ==, 0);
	g_assert_cmpint(aml_eisaid(a, "PNP0B00"), ==, 0);
	g_assert_cmpint(aml_eisaid(a, "PNP0A08"), ==, 0);
	ASSERT_AML(a, 0x0c, 0x41, 0xd0, 0x05, 0x01, 0x0c, 0x41, 0xd0, 0x0c, 0x0c, 0x0c, 0x41, 0xd0, 0x0b,
		   0x00, 0x0c, 0x41, 0xd0, 0x0a, 0x08);

	static const char *const invalid[] = {"PNP050", "pnp0501", "PNP05G1", "PNP05011", "P1P0501"};
	for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
		g_autoptr(Aml) b = aml_new_or_die();
		g_assert_cmpint(aml_eisaid(b, invalid[i]), ==, -EINVAL);
	}
}

static void test_locals_args(void)
{
	g_autoptr(Aml) a = aml_new_or_die();

	g_assert_cmpint(aml_local(a, 0), ==, 0);
	g_assert_cmpint(aml_local(a, 7), ==, 0);
	g_assert_cmpint(aml_arg(a, 0), ==, 0);
	g_assert_cmpint(aml_arg(a, 6), ==, 0);
	ASSERT_AML(a, 0x60, 0x67, 0x68, 0x6e);
	g_assert_cmpint(aml_local(a, 8), ==, -EINVAL);

	g_autoptr(Aml) b = aml_new_or_die();
	g_assert_cmpint(aml_arg(b, 7), ==, -EINVAL);
}

static void test_named_objects(void)
{
	g_autoptr(Aml) a = aml_new_or_die();

	/* Device (\_SB.COM1) { Name (_UID, Zero) } */
	aml_device_begin(a, "\\_SB.COM1");
	aml_name_integer(a, "_UID", 0);
	g_assert_cmpint(aml_end(a), ==, 0);
	ASSERT_AML_STR(a, "\x5b\x82\x11\\\x2e_SB_COM1\x08_UID\0");

	/* Method (_STA, 0, NotSerialized) { Return (0x0F) } */
	g_autoptr(Aml) m = aml_new_or_die();
	aml_method_begin(m, "_STA", 0, false);
	aml_return(m);
	aml_integer(m, 0x0f);
	g_assert_cmpint(aml_end(m), ==, 0);
	ASSERT_AML_STR(m, "\x14\x09_STA\0\xa4\x0a\x0f");

	/* Scope (\_SB) { Name (_HID, EisaId ("PNP0C0C")) ; Name (_STR, "x") } */
	g_autoptr(Aml) s = aml_new_or_die();
	aml_scope_begin(s, "\\_SB");
	aml_name_eisaid(s, "_HID", "PNP0C0C");
	aml_name_str(s, "_STR", "x");
	g_assert_cmpint(aml_end(s), ==, 0);
	ASSERT_AML_STR(s, "\x10\x18\\_SB_\x08_HID\x0c\x41\xd0\x0c\x0c\x08_STR\x0dx\0");

	/* Name (_S5, Package (0x04) { 0x05, Zero, Zero, Zero }) */
	g_autoptr(Aml) p = aml_new_or_die();
	aml_name(p, "_S5");
	aml_package_begin(p, 4);
	aml_integer(p, 5);
	aml_integer(p, 0);
	aml_integer(p, 0);
	aml_integer(p, 0);
	g_assert_cmpint(aml_end(p), ==, 0);
	ASSERT_AML_STR(p, "\x08_S5_\x12\x07\x04\x0a\x05\0\0\0");

	g_autoptr(Aml) b = aml_new_or_die();
	g_assert_cmpint(aml_buffer(b, "\x01\x02\x03", 3), ==, 0);
	ASSERT_AML(b, 0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03);
}

static void test_region_field(void)
{
	g_autoptr(Aml) a = aml_new_or_die();

	/* OperationRegion (GDST, SystemMemory, 0xFEB00000, 0x08)
	 * Field (GDST, DWordAcc, NoLock, WriteAsZeros) { , 8, GDAT, 32 } */
	aml_operation_region(a, "GDST", AML_REGION_SYSTEM_MEMORY, 0xfeb00000, 8);
	aml_field_begin(a, "GDST", AML_FIELD_DWORD_ACC | AML_FIELD_WRITE_AS_ZEROS);
	aml_field_reserved(a, 8);
	aml_field_entry(a, "GDAT", 32);
	g_assert_cmpint(aml_end(a), ==, 0);
	ASSERT_AML_STR(a, "\x5b\x80GDST\0\x0c\0\0\xb0\xfe\x0a\x08"
			  "\x5b\x81\x0dGDST\x43\0\x08GDAT\x20");

	g_autoptr(Aml) io = aml_new_or_die();
	aml_operation_region(io, "PMIO", AML_REGION_SYSTEM_IO, 0x600, 4);
	ASSERT_AML_STR(io, "\x5b\x80PMIO\x01\x0b\0\x06\x0a\x04");

	/* Field entries are NameSegs and only live inside a Field. */
	g_autoptr(Aml) b = aml_new_or_die();
	g_assert_cmpint(aml_field_entry(b, "GDAT", 32), ==, -EINVAL);
	g_autoptr(Aml) c = aml_new_or_die();
	aml_field_begin(c, "GDST", AML_FIELD_BYTE_ACC);
	g_assert_cmpint(aml_field_entry(c, "\\GDAT", 32), ==, -EINVAL);
}

static void test_control_flow(void)
{
	g_autoptr(Aml) a = aml_new_or_die();

	/* If (((Local0 & One) == One)) { Notify (\_SB.PWRB, 0x80) } */
	aml_if_begin(a);
	aml_lequal(a);
	aml_and(a);
	aml_local(a, 0);
	aml_integer(a, 1);
	aml_null_target(a);
	aml_integer(a, 1);
	aml_notify(a);
	aml_name_string(a, "\\_SB.PWRB");
	aml_integer(a, 0x80);
	g_assert_cmpint(aml_end(a), ==, 0);
	ASSERT_AML_STR(a, "\xa0\x14\x93\x7b\x60\x01\0\x01\x86\\\x2e_SB_PWRB\x0a\x80");

	/* Mutex (MLCK, 0)
	 * Method (TST, 1, Serialized) {
	 *     Acquire (MLCK, 0xFFFF)
	 *     Local1 = (Arg0 << 2)
	 *     Local2 = (Local1 + 3)
	 *     Local1 = Local2
	 *     Local0 = 0
	 *     While (Local0 < 4) { Local0++ }
	 *     If (LNot (Arg0)) { Return (1) } Else { Return (2) }
	 *     Release (MLCK)
	 * } */
	g_autoptr(Aml) m = aml_new_or_die();
	aml_mutex(m, "MLCK", 0);
	aml_method_begin(m, "TST", 1, true);
	aml_acquire(m, "MLCK", 0xffff);
	aml_shift_left(m);
	aml_arg(m, 0);
	aml_integer(m, 2);
	aml_local(m, 1);
	aml_add(m);
	aml_local(m, 1);
	aml_integer(m, 3);
	aml_local(m, 2);
	aml_store(m);
	aml_local(m, 2);
	aml_local(m, 1);
	aml_store(m);
	aml_integer(m, 0);
	aml_local(m, 0);
	aml_while_begin(m);
	aml_lless(m);
	aml_local(m, 0);
	aml_integer(m, 4);
	aml_increment(m);
	aml_local(m, 0);
	aml_end(m);
	aml_if_begin(m);
	aml_lnot(m);
	aml_arg(m, 0);
	aml_return(m);
	aml_integer(m, 1);
	aml_end(m);
	aml_else_begin(m);
	aml_return(m);
	aml_integer(m, 2);
	aml_end(m);
	aml_release(m, "MLCK");
	g_assert_cmpint(aml_end(m), ==, 0);
	ASSERT_AML_STR(m, "\x5b\x01MLCK\0"
			  "\x14\x37TST_\x09"
			  "\x5b\x23MLCK\xff\xff"
			  "\x79\x68\x0a\x02\x61"
			  "\x72\x61\x0a\x03\x62"
			  "\x70\x62\x61"
			  "\x70\x00\x60"
			  "\xa2\x07\x95\x60\x0a\x04\x75\x60"
			  "\xa0\x05\x92\x68\xa4\x01"
			  "\xa1\x04\xa4\x0a\x02"
			  "\x5b\x27MLCK");
}

static void test_resource_template_legacy(void)
{
	g_autoptr(Aml) a = aml_new_or_die();

	/* ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 0x01, 0x08) IRQNoFlags () {4} } */
	aml_resource_template_begin(a);
	aml_rt_io(a, 0x3f8, 0x3f8, 1, 8);
	aml_rt_irq_noflags(a, 4);
	g_assert_cmpint(aml_end(a), ==, 0);
	/* EndTag checksum: 0x100 - (sum of the descriptors and 0x79) mod 0x100 */
	ASSERT_AML(a, 0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10,
		   0x00, 0x79, 0x0e);

	/* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {9} */
	g_autoptr(Aml) b = aml_new_or_die();
	const uint32_t irq = 9;
	aml_resource_template_begin(b);
	aml_rt_interrupt(b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, &irq, 1);
	g_assert_cmpint(aml_end(b), ==, 0);
	ASSERT_AML(b, 0x11, 0x0e, 0x0a, 0x0b, 0x89, 0x06, 0x00, 0x03, 0x01, 0x09, 0x00, 0x00, 0x00, 0x79,
		   0xeb);

	/* Memory32Fixed (ReadWrite, 0xFEB00000, 0x1000)
	 * Interrupt (ResourceConsumer, Level, ActiveLow, Shared) {5, 6} */
	g_autoptr(Aml) c = aml_new_or_die();
	const uint32_t irqs[] = {5, 6};
	const uint8_t *data;
	size_t size;
	aml_resource_template_begin(c);
	aml_rt_memory32_fixed(c, true, 0xfeb00000, 0x1000);
	aml_rt_interrupt(c, AML_IRQ_CONSUMER | AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED, irqs, 2);
	g_assert_cmpint(aml_end(c), ==, 0);
	g_assert_cmpint(aml_get(c, &data, &size), ==, 0);
	const uint8_t expected[] = {0x11, 0x1e, 0x0a, 0x1b, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00,
				    0xb0, 0xfe, 0x00, 0x10, 0x00, 0x00, 0x89, 0x0a, 0x00, 0x0d,
				    0x02, 0x05, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x79};
	g_assert_cmpuint(size, ==, sizeof(expected) + 1);
	g_assert_cmpmem(data, sizeof(expected), expected, sizeof(expected));
	uint8_t sum = 0;
	for (size_t i = 4; i < size; i++)
		sum = (uint8_t)(sum + data[i]);
	g_assert_cmpuint(sum, ==, 0);
}

static void test_resource_template_address(void)
{
	g_autoptr(Aml) a = aml_new_or_die();
	const uint8_t *data;
	size_t size;

	/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xFF, 0, 0x100) */
	aml_resource_template_begin(a);
	g_assert_cmpint(aml_rt_word_address(a,
					    &(struct aml_addr_space){
						.type = AML_ADDR_BUS_NUMBER,
						.general_flags = AML_ADDR_MIN_FIXED | AML_ADDR_MAX_FIXED,
						.max = 0xff,
						.length = 0x100,
					    }),
			==, 0);
	/* DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
	 *              0, 0xC0000000, 0xDFFFFFFF, 0, 0x20000000) */
	g_assert_cmpint(aml_rt_dword_address(a,
					     &(struct aml_addr_space){
						 .type = AML_ADDR_MEMORY,
						 .general_flags = AML_ADDR_MIN_FIXED | AML_ADDR_MAX_FIXED,
						 .type_flags = AML_ADDR_MEM_RW,
						 .min = 0xc0000000,
						 .max = 0xdfffffff,
						 .length = 0x20000000,
					     }),
			==, 0);
	/* QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Prefetchable, ReadWrite,
	 *              0, 0x100000000, 0x1FFFFFFFF, 0, 0x100000000) */
	g_assert_cmpint(aml_rt_qword_address(a,
					     &(struct aml_addr_space){
						 .type = AML_ADDR_MEMORY,
						 .general_flags = AML_ADDR_MIN_FIXED | AML_ADDR_MAX_FIXED,
						 .type_flags = AML_ADDR_MEM_RW | AML_ADDR_MEM_PREFETCHABLE,
						 .min = 0x100000000,
						 .max = 0x1ffffffff,
						 .length = 0x100000000,
					     }),
			==, 0);
	/* DWordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
	 *          0, 0x0D00, 0xFFFF, 0, 0xF300) */
	g_assert_cmpint(aml_rt_dword_address(a,
					     &(struct aml_addr_space){
						 .type = AML_ADDR_IO,
						 .general_flags = AML_ADDR_MIN_FIXED | AML_ADDR_MAX_FIXED,
						 .type_flags = AML_ADDR_IO_ENTIRE_RANGE,
						 .min = 0x0d00,
						 .max = 0xffff,
						 .length = 0xf300,
					     }),
			==, 0);
	g_assert_cmpint(aml_end(a), ==, 0);
	g_assert_cmpint(aml_get(a, &data, &size), ==, 0);

	const uint8_t expected[] = {
	    0x11,
	    0x48,
	    0x07,
	    0x0a,
	    0x74,
	    /* WordBusNumber */
	    0x88,
	    0x0d,
	    0x00,
	    0x02,
	    0x0c,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0xff,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x01,
	    /* DWordMemory */
	    0x87,
	    0x17,
	    0x00,
	    0x00,
	    0x0c,
	    0x01,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0xc0,
	    0xff,
	    0xff,
	    0xff,
	    0xdf,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x20,
	    /* QWordMemory */
	    0x8a,
	    0x2b,
	    0x00,
	    0x00,
	    0x0c,
	    0x07,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x01,
	    0x00,
	    0x00,
	    0x00,
	    0xff,
	    0xff,
	    0xff,
	    0xff,
	    0x01,
	    0x00,
	    0x00,
	    0x00,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x01,
	    0x00,
	    0x00,
	    0x00,
	    /* DWordIO */
	    0x87,
	    0x17,
	    0x00,
	    0x01,
	    0x0c,
	    0x03,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x0d,
	    0x00,
	    0x00,
	    0xff,
	    0xff,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0xf3,
	    0x00,
	    0x00,
	    /* EndTag */
	    0x79,
	};
	g_assert_cmpuint(size, ==, sizeof(expected) + 1);
	g_assert_cmpmem(data, sizeof(expected), expected, sizeof(expected));
	uint8_t sum = 0;
	for (size_t i = 5; i < size; i++)
		sum = (uint8_t)(sum + data[i]);
	g_assert_cmpuint(sum, ==, 0);

	/* Values must fit the descriptor's width. */
	g_autoptr(Aml) b = aml_new_or_die();
	aml_resource_template_begin(b);
	g_assert_cmpint(aml_rt_dword_address(b, &(struct aml_addr_space){.max = 0x100000000}), ==, -ERANGE);
}

static void test_large_buffer(void)
{
	g_autoptr(Aml) a = aml_new_or_die();
	g_autofree uint8_t *payload = g_malloc(5000);
	const uint8_t *data;
	size_t size;

	memset(payload, 0x5a, 5000);
	g_assert_cmpint(aml_buffer(a, payload, 5000), ==, 0);
	g_assert_cmpint(aml_get(a, &data, &size), ==, 0);
	/* body = WordConst 5000 (3 bytes) + 5000; with a 3-byte PkgLength: 5006 = 0x138e */
	g_assert_cmpuint(size, ==, 1 + 3 + 3 + 5000);
	g_assert_cmpmem(data, 7, ((const uint8_t[]){0x11, 0x8e, 0x38, 0x01, 0x0b, 0x88, 0x13}), 7);
	g_assert_cmpmem(data + 7, 5000, payload, 5000);
}

static void test_nesting(void)
{
	g_autoptr(Aml) a = aml_new_or_die();
	g_autoptr(Aml) frag = aml_new_or_die();

	/* A device builds its fragment on its own and hands it over. */
	aml_device_begin(frag, "DEV0");
	aml_name_integer(frag, "_ADR", 0x10000);
	g_assert_cmpint(aml_end(frag), ==, 0);

	aml_scope_begin(a, "\\_SB");
	g_assert_cmpint(aml_append_aml(a, frag), ==, 0);
	g_assert_cmpint(aml_end(a), ==, 0);
	ASSERT_AML_STR(a, "\x10\x17\\_SB_\x5b\x82\x0f"
			  "DEV0\x08_ADR\x0c\0\0\x01\0");
}

static void test_errors(void)
{
	const uint8_t *data;
	size_t size;

	/* Closing what is not open */
	g_autoptr(Aml) a = aml_new_or_die();
	g_assert_cmpint(aml_end(a), ==, -EINVAL);

	/* Open objects cannot be read out or appended elsewhere */
	g_autoptr(Aml) b = aml_new_or_die();
	g_autoptr(Aml) c = aml_new_or_die();
	aml_scope_begin(b, "\\_SB");
	g_assert_cmpint(aml_get(b, &data, &size), ==, -EBUSY);
	g_assert_cmpint(aml_append_aml(c, b), ==, -EBUSY);
	g_assert_cmpint(aml_error(c), ==, -EBUSY);

	/* Resource descriptors only inside a ResourceTemplate */
	g_autoptr(Aml) d = aml_new_or_die();
	g_assert_cmpint(aml_rt_io(d, 0x70, 0x70, 1, 2), ==, -EINVAL);
	g_autoptr(Aml) e = aml_new_or_die();
	aml_buffer_begin(e);
	g_assert_cmpint(aml_rt_irq_noflags(e, 4), ==, -EINVAL);
	g_autoptr(Aml) f = aml_new_or_die();
	aml_resource_template_begin(f);
	g_assert_cmpint(aml_rt_irq_noflags(f, 16), ==, -EINVAL);

	/* The first error sticks and nothing more is appended. */
	g_autoptr(Aml) g = aml_new_or_die();
	g_assert_cmpint(aml_integer(g, 7), ==, 0);
	g_assert_cmpint(aml_name_string(g, "bad"), ==, -EINVAL);
	g_assert_cmpint(aml_integer(g, 8), ==, -EINVAL);
	g_assert_cmpint(aml_get(g, &data, &size), ==, -EINVAL);
	g_assert_cmpint(aml_error(g), ==, -EINVAL);

	/* Bounded nesting and argument counts */
	g_autoptr(Aml) h = aml_new_or_die();
	int r = 0;
	for (unsigned i = 0; i < 1000 && r == 0; i++)
		r = aml_if_begin(h);
	g_assert_cmpint(r, ==, -E2BIG);
	g_autoptr(Aml) m = aml_new_or_die();
	g_assert_cmpint(aml_method_begin(m, "TOOM", 8, false), ==, -EINVAL);
	g_autoptr(Aml) p = aml_new_or_die();
	g_assert_cmpint(aml_package_begin(p, 256), ==, -EINVAL);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aml/pkglength/raw", test_pkglength_raw);
	g_test_add_func("/aml/pkglength/objects", test_pkglength_objects);
	g_test_add_func("/aml/integers", test_integers);
	g_test_add_func("/aml/strings", test_strings);
	g_test_add_func("/aml/name-strings", test_name_strings);
	g_test_add_func("/aml/eisaid", test_eisaid);
	g_test_add_func("/aml/locals-args", test_locals_args);
	g_test_add_func("/aml/named-objects", test_named_objects);
	g_test_add_func("/aml/region-field", test_region_field);
	g_test_add_func("/aml/control-flow", test_control_flow);
	g_test_add_func("/aml/resource-template/legacy", test_resource_template_legacy);
	g_test_add_func("/aml/resource-template/address", test_resource_template_address);
	g_test_add_func("/aml/large-buffer", test_large_buffer);
	g_test_add_func("/aml/nesting", test_nesting);
	g_test_add_func("/aml/errors", test_errors);
	return g_test_run();
}
