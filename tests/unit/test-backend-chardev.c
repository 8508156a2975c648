/* SPDX-License-Identifier: Apache-2.0 */
/* The console/serial character backends on real files and real pseudo-terminals: a pty that a
 * user opens later, raw mode, writes that never block when nobody reads, tty mode on a terminal
 * whose settings and flags must come back as they were, file output, null and the refusals. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* Ours before GLib: common/macro.h defines MIN/MAX unconditionally, and gmacros.h #undefs them. */
#include "backends/chardev.h"

#include <glib.h>

typedef struct chardev Chardev;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Chardev, chardev_free)

static char *tmpdir;

static ssize_t read_wait(int fd, void *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	return read(fd, buf, len);
}

static void test_null_and_refusals(void)
{
	g_autoptr(Chardev) c = NULL, none = NULL;
	char b[4];

	g_assert_cmpint(chardev_new(OUTPUT_MODE_NULL, NULL, &c), ==, 0);
	g_assert_cmpint(chardev_mode(c), ==, OUTPUT_MODE_NULL);
	g_assert_cmpint(chardev_input_fd(c), ==, -1);
	g_assert_cmpint(chardev_output_fd(c), ==, -1);
	g_assert_null(chardev_pty_path(c));
	g_assert_cmpint(chardev_write(c, "discarded", 9), ==, 9);
	g_assert_cmpint(chardev_read(c, b, sizeof(b)), ==, 0);

	g_assert_cmpint(chardev_new(OUTPUT_MODE_OFF, NULL, &none), ==, -EINVAL);
	g_assert_cmpint(chardev_new(_OUTPUT_MODE_MAX, NULL, &none), ==, -EINVAL);
	g_assert_cmpint(chardev_new(OUTPUT_MODE_FILE, NULL, &none), ==, -EINVAL);
	g_assert_cmpint(chardev_new(OUTPUT_MODE_PTY, "/tmp/x", &none), ==, -EINVAL);
	g_assert_cmpint(chardev_new(OUTPUT_MODE_FILE, "/nonexistent-dir/console.log", &none), ==, -ENOENT);
	g_assert_null(none);
}

static void test_file(void)
{
	g_autofree char *path = g_build_filename(tmpdir, "console.log", NULL);
	g_autoptr(Chardev) c = NULL;
	g_autofree char *text = NULL;
	char b[4];

	g_assert_true(g_file_set_contents(path, "old contents that must go", -1, NULL));
	g_assert_cmpint(chardev_new(OUTPUT_MODE_FILE, path, &c), ==, 0);
	g_assert_cmpint(chardev_input_fd(c), ==, -1);
	g_assert_cmpint(chardev_write(c, "boot: ", 6), ==, 6);
	g_assert_cmpint(chardev_write(c, "ok\n", 3), ==, 3);
	g_assert_cmpint(chardev_read(c, b, sizeof(b)), ==, 0);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "boot: ok\n");
	unlink(path);

	/* A new log is not world-readable (the guest's console may carry secrets). */
	struct stat st;
	c = chardev_free(c);
	umask(022);
	g_assert_cmpint(chardev_new(OUTPUT_MODE_FILE, path, &c), ==, 0);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0640);
	unlink(path);
}

static void test_pty(void)
{
	g_autoptr(Chardev) c = NULL;
	char b[64] = {};

	g_assert_cmpint(chardev_new(OUTPUT_MODE_PTY, NULL, &c), ==, 0);
	const char *path = chardev_pty_path(c);
	g_assert_nonnull(path);
	g_assert_true(g_str_has_prefix(path, "/dev/pts/"));
	g_assert_cmpint(chardev_input_fd(c), ==, chardev_output_fd(c));
	g_assert_cmpint(fcntl(chardev_input_fd(c), F_GETFL) & O_NONBLOCK, !=, 0);

	/* Output before anyone opened the pty is kept, and nothing is waiting as input. */
	g_assert_cmpint(chardev_write(c, "early\n", 6), ==, 6);
	g_assert_cmpint(chardev_read(c, b, sizeof(b)), ==, -EAGAIN);
	struct pollfd p = {.fd = chardev_input_fd(c), .events = POLLIN};
	g_assert_cmpint(poll(&p, 1, 0), ==, 0); /* no hang-up storm either */

	/* A user opens it: raw both ways ("\n" stays "\n", no echo, keys arrive at once). */
	int user = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	g_assert_cmpint(user, >=, 0);
	g_assert_cmpint(read_wait(user, b, sizeof(b)), ==, 6);
	g_assert_cmpmem(b, 6, "early\n", 6);
	g_assert_cmpint(chardev_write(c, "a\nb", 3), ==, 3);
	g_assert_cmpint(read_wait(user, b, sizeof(b)), ==, 3);
	g_assert_cmpmem(b, 3, "a\nb", 3);
	g_assert_cmpint(write(user, "\x03x", 2), ==, 2);
	g_assert_cmpint(read_wait(chardev_input_fd(c), b, sizeof(b)), ==, 2);
	g_assert_cmpmem(b, 2, "\x03x", 2);
	g_assert_cmpint(chardev_read(c, b, sizeof(b)), ==, -EAGAIN);

	/* The user leaves: still no hang-up, and output piles up until full, never blocking. */
	close(user);
	g_assert_cmpint(poll(&p, 1, 0), ==, 0);
	char chunk[4096];
	memset(chunk, 'z', sizeof(chunk));
	ssize_t n = 1;
	size_t total = 0;
	for (int i = 0; i < 10000 && n > 0; i++) {
		n = chardev_write(c, chunk, sizeof(chunk));
		g_assert_cmpint(n, >=, 0);
		total += (size_t)n;
	}
	g_assert_cmpint(n, ==, 0);
	g_test_message("pty took %zu bytes before it was full", total);
}

