/* SPDX-License-Identifier: Apache-2.0 */
/* The names chd gives systemd: unit names of workers (systemd-escape's rules, so that
 * `systemctl status chd-vm-$(systemd-escape NAME).service` finds them) and machine names; when
 * workers become units (--spawn), and which taps a worker without CAP_NET_ADMIN can use. */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "manager.h"
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

/* --spawn on every kind of host: requested, mode, private bus, booted by systemd → units?, required? */
static void test_spawn_decision(void)
{
	static const struct {
		enum spawn_mode requested;
		enum manager_mode mode;
		bool private_bus, booted, units, required;
	} cases[] = {
	    /* auto: system mode follows sd_booted() */
	    {SPAWN_MODE_AUTO, MANAGER_MODE_SYSTEM, false, true, true, false},
	    {SPAWN_MODE_AUTO, MANAGER_MODE_SYSTEM, false, false, false, false},
	    /* auto: user mode asks the session bus whatever PID 1 is */
	    {SPAWN_MODE_AUTO, MANAGER_MODE_USER, false, true, true, false},
	    {SPAWN_MODE_AUTO, MANAGER_MODE_USER, false, false, true, false},
	    /* auto: a private bus (tests) always forks */
	    {SPAWN_MODE_AUTO, MANAGER_MODE_SYSTEM, true, true, false, false},
	    {SPAWN_MODE_AUTO, MANAGER_MODE_USER, true, true, false, false},
	    /* fork: always; systemd: always, and failing to reach the manager is fatal */
	    {SPAWN_MODE_FORK, MANAGER_MODE_SYSTEM, false, true, false, false},
	    {SPAWN_MODE_FORK, MANAGER_MODE_USER, false, true, false, false},
	    {SPAWN_MODE_SYSTEMD, MANAGER_MODE_SYSTEM, true, false, true, true},
	    {SPAWN_MODE_SYSTEMD, MANAGER_MODE_USER, true, false, true, true},
	    {SPAWN_MODE_SYSTEMD, MANAGER_MODE_USER, false, true, true, true},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		bool required = !cases[i].required;

		g_test_message("case %zu: %s, %s, private bus %d, booted %d", i,
			       spawn_mode_to_string(cases[i].requested), manager_mode_to_string(cases[i].mode),
			       cases[i].private_bus, cases[i].booted);
		g_assert_cmpint(spawn_wants_units(cases[i].requested, cases[i].mode, cases[i].private_bus,
						  cases[i].booted, &required),
				==, cases[i].units);
		g_assert_cmpint(required, ==, cases[i].required);
	}
	g_assert_cmpstr(spawn_slice(MANAGER_MODE_SYSTEM), ==, "machine.slice");
	g_assert_cmpstr(spawn_slice(MANAGER_MODE_USER), ==, "app-chd.slice");
}

/* The kernel's rules for attaching to a tap without CAP_NET_ADMIN (tun_not_capable), plus what
 * the worker needs on top: a single-queue tap that is up. */
