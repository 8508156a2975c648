/* SPDX-License-Identifier: Apache-2.0 */
/* One VM: its definitions, its state and job lock, its worker process and the VM D-Bus object.
 * vm.c holds the state machine, worker.c the worker process, vm-dbus.c the D-Bus face. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "vm-state.h"

struct manager;
struct domain_def;
struct domain_store;

#define VM_OBJECT_PREFIX "/org/cloudhypervisor/chd1/vm"

struct vm {
	struct manager *manager;
	char *name;
	char uuid[37];
	char *path; /* D-Bus object path */
	sd_bus_slot *vtable_slot;

	struct domain_def *def;	 /* the stored (or transient) definition */
	struct domain_def *live; /* what the worker runs; NULL when no worker */
	bool persistent;
	bool autostart;

	enum vm_state state;
	enum vm_state_reason reason;
	enum vm_job job;

	/* The worker (worker.c). */
	pid_t pid;
	int pidfd;
	sd_event_source *pidfd_source;
	sd_bus *control;		/* peer connection to the worker's control socket */
	sd_bus_slot *state_changed_slot;
	char *worker_stop_reason;	/* StateChanged("stopped", reason) when announced */
	char *console_path;		/* the worker's serial (or virtio console) pty; NULL when none */
	bool stop_requested;		/* Destroy or Shutdown's timeout: the exit is "destroyed" */
	bool restarting;		/* stopped by us to be started again */
	sd_bus_message *job_reply;	/* the call waiting for the worker (Start, Suspend, ...) */
	GPtrArray *stop_waiters;	/* Destroy calls waiting for the worker to exit */
	sd_event_source *timer;		/* Shutdown escalation, Destroy's SIGKILL, start timeout */
	uint64_t shutdown_timeout_usec; /* Shutdown's escalation, armed once the button is pressed */
	bool worker_exiting;		/* its pidfd fired: late control-connection errors are expected */

	/* A worker that runs as a transient systemd unit (worker-unit.c, machined.c). */
	char *unit;			/* "chd-vm-<escaped name>.service"; NULL for a forked worker */
	bool unit_starting;		/* waiting for the unit's start job (JobRemoved) */
	char *unit_job;			/* that job's object path */
	char **unit_argv;		/* kept to ask again while an old unit of the name goes away */
	unsigned unit_attempts;
	sd_bus_slot *unit_slot;		/* the pending StartTransientUnit or MainPID call */
	sd_bus_slot *machine_slot;	/* the pending RegisterMachine call */
	bool machine_registered;
};

int vm_new(struct manager *m, struct domain_def *def, bool persistent, struct vm **ret);
struct vm *vm_free(struct vm *vm);
DEFINE_POINTER_CLEANUP(struct vm, vm_free);

const char *vm_name(const struct vm *vm);
const char *vm_uuid(const struct vm *vm);
/* The definition that describes the VM now: the live one while a worker runs. */
const struct domain_def *vm_current_def(const struct vm *vm);

/* Changes state and reason and announces it (PropertiesChanged). */
void vm_set_state(struct vm *vm, enum vm_state state, enum vm_state_reason reason);
/* The ConsolePath property: the worker's pty, or NULL (no worker, or no pty). */
void vm_set_console_path(struct vm *vm, const char *path);
/* Emits the Lifecycle signal. */
void vm_emit_event(struct vm *vm, enum vm_event event, const char *detail);

/* Job lock: 0 and taken, or -EBUSY with error naming the holder. */
int vm_job_begin(struct vm *vm, enum vm_job job, sd_bus_error *error);
void vm_job_end(struct vm *vm);

/* Startup (manager.c): the stored definitions, the still-running workers, autostart. */
int vm_load_all(struct manager *m);
int vm_reconnect_all(struct manager *m);
void vm_autostart_all(struct manager *m);

/* The store over the manager's definition folder. */
int vm_open_store(struct manager *m, struct domain_store **ret);

/* D-Bus (vm-dbus.c). */
int vm_bus_export(struct vm *vm);
void vm_bus_unexport(struct vm *vm);
void vm_bus_emit_changed(struct vm *vm, const char *property, ...);

/* Worker process (worker.c). Start replies to msg (may be NULL) when the worker runs or fails. */
int worker_start(struct vm *vm, sd_bus_message *msg, sd_bus_error *error);
/* SIGTERM now, SIGKILL after a grace period. */
int worker_kill(struct vm *vm);
/* Calls a Worker method; reply_cb gets vm as userdata. */
int worker_call(struct vm *vm, const char *method, sd_bus_message_handler_t reply_cb);
/* Finds a worker left running by an earlier chd from its runtime record. */
int worker_reconnect(struct vm *vm);
/* The worker's argv for the VM's definition (GetWorkerCommandLine and worker_start). */
int worker_argv(struct vm *vm, const struct domain_def *def, char ***ret, char **ret_error);
/* Called by worker.c when the worker process is gone. */
void vm_worker_exited(struct vm *vm, int exit_status, bool killed);
/* Called when a worker could not be started at all (systemd refused the unit, the unit failed
 * before it was ready); detail says why. */
void vm_worker_start_failed(struct vm *vm, const char *detail);
/* Where the worker's own messages are, for error messages: a file or "journalctl -u UNIT". */
char *worker_log_hint(struct vm *vm);
/* Called by worker.c when the worker answered Info after a start (or reconnect). */
void vm_worker_ready(struct vm *vm, const char *worker_state);
/* Called by worker.c on StateChanged. */
void vm_worker_state_changed(struct vm *vm, const char *state, const char *reason);
