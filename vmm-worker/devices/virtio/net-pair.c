/* SPDX-License-Identifier: Apache-2.0 */
/* One virtio-net queue pair: its I/O thread, receive (tap to guest) and transmit (guest to tap).
 *
 * The thread waits in epoll on the pair's two kick eventfds and on its tap queue. The tap is
 * polled for input only while the driver has given receive buffers: when the ring runs dry the
 * pair stops polling it (rx_stalled) until the driver kicks the receive queue, so a guest that
 * stops receiving costs no CPU. Receive buffers go straight to readv() when they can hold the
 * largest frame; with mergeable buffers and a nearly empty ring the frame is read into a bounce
 * buffer and waits there for more buffers rather than being cut. */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backends/tap.h"
#include "devices/virtio/net-internal.h"
#include "macro.h"

enum { EV_STOP, EV_RX, EV_TX, EV_TAP };

struct rx_batch {
	unsigned n_chains, n_iov;
	uint64_t cap;	/* bytes the gathered buffers hold */
	bool exhausted; /* the ring had no more */
};

static void iov_from_buf(const struct iovec *iov, unsigned n, const uint8_t *buf, size_t len)
{
	for (unsigned i = 0; i < n && len > 0; i++) {
		size_t c = MIN(len, iov[i].iov_len);
		memcpy(iov[i].iov_base, buf, c);
		buf += c;
		len -= c;
	}
}

/* Writes len bytes at offset off of the iovec list (the header may be split over buffers). */
static void iov_write_at(const struct iovec *iov, unsigned n, size_t off, const void *data, size_t len)
{
	const uint8_t *d = data;

	for (unsigned i = 0; i < n && len > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t c = MIN(len, iov[i].iov_len - off);
		memcpy((uint8_t *)iov[i].iov_base + off, d, c);
		d += c;
		len -= c;
		off = 0;
	}
}

/* Brings the epoll set in line with what the pair wants from its tap queue. A tap fd stays out of
 * the set while nothing is wanted: a detached or broken queue polls as EPOLLERR forever. */
static void update_tap_events(struct net_pair *p)
{
	unsigned want = 0;

	if (p->running && !p->tap_broken)
		want = (p->rx_stalled ? 0 : EPOLLIN) | (p->tx_blocked ? EPOLLOUT : 0);
	if (want == p->tap_events)
		return;
	struct epoll_event ev = {.events = want, .data.u32 = EV_TAP};
	int op = want == 0 ? EPOLL_CTL_DEL : p->tap_events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(p->epoll_fd, op, p->tap_fd, &ev) < 0) {
		virtio_stats_error(p->net->v);
		if (op != EPOLL_CTL_DEL)
			return;
	}
	p->tap_events = want;
}

/* Pops receive chains until they hold want bytes (one chain without mergeable buffers). */
static int rx_gather(struct net_pair *p, uint64_t want, struct rx_batch *b, const char **why)
{
	struct virtq_elem *e = &p->elem;
	int r;

	*b = (struct rx_batch){};
	while (b->n_chains < NET_RX_CHAINS_MAX) {
		r = virtq_pop(p->rx, e);
		if (r < 0) {
			*why = "malformed descriptor chain on a receive queue";
			return r;
		}
		if (r == 0) {
			b->exhausted = true;
			break;
		}
		if (e->n_out > 0 || e->in_len < NET_HDR_LEN) {
			*why = e->n_out > 0 ? "a receive buffer the device may not write"
					    : "a receive buffer too short for the virtio-net header";
			return -EBADMSG;
		}
		if (b->n_iov + e->n_in > NET_RX_IOV_MAX) {
			if (b->n_chains == 0) {
				*why = "a receive chain of more than 1023 buffers";
				return -E2BIG;
			}
			virtq_unpop(p->rx, 1);
			break;
		}
		memcpy(&p->rx_iov[b->n_iov], &e->iov[e->n_out], e->n_in * sizeof(struct iovec));
		b->n_iov += e->n_in;
		p->rx_chains[b->n_chains++] = (struct net_rx_chain){.head = e->head, .len = (uint32_t)e->in_len};
		b->cap += e->in_len;
		if (!p->mergeable || b->cap >= want)
			break;
	}
	return 0;
}

