/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk (virtio 1.2, 5.2) on a raw disk (backends/disk.h): read, write, flush, get-id,
 * discard and write-zeroes, read-only disks, several queues. Each queue has its own I/O thread and
 * its own disk_queue: the thread pops requests, submits them asynchronously (up to the queue size
 * in flight) and completes them when the disk queue's eventfd says they are done. */
#pragma once

#include "backends/disk-queue.h"

struct disk;
struct guest_memory;
struct virtio_device;

#define VIRTIO_BLK_QUEUE_SIZE_DEFAULT 128u
#define VIRTIO_BLK_QUEUE_SIZE_MAX 4096u
/* Data segments per request (config seg_max): the queue size less header and status, at most. */
#define VIRTIO_BLK_SEG_MAX 254u
/* Largest single segment we advertise (config size_max). */
#define VIRTIO_BLK_SIZE_MAX (1u << 20)
/* Largest discard or write-zeroes, in sectors: 2 GiB, so one cannot hold a queue for long. */
#define VIRTIO_BLK_MAX_DISCARD_SECTORS (1u << 22)
#define VIRTIO_BLK_CONFIG_SIZE 60u

struct virtio_blk_params {
	unsigned num_queues; /* 1 .. VIRTIO_MAX_QUEUES; more than one offers VIRTIO_BLK_F_MQ */
	unsigned queue_size; /* a power of two, 2 .. VIRTIO_BLK_QUEUE_SIZE_MAX */
	enum disk_engine engine;
};

/* Creates the device on disk, which it owns from then on (also on failure). -EINVAL for bad
 * params, or the disk engine's error. */
int virtio_blk_new(struct disk *disk, const struct virtio_blk_params *params, const struct guest_memory *mem,
		   struct virtio_device **ret);
/* The engine the device's queues use (tests, logs). */
enum disk_engine virtio_blk_engine(const struct virtio_device *v);
