/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's states, reasons and commands as the strings clients see, and which command each
 * state allows: one table, so the D-Bus documentation (data/dbus/…Worker.xml) and the code agree. */
#include <string.h>

#include "worker.h"

static const char *const worker_state_table[_WORKER_STATE_MAX] = {
	[WORKER_STATE_STARTING] = "starting",
	[WORKER_STATE_RUNNING] = "running",
	[WORKER_STATE_PAUSED] = "paused",
	[WORKER_STATE_SHUTTING_DOWN] = "shutting-down",
	[WORKER_STATE_STOPPED] = "stopped",
};

static const char *const worker_reason_table[_WORKER_REASON_MAX] = {
	[WORKER_REASON_BOOT] = "boot",
	[WORKER_REASON_PAUSE] = "pause",
	[WORKER_REASON_RESUME] = "resume",
	[WORKER_REASON_POWER_BUTTON] = "power-button",
	[WORKER_REASON_REBOOT] = "reboot",
	[WORKER_REASON_GUEST_RESET] = "guest-reset",
	[WORKER_REASON_GUEST_POWEROFF] = "guest-poweroff",
	[WORKER_REASON_STOP] = "stop",
	[WORKER_REASON_SIGNAL] = "signal",
	[WORKER_REASON_ERROR] = "error",
};

static const char *const worker_command_table[_WORKER_COMMAND_MAX] = {
	[WORKER_COMMAND_POWER_BUTTON] = "power-button",
	[WORKER_COMMAND_STOP] = "stop",
	[WORKER_COMMAND_PAUSE] = "pause",
	[WORKER_COMMAND_RESUME] = "resume",
	[WORKER_COMMAND_REBOOT] = "reboot",
};

#define S(x) (1u << WORKER_STATE_##x)
/* A paused guest cannot react to a button; a guest that is shutting down may be pressed again,
 * stopped or reset, but not paused (the shutdown would then wait on nobody). */
static const unsigned worker_command_states[_WORKER_COMMAND_MAX] = {
	[WORKER_COMMAND_POWER_BUTTON] = S(RUNNING) | S(SHUTTING_DOWN),
	[WORKER_COMMAND_STOP] = S(RUNNING) | S(PAUSED) | S(SHUTTING_DOWN),
	[WORKER_COMMAND_PAUSE] = S(RUNNING),
	[WORKER_COMMAND_RESUME] = S(PAUSED),
	[WORKER_COMMAND_REBOOT] = S(RUNNING) | S(PAUSED) | S(SHUTTING_DOWN),
};
#undef S

static const char *table_to_string(const char *const *table, int max, int i)
{
	if (i < 0 || i >= max)
		return NULL;
	return table[i];
}

static int table_from_string(const char *const *table, int max, const char *s)
{
	for (int i = 0; s && i < max; i++)
		if (strcmp(table[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *worker_state_to_string(enum worker_state s)
{
	return table_to_string(worker_state_table, _WORKER_STATE_MAX, s);
}

enum worker_state worker_state_from_string(const char *s)
{
	return table_from_string(worker_state_table, _WORKER_STATE_MAX, s);
}

const char *worker_reason_to_string(enum worker_reason r)
{
	return table_to_string(worker_reason_table, _WORKER_REASON_MAX, r);
}

enum worker_reason worker_reason_from_string(const char *s)
{
	return table_from_string(worker_reason_table, _WORKER_REASON_MAX, s);
}

const char *worker_command_to_string(enum worker_command c)
{
	return table_to_string(worker_command_table, _WORKER_COMMAND_MAX, c);
}

enum worker_command worker_command_from_string(const char *s)
{
	return table_from_string(worker_command_table, _WORKER_COMMAND_MAX, s);
}

bool worker_command_allowed(enum worker_command c, enum worker_state s)
{
	if ((int)c < 0 || c >= _WORKER_COMMAND_MAX || (int)s < 0 || s >= _WORKER_STATE_MAX)
		return false;
	return worker_command_states[c] & (1u << s);
}
