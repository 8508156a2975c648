/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chd-test.h"

static const char bus_config[] =
    "<busconfig>\n"
    "  <listen>unix:path=%s/bus</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context='default'>\n"
    "    <allow user='*'/>\n"
    "    <allow own='*'/>\n"
    "    <allow send_destination='*' eavesdrop='true'/>\n"
    "    <allow eavesdrop='true'/>\n"
    "    <allow receive_sender='*'/>\n"
    "  </policy>\n"
    "%s"
    "</busconfig>\n";

static void on_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
		      const char *member, GVariant *params, gpointer userdata)
{
	struct chd_test *t = userdata;
	GString *s = g_string_new(NULL);

	g_string_printf(s, "%s %s", member, path);
	for (gsize i = 0; i < g_variant_n_children(params); i++) {
		g_autoptr(GVariant) v = g_variant_get_child_value(params, i);

		if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ||
		    g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH)) {
			g_string_append_printf(s, " %s", g_variant_get_string(v, NULL));
		} else if (g_variant_is_of_type(v, G_VARIANT_TYPE("a{sv}"))) {
			GVariantIter it;
			const char *key;
			GVariant *value;

			g_variant_iter_init(&it, v);
			while (g_variant_iter_next(&it, "{&sv}", &key, &value)) {
				g_autofree char *text = g_variant_print(value, FALSE);

				g_string_append_printf(s, " %s=%s", key, text);
				g_variant_unref(value);
			}
		}
	}
	g_ptr_array_add(t->signals, g_string_free(s, FALSE));
}

/* A process that outlives a failed (aborted) test: when the test process dies, the pipe closes and
 * it kills what the test started (chd, the workers, the bus) and removes the folder. */
static const char reaper_script[] =
    "cat >/dev/null\n"
    "d=$1\n"
    "[ -d \"$d\" ] || exit 0\n"
    "[ -f \"$d/chd.pid\" ] && kill -9 $(cat \"$d/chd.pid\") 2>/dev/null\n"
    "for p in \"$d\"/run/vms/*/pid; do [ -f \"$p\" ] && kill -9 $(cat \"$p\") 2>/dev/null; done\n"
    "[ -f \"$d/polkit.pid\" ] && kill $(cat \"$d/polkit.pid\") 2>/dev/null\n"
    "[ -f \"$d/bus.pid\" ] && kill $(cat \"$d/bus.pid\") 2>/dev/null\n"
    "rm -rf \"$d\"\n";

static void start_reaper(struct chd_test *t)
{
	int fds[2];
	pid_t pid;

	g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, NULL));
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		setsid();
		dup2(fds[0], 0);
		execl("/bin/sh", "sh", "-c", reaper_script, "reaper", t->dir, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	t->reaper_fd = fds[1];
	t->reaper_pid = pid;
}

