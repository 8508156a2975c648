/* SPDX-License-Identifier: Apache-2.0 */
/* chctl's exit statuses. The numbers are a stable interface (documented in chctl(1)); scripts
 * test them, so never renumber, only append. */
#pragma once

#include <errno.h>

enum chctl_exit {
	CHCTL_EXIT_OK = 0,
	CHCTL_EXIT_FAILURE = 1,
	CHCTL_EXIT_USAGE = 2,
	CHCTL_EXIT_NO_SUCH_VM = 3,
	CHCTL_EXIT_INVALID_STATE = 4,
	CHCTL_EXIT_BUSY = 5,
	CHCTL_EXIT_PERMISSION_DENIED = 6,
	CHCTL_EXIT_NO_DAEMON = 7,
	CHCTL_EXIT_INVALID_DEFINITION = 8,
	CHCTL_EXIT_VM_EXISTS = 9,
	CHCTL_EXIT_NOT_SUPPORTED = 10,
	_CHCTL_EXIT_MAX,
	_CHCTL_EXIT_INVALID = -EINVAL,
};

const char *chctl_exit_to_string(enum chctl_exit e);
enum chctl_exit chctl_exit_from_string(const char *s);

/* The exit status for a D-Bus error name; CHCTL_EXIT_FAILURE for names it does not know. */
enum chctl_exit chctl_exit_from_error_name(const char *name);
/* The exit status for an errno from sd-bus when no D-Bus error name came back (connecting). */
enum chctl_exit chctl_exit_from_errno(int err);
/* What the status means, translated, for --help. */
const char *chctl_exit_description(enum chctl_exit e);
/* A translated hint that suggests the fix for an exit status, or NULL. */
const char *chctl_exit_hint(enum chctl_exit e);
