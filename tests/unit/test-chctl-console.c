/* SPDX-License-Identifier: Apache-2.0 */
/* The console relay on real sockets, a real pty and a real growing file: keys go to the guest side,
 * guest output comes back, Ctrl-] leaves, a closed console ends the relay. */
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "console.h"

#include <glib.h>
#include <glib/gstdio.h>

/* A relay in its own thread; the test types into user[0] and reads what the user sees at out[0]. */
struct relay {
	int user[2];
	int out[2];
	struct console con;
	GThread *thread;
	int result;
};

static gpointer relay_thread(gpointer data)
{
	struct relay *r = data;

	r->result = console_run(&r->con);
	return NULL;
}

static void relay_start(struct relay *r, int rd_fd, int wr_fd, bool follow)
{
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->user), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->out), ==, 0);
	r->con = (struct console){
	    .in_fd = r->user[1], .out_fd = r->out[1], .rd_fd = rd_fd, .wr_fd = wr_fd, .follow = follow};
	r->thread = g_thread_new("relay", relay_thread, r);
}

/* Waits for the relay to end and returns what console_run() returned. */
static int relay_finish(struct relay *r)
{
	g_thread_join(r->thread);
	for (int i = 0; i < 2; i++) {
		close(r->user[i]);
		close(r->out[i]);
	}
	return r->result;
}

static void read_exactly(int fd, const char *expected)
{
	size_t n = strlen(expected), got = 0;
	char buf[256];

	g_assert_cmpuint(n, <, sizeof(buf));
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);

		g_assert_cmpint(k, >, 0);
		got += (size_t)k;
	}
	buf[got] = 0;
	g_assert_cmpstr(buf, ==, expected);
}

static void write_string(int fd, const char *s)
{
	g_assert_cmpint(write(fd, s, strlen(s)), ==, (ssize_t)strlen(s));
}

static void socket_pair(int fds[2])
{
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
}

/* guest[0] is the guest's side. */
static void test_escape(void)
{
	struct relay r;
	int guest[2];
	char c;

	socket_pair(guest);
	relay_start(&r, guest[1], guest[1], false);
	write_string(guest[0], "login: ");
	read_exactly(r.out[0], "login: ");
	write_string(r.user[0], "root\r");
	read_exactly(guest[0], "root\r");
	/* Keys before Ctrl-] in the same read still reach the guest; the escape itself does not. */
	write_string(r.user[0], "ls\x1dnot this");
	g_assert_cmpint(relay_finish(&r), ==, 0);
	read_exactly(guest[0], "ls");
	g_assert_cmpint(fcntl(guest[0], F_SETFL, O_NONBLOCK), ==, 0);
	g_assert_cmpint(read(guest[0], &c, 1), ==, -1);
	close(guest[0]);
	close(guest[1]);
}

static void test_console_closes(void)
{
	struct relay r;
	int guest[2];

	socket_pair(guest);
	relay_start(&r, guest[1], guest[1], false);
	write_string(guest[0], "reboot: Power down\n");
	read_exactly(r.out[0], "reboot: Power down\n");
	close(guest[0]); /* the worker went away */
	g_assert_cmpint(relay_finish(&r), ==, 1);
	close(guest[1]);
}

/* vmm-worker's --console pty: the relay holds the pty's other end as chd hands it out. */
static void test_pty(void)
{
	struct termios tio;
	struct relay r;
	int master, slave;

	g_assert_cmpint(openpty(&master, &slave, NULL, NULL, NULL), ==, 0);
	/* Raw, so the line discipline neither echoes nor rewrites what passes. */
	g_assert_cmpint(tcgetattr(slave, &tio), ==, 0);
	cfmakeraw(&tio);
	g_assert_cmpint(tcsetattr(slave, TCSANOW, &tio), ==, 0);
	relay_start(&r, slave, slave, false);
	write_string(master, "Debian GNU/Linux 12\r\n");
	read_exactly(r.out[0], "Debian GNU/Linux 12\r\n");
	write_string(r.user[0], "uname\r");
	read_exactly(master, "uname\r");
	close(master); /* hang-up: the relay reads EIO and ends */
	g_assert_cmpint(relay_finish(&r), ==, 1);
	close(slave);
}

/* Only a console log: shown as it grows, keys dropped, Ctrl-] still leaves. */
static void test_follow_file(void)
{
	g_autofree char *path = NULL;
	struct relay r;
	int writer, reader;

	writer = g_file_open_tmp("chctl-console-XXXXXX.log", &path, NULL);
	g_assert_cmpint(writer, >=, 0);
	write_string(writer, "early boot\n");
	reader = open(path, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(reader, >=, 0);
	relay_start(&r, reader, -1, true);
	read_exactly(r.out[0], "early boot\n");
	write_string(writer, "login: ");
	read_exactly(r.out[0], "login: ");
	write_string(r.user[0], "typed\x1d");
	g_assert_cmpint(relay_finish(&r), ==, 0);
	close(writer);
	close(reader);
	g_unlink(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chctl/console/escape", test_escape);
	g_test_add_func("/chctl/console/closes", test_console_closes);
	g_test_add_func("/chctl/console/pty", test_pty);
	g_test_add_func("/chctl/console/follow-file", test_follow_file);
	return g_test_run();
}
