/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket end to end, on this machine's /dev/kvm: the real vmm-worker binary runs the
 * power-button payload (tests/payloads/power-button.S, which polls the GED and prints a dot now and
 * then) and a GDBus peer-to-peer client, a different D-Bus implementation than the worker's, drives
 * org.cloudhypervisor.chd1.Worker: Info, Counters, Pause/Resume (the vCPUs really stop), PowerButton
 * (the guest powers off, status 0), Reboot, Stop, StateChanged, wrong states, an inherited socket,
 * and clients that misbehave. VMM_WORKER and PAYLOAD_DIR come from meson. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

#define OBJECT_PATH "/org/cloudhypervisor/chd1/worker"
#define INTERFACE "org.cloudhypervisor.chd1.Worker"
#define ERROR_INVALID_STATE "org.cloudhypervisor.chd1.Error.InvalidState"
#define TIMEOUT_MS 10000

struct wt {
	char *dir;
	char *sock;
	char *serial;
	GSubprocess *proc;
	GDBusConnection *conn;
	GPtrArray *events; /* "state/reason" */
	guint subscription;
	bool exited;
	int status;
	char *state;
};

static gint64 deadline_after(int ms)
{
	return g_get_monotonic_time() + (gint64)ms * 1000;
}

/* Runs the main loop until cond(t) holds or TIMEOUT_MS pass. */
static bool wait_until(struct wt *t, bool (*cond)(struct wt *t, const void *arg), const void *arg)
{
	gint64 deadline = deadline_after(TIMEOUT_MS);

	while (!cond(t, arg)) {
		if (g_get_monotonic_time() > deadline)
			return false;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(2000);
	}
	return true;
}

static void on_state_changed(GDBusConnection *c, const char *sender, const char *path, const char *iface,
			     const char *signal, GVariant *params, gpointer userdata)
{
	struct wt *t = userdata;
	const char *state, *reason;

	g_variant_get(params, "(&s&s)", &state, &reason);
	g_ptr_array_add(t->events, g_strdup_printf("%s/%s", state, reason));
}

static void on_exited(GObject *source, GAsyncResult *res, gpointer userdata)
{
	struct wt *t = userdata;

	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	t->status = g_subprocess_get_if_exited(t->proc) ? g_subprocess_get_exit_status(t->proc) : -1;
	t->exited = true;
}

static bool has_event(struct wt *t, const void *want)
{
	for (guint i = 0; i < t->events->len; i++)
		if (strcmp(t->events->pdata[i], want) == 0)
			return true;
	return false;
}

static bool has_exited(struct wt *t, const void *unused)
{
	return t->exited;
}

static bool socket_exists(struct wt *t, const void *unused)
{
	return g_file_test(t->sock, G_FILE_TEST_EXISTS);
}

static GDBusConnection *client_connect(struct wt *t, GError **error)
{
	g_autofree char *address = g_dbus_address_escape_value(t->sock);
	g_autofree char *full = g_strdup_printf("unix:path=%s", address);

	return g_dbus_connection_new_for_address_sync(full, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL,
						      error);
}

static void wt_connect(struct wt *t)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(wait_until(t, socket_exists, NULL));
	t->conn = client_connect(t, &error);
	g_assert_no_error(error);
	t->subscription = g_dbus_connection_signal_subscribe(t->conn, NULL, INTERFACE, "StateChanged", OBJECT_PATH,
							    NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_state_changed, t, NULL);
}

static void die_with_parent(gpointer unused)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Starts vmm-worker on the power-button payload; listen_fd >= 0 is passed as fd 3 instead of a
 * path. Does not connect. */
