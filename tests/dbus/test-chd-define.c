/* SPDX-License-Identifier: Apache-2.0 */
/* chd's D-Bus API without running VMs: Manager methods and properties, definitions on disk, VM
 * properties, autostart, undefine, errors, signals, access control, SIGTERM and sd_notify. */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chd-test.h"

#define UUID_A "6f1c7a52-3d0b-4c1e-9a55-2f6b1d0e8c11"
#define UUID_B "0b8e2f61-5a4d-4f7e-8b21-7c9d3e1a6f22"

static char *kernel_path(void)
{
	return g_build_filename(CHD_TEST_PAYLOADS, "halt.elf", NULL);
}

static char *definition_file(struct chd_test *t, const char *name)
{
	g_autofree char *file = g_strdup_printf("%s.xml", name);

	return g_build_filename(t->dir, "config", "vms", file, NULL);
}

static guint count_definitions(struct chd_test *t)
{
	g_autofree char *dir = g_build_filename(t->dir, "config", "vms", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *e;
	guint n = 0;

	while (d && (e = g_dir_read_name(d)))
		n += g_str_has_suffix(e, ".xml");
	return n;
}

/* gdbus as user nobody: calls method (with up to two arguments) on path and checks that the call
 * succeeded (or failed) and that its output contains want. */
static void nobody_calls(struct chd_test *t, const char *path, const char *method, const char *arg1,
			 const char *arg2, gboolean success, const char *want)
{
	g_autofree char *out = NULL;
	char *argv[] = {"gdbus", "call", "--address", t->address, "--dest", CHD_NAME, "--object-path", (char *)path,
			"--method", (char *)method, (char *)arg1, (char *)arg2, NULL};
	int status = chd_run_as_nobody(argv, &out);

	if (success)
		g_assert_cmpint(status, ==, 0);
	else
		g_assert_cmpint(status, !=, 0);
	g_assert_nonnull(strstr(out, want));
}

static void test_manager_properties(void)
{
	struct chd_test t;
	g_autofree char *version = NULL;
	g_autofree char *mode = NULL;
	g_autoptr(GVariant) xml = NULL;
	const char *introspection;

	chd_test_setup(&t);
	version = chd_get_string(&t, CHD_PATH, "Version");
	g_assert_cmpstr(version, ==, PACKAGE_VERSION);
	mode = chd_get_string(&t, CHD_PATH, "Mode");
	g_assert_cmpstr(mode, ==, "user");

	xml = chd_call_ok(&t, CHD_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", NULL);
	g_variant_get(xml, "(&s)", &introspection);
	g_assert_nonnull(strstr(introspection, "org.cloudhypervisor.chd1.Manager"));
	g_assert_nonnull(strstr(introspection, "org.freedesktop.DBus.ObjectManager"));
	g_assert_nonnull(strstr(introspection, "CreateTransient"));
	chd_test_teardown(&t);
}

static void test_define_lookup_list(void)
{
	struct chd_test t;
	g_autofree char *kernel = kernel_path();
	g_autofree char *xml = chd_test_xml("web-1", UUID_A, kernel);
	g_autofree char *path = NULL;
	g_autofree char *file = NULL;
	g_autofree char *upper = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GVariant) objects = NULL;
	g_autoptr(GVariant) v = NULL;
	const char *got_path, *got_name, *got_uuid, *got_state, *stored;
	GVariantIter *it;

	chd_test_setup(&t);
	path = chd_define(&t, xml);
	/* sd_bus_path_encode: '-' is escaped as _2d. */
	g_assert_cmpstr(path, ==, CHD_PATH "/vm/web_2d1");
	file = definition_file(&t, "web-1");
	g_assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR));
	g_assert_true(chd_wait_signal(&t, "InterfacesAdded " CHD_PATH " " CHD_PATH "/vm/web_2d1", 2000));
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/web_2d1 defined new", 2000));

	r = chd_call_ok(&t, CHD_PATH, CHD_MANAGER, "LookupByName", g_variant_new("(s)", "web-1"));
	g_variant_get(r, "(&o)", &got_path);
	g_assert_cmpstr(got_path, ==, path);
	g_clear_pointer(&r, g_variant_unref);
	upper = g_ascii_strup(UUID_A, -1);
	r = chd_call_ok(&t, CHD_PATH, CHD_MANAGER, "LookupByUUID", g_variant_new("(s)", upper));
	g_variant_get(r, "(&o)", &got_path);
	g_assert_cmpstr(got_path, ==, path);

	list = chd_call_ok(&t, CHD_PATH, CHD_MANAGER, "List", NULL);
	g_variant_get(list, "(a(osss))", &it);
	g_assert_true(g_variant_iter_next(it, "(&o&s&s&s)", &got_path, &got_name, &got_uuid, &got_state));
	g_assert_cmpstr(got_path, ==, path);
	g_assert_cmpstr(got_name, ==, "web-1");
	g_assert_cmpstr(got_uuid, ==, UUID_A);
	g_assert_cmpstr(got_state, ==, "shut-off");
	g_assert_false(g_variant_iter_next(it, "(&o&s&s&s)", &got_path, &got_name, &got_uuid, &got_state));
	g_variant_iter_free(it);

	/* Every property of a defined, never started VM. */
	g_assert_true(chd_wait_property(&t, path, "Name", "web-1", 0));
	g_assert_true(chd_wait_property(&t, path, "UUID", UUID_A, 0));
	g_assert_true(chd_wait_property(&t, path, "State", "shut-off", 0));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "none", 0));
	v = chd_get(&t, path, "Persistent");
	g_assert_true(g_variant_get_boolean(v));
	g_clear_pointer(&v, g_variant_unref);
	v = chd_get(&t, path, "Autostart");
	g_assert_false(g_variant_get_boolean(v));
	g_clear_pointer(&v, g_variant_unref);
	v = chd_get(&t, path, "VCPUs");
	g_assert_cmpuint(g_variant_get_uint32(v), ==, 1);
	g_clear_pointer(&v, g_variant_unref);
	v = chd_get(&t, path, "Memory");
	g_assert_cmpuint(g_variant_get_uint64(v), ==, 64ULL << 20);
	g_clear_pointer(&v, g_variant_unref);
	v = chd_get(&t, path, "WorkerPID");
	g_assert_cmpuint(g_variant_get_uint32(v), ==, 0);
	g_clear_pointer(&v, g_variant_unref);
	/* No serial port in this definition: no console log. */
	v = chd_get(&t, path, "ConsoleLog");
	g_assert_cmpstr(g_variant_get_string(v, NULL), ==, "");

	/* GetXML: the canonical definition, both flavours; unknown flags refused. */
	g_clear_pointer(&r, g_variant_unref);
	r = chd_call_ok(&t, path, CHD_VM, "GetXML", g_variant_new("(u)", 0));
	g_variant_get(r, "(&s)", &stored);
	g_assert_nonnull(strstr(stored, "<name>web-1</name>"));
	g_assert_nonnull(strstr(stored, UUID_A));
	g_assert_nonnull(strstr(stored, kernel));
	g_clear_pointer(&r, g_variant_unref);
	r = chd_call_ok(&t, path, CHD_VM, "GetXML", g_variant_new("(u)", 1));
	g_free(chd_call_error(&t, path, CHD_VM, "GetXML", g_variant_new("(u)", 2), CHD_ERROR("InvalidArgument")));

	/* The worker command line names the kernel and the memory size. */
	g_clear_pointer(&r, g_variant_unref);
	r = chd_call_ok(&t, path, CHD_VM, "GetWorkerCommandLine", NULL);
	{
		g_autofree const char **argv = NULL;
		g_autofree char *joined = NULL;
		GVariant *strv = g_variant_get_child_value(r, 0);

		argv = g_variant_get_strv(strv, NULL);
		joined = g_strjoinv(" ", (char **)argv);
		g_assert_cmpstr(argv[0], ==, CHD_TEST_WORKER);
		g_assert_nonnull(strstr(joined, "--kernel"));
		g_assert_nonnull(strstr(joined, kernel));
		g_variant_unref(strv);
	}

	/* The object manager lists the VM with its properties. */
	objects = chd_call_ok(&t, CHD_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL);
	{
		g_autofree char *text = g_variant_print(objects, FALSE);

		g_assert_nonnull(strstr(text, "web_2d1"));
		g_assert_nonnull(strstr(text, "'State': <'shut-off'>"));
	}
	chd_test_teardown(&t);
}

