/* SPDX-License-Identifier: Apache-2.0 */
/* The hybrid vsock backend with real unix sockets: the test plays the host clients and, through
 * the backend's API, the virtio-vsock device (what a guest would make it call). Covers the CONNECT
 * line parser, the handshake both ways, credit-limited transfers, buffering behind a slow host
 * client, and hostile clients (long lines, garbage, early close, too many connections). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* Ours before GLib: common/macro.h defines MIN/MAX unconditionally, and gmacros.h #undefs them. */
#include "backends/vsock-proto.h"
#include "backends/vsock-unix.h"

#include <glib.h>

typedef struct vsock_mux VsockMux;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsockMux, vsock_mux_free)

/* What the device saw. */
struct device {
	struct vsock_conn *connect_req; /* last host_connect */
	struct vsock_conn *readable;
	unsigned n_connect, n_readable, n_credit, n_hangup;
};

static void on_host_connect(void *userdata, struct vsock_conn *c)
{
	struct device *d = userdata;
	d->connect_req = c;
	d->n_connect++;
}

static void on_readable(void *userdata, struct vsock_conn *c)
{
	struct device *d = userdata;
	d->readable = c;
	d->n_readable++;
}

static void on_credit(void *userdata, struct vsock_conn *c)
{
	struct device *d = userdata;
	d->n_credit++;
}

static void on_hangup(void *userdata, struct vsock_conn *c)
{
	struct device *d = userdata;
	d->n_hangup++;
	vsock_conn_close(c);
}

static const struct vsock_mux_ops ops = {
    .host_connect = on_host_connect,
    .readable = on_readable,
    .credit = on_credit,
    .hangup = on_hangup,
};

static char *tmpdir;

static char *sock_path(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

static int client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return fd;
}

/* Runs the I/O thread's loop body until cond holds (or fails the test after 5 s). */
#define SPIN_UNTIL(m, cond)                                                                                 \
	do {                                                                                                \
		gint64 deadline_ = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;                             \
		while (!(cond)) {                                                                           \
			struct pollfd p_ = {.fd = vsock_mux_fd(m), .events = POLLIN};                       \
			g_assert_cmpint(g_get_monotonic_time(), <, deadline_);                              \
			g_assert_cmpint(poll(&p_, 1, 100), >=, 0);                                          \
			g_assert_cmpint(vsock_mux_process(m), ==, 0);                                       \
		}                                                                                           \
	} while (0)

