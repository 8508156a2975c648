/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "backends/chardev.h"
#include "macro.h"

struct chardev {
	enum output_mode mode;
	int in_fd, out_fd;
	int pty_hold_fd; /* our own open of the pty's terminal side, see open_pty() */
	char *pty_path;
	int tty_fd; /* terminal whose settings we changed */
	struct termios saved;
	bool restore;
	int log_fd; /* the console log, or -1 */
	/* Written by the device's one writer thread, read by the control thread: atomics. */
	uint64_t log_written, log_dropped;
};

static struct chardev *chardev_alloc(enum output_mode mode)
{
	struct chardev *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->mode = mode;
	c->in_fd = c->out_fd = c->pty_hold_fd = c->tty_fd = c->log_fd = -1;
	return c;
}

struct chardev *chardev_free(struct chardev *c)
{
	if (!c)
		return NULL;
	if (c->restore)
		(void)tcsetattr(c->tty_fd, TCSANOW, &c->saved);
	if (c->out_fd != c->in_fd)
		safe_close(c->out_fd);
	safe_close(c->in_fd);
	safe_close(c->pty_hold_fd);
	safe_close(c->log_fd);
	free(c->pty_path);
	free(c);
	return NULL;
}

/* A description of our own for fd, with our flags: for ttys, pipes and FIFOs through /proc;
 * other kinds are duplicated (a regular file never blocks anyway). */
static int reopen(int fd, int flags)
{
	struct stat st;
	char path[64];

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		int r = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (r >= 0)
			return r;
	}
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return r < 0 ? -errno : r;
}

/* Raw: the guest sees every byte (Ctrl-C included) and does its own echo and line editing. */
static int make_raw(struct chardev *c, int fd, bool keep_output_processing)
{
	struct termios raw;

	if (tcgetattr(fd, &c->saved) < 0)
		return -errno;
	raw = c->saved;
	cfmakeraw(&raw);
	if (keep_output_processing)
		raw.c_oflag |= OPOST | ONLCR; /* keep our own messages readable on the user's terminal */
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -errno;
	c->tty_fd = fd;
	c->restore = true;
	return 0;
}

int chardev_new_stdio(int in_fd, int out_fd, struct chardev **ret)
{
	_cleanup_(chardev_freep) struct chardev *c = chardev_alloc(OUTPUT_MODE_TTY);
	int r;

	if (!ret || in_fd < 0 || out_fd < 0)
		return -EINVAL;
	if (!c)
		return -ENOMEM;
	c->in_fd = reopen(in_fd, O_RDONLY);
	if (c->in_fd < 0)
		return c->in_fd;
	c->out_fd = reopen(out_fd, O_WRONLY);
	if (c->out_fd < 0)
		return c->out_fd;
	if (isatty(in_fd)) {
		r = make_raw(c, in_fd, true);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

/* The terminal side stays open here too: without it the pty hangs up (POLLHUP, EIO) until a user
 * opens it, and again each time one leaves, which an I/O thread would see as endless events. */
static int open_pty(struct chardev *c)
{
	char name[64];
	int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	c->in_fd = c->out_fd = fd;
	if (grantpt(fd) < 0 || unlockpt(fd) < 0 || ptsname_r(fd, name, sizeof(name)) != 0)
		return -errno;
	c->pty_path = strdup(name);
	if (!c->pty_path)
		return -ENOMEM;
	c->pty_hold_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->pty_hold_fd < 0)
		return -errno;
	/* Raw on the terminal side, where line discipline settings live; nothing to restore. */
	int r = make_raw(c, c->pty_hold_fd, false);
	c->restore = false;
	return r;
}

int chardev_new(enum output_mode mode, const char *path, struct chardev **ret)
{
	_cleanup_(chardev_freep) struct chardev *c = NULL;
	int r;

	if (!ret)
		return -EINVAL;
	switch (mode) {
	case OUTPUT_MODE_TTY:
		return chardev_new_stdio(STDIN_FILENO, STDOUT_FILENO, ret);
	case OUTPUT_MODE_PTY:
	case OUTPUT_MODE_FILE:
	case OUTPUT_MODE_NULL:
		break;
	case OUTPUT_MODE_OFF:
	case _OUTPUT_MODE_MAX:
	case _OUTPUT_MODE_INVALID:
	default:
		return -EINVAL;
	}
	if ((mode == OUTPUT_MODE_FILE) != (path != NULL))
		return -EINVAL;
	c = chardev_alloc(mode);
	if (!c)
		return -ENOMEM;
	if (mode == OUTPUT_MODE_PTY) {
		r = open_pty(c);
		if (r < 0)
			return r;
	} else if (mode == OUTPUT_MODE_FILE) {
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0640);
		if (c->out_fd < 0)
			return -errno;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

enum output_mode chardev_mode(const struct chardev *c)
{
	return c->mode;
}

const char *chardev_pty_path(const struct chardev *c)
{
	return c->pty_path;
}

int chardev_input_fd(const struct chardev *c)
{
	return c->in_fd;
}

int chardev_output_fd(const struct chardev *c)
{
	return c->out_fd;
}

ssize_t chardev_write(struct chardev *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->out_fd < 0)
		return (ssize_t)len;
	do
		n = write(c->out_fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	return n < 0 ? -errno : n;
}

ssize_t chardev_read(struct chardev *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->in_fd < 0)
		return 0;
	do
		n = read(c->in_fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* "/dev/fd/N": the descriptor chd passed. -1 for other paths. */
static int inherited_fd_number(const char *path)
{
	const char *n = path + strlen("/dev/fd/");
	char *end;
	long fd;

	if (strncmp(path, "/dev/fd/", strlen("/dev/fd/")) != 0 || *n < '0' || *n > '9')
		return -1;
	fd = strtol(n, &end, 10);
	return *end || fd > INT32_MAX ? -1 : (int)fd;
}

int chardev_open_log(struct chardev *c, const char *path)
{
	int n = inherited_fd_number(path), fd;

	if (!path || !*path)
		return -EINVAL;
	if (n >= 0) {
		/* Our own description, non-blocking where that means something (a FIFO or a
		 * terminal); a regular file is duplicated and keeps chd's O_APPEND. */
		fd = reopen(n, O_WRONLY | O_APPEND);
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0640);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0)
		return fd;
	safe_close(c->log_fd);
	c->log_fd = fd;
	return 0;
}

void chardev_log(struct chardev *c, const void *buf, size_t len)
{
	const char *p = buf;

	if (c->log_fd < 0 || len == 0)
		return;
	while (len > 0) {
		ssize_t n = write(c->log_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EAGAIN, ENOSPC, EFBIG, EIO: the rest is lost, the guest goes on */
		__atomic_add_fetch(&c->log_written, (uint64_t)n, __ATOMIC_RELAXED);
		p += n;
		len -= (size_t)n;
	}
	if (len > 0)
		__atomic_add_fetch(&c->log_dropped, (uint64_t)len, __ATOMIC_RELAXED);
}

bool chardev_get_log_stats(const struct chardev *c, struct chardev_log_stats *ret)
{
	if (c->log_fd < 0)
		return false;
	*ret = (struct chardev_log_stats){
	    .written = __atomic_load_n(&c->log_written, __ATOMIC_RELAXED),
	    .dropped = __atomic_load_n(&c->log_dropped, __ATOMIC_RELAXED),
	};
	return true;
}
