/* SPDX-License-Identifier: Apache-2.0 */
/* Listener, handshake and per-connection state of the hybrid vsock backend. Connections live on a
 * short list (at most VSOCK_MUX_CONNS_MAX); ones closed while vsock_mux_process() walks a batch of
 * epoll events are freed when the batch is done, so no event can reach freed memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "backends/vsock-proto.h"
#include "backends/vsock-unix.h"
#include "macro.h"

#define RECV_IOV_MAX 64
#define EVENTS_PER_BATCH 32

enum conn_state {
	CONN_LINE,	 /* host client connected, its CONNECT line not complete yet */
	CONN_CONNECTING, /* waiting for the guest to accept */
	CONN_ESTABLISHED,
	CONN_CLOSED, /* waiting to be freed at the end of a batch */
};

struct vsock_conn {
	struct vsock_mux *m;
	struct vsock_conn *next;
	int fd;
	enum conn_state state;
	uint32_t local_port, peer_port;
	char line[VSOCK_LINE_MAX];
	size_t line_len;

	uint32_t events; /* what epoll watches for; 0: not registered */
	bool rx_armed;	 /* tell the device when input arrives */
	bool dead;	 /* hangup reported */
	bool shut_wr_pending;

	/* Flow control. Ours: the guest sent rx_cnt bytes, fwd_cnt of them reached the host, the
	 * rest waits in buf. The guest's: we sent it tx_cnt bytes, it has freed peer_fwd_cnt of its
	 * peer_buf_alloc. All counters wrap at 2^32, as in the vsock header. */
	uint32_t rx_cnt, fwd_cnt, fwd_reported;
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	uint8_t *buf;
	size_t buf_start, buf_len;
};

struct vsock_mux {
	int listen_fd;
	int epoll_fd;
	char *path;
	const struct vsock_mux_ops *ops;
	void *userdata;
	struct vsock_conn *conns, *zombies;
	unsigned n_conns;
	uint32_t next_local_port;
	bool in_process;
};

static void conn_free(struct vsock_conn *c)
{
	safe_close(c->fd);
	free(c->buf);
	free(c);
}

/* Keeps epoll's interest equal to what the connection needs now. */
static void conn_update_events(struct vsock_conn *c)
{
	uint32_t want = 0;
	int op;

	if (c->state == CONN_LINE)
		want = EPOLLIN;
	else if (c->state == CONN_ESTABLISHED && !c->dead)
		want = (c->rx_armed ? EPOLLIN : 0) | (c->buf_len ? EPOLLOUT : 0);
	if (want == c->events)
		return;
	/* Removed rather than left with no events: HUP cannot be masked and would spin. */
	op = !want ? EPOLL_CTL_DEL : c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	struct epoll_event ev = {.events = want, .data.ptr = c};
	if (epoll_ctl(c->m->epoll_fd, op, c->fd, &ev) == 0 || op == EPOLL_CTL_DEL)
		c->events = want;
}

static struct vsock_conn *conn_new(struct vsock_mux *m, int fd, enum conn_state state)
{
	struct vsock_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->m = m;
	c->fd = fd;
	c->state = state;
	c->next = m->conns;
	m->conns = c;
	m->n_conns++;
	return c;
}

void vsock_conn_close(struct vsock_conn *c)
{
	struct vsock_mux *m;

	if (!c || c->state == CONN_CLOSED)
		return;
	m = c->m;
	c->rx_armed = false;
	c->state = CONN_CLOSED;
	conn_update_events(c);
	for (struct vsock_conn **p = &m->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	m->n_conns--;
	if (m->in_process) {
		c->next = m->zombies;
		m->zombies = c;
	} else {
		conn_free(c);
	}
}

int vsock_mux_new(const char *path, const struct vsock_mux_ops *ops, void *userdata, struct vsock_mux **ret)
{
	_cleanup_(vsock_mux_freep) struct vsock_mux *m = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!path || !*path || !ops || !ret)
		return -EINVAL;
	if (strlen(path) + sizeof("_4294967295") > sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->listen_fd = m->epoll_fd = -1;
	m->ops = ops;
	m->userdata = userdata;
	m->next_local_port = VSOCK_LOCAL_PORT_FIRST;

	m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->listen_fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path));
	if (bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	m->path = strdup(path); /* from here on, ours to unlink */
	if (!m->path) {
		unlink(path);
		return -ENOMEM;
	}
	if (listen(m->listen_fd, 64) < 0)
		return -errno;
	m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epoll_fd < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->listen_fd, &ev) < 0)
		return -errno;
	*ret = TAKE_PTR(m);
	return 0;
}

