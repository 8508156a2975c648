/* SPDX-License-Identifier: Apache-2.0 */
/* The enumerations of the VM interface and their documented D-Bus strings
 * (data/dbus/org.cloudhypervisor.chd1.xml lists every string). */
#pragma once

#include <errno.h>

enum vm_state {
	VM_STATE_SHUT_OFF,
	VM_STATE_STARTING,
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,
	VM_STATE_SHUTTING_DOWN,
	VM_STATE_CRASHED,
	_VM_STATE_MAX,
	_VM_STATE_INVALID = -EINVAL,
};

enum vm_state_reason {
	VM_STATE_REASON_NONE,
	VM_STATE_REASON_BOOTED,
	VM_STATE_REASON_REBOOTED,
	VM_STATE_REASON_UNPAUSED,
	VM_STATE_REASON_USER,
	VM_STATE_REASON_SHUTDOWN,
	VM_STATE_REASON_DESTROYED,
	VM_STATE_REASON_CRASHED,
	VM_STATE_REASON_FAILED,
	VM_STATE_REASON_RECONNECTED,
	_VM_STATE_REASON_MAX,
	_VM_STATE_REASON_INVALID = -EINVAL,
};

/* Lifecycle signal events. */
enum vm_event {
	VM_EVENT_DEFINED,
	VM_EVENT_UNDEFINED,
	VM_EVENT_STARTED,
	VM_EVENT_SUSPENDED,
	VM_EVENT_RESUMED,
	VM_EVENT_STOPPED,
	VM_EVENT_SHUTDOWN,
	_VM_EVENT_MAX,
	_VM_EVENT_INVALID = -EINVAL,
};

/* The operation holding a VM's job lock; named in Busy errors. */
enum vm_job {
	VM_JOB_NONE,
	VM_JOB_START,
	VM_JOB_SHUTDOWN,
	VM_JOB_DESTROY,
	VM_JOB_REBOOT,
	VM_JOB_SUSPEND,
	VM_JOB_RESUME,
	VM_JOB_UNDEFINE,
	VM_JOB_SET_AUTOSTART,
	_VM_JOB_MAX,
	_VM_JOB_INVALID = -EINVAL,
};

const char *vm_state_to_string(enum vm_state s);
enum vm_state vm_state_from_string(const char *s);
const char *vm_state_reason_to_string(enum vm_state_reason r);
enum vm_state_reason vm_state_reason_from_string(const char *s);
const char *vm_event_to_string(enum vm_event e);
enum vm_event vm_event_from_string(const char *s);
const char *vm_job_to_string(enum vm_job j);
enum vm_job vm_job_from_string(const char *s);

/* Whether a worker process exists in this state. */
int vm_state_is_active(enum vm_state s);