static void wt_spawn(struct wt *t, unsigned cpus, int listen_fd, const char *control)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GError) error = NULL;
	g_autofree char *kernel = g_build_filename(g_getenv("PAYLOAD_DIR"), "power-button.elf", NULL);
	g_autofree char *cpus_arg = g_strdup_printf("boot=%u", cpus);
	g_autofree char *serial_arg = g_strdup_printf("file=%s", t->serial);

	if (listen_fd >= 0)
		g_subprocess_launcher_take_fd(launcher, listen_fd, 3);
	/* A failed assertion aborts this process: take the worker with it. */
	g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
	/* TEST_CONTROL_LOG=FILE: the worker's debug log, for when a test fails. */
	const char *log = g_getenv("TEST_CONTROL_LOG");
	t->proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("VMM_WORKER"), "--kernel", kernel, "--cpus",
					      cpus_arg, "--memory", "size=64M", "--serial", serial_arg, "--console",
					      "off", "--control-socket", control, log ? "-vv" : NULL, "--log-file", log, NULL);
	g_assert_no_error(error);
	g_subprocess_wait_async(t->proc, NULL, on_exited, t);
}

static void wt_setup(struct wt *t, gconstpointer unused)
{
	g_autoptr(GError) error = NULL;

	memset(t, 0, sizeof(*t));
	t->dir = g_dir_make_tmp("test-control-XXXXXX", &error);
	g_assert_no_error(error);
	t->sock = g_build_filename(t->dir, "control", NULL);
	t->serial = g_build_filename(t->dir, "serial.log", NULL);
	t->events = g_ptr_array_new_with_free_func(g_free);
}

static void wt_teardown(struct wt *t, gconstpointer unused)
{
	if (t->conn) {
		g_dbus_connection_signal_unsubscribe(t->conn, t->subscription);
		g_dbus_connection_close_sync(t->conn, NULL, NULL);
		g_clear_object(&t->conn);
	}
	if (t->proc && !t->exited) {
		g_subprocess_force_exit(t->proc);
		wait_until(t, has_exited, NULL);
	}
	g_clear_object(&t->proc);
	g_unlink(t->serial);
	g_unlink(t->sock);
	g_rmdir(t->dir);
	g_free(t->serial);
	g_free(t->sock);
	g_free(t->dir);
	g_free(t->state);
	g_ptr_array_unref(t->events);
}

static GVariant *call(struct wt *t, const char *method, GError **error)
{
	return g_dbus_connection_call_sync(t->conn, NULL, OBJECT_PATH, INTERFACE, method, NULL, NULL,
					   G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, error);
}

static void call_ok(struct wt *t, const char *method)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = call(t, method, &error);

	g_assert_no_error(error);
}

/* The call must fail with InvalidState and a message containing want. */
static void call_invalid_state(struct wt *t, const char *method, const char *want)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = call(t, method, &error);
	g_autofree char *name = NULL;

	g_assert_null(reply);
	g_assert_nonnull(error);
	name = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(name, ==, ERROR_INVALID_STATE);
	if (!strstr(error->message, want))
		g_error("%s: '%s' does not say '%s'", method, error->message, want);
}

/* The State property, read through org.freedesktop.DBus.Properties; valid until the next call. */
static const char *property_state(struct wt *t)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL, v = NULL;

	reply = g_dbus_connection_call_sync(t->conn, NULL, OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get",
					    g_variant_new("(ss)", INTERFACE, "State"), G_VARIANT_TYPE("(v)"),
					    G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &v);
	g_free(t->state);
	g_variant_get(v, "s", &t->state);
	return t->state;
}

static GVariant *info(struct wt *t)
{
	g_autoptr(GError) error = NULL;
	GVariant *reply = call(t, "Info", &error);
	GVariant *dict;

	g_assert_no_error(error);
	g_assert_cmpstr(g_variant_get_type_string(reply), ==, "(a{sv})");
	dict = g_variant_get_child_value(reply, 0);
	g_variant_unref(reply);
	return dict;
}

