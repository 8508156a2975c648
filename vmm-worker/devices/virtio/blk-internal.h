/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by blk.c (the device: config, features, start and reset) and blk-queue.c (one request
 * queue: its I/O thread, request slots and disk queue); not for other files. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/disk-queue.h"
#include "devices/virtio/blk-request.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/virtio.h"

/* One request in the device's hands, from virtq_pop() to virtq_push(). */
struct blk_slot {
	struct virtq_elem elem;
	struct blk_request req;
	struct disk_request disk;
	bool flush_after; /* the driver did not negotiate FLUSH: a write is durable when it completes */
	uint32_t written; /* bytes written into the chain before the status byte */
	struct blk_slot *next_free;
};

/* A request queue. Its thread owns it; lock serialises the thread with start and reset (which
 * hold the device lock first: lock order v->lock, then a queue's lock). */
struct blk_queue {
	struct blk *blk;
	struct virtq *q;
	pthread_mutex_t lock;
	bool lock_initialized;
	pthread_t thread;
	bool thread_started;
	int epoll_fd, stop_fd;
	struct disk_queue *dq;
	struct blk_slot *slots;
	unsigned n_slots;
	struct blk_slot *free;
	/* Under lock */
	bool running;	     /* between DRIVER_OK and a reset or a failure */
	uint32_t generation; /* blk->generation when it started: a failure reported later must match */
	struct blk_limits limits;
	bool flush; /* VIRTIO_BLK_F_FLUSH negotiated */
};

struct blk {
	struct virtio_device_ops ops; /* per device: queue count and features vary */
	struct virtio_device *v;
	struct disk *disk;
	struct blk_queue queues[VIRTIO_MAX_QUEUES];
	unsigned n_queues;
	unsigned seg_max;
	uint32_t generation; /* under v->lock: bumped by every start and reset */
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
};

/* Slots and disk queue; then, once the device exists (blk->v, bq->q set), the thread. */
int blk_queue_init(struct blk_queue *bq, struct blk *blk, const struct virtio_blk_params *p);
int blk_queue_start_thread(struct blk_queue *bq);
/* Stops the thread (a queue thread may touch the others: stop them all before any is freed). */
void blk_queue_stop_thread(struct blk_queue *bq);
/* Stops the thread, waits for requests in flight, frees what init allocated. */
void blk_queue_done(struct blk_queue *bq);
/* With v->lock held: the driver started the device (limits from its features), or reset it or it
 * failed (requests in flight are waited for and their answers dropped). */
void blk_queue_set_running(struct blk_queue *bq, bool running, const struct blk_limits *lim, bool flush);
/* Runs the queue now on the calling thread (v->lock held), as its thread would; -errno and *why
 * when the driver broke the protocol. */
int blk_queue_process_locked(struct blk_queue *bq, const char **why);
