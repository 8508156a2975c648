/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "string-table.h"
#include "vm-state.h"

static const char *const vm_state_table[_VM_STATE_MAX] = {
    [VM_STATE_SHUT_OFF] = "shut-off",
    [VM_STATE_STARTING] = "starting",
    [VM_STATE_RUNNING] = "running",
    [VM_STATE_PAUSED] = "paused",
    [VM_STATE_SHUTTING_DOWN] = "shutting-down",
    [VM_STATE_CRASHED] = "crashed",
};

static const char *const vm_state_reason_table[_VM_STATE_REASON_MAX] = {
    [VM_STATE_REASON_NONE] = "none",
    [VM_STATE_REASON_BOOTED] = "booted",
    [VM_STATE_REASON_REBOOTED] = "rebooted",
    [VM_STATE_REASON_UNPAUSED] = "unpaused",
    [VM_STATE_REASON_USER] = "user",
    [VM_STATE_REASON_SHUTDOWN] = "shutdown",
    [VM_STATE_REASON_DESTROYED] = "destroyed",
    [VM_STATE_REASON_CRASHED] = "crashed",
    [VM_STATE_REASON_FAILED] = "failed",
    [VM_STATE_REASON_RECONNECTED] = "reconnected",
};

static const char *const vm_event_table[_VM_EVENT_MAX] = {
    [VM_EVENT_DEFINED] = "defined",
    [VM_EVENT_UNDEFINED] = "undefined",
    [VM_EVENT_STARTED] = "started",
    [VM_EVENT_SUSPENDED] = "suspended",
    [VM_EVENT_RESUMED] = "resumed",
    [VM_EVENT_STOPPED] = "stopped",
    [VM_EVENT_SHUTDOWN] = "shutdown",
};

static const char *const vm_job_table[_VM_JOB_MAX] = {
    [VM_JOB_NONE] = "none",
    [VM_JOB_START] = "start",
    [VM_JOB_SHUTDOWN] = "shutdown",
    [VM_JOB_DESTROY] = "destroy",
    [VM_JOB_REBOOT] = "reboot",
    [VM_JOB_SUSPEND] = "suspend",
    [VM_JOB_RESUME] = "resume",
    [VM_JOB_UNDEFINE] = "undefine",
    [VM_JOB_SET_AUTOSTART] = "set-autostart",
};

DEFINE_STRING_TABLE(vm_state, enum vm_state, vm_state_table)
DEFINE_STRING_TABLE(vm_state_reason, enum vm_state_reason, vm_state_reason_table)
DEFINE_STRING_TABLE(vm_event, enum vm_event, vm_event_table)
DEFINE_STRING_TABLE(vm_job, enum vm_job, vm_job_table)

int vm_state_is_active(enum vm_state s)
{
	switch (s) {
	case VM_STATE_STARTING:
	case VM_STATE_RUNNING:
	case VM_STATE_PAUSED:
	case VM_STATE_SHUTTING_DOWN:
		return 1;
	case VM_STATE_SHUT_OFF:
	case VM_STATE_CRASHED:
	case _VM_STATE_MAX:
	case _VM_STATE_INVALID:
		break;
	}
	return 0;
}