static void test_invalid_definitions(void)
{
	struct chd_test t;
	g_autofree char *kernel = kernel_path();
	g_autofree char *msg = NULL;
	g_autofree char *bad_name = chd_test_xml("a/b", NULL, kernel);

	chd_test_setup(&t);
	/* Malformed XML: refused, nothing stored. */
	msg = chd_call_error(&t, CHD_PATH, CHD_MANAGER, "Define", g_variant_new("(s)", "<domain type='kvm'><name>x"),
			     CHD_ERROR("InvalidDefinition"));
	g_assert_nonnull(strstr(msg, "line"));
	g_clear_pointer(&msg, g_free);
	/* An element we cannot honour is named. */
	msg = chd_call_error(&t, CHD_PATH, CHD_MANAGER, "Define",
			     g_variant_new("(s)", "<domain type='kvm'><name>x</name><memory>65536</memory>"
						  "<vcpu>1</vcpu><os><type>hvm</type><kernel>/k</kernel></os>"
						  "<devices><sound model='ich9'/></devices></domain>"),
			     CHD_ERROR("InvalidDefinition"));
	g_assert_nonnull(strstr(msg, "sound"));
	g_clear_pointer(&msg, g_free);
	/* A name that cannot be a file name. */
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "Define", g_variant_new("(s)", bad_name),
			      CHD_ERROR("InvalidDefinition")));
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "CreateTransient", g_variant_new("(s)", "not xml"),
			      CHD_ERROR("InvalidDefinition")));
	g_assert_cmpuint(count_definitions(&t), ==, 0);
	chd_test_teardown(&t);
}

