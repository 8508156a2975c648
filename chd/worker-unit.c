/* SPDX-License-Identifier: Apache-2.0 */
/* Workers as transient systemd service units (--spawn=systemd, the default in system mode on a
 * machine booted with systemd and in user mode where the user's manager is on the session bus).
 * The unit runs the same argv as the fork path, except that the worker binds its control socket
 * itself (--control-socket path=<runtime>/vms/<name>/control.sock): systemd 252 passes a
 * transient service no file descriptors but stdin/stdout/stderr. The unit is Type=notify, so its
 * start job finishes when the VM booted (vmm-worker's READY=1) and the socket is there; then chd
 * takes the MainPID, supervises it through a pidfd and connects, exactly as for a forked worker.
 * The unit lives in machine.slice (user mode: app-chd.slice of the user manager), outside chd's
 * own cgroup: restarting or stopping chd leaves it alone. */
#include <glib/gi18n.h>
#include <string.h>

#include "bus-error.h"
#include "log.h"
#include "manager.h"
#include "vm.h"
#include "worker.h"

#define SYSTEMD_SERVICE "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT_PREFIX "/org/freedesktop/systemd1/unit"

#define UNIT_PREFIX "chd-vm-"
#define UNIT_START_TIMEOUT_USEC (30 * 1000000ULL)
#define UNIT_START_ATTEMPTS 20
#define UNIT_RETRY_USEC (100 * 1000ULL)
/* How long (in UNIT_RETRY_USEC steps) a starting chd waits for the user manager to join the
 * session bus. */
#define UNIT_MANAGER_WAIT_ATTEMPTS 50
/* How long systemd waits after SIGTERM (the worker stops its vCPUs) before SIGKILL. */
#define UNIT_STOP_TIMEOUT_USEC (30 * 1000000ULL)

int unit_name_escape(const char *s, char **ret)
{
	GString *out = g_string_sized_new(strlen(s) * 2);

	for (const char *p = s; *p; p++) {
		if (*p == '/')
			g_string_append_c(out, '-');
		else if ((p == s && *p == '.') || !(g_ascii_isalnum(*p) || strchr(":_.", *p)))
			g_string_append_printf(out, "\\x%02x", (unsigned char)*p);
		else
			g_string_append_c(out, *p);
	}
	*ret = g_string_free(out, FALSE);
	return 0;
}

int worker_unit_name(const char *vm_name, char **ret)
{
	g_autofree char *escaped = NULL;
	int r;

	r = unit_name_escape(vm_name, &escaped);
	if (r < 0)
		return r;
	*ret = g_strdup_printf(UNIT_PREFIX "%s.service", escaped);
	return 0;
}

static struct vm *vm_by_start_job(struct manager *m, const char *job)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, m->vms);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct vm *vm = value;

		if (vm->unit_starting && vm->unit_job && strcmp(vm->unit_job, job) == 0)
			return vm;
	}
	return NULL;
}

static void unit_start_failed(struct vm *vm, const char *fmt, ...) _printf_(2, 3);
static void unit_start_failed(struct vm *vm, const char *fmt, ...)
{
	g_autofree char *detail = NULL;
	g_autofree char *record_name = g_strdup_printf("%s.xml", vm->name);
	g_autofree char *record =
	    g_build_filename(vm->manager->config.runtime_dir, "vms", record_name, NULL);
	va_list ap;

	va_start(ap, fmt);
	detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	worker_forget(vm);
	(void)unlink(record);
	vm_worker_start_failed(vm, detail);
}

static int on_main_pid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct vm *vm = userdata;
	uint32_t pid = 0;
	int r;

	vm->unit_slot = sd_bus_slot_unref(vm->unit_slot);
	if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "v", "u", &pid) < 0 ||
	    pid == 0) {
		/* The unit is gone already: the worker ended right after it was ready, and systemd
		 * collected the unit. Its status went with it; the journal has its messages. */
		g_autofree char *log = worker_log_hint(vm);

		unit_start_failed(
		    vm, _("the worker of unit %s ended right after it started; its messages are in %s"),
		    vm->unit, log);
		return 0;
	}
	r = worker_attach(vm, (pid_t)pid, true);
	if (r < 0) {
		g_autofree char *unit = g_strdup(vm->unit);

		(void)worker_unit_stop(vm);
		unit_start_failed(vm, _("cannot supervise worker %u of unit %s: %s"), pid, unit,
				  strerror(-r));
		return 0;
	}
	log_info(_("chd: VM '%s': worker %u runs as unit %s"), vm->name, pid, vm->unit);
	machined_register(vm);
	return 0;
}