static void test_tty(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	g_assert_cmpint(master, >=, 0);
	g_assert_cmpint(grantpt(master), ==, 0);
	g_assert_cmpint(unlockpt(master), ==, 0);
	int term = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	g_assert_cmpint(term, >=, 0);
	struct termios before, during, after;
	g_assert_cmpint(tcgetattr(term, &before), ==, 0);
	g_assert_cmpint(before.c_lflag & ICANON, !=, 0);
	int flags_before = fcntl(term, F_GETFL);

	g_autoptr(Chardev) c = NULL;
	g_assert_cmpint(chardev_new_stdio(term, term, &c), ==, 0);
	g_assert_cmpint(chardev_mode(c), ==, OUTPUT_MODE_TTY);
	g_assert_cmpint(chardev_input_fd(c), !=, term);
	g_assert_cmpint(fcntl(chardev_input_fd(c), F_GETFL) & O_NONBLOCK, !=, 0);
	g_assert_cmpint(fcntl(term, F_GETFL), ==, flags_before); /* the caller's description untouched */
	g_assert_cmpint(tcgetattr(term, &during), ==, 0);
	g_assert_cmpint(during.c_lflag & (ICANON | ECHO | ISIG), ==, 0);
	g_assert_cmpint(during.c_oflag & OPOST, !=, 0); /* our own messages stay readable */

	char b[16];
	g_assert_cmpint(chardev_read(c, b, sizeof(b)), ==, -EAGAIN);
	g_assert_cmpint(write(master, "k", 1), ==, 1); /* a key, no Enter needed */
	g_assert_cmpint(read_wait(chardev_input_fd(c), b, sizeof(b)), ==, 1);
	g_assert_cmpint(chardev_write(c, "out", 3), ==, 3);
	g_assert_cmpint(read_wait(master, b, sizeof(b)), ==, 3);

	c = chardev_free(c);
	g_assert_cmpint(tcgetattr(term, &after), ==, 0);
	g_assert_cmpint(after.c_lflag, ==, before.c_lflag);
	g_assert_cmpint(after.c_oflag, ==, before.c_oflag);
	close(term);
	close(master);

	/* Pipes and files are fine too (no terminal to change). */
	int pfd[2];
	g_assert_cmpint(pipe(pfd), ==, 0);
	g_assert_cmpint(chardev_new_stdio(pfd[0], pfd[1], &c), ==, 0);
	g_assert_cmpint(fcntl(pfd[0], F_GETFL) & O_NONBLOCK, ==, 0);
	g_assert_cmpint(chardev_write(c, "p", 1), ==, 1);
	g_assert_cmpint(chardev_read(c, b, sizeof(b)), ==, 1);
	g_assert_cmpint(chardev_read(c, b, sizeof(b)), ==, -EAGAIN);
	c = chardev_free(c);
	close(pfd[0]);
	close(pfd[1]);
	g_assert_cmpint(chardev_new_stdio(-1, 1, &c), ==, -EINVAL);
}

static void assert_file(const char *path, const void *want, size_t len)
{
	g_autofree char *got = NULL;
	gsize got_len = 0;

	g_assert_true(g_file_get_contents(path, &got, &got_len, NULL));
	g_assert_cmpmem(got, got_len, want, len);
}

/* What a device does with guest output: the log first, then the pty (which may refuse). */
static size_t guest_writes(Chardev *c, const void *buf, size_t len)
{
	ssize_t n;

	chardev_log(c, buf, len);
	n = chardev_write(c, buf, len);
	g_assert_cmpint(n, >=, 0);
	return (size_t)n;
}

/* The console log beside a pty (chd's <log file=...>): everything the guest writes reaches the
 * file, also what the pty no longer takes while nobody reads it, and the pty keeps working. */
