/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "backends/chardev.h"
#include "devices/virtio/console.h"
#include "devices/virtio/virtio.h"
#include "macro.h"

struct console {
	struct chardev *chr;
	int in_fd, out_fd; /* the backend's; -1 when it has none */
	struct virtq_elem tx_elem, rx_elem;
	bool rx_held;	  /* rx_elem is a receive buffer popped but not filled yet */
	bool rx_starved;  /* the driver has no receive buffer posted */
	bool input_eof;	  /* the backend's input ended: stop watching it */
	bool input_dead;  /* the input fd cannot be polled (/dev/null, a regular file) */
	uint8_t *backlog; /* VIRTIO_CONSOLE_BACKLOG bytes, used from backlog_start */
	size_t backlog_start, backlog_len;
};

static void on_backend(struct virtio_device *v, int fd, uint32_t revents);

/* Watches input while the guest can take it, and output while a backlog waits. */
static void update_watches(struct virtio_device *v)
{
	struct console *c = v->priv;
	bool want_in = c->in_fd >= 0 && !c->input_dead && !c->input_eof && !c->rx_starved &&
		       virtio_device_running(v);
	uint32_t in_ev = want_in ? EPOLLIN : 0, out_ev = c->backlog_len ? EPOLLOUT : 0;

	if (c->in_fd >= 0 && c->in_fd == c->out_fd) {
		(void)virtio_device_watch(v, c->in_fd, in_ev | out_ev, on_backend);
		return;
	}
	if (c->in_fd >= 0 && !c->input_dead && virtio_device_watch(v, c->in_fd, in_ev, on_backend) == -EPERM)
		c->input_dead = true; /* epoll refuses files that are always ready: no input, as with null */
	if (c->out_fd >= 0)
		(void)virtio_device_watch(v, c->out_fd, out_ev, on_backend);
}

static void backlog_drop(struct virtio_device *v, struct console *c)
{
	if (c->backlog_len)
		virtio_stats_error(v);
	c->backlog_start = c->backlog_len = 0;
}

static void flush_backlog(struct virtio_device *v)
{
	struct console *c = v->priv;

	while (c->backlog_len) {
		ssize_t n = chardev_write(c->chr, c->backlog + c->backlog_start, c->backlog_len);
		if (n == 0)
			return;
		if (n < 0) {
			backlog_drop(v, c); /* the other end is gone for good */
			return;
		}
		c->backlog_start += (size_t)n;
		c->backlog_len -= (size_t)n;
	}
	c->backlog_start = 0;
}

/* Guest output: to the backend now if nothing waits before it, the rest to the backlog. */
static void output(struct virtio_device *v, const uint8_t *p, size_t len)
{
	struct console *c = v->priv;

	chardev_log(c->chr, p, len);
	if (c->backlog_len == 0) {
		ssize_t n = chardev_write(c->chr, p, len);
		if (n < 0) {
			virtio_stats_error(v);
			return;
		}
		p += n;
		len -= (size_t)n;
	}
	if (len == 0)
		return;
	if (!c->backlog) {
		c->backlog = malloc(VIRTIO_CONSOLE_BACKLOG);
		if (!c->backlog) {
			virtio_stats_error(v);
			return;
		}
	}
	if (c->backlog_start + c->backlog_len + len > VIRTIO_CONSOLE_BACKLOG) {
		memmove(c->backlog, c->backlog + c->backlog_start, c->backlog_len);
		c->backlog_start = 0;
	}
	size_t room = VIRTIO_CONSOLE_BACKLOG - c->backlog_len;
	if (len > room) {
		virtio_stats_error(v); /* the tail is lost rather than the guest kept waiting */
		len = room;
	}
	memcpy(c->backlog + c->backlog_start + c->backlog_len, p, len);
	c->backlog_len += len;
}

static void tx_notify(struct virtio_device *v, struct virtq *q)
{
	struct console *c = v->priv;
	struct virtq_elem *e = &c->tx_elem;
	int r;

	while ((r = virtq_pop(q, e)) > 0) {
		if (e->n_in > 0) {
			virtio_device_fail(v, -EBADMSG, "a transmit buffer is device-writable");
			break;
		}
		for (unsigned i = 0; i < e->n_out; i++)
			output(v, e->iov[i].iov_base, e->iov[i].iov_len);
		virtio_stats_add(v, VIRTIO_STAT_WRITE, e->out_len);
		virtq_push(q, e, 0);
	}
	if (r < 0)
		virtio_device_fail(v, r, "malformed descriptor chain on the transmit queue");
	virtio_queue_signal(v, q);
	update_watches(v);
}

