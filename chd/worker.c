/* SPDX-License-Identifier: Apache-2.0 */
/* The vmm-worker process of a VM: spawn (fork here, or a transient systemd unit in
 * worker-unit.c), supervision through a pidfd, the control connection (the Worker peer interface,
 * data/dbus/org.cloudhypervisor.chd1.Worker.xml), and finding a worker again after chd restarted.
 * Runtime record: <runtime>/vms/<name>.xml (the definition it runs) and
 * <runtime>/vms/<name>/{pid,control.sock,unit}. */
#include <fcntl.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "bus-error.h"
#include "conf/domain.h"
#include "log.h"
#include "manager.h"
#include "vm.h"
#include "worker.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define WORKER_OBJECT "/org/cloudhypervisor/chd1/worker"
#define WORKER_INTERFACE "org.cloudhypervisor.chd1.Worker"
#define WORKER_CONTROL_FD 3
#define WORKER_SERIAL_LOG_FD 4
#define WORKER_CONSOLE_LOG_FD 5
#define WORKER_START_TIMEOUT_USEC (30 * 1000000ULL)
#define WORKER_KILL_GRACE_USEC (5 * 1000000ULL)

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_send_signal_(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

char *worker_file(struct vm *vm, const char *file)
{
	g_autofree char *dir = manager_vm_runtime_dir(vm->manager, vm->name);

	return g_build_filename(dir, file, NULL);
}

static char *worker_record(struct vm *vm)
{
	g_autofree char *file = g_strdup_printf("%s.xml", vm->name);

	return g_build_filename(vm->manager->config.runtime_dir, "vms", file, NULL);
}

static char *worker_log(struct vm *vm, const char *suffix)
{
	g_autofree char *file = g_strdup_printf("%s%s", vm->name, suffix);

	return g_build_filename(vm->manager->config.log_dir, file, NULL);
}

char *worker_log_hint(struct vm *vm)
{
	g_autofree char *unit = NULL;
	g_autofree char *log = NULL;

	/* Units write to the journal; forked workers to <log>/<name>.worker.log (<name>.log is the
	 * guest's console). */
	if (vm->manager->spawn == SPAWN_MODE_SYSTEMD && worker_unit_name(vm->name, &unit) >= 0)
		return vm->manager->config.mode == MANAGER_MODE_USER
			   ? g_strdup_printf(_("the journal (journalctl --user -u %s)"), unit)
			   : g_strdup_printf(_("the journal (journalctl -u %s)"), unit);
	log = worker_log(vm, ".worker.log");
	return g_strdup_printf("'%s'", log);
}

static int worker_argv_logs(struct vm *vm, const struct domain_def *def, const char *serial_log,
			    const char *console_log, char ***ret, char **ret_error)
{
	struct domain_argv_options opts = {
	    .program = vm->manager->config.worker_path,
	    .serial_log = serial_log,
	    .console_log = console_log,
	};

	return domain_def_to_argv(def, &opts, ret, ret_error);
}

int worker_argv(struct vm *vm, const struct domain_def *def, char ***ret, char **ret_error)
{
	struct worker_logs logs;
	int r;

	worker_logs_get(vm, def, &logs);
	r = worker_argv_logs(vm, def, logs.serial, logs.console, ret, ret_error);
	worker_logs_done(&logs);
	return r;
}

void worker_forget(struct vm *vm)
{
	g_autofree char *record = worker_record(vm);
	g_autofree char *pidfile = worker_file(vm, "pid");
	g_autofree char *sock = worker_file(vm, "control.sock");
	g_autofree char *unitfile = worker_file(vm, "unit");
	g_autofree char *dir = manager_vm_runtime_dir(vm->manager, vm->name);

	if (vm->machine_registered)
		machined_unregister(vm);
	vm->machine_slot = sd_bus_slot_unref(vm->machine_slot);
	worker_unit_forget(vm);
	vm->worker_exiting = false;
	vm->state_changed_slot = sd_bus_slot_unref(vm->state_changed_slot);
	vm->control = sd_bus_flush_close_unref(vm->control);
	vm->pidfd_source = sd_event_source_disable_unref(vm->pidfd_source);
	vm->timer = sd_event_source_disable_unref(vm->timer);
	vm->pidfd = safe_close(vm->pidfd);
	vm->pid = 0;
	(void)unlink(record);
	(void)unlink(pidfile);
	(void)unlink(sock);
	(void)unlink(unitfile);
	(void)rmdir(dir);
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct vm *vm = userdata;
	siginfo_t si = {};
	int status = 0;
	bool killed;

	if (waitid((idtype_t)P_PIDFD, (id_t)vm->pidfd, &si, WEXITED | WNOHANG) >= 0 && si.si_pid != 0) {
		killed = si.si_code != CLD_EXITED;
		status = si.si_status;
	} else {
		/* Not our child (a unit, or an earlier chd started it): the worker announces a clean
		 * end with StateChanged("stopped", reason) before it exits; no announcement means it
		 * was killed. What it sent before exiting may still wait in the socket: read it all
		 * first (the connection then fails its pending calls, which is expected now). */
		const char *reason;

		vm->worker_exiting = true;
		while (vm->control && sd_bus_process(vm->control, NULL) > 0)
			;
		reason = vm->worker_stop_reason;

		killed = !reason;
		status = !reason ? SIGKILL : strcmp(reason, "error") == 0 ? 1 : 0;
	}
	worker_forget(vm);
	vm_worker_exited(vm, status, killed);
	return 0;
}

static int on_state_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error)
{
	const char *state, *reason;

	if (sd_bus_message_read(msg, "ss", &state, &reason) < 0)
		return 0;
	vm_worker_state_changed(userdata, state, reason);
	return 0;
}