struct vsock_mux *vsock_mux_free(struct vsock_mux *m)
{
	if (!m)
		return NULL;
	while (m->conns) {
		struct vsock_conn *c = m->conns;
		m->conns = c->next;
		conn_free(c);
	}
	while (m->zombies) {
		struct vsock_conn *c = m->zombies;
		m->zombies = c->next;
		conn_free(c);
	}
	safe_close(m->listen_fd);
	safe_close(m->epoll_fd);
	if (m->path)
		unlink(m->path);
	free(m->path);
	free(m);
	return NULL;
}

int vsock_mux_fd(const struct vsock_mux *m)
{
	return m->epoll_fd;
}

unsigned vsock_mux_n_conns(const struct vsock_mux *m)
{
	return m->n_conns;
}

struct vsock_conn *vsock_mux_find(struct vsock_mux *m, uint32_t local_port, uint32_t peer_port)
{
	for (struct vsock_conn *c = m->conns; c; c = c->next)
		if (c->state != CONN_LINE && c->local_port == local_port && c->peer_port == peer_port)
			return c;
	return NULL;
}

static bool local_port_used(struct vsock_mux *m, uint32_t port)
{
	for (struct vsock_conn *c = m->conns; c; c = c->next)
		if (c->state != CONN_LINE && c->local_port == port)
			return true;
	return false;
}

static uint32_t alloc_local_port(struct vsock_mux *m)
{
	/* At most n_conns ports are taken, so this ends within n_conns + 1 tries. */
	for (;;) {
		uint32_t p = m->next_local_port++;
		if (m->next_local_port < VSOCK_LOCAL_PORT_FIRST)
			m->next_local_port = VSOCK_LOCAL_PORT_FIRST;
		if (!local_port_used(m, p))
			return p;
	}
}

static void accept_all(struct vsock_mux *m)
{
	for (;;) {
		int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or a client that gave up meanwhile */
		struct vsock_conn *c = m->n_conns < VSOCK_MUX_CONNS_MAX ? conn_new(m, fd, CONN_LINE) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		conn_update_events(c);
	}
}

/* Reads the CONNECT line without consuming a byte past its '\n': what follows is the client's
 * first data for the guest. */
static void handle_line(struct vsock_conn *c)
{
	char peek[VSOCK_LINE_MAX];
	ssize_t n = recv(c->fd, peek, sizeof(peek) - c->line_len, MSG_PEEK | MSG_DONTWAIT);
	uint32_t port;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return vsock_conn_close(c); /* closed before saying anything useful */
	const char *nl = memchr(peek, '\n', (size_t)n);
	size_t take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
	if (recv(c->fd, c->line + c->line_len, take, MSG_DONTWAIT) != (ssize_t)take)
		return vsock_conn_close(c);
	c->line_len += take;
	if (!nl) {
		if (c->line_len == sizeof(c->line))
			vsock_conn_close(c); /* too long to be a CONNECT line */
		return;
	}
	if (vsock_parse_connect(c->line, c->line_len - 1, &port) < 0)
		return vsock_conn_close(c);

	c->peer_port = port;
	c->local_port = alloc_local_port(c->m);
	c->state = CONN_CONNECTING;
	conn_update_events(c);
	if (c->m->ops->host_connect)
		c->m->ops->host_connect(c->m->userdata, c);
	else
		vsock_conn_close(c);
}

