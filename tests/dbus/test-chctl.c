/* SPDX-License-Identifier: Apache-2.0 */
/* The chctl binary against the real chd on a private dbus-daemon (tests/dbus/chd-test.c): every
 * verb's output and exit status, the error names mapped to exit codes, edit's retry, events, the
 * console log, permission denied for another uid, and no daemon. Lifecycle verbs run the project's
 * tiny payloads on /dev/kvm and are skipped where it is not usable. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "chd-test.h"

static char *payload(const char *name)
{
	g_autofree char *file = g_strdup_printf("%s.elf", name);

	return g_build_filename(CHD_TEST_PAYLOADS, file, NULL);
}

/* Writes a definition of name running the payload to a file in the test folder; returns its path. */
static char *write_definition(struct chd_test *t, const char *name, const char *payload_name,
			      const char *extra)
{
	g_autofree char *kernel = payload(payload_name);
	g_autofree char *xml =
	    g_strdup_printf("<domain type='kvm'><name>%s</name><memory unit='MiB'>64</memory>"
			    "<vcpu>1</vcpu><os><type>hvm</type><kernel>%s</kernel></os>%s"
			    "</domain>\n",
			    name, kernel, extra ? extra : "");
	g_autofree char *file = g_strdup_printf("%s.xml", name);
	char *path = g_build_filename(t->dir, file, NULL);

	g_assert_true(g_file_set_contents(path, xml, -1, NULL));
	return path;
}

/* A script in the test folder, for $EDITOR. */
static char *write_script(struct chd_test *t, const char *name, const char *body)
{
	char *path = g_build_filename(t->dir, name, NULL);
	g_autofree char *text = g_strdup_printf("#!/bin/sh\nset -e\n%s", body);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(chmod(path, 0755), ==, 0);
	return path;
}

struct result {
	int status;
	char *out;
	char *err;
};

static void result_clear(struct result *r)
{
	g_free(r->out);
	g_free(r->err);
	*r = (struct result){0};
}

static GSubprocessLauncher *launcher(struct chd_test *t, GSubprocessFlags flags, const char *editor)
{
	GSubprocessLauncher *l = g_subprocess_launcher_new(flags);

	g_subprocess_launcher_setenv(l, "CHCTL_BUS_ADDRESS", t->address, TRUE);
	g_subprocess_launcher_setenv(l, "LC_ALL", "C", TRUE);
	g_subprocess_launcher_unsetenv(l, "VISUAL");
	if (editor)
		g_subprocess_launcher_setenv(l, "EDITOR", editor, TRUE);
	return l;
}

/* Runs chctl with the words, input on stdin and editor as $EDITOR (both may be NULL). */
static void run_full(struct chd_test *t, struct result *r, const char *input, const char *editor,
		     const char *const *words)
{
	g_autoptr(GSubprocessLauncher) l = launcher(
	    t,
	    G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
	    editor);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;

	result_clear(r);
	g_ptr_array_add(argv, (gpointer)CHCTL_TEST_BINARY);
	for (; *words; words++)
		g_ptr_array_add(argv, (gpointer)*words);
	g_ptr_array_add(argv, NULL);
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_communicate_utf8(p, input ? input : "", NULL, &r->out, &r->err, &error));
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(p));
	r->status = g_subprocess_get_exit_status(p);
	g_test_message("chctl %s -> %d\n%s%s", argv->len > 2 ? (char *)argv->pdata[1] : "", r->status,
		       r->out, r->err);
}

#define CHCTL(t, r, ...) run_full((t), (r), NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		g_error("'%s' not found in:\n%s", needle, haystack);
}

static JsonNode *parse_json(const char *text)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	json_parser_load_from_data(parser, text, -1, &error);
	g_assert_no_error(error);
	return json_node_copy(json_parser_get_root(parser));
}