/* The unit's start job ended: "done" means Type=notify saw READY=1 (the VM booted); anything
 * else ("failed", "timeout", "canceled", "dependency") means there is no worker. */
static int on_job_removed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error)
{
	struct manager *m = userdata;
	g_autofree char *unit_path = NULL;
	const char *job, *unit, *result;
	uint32_t id;
	struct vm *vm;
	int r;

	if (sd_bus_message_read(msg, "uoss", &id, &job, &unit, &result) < 0)
		return 0;
	/* By job, not by unit name: an older unit of the same name may be finishing a stop job. */
	vm = vm_by_start_job(m, job);
	if (!vm)
		return 0;
	log_debug("chd: VM '%s': start job %u of %s: %s", vm->name, id, unit, result);
	vm->unit_starting = false;
	if (strcmp(result, "done") != 0) {
		g_autofree char *log = worker_log_hint(vm);

		if (vm->stop_requested)
			unit_start_failed(vm, _("stopped while it was starting"));
		else
			unit_start_failed(
			    vm,
			    _("systemd could not start unit %s (job result '%s'); its messages "
			      "are in %s"),
			    unit, result, log);
		return 0;
	}
	r = sd_bus_path_encode(SYSTEMD_UNIT_PREFIX, unit, &unit_path);
	if (r >= 0)
		r = sd_bus_call_method_async(m->systemd_bus, &vm->unit_slot, SYSTEMD_SERVICE, unit_path,
					     "org.freedesktop.DBus.Properties", "Get", on_main_pid, vm, "ss",
					     "org.freedesktop.systemd1.Service", "MainPID");
	if (r < 0) {
		(void)worker_unit_stop(vm);
		unit_start_failed(vm, _("cannot ask systemd for the worker of unit %s: %s"), unit,
				  strerror(-r));
	}
	return 0;
}

/* Subscribe: systemd sends JobRemoved only while someone subscribed. A user manager that runs
 * (its private socket is there) but has not joined the session bus yet does so as soon as the
 * bus is up, which chd's own connection may have just caused: wait for it a little. */
static int unit_subscribe(struct manager *m)
{
	const char *runtime = g_getenv("XDG_RUNTIME_DIR");
	g_autofree char *private = runtime ? g_build_filename(runtime, "systemd", "private", NULL) : NULL;
	int r;

	for (unsigned i = 0;; i++) {
		r = sd_bus_call_method(m->systemd_bus, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe",
				       NULL, NULL, NULL);
		if (r >= 0 || m->config.mode != MANAGER_MODE_USER || (r != -EHOSTUNREACH && r != -ENXIO) ||
		    !private || !g_file_test(private, G_FILE_TEST_EXISTS) || i >= UNIT_MANAGER_WAIT_ATTEMPTS)
			return r;
		g_usleep(UNIT_RETRY_USEC);
	}
}

int worker_unit_setup(struct manager *m)
{
	int r;

	if (!m->config.bus_address)
		m->systemd_bus = sd_bus_ref(m->bus);
	else {
		r = m->config.mode == MANAGER_MODE_SYSTEM
			? sd_bus_open_system_with_description(&m->systemd_bus, "systemd")
			: sd_bus_open_user_with_description(&m->systemd_bus, "systemd");
		if (r < 0)
			return r;
		r = sd_bus_attach_event(m->systemd_bus, m->event, SD_EVENT_PRIORITY_NORMAL);
		if (r < 0)
			return r;
	}
	/* The match first: the bus applies it before it forwards any later call. */
	r = sd_bus_match_signal(m->systemd_bus, &m->job_removed_slot, SYSTEMD_SERVICE, SYSTEMD_PATH,
				SYSTEMD_MANAGER, "JobRemoved", on_job_removed, m);
	if (r >= 0)
		r = unit_subscribe(m);
	if (r < 0) {
		m->job_removed_slot = sd_bus_slot_unref(m->job_removed_slot);
		m->systemd_bus = m->systemd_bus == m->bus ? sd_bus_unref(m->systemd_bus)
							  : sd_bus_flush_close_unref(m->systemd_bus);
		return r;
	}
	/* Machines are a system thing: machined's RegisterMachine is for root only (polkit action
	 * org.freedesktop.machine1.register-machine, auth_admin), so user VMs stay unregistered. */
	m->machined = m->config.mode == MANAGER_MODE_SYSTEM;
	return 0;
}

