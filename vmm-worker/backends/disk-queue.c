/* SPDX-License-Identifier: Apache-2.0 */
/* The engine-independent half of a disk queue: engine choice, request checks, bounce buffers,
 * the in-flight count and the completion eventfd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backends/disk-internal.h"
#include "log.h"
#include "macro.h"
#include "string-table.h"

static const char *const disk_engine_table[_DISK_ENGINE_MAX] = {
    [DISK_ENGINE_AUTO] = "auto",
    [DISK_ENGINE_IO_URING] = "io_uring",
    [DISK_ENGINE_THREADS] = "threads",
};

DEFINE_STRING_TABLE_LOOKUP(disk_engine, enum disk_engine, _DISK_ENGINE_MAX, _DISK_ENGINE_INVALID)

static int engine_start(struct disk_queue *q, enum disk_engine e)
{
	q->engine = e;
	q->ops = e == DISK_ENGINE_IO_URING ? &disk_engine_uring_ops : &disk_engine_threads_ops;
	int r = q->ops->init(q);
	if (r < 0)
		q->ops = NULL;
	return r;
}

int disk_queue_new(struct disk *d, unsigned depth, enum disk_engine engine, struct disk_queue **ret)
{
	_cleanup_(disk_queue_freep) struct disk_queue *q = NULL;
	int r;

	if (!d || !ret || depth == 0 || depth > DISK_QUEUE_DEPTH_MAX || !disk_engine_to_string(engine))
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->disk = d;
	q->depth = depth;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0)
		return -errno;

	switch (engine) {
	case DISK_ENGINE_AUTO:
		r = engine_start(q, DISK_ENGINE_IO_URING);
		if (r < 0) {
			log_debug_errno(r, "disk %s: io_uring unavailable (%s), using the thread pool",
					disk_name(d), strerror(-r));
			r = engine_start(q, DISK_ENGINE_THREADS);
		}
		break;
	case DISK_ENGINE_IO_URING:
	case DISK_ENGINE_THREADS:
		r = engine_start(q, engine);
		break;
	case _DISK_ENGINE_MAX:
	case _DISK_ENGINE_INVALID:
	default:
		r = -EINVAL;
		break;
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(q);
	return 0;
}

static void finish(struct disk_queue *q, struct disk_request *req)
{
	disk_bounce_finish(req);
	q->in_flight--;
}

struct disk_queue *disk_queue_free(struct disk_queue *q)
{
	if (!q)
		return NULL;
	if (q->ops) {
		/* Requests still in flight write into the caller's memory: wait for every one. */
		(void)q->ops->kick(q);
		while (q->in_flight > 0) {
			struct disk_request *list = NULL;
			if (q->ops->collect(q, &list, true) < 0)
				break;
			while (list) {
				struct disk_request *next = list->priv.next;
				finish(q, list);
				list = next;
			}
		}
		q->ops->done(q);
	}
	safe_close(q->efd);
	free(q);
	return NULL;
}

enum disk_engine disk_queue_engine(const struct disk_queue *q)
{
	return q->engine;
}

int disk_queue_eventfd(const struct disk_queue *q)
{
	return q->efd;
}

unsigned disk_queue_in_flight(const struct disk_queue *q)
{
	return q->in_flight;
}

int disk_queue_submit(struct disk_queue *q, struct disk_request *req)
{
	int r;

	if (!req)
		return -EINVAL;
	if (q->in_flight >= q->depth)
		return -EAGAIN;
	memset(&req->priv, 0, sizeof(req->priv));
	req->result = 0;
	r = disk_check_request(q->disk, req);
	if (r < 0)
		return r;
	if (r > 0) {
		r = disk_bounce_prepare(q->disk, req);
		if (r < 0)
			return r;
	}
	r = q->ops->submit(q, req);
	if (r < 0) {
		req->result = r; /* so the bounce buffer is not copied out */
		disk_bounce_finish(req);
		return r;
	}
	q->in_flight++;
	return 0;
}

int disk_queue_kick(struct disk_queue *q)
{
	return q->ops->kick(q);
}

int disk_queue_reap(struct disk_queue *q, disk_complete_fn done, void *userdata)
{
	struct disk_request *list = NULL;
	uint64_t v;
	int n = 0, r;

	/* Clear the eventfd before collecting: a completion landing in between signals it again. */
	if (read(q->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	r = q->ops->collect(q, &list, false);
	if (r < 0)
		return r;
	while (list) {
		/* The callback may submit again, even reuse req: read next first. */
		struct disk_request *next = list->priv.next;
		finish(q, list);
		if (done)
			done(list, userdata);
		list = next;
		n++;
	}
	return n;
}