/* Reads host input into e's buffers; bytes read, 0 when none waits (EAGAIN) or at EOF. */
static size_t read_input(struct virtio_device *v, struct console *c, const struct virtq_elem *e)
{
	size_t total = 0;

	for (unsigned i = 0; i < e->n_in; i++) {
		const struct iovec *iov = &e->iov[e->n_out + i];
		ssize_t n = chardev_read(c->chr, iov->iov_base, iov->iov_len);
		if (n == 0)
			c->input_eof = true;
		if (n < 0 && n != -EAGAIN) {
			virtio_stats_error(v);
			c->input_eof = true; /* EIO and friends do not heal: stop polling a dead fd */
		}
		if (n <= 0)
			break;
		total += (size_t)n;
		if ((size_t)n < iov->iov_len)
			break;
	}
	return total;
}

/* Moves waiting host input into the driver's receive buffers while both last. */
static void fill_rx(struct virtio_device *v)
{
	struct console *c = v->priv;
	struct virtq *q = &v->queues[VIRTIO_CONSOLE_RX];
	int r;

	if (!virtio_device_running(v) || !q->ready || c->in_fd < 0 || c->input_dead)
		return;
	while (!c->input_eof) {
		if (!c->rx_held) {
			r = virtq_pop(q, &c->rx_elem);
			if (r < 0) {
				virtio_device_fail(v, r, "malformed descriptor chain on the receive queue");
				break;
			}
			if (r == 0) {
				c->rx_starved = true;
				break;
			}
			if (c->rx_elem.n_out > 0) {
				virtio_device_fail(v, -EBADMSG, "a receive buffer is device-readable");
				break;
			}
			c->rx_held = true;
		}
		size_t n = read_input(v, c, &c->rx_elem);
		if (n == 0)
			break; /* nothing waits: keep the buffer for the next input */
		virtio_stats_add(v, VIRTIO_STAT_READ, n);
		virtq_push(q, &c->rx_elem, (uint32_t)n);
		c->rx_held = false;
	}
	virtio_queue_signal(v, q);
}

static void rx_notify(struct virtio_device *v, struct virtq *q)
{
	struct console *c = v->priv;

	c->rx_starved = false;
	fill_rx(v);
	update_watches(v);
}

static void console_queue_notify(struct virtio_device *v, struct virtq *q)
{
	if (q->index == VIRTIO_CONSOLE_TX)
		tx_notify(v, q);
	else
		rx_notify(v, q);
}

static void on_backend(struct virtio_device *v, int fd, uint32_t revents)
{
	struct console *c = v->priv;

	if (fd == c->out_fd && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		flush_backlog(v);
	if (fd == c->in_fd && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		fill_rx(v);
	update_watches(v);
}

static int console_activate(struct virtio_device *v)
{
	struct console *c = v->priv;

	c->rx_starved = false;
	fill_rx(v);
	update_watches(v);
	return 0;
}

static void console_reset(struct virtio_device *v)
{
	struct console *c = v->priv;

	/* The buffers belonged to the driver's old rings; host output already taken stays queued. */
	c->rx_held = false;
	c->rx_starved = false;
	v->status = 0; /* update_watches() must see the device stopped */
	update_watches(v);
}

static void console_free(struct virtio_device *v)
{
	struct console *c = v->priv;

	if (!c)
		return;
	virtq_elem_done(&c->tx_elem);
	virtq_elem_done(&c->rx_elem);
	free(c->backlog);
	free(c);
}

static const struct virtio_device_ops console_ops = {
	.name = "console",
	.device_id = VIRTIO_ID_CONSOLE,
	.n_queues = 2,
	.queue_max_size = VIRTIO_CONSOLE_QUEUE_SIZE,
	.config_size = VIRTIO_CONSOLE_CONFIG_SIZE,
	.activate = console_activate,
	.reset = console_reset,
	.queue_notify = console_queue_notify,
	.free = console_free,
};

int virtio_console_new(struct chardev *chr, const struct guest_memory *mem, struct virtio_device **ret)
{
	struct console *c;
	int r;

	if (!chr || !ret)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->chr = chr;
	c->in_fd = chardev_input_fd(chr);
	c->out_fd = chardev_output_fd(chr);
	r = virtq_elem_init(&c->tx_elem, VIRTIO_CONSOLE_QUEUE_SIZE);
	if (r >= 0)
		r = virtq_elem_init(&c->rx_elem, VIRTIO_CONSOLE_QUEUE_SIZE);
	if (r >= 0)
		r = virtio_device_new(&console_ops, c, mem, ret);
	if (r < 0) {
		virtq_elem_done(&c->tx_elem);
		virtq_elem_done(&c->rx_elem);
		free(c);
	}
	return r;
}
