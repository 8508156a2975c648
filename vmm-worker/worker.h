/* SPDX-License-Identifier: Apache-2.0 */
/* The worker: the process-level context around one VM. It owns the event loop, the boot loop (a
 * reset rebuilds the VM from the same configuration), the run state clients see, and the commands
 * that change it (power button, stop, pause, resume, reboot). The commands know nothing of their
 * transport; control/ exposes them as the org.cloudhypervisor.chd1.Worker D-Bus interface. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "vm.h"

struct vmm_config;
struct control;
struct chardev;
typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

/* What clients see; strings are part of the D-Bus interface. */
enum worker_state {
	WORKER_STATE_STARTING,      /* before the first boot runs */
	WORKER_STATE_RUNNING,       /* vCPUs run the guest */
	WORKER_STATE_PAUSED,        /* every vCPU parked outside KVM_RUN */
	WORKER_STATE_SHUTTING_DOWN, /* power button pressed, waiting for the guest */
	WORKER_STATE_STOPPED,       /* the VM is gone; the process exits next */
	_WORKER_STATE_MAX,
	_WORKER_STATE_INVALID = -EINVAL,
};

/* Why the state changed (StateChanged's second argument). */
enum worker_reason {
	WORKER_REASON_BOOT,
	WORKER_REASON_PAUSE,
	WORKER_REASON_RESUME,
	WORKER_REASON_POWER_BUTTON,
	WORKER_REASON_REBOOT,
	WORKER_REASON_GUEST_RESET,
	WORKER_REASON_GUEST_POWEROFF,
	WORKER_REASON_STOP,
	WORKER_REASON_SIGNAL,
	WORKER_REASON_ERROR,
	_WORKER_REASON_MAX,
	_WORKER_REASON_INVALID = -EINVAL,
};

/* The commands a client can give; whether each is allowed depends on the state only. */
enum worker_command {
	WORKER_COMMAND_POWER_BUTTON,
	WORKER_COMMAND_STOP,
	WORKER_COMMAND_PAUSE,
	WORKER_COMMAND_RESUME,
	WORKER_COMMAND_REBOOT,
	_WORKER_COMMAND_MAX,
	_WORKER_COMMAND_INVALID = -EINVAL,
};

const char *worker_state_to_string(enum worker_state s);
enum worker_state worker_state_from_string(const char *s);
const char *worker_reason_to_string(enum worker_reason r);
enum worker_reason worker_reason_from_string(const char *s);
const char *worker_command_to_string(enum worker_command c);
enum worker_command worker_command_from_string(const char *s);
bool worker_command_allowed(enum worker_command c, enum worker_state s);

/* The host ends of the guest's consoles, set up by main() once for the worker's life; not owned. */
struct worker_io {
	int serial_fd;		 /* serial output; -1 discards it */
	int serial_in_fd;	 /* host input for the serial port (stdin, a pty); -1 for none */
	struct chardev *console; /* the virtio console's backend; NULL: no virtio console */
	const char *serial_pty;	 /* --serial pty: the terminal a user opens (Info's SerialPty) */
	struct chardev *serial_chr; /* --serial pty: its chardev, which keeps the console log */
};

struct worker_stats {
	uint64_t boots;
	uint64_t pauses;
	uint64_t power_button_presses;
};

struct worker {
	const struct vmm_config *cfg;
	sd_event *event;
	struct worker_io io;

	struct vm *vm;		     /* the current boot; NULL between boots */
	sd_event_source *vm_exit_source; /* watches vm->exit_fd */
	bool boot_done;

	enum worker_state state;
	enum worker_reason stop_reason; /* why a VM_EXIT_STOP was asked for */
	bool reboot_requested;		/* the next VM_EXIT_RESET comes from Reboot, not the guest */

	uint64_t started_usec;	    /* CLOCK_MONOTONIC: first boot */
	uint64_t boot_started_usec; /* CLOCK_MONOTONIC: current boot */
	uint64_t paused_since_usec;
	uint64_t paused_usec; /* total, over the worker's life */
	struct worker_stats stats;

	struct control *control; /* NULL without --control-socket */
};

/* Creates the worker and its event loop; with cfg's control socket, starts listening on it (so a
 * client can connect before the first boot). Logs the reason of a failure itself. */
int worker_new(const struct vmm_config *cfg, const struct worker_io *io, struct worker **ret);
struct worker *worker_free(struct worker *w);
DEFINE_POINTER_CLEANUP(struct worker, worker_free)

/* Boots the VM, again after each reset, until it stops; returns why (never VM_EXIT_RESET). */
enum vm_exit worker_run(struct worker *w);

/* The commands. -EBUSY: not allowed in the current state (worker_command_allowed());
 * -ESHUTDOWN: the VM is already on its way out; other negative errno: the host failed. */
int worker_power_button(struct worker *w);
int worker_stop(struct worker *w);
int worker_pause(struct worker *w);
int worker_resume(struct worker *w);
int worker_reboot(struct worker *w);

/* Microseconds on CLOCK_MONOTONIC, as the event loop sees them. */
uint64_t worker_now(struct worker *w);