static bool client_closed(int fd)
{
	char b;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 0) != 1)
		return false;
	/* A reset when the backend closed with our bytes unread */
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void test_parse(void)
{
	static const struct {
		const char *line;
		int r;
		uint32_t port;
	} cases[] = {
	    {"CONNECT 52", 0, 52},
	    {"CONNECT 0", 0, 0},
	    {"CONNECT 4294967295", 0, UINT32_MAX},
	    {"CONNECT   1234  ", 0, 1234},
	    {"CONNECT\t7\r", 0, 7},
	    {"CONNECT 0000000001", 0, 1},
	    {"CONNECT 4294967296", -EINVAL, 0},
	    {"CONNECT 99999999999", -EINVAL, 0},
	    {"CONNECT 00000000001", -EINVAL, 0},
	    {"CONNECT -1", -EINVAL, 0},
	    {"CONNECT +1", -EINVAL, 0},
	    {"CONNECT", -EINVAL, 0},
	    {"CONNECT ", -EINVAL, 0},
	    {"CONNECT52", -EINVAL, 0},
	    {"connect 52", -EINVAL, 0},
	    {"CONNECT 52 53", -EINVAL, 0},
	    {"CONNECT 52x", -EINVAL, 0},
	    {"CONNECT 0x10", -EINVAL, 0},
	    {"CONNECT 52\r\r", -EINVAL, 0},
	    {" CONNECT 52", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"OK 52", -EINVAL, 0},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint32_t port = 0xdeadbeef;
		int r = vsock_parse_connect(cases[i].line, strlen(cases[i].line), &port);
		g_assert_cmpint(r, ==, cases[i].r);
		g_assert_cmpuint(port, ==, r == 0 ? cases[i].port : 0xdeadbeef);
	}
	/* A NUL inside, and len honoured (no reading past it). */
	uint32_t port;
	g_assert_cmpint(vsock_parse_connect("CONNECT 5\0"
					    "6",
					    11, &port),
			==, -EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT 56", 9, &port), ==, 0);
	g_assert_cmpuint(port, ==, 5);
	char longline[VSOCK_LINE_MAX + 8];
	memset(longline, ' ', sizeof(longline));
	memcpy(longline, "CONNECT 1", 9);
	g_assert_cmpint(vsock_parse_connect(longline, sizeof(longline), &port), ==, -EINVAL);
	g_assert_cmpint(vsock_parse_connect(NULL, 0, &port), ==, -EINVAL);

	char ok[VSOCK_LINE_MAX];
	g_assert_cmpuint(vsock_format_ok(ok, UINT32_MAX), ==, strlen("OK 4294967295\n"));
	g_assert_cmpstr(ok, ==, "OK 4294967295\n");
}

static void test_host_initiated(void)
{
	g_autofree char *path = sock_path("host.sock");
	g_autoptr(VsockMux) m = NULL;
	struct device dev = {};
	char buf[64];

	g_assert_cmpint(vsock_mux_new(path, &ops, &dev, &m), ==, 0);
	int fd = client_connect(path);

	/* The line in two pieces, the second with the client's first data right behind it. */
	g_assert_cmpint(send(fd, "CONNECT 12", 10, 0), ==, 10);
	SPIN_UNTIL(m, vsock_mux_n_conns(m) == 1);
	for (int i = 0; i < 5; i++)
		g_assert_cmpint(vsock_mux_process(m), ==, 0);
	g_assert_cmpuint(dev.n_connect, ==, 0);
	g_assert_cmpint(send(fd, "34\nearly", 8, 0), ==, 8);
	SPIN_UNTIL(m, dev.n_connect == 1);
	struct vsock_conn *c = dev.connect_req;
	g_assert_cmpuint(vsock_conn_peer_port(c), ==, 1234);
	g_assert_cmpuint(vsock_conn_local_port(c), >=, VSOCK_LOCAL_PORT_FIRST);
	g_assert_false(vsock_conn_established(c));
	g_assert_true(vsock_mux_find(m, vsock_conn_local_port(c), 1234) == c);
	g_assert_null(vsock_mux_find(m, vsock_conn_local_port(c), 1235));
	/* Nothing is read for the guest before it accepted. */
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, -ENOTCONN);

	/* The guest accepts with a 4-byte receive buffer: the client gets OK, then data flows by
	 * credit only. */
	vsock_conn_set_peer_credit(c, 4, 0);
	g_assert_cmpint(vsock_conn_accepted(c), ==, 0);
	g_assert_cmpint(vsock_conn_accepted(c), ==, -EINVAL);
	g_autofree char *ok = g_strdup_printf("OK %u\n", vsock_conn_local_port(c));
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(recv(fd, buf, sizeof(buf), 0), ==, (ssize_t)strlen(ok));
	g_assert_cmpstr(buf, ==, ok);

	SPIN_UNTIL(m, dev.n_readable == 1);
	g_assert_true(dev.readable == c);
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, 4);
	g_assert_cmpstr(buf, ==, "earl");
	g_assert_cmpuint(vsock_conn_peer_free(c), ==, 0);
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, -ENOSPC);
	vsock_conn_set_peer_credit(c, 4, 4); /* the guest consumed them */
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, 1);
	g_assert_cmpint(buf[0], ==, 'y');
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, -EAGAIN);
	/* Drained: the next data is announced again, once. */
	g_assert_cmpint(send(fd, "more", 4, 0), ==, 4);
	SPIN_UNTIL(m, dev.n_readable == 2);
	for (int i = 0; i < 5; i++)
		g_assert_cmpint(vsock_mux_process(m), ==, 0);
	g_assert_cmpuint(dev.n_readable, ==, 2);
	vsock_conn_set_peer_credit(c, 64, 5);
	struct iovec two[2] = {{buf, 2}, {buf + 10, 10}};
	g_assert_cmpint(vsock_conn_recv(c, two, 2), ==, 4);
	g_assert_cmpmem(buf, 2, "mo", 2);
	g_assert_cmpmem(buf + 10, 2, "re", 2);
	g_assert_cmpint(vsock_conn_recv(c, two, 2), ==, -EAGAIN); /* re-arms */

	/* Guest -> host, and our credit in the header. */
	uint32_t alloc, fwd;
	g_assert_cmpint(vsock_conn_send(c, "hello host", 10), ==, 0);
	vsock_conn_get_credit(c, &alloc, &fwd);
	g_assert_cmpuint(alloc, ==, VSOCK_CONN_BUF_ALLOC);
	g_assert_cmpuint(fwd, ==, 10);
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(recv(fd, buf, sizeof(buf), 0), ==, 10);
	g_assert_cmpstr(buf, ==, "hello host");

	/* The client closes: EOF for the guest. */
	close(fd);
	SPIN_UNTIL(m, dev.n_readable == 3);
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, 0);
	vsock_conn_close(c);
	g_assert_cmpuint(vsock_mux_n_conns(m), ==, 0);

	/* The socket's path is ours and goes with the mux; a second mux cannot take it. */
	g_autoptr(VsockMux) again = NULL;
	g_assert_cmpint(vsock_mux_new(path, &ops, &dev, &again), ==, -EADDRINUSE);
	m = vsock_mux_free(m);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