/* What bash completion offers for the words (the last is the one being completed). */
static char *complete(struct chd_test *t, const char *words)
{
	g_autofree char *script = g_strdup_printf("source '%s'; COMP_WORDS=('%s' %s); "
						  "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _chctl; "
						  "echo \"${COMPREPLY[*]}\"",
						  CHCTL_COMPLETION, CHCTL_TEST_BINARY, words);
	g_autoptr(GSubprocessLauncher) l = launcher(t, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	char *out = NULL;

	p = g_subprocess_launcher_spawn(l, &error, "bash", "-c", script, NULL);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error));
	g_assert_no_error(error);
	return out;
}

static void test_completion(void)
{
	struct chd_test t;
	struct result r = {0};
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
	g_autofree char *file1 = NULL, *file2 = NULL;

	chd_test_setup(&t);
	file1 = write_definition(&t, "alpha", "halt", NULL);
	file2 = write_definition(&t, "beta", "halt", NULL);
	CHCTL(&t, &r, "define", file1);
	CHCTL(&t, &r, "define", file2);

	a = complete(&t, "''");
	g_assert_cmpstr(
	    a, ==,
	    "start shutdown destroy reboot suspend resume define undefine dumpxml edit autostart list "
	    "info cmdline console events help\n");
	b = complete(&t, "--json s");
	g_assert_cmpstr(b, ==, "start shutdown suspend\n");
	/* VM names come from chd over the same bus. */
	c = complete(&t, "start ''");
	g_assert_cmpstr(c, ==, "alpha beta\n");
	d = complete(&t, "info --json b");
	g_assert_cmpstr(d, ==, "beta\n");
	e = complete(&t, "list --a");
	g_assert_cmpstr(e, ==, "--all\n");

	result_clear(&r);
	chd_test_teardown(&t);
}