static void test_conflicts_and_redefine(void)
{
	struct chd_test t;
	g_autofree char *kernel = kernel_path();
	g_autofree char *a = chd_test_xml("alpha", UUID_A, kernel);
	g_autofree char *a_other_uuid = chd_test_xml("alpha", UUID_B, kernel);
	g_autofree char *b_same_uuid = chd_test_xml("beta", UUID_A, kernel);
	g_autofree char *a_no_uuid = chd_test_xml("alpha", NULL, kernel);
	g_autofree char *path = NULL;
	g_autofree char *again = NULL;
	g_autofree char *msg = NULL;

	chd_test_setup(&t);
	path = chd_define(&t, a);
	msg = chd_call_error(&t, CHD_PATH, CHD_MANAGER, "Define", g_variant_new("(s)", a_other_uuid),
			     CHD_ERROR("VMExists"));
	g_assert_nonnull(strstr(msg, "alpha"));
	g_clear_pointer(&msg, g_free);
	msg = chd_call_error(&t, CHD_PATH, CHD_MANAGER, "Define", g_variant_new("(s)", b_same_uuid),
			     CHD_ERROR("VMExists"));
	g_assert_nonnull(strstr(msg, UUID_A));
	g_assert_cmpuint(count_definitions(&t), ==, 1);
	/* Same name, no uuid: an update that keeps the uuid. */
	again = chd_define(&t, a_no_uuid);
	g_assert_cmpstr(again, ==, path);
	g_assert_true(chd_wait_property(&t, path, "UUID", UUID_A, 0));
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/alpha defined updated", 2000));
	chd_test_teardown(&t);
}

static void test_no_such_vm(void)
{
	struct chd_test t;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	chd_test_setup(&t);
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "LookupByName", g_variant_new("(s)", "nope"),
			      CHD_ERROR("NoSuchVM")));
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "LookupByUUID", g_variant_new("(s)", UUID_B),
			      CHD_ERROR("NoSuchVM")));
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "LookupByUUID", g_variant_new("(s)", "not-a-uuid"),
			      CHD_ERROR("InvalidArgument")));
	/* No object, no methods. */
	r = chd_call(&t, CHD_PATH "/vm/nope", CHD_VM, "Start", NULL, &error);
	g_assert_null(r);
	g_assert_nonnull(error);
	chd_test_teardown(&t);
}