/* Opens the (sv) of property name with a variant of signature sig; close it with close_n(m, 2). */
static int open_property(sd_bus_message *m, const char *name, const char *sig)
{
	int r;

	r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', sig);
	return r;
}

static int close_n(sd_bus_message *m, int n)
{
	int r = 0;

	for (int i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_close_container(m);
	return r;
}

static int append_properties(sd_bus_message *m, struct vm *vm, char **argv)
{
	const bool user = vm->manager->config.mode == MANAGER_MODE_USER;
	g_autofree char *description = g_strdup_printf(_("chd virtual machine %s"), vm->name);
	g_autofree char *field = g_strdup_printf("CHD_VM=%s", vm->name);
	/* The worker needs /dev/kvm, taps and disk images anywhere, so no device or file system
	 * sandbox here; it sandboxes itself with seccomp. A user manager grants the namespace-based
	 * ones (the second row) only inside a user namespace (PrivateUsers= implied), which kernels
	 * may refuse to unprivileged users; an unprivileged worker has nothing they would take away. */
	static const char *const hardening[] = {
	    "NoNewPrivileges",	    "RestrictRealtime",	 "RestrictSUIDSGID", "LockPersonality",
	    "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectHostname",
	};
	const size_t n_hardening = user ? 4 : ELEMENTSOF(hardening);
	int r;

	r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", description, "Slice",
				  "s", spawn_slice(vm->manager->config.mode), "Type", "s", "notify", "KillMode",
				  "s", "mixed", "CollectMode", "s", "inactive-or-failed", "Delegate", "b", false);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "(sv)(sv)", "TimeoutStartUSec", "t", UNIT_START_TIMEOUT_USEC,
				  "TimeoutStopUSec", "t", UNIT_STOP_TIMEOUT_USEC);
	/* chd.service's limits; a user manager cannot raise a hard limit (no CAP_SYS_RESOURCE): the
	 * unit would fail to start, so user units keep the session's limits, as forked ones do. */
	if (r >= 0 && !user)
		r = sd_bus_message_append(m, "(sv)(sv)", "LimitMEMLOCK", "t", UINT64_MAX, "LimitNOFILE", "t",
					  (uint64_t)65536);
	for (size_t i = 0; r >= 0 && i < n_hardening; i++)
		r = sd_bus_message_append(m, "(sv)", hardening[i], "b", true);

	/* LogExtraFields: aay, journal fields may be binary. */
	if (r >= 0)
		r = open_property(m, "LogExtraFields", "aay");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "ay");
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', field, strlen(field));
	if (r >= 0)
		r = close_n(m, 3);

	/* ExecStart: a(sasb), the program, its argv, whether a failure is ignored. */
	if (r >= 0)
		r = open_property(m, "ExecStart", "a(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sasb");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", argv[0]);
	if (r >= 0)
		r = sd_bus_message_append_strv(m, argv);
	if (r >= 0)
		r = sd_bus_message_append(m, "b", false);
	if (r >= 0)
		r = close_n(m, 4);
	return r;
}

static int unit_send(struct vm *vm);

static int on_unit_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct vm *vm = userdata;
	int r;

	vm->timer = sd_event_source_disable_unref(vm->timer);
	if (vm->stop_requested) {
		unit_start_failed(vm, _("stopped while it was starting"));
		return 0;
	}
	r = unit_send(vm);
	if (r < 0)
		unit_start_failed(vm, _("cannot ask systemd for unit %s: %s"), vm->unit, strerror(-r));
	return 0;
}