static void test_definitions(void)
{
	struct chd_test t;
	struct result r = {0};
	g_autofree char *file = NULL;
	g_autofree char *bad = NULL;
	g_autofree char *other = NULL;
	g_autofree char *expected = NULL;
	g_autoptr(JsonNode) list = NULL;
	JsonObject *vm;

	chd_test_setup(&t);
	file = write_definition(&t, "web1", "halt", NULL);

	expected = g_strdup_printf("VM 'web1' defined from '%s'.\n", file);
	CHCTL(&t, &r, "define", file);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, expected);

	/* Only running VMs without --all; the header stays so the output is recognisable. */
	CHCTL(&t, &r, "list");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "NAME  STATE  VCPUS  MEMORY  AUTOSTART\n");
	CHCTL(&t, &r, "list", "--all");
	g_assert_cmpstr(r.out, ==,
			"NAME  STATE     VCPUS  MEMORY  AUTOSTART\n"
			"web1  shut-off  1      64 MiB  no\n");
	CHCTL(&t, &r, "list", "--all", "--name");
	g_assert_cmpstr(r.out, ==, "web1\n");
	CHCTL(&t, &r, "--json", "list", "--all");
	g_assert_cmpint(r.status, ==, 0);
	list = parse_json(r.out);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(list)), ==, 1);
	vm = json_array_get_object_element(json_node_get_array(list), 0);
	g_assert_cmpstr(json_object_get_string_member(vm, "name"), ==, "web1");
	g_assert_cmpstr(json_object_get_string_member(vm, "state"), ==, "shut-off");
	g_assert_cmpint(json_object_get_int_member(vm, "memory"), ==, 64 << 20);
	g_assert_cmpint(json_object_get_int_member(vm, "vcpus"), ==, 1);
	g_assert_true(json_object_get_boolean_member(vm, "persistent"));
	g_assert_cmpuint(strlen(json_object_get_string_member(vm, "uuid")), ==, 36);

	CHCTL(&t, &r, "info", "web1");
	g_assert_cmpint(r.status, ==, 0);
	assert_contains(r.out, "Name:        web1\n");
	assert_contains(r.out, "State:       shut-off\n");
	assert_contains(r.out, "Memory:      64 MiB\n");
	assert_contains(r.out, "Worker PID:  -\n");

	CHCTL(&t, &r, "dumpxml", "web1");
	g_assert_cmpint(r.status, ==, 0);
	assert_contains(r.out, "<name>web1</name>");
	assert_contains(r.out, "<uuid>");
	CHCTL(&t, &r, "dumpxml", "--inactive", "web1", "--json");
	g_assert_cmpint(r.status, ==, 0);
	assert_contains(r.out, "\"xml\" : \"<domain");

	CHCTL(&t, &r, "cmdline", "web1");
	g_assert_cmpint(r.status, ==, 0);
	assert_contains(r.out, "vmm-worker --kernel ");
	assert_contains(r.out, "halt.elf");

	/* Refusals, each with its exit status and the chd message. */
	bad = g_build_filename(t.dir, "bad.xml", NULL);
	g_assert_true(
	    g_file_set_contents(bad, "<domain type='kvm'><name>bad</name><bogus/></domain>", -1, NULL));
	CHCTL(&t, &r, "define", bad);
	g_assert_cmpint(r.status, ==, 8);
	assert_contains(r.err, "chctl: cannot define a VM from '");
	assert_contains(r.err, "bogus");
	CHCTL(&t, &r, "list", "--all", "--name");
	g_assert_cmpstr(r.out, ==, "web1\n"); /* nothing stored */

	other = write_definition(&t, "web1-copy", "halt", NULL);
	{
		/* Same UUID, other name: VMExists. */
		g_autofree char *uuid = g_strdup(json_object_get_string_member(vm, "uuid"));
		g_autofree char *xml = NULL;
		g_autofree char *with_uuid = NULL;

		g_assert_true(g_file_get_contents(other, &xml, NULL, NULL));
		with_uuid = g_strdup_printf("<domain type='kvm'><uuid>%s</uuid>%s", uuid,
					    xml + strlen("<domain type='kvm'>"));
		g_assert_true(g_file_set_contents(other, with_uuid, -1, NULL));
	}
	CHCTL(&t, &r, "define", other);
	g_assert_cmpint(r.status, ==, 9);

	CHCTL(&t, &r, "info", "nope");
	g_assert_cmpint(r.status, ==, 3);
	g_assert_cmpstr(r.err, ==,
			"chctl: cannot get information on 'nope': no VM is named 'nope'\n"
			"chctl: 'chctl list --all' shows the defined VMs\n");
	CHCTL(&t, &r, "start", "nope");
	g_assert_cmpint(r.status, ==, 3);

	CHCTL(&t, &r, "autostart", "web1");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "VM 'web1' will start with chd.\n");
	CHCTL(&t, &r, "list", "--all");
	assert_contains(r.out, "web1  shut-off  1      64 MiB  yes\n");
	CHCTL(&t, &r, "--json", "autostart", "--disable", "web1");
	g_assert_cmpint(r.status, ==, 0);
	assert_contains(r.out, "\"autostart\" : false");

	/* Read from standard input. */
	{
		g_autofree char *xml = NULL;

		g_assert_true(g_file_get_contents(file, &xml, NULL, NULL));
		run_full(&t, &r, xml, NULL, (const char *const[]){"define", "-", NULL});
		g_assert_cmpint(r.status, ==, 0);
	}

	CHCTL(&t, &r, "undefine", "web1");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "VM 'web1' undefined.\n");
	CHCTL(&t, &r, "undefine", "web1");
	g_assert_cmpint(r.status, ==, 3);
	CHCTL(&t, &r, "list", "--all", "--name");
	g_assert_cmpstr(r.out, ==, "");
	CHCTL(&t, &r, "--json", "list", "--all");
	g_assert_cmpstr(r.out, ==, "[]\n");

	result_clear(&r);
	chd_test_teardown(&t);
}

