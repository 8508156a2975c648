/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Process-wide logging settings: set once from the command line, read by every thread. */
static enum log_level arg_log_level = LOG_LEVEL_WARNING;
static const char *arg_log_prefix = "";
static int arg_log_fd = 2;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level)
{
	arg_log_level = level;
}

enum log_level log_get_level(void)
{
	return arg_log_level;
}

void log_set_prefix(const char *prefix)
{
	arg_log_prefix = prefix ? prefix : "";
}

int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	arg_log_fd = fd;
	return 0;
}

int log_full_errno(enum log_level level, int err, const char *fmt, ...)
{
	static const char *const names[_LOG_LEVEL_MAX] = {
		[LOG_LEVEL_ERROR] = "error",
		[LOG_LEVEL_WARNING] = "warning",
		[LOG_LEVEL_INFO] = "info",
		[LOG_LEVEL_DEBUG] = "debug",
	};
	int saved = errno;
	int ret = err < 0 ? err : -err;

	if (level > arg_log_level)
		return ret;

	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	char line[1200];
	int n;
	if (arg_log_fd == 2) {
		if (level == LOG_LEVEL_INFO)
			n = snprintf(line, sizeof(line), "%s%s\n", arg_log_prefix, msg);
		else
			n = snprintf(line, sizeof(line), "%s%s: %s\n", arg_log_prefix, names[level], msg);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		n = snprintf(line, sizeof(line), "%lld.%06ld %s: %s\n", (long long)ts.tv_sec,
			     ts.tv_nsec / 1000, names[level], msg);
	}
	if (n > (int)sizeof(line))
		n = sizeof(line);
	pthread_mutex_lock(&log_lock);
	(void)!write(arg_log_fd, line, n);
	pthread_mutex_unlock(&log_lock);
	errno = saved;
	return ret;
}
