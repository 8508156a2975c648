/* SPDX-License-Identifier: Apache-2.0 */
/* The transport-independent core of a virtio device: features, status, queues, the I/O thread. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/virtio/virtio.h"
#include "macro.h"

#define TRANSPORT_FEATURES                                                                              \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_RING_INDIRECT_DESC) |                          \
	 (1ULL << VIRTIO_F_RING_EVENT_IDX))
/* epoll data for the stop eventfd; queue kicks carry their queue index, watched backend fds
 * EPOLL_WATCH plus their slot. */
#define EPOLL_STOP UINT64_MAX
#define EPOLL_WATCH (1ULL << 32)

static const char *const virtio_stat_table[_VIRTIO_STAT_MAX] = {
	[VIRTIO_STAT_READ] = "read",
	[VIRTIO_STAT_WRITE] = "write",
};

const char *virtio_stat_to_string(enum virtio_stat s)
{
	if ((int)s < 0 || s >= _VIRTIO_STAT_MAX)
		return NULL;
	return virtio_stat_table[s];
}

enum virtio_stat virtio_stat_from_string(const char *s)
{
	for (int i = 0; s && i < _VIRTIO_STAT_MAX; i++)
		if (strcmp(virtio_stat_table[i], s) == 0)
			return i;
	return _VIRTIO_STAT_INVALID;
}

