/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/virtio/rng.h"
#include "devices/virtio/virtio.h"
#include "macro.h"

struct rng {
	int fd;
	struct virtq_elem elem;
};

/* Fills the device-writable part of e from the source; returns the bytes written. */
static ssize_t fill(struct rng *rng, const struct virtq_elem *e)
{
	struct iovec iov[64];
	unsigned n = 0;
	size_t want = 0;

	for (unsigned i = e->n_out; i < e->n_out + e->n_in && n < ELEMENTSOF(iov) && want < VIRTIO_RNG_MAX_REQUEST;
	     i++) {
		iov[n] = e->iov[i];
		if (iov[n].iov_len > VIRTIO_RNG_MAX_REQUEST - want)
			iov[n].iov_len = VIRTIO_RNG_MAX_REQUEST - want;
		want += iov[n].iov_len;
		n++;
	}
	if (n == 0)
		return 0;
	ssize_t got = readv(rng->fd, iov, (int)n);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0; /* nothing now: an empty answer; the driver asks again */
	return got < 0 ? -errno : got;
}

static void rng_queue_notify(struct virtio_device *v, struct virtq *q)
{
	struct rng *rng = v->priv;
	int r;

	while ((r = virtq_pop(q, &rng->elem)) > 0) {
		ssize_t got = fill(rng, &rng->elem);
		if (got < 0) {
			/* The source failed: the request completes empty; counted, the device carries on. */
			virtio_stats_error(v);
			got = 0;
		} else
			virtio_stats_add(v, VIRTIO_STAT_READ, (uint64_t)got);
		virtq_push(q, &rng->elem, (uint32_t)got);
	}
	if (r < 0)
		virtio_device_fail(v, r, "malformed descriptor chain on the request queue");
	virtio_queue_signal(v, q);
}

static void rng_free(struct virtio_device *v)
{
	struct rng *rng = v->priv;

	if (!rng)
		return;
	safe_close(rng->fd);
	virtq_elem_done(&rng->elem);
	free(rng);
}

static const struct virtio_device_ops rng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.n_queues = 1,
	.queue_max_size = VIRTIO_RNG_QUEUE_SIZE,
	.queue_notify = rng_queue_notify,
	.free = rng_free,
};

int virtio_rng_new(const char *src, const struct guest_memory *mem, struct virtio_device **ret)
{
	struct rng *rng = calloc(1, sizeof(*rng));
	int r;

	if (!rng)
		return -ENOMEM;
	rng->fd = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (rng->fd < 0) {
		r = -errno;
		free(rng);
		return r;
	}
	r = virtq_elem_init(&rng->elem, VIRTIO_RNG_QUEUE_SIZE);
	if (r >= 0)
		r = virtio_device_new(&rng_ops, rng, mem, ret);
	if (r < 0) {
		close(rng->fd);
		virtq_elem_done(&rng->elem);
		free(rng);
	}
	return r;
}