static int on_info(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct vm *vm = userdata;
	const char *state = NULL, *serial_pty = NULL, *console_pty = NULL;
	int r;

	if (sd_bus_message_is_method_error(reply, NULL)) {
		if (vm->worker_exiting)
			return 0;
		log_warning(_("chd: VM '%s': the worker does not answer on its control socket: %s"), vm->name,
			    sd_bus_message_get_error(reply)->message);
		/* Without control the VM cannot be managed: stop it rather than leave it half-managed. */
		(void)worker_kill(vm);
		return 0;
	}
	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r > 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key;

		r = sd_bus_message_read(reply, "s", &key);
		if (r >= 0 && strcmp(key, "State") == 0)
			r = sd_bus_message_read(reply, "v", "s", &state);
		else if (r >= 0 && strcmp(key, "SerialPty") == 0)
			r = sd_bus_message_read(reply, "v", "s", &serial_pty);
		else if (r >= 0 && strcmp(key, "ConsolePty") == 0)
			r = sd_bus_message_read(reply, "v", "s", &console_pty);
		else if (r >= 0)
			r = sd_bus_message_skip(reply, "v");
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	vm->timer = sd_event_source_disable_unref(vm->timer);
	/* The serial port first, as libvirt's first console is serial port 0 when there is one. */
	vm_set_console_path(vm, serial_pty && *serial_pty ? serial_pty : console_pty);
	vm_worker_ready(vm, state);
	return 0;
}

/* A peer connection (no bus daemon, ANONYMOUS auth) to the worker's control socket. */
static int worker_connect(struct vm *vm)
{
	g_autofree char *sock = worker_file(vm, "control.sock");
	g_autofree char *address = NULL;
	g_autofree char *escaped = g_uri_escape_string(sock, "/", FALSE);
	sd_bus *bus = NULL;
	int r;

	address = g_strdup_printf("unix:path=%s", escaped);
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_anonymous(bus, true);
	if (r >= 0)
		r = sd_bus_set_description(bus, vm->name);
	if (r >= 0)
		r = sd_bus_attach_event(bus, vm->manager->event, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_match_signal(bus, &vm->state_changed_slot, NULL, WORKER_OBJECT, WORKER_INTERFACE,
					"StateChanged", on_state_changed, vm);
	if (r >= 0)
		r = sd_bus_call_method_async(bus, NULL, NULL, WORKER_OBJECT, WORKER_INTERFACE, "Info", on_info,
					     vm, NULL);
	if (r < 0) {
		vm->state_changed_slot = sd_bus_slot_unref(vm->state_changed_slot);
		sd_bus_flush_close_unref(bus);
		return r;
	}
	vm->control = bus;
	return 0;
}

int worker_call(struct vm *vm, const char *method, sd_bus_message_handler_t reply_cb)
{
	if (!vm->control)
		return -ENOTCONN;
	return sd_bus_call_method_async(vm->control, NULL, NULL, WORKER_OBJECT, WORKER_INTERFACE, method,
					reply_cb, vm, NULL);
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct vm *vm = userdata;

	log_warning(_("chd: VM '%s': the worker did not stop in time; killing it"), vm->name);
	if (vm->pidfd >= 0)
		(void)pidfd_send_signal_(vm->pidfd, SIGKILL);
	return 0;
}

static int on_start_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct vm *vm = userdata;

	log_warning(_("chd: VM '%s': the worker did not answer within %llu s; stopping it"), vm->name,
		    WORKER_START_TIMEOUT_USEC / 1000000ULL);
	return worker_kill(vm);
}