static int on_unit_started(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct vm *vm = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	const char *job;
	int r;

	vm->unit_slot = sd_bus_slot_unref(vm->unit_slot);
	/* The previous unit of this name (the same VM a moment ago: on_poweroff=restart) may not
	 * have been collected yet; it goes within milliseconds. */
	if (e && sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists") &&
	    ++vm->unit_attempts < UNIT_START_ATTEMPTS) {
		r = sd_event_add_time_relative(vm->manager->event, &vm->timer, CLOCK_MONOTONIC,
					       UNIT_RETRY_USEC, 0, on_unit_retry, vm);
		if (r >= 0)
			return 0;
	}
	if (e) {
		unit_start_failed(vm, _("systemd refused to create unit %s: %s"), vm->unit, e->message);
		return 0;
	}
	if (sd_bus_message_read(reply, "o", &job) < 0) {
		(void)worker_unit_stop(vm);
		unit_start_failed(vm, _("systemd's answer for unit %s carries no job"), vm->unit);
		return 0;
	}
	vm->unit_job = g_strdup(job);
	return 0;
}

/* StartTransientUnit for vm->unit running vm->unit_argv. */
static int unit_send(struct vm *vm)
{
	struct manager *m = vm->manager;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	int r;

	r = sd_bus_message_new_method_call(m->systemd_bus, &call, SYSTEMD_SERVICE, SYSTEMD_PATH,
					   SYSTEMD_MANAGER, "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(call, "ss", vm->unit, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(call, 'a', "(sv)");
	if (r >= 0)
		r = append_properties(call, vm, vm->unit_argv);
	if (r >= 0)
		r = sd_bus_message_close_container(call);
	if (r >= 0)
		r = sd_bus_message_append(call, "a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call_async(m->systemd_bus, &vm->unit_slot, call, on_unit_started, vm, 0);
	return r;
}

int worker_unit_start(struct vm *vm, char **argv, sd_bus_error *error)
{
	g_autofree char *sock = worker_file(vm, "control.sock");
	g_autofree char *unitfile = worker_file(vm, "unit");
	g_autofree char *line = NULL;
	guint n = g_strv_length(argv);
	int r;

	worker_unit_forget(vm);
	r = worker_unit_name(vm->name, &vm->unit);
	if (r < 0)
		return sd_bus_error_setf(error, CHD_ERROR_WORKER_FAILED, _("VM '%s' cannot start: %s"),
					 vm->name, strerror(-r));
	vm->unit_argv = g_new0(char *, n + 3);
	for (guint i = 0; i < n; i++)
		vm->unit_argv[i] = g_strdup(argv[i]);
	vm->unit_argv[n] = g_strdup("--control-socket");
	vm->unit_argv[n + 1] = g_strdup_printf("path=%s", sock);

	r = unit_send(vm);
	if (r < 0) {
		sd_bus_error_setf(error, CHD_ERROR_WORKER_FAILED,
				  _("VM '%s' cannot start: cannot ask systemd for unit %s: %s"), vm->name,
				  vm->unit, strerror(-r));
		worker_unit_forget(vm);
		return r;
	}
	/* A chd restarted later knows from this file that the worker is a unit. */
	(void)g_file_set_contents(unitfile, vm->unit, -1, NULL);
	line = g_strjoinv(" ", vm->unit_argv);
	log_debug("chd: VM '%s': starting unit %s: %s", vm->name, vm->unit, line);
	vm->unit_starting = true;
	return 0;
}

void worker_unit_forget(struct vm *vm)
{
	vm->unit_slot = sd_bus_slot_unref(vm->unit_slot);
	vm->unit_starting = false;
	vm->unit_attempts = 0;
	g_clear_pointer(&vm->unit_job, g_free);
	g_clear_pointer(&vm->unit_argv, g_strfreev);
	g_clear_pointer(&vm->unit, g_free);
}

int worker_unit_stop(struct vm *vm)
{
	if (!vm->unit || !vm->manager->systemd_bus)
		return -ESRCH;
	return sd_bus_call_method_async(vm->manager->systemd_bus, NULL, SYSTEMD_SERVICE, SYSTEMD_PATH,
					SYSTEMD_MANAGER, "StopUnit", NULL, NULL, "ss", vm->unit, "replace");
}
