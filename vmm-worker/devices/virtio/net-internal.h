/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by net.c (device, config, control queue) and net-pair.c (the per-pair data path).
 *
 * Locking: v->lock (the core's) covers status, features and the control queue; each pair's lock
 * covers its two queues and its tap queue. Order: v->lock, then a pair's lock. The pair threads
 * take only their own lock; malformed input found there is reported under v->lock afterwards, and
 * dropped if the device was reset in between (net->generation changed). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/virtio/net.h"
#include "devices/virtio/queue.h"
#include "devices/virtio/virtio.h"

/* Largest frame a tap hands over (64 KiB GSO frame, Ethernet and VLAN headers) plus the header. */
#define NET_HDR_LEN 12u
#define NET_FRAME_MAX (NET_HDR_LEN + 65535u + 14u + 4u)
/* Frames or requests one pair handles per wake-up before it looks at its other events. */
#define NET_BUDGET 256u
/* Receive buffers gathered for one frame with mergeable buffers. */
#define NET_RX_CHAINS_MAX 256u
#define NET_RX_IOV_MAX 1023u /* plus one for the bounce buffer: IOV_MAX */

struct net;

struct net_rx_chain {
	uint16_t head;
	uint32_t len;
};

struct net_pair {
	struct net *net;
	unsigned index;
	struct virtq *rx, *tx;
	int tap_fd;

	pthread_mutex_t lock;
	bool lock_initialized;
	pthread_t thread;
	bool thread_started;
	int epoll_fd, stop_fd;

	/* Under lock */
	bool running;	     /* device started and the pair among the active ones */
	uint32_t generation; /* net->generation when it was started */
	bool mergeable;	     /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	bool tap_attached;   /* the tap queue takes traffic (multi-queue taps detach idle ones); v->lock */
	bool rx_stalled;     /* the driver gave no receive buffers: tap not polled for input */
	bool tx_blocked;     /* the tap refused a frame for now: polled for output */
	unsigned tap_events; /* what the epoll set has for the tap fd now (0: not in it) */
	bool tap_broken;     /* the tap queue reported an error: left out of the epoll set */
	struct virtq_elem elem;
	struct iovec *rx_iov;
	struct net_rx_chain *rx_chains;
	uint8_t *bounce;     /* a frame read with too few buffers at hand */
	size_t pending_len;  /* bytes of it waiting for buffers, 0 when none */
};

struct net {
	struct virtio_device_ops ops; /* per device: the queue count follows the tap */
	struct virtio_device *v;
	struct tap *tap;
	uint8_t mac[MAC_LEN];
	unsigned n_pairs;
	unsigned active_pairs; /* under v->lock */
	uint32_t generation;   /* bumped at each start and reset, under v->lock */
	unsigned tap_offloads; /* TUN_F_* the tap accepts */
	struct virtq_elem ctrl_elem;
	struct net_pair pairs[];
};

/* net-pair.c */
int net_pair_init(struct net *net, unsigned i);
void net_pair_done(struct net_pair *p);
/* Starts or stops the pair's processing (v->lock held, takes the pair's lock). */
void net_pair_set_running(struct net_pair *p, bool running);
/* Handles queue q of the pair on the calling thread (v->lock held): -errno and *why when the
 * driver's input is malformed. */
int net_pair_process(struct net_pair *p, struct virtq *q, const char **why);
/* Marks the device broken and stops every pair (v->lock held). */
void net_fail(struct net *net, int r, const char *why);
