/* SPDX-License-Identifier: Apache-2.0 */
/* The device moves packets between the virtqueues and the backend's connections. Everything runs
 * under v->lock: queue handlers, the watch on the backend's epoll fd (and the backend callbacks it
 * leads to), activate and reset. Packets of ours wait in a small control queue until the guest
 * posts receive buffers; host data is read straight into those buffers, as far as the guest's
 * credit allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "backends/vsock-unix.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/vsock.h"
#include "macro.h"

#define HDR_SIZE sizeof(struct virtio_vsock_hdr)
#define RX_IOV_MAX 64

/* The device's view of one backend connection. */
struct dconn {
	struct vsock_conn *conn; /* NULL: free slot */
	bool rx_pending;	 /* host data or EOF may wait on the socket */
	bool credit_wait;	 /* host data waits, the guest has no room */
	bool credit_requested;
	bool closing;	    /* the guest shut both ways: reset once its data reached the host */
	uint32_t sent;	    /* guest bytes handed to the backend (wraps, as fwd_cnt) */
};

struct ctl {
	uint16_t op;
	uint32_t flags;
	uint32_t local_port, peer_port;
};

struct vsock {
	uint64_t cid;
	struct vsock_mux *mux;
	struct virtq_elem rx_elem, tx_elem;
	bool rx_held; /* rx_elem popped, not used yet */
	struct ctl ctl[VIRTIO_VSOCK_CTL_MAX];
	unsigned ctl_head, ctl_len;
	struct dconn conns[VSOCK_MUX_CONNS_MAX];
	unsigned rr; /* where the next round of host data starts */
	uint8_t payload[VIRTIO_VSOCK_MAX_PAYLOAD];
};

static struct dconn *dconn_of(struct vsock *s, const struct vsock_conn *c)
{
	for (unsigned i = 0; c && i < ELEMENTSOF(s->conns); i++)
		if (s->conns[i].conn == c)
			return &s->conns[i];
	return NULL;
}

static struct dconn *dconn_add(struct vsock *s, struct vsock_conn *c)
{
	for (unsigned i = 0; i < ELEMENTSOF(s->conns); i++)
		if (!s->conns[i].conn) {
			s->conns[i] = (struct dconn){ .conn = c };
			return &s->conns[i];
		}
	return NULL;
}

static void conn_drop(struct vsock *s, struct vsock_conn *c)
{
	struct dconn *d = dconn_of(s, c);

	if (d)
		*d = (struct dconn){ 0 };
	vsock_conn_close(c);
}

static void ctl_queue(struct virtio_device *v, uint16_t op, uint32_t flags, uint32_t local_port,
		      uint32_t peer_port)
{
	struct vsock *s = v->priv;

	if (s->ctl_len == VIRTIO_VSOCK_CTL_MAX) {
		virtio_stats_error(v); /* a guest that posts no receive buffers loses our answers */
		return;
	}
	s->ctl[(s->ctl_head + s->ctl_len) % VIRTIO_VSOCK_CTL_MAX] =
		(struct ctl){ .op = op, .flags = flags, .local_port = local_port, .peer_port = peer_port };
	s->ctl_len++;
}

/* Resets the guest's end of (local_port, peer_port) and forgets the host's. */
static void reset_conn(struct virtio_device *v, uint32_t local_port, uint32_t peer_port)
{
	struct vsock *s = v->priv;
	struct vsock_conn *c = vsock_mux_find(s->mux, local_port, peer_port);

	if (c)
		conn_drop(s, c);
	ctl_queue(v, VIRTIO_VSOCK_OP_RST, 0, local_port, peer_port);
}

/* Copies len bytes to (in parts) or from (out parts) e's buffers, starting offset bytes in. */
static void iov_copy(const struct virtq_elem *e, bool in, size_t offset, void *buf, size_t len)
{
	unsigned first = in ? e->n_out : 0, n = in ? e->n_in : e->n_out;
	uint8_t *p = buf;

	for (unsigned i = first; i < first + n && len > 0; i++) {
		size_t l = e->iov[i].iov_len;
		if (offset >= l) {
			offset -= l;
			continue;
		}
		size_t k = MIN(l - offset, len);
		if (in)
			memcpy((uint8_t *)e->iov[i].iov_base + offset, p, k);
		else
			memcpy(p, (const uint8_t *)e->iov[i].iov_base + offset, k);
		p += k;
		len -= k;
		offset = 0;
	}
}