static void test_edit(void)
{
	struct chd_test t;
	struct result r = {0};
	g_autofree char *file = NULL;
	g_autofree char *two_vcpus = NULL;
	g_autofree char *breaks = NULL;
	g_autofree char *breaks_once = NULL;
	g_autofree char *renames = NULL;
	g_autofree char *steals_uuid = NULL;

	chd_test_setup(&t);
	file = write_definition(&t, "ed", "halt", NULL);
	CHCTL(&t, &r, "define", file);
	g_assert_cmpint(r.status, ==, 0);

	/* An editor that leaves the file alone. */
	run_full(&t, &r, NULL, "true", (const char *const[]){"edit", "ed", NULL});
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "Definition of 'ed' unchanged.\n");

	two_vcpus = write_script(&t, "two-vcpus", "sed -i 's|>1</vcpu>|>2</vcpu>|' \"$1\"\n");
	run_full(&t, &r, NULL, two_vcpus, (const char *const[]){"edit", "ed", NULL});
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "Definition of 'ed' updated.\n");
	CHCTL(&t, &r, "info", "ed");
	assert_contains(r.out, "vCPUs:       2\n");

	/* An invalid edit (checked before sending, as chd would); the user declines another try:
	 * exit 8, nothing changed. */
	breaks = write_script(&t, "breaks", "sed -i 's|</domain>|<bogus/></domain>|' \"$1\"\n");
	run_full(&t, &r, "n\n", breaks, (const char *const[]){"edit", "ed", NULL});
	g_assert_cmpint(r.status, ==, 8);
	assert_contains(r.err, "chctl: the edited definition of 'ed' is invalid: ");
	assert_contains(r.err, "bogus");
	assert_contains(r.err, "Edit again? [y/N]");
	CHCTL(&t, &r, "dumpxml", "ed");
	g_assert_null(strstr(r.out, "bogus"));

	/* A new name would define a second VM: refused, also with the retry offer. */
	renames = write_script(&t, "renames", "sed -i 's|<name>ed</name>|<name>ed2</name>|' \"$1\"\n");
	run_full(&t, &r, "\n", renames, (const char *const[]){"edit", "ed", NULL});
	g_assert_cmpint(r.status, ==, 8);
	assert_contains(r.err, "the name must stay 'ed'");
	CHCTL(&t, &r, "list", "--all", "--name");
	g_assert_cmpstr(r.out, ==, "ed\n");

	/* What chd alone refuses (another VM's UUID) takes the same path. */
	{
		g_autofree char *other = write_definition(&t, "other", "halt", NULL);
		g_autofree char *script = NULL;
		g_autofree char *uuid = NULL;

		CHCTL(&t, &r, "define", other);
		uuid = chd_get_string(&t, CHD_PATH "/vm/other", "UUID");
		script = g_strdup_printf("sed -i 's|<uuid>.*</uuid>|<uuid>%s</uuid>|' \"$1\"\n", uuid);
		steals_uuid = write_script(&t, "steals-uuid", script);
	}
	run_full(&t, &r, "n\n", steals_uuid, (const char *const[]){"edit", "ed", NULL});
	g_assert_cmpint(r.status, ==, 9);
	assert_contains(r.err, "chctl: cannot define the edited 'ed': ");
	assert_contains(r.err, "Edit again? [y/N]");
	CHCTL(&t, &r, "dumpxml", "ed");
	g_assert_null(strstr(r.out, "bogus"));

	/* The second try sees the first try's file (the edit is not lost) and mends it. */
	breaks_once = write_script(
	    &t, "breaks-once",
	    "if grep -q bogus \"$1\"; then sed -i 's|<bogus/>||; s|>2</vcpu>|>3</vcpu>|' \"$1\";\n"
	    "else sed -i 's|</domain>|<bogus/></domain>|' \"$1\"; fi\n");
	run_full(&t, &r, "y\n", breaks_once, (const char *const[]){"edit", "ed", NULL});
	g_assert_cmpint(r.status, ==, 0);
	assert_contains(r.err, "Edit again? [y/N]");
	g_assert_cmpstr(r.out, ==, "Definition of 'ed' updated.\n");
	CHCTL(&t, &r, "info", "ed");
	assert_contains(r.out, "vCPUs:       3\n");

	run_full(&t, &r, NULL, "false", (const char *const[]){"edit", "ed", NULL});
	g_assert_cmpint(r.status, ==, 1);
	assert_contains(r.err, "chctl: cannot edit 'ed': editor 'false' failed");

	result_clear(&r);
	chd_test_teardown(&t);
}

