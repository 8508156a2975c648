/* SPDX-License-Identifier: Apache-2.0 */
/* Asynchronous disk I/O for one I/O thread: submit requests, kick, poll the completion eventfd,
 * reap. Two engines behind one API: io_uring (probed at runtime) and a small thread pool for
 * kernels or sandboxes without it. A virtio-blk queue maps one-to-one onto a disk_queue.
 *
 *   disk_queue_submit(q, &req) ... disk_queue_kick(q);
 *   poll(disk_queue_eventfd(q)) -> disk_queue_reap(q, done, userdata);
 *
 * A queue is used by one thread at a time; requests stay owned by the caller and must stay
 * valid (with their iovecs and buffers) until their completion callback ran. */
#pragma once

#include <errno.h>
#include <stdint.h>

#include "backends/disk.h"

struct iovec;
struct disk_queue;

enum disk_engine {
	DISK_ENGINE_AUTO, /* io_uring when the kernel has every operation we need, else threads */
	DISK_ENGINE_IO_URING,
	DISK_ENGINE_THREADS,
	_DISK_ENGINE_MAX,
	_DISK_ENGINE_INVALID = -EINVAL,
};

const char *disk_engine_to_string(enum disk_engine e);
enum disk_engine disk_engine_from_string(const char *s);

/* Upper bound for a queue's depth, as virtio's largest queue. */
#define DISK_QUEUE_DEPTH_MAX 32768u
/* Worker threads of the thread-pool engine (a queue never runs more than its depth). */
#define DISK_QUEUE_THREADS 4u

struct disk_request {
	enum disk_op op;
	uint64_t offset;	 /* bytes */
	uint64_t len;		 /* DISCARD, WRITE_ZEROES: bytes; READ, WRITE: set by submit from iov */
	const struct iovec *iov; /* READ, WRITE */
	unsigned iovcnt;
	void *opaque; /* the caller's */
	int result;   /* at completion: 0, or -errno as the synchronous calls in disk.h */

	struct {
		/* engine-private */
		struct disk_request *next;
		void *bounce; /* direct I/O with misaligned buffers */
		struct iovec *bounce_iov;
		bool inline_zeroes; /* io_uring: write zeroes by hand at reap time */
	} priv;
};

typedef void (*disk_complete_fn)(struct disk_request *req, void *userdata);

/* depth: how many requests may be in flight at once (1..DISK_QUEUE_DEPTH_MAX). Asking for
 * DISK_ENGINE_IO_URING where the kernel (or a seccomp filter) refuses it gives -EOPNOTSUPP. */
int disk_queue_new(struct disk *d, unsigned depth, enum disk_engine engine, struct disk_queue **ret);
/* Waits for requests in flight; their callbacks are not called. */
struct disk_queue *disk_queue_free(struct disk_queue *q);
static inline void disk_queue_freep(struct disk_queue **p)
{
	if (*p)
		*p = disk_queue_free(*p);
}

/* The engine actually chosen (never AUTO). */
enum disk_engine disk_queue_engine(const struct disk_queue *q);
/* Readable when completions wait for disk_queue_reap(); for the I/O thread's poll loop. */
int disk_queue_eventfd(const struct disk_queue *q);
unsigned disk_queue_in_flight(const struct disk_queue *q);

/* Queues req; it reaches the kernel or the workers at the next disk_queue_kick(). Checked here,
 * synchronously, and then not queued: -EROFS, -ERANGE, -EINVAL (see disk.h), -EAGAIN when depth
 * requests are already in flight, -ENOMEM (bounce buffer). */
int disk_queue_submit(struct disk_queue *q, struct disk_request *req);
int disk_queue_kick(struct disk_queue *q);
/* Calls done for every finished request, in completion order; returns how many (0 if none). */
int disk_queue_reap(struct disk_queue *q, disk_complete_fn done, void *userdata);