static struct virtio_vsock_hdr make_hdr(struct vsock *s, uint16_t op, uint32_t flags, uint32_t local_port,
					uint32_t peer_port, uint32_t len)
{
	struct virtio_vsock_hdr h = {
		.src_cid = VIRTIO_VSOCK_HOST_CID,
		.dst_cid = s->cid,
		.src_port = local_port,
		.dst_port = peer_port,
		.len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op,
		.flags = flags,
	};
	struct vsock_conn *c = vsock_mux_find(s->mux, local_port, peer_port);

	uint32_t buf_alloc = 0, fwd_cnt = 0;

	if (c)
		vsock_conn_get_credit(c, &buf_alloc, &fwd_cnt);
	h.buf_alloc = buf_alloc;
	h.fwd_cnt = fwd_cnt;
	return h;
}

/* A receive buffer for the next packet: 1, 0 when the driver has none posted, -errno when the
 * device broke. */
static int rx_get(struct virtio_device *v)
{
	struct vsock *s = v->priv;
	int r;

	if (s->rx_held)
		return 1;
	r = virtq_pop(&v->queues[VIRTIO_VSOCK_RX], &s->rx_elem);
	if (r < 0)
		virtio_device_fail(v, r, "malformed descriptor chain on the rx queue");
	else if (r > 0 && (s->rx_elem.n_out > 0 || s->rx_elem.in_len < HDR_SIZE)) {
		virtio_device_fail(v, -EBADMSG, "an rx buffer is device-readable or shorter than a header");
		r = -EBADMSG;
	}
	s->rx_held = r > 0;
	return r;
}

static void rx_put(struct virtio_device *v, const struct virtio_vsock_hdr *h)
{
	struct vsock *s = v->priv;

	iov_copy(&s->rx_elem, true, 0, (void *)h, HDR_SIZE);
	virtq_push(&v->queues[VIRTIO_VSOCK_RX], &s->rx_elem, (uint32_t)(HDR_SIZE + h->len));
	s->rx_held = false;
}

/* Host data (or EOF) of d into the held receive buffer. 1 when the buffer was used, 0 when not. */
static int rx_data(struct virtio_device *v, struct dconn *d)
{
	struct vsock *s = v->priv;
	struct vsock_conn *c = d->conn;
	uint32_t local = vsock_conn_local_port(c), peer = vsock_conn_peer_port(c);
	struct iovec iov[RX_IOV_MAX];
	size_t skip = HDR_SIZE, room = 0;
	int n_iov = 0;

	if (vsock_conn_peer_free(c) == 0) {
		d->credit_wait = true;
		if (!d->credit_requested) {
			d->credit_requested = true;
			ctl_queue(v, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, local, peer);
		}
		return 0;
	}
	for (unsigned i = s->rx_elem.n_out; i < s->rx_elem.n_out + s->rx_elem.n_in && n_iov < RX_IOV_MAX; i++) {
		struct iovec b = s->rx_elem.iov[i];
		if (skip >= b.iov_len) {
			skip -= b.iov_len;
			continue;
		}
		b.iov_base = (uint8_t *)b.iov_base + skip;
		b.iov_len = MIN(b.iov_len - skip, VIRTIO_VSOCK_MAX_PAYLOAD - room);
		skip = 0;
		if (b.iov_len == 0)
			break;
		iov[n_iov++] = b;
		room += b.iov_len;
	}
	if (n_iov == 0) {
		/* A buffer with room for a header only: it carries our control packets, not data. */
		d->rx_pending = false;
		ctl_queue(v, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, local, peer);
		return 0;
	}
	ssize_t n = vsock_conn_recv(c, iov, n_iov);
	if (n == -EAGAIN) {
		d->rx_pending = false; /* drained; the backend re-armed its watch */
		return 0;
	}
	if (n == -ENOSPC) {
		d->credit_wait = true;
		return 0;
	}
	if (n < 0) {
		reset_conn(v, local, peer);
		return 0;
	}
	struct virtio_vsock_hdr h;
	if (n == 0) {
		/* The host client will send no more; the guest reads EOF once it has the rest. */
		d->rx_pending = false;
		h = make_hdr(s, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND, local, peer, 0);
	} else {
		h = make_hdr(s, VIRTIO_VSOCK_OP_RW, 0, local, peer, (uint32_t)n);
		virtio_stats_add(v, VIRTIO_STAT_READ, (uint64_t)n);
	}
	rx_put(v, &h);
	return 1;
}

