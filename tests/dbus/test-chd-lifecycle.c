/* SPDX-License-Identifier: Apache-2.0 */
/* chd running real vmm-worker processes on this machine's /dev/kvm with the project's tiny
 * payloads (tests/payloads): start, suspend/resume, destroy, shutdown with escalation, Busy,
 * guest power-off, crashes and on_crash, transient VMs, and a chd killed with SIGKILL that finds
 * its workers again. Skipped where /dev/kvm is not usable. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chd-test.h"

static char *payload(const char *name)
{
	g_autofree char *file = g_strdup_printf("%s.elf", name);

	return g_build_filename(CHD_TEST_PAYLOADS, file, NULL);
}

static guint32 worker_pid(struct chd_test *t, const char *path)
{
	g_autoptr(GVariant) v = chd_get(t, path, "WorkerPID");

	return g_variant_get_uint32(v);
}

static gboolean get_bool(struct chd_test *t, const char *path, const char *property)
{
	g_autoptr(GVariant) v = chd_get(t, path, property);

	return g_variant_get_boolean(v);
}

static char *define_payload_vm(struct chd_test *t, const char *name, const char *payload_name, const char *extra)
{
	g_autofree char *kernel = payload(payload_name);
	g_autofree char *xml = g_strdup_printf("<domain type='kvm'><name>%s</name><memory unit='MiB'>64</memory>"
					       "<vcpu>1</vcpu><os><type>hvm</type><kernel>%s</kernel></os>%s"
					       "</domain>",
					       name, kernel, extra ? extra : "");

	return chd_define(t, xml);
}

static void start_ok(struct chd_test *t, const char *path)
{
	g_variant_unref(chd_call_ok(t, path, CHD_VM, "Start", NULL));
	g_assert_true(chd_wait_property(t, path, "State", "running", 0));
	g_assert_cmpuint(worker_pid(t, path), >, 0);
}

static void test_start_suspend_resume_destroy(void)
{
	struct chd_test t;
	g_autofree char *path = NULL;
	g_autofree char *proc = NULL;
	g_autofree char *rundir = NULL;
	g_autofree char *msg = NULL;

	chd_test_setup(&t);
	path = define_payload_vm(&t, "halt", "halt", NULL);
	start_ok(&t, path);
	g_assert_true(chd_wait_property(&t, path, "StateReason", "booted", 0));
	proc = g_strdup_printf("/proc/%u", worker_pid(&t, path));
	g_assert_true(g_file_test(proc, G_FILE_TEST_IS_DIR));
	rundir = g_build_filename(t.dir, "run", "vms", "halt", NULL);
	g_assert_true(g_file_test(rundir, G_FILE_TEST_IS_DIR));
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/halt started booted", 2000));
	g_assert_true(chd_wait_signal(&t, "PropertiesChanged " CHD_PATH "/vm/halt " CHD_VM " State='running'", 2000));

	msg = chd_call_error(&t, path, CHD_VM, "Start", NULL, CHD_ERROR("InvalidState"));
	g_assert_nonnull(strstr(msg, "running"));
	g_free(chd_call_error(&t, path, CHD_VM, "Resume", NULL, CHD_ERROR("InvalidState")));

	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Suspend", NULL));
	g_assert_true(chd_wait_property(&t, path, "State", "paused", 0));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "user", 0));
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/halt suspended user", 2000));
	g_free(chd_call_error(&t, path, CHD_VM, "Suspend", NULL, CHD_ERROR("InvalidState")));
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Resume", NULL));
	g_assert_true(chd_wait_property(&t, path, "State", "running", 0));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "unpaused", 0));

	/* Destroy returns once the worker is gone. */
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Destroy", NULL));
	g_assert_true(chd_wait_property(&t, path, "State", "shut-off", 0));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "destroyed", 0));
	g_assert_cmpuint(worker_pid(&t, path), ==, 0);
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/halt stopped destroyed", 2000));
	g_assert_false(g_file_test(proc, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(rundir, G_FILE_TEST_EXISTS));
	g_free(chd_call_error(&t, path, CHD_VM, "Destroy", NULL, CHD_ERROR("InvalidState")));
	g_free(chd_call_error(&t, path, CHD_VM, "Shutdown", g_variant_new("(u)", 1), CHD_ERROR("InvalidState")));
	chd_test_teardown(&t);
}

/* The halt payload ignores the power button: Shutdown holds the job lock until its timeout,
 * then stops the worker hard. */
static void test_shutdown_timeout_and_busy(void)
{
	struct chd_test t;
	g_autofree char *path = NULL;
	g_autofree char *msg = NULL;

	chd_test_setup(&t);
	path = define_payload_vm(&t, "stubborn", "halt", NULL);
	start_ok(&t, path);
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Shutdown", g_variant_new("(u)", 2)));
	g_assert_true(chd_wait_property(&t, path, "State", "shutting-down", 0));
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/stubborn shutdown power-button", 2000));

	msg = chd_call_error(&t, path, CHD_VM, "Suspend", NULL, CHD_ERROR("Busy"));
	g_assert_nonnull(strstr(msg, "shutdown"));
	g_clear_pointer(&msg, g_free);
	msg = chd_call_error(&t, path, CHD_VM, "Shutdown", g_variant_new("(u)", 2), CHD_ERROR("Busy"));
	g_assert_nonnull(strstr(msg, "stubborn"));

	g_assert_true(chd_wait_property(&t, path, "State", "shut-off", 15000));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "destroyed", 0));
	/* The lock is free again. */
	start_ok(&t, path);
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Destroy", NULL));
	chd_test_teardown(&t);
}

