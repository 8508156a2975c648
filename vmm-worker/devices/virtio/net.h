/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net (virtio 1.2, 5.1) on a tap backend: one RX/TX queue pair per tap queue, a control
 * queue (multi-queue, guest offloads), the MAC and link status in config space, checksum and
 * segmentation offloads both ways mapped onto the tap's, mergeable receive buffers. Each queue
 * pair has an I/O thread of its own that polls the tap queue and the pair's two kick eventfds. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/mac.h"

struct guest_memory;
struct tap;
struct virtio_device;

#define VIRTIO_NET_QUEUE_SIZE_DEFAULT 256
/* Queue pairs plus the control queue must fit VIRTIO_MAX_QUEUES (64). */
#define VIRTIO_NET_PAIRS_MAX 31u

struct virtio_net_params {
	uint8_t mac[MAC_LEN]; /* the guest's address, offered with VIRTIO_NET_F_MAC */
	uint16_t queue_size;  /* per queue, a power of two */
	/* Cloud Hypervisor's offload_csum/offload_tso/offload_ufo: what the device may offer. */
	bool offload_csum, offload_tso, offload_ufo;
};

/* Creates the device on tap (one queue pair per tap queue, at most VIRTIO_NET_PAIRS_MAX), which it
 * owns from then on; on failure the caller keeps tap. -EINVAL for a bad queue size or pair count,
 * else the -errno of the tap calls or thread creation. */
int virtio_net_new(const struct virtio_net_params *params, struct tap *tap, const struct guest_memory *mem,
		   struct virtio_device **ret);
/* Queue pairs the driver uses now (1 until it sets more through the control queue). */
unsigned virtio_net_active_pairs(struct virtio_device *v);