static struct dconn *next_pending(struct vsock *s)
{
	for (unsigned k = 0; k < ELEMENTSOF(s->conns); k++) {
		unsigned i = (s->rr + k) % ELEMENTSOF(s->conns);
		struct dconn *d = &s->conns[i];
		if (d->conn && d->rx_pending && !d->credit_wait && vsock_conn_established(d->conn)) {
			s->rr = i + 1;
			return d;
		}
	}
	return NULL;
}

/* Fills receive buffers: our control packets first, then host data, one connection after another
 * so that none starves the rest. */
static void process_rx(struct virtio_device *v)
{
	struct vsock *s = v->priv;
	struct virtq *q = &v->queues[VIRTIO_VSOCK_RX];

	if (!virtio_device_running(v) || !q->ready)
		return;
	for (;;) {
		struct dconn *d = s->ctl_len ? NULL : next_pending(s);
		if (!s->ctl_len && !d)
			break;
		if (rx_get(v) <= 0)
			break;
		if (s->ctl_len) {
			struct ctl *c = &s->ctl[s->ctl_head];
			struct virtio_vsock_hdr h = make_hdr(s, c->op, c->flags, c->local_port, c->peer_port, 0);
			s->ctl_head = (s->ctl_head + 1) % VIRTIO_VSOCK_CTL_MAX;
			s->ctl_len--;
			rx_put(v, &h);
			continue;
		}
		rx_data(v, d);
	}
	virtio_queue_signal(v, q);
}

static void ctl_credit_update_if_due(struct virtio_device *v, struct vsock_conn *c)
{
	if (vsock_conn_credit_update_due(c))
		ctl_queue(v, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, vsock_conn_local_port(c), vsock_conn_peer_port(c));
}

/* The guest shut both ways and waits for our RST: send it once its data reached the host. */
static void finish_close_if_flushed(struct virtio_device *v, struct dconn *d)
{
	uint32_t buf_alloc, fwd_cnt;

	vsock_conn_get_credit(d->conn, &buf_alloc, &fwd_cnt);
	if (fwd_cnt == d->sent)
		reset_conn(v, vsock_conn_local_port(d->conn), vsock_conn_peer_port(d->conn));
}

static void guest_request(struct virtio_device *v, const struct virtio_vsock_hdr *h)
{
	struct vsock *s = v->priv;
	struct vsock_conn *c;
	int r;

	r = vsock_mux_connect_guest(s->mux, h->dst_port, h->src_port, &c);
	if (r < 0) {
		/* Nobody listens on PATH_<port>, or too many connections: refused, not an error. */
		ctl_queue(v, VIRTIO_VSOCK_OP_RST, 0, h->dst_port, h->src_port);
		return;
	}
	if (!dconn_add(s, c)) {
		vsock_conn_close(c);
		ctl_queue(v, VIRTIO_VSOCK_OP_RST, 0, h->dst_port, h->src_port);
		return;
	}
	vsock_conn_set_peer_credit(c, h->buf_alloc, h->fwd_cnt);
	ctl_queue(v, VIRTIO_VSOCK_OP_RESPONSE, 0, h->dst_port, h->src_port);
}

static bool packet_valid(struct vsock *s, const struct virtio_vsock_hdr *h, uint64_t payload_room)
{
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM || h->src_cid != s->cid || h->dst_cid != VIRTIO_VSOCK_HOST_CID)
		return false;
	if (h->len > VIRTIO_VSOCK_MAX_PAYLOAD || h->len > payload_room)
		return false;
	if (h->op < VIRTIO_VSOCK_OP_REQUEST || h->op > VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return false;
	return h->op == VIRTIO_VSOCK_OP_RW || h->len == 0; /* control ops carry no payload */
}

