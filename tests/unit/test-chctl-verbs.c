/* SPDX-License-Identifier: Apache-2.0 */
/* chctl's verb table, enum tables, the D-Bus error name -> exit status map, and command-line
 * handling that needs no daemon (usage errors, help, version). */
#include <stdio.h>
#include <string.h>

#include "chctl.h"
#include "exit-code.h"

#include <glib.h>

static bool collect(const struct chctl_verb *v, void *userdata)
{
	g_ptr_array_add(userdata, (gpointer)v);
	return true;
}

static void test_verb_table(void)
{
	/* DESIGN.md section 3 verbs that chd's API serves today, plus cmdline. */
	static const char *const expected[] = {
	    "start",   "shutdown", "destroy",	"reboot", "suspend", "resume",	"define",  "undefine",
	    "dumpxml", "edit",	   "autostart", "list",	  "info",    "cmdline", "console", "events",
	};
	g_autoptr(GPtrArray) verbs = g_ptr_array_new();

	chctl_verb_foreach(collect, verbs);
	g_assert_cmpuint(verbs->len, ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < verbs->len; i++) {
		const struct chctl_verb *v = verbs->pdata[i];

		g_assert_cmpstr(v->name, ==, expected[i]);
		g_assert_true(chctl_verb_find(v->name) == v);
		g_assert_nonnull(v->summary);
		g_assert_nonnull(v->run);
		g_assert_cmpuint(v->min_args, <=, v->max_args);
		/* Help shows the arguments: a verb that takes some must name them. */
		g_assert_true(v->max_args == 0 || (v->args && *v->args));
		g_assert_true(v->group >= 0 && v->group < _CHCTL_GROUP_MAX);
		for (guint j = 0; j < i; j++)
			g_assert_cmpstr(((const struct chctl_verb *)verbs->pdata[j])->name, !=, v->name);
		/* Groups stay together, so help lists each group once. */
		if (i > 0 && ((const struct chctl_verb *)verbs->pdata[i - 1])->group != v->group)
			for (guint j = 0; j + 1 < i; j++)
				g_assert_cmpint(((const struct chctl_verb *)verbs->pdata[j])->group, !=,
						v->group);
	}
	g_assert_null(chctl_verb_find("frobnicate"));
	g_assert_null(chctl_verb_find(""));
	g_assert_null(chctl_verb_find(NULL));
	g_assert_null(chctl_verb_find("START"));
}

static void test_exit_table(void)
{
	for (int i = 0; i < _CHCTL_EXIT_MAX; i++) {
		const char *s = chctl_exit_to_string((enum chctl_exit)i);

		g_assert_nonnull(s);
		g_assert_cmpint(chctl_exit_from_string(s), ==, i);
		g_assert_nonnull(chctl_exit_description((enum chctl_exit)i));
		for (int j = 0; j < i; j++)
			g_assert_cmpstr(chctl_exit_to_string((enum chctl_exit)j), !=, s);
	}
	/* The numbers are documented in chctl(1); scripts depend on them. */
	g_assert_cmpint(_CHCTL_EXIT_MAX, ==, 11);
	g_assert_cmpint(chctl_exit_from_string("ok"), ==, 0);
	g_assert_cmpint(chctl_exit_from_string("usage"), ==, 2);
	g_assert_cmpint(chctl_exit_from_string("no-such-vm"), ==, 3);
	g_assert_cmpint(chctl_exit_from_string("invalid-state"), ==, 4);
	g_assert_cmpint(chctl_exit_from_string("busy"), ==, 5);
	g_assert_cmpint(chctl_exit_from_string("permission-denied"), ==, 6);
	g_assert_cmpint(chctl_exit_from_string("no-daemon"), ==, 7);
	g_assert_cmpint(chctl_exit_from_string("invalid-definition"), ==, 8);
	g_assert_cmpint(chctl_exit_from_string("vm-exists"), ==, 9);
	g_assert_cmpint(chctl_exit_from_string("not-supported"), ==, 10);
	g_assert_cmpint(chctl_exit_from_string("nope"), ==, _CHCTL_EXIT_INVALID);
	g_assert_cmpint(chctl_exit_from_string(NULL), ==, _CHCTL_EXIT_INVALID);
	g_assert_null(chctl_exit_to_string(_CHCTL_EXIT_MAX));
	g_assert_null(chctl_exit_to_string(_CHCTL_EXIT_INVALID));
}

