/* SPDX-License-Identifier: Apache-2.0 */
/* Golden definitions: every good/NAME.xml canonicalises (with a seeded random source) to exactly
 * good/NAME.out.xml and gives the worker command line good/NAME.argv; canonical output is a fixed
 * point; every bad/NAME.xml is refused with exactly the message in bad/NAME.err. Run with
 * CHD_REGENERATE_GOLDEN=1 to rewrite the expected files after a deliberate change, then review the
 * diff. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "domain.h"

#include <glib.h>

#define DATA_DIR TEST_SRCDIR "/data/domain"
#define EXAMPLES_DIR TEST_SRCDIR "/../../schemas/examples"

static uint32_t xorshift(void *userdata)
{
	uint32_t *s = userdata;

	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static bool regenerate(void)
{
	return g_strcmp0(g_getenv("CHD_REGENERATE_GOLDEN"), "1") == 0;
}

static void check_golden(const char *path, const char *actual)
{
	g_autofree char *expected = NULL;
	g_autoptr(GError) err = NULL;

	if (regenerate()) {
		g_assert_true(g_file_set_contents(path, actual, -1, &err));
		return;
	}
	if (!g_file_get_contents(path, &expected, NULL, &err))
		g_error("%s: %s (run with CHD_REGENERATE_GOLDEN=1 to create it)", path, err->message);
	g_assert_cmpstr(actual, ==, expected);
}

static char *canonical_xml(const char *xml, size_t len, uint32_t seed)
{
	_cleanup_(domain_def_freep) struct domain_def *def = NULL;
	struct domain_random rnd = {xorshift, &seed};
	g_autofree char *err = NULL;
	char *out = NULL;

	g_assert_cmpint(domain_def_parse(xml, len, &def, &err), ==, 0);
	g_assert_null(err);
	g_assert_cmpint(domain_def_canonicalize(def, &rnd, &err), ==, 0);
	g_assert_cmpint(domain_def_format(def, &out), ==, 0);
	return out;
}

static void test_good(gconstpointer data)
{
	const char *name = data;
	g_autofree char *in = g_strdup_printf("%s/good/%s.xml", DATA_DIR, name);
	g_autofree char *out_path = g_strdup_printf("%s/good/%s.out.xml", DATA_DIR, name);
	g_autofree char *argv_path = g_strdup_printf("%s/good/%s.argv", DATA_DIR, name);
	g_autofree char *xml = NULL, *out = NULL, *again = NULL, *err = NULL, *joined = NULL,
			*argv_text = NULL;
	g_autofree char *vsock = g_strdup_printf("/run/chd/vms/%s/vsock.sock", name);
	_cleanup_(domain_def_freep) struct domain_def *def = NULL;
	g_auto(GStrv) argv = NULL;
	struct domain_argv_options opts = {.vsock_socket = vsock};
	gsize len;

	g_assert_true(g_file_get_contents(in, &xml, &len, NULL));
	out = canonical_xml(xml, len, 1);
	check_golden(out_path, out);

	/* Canonical output is a fixed point, whatever the random source would say. */
	again = canonical_xml(out, strlen(out), 99);
	g_assert_cmpstr(again, ==, out);

	g_assert_cmpint(domain_def_parse(out, strlen(out), &def, &err), ==, 0);
	g_assert_cmpint(domain_def_to_argv(def, &opts, &argv, &err), ==, 0);
	g_assert_null(err);
	joined = g_strjoinv("\n", argv);
	argv_text = g_strconcat(joined, "\n", NULL);
	check_golden(argv_path, argv_text);
}

static void test_bad(gconstpointer data)
{
	const char *name = data;
	g_autofree char *in = g_strdup_printf("%s/bad/%s.xml", DATA_DIR, name);
	g_autofree char *err_path = g_strdup_printf("%s/bad/%s.err", DATA_DIR, name);
	g_autofree char *xml = NULL, *err = NULL, *line = NULL;
	_cleanup_(domain_def_freep) struct domain_def *def = NULL;
	gsize len;

	g_assert_true(g_file_get_contents(in, &xml, &len, NULL));
	g_assert_cmpint(domain_def_parse(xml, len, &def, &err), ==, -EINVAL);
	g_assert_null(def);
	g_assert_nonnull(err);
	line = g_strconcat(err, "\n", NULL);
	check_golden(err_path, line);
}

/* Shipped examples (schemas/examples) define as they are. */
static void test_example(gconstpointer data)
{
	g_autofree char *in = g_strdup_printf("%s/%s.xml", EXAMPLES_DIR, (const char *)data);
	g_autofree char *xml = NULL, *out = NULL;
	gsize len;

	g_assert_true(g_file_get_contents(in, &xml, &len, NULL));
	out = canonical_xml(xml, len, 7);
	g_assert_nonnull(strstr(out, "<address type=\"pci\""));
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_tests(const char *dir_path, const char *kind, GTestDataFunc fn)
{
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	const char *e;

	g_assert_nonnull(dir);
	while ((e = g_dir_read_name(dir))) {
		if (!g_str_has_suffix(e, ".xml") || g_str_has_suffix(e, ".out.xml"))
			continue;
		g_ptr_array_add(names, g_strndup(e, strlen(e) - 4));
	}
	g_ptr_array_sort(names, compare_strings);
	g_assert_cmpuint(names->len, >, 0);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *test = g_strdup_printf("/domain/%s/%s", kind, (char *)names->pdata[i]);
		g_test_add_data_func_full(test, names->pdata[i], fn, g_free);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_tests(DATA_DIR "/good", "good", test_good);
	add_tests(DATA_DIR "/bad", "bad", test_bad);
	add_tests(EXAMPLES_DIR, "example", test_example);
	return g_test_run();
}