static void write_pid(struct chd_test *t, const char *file, GPid pid)
{
	g_autofree char *path = g_build_filename(t->dir, file, NULL);
	g_autofree char *text = g_strdup_printf("%d\n", pid);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

void chd_test_setup(struct chd_test *t)
{
	chd_test_setup_with_policy(t, NULL);
}

void chd_test_setup_with_policy(struct chd_test *t, const char *policy)
{
	g_autofree char *include = policy ? g_strdup_printf("  <include>%s</include>\n", policy) : g_strdup("");
	g_autofree char *config = NULL;
	g_autofree char *config_path = NULL;
	g_autoptr(GError) error = NULL;
	char *bus_argv[] = {"dbus-daemon", "--nofork", "--print-address=1", NULL, NULL};
	int out_fd;
	char buf[512];
	ssize_t n;

	memset(t, 0, sizeof(*t));
	t->dir = g_dir_make_tmp("chd-test-XXXXXX", &error);
	g_assert_no_error(error);
	/* The unprivileged client of the access tests must reach the bus socket. */
	g_assert_cmpint(g_chmod(t->dir, 0755), ==, 0);
	config = g_strdup_printf(bus_config, t->dir, include);
	config_path = g_build_filename(t->dir, "bus.conf", NULL);
	g_assert_true(g_file_set_contents(config_path, config, -1, NULL));
	bus_argv[3] = g_strdup_printf("--config-file=%s", config_path);

	g_assert_true(g_spawn_async_with_pipes(NULL, bus_argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
					       NULL, NULL, &t->bus_pid, NULL, &out_fd, NULL, &error));
	g_assert_no_error(error);
	g_free(bus_argv[3]);
	write_pid(t, "bus.pid", t->bus_pid);
	start_reaper(t);
	n = read(out_fd, buf, sizeof(buf) - 1);
	close(out_fd);
	g_assert_cmpint(n, >, 0);
	buf[n] = 0;
	t->address = g_strdup(g_strstrip(buf));

	t->conn = g_dbus_connection_new_for_address_sync(
	    t->address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);
	g_assert_no_error(error);
	t->signals = g_ptr_array_new_with_free_func(g_free);
	t->signal_sub = g_dbus_connection_signal_subscribe(t->conn, NULL, NULL, NULL, NULL, NULL,
							   G_DBUS_SIGNAL_FLAGS_NONE, on_signal, t, NULL);
	chd_test_start_daemon(t);
}

static gboolean name_has_owner(struct chd_test *t, const char *name);

static gboolean chd_has_owner(struct chd_test *t)
{
	return name_has_owner(t, CHD_NAME);
}

void chd_test_start_daemon(struct chd_test *t)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bus = g_strdup_printf("--bus-address=%s", t->address);
	g_autofree char *config = g_strdup_printf("--config-dir=%s/config", t->dir);
	g_autofree char *runtime = g_strdup_printf("--runtime-dir=%s/run", t->dir);
	g_autofree char *log = g_strdup_printf("--log-dir=%s/log", t->dir);
	g_autofree char *worker = g_strdup_printf("--worker=%s", CHD_TEST_WORKER);
	g_autofree char *authz = g_strdup_printf("--authz=%s", t->authz ? t->authz : "uid");
	char *argv[] = {CHD_TEST_DAEMON, "--user", bus, config, runtime, log, worker, authz,
			"--no-autostart", "--debug", NULL};

	g_assert_true(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &t->chd_pid, &error));
	g_assert_no_error(error);
	write_pid(t, "chd.pid", t->chd_pid);
	for (int i = 0; i < 500 && !chd_has_owner(t); i++)
		g_usleep(10000);
	g_assert_true(chd_has_owner(t));
}

#define POLKITD "/usr/lib/polkit-1/polkitd"