static guint64 counter(struct wt *t, const char *device, const char *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = call(t, "Counters", &error);
	g_autoptr(GVariant) all = NULL, dev = NULL;
	guint64 v = 0;

	g_assert_no_error(error);
	g_assert_cmpstr(g_variant_get_type_string(reply), ==, "(a{sa{st}})");
	all = g_variant_get_child_value(reply, 0);
	dev = g_variant_lookup_value(all, device, G_VARIANT_TYPE("a{st}"));
	if (!dev)
		g_error("Counters has no device '%s'", device);
	if (!g_variant_lookup(dev, name, "t", &v))
		g_error("Counters has no '%s' for '%s'", name, device);
	return v;
}

static guint64 all_vcpu_exits(struct wt *t, unsigned cpus)
{
	guint64 sum = 0;

	for (unsigned i = 0; i < cpus; i++) {
		g_autofree char *name = g_strdup_printf("vcpu%u", i);
		sum += counter(t, name, "exits");
	}
	return sum;
}

static goffset serial_size(struct wt *t)
{
	struct stat st;

	return stat(t->serial, &st) == 0 ? st.st_size : 0;
}

static bool serial_grew(struct wt *t, const void *from)
{
	return serial_size(t) > *(const goffset *)from;
}

static void wait_event(struct wt *t, const char *event)
{
	if (!wait_until(t, has_event, event))
		g_error("no StateChanged %s (got %u events)", event, t->events->len);
}

static void wait_exit(struct wt *t, int status)
{
	g_assert_true(wait_until(t, has_exited, NULL));
	g_assert_cmpint(t->status, ==, status);
}

static void test_info_pause_resume(struct wt *t, gconstpointer unused)
{
	g_autoptr(GVariant) i1 = NULL, i2 = NULL;
	g_autofree char *kernel = g_build_filename(g_getenv("PAYLOAD_DIR"), "power-button.elf", NULL);
	g_autofree char *pid = NULL;
	const char *s;
	guint32 u;
	guint64 x, paused_time;
	goffset size;

	wt_spawn(t, 2, -1, t->sock);
	wt_connect(t);

	i1 = info(t);
	g_assert_true(g_variant_lookup(i1, "State", "&s", &s));
	g_assert_cmpstr(s, ==, "running");
	g_assert_true(g_variant_lookup(i1, "Pid", "u", &u));
	pid = g_strdup_printf("%u", u);
	g_assert_cmpstr(g_subprocess_get_identifier(t->proc), ==, pid);
	g_assert_true(g_variant_lookup(i1, "VCPUs", "u", &u));
	g_assert_cmpuint(u, ==, 2);
	g_assert_true(g_variant_lookup(i1, "MaxVCPUs", "u", &u));
	g_assert_cmpuint(u, ==, 2);
	g_assert_true(g_variant_lookup(i1, "Memory", "t", &x));
	g_assert_cmpuint(x, ==, 64 << 20);
	g_assert_true(g_variant_lookup(i1, "Kernel", "&s", &s));
	g_assert_cmpstr(s, ==, kernel);
	g_assert_true(g_variant_lookup(i1, "BootCount", "u", &u));
	g_assert_cmpuint(u, ==, 1);
	g_assert_true(g_variant_lookup(i1, "Uptime", "t", &x));
	g_assert_cmpuint(x, >, 0);
	g_assert_cmpuint(counter(t, "worker", "boots"), ==, 1);
	g_assert_cmpuint(counter(t, "control", "connections-open"), ==, 1);
	/* Every VM has a virtio-rng (as Cloud Hypervisor); the payload never drives it. */
	g_assert_cmpuint(counter(t, "virtio-rng0", "errors"), ==, 0);
	g_assert_cmpuint(counter(t, "virtio-rng0", "read-ops"), ==, 0);

	/* The guest makes progress... */
	size = serial_size(t);
	g_assert_true(wait_until(t, serial_grew, &size));

	/* ...and stops making any while paused: no vCPU exits, no output. */
	call_ok(t, "Pause");
	wait_event(t, "paused/pause");
	x = all_vcpu_exits(t, 2);
	size = serial_size(t);
	g_usleep(400 * 1000);
	g_assert_cmpuint(all_vcpu_exits(t, 2), ==, x);
	g_assert_cmpint(serial_size(t), ==, size);

	call_invalid_state(t, "Pause", "cannot pause the VM: the VM is paused");
	call_invalid_state(t, "PowerButton", "resume it first");
	g_assert_cmpstr(property_state(t), ==, "paused");

	call_ok(t, "Resume");
	wait_event(t, "running/resume");
	g_assert_true(wait_until(t, serial_grew, &size));
	g_assert_cmpuint(all_vcpu_exits(t, 2), >, x);
	call_invalid_state(t, "Resume", "cannot resume the VM: the VM is running");
	g_assert_cmpstr(property_state(t), ==, "running");

	i2 = info(t);
	g_assert_true(g_variant_lookup(i2, "PausedTime", "t", &paused_time));
	g_assert_cmpuint(paused_time, >=, 400 * 1000);
	g_assert_cmpuint(counter(t, "worker", "pauses"), ==, 1);

	/* Pause and Stop: a parked VM stops too. */
	call_ok(t, "Pause");
	call_ok(t, "Stop");
	wait_event(t, "stopped/stop");
	wait_exit(t, 0);
	g_assert_false(g_file_test(t->sock, G_FILE_TEST_EXISTS));
}