/* The frame of len bytes (header included) is in the batch's buffers: hand the ones it fills to
 * the driver, the others back to the ring. */
static void rx_deliver(struct net_pair *p, const struct rx_batch *b, size_t len)
{
	uint16_t used = 0, num_buffers;
	size_t left = len;

	while (used < b->n_chains && (left > 0 || used == 0)) {
		left -= MIN(left, p->rx_chains[used].len);
		used++;
	}
	/* num_buffers: the tap leaves the last two bytes of the 12-byte header alone. Written before
	 * the used index publishes the buffers. */
	num_buffers = htole16(used);
	iov_write_at(p->rx_iov, b->n_iov, offsetof(struct virtio_net_hdr_v1, num_buffers), &num_buffers,
		     sizeof(num_buffers));
	left = len;
	for (uint16_t i = 0; i < used; i++) {
		struct virtq_elem e = {.head = p->rx_chains[i].head, .in_len = p->rx_chains[i].len};
		uint32_t n = (uint32_t)MIN(left, p->rx_chains[i].len);

		virtq_push(p->rx, &e, n);
		left -= n;
	}
	virtq_unpop(p->rx, (uint16_t)(b->n_chains - used));
	virtio_stats_add(p->net->v, VIRTIO_STAT_READ, len - NET_HDR_LEN);
}

/* The frame waiting in the bounce buffer: 1 delivered (or dropped), 0 still waiting, -errno. */
static int rx_flush_pending(struct net_pair *p, const char **why)
{
	struct rx_batch b;
	int r = rx_gather(p, p->pending_len, &b, why);

	if (r < 0)
		return r;
	if (b.cap >= p->pending_len) {
		iov_from_buf(p->rx_iov, b.n_iov, p->bounce, p->pending_len);
		rx_deliver(p, &b, p->pending_len);
	} else {
		virtq_unpop(p->rx, (uint16_t)b.n_chains);
		if (b.exhausted) {
			p->rx_stalled = true;
			return 0;
		}
		virtio_stats_error(p->net->v); /* more than the most buffers we gather: dropped */
	}
	p->pending_len = 0;
	return 1;
}

static int rx_process(struct net_pair *p, const char **why)
{
	struct virtio_device *v = p->net->v;
	unsigned frames = 0;
	int r = 0;

	if (p->pending_len > 0) {
		r = rx_flush_pending(p, why);
		if (r <= 0)
			goto out;
		r = 0;
	}
	while (frames < NET_BUDGET) {
		struct rx_batch b;
		ssize_t n;

		r = rx_gather(p, p->mergeable ? NET_FRAME_MAX : 0, &b, why);
		if (r < 0)
			break;
		if (b.n_chains == 0) {
			p->rx_stalled = true;
			break;
		}
		bool direct = !p->mergeable || b.cap >= NET_FRAME_MAX;
		if (direct) {
			/* The tap cuts a frame to the buffers and says nothing: the bounce buffer behind
			 * them catches the rest, so a frame larger than the buffers shows. */
			p->rx_iov[b.n_iov] = (struct iovec){.iov_base = p->bounce, .iov_len = NET_FRAME_MAX};
			n = tap_readv(p->net->tap, p->index, p->rx_iov, (int)b.n_iov + 1);
		} else
			n = tap_readv(p->net->tap, p->index,
				      &(struct iovec){.iov_base = p->bounce, .iov_len = NET_FRAME_MAX}, 1);
		if (n < 0 || (size_t)n < NET_HDR_LEN || (direct && (uint64_t)n > b.cap)) {
			virtq_unpop(p->rx, (uint16_t)b.n_chains);
			if (n == -EAGAIN)
				break;
			/* A frame larger than the buffers (dropped), or a tap error. */
			virtio_stats_error(v);
			if (n < 0) {
				p->tap_broken = true;
				break;
			}
			frames++;
			continue;
		}
		frames++;
		if (direct)
			rx_deliver(p, &b, (size_t)n);
		else if ((uint64_t)n <= b.cap) {
			iov_from_buf(p->rx_iov, b.n_iov, p->bounce, (size_t)n);
			rx_deliver(p, &b, (size_t)n);
		} else {
			virtq_unpop(p->rx, (uint16_t)b.n_chains);
			if (!b.exhausted) {
				virtio_stats_error(v);
				continue;
			}
			p->pending_len = (size_t)n;
			p->rx_stalled = true;
			break;
		}
	}
out:
	virtio_queue_signal(v, p->rx);
	return r;
}