static void guest_packet(struct virtio_device *v, const struct virtio_vsock_hdr *h, const struct virtq_elem *e)
{
	struct vsock *s = v->priv;
	uint32_t local = h->dst_port, peer = h->src_port;

	if (!packet_valid(s, h, e->out_len - HDR_SIZE)) {
		virtio_stats_error(v);
		if (h->op != VIRTIO_VSOCK_OP_RST)
			reset_conn(v, local, peer);
		return;
	}
	struct vsock_conn *c = vsock_mux_find(s->mux, local, peer);
	struct dconn *d = dconn_of(s, c);
	if (h->op == VIRTIO_VSOCK_OP_RST) {
		if (c)
			conn_drop(s, c);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
		if (c) {
			virtio_stats_error(v); /* a second request for a pair that exists */
			reset_conn(v, local, peer);
		} else
			guest_request(v, h);
		return;
	}
	if (!d) {
		/* A packet for no connection: the guest's state is stale (after a reset, say). */
		virtio_stats_error(v);
		ctl_queue(v, VIRTIO_VSOCK_OP_RST, 0, local, peer);
		return;
	}
	vsock_conn_set_peer_credit(c, h->buf_alloc, h->fwd_cnt);
	if (d->credit_wait && vsock_conn_peer_free(c) > 0) {
		d->credit_wait = d->credit_requested = false;
		d->rx_pending = true;
	}

	int r = 0;
	switch ((enum virtio_vsock_op)h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		r = vsock_conn_established(c) ? -EPROTO : vsock_conn_accepted(c);
		if (r == 0)
			d->rx_pending = true; /* bytes the client sent behind its CONNECT line */
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (!vsock_conn_established(c))
			r = -EPROTO;
		else if (h->flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
			r = vsock_conn_shutdown_write(c);
		if (r == 0 && (h->flags & VIRTIO_VSOCK_SHUTDOWN_RCV) && (h->flags & VIRTIO_VSOCK_SHUTDOWN_SEND)) {
			d->closing = true;
			finish_close_if_flushed(v, d);
		}
		if (r < 0)
			r = -ECONNRESET; /* the host side is gone: a reset, but not the guest's fault */
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (!vsock_conn_established(c)) {
			r = -EPROTO;
			break;
		}
		iov_copy(e, false, HDR_SIZE, s->payload, h->len);
		r = vsock_conn_send(c, s->payload, h->len);
		if (r == -ENOBUFS)
			r = -EPROTO; /* more than the credit we gave */
		else if (r < 0)
			r = -ECONNRESET;
		else {
			d->sent += h->len;
			virtio_stats_add(v, VIRTIO_STAT_WRITE, h->len);
			ctl_credit_update_if_due(v, c);
		}
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		ctl_queue(v, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, local, peer);
		break;
	case VIRTIO_VSOCK_OP_INVALID:
	case VIRTIO_VSOCK_OP_REQUEST:
	case VIRTIO_VSOCK_OP_RST:
	default:
		r = -EPROTO;
		break;
	}
	if (r == -EPROTO)
		virtio_stats_error(v);
	if (r < 0)
		reset_conn(v, local, peer);
}

static void tx_notify(struct virtio_device *v, struct virtq *q)
{
	struct vsock *s = v->priv;
	struct virtq_elem *e = &s->tx_elem;
	int r;

	while ((r = virtq_pop(q, e)) > 0) {
		struct virtio_vsock_hdr h;

		if (e->n_in > 0 || e->out_len < HDR_SIZE) {
			virtio_device_fail(v, -EBADMSG, "a tx buffer is device-writable or shorter than a header");
			break;
		}
		iov_copy(e, false, 0, &h, HDR_SIZE);
		guest_packet(v, &h, e);
		virtq_push(q, e, 0);
	}
	if (r < 0)
		virtio_device_fail(v, r, "malformed descriptor chain on the tx queue");
	virtio_queue_signal(v, q);
	process_rx(v);
}

static void vsock_queue_notify(struct virtio_device *v, struct virtq *q)
{
	switch (q->index) {
	case VIRTIO_VSOCK_TX:
		tx_notify(v, q);
		break;
	case VIRTIO_VSOCK_RX:
		process_rx(v);
		break;
	default:
		break; /* event buffers stay with us until there is an event to report */
	}
}

/* Backend callbacks: inside vsock_mux_process(), under v->lock. */

static void on_host_connect(void *userdata, struct vsock_conn *c)
{
	struct virtio_device *v = userdata;
	struct vsock *s = v->priv;

	if (!virtio_device_running(v) || !dconn_add(s, c)) {
		vsock_conn_close(c); /* no driver to ask, or too many connections */
		return;
	}
	ctl_queue(v, VIRTIO_VSOCK_OP_REQUEST, 0, vsock_conn_local_port(c), vsock_conn_peer_port(c));
}

static void on_readable(void *userdata, struct vsock_conn *c)
{
	struct virtio_device *v = userdata;
	struct dconn *d = dconn_of(v->priv, c);

	if (d)
		d->rx_pending = true;
}

static void on_credit(void *userdata, struct vsock_conn *c)
{
	struct virtio_device *v = userdata;
	struct dconn *d = dconn_of(v->priv, c);

	if (d && d->closing)
		finish_close_if_flushed(v, d);
	else if (d)
		ctl_credit_update_if_due(v, c);
}

static void on_hangup(void *userdata, struct vsock_conn *c)
{
	struct virtio_device *v = userdata;

	reset_conn(v, vsock_conn_local_port(c), vsock_conn_peer_port(c));
}

static const struct vsock_mux_ops mux_ops = {
	.host_connect = on_host_connect,
	.readable = on_readable,
	.credit = on_credit,
	.hangup = on_hangup,
};

static void on_mux(struct virtio_device *v, int fd, uint32_t revents)
{
	struct vsock *s = v->priv;

	if (vsock_mux_process(s->mux) < 0)
		virtio_stats_error(v);
	process_rx(v);
}

static int vsock_activate(struct virtio_device *v)
{
	process_rx(v);
	return 0;
}

static void vsock_reset(struct virtio_device *v)
{
	struct vsock *s = v->priv;

	/* The driver's sockets are gone with its rings: so are the host ends. */
	for (unsigned i = 0; i < ELEMENTSOF(s->conns); i++)
		if (s->conns[i].conn)
			conn_drop(s, s->conns[i].conn);
	s->ctl_head = s->ctl_len = 0;
	s->rx_held = false;
}

static void vsock_config_read(struct virtio_device *v, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct vsock *s = v->priv;

	memcpy(data, (const uint8_t *)&s->cid + offset, len);
}

static void vsock_free(struct virtio_device *v)
{
	struct vsock *s = v->priv;

	if (!s)
		return;
	vsock_mux_free(s->mux);
	virtq_elem_done(&s->rx_elem);
	virtq_elem_done(&s->tx_elem);
	free(s);
}

static const struct virtio_device_ops vsock_ops = {
	.name = "vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.n_queues = 3,
	.queue_max_size = VIRTIO_VSOCK_QUEUE_SIZE,
	.config_size = sizeof(uint64_t),
	.config_read = vsock_config_read,
	.activate = vsock_activate,
	.reset = vsock_reset,
	.queue_notify = vsock_queue_notify,
	.free = vsock_free,
};

int virtio_vsock_new(uint32_t cid, const char *path, const struct guest_memory *mem, struct virtio_device **ret)
{
	struct virtio_device *v = NULL;
	struct vsock *s;
	int r;

	if (cid < VIRTIO_VSOCK_CID_MIN || cid > VIRTIO_VSOCK_CID_MAX || !path || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cid = cid;
	r = virtq_elem_init(&s->rx_elem, VIRTIO_VSOCK_QUEUE_SIZE);
	if (r >= 0)
		r = virtq_elem_init(&s->tx_elem, VIRTIO_VSOCK_QUEUE_SIZE);
	if (r >= 0)
		r = virtio_device_new(&vsock_ops, s, mem, &v);
	if (r < 0) {
		virtq_elem_done(&s->rx_elem);
		virtq_elem_done(&s->tx_elem);
		free(s);
		return r;
	}
	/* From here on s belongs to v. */
	r = vsock_mux_new(path, &mux_ops, v, &s->mux);
	if (r >= 0) {
		pthread_mutex_lock(&v->lock);
		r = virtio_device_watch(v, vsock_mux_fd(s->mux), EPOLLIN, on_mux);
		pthread_mutex_unlock(&v->lock);
	}
	if (r < 0) {
		virtio_device_free(v);
		return r;
	}
	*ret = v;
	return 0;
}