static void test_power_button(struct wt *t, gconstpointer unused)
{
	g_autofree char *serial = NULL;
	goffset size = 0;

	wt_spawn(t, 1, -1, t->sock);
	wt_connect(t);
	g_assert_true(wait_until(t, serial_grew, &size));

	call_ok(t, "PowerButton");
	wait_event(t, "shutting-down/power-button");
	wait_event(t, "stopped/guest-poweroff");
	wait_exit(t, 0);
	g_assert_true(g_file_get_contents(t->serial, &serial, NULL, NULL));
	g_assert_nonnull(strstr(serial, "payload: power button pressed"));
}

static bool serial_contains(struct wt *t, const void *what)
{
	g_autofree char *serial = NULL;

	return g_file_get_contents(t->serial, &serial, NULL, NULL) && strstr(serial, what);
}

static bool booted_twice(struct wt *t, const void *unused)
{
	g_autofree char *serial = NULL;
	const char *first;

	if (!g_file_get_contents(t->serial, &serial, NULL, NULL))
		return false;
	first = strstr(serial, "payload: waiting");
	return first && strstr(first + 1, "payload: waiting");
}

/* Reboot keeps the connection; SIGTERM still ends the worker with status 0. */
static void test_reboot_signal(struct wt *t, gconstpointer unused)
{
	g_autoptr(GVariant) i = NULL;
	guint32 boots;

	wt_spawn(t, 1, -1, t->sock);
	wt_connect(t);
	/* The first banner is complete once the first progress dot follows it. */
	g_assert_true(wait_until(t, serial_contains, "."));
	call_ok(t, "Reboot");
	wait_event(t, "running/reboot");
	i = info(t);
	g_assert_true(g_variant_lookup(i, "BootCount", "u", &boots));
	g_assert_cmpuint(boots, ==, 2);
	g_assert_cmpstr(property_state(t), ==, "running");
	/* The serial file is the same one across boots (opened once by the process). */
	g_assert_true(wait_until(t, booted_twice, NULL));

	g_subprocess_send_signal(t->proc, SIGTERM);
	wait_event(t, "stopped/signal");
	wait_exit(t, 0);
}

/* A listening socket passed as fd 3, as chd or systemd's ListenStream= does. */
static void test_inherited_fd(struct wt *t, gconstpointer unused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(sa.sun_path, t->sock, sizeof(sa.sun_path));
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 8), ==, 0);

	wt_spawn(t, 1, fd, "fd=3");
	wt_connect(t);
	g_assert_cmpstr(property_state(t), ==, "running");
	call_ok(t, "Stop");
	wait_exit(t, 0);
	/* Not ours to remove: whoever passed it owns the path. */
	g_assert_true(g_file_test(t->sock, G_FILE_TEST_EXISTS));
}