static void test_autostart_and_undefine(void)
{
	struct chd_test t;
	g_autofree char *kernel = kernel_path();
	g_autofree char *xml = chd_test_xml("auto", NULL, kernel);
	g_autofree char *path = NULL;
	g_autofree char *mark = NULL;
	g_autoptr(GVariant) v = NULL;

	chd_test_setup(&t);
	path = chd_define(&t, xml);
	mark = g_build_filename(t.dir, "config", "vms", "autostart", "auto.xml", NULL);

	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "SetAutostart", g_variant_new("(b)", TRUE)));
	v = chd_get(&t, path, "Autostart");
	g_assert_true(g_variant_get_boolean(v));
	g_assert_true(g_file_test(mark, G_FILE_TEST_IS_SYMLINK));
	g_assert_true(chd_wait_signal(&t, "PropertiesChanged " CHD_PATH "/vm/auto " CHD_VM " Autostart=true", 2000));
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "SetAutostart", g_variant_new("(b)", FALSE)));
	g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));

	/* A restarted chd finds the definition and the autostart mark again. */
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "SetAutostart", g_variant_new("(b)", TRUE)));
	g_assert_cmpint(chd_test_stop_daemon(&t, SIGTERM), ==, 0);
	chd_test_start_daemon(&t);
	g_clear_pointer(&v, g_variant_unref);
	v = chd_get(&t, path, "Autostart");
	g_assert_true(g_variant_get_boolean(v));

	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Undefine", NULL));
	g_assert_true(chd_wait_signal(&t, "InterfacesRemoved " CHD_PATH " " CHD_PATH "/vm/auto", 2000));
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/auto undefined", 2000));
	g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(count_definitions(&t), ==, 0);
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "LookupByName", g_variant_new("(s)", "auto"),
			      CHD_ERROR("NoSuchVM")));
	chd_test_teardown(&t);
}

/* A client of another uid may read but not change (the uid authorization of a user-mode chd). */
static void test_access_control(void)
{
	struct chd_test t;
	g_autofree char *kernel = kernel_path();
	g_autofree char *xml = chd_test_xml("guarded", NULL, kernel);
	g_autofree char *other = chd_test_xml("intruder", NULL, kernel);
	g_autofree char *path = NULL;

	chd_test_setup(&t);
	path = chd_define(&t, xml);
	nobody_calls(&t, CHD_PATH, CHD_MANAGER ".List", NULL, NULL, TRUE, "guarded");
	nobody_calls(&t, CHD_PATH, CHD_MANAGER ".Define", other, NULL, FALSE, CHD_ERROR("AccessDenied"));
	nobody_calls(&t, path, CHD_VM ".Undefine", NULL, NULL, FALSE, CHD_ERROR("AccessDenied"));
	nobody_calls(&t, path, CHD_VM ".Start", NULL, NULL, FALSE, CHD_ERROR("AccessDenied"));
	/* Nothing changed: one definition, still shut off. */
	g_assert_cmpuint(count_definitions(&t), ==, 1);
	g_assert_true(chd_wait_property(&t, path, "State", "shut-off", 0));
	chd_test_teardown(&t);
}

/* data/dbus/org.cloudhypervisor.chd1.conf on a bus: everyone reads, mutating calls reach chd
 * (which decides), anything else is refused by the bus itself. */
static void test_bus_policy(void)
{
	struct chd_test t;
	g_autofree char *kernel = kernel_path();
	g_autofree char *xml = chd_test_xml("policed", NULL, kernel);
	g_autofree char *path = NULL;

	chd_test_setup_with_policy(&t, CHD_TEST_SRCDIR "/data/dbus/org.cloudhypervisor.chd1.conf");
	path = chd_define(&t, xml);
	nobody_calls(&t, path, CHD_VM ".GetXML", "0", NULL, TRUE, "policed");
	nobody_calls(&t, path, "org.freedesktop.DBus.Properties.Get", CHD_VM, "State", TRUE, "shut-off");
	/* Passed by the bus, refused by chd. */
	nobody_calls(&t, path, CHD_VM ".Start", NULL, NULL, FALSE, CHD_ERROR("AccessDenied"));
	/* Not in the policy: the bus refuses before chd sees it. */
	nobody_calls(&t, path, "org.freedesktop.DBus.Properties.Set", CHD_VM, "Autostart", FALSE,
		     "org.freedesktop.DBus.Error.AccessDenied");
	chd_test_teardown(&t);
}