/* A host client that does not read: the guest's data waits in the backend, within the credit it
 * was given, and reaches the host as the client catches up. */
static void test_slow_host(void)
{
	g_autofree char *path = sock_path("slow.sock");
	g_autoptr(VsockMux) m = NULL;
	struct device dev = {};

	g_assert_cmpint(vsock_mux_new(path, &ops, &dev, &m), ==, 0);
	int fd = client_connect(path);
	int small = 4096;
	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), ==, 0);
	g_assert_cmpint(send(fd, "CONNECT 5\n", 10, 0), ==, 10);
	SPIN_UNTIL(m, dev.n_connect == 1);
	struct vsock_conn *c = dev.connect_req;
	g_assert_cmpint(vsock_conn_accepted(c), ==, 0);
	char line[32];
	g_assert_cmpint(recv(fd, line, sizeof(line), 0), >, 0);

	/* Fill our whole credit: accepted, mostly buffered. */
	g_autofree uint8_t *data = g_malloc(VSOCK_CONN_BUF_ALLOC);
	for (size_t i = 0; i < VSOCK_CONN_BUF_ALLOC; i++)
		data[i] = (uint8_t)(i * 13);
	size_t chunk = 4096;
	for (size_t at = 0; at < VSOCK_CONN_BUF_ALLOC; at += chunk)
		g_assert_cmpint(vsock_conn_send(c, data + at, chunk), ==, 0);
	/* One byte more than the credit: the guest broke the protocol. */
	g_assert_cmpint(vsock_conn_send(c, data, 1), ==, -ENOBUFS);
	/* The guest, told fwd_cnt 0 so far, sees us full while the socket took some: due. */
	g_assert_true(vsock_conn_credit_update_due(c));
	uint32_t alloc, fwd;
	vsock_conn_get_credit(c, &alloc, &fwd);
	g_assert_cmpuint(fwd, >, 0);
	g_assert_cmpuint(fwd, <, VSOCK_CONN_BUF_ALLOC);
	g_assert_false(vsock_conn_credit_update_due(c));
	uint32_t fwd_told = fwd;

	/* The client reads everything; the backend flushes as room appears. */
	g_autofree uint8_t *got = g_malloc(VSOCK_CONN_BUF_ALLOC);
	size_t have = 0;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (have < VSOCK_CONN_BUF_ALLOC) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		ssize_t n = recv(fd, got + have, VSOCK_CONN_BUF_ALLOC - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		struct pollfd p = {.fd = vsock_mux_fd(m), .events = POLLIN};
		g_assert_cmpint(poll(&p, 1, 10), >=, 0);
		g_assert_cmpint(vsock_mux_process(m), ==, 0);
	}
	g_assert_cmpmem(got, VSOCK_CONN_BUF_ALLOC, data, VSOCK_CONN_BUF_ALLOC);
	g_assert_cmpuint(dev.n_credit, >, 0);
	/* due again if what the guest was told leaves it less than a quarter free */
	g_assert_cmpint(vsock_conn_credit_update_due(c), ==,
			VSOCK_CONN_BUF_ALLOC - fwd_told > VSOCK_CONN_BUF_ALLOC * 3 / 4);
	vsock_conn_get_credit(c, &alloc, &fwd);
	g_assert_cmpuint(fwd, ==, VSOCK_CONN_BUF_ALLOC);
	g_assert_false(vsock_conn_credit_update_due(c));

	/* Shutdown after buffered data, then the host hangs up on a write. */
	g_assert_cmpint(vsock_conn_shutdown_write(c), ==, 0);
	g_assert_true(client_closed(fd));
	g_assert_cmpint(vsock_conn_send(c, "x", 1), ==, -EPIPE);
	close(fd);
	SPIN_UNTIL(m, dev.n_readable == 1 || dev.n_hangup == 1);
}