static void test_other_enum_tables(void)
{
	for (int i = 0; i < _CHCTL_BUS_KIND_MAX; i++)
		g_assert_cmpint(chctl_bus_kind_from_string(chctl_bus_kind_to_string((enum chctl_bus_kind)i)),
				==, i);
	for (int i = 0; i < _CHCTL_GROUP_MAX; i++)
		g_assert_cmpint(
		    chctl_verb_group_from_string(chctl_verb_group_to_string((enum chctl_verb_group)i)), ==,
		    i);
	g_assert_cmpstr(chctl_bus_kind_to_string(CHCTL_BUS_USER), ==, "user");
	g_assert_cmpint(chctl_bus_kind_from_string("session"), ==, _CHCTL_BUS_KIND_INVALID);
	g_assert_null(chctl_verb_group_to_string(_CHCTL_GROUP_MAX));
}

static void test_error_names(void)
{
	static const struct {
		const char *name;
		enum chctl_exit exit;
	} cases[] = {
	    {"org.cloudhypervisor.chd1.Error.NoSuchVM", CHCTL_EXIT_NO_SUCH_VM},
	    {"org.cloudhypervisor.chd1.Error.InvalidState", CHCTL_EXIT_INVALID_STATE},
	    {"org.cloudhypervisor.chd1.Error.Busy", CHCTL_EXIT_BUSY},
	    {"org.cloudhypervisor.chd1.Error.InvalidDefinition", CHCTL_EXIT_INVALID_DEFINITION},
	    {"org.cloudhypervisor.chd1.Error.VMExists", CHCTL_EXIT_VM_EXISTS},
	    {"org.cloudhypervisor.chd1.Error.NotSupported", CHCTL_EXIT_NOT_SUPPORTED},
	    {"org.cloudhypervisor.chd1.Error.AccessDenied", CHCTL_EXIT_PERMISSION_DENIED},
	    {"org.freedesktop.DBus.Error.AccessDenied", CHCTL_EXIT_PERMISSION_DENIED},
	    {"org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", CHCTL_EXIT_PERMISSION_DENIED},
	    {"org.freedesktop.DBus.Error.ServiceUnknown", CHCTL_EXIT_NO_DAEMON},
	    {"org.freedesktop.DBus.Error.NameHasNoOwner", CHCTL_EXIT_NO_DAEMON},
	    {"org.freedesktop.DBus.Error.UnknownObject", CHCTL_EXIT_NO_SUCH_VM},
	    {"org.freedesktop.DBus.Error.UnknownMethod", CHCTL_EXIT_NOT_SUPPORTED},
	    /* Errors without a status of their own are plain failures. */
	    {"org.cloudhypervisor.chd1.Error.WorkerFailed", CHCTL_EXIT_FAILURE},
	    {"org.cloudhypervisor.chd1.Error.IOError", CHCTL_EXIT_FAILURE},
	    {"org.cloudhypervisor.chd1.Error.InvalidArgument", CHCTL_EXIT_FAILURE},
	    {"org.cloudhypervisor.chd1.Error.NoSuchVMX", CHCTL_EXIT_FAILURE},
	    {"", CHCTL_EXIT_FAILURE},
	    {NULL, CHCTL_EXIT_FAILURE},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(chctl_exit_from_error_name(cases[i].name), ==, cases[i].exit);

	g_assert_cmpint(chctl_exit_from_errno(0), ==, CHCTL_EXIT_OK);
	g_assert_cmpint(chctl_exit_from_errno(-EACCES), ==, CHCTL_EXIT_PERMISSION_DENIED);
	g_assert_cmpint(chctl_exit_from_errno(-ENOENT), ==, CHCTL_EXIT_NO_DAEMON);
	g_assert_cmpint(chctl_exit_from_errno(ECONNREFUSED), ==, CHCTL_EXIT_NO_DAEMON);
	g_assert_cmpint(chctl_exit_from_errno(-EIO), ==, CHCTL_EXIT_FAILURE);
	g_assert_nonnull(chctl_exit_hint(CHCTL_EXIT_NO_SUCH_VM));
	g_assert_nonnull(chctl_exit_hint(CHCTL_EXIT_NO_DAEMON));
	g_assert_null(chctl_exit_hint(CHCTL_EXIT_OK));
}

/* Runs the chctl binary (the same code, through main) and returns its exit status; *out and *err
 * are replaced by what it printed. */
static int run_chctl(char **out, char **err, const char *const *words)
{
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();
	g_auto(GStrv) argv = NULL;
	g_auto(GStrv) env = g_get_environ();
	g_autoptr(GError) error = NULL;
	int status;

	g_strv_builder_add(b, CHCTL_PATH);
	g_strv_builder_addv(b, (const char **)words);
	argv = g_strv_builder_end(b);
	/* Nothing may reach a real bus from a unit test: point every bus at a socket that is not there. */
	env = g_environ_setenv(env, "CHCTL_BUS_ADDRESS", "unix:path=/nonexistent/chctl-test", TRUE);
	env = g_environ_setenv(env, "DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/chctl-test", TRUE);
	env = g_environ_setenv(env, "DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/chctl-test", TRUE);
	env = g_environ_setenv(env, "LC_ALL", "C", TRUE);
	g_clear_pointer(out, g_free);
	g_clear_pointer(err, g_free);
	g_assert_true(g_spawn_sync(NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &error));
	g_assert_no_error(error);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define CHCTL(out, err, ...) run_chctl((out), (err), (const char *const[]){__VA_ARGS__, NULL})

static void test_command_line(void)
{
	g_autofree char *out = NULL, *err = NULL;

	g_assert_cmpint(CHCTL(&out, &err, "--version"), ==, 0);
	g_assert_cmpstr(out, ==, "chctl " PACKAGE_VERSION "\n");

	g_assert_cmpint(CHCTL(&out, &err, "--help"), ==, 0);
	g_assert_nonnull(strstr(out, "dumpxml VM"));
	g_assert_nonnull(strstr(out, "  3  no VM of that name"));

	g_assert_cmpint(CHCTL(&out, &err, "help", "shutdown"), ==, 0);
	g_assert_nonnull(strstr(out, "chctl [OPTION…] shutdown VM"));
	g_assert_nonnull(strstr(out, "--timeout=S"));

	g_assert_cmpint(CHCTL(&out, &err, "list", "--help"), ==, 0);
	g_assert_nonnull(strstr(out, "--all"));

	/* Usage errors: status 2, a message naming the problem, and where to look. */
	g_assert_cmpint(run_chctl(&out, &err, (const char *const[]){NULL}), ==, 2);
	g_assert_cmpstr(err, ==, "chctl: no verb given\nTry 'chctl --help'.\n");

	g_assert_cmpint(CHCTL(&out, &err, "frobnicate"), ==, 2);
	g_assert_cmpstr(err, ==, "chctl: unknown verb 'frobnicate'\nTry 'chctl --help'.\n");

	/* DESIGN.md's verbs that need hot-plug or migration: known, refused as not supported. */
	g_assert_cmpint(CHCTL(&out, &err, "migrate", "web1", "host2"), ==, 10);
	g_assert_cmpstr(err, ==, "chctl: 'migrate' is not supported: vmm-worker has no live migration yet\n");
	g_assert_cmpint(CHCTL(&out, &err, "attach-device", "web1", "disk.xml"), ==, 10);
	g_assert_null(chctl_verb_planned("start"));
	g_assert_null(chctl_verb_planned(NULL));

	g_assert_cmpint(CHCTL(&out, &err, "start"), ==, 2);
	g_assert_cmpstr(err, ==, "chctl: 'start' expects VM\nTry 'chctl start --help'.\n");

	g_assert_cmpint(CHCTL(&out, &err, "list", "extra"), ==, 2);
	g_assert_cmpstr(err, ==, "chctl: 'list' takes no arguments\nTry 'chctl list --help'.\n");

	g_assert_cmpint(CHCTL(&out, &err, "start", "--bogus", "web1"), ==, 2);
	g_assert_nonnull(strstr(err, "--bogus"));

	g_assert_cmpint(CHCTL(&out, &err, "--system", "--user", "list"), ==, 2);
	g_assert_nonnull(strstr(err, "exclude each other"));

	g_assert_cmpint(CHCTL(&out, &err, "shutdown", "--timeout", "-3", "web1"), ==, 2);

	g_assert_cmpint(CHCTL(&out, &err, "help", "nope"), ==, 2);

	/* No daemon at the address: status 7, the bus named, a hint. */
	g_assert_cmpint(CHCTL(&out, &err, "list"), ==, 7);
	g_assert_nonnull(
	    strstr(err, "chctl: cannot connect to the bus at 'unix:path=/nonexistent/chctl-test'"));
	g_assert_nonnull(strstr(err, "is chd running?"));

	/* Global options after the verb mean the same. */
	g_assert_cmpint(CHCTL(&out, &err, "info", "web1", "--connect", "unix:path=/nonexistent/other"), ==,
			7);
	g_assert_nonnull(strstr(err, "'unix:path=/nonexistent/other'"));

	g_assert_cmpint(CHCTL(&out, &err, "define", "/nonexistent/web1.xml"), ==, 1);
	g_assert_nonnull(strstr(err, "chctl: cannot read '/nonexistent/web1.xml'"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chctl/verbs/table", test_verb_table);
	g_test_add_func("/chctl/verbs/enum-tables", test_other_enum_tables);
	g_test_add_func("/chctl/exit/table", test_exit_table);
	g_test_add_func("/chctl/exit/error-names", test_error_names);
	g_test_add_func("/chctl/command-line", test_command_line);
	return g_test_run();
}