static void test_access_and_no_daemon(void)
{
	struct chd_test t;
	struct result r = {0};
	g_autofree char *file = NULL;
	g_autofree char *out = NULL;
	char *start[] = {CHCTL_TEST_BINARY, "start", "guarded", NULL};
	char *list[] = {CHCTL_TEST_BINARY, "list", "--all", "--name", NULL};
	int status;

	chd_test_setup(&t);
	file = write_definition(&t, "guarded", "halt", NULL);
	CHCTL(&t, &r, "define", file);
	g_assert_cmpint(r.status, ==, 0);

	/* Another uid may read (list) but not change (start): exit 6 and a hint. */
	g_setenv("CHCTL_BUS_ADDRESS", t.address, TRUE);
	g_setenv("LC_ALL", "C", TRUE);
	status = chd_run_as_nobody(list, &out);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_cmpstr(out, ==, "guarded\n");
	g_clear_pointer(&out, g_free);
	status = chd_run_as_nobody(start, &out);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 6);
	assert_contains(out, "chctl: cannot start 'guarded': ");
	assert_contains(out, "run as root");

	/* chd gone: exit 7 and the hint to check it. */
	chd_test_stop_daemon(&t, SIGTERM);
	CHCTL(&t, &r, "list");
	g_assert_cmpint(r.status, ==, 7);
	assert_contains(r.err, "chctl: cannot list the VMs: ");
	assert_contains(r.err, "is chd running?");

	result_clear(&r);
	chd_test_teardown(&t);
}

static void test_lifecycle(void)
{
	struct chd_test t;
	struct result r = {0};
	g_autofree char *file = NULL;
	g_autofree char *stubborn = NULL;

	chd_test_setup(&t);
	file = write_definition(&t, "vm1", "power-button", NULL);
	CHCTL(&t, &r, "define", file);

	CHCTL(&t, &r, "start", "vm1");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "VM 'vm1' started.\n");
	CHCTL(&t, &r, "list", "--name");
	g_assert_cmpstr(r.out, ==, "vm1\n");
	CHCTL(&t, &r, "start", "vm1");
	g_assert_cmpint(r.status, ==, 4);
	assert_contains(r.err, "chctl: cannot start 'vm1': ");

	CHCTL(&t, &r, "suspend", "vm1");
	g_assert_cmpint(r.status, ==, 0);
	CHCTL(&t, &r, "--json", "info", "vm1");
	assert_contains(r.out, "\"state\" : \"paused\"");
	assert_contains(r.out, "\"state_reason\" : \"user\"");
	CHCTL(&t, &r, "resume", "vm1", "--json");
	g_assert_cmpint(r.status, ==, 0);
	assert_contains(r.out, "\"state\" : \"running\"");

	CHCTL(&t, &r, "reboot", "vm1");
	g_assert_cmpint(r.status, ==, 0);
	/* State stays "running" through a reboot; the Lifecycle signal says when it is done. */
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/vm1 started rebooted", 10000));

	/* The power-button payload powers off when the button is pressed. */
	CHCTL(&t, &r, "shutdown", "vm1");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "VM 'vm1' is shutting down.\n");
	g_assert_true(chd_wait_property(&t, CHD_PATH "/vm/vm1", "State", "shut-off", 15000));
	CHCTL(&t, &r, "info", "vm1");
	assert_contains(r.out, "State:       shut-off (shutdown)\n");
	CHCTL(&t, &r, "destroy", "vm1");
	g_assert_cmpint(r.status, ==, 4);

	/* The halt payload ignores the button: Shutdown holds the job lock, others are Busy. */
	stubborn = write_definition(&t, "stubborn", "halt", NULL);
	CHCTL(&t, &r, "define", stubborn);
	CHCTL(&t, &r, "start", "stubborn");
	g_assert_cmpint(r.status, ==, 0);
	CHCTL(&t, &r, "shutdown", "--timeout", "30", "stubborn");
	g_assert_cmpint(r.status, ==, 0);
	CHCTL(&t, &r, "suspend", "stubborn");
	g_assert_cmpint(r.status, ==, 5);
	assert_contains(r.err, "chctl: cannot suspend 'stubborn': ");
	assert_contains(r.err, "wait for the running operation");
	CHCTL(&t, &r, "destroy", "stubborn");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(chd_wait_property(&t, CHD_PATH "/vm/stubborn", "State", "shut-off", 10000));

	result_clear(&r);
	chd_test_teardown(&t);
}