static void test_guest_initiated(void)
{
	g_autofree char *path = sock_path("g.sock");
	g_autofree char *svc = sock_path("g.sock_5000");
	g_autoptr(VsockMux) m = NULL;
	struct device dev = {};
	struct vsock_conn *c = NULL, *none = NULL;
	char buf[32] = {};

	g_assert_cmpint(vsock_mux_new(path, &ops, &dev, &m), ==, 0);
	/* Nobody listens on port 5000 yet. */
	g_assert_cmpint(vsock_mux_connect_guest(m, 5000, 77, &none), ==, -ENOENT);

	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	g_strlcpy(sa.sun_path, svc, sizeof(sa.sun_path));
	g_assert_cmpint(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(lfd, 4), ==, 0);

	g_assert_cmpint(vsock_mux_connect_guest(m, 5000, 77, &c), ==, 0);
	g_assert_true(vsock_conn_established(c));
	g_assert_cmpuint(vsock_conn_local_port(c), ==, 5000);
	g_assert_cmpuint(vsock_conn_peer_port(c), ==, 77);
	g_assert_true(vsock_mux_find(m, 5000, 77) == c);
	g_assert_cmpint(vsock_mux_connect_guest(m, 5000, 77, &none), ==, -EEXIST);
	int sfd = accept(lfd, NULL, NULL);
	g_assert_cmpint(sfd, >=, 0);

	g_assert_cmpint(vsock_conn_send(c, "ping", 4), ==, 0);
	g_assert_cmpint(recv(sfd, buf, sizeof(buf), 0), ==, 4);
	g_assert_cmpstr(buf, ==, "ping");
	vsock_conn_set_peer_credit(c, 1024, 0);
	g_assert_cmpint(send(sfd, "pong", 4, 0), ==, 4);
	SPIN_UNTIL(m, dev.n_readable == 1);
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, 4);
	g_assert_cmpstr(buf, ==, "pong");
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, -EAGAIN);

	/* The service goes away: the device hears of it and reads the end. */
	close(sfd);
	SPIN_UNTIL(m, dev.n_readable == 2);
	g_assert_cmpint(vsock_conn_recv(c, &(struct iovec){buf, sizeof(buf)}, 1), ==, 0);
	g_assert_cmpint(vsock_conn_send(c, "late", 4), ==, -EPIPE);
	vsock_conn_close(c);
	g_assert_cmpuint(vsock_mux_n_conns(m), ==, 0);
	close(lfd);
	unlink(svc);
}

