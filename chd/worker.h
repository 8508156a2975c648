/* SPDX-License-Identifier: Apache-2.0 */
/* The worker process, inside chd: what worker.c (fork, supervision, control connection),
 * worker-unit.c (transient systemd units) and machined.c (systemd-machined) share. The entry
 * points the rest of chd calls (worker_start, worker_kill, ...) are declared in vm.h. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

struct domain_def;
struct manager;
struct vm;

/* A file in the VM's runtime folder <runtime>/vms/<name>/, newly allocated. */
char *worker_file(struct vm *vm, const char *file);
/* Supervises the worker process pid (pidfd, pid file) and connects to its control socket;
 * starting: the worker must answer Info within the start timeout. */
int worker_attach(struct vm *vm, pid_t pid, bool starting);
/* Drops everything about the worker: supervision, connection, unit, machine, runtime files. */
void worker_forget(struct vm *vm);

/* Console logs (worker-log.c): where the guest's output on a pty serial port and a pty virtio
 * console is copied. NULL: none. */
struct worker_logs {
	char *serial;
	bool serial_append;
	char *console;
	bool console_append;
};
void worker_logs_get(struct vm *vm, const struct domain_def *def, struct worker_logs *ret);
void worker_logs_done(struct worker_logs *l);
/* <log>/<name>.log */
char *worker_default_console_log(struct vm *vm);
/* Opens a log for the worker: created 0640, appended to, emptied first unless append. An fd or
 * -errno. */
int worker_log_open(const char *path, bool append);

/* Transient units (worker-unit.c). worker_unit_setup() connects to the service manager and
 * watches start jobs; worker_unit_start() asks systemd to run argv as the VM's unit. */
int worker_unit_setup(struct manager *m);
int worker_unit_start(struct vm *vm, char **argv, sd_bus_error *error);
/* Stops the unit (StopUnit): cancels a start that has not finished. */
int worker_unit_stop(struct vm *vm);
/* Drops what chd knows about the VM's unit (name, start job, pending calls). */
void worker_unit_forget(struct vm *vm);
/* systemd-escape: '/' becomes '-', and everything but [A-Za-z0-9:_.] (and a leading '.')
 * becomes \xNN. */
int unit_name_escape(const char *s, char **ret);
/* "chd-vm-<escaped name>.service" */
int worker_unit_name(const char *vm_name, char **ret);

/* Taps for a worker without CAP_NET_ADMIN (worker-net.c): whether it can use each tap. */
enum tap_access {
	TAP_ACCESS_OK,
	TAP_ACCESS_UNNAMED,     /* no <target dev=...>: the worker would have to make a tap */
	TAP_ACCESS_MISSING,     /* no such interface: the same */
	TAP_ACCESS_NOT_TAP,     /* an interface, but no tap */
	TAP_ACCESS_NOT_OWNER,   /* its tun owner or group is not ours */
	TAP_ACCESS_MULTI_QUEUE, /* made with multi_queue: the worker attaches one queue pair */
	TAP_ACCESS_DOWN,        /* bringing it up needs CAP_NET_ADMIN */
	TAP_ACCESS_NO_TUN,      /* /dev/net/tun is closed to the user */
	_TAP_ACCESS_MAX,
	_TAP_ACCESS_INVALID = -EINVAL,
};
const char *tap_access_to_string(enum tap_access a);
enum tap_access tap_access_from_string(const char *s);

/* What /sys/class/net/<name> says; owner and group -1 where unset (or not a tap). */
struct tap_info {
	bool exists;
	bool is_tap;
	bool multi_queue;
	bool up;
	int64_t owner;
	int64_t group;
};
int tap_info_read(const char *name, struct tap_info *ret);
/* Pure: whether uid (gid, groups) may use tap name (NULL: none named) as the kernel decides. */
enum tap_access tap_access_check(const char *name, const struct tap_info *t, uid_t uid, gid_t gid,
				 const gid_t *groups, size_t n_groups);
/* The reason and the fix, translated, newly allocated; NULL for TAP_ACCESS_OK. */
char *tap_access_message(enum tap_access a, const char *name, const struct tap_info *t, uid_t uid);
/* In user mode without CAP_NET_ADMIN: refuses (sd_bus_error, -errno) a definition with a tap
 * the worker cannot use. 0 otherwise. */
int worker_check_taps(struct vm *vm, const struct domain_def *def, sd_bus_error *error);

/* systemd-machined (machined.c): the worker registers as a machine of class "vm" while it runs. */
void machined_register(struct vm *vm);
void machined_unregister(struct vm *vm);
/* machined's rules for a machine name (a host name): the VM's name when it qualifies. */
bool machined_name_is_valid(const char *name);