/* Sends until done or the socket is full; bytes sent, or -errno (EPIPE: the host side left). */
static ssize_t send_some(int fd, const uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, p + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Writes buffered guest data; returns bytes moved or -errno. */
static ssize_t flush(struct vsock_conn *c)
{
	ssize_t moved = send_some(c->fd, c->buf + c->buf_start, c->buf_len);

	if (moved < 0)
		return moved;
	c->buf_start += (size_t)moved;
	c->buf_len -= (size_t)moved;
	c->fwd_cnt += (uint32_t)moved;
	if (c->buf_len == 0) {
		c->buf_start = 0;
		if (c->shut_wr_pending && shutdown(c->fd, SHUT_WR) == 0)
			c->shut_wr_pending = false;
	}
	return moved;
}

static void report_hangup(struct vsock_conn *c)
{
	c->dead = true;
	conn_update_events(c);
	if (c->m->ops->hangup)
		c->m->ops->hangup(c->m->userdata, c);
}

static void handle_established(struct vsock_conn *c, uint32_t events)
{
	struct vsock_mux *m = c->m;

	if (events & EPOLLOUT) {
		ssize_t n = flush(c);
		if (n < 0)
			return report_hangup(c);
		conn_update_events(c);
		if (n > 0 && m->ops->credit)
			m->ops->credit(m->userdata, c);
		if (c->state != CONN_ESTABLISHED)
			return; /* closed by the callback */
	}
	if ((events & EPOLLIN) && c->rx_armed) {
		c->rx_armed = false;
		conn_update_events(c);
		if (m->ops->readable)
			m->ops->readable(m->userdata, c);
		return;
	}
	if ((events & EPOLLERR) || ((events & EPOLLHUP) && !(events & EPOLLIN)))
		report_hangup(c);
}

int vsock_mux_process(struct vsock_mux *m)
{
	struct epoll_event ev[EVENTS_PER_BATCH];
	int n;

	do
		n = epoll_wait(m->epoll_fd, ev, EVENTS_PER_BATCH, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	m->in_process = true;
	for (int i = 0; i < n; i++) {
		struct vsock_conn *c = ev[i].data.ptr;
		if (!c) {
			accept_all(m);
			continue;
		}
		switch (c->state) {
		case CONN_LINE:
			handle_line(c);
			break;
		case CONN_ESTABLISHED:
			handle_established(c, ev[i].events);
			break;
		case CONN_CONNECTING:
		case CONN_CLOSED:
			break;
		}
	}
	m->in_process = false;
	while (m->zombies) {
		struct vsock_conn *c = m->zombies;
		m->zombies = c->next;
		conn_free(c);
	}
	return 0;
}

int vsock_mux_connect_guest(struct vsock_mux *m, uint32_t local_port, uint32_t peer_port,
			    struct vsock_conn **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	struct vsock_conn *c;

	if (!ret)
		return -EINVAL;
	if (vsock_mux_find(m, local_port, peer_port))
		return -EEXIST;
	if (m->n_conns >= VSOCK_MUX_CONNS_MAX)
		return -EMFILE;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", m->path, local_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == EAGAIN ? -ECONNREFUSED : -errno; /* EAGAIN: its backlog is full */
	c = conn_new(m, fd, CONN_ESTABLISHED);
	if (!c)
		return -ENOMEM;
	TAKE_FD(fd);
	c->local_port = local_port;
	c->peer_port = peer_port;
	c->rx_armed = true;
	conn_update_events(c);
	*ret = c;
	return 0;
}

uint32_t vsock_conn_local_port(const struct vsock_conn *c)
{
	return c->local_port;
}

uint32_t vsock_conn_peer_port(const struct vsock_conn *c)
{
	return c->peer_port;
}

bool vsock_conn_established(const struct vsock_conn *c)
{
	return c->state == CONN_ESTABLISHED;
}

int vsock_conn_accepted(struct vsock_conn *c)
{
	char ok[VSOCK_LINE_MAX];
	size_t len;

	if (c->state != CONN_CONNECTING)
		return -EINVAL;
	len = vsock_format_ok(ok, c->local_port);
	/* A fresh socket's buffer always has room for a dozen bytes. */
	if (send(c->fd, ok, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
		return errno ? -errno : -EIO;
	c->state = CONN_ESTABLISHED;
	c->rx_armed = true;
	conn_update_events(c);
	return 0;
}

void vsock_conn_set_peer_credit(struct vsock_conn *c, uint32_t buf_alloc, uint32_t fwd_cnt)
{
	c->peer_buf_alloc = buf_alloc;
	c->peer_fwd_cnt = fwd_cnt;
}

uint32_t vsock_conn_peer_free(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

void vsock_conn_get_credit(struct vsock_conn *c, uint32_t *ret_buf_alloc, uint32_t *ret_fwd_cnt)
{
	*ret_buf_alloc = VSOCK_CONN_BUF_ALLOC;
	*ret_fwd_cnt = c->fwd_reported = c->fwd_cnt;
}

bool vsock_conn_credit_update_due(const struct vsock_conn *c)
{
	uint32_t guest_view_used = c->rx_cnt - c->fwd_reported;
	return c->fwd_cnt != c->fwd_reported && guest_view_used > VSOCK_CONN_BUF_ALLOC * 3 / 4;
}

ssize_t vsock_conn_recv(struct vsock_conn *c, const struct iovec *iov, int iovcnt)
{
	struct iovec v[RECV_IOV_MAX];
	uint32_t credit;
	size_t total = 0;
	int k = 0;
	ssize_t n;

	if (c->state != CONN_ESTABLISHED)
		return -ENOTCONN;
	if (iovcnt <= 0 || iovcnt > RECV_IOV_MAX)
		return -EINVAL;
	credit = vsock_conn_peer_free(c);
	if (credit == 0)
		return -ENOSPC;
	for (; k < iovcnt && total < credit; k++) {
		v[k] = iov[k];
		v[k].iov_len = MIN(v[k].iov_len, credit - total);
		total += v[k].iov_len;
	}
	if (total == 0)
		return -EINVAL;
	do
		n = readv(c->fd, v, k);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN) {
		c->rx_armed = true;
		conn_update_events(c);
		return -EAGAIN;
	}
	if (n < 0)
		return -errno;
	c->tx_cnt += (uint32_t)n;
	return n;
}

int vsock_conn_send(struct vsock_conn *c, const void *buf, size_t len)
{
	size_t done = 0;

	if (c->state != CONN_ESTABLISHED || c->dead || c->shut_wr_pending)
		return -EPIPE;
	/* The guest may have buf_alloc bytes outstanding as of the fwd_cnt we last told it; this
	 * also bounds buf, since fwd_reported never passes fwd_cnt. */
	if (len > VSOCK_CONN_BUF_ALLOC - (c->rx_cnt - c->fwd_reported))
		return -ENOBUFS;
	c->rx_cnt += (uint32_t)len;
	if (c->buf_len == 0) {
		ssize_t n = send_some(c->fd, buf, len);
		if (n < 0)
			return (int)n;
		done = (size_t)n;
		c->fwd_cnt += (uint32_t)done;
	}
	if (done == len)
		return 0;
	if (!c->buf) {
		c->buf = malloc(VSOCK_CONN_BUF_ALLOC);
		if (!c->buf)
			return -ENOMEM;
	}
	if (c->buf_start + c->buf_len + (len - done) > VSOCK_CONN_BUF_ALLOC) {
		memmove(c->buf, c->buf + c->buf_start, c->buf_len);
		c->buf_start = 0;
	}
	memcpy(c->buf + c->buf_start + c->buf_len, (const uint8_t *)buf + done, len - done);
	c->buf_len += len - done;
	conn_update_events(c);
	return 0;
}

int vsock_conn_shutdown_write(struct vsock_conn *c)
{
	if (c->state != CONN_ESTABLISHED)
		return -ENOTCONN;
	if (c->buf_len > 0) {
		c->shut_wr_pending = true;
		return 0;
	}
	return shutdown(c->fd, SHUT_WR) < 0 ? -errno : 0;
}