static int raw_connect(struct wt *t)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(sa.sun_path, t->sock, sizeof(sa.sun_path));
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return fd;
}

/* True when the worker closed the connection within a couple of seconds. */
static bool closed_by_peer(int fd)
{
	char buf[256];
	gint64 deadline = deadline_after(3000);

	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	while (g_get_monotonic_time() < deadline) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
		g_usleep(10000);
	}
	return false;
}

static unsigned count_fds(GSubprocess *proc)
{
	g_autofree char *path = g_strdup_printf("/proc/%s/fd", g_subprocess_get_identifier(proc));
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	unsigned n = 0;

	g_assert_nonnull(dir);
	while (g_dir_read_name(dir))
		n++;
	return n;
}

static bool fds_are(struct wt *t, const void *n)
{
	return count_fds(t->proc) == *(const unsigned *)n;
}

static bool wait_fds(struct wt *t, unsigned n)
{
	if (wait_until(t, fds_are, &n))
		return true;
	g_test_message("the worker has %u descriptors open, expected %u", count_fds(t->proc), n);
	return false;
}

/* Once a client that connected after all the others got its answer, the worker has accepted every
 * earlier connection; with expect_fds, also waits until it holds that many descriptors again. */
static void sync_with_worker(struct wt *t, unsigned expect_fds)
{
	wt_connect(t);
	g_assert_cmpstr(property_state(t), ==, "running");
	g_dbus_connection_signal_unsubscribe(t->conn, t->subscription);
	g_dbus_connection_close_sync(t->conn, NULL, NULL);
	g_clear_object(&t->conn);
	if (expect_fds)
		g_assert_true(wait_fds(t, expect_fds));
	else
		g_usleep(100 * 1000);
}

