/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "bus.h"
#include "console.h"
#include "i18n.h"
#include "vm-props.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event, sd_event_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event_source, sd_event_source_unref)

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, buf, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		buf += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Copies one chunk of guest output to the user. At the end of a followed file the reader sleeps
 * until inotify says the file grew. */
static int relay_output(sd_event_source *s, const struct console *con)
{
	sd_event *e = sd_event_source_get_event(s);
	char buf[4096];
	ssize_t k = read(con->rd_fd, buf, sizeof(buf));
	int r;

	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* A pty whose other side closed reads EIO; a socket or pipe reads 0. Both mean it ended. */
	if ((k < 0 && errno == EIO) || (k == 0 && !con->follow))
		return sd_event_exit(e, 1);
	if (k < 0)
		return sd_event_exit(e, -errno);
	if (k == 0)
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);
	r = write_all(con->out_fd, buf, (size_t)k);
	if (r < 0)
		return sd_event_exit(e, r);
	return 0;
}

static int on_console(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	return relay_output(s, userdata);
}

static int on_file_readable(sd_event_source *s, void *userdata)
{
	return relay_output(s, userdata);
}

static int on_file_grown(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	return sd_event_source_set_enabled(userdata, SD_EVENT_ON);
}

/* The user's keys to the guest, up to the escape character. */
static int on_input(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	const struct console *con = userdata;
	sd_event *e = sd_event_source_get_event(s);
	char buf[1024];
	ssize_t k = read(con->in_fd, buf, sizeof(buf));
	char *escape;
	int r;

	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (k < 0)
		return sd_event_exit(e, -errno);
	if (k == 0) /* no more input: keep showing the guest until it closes or Ctrl-C */
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);
	escape = memchr(buf, CONSOLE_ESCAPE, (size_t)k);
	if (con->wr_fd >= 0) {
		r = write_all(con->wr_fd, buf, escape ? (size_t)(escape - buf) : (size_t)k);
		if (r < 0)
			return sd_event_exit(e, r);
	}
	if (escape)
		return sd_event_exit(e, 0);
	return 0;
}

int console_run(const struct console *con)
{
	g_autoptr(sd_event) e = NULL;
	g_autoptr(sd_event_source) in = NULL;
	g_autoptr(sd_event_source) rd = NULL;
	g_autoptr(sd_event_source) grown = NULL;
	int r;

	r = sd_event_new(&e);
	if (r < 0)
		return r;
	/* epoll refuses regular files and /dev/null: such input has no keys to send anyway. */
	r = sd_event_add_io(e, &in, con->in_fd, EPOLLIN, on_input, (void *)con);
	if (r < 0 && r != -EPERM)
		return r;
	if (con->follow) {
		/* epoll refuses regular files: a defer source reads to the end, inotify wakes it. */
		r = sd_event_add_defer(e, &rd, on_file_readable, (void *)con);
		if (r < 0)
			return r;
		r = sd_event_source_set_enabled(rd, SD_EVENT_ON);
		if (r < 0)
			return r;
		r = sd_event_add_inotify_fd(e, &grown, con->rd_fd, IN_MODIFY, on_file_grown, rd);
	} else {
		r = sd_event_add_io(e, &rd, con->rd_fd, EPOLLIN, on_console, (void *)con);
	}
	if (r < 0)
		return r;
	/* The exit code the handlers chose, or -errno if the loop itself failed. */
	return sd_event_loop(e);
}

/* Opens the console chd names: a unix socket to connect to, or a pty (or FIFO) to open. */
static int open_console(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode)) {
		fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		*ret_fd = fd;
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* Raw mode, so Ctrl-C and friends reach the guest; returns whether the terminal was changed. */
static bool terminal_raw(int fd, struct termios *saved)
{
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, saved) < 0)
		return false;
	raw = *saved;
	cfmakeraw(&raw);
	return tcsetattr(fd, TCSANOW, &raw) == 0;
}

int chctl_console_attach(struct chctl *c, const char *name)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_auto(VmProps) p = {0};
	g_autofree char *path = NULL;
	struct console con = {.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .rd_fd = -1, .wr_fd = -1};
	const char *target;
	struct termios saved;
	bool raw;
	int r, fd = -1;

	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = chctl_vm_path(c, name, &path, &error);
	if (r >= 0)
		r = vm_props_get(c->bus, path, &p, &error);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot attach to the console of '%s'"), name);

	if (p.console_path && *p.console_path) {
		target = p.console_path;
		r = open_console(target, &fd);
		con.rd_fd = con.wr_fd = fd;
	} else if (p.console_log && *p.console_log) {
		/* This chd offers no interactive console: show what the guest writes. */
		target = p.console_log;
		fd = open(target, O_RDONLY | O_CLOEXEC);
		r = fd < 0 ? -errno : 0;
		con.rd_fd = fd;
		con.follow = true;
	} else {
		chctl_error(_("cannot attach to the console of '%s': it has no console (is it running?)"),
			    name);
		return CHCTL_EXIT_INVALID_STATE;
	}
	if (r == -ENOENT && con.follow) {
		chctl_error(
		    _("cannot attach to the console of '%s': its console log '%s' does not exist yet "
		      "(start the VM first)"),
		    name, target);
		return CHCTL_EXIT_INVALID_STATE;
	}
	if (r < 0) {
		chctl_error(_("cannot attach to the console of '%s': cannot open '%s': %s"), name, target,
			    g_strerror(-r));
		return CHCTL_EXIT_FAILURE;
	}

	if (con.follow)
		fprintf(stderr, _("Showing the console log of '%s' (read-only); Ctrl-] leaves.\n"), name);
	else
		fprintf(stderr, _("Connected to the console of '%s'; Ctrl-] leaves.\n"), name);
	raw = terminal_raw(STDIN_FILENO, &saved);
	r = console_run(&con);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(fd);
	if (r < 0) {
		chctl_error(_("console of '%s' failed: %s"), name, g_strerror(-r));
		return CHCTL_EXIT_FAILURE;
	}
	if (r == 1)
		fprintf(stderr, _("\nThe console of '%s' closed.\n"), name);
	return CHCTL_EXIT_OK;
}