/* A guest that powers off by itself (ACPI S5): shut-off, reason shutdown. */
static void test_guest_poweroff(void)
{
	struct chd_test t;
	g_autofree char *path = NULL;
	g_autofree char *console = NULL;
	g_autofree char *text = NULL;
	g_autofree char *log = NULL;
	g_autofree char *serial = NULL;

	chd_test_setup(&t);
	log = g_build_filename(t.dir, "hello.console.log", NULL);
	serial = g_strdup_printf("<devices><serial type='file'><source path='%s'/></serial></devices>", log);
	path = define_payload_vm(&t, "hello", "hello", serial);
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Start", NULL));
	g_assert_true(chd_wait_property(&t, path, "State", "shut-off", 10000));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "shutdown", 0));
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/hello stopped shutdown", 2000));
	/* The guest's serial output landed in the console log. */
	console = chd_get_string(&t, path, "ConsoleLog");
	g_assert_cmpstr(console, ==, log);
	g_assert_true(g_file_get_contents(console, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "payload"));
	chd_test_teardown(&t);
}

static void test_crash_and_on_crash(void)
{
	struct chd_test t;
	g_autofree char *path = NULL;
	g_autofree char *phoenix = NULL;
	guint32 pid, pid2;

	chd_test_setup(&t);
	path = define_payload_vm(&t, "victim", "halt", NULL);
	start_ok(&t, path);
	g_assert_cmpint(kill(worker_pid(&t, path), SIGKILL), ==, 0);
	g_assert_true(chd_wait_property(&t, path, "State", "crashed", 5000));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "crashed", 0));
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/victim stopped crashed", 2000));
	/* A crashed VM starts again. */
	start_ok(&t, path);
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Destroy", NULL));

	/* on_crash=restart: chd boots it again with a new worker. */
	phoenix = define_payload_vm(&t, "phoenix", "halt", "<on_crash>restart</on_crash>");
	start_ok(&t, phoenix);
	pid = worker_pid(&t, phoenix);
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	g_assert_true(chd_wait_signal(&t, "Lifecycle " CHD_PATH "/vm/phoenix stopped crashed", 5000));
	g_assert_true(chd_wait_property(&t, phoenix, "State", "running", 5000));
	pid2 = worker_pid(&t, phoenix);
	g_assert_cmpuint(pid2, >, 0);
	g_assert_cmpuint(pid2, !=, pid);
	g_variant_unref(chd_call_ok(&t, phoenix, CHD_VM, "Destroy", NULL));
	g_assert_true(chd_wait_property(&t, phoenix, "State", "shut-off", 0));
	chd_test_teardown(&t);
}

/* A worker that cannot boot its kernel: Start fails with WorkerFailed naming the log. */
static void test_worker_failure(void)
{
	struct chd_test t;
	g_autofree char *path = NULL;
	g_autofree char *msg = NULL;
	g_autofree char *bogus = NULL;
	g_autofree char *xml = NULL;

	chd_test_setup(&t);
	bogus = g_build_filename(t.dir, "not-a-kernel", NULL);
	g_assert_true(g_file_set_contents(bogus, "garbage", -1, NULL));
	xml = chd_test_xml("broken", NULL, bogus);
	path = chd_define(&t, xml);
	msg = chd_call_error(&t, path, CHD_VM, "Start", NULL, CHD_ERROR("WorkerFailed"));
	g_assert_nonnull(strstr(msg, "broken"));
	g_assert_nonnull(strstr(msg, "broken.worker.log"));
	g_assert_true(chd_wait_property(&t, path, "State", "shut-off", 0));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "failed", 0));
	chd_test_teardown(&t);
}