static gboolean name_has_owner(struct chd_test *t, const char *name)
{
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(t->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
							    "org.freedesktop.DBus", "NameHasOwner",
							    g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"),
							    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	gboolean owned = FALSE;

	if (r)
		g_variant_get(r, "(b)", &owned);
	return owned;
}

gboolean chd_test_start_polkit(struct chd_test *t, const char *rules)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *actions = g_build_filename(t->dir, "polkit-actions", NULL);
	g_autofree char *rules_dir = g_build_filename(t->dir, "polkit-rules", NULL);
	g_autofree char *policy = NULL;
	g_autofree char *policy_copy = g_build_filename(actions, "org.cloudhypervisor.chd1.policy", NULL);
	g_autofree char *rules_file = g_build_filename(rules_dir, "50-chd-test.rules", NULL);
	g_autofree char *script = NULL;
	g_autofree char *env_bus = g_strdup_printf("DBUS_SYSTEM_BUS_ADDRESS=%s", t->address);
	char *envp[] = {env_bus, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};

	if (!g_file_test(POLKITD, G_FILE_TEST_IS_EXECUTABLE) || geteuid() != 0)
		return FALSE;
	g_assert_true(g_file_get_contents(CHD_TEST_SRCDIR "/data/dbus/org.cloudhypervisor.chd1.policy", &policy,
					  NULL, NULL));
	g_assert_cmpint(g_mkdir(actions, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(rules_dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(policy_copy, policy, -1, NULL));
	g_assert_true(g_file_set_contents(rules_file, rules, -1, NULL));
	g_assert_cmpint(g_chmod(policy_copy, 0644), ==, 0);
	g_assert_cmpint(g_chmod(rules_file, 0644), ==, 0);
	/* polkitd reads fixed folders: give it ours in a mount namespace of its own. */
	script = g_strdup_printf("mount --bind '%s' /usr/share/polkit-1/actions && "
				 "mount --bind '%s' /etc/polkit-1/rules.d && exec " POLKITD " --no-debug",
				 actions, rules_dir);
	{
		char *argv[] = {"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, NULL};

		if (!g_spawn_async(NULL, argv, envp, G_SPAWN_SEARCH_PATH_FROM_ENVP | G_SPAWN_DO_NOT_REAP_CHILD, NULL,
				   NULL, &t->polkit_pid, &error))
			return FALSE;
	}
	write_pid(t, "polkit.pid", t->polkit_pid);
	for (int i = 0; i < 500 && !name_has_owner(t, "org.freedesktop.PolicyKit1"); i++) {
		if (waitpid(t->polkit_pid, NULL, WNOHANG) == t->polkit_pid) {
			t->polkit_pid = 0;
			return FALSE;
		}
		g_usleep(10000);
	}
	return name_has_owner(t, "org.freedesktop.PolicyKit1");
}

int chd_test_stop_daemon(struct chd_test *t, int sig)
{
	int status = -1;

	if (t->chd_pid <= 0)
		return -1;
	kill(t->chd_pid, sig);
	waitpid(t->chd_pid, &status, 0);
	t->chd_pid = 0;
	/* Let the bus notice the name is gone. */
	for (int i = 0; i < 200 && chd_has_owner(t); i++)
		g_usleep(10000);
	return status;
}

/* Kills workers the test left behind: their pid files are in run/vms/<name>/pid. */
static void kill_leftover_workers(struct chd_test *t)
{
	g_autofree char *vms = g_build_filename(t->dir, "run", "vms", NULL);
	g_autoptr(GDir) d = g_dir_open(vms, 0, NULL);
	const char *entry;

	while (d && (entry = g_dir_read_name(d))) {
		g_autofree char *pidfile = g_build_filename(vms, entry, "pid", NULL);
		g_autofree char *text = NULL;

		if (g_file_get_contents(pidfile, &text, NULL, NULL) && atoi(text) > 0)
			kill(atoi(text), SIGKILL);
	}
}

void chd_test_teardown(struct chd_test *t)
{
	g_autofree char *cmd = NULL;

	chd_test_stop_daemon(t, SIGTERM);
	kill_leftover_workers(t);
	if (t->polkit_pid > 0) {
		kill(t->polkit_pid, SIGTERM);
		waitpid(t->polkit_pid, NULL, 0);
	}
	g_dbus_connection_signal_unsubscribe(t->conn, t->signal_sub);
	g_clear_object(&t->conn);
	kill(t->bus_pid, SIGTERM);
	waitpid(t->bus_pid, NULL, 0);
	cmd = g_strdup_printf("rm -rf '%s'", t->dir);
	g_assert_cmpint(system(cmd), ==, 0);
	/* Nothing left for the reaper: it finds no folder and exits. */
	close(t->reaper_fd);
	waitpid(t->reaper_pid, NULL, 0);
	g_ptr_array_unref(t->signals);
	g_free(t->address);
	g_free(t->dir);
}

GVariant *chd_call(struct chd_test *t, const char *path, const char *iface, const char *method, GVariant *args,
		   GError **error)
{
	return g_dbus_connection_call_sync(t->conn, CHD_NAME, path, iface, method, args, NULL,
					   G_DBUS_CALL_FLAGS_NONE, 20000, NULL, error);
}

GVariant *chd_call_ok(struct chd_test *t, const char *path, const char *iface, const char *method, GVariant *args)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = chd_call(t, path, iface, method, args, &error);

	g_assert_no_error(error);
	return r;
}

char *chd_call_error(struct chd_test *t, const char *path, const char *iface, const char *method, GVariant *args,
		     const char *error_name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = chd_call(t, path, iface, method, args, &error);
	g_autofree char *remote = NULL;

	g_assert_null(r);
	g_assert_nonnull(error);
	remote = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(remote, ==, error_name);
	g_dbus_error_strip_remote_error(error);
	return g_strdup(error->message);
}

GVariant *chd_get(struct chd_test *t, const char *path, const char *property)
{
	g_autoptr(GVariant) r = chd_call_ok(t, path, "org.freedesktop.DBus.Properties", "Get",
					    g_variant_new("(ss)", strcmp(path, CHD_PATH) == 0 ? CHD_MANAGER : CHD_VM,
							  property));
	GVariant *v;

	g_variant_get(r, "(v)", &v);
	return v;
}

char *chd_get_string(struct chd_test *t, const char *path, const char *property)
{
	g_autoptr(GVariant) v = chd_get(t, path, property);

	return g_variant_dup_string(v, NULL);
}

gboolean chd_wait_property(struct chd_test *t, const char *path, const char *property, const char *value,
			   guint timeout_ms)
{
	for (guint waited = 0;; waited += 20) {
		g_autofree char *now = chd_get_string(t, path, property);

		if (strcmp(now, value) == 0)
			return TRUE;
		if (waited >= timeout_ms) {
			g_test_message("%s: %s is '%s', not '%s'", path, property, now, value);
			return FALSE;
		}
		g_usleep(20000);
	}
}

gboolean chd_wait_signal(struct chd_test *t, const char *prefix, guint timeout_ms)
{
	for (guint waited = 0;; waited += 10) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		for (guint i = 0; i < t->signals->len; i++)
			if (g_str_has_prefix(g_ptr_array_index(t->signals, i), prefix))
				return TRUE;
		if (waited >= timeout_ms) {
			for (guint i = 0; i < t->signals->len; i++)
				g_test_message("seen: %s", (char *)g_ptr_array_index(t->signals, i));
			return FALSE;
		}
		g_usleep(10000);
	}
}

char *chd_define(struct chd_test *t, const char *xml)
{
	g_autoptr(GVariant) r = chd_call_ok(t, CHD_PATH, CHD_MANAGER, "Define", g_variant_new("(s)", xml));
	char *path;

	g_variant_get(r, "(o)", &path);
	return path;
}

char *chd_test_xml(const char *name, const char *uuid, const char *kernel)
{
	g_autofree char *uuid_elem = uuid ? g_strdup_printf("  <uuid>%s</uuid>\n", uuid) : g_strdup("");

	return g_strdup_printf("<domain type='kvm'>\n"
			       "  <name>%s</name>\n"
			       "%s"
			       "  <memory unit='MiB'>64</memory>\n"
			       "  <vcpu>1</vcpu>\n"
			       "  <os>\n"
			       "    <type>hvm</type>\n"
			       "    <kernel>%s</kernel>\n"
			       "  </os>\n"
			       "</domain>\n",
			       name, uuid_elem, kernel);
}

static void become_nobody(gpointer unused)
{
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		_exit(125);
}

int chd_run_as_nobody(char **argv, char **out)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *stdout_text = NULL;
	g_autofree char *stderr_text = NULL;
	int status = -1;

	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, become_nobody, NULL, &stdout_text,
				   &stderr_text, &status, &error));
	g_assert_no_error(error);
	*out = g_strconcat(stdout_text, stderr_text, NULL);
	return status;
}
