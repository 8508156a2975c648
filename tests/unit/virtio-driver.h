/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal virtio driver for device tests: it talks to the transport-independent core (no PCI),
 * lays out every queue in guest RAM, posts descriptor chains and reads the used rings, as the
 * guest's driver would. Buffers come from a bump allocator in guest RAM. Header-only, for the
 * test-virtio-*.c files. */
#pragma once

#include <glib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/virtio/virtio.h"
#include "memory/guest-memory.h"

#define VDRV_RAM (32 * MiB)
#define VDRV_QSIZE 64
#define VDRV_RINGS 0x100000ULL /* queue q: desc, avail +0x1000, used +0x2000, at + q * 0x4000 */
#define VDRV_BUFS 0x400000ULL

struct vdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

struct vdrv {
	struct guest_memory *mem;
	struct virtio_device *v;
	uint16_t next_desc[VIRTIO_MAX_QUEUES];
	uint16_t avail_idx[VIRTIO_MAX_QUEUES];
	uint16_t used_seen[VIRTIO_MAX_QUEUES];
	uint64_t next_buf;
};

static inline uint64_t vdrv_desc(unsigned q)
{
	return VDRV_RINGS + q * 0x4000ULL;
}

/* Feature negotiation (VERSION_1 only), every queue at VDRV_QSIZE, DRIVER_OK. */
static inline void vdrv_start(struct vdrv *d)
{
	struct virtio_device *v = d->v;
	static const uint8_t zeroes[0x4000];

	/* Fresh rings, as a driver allocates after a reset: no stale indices. */
	for (unsigned q = 0; q < v->n_queues; q++)
		g_assert_cmpint(guest_memory_write(d->mem, vdrv_desc(q), zeroes, sizeof(zeroes)), ==, 0);
	pthread_mutex_lock(&v->lock);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	virtio_set_driver_features(v, 1, 1u << (VIRTIO_F_VERSION_1 - 32));
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < v->n_queues; q++) {
		v->queues[q].size = VDRV_QSIZE;
		v->queues[q].desc_addr = vdrv_desc(q);
		v->queues[q].avail_addr = vdrv_desc(q) + 0x1000;
		v->queues[q].used_addr = vdrv_desc(q) + 0x2000;
		virtio_queue_enable(v, q);
	}
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
				     VIRTIO_STATUS_DRIVER_OK);
	pthread_mutex_unlock(&v->lock);
	g_assert_cmphex(v->status & VIRTIO_STATUS_NEEDS_RESET, ==, 0);
	memset(d->next_desc, 0, sizeof(d->next_desc));
	memset(d->avail_idx, 0, sizeof(d->avail_idx));
	memset(d->used_seen, 0, sizeof(d->used_seen));
	d->next_buf = VDRV_BUFS;
}

static inline void vdrv_init(struct vdrv *d)
{
	memset(d, 0, sizeof(*d));
	g_assert_cmpint(guest_memory_new(VDRV_RAM, &d->mem), ==, 0);
	d->next_buf = VDRV_BUFS;
}

static inline void vdrv_done(struct vdrv *d)
{
	d->v = virtio_device_free(d->v);
	d->mem = guest_memory_free(d->mem);
}

/* len bytes of guest RAM for a buffer, filled from data when given. */
static inline uint64_t vdrv_alloc(struct vdrv *d, const void *data, uint32_t len)
{
	uint64_t gpa = d->next_buf;

	d->next_buf += (len + 63) & ~63u;
	g_assert_cmpuint(d->next_buf, <=, VDRV_RAM);
	if (data)
		g_assert_cmpint(guest_memory_write(d->mem, gpa, data, len), ==, 0);
	return gpa;
}

/* Posts a chain of n buffers on queue q and kicks nobody: call virtio_queue_process() (or let the
 * I/O thread find it). Returns the head. */
static inline uint16_t vdrv_post(struct vdrv *d, unsigned q, const struct vdrv_buf *b, unsigned n)
{
	uint16_t head = d->next_desc[q];

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % VDRV_QSIZE);
		struct virtq_desc desc = {
			.addr = b[i].gpa,
			.len = b[i].len,
			.flags = (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)((idx + 1) % VDRV_QSIZE),
		};
		g_assert_cmpint(guest_memory_write(d->mem, vdrv_desc(q) + idx * sizeof(desc), &desc, sizeof(desc)), ==, 0);
	}
	d->next_desc[q] = (uint16_t)((head + n) % VDRV_QSIZE);
	uint16_t slot = d->avail_idx[q] % VDRV_QSIZE;
	g_assert_cmpint(guest_memory_write(d->mem, vdrv_desc(q) + 0x1000 + 4 + 2 * slot, &head, 2), ==, 0);
	d->avail_idx[q]++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	g_assert_cmpint(guest_memory_write(d->mem, vdrv_desc(q) + 0x1000 + 2, &d->avail_idx[q], 2), ==, 0);
	return head;
}

/* The next used entry of q: true with its id and len, false when there is none yet. */
static inline bool vdrv_used(struct vdrv *d, unsigned q, uint16_t *ret_id, uint32_t *ret_len)
{
	uint16_t idx;
	struct virtq_used_elem u;

	g_assert_cmpint(guest_memory_read(d->mem, vdrv_desc(q) + 0x2000 + 2, &idx, 2), ==, 0);
	if (idx == d->used_seen[q])
		return false;
	uint64_t at = vdrv_desc(q) + 0x2000 + 4 + (d->used_seen[q] % VDRV_QSIZE) * sizeof(u);
	g_assert_cmpint(guest_memory_read(d->mem, at, &u, sizeof(u)), ==, 0);
	d->used_seen[q]++;
	if (ret_id)
		*ret_id = (uint16_t)u.id;
	if (ret_len)
		*ret_len = u.len;
	return true;
}

/* Waits up to 5 s for a used entry the I/O thread produces. */
static inline bool vdrv_wait_used(struct vdrv *d, unsigned q, uint16_t *ret_id, uint32_t *ret_len)
{
	for (int i = 0; i < 500; i++) {
		if (vdrv_used(d, q, ret_id, ret_len))
			return true;
		g_usleep(10000);
	}
	return false;
}

static inline bool vdrv_needs_reset(struct vdrv *d)
{
	pthread_mutex_lock(&d->v->lock);
	bool r = d->v->status & VIRTIO_STATUS_NEEDS_RESET;
	pthread_mutex_unlock(&d->v->lock);
	return r;
}

static inline struct virtio_stats vdrv_stats(struct vdrv *d)
{
	struct virtio_stats st;
	virtio_device_get_stats(d->v, &st);
	return st;
}
