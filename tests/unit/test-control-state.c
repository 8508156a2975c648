/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's states, reasons and commands: every table entry round-trips, the strings are the ones
 * data/dbus/org.cloudhypervisor.chd1.Worker.xml documents, and the command/state matrix is the
 * documented one. */
#include <errno.h>
#include <string.h>

#include "worker.h"

#include <glib.h>

typedef const char *(*to_string_fn)(int);
typedef int (*from_string_fn)(const char *);

static void check_table(int max, const char *(*to)(int), int (*from)(const char *), const char *const *want)
{
	for (int i = 0; i < max; i++) {
		const char *s = to(i);

		g_assert_nonnull(s);
		g_assert_cmpstr(s, ==, want[i]);
		g_assert_cmpint(from(s), ==, i);
		for (int j = 0; j < i; j++)
			g_assert_cmpstr(to(j), !=, s);
	}
	g_assert_null(want[max]);
	g_assert_null(to(max));
	g_assert_null(to(-EINVAL));
	g_assert_cmpint(from(NULL), ==, -EINVAL);
	g_assert_cmpint(from(""), ==, -EINVAL);
	g_assert_cmpint(from("RUNNING"), ==, -EINVAL);
}

static void test_states(void)
{
	static const char *const want[] = { "starting", "running", "paused", "shutting-down", "stopped", NULL };
	check_table(_WORKER_STATE_MAX, (to_string_fn)worker_state_to_string, (from_string_fn)worker_state_from_string,
		    want);
}

static void test_reasons(void)
{
	static const char *const want[] = { "boot",   "pause",	    "resume",	      "power-button", "reboot",
					    "guest-reset", "guest-poweroff", "stop", "signal",	 "error",
					    NULL };
	check_table(_WORKER_REASON_MAX, (to_string_fn)worker_reason_to_string, (from_string_fn)worker_reason_from_string,
		    want);
}

static void test_commands(void)
{
	static const char *const want[] = { "power-button", "stop", "pause", "resume", "reboot", NULL };
	check_table(_WORKER_COMMAND_MAX, (to_string_fn)worker_command_to_string,
		    (from_string_fn)worker_command_from_string, want);
}

/* Rows: commands; columns: starting, running, paused, shutting-down, stopped. */
static void test_allowed(void)
{
	static const bool want[_WORKER_COMMAND_MAX][_WORKER_STATE_MAX] = {
		[WORKER_COMMAND_POWER_BUTTON] = { false, true, false, true, false },
		[WORKER_COMMAND_STOP] = { false, true, true, true, false },
		[WORKER_COMMAND_PAUSE] = { false, true, false, false, false },
		[WORKER_COMMAND_RESUME] = { false, false, true, false, false },
		[WORKER_COMMAND_REBOOT] = { false, true, true, true, false },
	};

	for (int c = 0; c < _WORKER_COMMAND_MAX; c++) {
		for (int s = 0; s < _WORKER_STATE_MAX; s++)
			if (worker_command_allowed(c, s) != want[c][s])
				g_error("%s in state %s: allowed=%d, expected %d", worker_command_to_string(c),
					worker_state_to_string(s), worker_command_allowed(c, s), want[c][s]);
		g_assert_false(worker_command_allowed(c, _WORKER_STATE_MAX));
		g_assert_false(worker_command_allowed(c, _WORKER_STATE_INVALID));
	}
	g_assert_false(worker_command_allowed(_WORKER_COMMAND_MAX, WORKER_STATE_RUNNING));
	g_assert_false(worker_command_allowed(_WORKER_COMMAND_INVALID, WORKER_STATE_RUNNING));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/control-state/states", test_states);
	g_test_add_func("/control-state/reasons", test_reasons);
	g_test_add_func("/control-state/commands", test_commands);
	g_test_add_func("/control-state/allowed", test_allowed);
	return g_test_run();
}