static void test_hostile(void)
{
	g_autofree char *path = sock_path("hostile.sock");
	g_autoptr(VsockMux) m = NULL;
	struct device dev = {};

	g_assert_cmpint(vsock_mux_new(path, &ops, &dev, &m), ==, 0);

	/* A line that never ends, garbage, a bad port, a client that leaves mid-line. */
	int lng = client_connect(path), bad = client_connect(path), port = client_connect(path);
	int quit = client_connect(path);
	char junk[VSOCK_LINE_MAX * 2];
	memset(junk, 'A', sizeof(junk));
	g_assert_cmpint(send(lng, junk, sizeof(junk), 0), ==, (ssize_t)sizeof(junk));
	g_assert_cmpint(send(bad, "\x01\x02\xff\n", 4, 0), ==, 4);
	g_assert_cmpint(send(port, "CONNECT 99999999999\n", 20, 0), ==, 20);
	g_assert_cmpint(send(quit, "CONN", 4, 0), ==, 4);
	SPIN_UNTIL(m, vsock_mux_n_conns(m) == 4);
	close(quit);
	SPIN_UNTIL(m, vsock_mux_n_conns(m) == 0);
	g_assert_true(client_closed(lng));
	g_assert_true(client_closed(bad));
	g_assert_true(client_closed(port));
	g_assert_cmpuint(dev.n_connect, ==, 0);
	close(lng);
	close(bad);
	close(port);

	/* More clients than the limit: the extra ones are turned away, the mux stays usable. */
	int fds[VSOCK_MUX_CONNS_MAX + 4];
	for (size_t i = 0; i < G_N_ELEMENTS(fds); i++) {
		fds[i] = client_connect(path);
		if (i % 32 == 31)
			g_assert_cmpint(vsock_mux_process(m), ==, 0);
	}
	SPIN_UNTIL(m, vsock_mux_n_conns(m) == VSOCK_MUX_CONNS_MAX);
	for (int i = 0; i < 10; i++)
		g_assert_cmpint(vsock_mux_process(m), ==, 0);
	g_assert_cmpuint(vsock_mux_n_conns(m), ==, VSOCK_MUX_CONNS_MAX);
	unsigned refused = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(fds); i++) {
		refused += client_closed(fds[i]);
		close(fds[i]);
	}
	g_assert_cmpuint(refused, ==, 4);
	SPIN_UNTIL(m, vsock_mux_n_conns(m) == 0);

	/* Refusals at creation. */
	g_autoptr(VsockMux) none = NULL;
	char longpath[120];
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	g_assert_cmpint(vsock_mux_new(longpath, &ops, &dev, &none), ==, -ENAMETOOLONG);
	g_assert_cmpint(vsock_mux_new("", &ops, &dev, &none), ==, -EINVAL);
	g_assert_cmpint(vsock_mux_new("/nonexistent-dir/v.sock", &ops, &dev, &none), ==, -ENOENT);
	g_assert_null(none);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-backend-vsock-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);

	g_test_add_func("/backend-vsock/parse", test_parse);
	g_test_add_func("/backend-vsock/host-initiated", test_host_initiated);
	g_test_add_func("/backend-vsock/slow-host", test_slow_host);
	g_test_add_func("/backend-vsock/guest-initiated", test_guest_initiated);
	g_test_add_func("/backend-vsock/hostile", test_hostile);

	int r = g_test_run();
	rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