/* Reads lines from stream until one contains needle (or the stream ends). */
static char *read_line_with(GDataInputStream *in, const char *needle)
{
	for (;;) {
		g_autoptr(GError) error = NULL;
		char *line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);

		g_assert_no_error(error);
		if (!line || strstr(line, needle))
			return line;
		g_test_message("skipped: %s", line);
		g_free(line);
	}
}

static void test_events(void)
{
	struct chd_test t;
	struct result r = {0};
	g_autofree char *file = NULL;
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GDataInputStream) err = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *banner = NULL;
	g_autofree char *defined = NULL;
	g_autofree char *started = NULL;
	g_autoptr(JsonNode) node = NULL;

	chd_test_setup(&t);
	file = write_definition(&t, "watched", "halt", NULL);
	l = launcher(&t, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
	p = g_subprocess_launcher_spawn(l, &error, CHCTL_TEST_BINARY, "--json", "events", "watched", NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p));
	err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(p));
	/* The banner comes once the matches are in place. */
	banner = read_line_with(err, "Watching the events of 'watched'");
	g_assert_nonnull(banner);

	CHCTL(&t, &r, "define", file);
	g_assert_cmpint(r.status, ==, 0);
	defined = read_line_with(out, "\"event\":\"defined\"");
	g_assert_nonnull(defined);
	node = parse_json(defined);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "vm"), ==, "watched");
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "detail"), ==, "new");

	if (access("/dev/kvm", R_OK | W_OK) == 0) {
		g_autofree char *running = NULL;

		CHCTL(&t, &r, "start", "watched");
		g_assert_cmpint(r.status, ==, 0);
		running = read_line_with(out, "\"State\":\"running\"");
		g_assert_nonnull(running);
		started = read_line_with(out, "\"event\":\"started\"");
		g_assert_nonnull(started);
		CHCTL(&t, &r, "destroy", "watched");
	}
	/* SIGINT (Ctrl-C) ends it cleanly. */
	g_subprocess_send_signal(p, SIGINT);
	g_assert_true(g_subprocess_wait(p, NULL, &error));
	g_assert_true(g_subprocess_get_if_exited(p));
	g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);

	/* --count and --timeout end it by themselves; human lines name the VM and the event. */
	CHCTL(&t, &r, "events", "--timeout", "1");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "");

	result_clear(&r);
	chd_test_teardown(&t);
}

/* Only a console log (serial to a file): console shows it read-only; Ctrl-] leaves. */
static void test_console_log(void)
{
	struct chd_test t;
	struct result r = {0};
	g_autofree char *log = NULL;
	g_autofree char *serial = NULL;
	g_autofree char *file = NULL;

	chd_test_setup(&t);
	log = g_build_filename(t.dir, "hello.console.log", NULL);
	serial = g_strdup_printf("<devices><serial type='file'><source path='%s'/></serial></devices>", log);
	file = write_definition(&t, "hello", "hello", serial);
	CHCTL(&t, &r, "define", file);
	CHCTL(&t, &r, "console", "hello");
	g_assert_cmpint(r.status, ==, 4); /* never started: no console log yet */
	assert_contains(r.err, "(start the VM first)");
	CHCTL(&t, &r, "start", "hello");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(chd_wait_property(&t, CHD_PATH "/vm/hello", "State", "shut-off", 10000));

	run_full(&t, &r, "\x1d", NULL, (const char *const[]){"console", "hello", NULL});
	g_assert_cmpint(r.status, ==, 0);
	assert_contains(r.err, "Showing the console log of 'hello' (read-only); Ctrl-] leaves.");
	assert_contains(r.out, "payload");

	result_clear(&r);
	chd_test_teardown(&t);
}