int worker_kill(struct vm *vm)
{
	int r;

	if (vm->pidfd < 0 && vm->unit_starting) {
		/* A unit whose start job runs: cancelling the job stops it. */
		vm->stop_requested = true;
		return worker_unit_stop(vm);
	}
	if (vm->pidfd < 0)
		return -ESRCH;
	vm->stop_requested = true;
	/* SIGTERM: the worker stops its vCPUs and exits; SIGKILL if it does not. */
	if (pidfd_send_signal_(vm->pidfd, SIGTERM) < 0 && errno != ESRCH)
		return -errno;
	vm->timer = sd_event_source_disable_unref(vm->timer);
	r = sd_event_add_time_relative(vm->manager->event, &vm->timer, CLOCK_MONOTONIC,
				       WORKER_KILL_GRACE_USEC, 0, on_kill_timer, vm);
	return r < 0 ? r : 0;
}

static int listen_control_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* The console logs as fds 4 and 5 (-1: none): first out of the way of the targets, then into
 * place; dup2() leaves the copies without FD_CLOEXEC. */
static int place_console_logs(const int console_logs[2])
{
	const int target[2] = {WORKER_SERIAL_LOG_FD, WORKER_CONSOLE_LOG_FD};
	int moved[2] = {-1, -1};

	for (size_t i = 0; i < 2; i++)
		if (console_logs[i] >= 0 && (moved[i] = fcntl(console_logs[i], F_DUPFD, 10)) < 0)
			return -errno;
	for (size_t i = 0; i < 2; i++)
		if (moved[i] >= 0 && dup2(moved[i], target[i]) < 0)
			return -errno;
	return 0;
}