static void test_pty_log(void)
{
	g_autoptr(Chardev) c = NULL;
	g_autofree char *log = g_build_filename(tmpdir, "vm.log", NULL);
	g_autofree char *fdpath = NULL;
	g_autoptr(GString) want = g_string_new("earlier run\n");
	struct chardev_log_stats st;
	char chunk[4096], b[64];
	size_t pty_took = 0, total = 0;
	int fd, user;

	g_assert_cmpint(chardev_new(OUTPUT_MODE_PTY, NULL, &c), ==, 0);
	g_assert_false(chardev_get_log_stats(c, &st));
	chardev_log(c, "no log yet", 10); /* a no-op */

	/* As chd passes it: opened for appending, handed over as /dev/fd/N, our copy closed. */
	g_assert_true(g_file_set_contents(log, want->str, -1, NULL));
	fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	fdpath = g_strdup_printf("/dev/fd/%d", fd);
	g_assert_cmpint(chardev_open_log(c, fdpath), ==, 0);
	close(fd);

	g_assert_cmpuint(guest_writes(c, "Linux version 6.1\n", 18), ==, 18);
	g_string_append(want, "Linux version 6.1\n");
	/* Nobody reads the pty: it fills up, the log goes on. */
	for (int i = 0; i < 64; i++) {
		memset(chunk, 'a' + i % 26, sizeof(chunk));
		pty_took += guest_writes(c, chunk, sizeof(chunk));
		g_string_append_len(want, chunk, sizeof(chunk));
	}
	total = 18 + 64 * sizeof(chunk);
	g_assert_cmpuint(pty_took, <, 64 * sizeof(chunk));
	assert_file(log, want->str, want->len);
	g_assert_true(chardev_get_log_stats(c, &st));
	g_assert_cmpuint(st.written, ==, total);
	g_assert_cmpuint(st.dropped, ==, 0);

	/* The pty still works both ways: a user reads what it kept, then types a line. */
	user = open(chardev_pty_path(c), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	g_assert_cmpint(user, >=, 0);
	g_assert_cmpint(read_wait(user, b, 18), ==, 18);
	g_assert_cmpmem(b, 18, "Linux version 6.1\n", 18);
	while (read(user, chunk, sizeof(chunk)) > 0)
		;
	g_assert_cmpint(write(user, "ls\r", 3), ==, 3);
	g_assert_cmpint(read_wait(chardev_input_fd(c), b, sizeof(b)), ==, 3);
	g_assert_cmpuint(guest_writes(c, "ls\r\n", 4), ==, 4); /* the guest's echo */
	g_string_append(want, "ls\r\n");
	assert_file(log, want->str, want->len);
	g_assert_cmpint(read_wait(user, b, sizeof(b)), ==, 4);
	close(user);

	/* By path (standalone use): appended to, never truncated; a later log replaces the first. */
	g_assert_cmpint(chardev_open_log(c, log), ==, 0);
	g_assert_cmpuint(guest_writes(c, "again\n", 6), ==, 6);
	g_string_append(want, "again\n");
	assert_file(log, want->str, want->len);
	g_assert_true(chardev_get_log_stats(c, &st));
	g_assert_cmpuint(st.written, ==, total + 4 + 6);
	unlink(log);
}

/* A log that cannot take more (a full disk, a FIFO nobody drains) costs bytes, counted, never a
 * wait; one that cannot be opened is refused with the cause. */
static void test_log_full(void)
{
	g_autoptr(Chardev) c = NULL;
	g_autofree char *fifo = g_build_filename(tmpdir, "log.fifo", NULL);
	struct chardev_log_stats st;
	char chunk[4096] = {};
	int reader;

	g_assert_cmpint(chardev_new(OUTPUT_MODE_NULL, NULL, &c), ==, 0);
	g_assert_cmpint(chardev_open_log(c, "/nonexistent-folder/vm.log"), ==, -ENOENT);
	g_assert_cmpint(chardev_open_log(c, "/dev/fd/987"), ==, -EBADF);
	g_assert_cmpint(chardev_open_log(c, ""), ==, -EINVAL);
	g_assert_false(chardev_get_log_stats(c, &st));

	g_assert_cmpint(chardev_open_log(c, "/dev/full"), ==, 0);
	chardev_log(c, chunk, 100);
	g_assert_true(chardev_get_log_stats(c, &st));
	g_assert_cmpuint(st.written, ==, 0);
	g_assert_cmpuint(st.dropped, ==, 100);

	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	g_assert_cmpint(reader, >=, 0);
	g_assert_cmpint(chardev_open_log(c, fifo), ==, 0);
	for (int i = 0; i < 64; i++) /* 256 KiB into a 64 KiB pipe: returns at once */
		chardev_log(c, chunk, sizeof(chunk));
	g_assert_true(chardev_get_log_stats(c, &st));
	g_assert_cmpuint(st.written, >, 0);
	g_assert_cmpuint(st.written + st.dropped, ==, 100 + 64 * sizeof(chunk));
	g_assert_cmpuint(st.dropped, >, 100);
	close(reader);
	unlink(fifo);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-backend-chardev-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);

	g_test_add_func("/backend-chardev/null-and-refusals", test_null_and_refusals);
	g_test_add_func("/backend-chardev/file", test_file);
	g_test_add_func("/backend-chardev/pty", test_pty);
	g_test_add_func("/backend-chardev/tty", test_tty);
	g_test_add_func("/backend-chardev/pty-log", test_pty_log);
	g_test_add_func("/backend-chardev/log-full", test_log_full);

	int r = g_test_run();
	rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
