/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal leveled logger for programs without GLib (vmm-worker). Messages go to stderr, or to a
 * file chosen with log_open_file(). log_*_errno() return the negative errno so callers can write
 * "return log_error_errno(r, ...)". */
#pragma once

#include <stdarg.h>

#include "macro.h"

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	_LOG_LEVEL_MAX,
	_LOG_LEVEL_INVALID = -EINVAL,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_prefix(const char *prefix);
int log_open_file(const char *path);

/* Returns -|err| (or 0 when err is 0) so it can be returned directly. */
int log_full_errno(enum log_level level, int err, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