static _noreturn_ void worker_exec(char **argv, int control_fd, int log_fd, const int console_logs[2])
{
	int null = open("/dev/null", O_RDWR);

	/* Its own session: a terminal or chd's death sends it nothing. */
	(void)setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0 ||
	    dup2(control_fd, WORKER_CONTROL_FD) < 0 || place_console_logs(console_logs) < 0)
		_exit(127);
	(void)close_range(WORKER_CONSOLE_LOG_FD + 1, ~0U, 0);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	dprintf(2, "chd: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* worker_fork() with the command line and the paths ready: the fds, then fork. */
static int worker_fork_at(struct vm *vm, char **full, const char *sock, const char *log,
			  const int console_logs[2], sd_bus_error *error)
{
	_cleanup_close_ int control_fd = -1;
	_cleanup_close_ int log_fd = -1;
	pid_t pid;
	int r;

	control_fd = listen_control_socket(sock);
	if (control_fd < 0)
		return sd_bus_error_setf(error, CHD_ERROR_IO_ERROR,
					 _("VM '%s' cannot start: cannot listen on '%s': %s"), vm->name, sock,
					 strerror(-control_fd));
	log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (log_fd < 0)
		return sd_bus_error_setf(error, CHD_ERROR_IO_ERROR, _("VM '%s' cannot start: cannot open '%s': %s"),
					 vm->name, log, strerror(errno));

	dprintf(log_fd, "chd: starting VM '%s':", vm->name);
	for (size_t i = 0; full[i]; i++)
		dprintf(log_fd, " %s", full[i]);
	dprintf(log_fd, "\n");

	pid = fork();
	if (pid < 0)
		return sd_bus_error_setf(error, CHD_ERROR_WORKER_FAILED, _("VM '%s' cannot start: fork: %s"),
					 vm->name, strerror(errno));
	if (pid == 0)
		worker_exec(full, control_fd, log_fd, console_logs);

	r = worker_attach(vm, pid, true);
	if (r < 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		worker_forget(vm);
		return sd_bus_error_setf(error, CHD_ERROR_WORKER_FAILED, _("VM '%s' cannot start: %s"), vm->name,
					 strerror(-r));
	}
	return 0;
}

/* The fork path: chd binds the control socket and passes it as fd 3, the console logs as fds 4
 * and 5 (console_logs[], -1 for none); output goes to <log>/<name>.worker.log. */
static int worker_fork(struct vm *vm, char **argv, const int console_logs[2], sd_bus_error *error)
{
	g_autofree char *sock = worker_file(vm, "control.sock");
	g_autofree char *log = worker_log(vm, ".worker.log");
	/* argv and the control socket chd passes; the strings belong to argv. */
	guint n = g_strv_length(argv);
	g_autofree char **full = g_new0(char *, n + 3);

	memcpy(full, argv, n * sizeof(char *));
	full[n] = (char *)"--control-socket";
	full[n + 1] = (char *)"fd=" G_STRINGIFY(WORKER_CONTROL_FD);
	return worker_fork_at(vm, full, sock, log, console_logs, error);
}

int worker_attach(struct vm *vm, pid_t pid, bool starting)
{
	g_autofree char *pidfile = worker_file(vm, "pid");
	g_autofree char *pidtext = g_strdup_printf("%d\n", pid);
	int r;

	vm->pid = pid;
	vm->pidfd = pidfd_open_(pid);
	if (vm->pidfd < 0)
		return -errno;
	(void)g_file_set_contents(pidfile, pidtext, -1, NULL);
	r = sd_event_add_io(vm->manager->event, &vm->pidfd_source, vm->pidfd, EPOLLIN, on_pidfd, vm);
	if (r >= 0 && starting)
		r = sd_event_add_time_relative(vm->manager->event, &vm->timer, CLOCK_MONOTONIC,
					       WORKER_START_TIMEOUT_USEC, 0, on_start_timeout, vm);
	if (r >= 0)
		r = worker_connect(vm);
	return r;
}

/* Opens the console logs, emptied unless append='on', into fds[] (-1 where none). A unit opens
 * them itself by path; this still creates and empties them with chd's mode. */
static int open_console_logs(struct vm *vm, const struct worker_logs *logs, int fds[2], sd_bus_error *error)
{
	const char *path[2] = {logs->serial, logs->console};
	const bool append[2] = {logs->serial_append, logs->console_append};

	for (size_t i = 0; i < 2; i++) {
		if (!path[i])
			continue;
		fds[i] = worker_log_open(path[i], append[i]);
		if (fds[i] < 0)
			return sd_bus_error_setf(error, CHD_ERROR_IO_ERROR,
						 _("VM '%s' cannot start: cannot open its console log '%s': %s"),
						 vm->name, path[i], strerror(-fds[i]));
	}
	return 0;
}

/* The worker's command line with its console logs, then a unit or a fork. */
static int worker_spawn(struct vm *vm, sd_bus_error *error)
{
	const bool unit = vm->manager->spawn == SPAWN_MODE_SYSTEMD;
	g_autofree char *msg_error = NULL;
	g_auto(GStrv) argv = NULL;
	struct worker_logs logs;
	int fds[2] = {-1, -1};
	int r;

	worker_logs_get(vm, vm->def, &logs);
	r = open_console_logs(vm, &logs, fds, error);
	if (r >= 0 && unit)
		r = worker_argv_logs(vm, vm->def, logs.serial, logs.console, &argv, &msg_error);
	else if (r >= 0)
		r = worker_argv_logs(vm, vm->def, fds[0] >= 0 ? "/dev/fd/" G_STRINGIFY(WORKER_SERIAL_LOG_FD) : NULL,
				     fds[1] >= 0 ? "/dev/fd/" G_STRINGIFY(WORKER_CONSOLE_LOG_FD) : NULL, &argv,
				     &msg_error);
	if (r < 0 && msg_error)
		r = sd_bus_error_setf(error, CHD_ERROR_INVALID_DEFINITION, _("VM '%s' cannot start: %s"),
				      vm->name, msg_error);
	if (r >= 0 && unit)
		r = worker_unit_start(vm, argv, error);
	else if (r >= 0)
		r = worker_fork(vm, argv, fds, error);
	for (size_t i = 0; i < 2; i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
	worker_logs_done(&logs);
	return r;
}

int worker_start(struct vm *vm, sd_bus_message *msg, sd_bus_error *error)
{
	g_autofree char *dir = manager_vm_runtime_dir(vm->manager, vm->name);
	g_autofree char *record = worker_record(vm);
	g_autofree char *xml = NULL;
	g_autofree char *msg_error = NULL;
	g_auto(GStrv) argv = NULL;
	GError *gerror = NULL;
	int r;

	/* Refuse what cannot become a command line before anything is written. */
	r = worker_argv(vm, vm->def, &argv, &msg_error);
	if (r < 0)
		return sd_bus_error_setf(error, CHD_ERROR_INVALID_DEFINITION,
					 _("VM '%s' cannot start: %s"), vm->name, msg_error ?: strerror(-r));
	r = worker_check_taps(vm, vm->def, error);
	if (r < 0)
		return r;
	if (g_mkdir_with_parents(dir, 0700) < 0)
		return sd_bus_error_setf(error, CHD_ERROR_IO_ERROR, _("VM '%s' cannot start: cannot create '%s': %s"),
					 vm->name, dir, strerror(errno));
	/* The runtime record first: a chd restarted at any later instant finds the worker. */
	if (domain_def_format(vm->def, &xml) < 0 || !g_file_set_contents(record, xml, -1, &gerror)) {
		sd_bus_error_setf(error, CHD_ERROR_IO_ERROR, _("VM '%s' cannot start: cannot write '%s': %s"),
				  vm->name, record, gerror ? gerror->message : strerror(ENOMEM));
		g_clear_error(&gerror);
		return -EIO;
	}

	g_free(vm->worker_stop_reason);
	vm->worker_stop_reason = NULL;
	vm->stop_requested = false;
	r = worker_spawn(vm, error);
	if (r < 0) {
		(void)unlink(record);
		return r;
	}

	/* The live definition: what this worker runs, whatever Define does meanwhile. */
	domain_def_free(vm->live);
	vm->live = NULL;
	(void)domain_def_parse(xml, strlen(xml), &vm->live, NULL);
	if (msg)
		vm->job_reply = sd_bus_message_ref(msg);
	vm_set_state(vm, VM_STATE_STARTING, VM_STATE_REASON_BOOTED);
	return 0;
}

/* A recycled pid is not ours: the process must run the worker binary with a control socket. */
static bool worker_pid_matches(struct vm *vm, pid_t pid)
{
	g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", pid);
	g_autofree char *cmdline_path = g_strdup_printf("/proc/%d/cmdline", pid);
	g_autofree char *exe = g_file_read_link(exe_link, NULL);
	g_autofree char *want = g_path_get_basename(vm->manager->config.worker_path);
	g_autofree char *cmdline = NULL;
	gsize len = 0;

	if (!exe || !g_file_get_contents(cmdline_path, &cmdline, &len, NULL))
		return false;
	/* A rebuilt binary shows as "<path> (deleted)". */
	if (g_str_has_suffix(exe, " (deleted)"))
		exe[strlen(exe) - strlen(" (deleted)")] = 0;
	if (strcmp(strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe, want) != 0)
		return false;
	for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1)
		if (strcmp(cmdline + i, "--control-socket") == 0)
			return true;
	return false;
}


int worker_reconnect(struct vm *vm)
{
	g_autofree char *pidfile = worker_file(vm, "pid");
	g_autofree char *unitfile = worker_file(vm, "unit");
	g_autofree char *text = NULL;
	guint64 pid = 0;
	int r;

	/* A worker that runs as a unit says so in <runtime>/vms/<name>/unit. */
	if (g_file_get_contents(unitfile, &vm->unit, NULL, NULL))
		g_strstrip(vm->unit);
	if (!g_file_get_contents(pidfile, &text, NULL, NULL) ||
	    !g_ascii_string_to_unsigned(g_strstrip(text), 10, 1, G_MAXINT32, &pid, NULL) ||
	    !worker_pid_matches(vm, (pid_t)pid)) {
		/* A unit without a pid file was still starting when chd stopped: nobody would
		 * manage it, so it goes. */
		if (vm->unit)
			(void)worker_unit_stop(vm);
		worker_forget(vm);
		vm->live = domain_def_free(vm->live);
		return -ESRCH;
	}
	r = worker_attach(vm, (pid_t)pid, false);
	if (r == -ESRCH) {
		worker_forget(vm);
		vm->live = domain_def_free(vm->live);
		return r;
	}
	if (r < 0) {
		log_warning(_("chd: VM '%s': cannot reconnect to worker %d: %s"), vm->name, vm->pid, strerror(-r));
		return r;
	}
	/* Running until the worker's Info says otherwise. */
	vm_set_state(vm, VM_STATE_RUNNING, VM_STATE_REASON_RECONNECTED);
	if (vm->unit) {
		/* machined keeps its machines across a chd restart; this only fills a gap (machined
		 * restarted meanwhile). */
		machined_register(vm);
		log_info(_("chd: VM '%s': found its worker %d (unit %s) again"), vm->name, vm->pid, vm->unit);
	} else {
		log_info(_("chd: VM '%s': found its worker %d again"), vm->name, vm->pid);
	}
	return 0;
}