static int tx_process(struct net_pair *p, const char **why)
{
	struct virtio_device *v = p->net->v;
	struct virtq_elem *e = &p->elem;
	unsigned frames = 0;
	int r = 0;

	while (frames < NET_BUDGET && (r = virtq_pop(p->tx, e)) > 0) {
		if (e->n_in > 0 || e->out_len < NET_HDR_LEN) {
			*why = e->n_in > 0 ? "a transmit chain with device-writable buffers"
					   : "a transmit chain too short for the virtio-net header";
			r = -EBADMSG;
			break;
		}
		ssize_t w = e->n_out > NET_RX_IOV_MAX ? -EMSGSIZE
						       : tap_writev(p->net->tap, p->index, e->iov, (int)e->n_out);
		if (w == -EAGAIN) {
			virtq_unpop(p->tx, 1);
			p->tx_blocked = true;
			break;
		}
		if (w < 0)
			virtio_stats_error(v); /* refused by the tap (too large, malformed header): dropped */
		else
			virtio_stats_add(v, VIRTIO_STAT_WRITE, e->out_len - NET_HDR_LEN);
		virtq_push(p->tx, e, 0);
		frames++;
	}
	if (r < 0 && !*why)
		*why = "malformed descriptor chain on a transmit queue";
	else if (r > 0)
		r = 0;
	/* Budget spent with more waiting: come back after the other events. */
	if (frames == NET_BUDGET)
		virtio_queue_kick(v, p->tx->index);
	virtio_queue_signal(v, p->tx);
	return r < 0 ? r : 0;
}

/* One event for the pair, its lock held. */
static int pair_event(struct net_pair *p, unsigned tag, uint32_t events, const char **why)
{
	int r = 0;

	if (tag == EV_TAP && (events & (EPOLLERR | EPOLLHUP))) {
		/* The interface went away or the queue was detached under us. */
		p->tap_broken = true;
		virtio_stats_error(p->net->v);
		return 0;
	}
	if (tag == EV_RX || (tag == EV_TAP && (events & EPOLLIN))) {
		p->rx_stalled = false;
		r = rx_process(p, why);
	}
	if (r >= 0 && (tag == EV_TX || (tag == EV_TAP && (events & EPOLLOUT)))) {
		p->tx_blocked = false;
		r = tx_process(p, why);
	}
	return r;
}