/* --authz=polkit with the real polkitd on the test bus, our policy file and a rule that lets
 * nobody control VMs (lifecycle) but not change definitions (define). */
static void test_polkit(void)
{
	static const char rules[] =
	    "polkit.addRule(function(action, subject) {\n"
	    "    if (action.id == 'org.cloudhypervisor.chd1.lifecycle' && subject.user == 'nobody')\n"
	    "        return polkit.Result.YES;\n"
	    "});\n";
	struct chd_test t;
	g_autofree char *kernel = kernel_path();
	g_autofree char *xml = chd_test_xml("pk", NULL, kernel);
	g_autofree char *other = chd_test_xml("pk2", NULL, kernel);
	g_autofree char *path = NULL;

	chd_test_setup(&t);
	if (!chd_test_start_polkit(&t, rules)) {
		chd_test_teardown(&t);
		g_test_skip("polkitd or mount namespaces are not available here");
		return;
	}
	chd_test_stop_daemon(&t, SIGTERM);
	t.authz = "polkit";
	chd_test_start_daemon(&t);
	/* root needs no polkit. */
	path = chd_define(&t, xml);
	nobody_calls(&t, CHD_PATH, CHD_MANAGER ".Define", other, NULL, FALSE, "org.cloudhypervisor.chd1.define");
	nobody_calls(&t, path, CHD_VM ".SetAutostart", "true", NULL, FALSE, CHD_ERROR("AccessDenied"));
	/* Allowed by the rule: chd goes on and finds the VM is not running. */
	nobody_calls(&t, path, CHD_VM ".Destroy", NULL, NULL, FALSE, CHD_ERROR("InvalidState"));
	g_assert_cmpuint(count_definitions(&t), ==, 1);
	chd_test_teardown(&t);
}

/* SIGTERM ends chd with status 0, and it tells its supervisor READY=1 first. */
static void test_notify_and_sigterm(void)
{
	struct chd_test t;
	g_autofree char *sock_path = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[256] = "";
	int fd, status;
	ssize_t n;

	chd_test_setup(&t);
	chd_test_stop_daemon(&t, SIGTERM);

	sock_path = g_build_filename(t.dir, "notify", NULL);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(sa.sun_path, sock_path, sizeof(sa.sun_path));
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_setenv("NOTIFY_SOCKET", sock_path, TRUE);
	chd_test_start_daemon(&t);
	g_unsetenv("NOTIFY_SOCKET");
	/* READY=1 follows the bus name by a moment. */
	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){.tv_sec = 5}, sizeof(struct timeval)), ==, 0);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	g_assert_cmpint(n, >, 0);
	g_assert_nonnull(strstr(buf, "READY=1"));
	close(fd);

	status = chd_test_stop_daemon(&t, SIGTERM);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	chd_test_teardown(&t);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chd/manager/properties", test_manager_properties);
	g_test_add_func("/chd/define/lookup-list-properties", test_define_lookup_list);
	g_test_add_func("/chd/define/invalid", test_invalid_definitions);
	g_test_add_func("/chd/define/conflicts", test_conflicts_and_redefine);
	g_test_add_func("/chd/errors/no-such-vm", test_no_such_vm);
	g_test_add_func("/chd/vm/autostart-undefine", test_autostart_and_undefine);
	g_test_add_func("/chd/access/uid", test_access_control);
	g_test_add_func("/chd/access/bus-policy", test_bus_policy);
	g_test_add_func("/chd/access/polkit", test_polkit);
	g_test_add_func("/chd/daemon/notify-sigterm", test_notify_and_sigterm);
	return g_test_run();
}