static void test_transient_and_undefine_running(void)
{
	struct chd_test t;
	g_autofree char *kernel = payload("halt");
	g_autofree char *xml = chd_test_xml("ephemeral", NULL, kernel);
	g_autofree char *path = NULL;
	g_autofree char *kept = NULL;
	g_autofree char *stored = NULL;
	g_autoptr(GVariant) r = NULL;

	chd_test_setup(&t);
	r = chd_call_ok(&t, CHD_PATH, CHD_MANAGER, "CreateTransient", g_variant_new("(s)", xml));
	g_variant_get(r, "(o)", &path);
	g_assert_true(chd_wait_property(&t, path, "State", "running", 0));
	g_assert_false(get_bool(&t, path, "Persistent"));
	stored = g_build_filename(t.dir, "config", "vms", "ephemeral.xml", NULL);
	g_assert_false(g_file_test(stored, G_FILE_TEST_EXISTS));
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "CreateTransient", g_variant_new("(s)", xml),
			      CHD_ERROR("VMExists")));
	g_free(chd_call_error(&t, path, CHD_VM, "Undefine", NULL, CHD_ERROR("InvalidState")));
	g_free(chd_call_error(&t, path, CHD_VM, "SetAutostart", g_variant_new("(b)", TRUE),
			      CHD_ERROR("InvalidState")));
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Destroy", NULL));
	g_assert_true(chd_wait_signal(&t, "InterfacesRemoved " CHD_PATH " " CHD_PATH "/vm/ephemeral", 2000));
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "LookupByName", g_variant_new("(s)", "ephemeral"),
			      CHD_ERROR("NoSuchVM")));

	/* Undefining a running VM makes it transient; it goes away when it stops. */
	kept = define_payload_vm(&t, "kept", "halt", NULL);
	start_ok(&t, kept);
	g_variant_unref(chd_call_ok(&t, kept, CHD_VM, "Undefine", NULL));
	g_assert_false(get_bool(&t, kept, "Persistent"));
	g_assert_true(chd_wait_property(&t, kept, "State", "running", 0));
	g_variant_unref(chd_call_ok(&t, kept, CHD_VM, "Destroy", NULL));
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "LookupByName", g_variant_new("(s)", "kept"),
			      CHD_ERROR("NoSuchVM")));
	chd_test_teardown(&t);
}

/* kill -9 chd: a new chd finds the running workers (persistent and transient) and controls them. */
static void test_daemon_restart(void)
{
	struct chd_test t;
	g_autofree char *path = NULL;
	g_autofree char *kernel = payload("halt");
	g_autofree char *xml = chd_test_xml("survivor", NULL, kernel);
	g_autofree char *tpath = NULL;
	g_autoptr(GVariant) r = NULL;
	guint32 pid, tpid;

	chd_test_setup(&t);
	path = define_payload_vm(&t, "steady", "halt", NULL);
	start_ok(&t, path);
	pid = worker_pid(&t, path);
	r = chd_call_ok(&t, CHD_PATH, CHD_MANAGER, "CreateTransient", g_variant_new("(s)", xml));
	g_variant_get(r, "(o)", &tpath);
	tpid = worker_pid(&t, tpath);

	chd_test_stop_daemon(&t, SIGKILL);
	g_assert_cmpint(kill(pid, 0), ==, 0);
	chd_test_start_daemon(&t);

	g_assert_true(chd_wait_property(&t, path, "State", "running", 2000));
	g_assert_true(chd_wait_property(&t, path, "StateReason", "reconnected", 0));
	g_assert_cmpuint(worker_pid(&t, path), ==, pid);
	g_assert_true(chd_wait_property(&t, tpath, "State", "running", 2000));
	g_assert_false(get_bool(&t, tpath, "Persistent"));
	g_assert_cmpuint(worker_pid(&t, tpath), ==, tpid);

	/* Controllable: suspend, resume, and a crash is noticed. */
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Suspend", NULL));
	g_assert_true(chd_wait_property(&t, path, "State", "paused", 0));
	g_variant_unref(chd_call_ok(&t, path, CHD_VM, "Resume", NULL));
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	g_assert_true(chd_wait_property(&t, path, "State", "crashed", 5000));
	g_variant_unref(chd_call_ok(&t, tpath, CHD_VM, "Destroy", NULL));
	g_free(chd_call_error(&t, CHD_PATH, CHD_MANAGER, "LookupByName", g_variant_new("(s)", "survivor"),
			      CHD_ERROR("NoSuchVM")));
	chd_test_teardown(&t);
}

/* chd drives workers through their control socket; a worker built without it cannot be managed. */
static gboolean worker_has_control_socket(void)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	char *argv[] = {CHD_TEST_WORKER, "--help", NULL};

	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, NULL, NULL))
		return FALSE;
	return strstr(out, "--control-socket") || strstr(err, "--control-socket");
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		g_test_skip("/dev/kvm is not usable here");
		return g_test_run();
	}
	if (!worker_has_control_socket()) {
		g_test_skip("this vmm-worker has no --control-socket option (the Worker interface) yet");
		return g_test_run();
	}
	g_test_add_func("/chd/lifecycle/start-suspend-resume-destroy", test_start_suspend_resume_destroy);
	g_test_add_func("/chd/lifecycle/shutdown-timeout-busy", test_shutdown_timeout_and_busy);
	g_test_add_func("/chd/lifecycle/guest-poweroff", test_guest_poweroff);
	g_test_add_func("/chd/lifecycle/crash-on-crash", test_crash_and_on_crash);
	g_test_add_func("/chd/lifecycle/worker-failure", test_worker_failure);
	g_test_add_func("/chd/lifecycle/transient-undefine-running", test_transient_and_undefine_running);
	g_test_add_func("/chd/lifecycle/daemon-restart", test_daemon_restart);
	return g_test_run();
}