int net_pair_process(struct net_pair *p, struct virtq *q, const char **why)
{
	int r = 0;

	pthread_mutex_lock(&p->lock);
	if (p->running) {
		r = pair_event(p, q == p->rx ? EV_RX : EV_TX, 0, why);
		if (r < 0)
			p->running = false;
		update_tap_events(p);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

static void pair_handle(struct net_pair *p, unsigned tag, uint32_t events)
{
	struct net *net = p->net;
	const char *why = NULL;
	uint32_t generation = 0;
	int r = 0;

	pthread_mutex_lock(&p->lock);
	if (p->running) {
		generation = p->generation;
		r = pair_event(p, tag, events, &why);
		if (r < 0)
			p->running = false;
		update_tap_events(p);
	}
	pthread_mutex_unlock(&p->lock);
	if (r >= 0)
		return;
	/* Reported under the device lock, unless a reset came in between. */
	pthread_mutex_lock(&net->v->lock);
	if (net->generation == generation)
		net_fail(net, r, why);
	pthread_mutex_unlock(&net->v->lock);
}

static void *pair_thread(void *userdata)
{
	struct net_pair *p = userdata;
	struct epoll_event ev[4];

	for (;;) {
		int n = epoll_wait(p->epoll_fd, ev, ELEMENTSOF(ev), -1);
		if (n < 0)
			continue; /* EINTR: every signal is blocked here, but be safe */
		for (int i = 0; i < n; i++) {
			unsigned tag = ev[i].data.u32;
			uint64_t count;

			if (tag == EV_STOP)
				return NULL;
			if (tag == EV_RX || tag == EV_TX) {
				int fd = tag == EV_RX ? p->rx->kick_fd : p->tx->kick_fd;
				if (read(fd, &count, sizeof(count)) != sizeof(count))
					continue;
			}
			pair_handle(p, tag, ev[i].events);
		}
	}
}

void net_pair_set_running(struct net_pair *p, bool running)
{
	pthread_mutex_lock(&p->lock);
	p->running = running;
	p->generation = p->net->generation;
	p->mergeable = virtio_feature_negotiated(p->net->v, VIRTIO_NET_F_MRG_RXBUF);
	p->rx_stalled = p->tx_blocked = p->tap_broken = false;
	p->pending_len = 0;
	update_tap_events(p);
	pthread_mutex_unlock(&p->lock);
	if (running) {
		/* Buffers the driver gave before the pair ran. */
		virtio_queue_kick(p->net->v, p->rx->index);
		virtio_queue_kick(p->net->v, p->tx->index);
	}
}

int net_pair_init(struct net *net, unsigned i)
{
	struct net_pair *p = &net->pairs[i];
	struct virtio_device *v = net->v;
	sigset_t all, old;
	int r;

	p->net = net;
	p->index = i;
	p->rx = &v->queues[2 * i];
	p->tx = &v->queues[2 * i + 1];
	p->tap_fd = tap_fd(net->tap, i);
	p->epoll_fd = p->stop_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	p->lock_initialized = true;

	r = virtq_elem_init(&p->elem, net->ops.queue_max_size);
	if (r < 0)
		return r;
	p->rx_iov = calloc(NET_RX_IOV_MAX + 1, sizeof(*p->rx_iov));
	p->rx_chains = calloc(NET_RX_CHAINS_MAX, sizeof(*p->rx_chains));
	p->bounce = malloc(NET_FRAME_MAX);
	if (!p->rx_iov || !p->rx_chains || !p->bounce)
		return -ENOMEM;

	p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->epoll_fd < 0 || p->stop_fd < 0)
		return -errno;
	const struct {
		int fd;
		unsigned tag;
	} watch[] = {{p->stop_fd, EV_STOP}, {p->rx->kick_fd, EV_RX}, {p->tx->kick_fd, EV_TX}};
	for (size_t k = 0; k < ELEMENTSOF(watch); k++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = watch[k].tag};
		if (epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, watch[k].fd, &ev) < 0)
			return -errno;
	}

	/* Signals belong to the main loop and the vCPU threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&p->thread, NULL, pair_thread, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	char name[16];
	snprintf(name, sizeof(name), "virtio-net-%u", i);
	pthread_setname_np(p->thread, name);
	p->thread_started = true;
	return 0;
}

void net_pair_done(struct net_pair *p)
{
	if (p->thread_started) {
		uint64_t one = 1;
		(void)!write(p->stop_fd, &one, sizeof(one));
		pthread_join(p->thread, NULL);
		p->thread_started = false;
	}
	safe_close(p->epoll_fd);
	safe_close(p->stop_fd);
	virtq_elem_done(&p->elem);
	free(p->rx_iov);
	free(p->rx_chains);
	free(p->bounce);
	if (p->lock_initialized)
		pthread_mutex_destroy(&p->lock);
}