/* A pty serial port: chd offers the worker's pseudo-terminal as ConsolePath while it runs; console
 * attaches to it, shows what the guest wrote before anybody looked, and leaves on Ctrl-]. */
static void test_console_pty(void)
{
	struct chd_test t;
	struct result r = {0};
	g_autofree char *file = NULL;
	g_autofree char *pty = NULL;
	g_autofree char *line = NULL;
	g_autofree char *banner = NULL;
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GDataInputStream) err = NULL;
	g_autoptr(GError) error = NULL;

	chd_test_setup(&t);
	file = write_definition(&t, "quiet", "halt", "<devices><serial type='pty'/></devices>");
	CHCTL(&t, &r, "define", file);
	g_assert_cmpint(r.status, ==, 0);
	pty = chd_get_string(&t, CHD_PATH "/vm/quiet", "ConsolePath");
	g_assert_cmpstr(pty, ==, "");
	CHCTL(&t, &r, "console", "quiet");
	g_assert_cmpint(r.status, ==, 4);
	assert_contains(r.err, "it has no console (is it running?)");

	CHCTL(&t, &r, "start", "quiet");
	g_assert_cmpint(r.status, ==, 0);
	g_free(pty);
	pty = chd_get_string(&t, CHD_PATH "/vm/quiet", "ConsolePath");
	g_assert_true(g_str_has_prefix(pty, "/dev/pts/"));
	CHCTL(&t, &r, "info", "quiet");
	assert_contains(r.out, "Console:");
	assert_contains(r.out, pty);

	l = launcher(&t, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
			     G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
	p = g_subprocess_launcher_spawn(l, &error, CHCTL_TEST_BINARY, "console", "quiet", NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p));
	err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(p));
	banner = read_line_with(err, "Connected to the console of 'quiet'; Ctrl-] leaves.");
	g_assert_nonnull(banner);
	line = read_line_with(out, "payload: halting");
	g_assert_nonnull(line);
	g_assert_true(g_output_stream_write_all(g_subprocess_get_stdin_pipe(p), "\x1d", 1, NULL, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_subprocess_wait(p, NULL, &error));
	g_assert_true(g_subprocess_get_if_exited(p));
	g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);

	/* Leaving the console leaves the VM running; when it stops, the path goes. */
	g_assert_true(chd_wait_property(&t, CHD_PATH "/vm/quiet", "State", "running", 1000));
	CHCTL(&t, &r, "destroy", "quiet");
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(chd_wait_property(&t, CHD_PATH "/vm/quiet", "ConsolePath", "", 10000));

	/* Everything the guest wrote on the pty is also in the default console log. */
	g_free(file);
	file = g_build_filename(t.dir, "log", "quiet.log", NULL);
	g_free(pty);
	pty = chd_get_string(&t, CHD_PATH "/vm/quiet", "PtyLog");
	g_assert_cmpstr(pty, ==, file);
	g_free(line);
	g_assert_true(g_file_get_contents(file, &line, NULL, NULL));
	assert_contains(line, "payload: halting");

	result_clear(&r);
	chd_test_teardown(&t);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chctl/definitions", test_definitions);
	g_test_add_func("/chctl/edit", test_edit);
	g_test_add_func("/chctl/completion", test_completion);
	g_test_add_func("/chctl/access-and-no-daemon", test_access_and_no_daemon);
	g_test_add_func("/chctl/events", test_events);
	if (access("/dev/kvm", R_OK | W_OK) == 0) {
		g_test_add_func("/chctl/lifecycle", test_lifecycle);
		g_test_add_func("/chctl/console-log", test_console_log);
		g_test_add_func("/chctl/console-pty", test_console_pty);
	}
	return g_test_run();
}