static void test_bad_clients(struct wt *t, gconstpointer unused)
{
#define BYTES(s) { s, sizeof(s) - 1 }
	static const struct {
		const char *data;
		size_t len;
	} garbage[] = {
		/* Not D-Bus at all (no leading NUL byte). */
		BYTES("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		/* An unknown mechanism, then BEGIN without having authenticated. */
		BYTES("\0AUTH BOGUS\r\nAUTH\r\nBEGIN\r\n"),
		/* Authenticated, then a message header that is nonsense. */
		BYTES("\0AUTH ANONYMOUS 6869\r\nBEGIN\r\n\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
		/* Authenticated, then a header announcing a 2 GiB body. */
		BYTES("\0AUTH ANONYMOUS 6869\r\nBEGIN\r\nl\1\0\1\xff\xff\xff\x7f\1\0\0\0\xff\xff\xff\x7f"),
	};
#undef BYTES
	int idle[40];
	unsigned fds_before;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) refused = NULL;

	wt_spawn(t, 1, -1, t->sock);
	g_assert_true(wait_until(t, serial_contains, ".")); /* the VM and its descriptors exist */
	/* A first client makes the event loop create its timer descriptor, which then stays. */
	sync_with_worker(t, 0);
	fds_before = count_fds(t->proc);

	for (size_t i = 0; i < G_N_ELEMENTS(garbage); i++) {
		int fd = raw_connect(t);

		g_assert_cmpint(write(fd, garbage[i].data, garbage[i].len), ==, (ssize_t)garbage[i].len);
		if (i != 1 && !closed_by_peer(fd))
			g_error("garbage %zu: the client was not disconnected", i);
		close(fd);
	}
	/* Early closes: right after connect, and in the middle of authentication. */
	for (int i = 0; i < 20; i++) {
		int fd = raw_connect(t);
		if (i % 2)
			g_assert_cmpint(write(fd, "\0AUTH EXTER", 11), ==, 11);
		close(fd);
	}

	/* The worker lets go of every one of them... */
	sync_with_worker(t, fds_before);

	/* ...and closes the surplus of more idle connections than it serves at once. */
	for (int i = 0; i < 40; i++)
		idle[i] = raw_connect(t);
	g_assert_true(closed_by_peer(idle[39]));
	refused = client_connect(t, &error);
	g_assert_null(refused);
	g_clear_error(&error);
	for (int i = 0; i < 40; i++)
		close(idle[i]);
	g_assert_true(wait_fds(t, fds_before));

	/* The worker is still there and serves a well-behaved client. */
	wt_connect(t);
	g_assert_cmpstr(property_state(t), ==, "running");
	g_assert_cmpuint(counter(t, "control", "connections-refused"), >=, 8);
	g_assert_cmpuint(counter(t, "control", "connections-open"), ==, 1);
	/* Every connection that went away gave its descriptor back (ours is the one extra). */
	g_assert_true(wait_fds(t, fds_before + 1));

	call_ok(t, "Stop");
	wait_exit(t, 0);
}

static void expect_start_failure(struct wt *t, int listen_fd, const char *control, const char *message)
{
	g_autoptr(GBytes) err = NULL;
	GInputStream *stream;
	g_autofree char *text = NULL;

	wt_spawn(t, 1, listen_fd, control);
	wait_exit(t, 1);
	stream = g_subprocess_get_stderr_pipe(t->proc);
	err = g_input_stream_read_bytes(stream, 4096, NULL, NULL);
	text = g_strndup(g_bytes_get_data(err, NULL), g_bytes_get_size(err));
	if (!strstr(text, message))
		g_error("expected '%s' in: %s", message, text);
	g_clear_object(&t->proc);
	t->exited = false;
}

static void test_socket_errors(struct wt *t, gconstpointer unused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	g_autofree char *long_path = g_strnfill(200, 'x');
	int fd;

	/* A socket someone listens on is not taken over. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_strlcpy(sa.sun_path, t->sock, sizeof(sa.sun_path));
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 8), ==, 0);
	expect_start_failure(t, -1, t->sock, "exists and is in use");

	/* A stale one (its listener is gone) is replaced. */
	close(fd);
	g_assert_true(g_file_test(t->sock, G_FILE_TEST_EXISTS));
	wt_spawn(t, 1, -1, t->sock);
	g_assert_true(wait_until(t, serial_contains, ".")); /* the stale file itself exists from the start */
	wt_connect(t);
	g_assert_cmpstr(property_state(t), ==, "running");
	call_ok(t, "Stop");
	wait_exit(t, 0);
	g_clear_object(&t->proc);
	t->exited = false;

	expect_start_failure(t, -1, long_path, "too long for a unix socket");
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	expect_start_failure(t, fd, "fd=3", "fd=3 is not an open socket");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	expect_start_failure(t, fd, "fd=3", "must be a listening unix stream socket");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	if (access("/dev/kvm", R_OK | W_OK) != 0 || !g_getenv("VMM_WORKER") || !g_getenv("PAYLOAD_DIR")) {
		g_test_skip("needs a usable /dev/kvm, VMM_WORKER and PAYLOAD_DIR");
		return g_test_run();
	}

	g_test_add("/control/info-pause-resume", struct wt, NULL, wt_setup, test_info_pause_resume, wt_teardown);
	g_test_add("/control/power-button", struct wt, NULL, wt_setup, test_power_button, wt_teardown);
	g_test_add("/control/reboot-signal", struct wt, NULL, wt_setup, test_reboot_signal, wt_teardown);
	g_test_add("/control/inherited-fd", struct wt, NULL, wt_setup, test_inherited_fd, wt_teardown);
	g_test_add("/control/bad-clients", struct wt, NULL, wt_setup, test_bad_clients, wt_teardown);
	g_test_add("/control/socket-errors", struct wt, NULL, wt_setup, test_socket_errors, wt_teardown);
	return g_test_run();
}
