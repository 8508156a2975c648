/* SPDX-License-Identifier: Apache-2.0 */
/* The names chd gives systemd: unit names of workers (systemd-escape's rules, so that
 * `systemctl status chd-vm-$(systemd-escape NAME).service` finds them) and machine names. */
#include <glib.h>

#include "worker.h"

static void test_escape(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"web1", "web1"},
	    {"db_2.example", "db_2.example"},
	    {"a-b", "a\\x2db"},
	    {"c++", "c\\x2b\\x2b"},
	    {".hidden", "\\x2ehidden"},
	    {"a/b", "a-b"},
	    {"x:y", "x:y"},
	    {"ü", "\\xc3\\xbc"},
	    {"", ""},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = NULL;

		g_assert_cmpint(unit_name_escape(cases[i].in, &out), ==, 0);
		g_assert_cmpstr(out, ==, cases[i].out);
	}
}

static void test_unit_name(void)
{
	g_autofree char *unit = NULL;

	g_assert_cmpint(worker_unit_name("web-1", &unit), ==, 0);
	g_assert_cmpstr(unit, ==, "chd-vm-web\\x2d1.service");
}

/* systemd-escape itself, where it is installed, agrees with us. */
static void test_escape_matches_systemd(void)
{
	const char *names[] = {"web1", "a-b", "c++", ".hidden", "x:y", "db_2.example"};
	g_autofree char *tool = g_find_program_in_path("systemd-escape");

	if (!tool) {
		g_test_skip("systemd-escape is not installed");
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *ours = NULL;
		g_autofree char *theirs = NULL;
		g_autoptr(GError) error = NULL;
		const char *argv[] = {tool, "--", names[i], NULL};
		int status = 0;

		g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
					   &theirs, NULL, &status, &error));
		g_assert_no_error(error);
		g_assert_cmpint(status, ==, 0);
		g_assert_cmpint(unit_name_escape(names[i], &ours), ==, 0);
		g_assert_cmpstr(ours, ==, g_strchomp(theirs));
	}
}

static void test_machine_name(void)
{
	g_assert_true(machined_name_is_valid("web1"));
	g_assert_true(machined_name_is_valid("db-2.example_x"));
	g_assert_false(machined_name_is_valid("c++"));
	g_assert_false(machined_name_is_valid(""));
	g_assert_false(machined_name_is_valid(".a"));
	g_assert_false(machined_name_is_valid("a."));
	g_assert_false(machined_name_is_valid("a..b"));
	g_assert_true(
	    machined_name_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));
	g_assert_false(
	    machined_name_is_valid("01234567890123456789012345678901234567890123456789012345678901234"));
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chd/unit/escape", test_escape);
	g_test_add_func("/chd/unit/name", test_unit_name);
	g_test_add_func("/chd/unit/escape-matches-systemd", test_escape_matches_systemd);
	g_test_add_func("/chd/unit/machine-name", test_machine_name);
	return g_test_run();
}