static void stat_inc(uint64_t *counter, uint64_t n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

void virtio_stats_add(struct virtio_device *v, enum virtio_stat s, uint64_t bytes)
{
	switch (s) {
	case VIRTIO_STAT_READ:
		stat_inc(&v->stats.read_ops, 1);
		stat_inc(&v->stats.read_bytes, bytes);
		break;
	case VIRTIO_STAT_WRITE:
		stat_inc(&v->stats.write_ops, 1);
		stat_inc(&v->stats.write_bytes, bytes);
		break;
	case _VIRTIO_STAT_MAX:
	case _VIRTIO_STAT_INVALID:
	default:
		break;
	}
}

void virtio_stats_error(struct virtio_device *v)
{
	stat_inc(&v->stats.errors, 1);
}

void virtio_device_get_stats(struct virtio_device *v, struct virtio_stats *ret)
{
	const uint64_t *src = (const uint64_t *)&v->stats;
	uint64_t *dst = (uint64_t *)ret;

	for (size_t i = 0; i < sizeof(*ret) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

bool virtio_feature_negotiated(const struct virtio_device *v, unsigned bit)
{
	return bit < 64 && (v->driver_features & (1ULL << bit));
}

static bool running(const struct virtio_device *v)
{
	return (v->status & VIRTIO_STATUS_DRIVER_OK) && !(v->status & VIRTIO_STATUS_NEEDS_RESET);
}

bool virtio_device_running(const struct virtio_device *v)
{
	return running(v);
}

int virtio_device_watch(struct virtio_device *v, int fd, uint32_t events, virtio_watch_fn handler)
{
	int slot = -1, free_slot = -1;

	if (fd < 0 || (events && !handler))
		return -EINVAL;
	for (int i = 0; i < VIRTIO_MAX_WATCHES; i++) {
		if (v->watches[i].fd == fd)
			slot = i;
		else if (v->watches[i].fd < 0 && free_slot < 0)
			free_slot = i;
	}
	if (slot < 0 && !events)
		return 0;
	if (slot >= 0 && !events) {
		/* The slot is free at once; an event of this batch still queued finds no handler. */
		v->watches[slot].fd = -1;
		v->watches[slot].handler = NULL;
		return epoll_ctl(v->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
	}
	int op = slot >= 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (slot < 0)
		slot = free_slot;
	if (slot < 0)
		return -ENOSPC;
	struct epoll_event ev = { .events = events, .data.u64 = EPOLL_WATCH + (uint64_t)slot };
	if (epoll_ctl(v->epoll_fd, op, fd, &ev) < 0)
		return -errno;
	v->watches[slot].fd = fd;
	v->watches[slot].events = events;
	v->watches[slot].handler = handler;
	return 0;
}

static void run_watch(struct virtio_device *v, unsigned slot, uint32_t revents)
{
	pthread_mutex_lock(&v->lock);
	if (slot < VIRTIO_MAX_WATCHES && v->watches[slot].fd >= 0 && v->watches[slot].handler)
		v->watches[slot].handler(v, v->watches[slot].fd, revents);
	pthread_mutex_unlock(&v->lock);
}

void virtio_queue_process(struct virtio_device *v, unsigned q)
{
	if (q >= v->n_queues)
		return;
	pthread_mutex_lock(&v->lock);
	if (running(v) && v->queues[q].ready) {
		stat_inc(&v->stats.notifications, 1);
		v->ops->queue_notify(v, &v->queues[q]);
	}
	pthread_mutex_unlock(&v->lock);
}

static void *io_thread(void *userdata)
{
	struct virtio_device *v = userdata;
	struct epoll_event ev[VIRTIO_MAX_QUEUES + 1];

	for (;;) {
		int n = epoll_wait(v->epoll_fd, ev, ELEMENTSOF(ev), -1);
		if (n < 0)
			continue; /* EINTR: every signal is blocked here, but be safe */
		for (int i = 0; i < n; i++) {
			uint64_t count;

			if (ev[i].data.u64 == EPOLL_STOP)
				return NULL;
			if (ev[i].data.u64 >= EPOLL_WATCH) {
				run_watch(v, (unsigned)(ev[i].data.u64 - EPOLL_WATCH), ev[i].events);
				continue;
			}
			unsigned q = (unsigned)ev[i].data.u64;
			if (read(v->queues[q].kick_fd, &count, sizeof(count)) != sizeof(count))
				continue;
			virtio_queue_process(v, q);
		}
	}
}

static int start_io_thread(struct virtio_device *v)
{
	sigset_t all, old;
	int r;

	v->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	v->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->epoll_fd < 0 || v->stop_fd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EPOLL_STOP };
	if (epoll_ctl(v->epoll_fd, EPOLL_CTL_ADD, v->stop_fd, &ev) < 0)
		return -errno;
	for (unsigned i = 0; i < v->n_queues; i++) {
		if (v->ops->own_queues & (1ULL << i))
			continue;
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = i };
		if (epoll_ctl(v->epoll_fd, EPOLL_CTL_ADD, v->queues[i].kick_fd, &ev) < 0)
			return -errno;
	}
	/* Signals belong to the main loop and the vCPU threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&v->io_thread, NULL, io_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	char name[16];
	snprintf(name, sizeof(name), "virtio-%s", v->ops->name);
	pthread_setname_np(v->io_thread, name);
	v->io_started = true;
	return 0;
}

int virtio_device_new(const struct virtio_device_ops *ops, void *priv, const struct guest_memory *mem,
		      struct virtio_device **ret)
{
	if (!ops->queue_notify || ops->n_queues == 0 || ops->n_queues > VIRTIO_MAX_QUEUES ||
	    !virtq_size_valid(ops->queue_max_size, VIRTQ_MAX_SIZE))
		return -EINVAL;

	struct virtio_device *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->ops = ops;
	v->mem = mem;
	v->n_queues = ops->n_queues;
	v->epoll_fd = v->stop_fd = -1;
	v->device_features = (ops->features & ~(1ULL << VIRTIO_F_ACCESS_PLATFORM)) | TRANSPORT_FEATURES;
	pthread_mutex_init(&v->lock, NULL);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		v->queues[i].kick_fd = -1;
	for (unsigned i = 0; i < VIRTIO_MAX_WATCHES; i++)
		v->watches[i].fd = -1;
	int r = 0;
	for (unsigned i = 0; i < v->n_queues && r >= 0; i++) {
		v->queues[i].index = i;
		v->queues[i].max_size = ops->queue_max_size;
		virtq_reset(&v->queues[i]);
		v->queues[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->queues[i].kick_fd < 0)
			r = -errno;
	}
	if (r >= 0)
		r = start_io_thread(v);
	if (r < 0) {
		/* priv stays the caller's when creation fails. */
		v->ops = NULL;
		virtio_device_free(v);
		return r;
	}
	v->priv = priv;
	*ret = v;
	return 0;
}

struct virtio_device *virtio_device_free(struct virtio_device *v)
{
	if (!v)
		return NULL;
	if (v->io_started) {
		uint64_t one = 1;
		(void)!write(v->stop_fd, &one, sizeof(one));
		pthread_join(v->io_thread, NULL);
	}
	if (v->ops && v->ops->free)
		v->ops->free(v);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		safe_close(v->queues[i].kick_fd);
	safe_close(v->epoll_fd);
	safe_close(v->stop_fd);
	pthread_mutex_destroy(&v->lock);
	free(v);
	return NULL;
}

void virtio_device_set_transport(struct virtio_device *v, const struct virtio_transport_ops *t, void *opaque)
{
	v->transport = t;
	v->transport_data = opaque;
}

uint32_t virtio_get_device_features(struct virtio_device *v, uint32_t select)
{
	return select < 2 ? (uint32_t)(v->device_features >> (32 * select)) : 0;
}

uint32_t virtio_get_driver_features(struct virtio_device *v, uint32_t select)
{
	return select < 2 ? (uint32_t)(v->driver_features >> (32 * select)) : 0;
}

void virtio_set_driver_features(struct virtio_device *v, uint32_t select, uint32_t value)
{
	/* Features are fixed once FEATURES_OK is set (3.1.1). */
	if (select >= 2 || (v->status & VIRTIO_STATUS_FEATURES_OK)) {
		stat_inc(&v->stats.errors, 1);
		return;
	}
	v->driver_features &= ~(0xffffffffULL << (32 * select));
	v->driver_features |= (uint64_t)value << (32 * select);
}

static void device_reset(struct virtio_device *v)
{
	if (v->ops->reset)
		v->ops->reset(v);
	for (unsigned i = 0; i < v->n_queues; i++)
		virtq_reset(&v->queues[i]);
	v->status = 0;
	v->driver_features = 0;
	v->last_error = NULL;
	stat_inc(&v->stats.resets, 1);
	if (v->transport && v->transport->reset)
		v->transport->reset(v->transport_data);
}

void virtio_device_fail(struct virtio_device *v, int error, const char *why)
{
	stat_inc(&v->stats.errors, 1);
	if (v->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	v->last_error = why;
	/* Before the driver finished setting up, the status alone tells it; after, it gets a config
	 * interrupt too (2.1.2). */
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	if ((v->status & VIRTIO_STATUS_DRIVER_OK) && v->transport) {
		stat_inc(&v->stats.interrupts, 1);
		v->transport->signal_config(v->transport_data);
	}
}

static void driver_ok(struct virtio_device *v)
{
	for (unsigned i = 0; i < v->n_queues; i++)
		if (v->queues[i].ready && !v->queues[i].avail) {
			virtio_device_fail(v, -EINVAL, "DRIVER_OK with a queue that failed to start");
			return;
		}
	if (v->ops->activate) {
		int r = v->ops->activate(v);
		if (r < 0)
			virtio_device_fail(v, r, "the device could not start");
	}
}

void virtio_set_status(struct virtio_device *v, uint8_t status)
{
	uint8_t old = v->status & ~VIRTIO_STATUS_NEEDS_RESET;
	uint8_t added;

	if (status == 0) {
		device_reset(v);
		return;
	}
	/* NEEDS_RESET is ours: drivers write back what they read plus one bit. */
	status &= ~VIRTIO_STATUS_NEEDS_RESET;
	added = status & ~old;
	/* The driver sets bits one step at a time and never clears one (3.1.1). */
	if (old & ~status) {
		stat_inc(&v->stats.errors, 1);
		return;
	}
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		bool ok = (v->driver_features & ~v->device_features) == 0 &&
			  virtio_feature_negotiated(v, VIRTIO_F_VERSION_1) && (old & VIRTIO_STATUS_DRIVER) &&
			  !(old & VIRTIO_STATUS_DRIVER_OK);
		/* Left clear, so the driver reads back that we refused its features. */
		if (!ok) {
			stat_inc(&v->stats.errors, 1);
			status &= ~VIRTIO_STATUS_FEATURES_OK;
			added &= ~(VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
			status &= ~VIRTIO_STATUS_DRIVER_OK;
		}
	}
	if ((added & VIRTIO_STATUS_DRIVER_OK) && !(status & VIRTIO_STATUS_FEATURES_OK)) {
		stat_inc(&v->stats.errors, 1);
		status &= ~VIRTIO_STATUS_DRIVER_OK;
		added &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	v->status = status | (v->status & VIRTIO_STATUS_NEEDS_RESET);
	if ((added & VIRTIO_STATUS_DRIVER_OK) && !(v->status & VIRTIO_STATUS_NEEDS_RESET)) {
		driver_ok(v);
		/* Kicks that came in while we were starting would otherwise wait for the next one. */
		for (unsigned i = 0; i < v->n_queues; i++)
			if (v->queues[i].ready)
				virtio_queue_kick(v, i);
	}
}

bool virtio_queue_configurable(struct virtio_device *v, unsigned q)
{
	return q < v->n_queues && !v->queues[q].ready && !(v->status & VIRTIO_STATUS_DRIVER_OK);
}

void virtio_queue_enable(struct virtio_device *v, unsigned q)
{
	if (!virtio_queue_configurable(v, q)) {
		stat_inc(&v->stats.errors, 1);
		return;
	}
	struct virtq *vq = &v->queues[q];
	int r = virtq_start(vq, v->mem, virtio_feature_negotiated(v, VIRTIO_F_RING_EVENT_IDX));
	if (r < 0) {
		virtio_device_fail(v, r, r == -EFAULT ? "a queue's rings lie outside guest RAM"
						      : "a queue has an invalid size or misaligned rings");
		return;
	}
	vq->ready = true;
}

void virtio_config_read(struct virtio_device *v, uint32_t offset, uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
	if (offset < v->ops->config_size && len <= v->ops->config_size - offset && v->ops->config_read)
		v->ops->config_read(v, offset, data, len);
}

void virtio_config_write(struct virtio_device *v, uint32_t offset, const uint8_t *data, uint32_t len)
{
	if (offset < v->ops->config_size && len <= v->ops->config_size - offset && v->ops->config_write)
		v->ops->config_write(v, offset, data, len);
	else
		stat_inc(&v->stats.errors, 1);
}

void virtio_queue_kick(struct virtio_device *v, unsigned q)
{
	uint64_t one = 1;

	if (q < v->n_queues)
		(void)!write(v->queues[q].kick_fd, &one, sizeof(one));
}

void virtio_queue_signal(struct virtio_device *v, struct virtq *q)
{
	if (!virtq_should_signal(q) || !v->transport)
		return;
	stat_inc(&v->stats.interrupts, 1);
	v->transport->signal_queue(v->transport_data, q);
}

void virtio_config_changed(struct virtio_device *v)
{
	v->config_generation++;
	if (v->transport && (v->status & VIRTIO_STATUS_DRIVER_OK)) {
		stat_inc(&v->stats.interrupts, 1);
		v->transport->signal_config(v->transport_data);
	}
}
