/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by disk.c, disk-queue.c and the two engines; not for devices. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/disk-queue.h"
#include "backends/disk.h"

struct disk {
	int fd;
	char *name;
	uint64_t size;
	bool readonly;
	bool direct;
	bool block_device;
	bool no_zero_range; /* fallocate(ZERO_RANGE) said EOPNOTSUPP once: write zeroes by hand */
	unsigned logical_block_size;
	unsigned physical_block_size;
	unsigned mem_align;
	char serial[DISK_SERIAL_MAX + 1];
};

/* What the engines implement; the queue's common part (checks, bounce buffers, accounting) lives
 * in disk-queue.c. */
struct disk_engine_ops {
	int (*init)(struct disk_queue *q);
	void (*done)(struct disk_queue *q); /* called with nothing in flight */
	int (*submit)(struct disk_queue *q, struct disk_request *req);
	int (*kick)(struct disk_queue *q);
	/* Hands over finished requests, result set, as a list through priv.next in completion
	 * order; with wait, blocks until there is at least one. */
	int (*collect)(struct disk_queue *q, struct disk_request **ret_list, bool wait);
};

struct disk_queue {
	struct disk *disk;
	unsigned depth;
	unsigned in_flight;
	enum disk_engine engine;
	int efd; /* completion eventfd */
	const struct disk_engine_ops *ops;
	void *state; /* the engine's */
};

extern const struct disk_engine_ops disk_engine_uring_ops;
extern const struct disk_engine_ops disk_engine_threads_ops;

/* Checks req against the disk (op, range, read-only, alignment) and sets req->len for reads and
 * writes. Returns whether direct I/O needs a bounce buffer (1) or not (0), or -errno. */
int disk_check_request(struct disk *d, struct disk_request *req);
/* Direct I/O with misaligned buffers: one aligned buffer stands in for req's iovecs. prepare
 * fills it for writes; finish copies it out for successful reads and frees it (no-op without). */
int disk_bounce_prepare(struct disk *d, struct disk_request *req);
void disk_bounce_finish(struct disk_request *req);
/* Runs req to the end on the calling thread; returns its result. */
int disk_execute(struct disk *d, struct disk_request *req);
/* The ZERO_RANGE fallback: writes zero-filled buffers (aligned for direct I/O). */
int disk_write_zeroes_by_writing(struct disk *d, uint64_t offset, uint64_t len);
/* The rest of a transfer that came back short: done bytes are already transferred. */
int disk_transfer_rest(struct disk *d, struct disk_request *req, uint64_t done);