static void test_tap_access(void)
{
	const struct tap_info mine = {.exists = true, .is_tap = true, .up = true, .owner = 1000, .group = -1};
	const gid_t groups[] = {24, 993};
	struct tap_info t;

	g_assert_cmpint(tap_access_check(NULL, &mine, 1000, 1000, groups, 2), ==, TAP_ACCESS_UNNAMED);
	g_assert_cmpint(tap_access_check("tap0", &mine, 1000, 1000, groups, 2), ==, TAP_ACCESS_OK);
	t = (struct tap_info){.owner = -1, .group = -1};
	g_assert_cmpint(tap_access_check("tap0", &t, 1000, 1000, groups, 2), ==, TAP_ACCESS_MISSING);
	t = (struct tap_info){.exists = true, .up = true, .owner = -1, .group = -1};
	g_assert_cmpint(tap_access_check("eth0", &t, 1000, 1000, groups, 2), ==, TAP_ACCESS_NOT_TAP);
	/* Another user's, or a group we are not in; neither set: anybody's. */
	g_assert_cmpint(tap_access_check("tap0", &mine, 1001, 1000, groups, 2), ==, TAP_ACCESS_NOT_OWNER);
	t = mine;
	t.owner = -1;
	t.group = 993;
	g_assert_cmpint(tap_access_check("tap0", &t, 1001, 1001, groups, 2), ==, TAP_ACCESS_OK);
	g_assert_cmpint(tap_access_check("tap0", &t, 1001, 993, NULL, 0), ==, TAP_ACCESS_OK);
	g_assert_cmpint(tap_access_check("tap0", &t, 1001, 1001, NULL, 0), ==, TAP_ACCESS_NOT_OWNER);
	/* Owner and group both set: both must match. */
	t.owner = 1000;
	g_assert_cmpint(tap_access_check("tap0", &t, 1000, 1000, groups, 2), ==, TAP_ACCESS_OK);
	g_assert_cmpint(tap_access_check("tap0", &t, 1000, 1000, groups, 1), ==, TAP_ACCESS_NOT_OWNER);
	t = (struct tap_info){.exists = true, .is_tap = true, .up = true, .owner = -1, .group = -1};
	g_assert_cmpint(tap_access_check("tap0", &t, 1000, 1000, NULL, 0), ==, TAP_ACCESS_OK);
	t.multi_queue = true;
	g_assert_cmpint(tap_access_check("tap0", &t, 1000, 1000, NULL, 0), ==, TAP_ACCESS_MULTI_QUEUE);
	t = mine;
	t.up = false;
	g_assert_cmpint(tap_access_check("tap0", &t, 1000, 1000, NULL, 0), ==, TAP_ACCESS_DOWN);

	/* Every refusal says why and names the tap; the unnamed one shows the user's uid. */
	for (int a = TAP_ACCESS_OK + 1; a < _TAP_ACCESS_MAX; a++) {
		g_autofree char *msg = tap_access_message(a, "tap7", &mine, 4242);

		g_assert_nonnull(msg);
		g_assert_true(a == TAP_ACCESS_UNNAMED ? strstr(msg, "4242") != NULL : strstr(msg, "'tap7'") != NULL);
	}
	g_assert_null(tap_access_message(TAP_ACCESS_OK, "tap7", &mine, 4242));
}

/* sysfs as it is: the loopback is an interface but no tap; a name that is not there. */
static void test_tap_info(void)
{
	struct tap_info t;

	g_assert_cmpint(tap_info_read("lo", &t), ==, 0);
	if (!t.exists) {
		g_test_skip("no /sys/class/net/lo here");
		return;
	}
	g_assert_false(t.is_tap);
	g_assert_cmpint(t.owner, ==, -1);
	g_assert_cmpint(tap_access_check("lo", &t, getuid(), getgid(), NULL, 0), ==, TAP_ACCESS_NOT_TAP);
	g_assert_cmpint(tap_info_read("chd-no-such0", &t), ==, 0);
	g_assert_false(t.exists);
	g_assert_cmpint(tap_info_read("..", &t), ==, 0);
	g_assert_false(t.exists);
	g_assert_cmpint(tap_info_read("a/b", &t), ==, 0);
	g_assert_false(t.exists);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chd/unit/escape", test_escape);
	g_test_add_func("/chd/unit/name", test_unit_name);
	g_test_add_func("/chd/unit/escape-matches-systemd", test_escape_matches_systemd);
	g_test_add_func("/chd/unit/machine-name", test_machine_name);
	g_test_add_func("/chd/unit/spawn-decision", test_spawn_decision);
	g_test_add_func("/chd/unit/tap-access", test_tap_access);
	g_test_add_func("/chd/unit/tap-info", test_tap_info);
	return g_test_run();
}
