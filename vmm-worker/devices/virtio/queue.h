/* SPDX-License-Identifier: Apache-2.0 */
/* Split virtqueues (virtio 1.2, 2.7), the device side. A device's queue handler pops descriptor
 * chains as iovecs, fills or consumes them, pushes them back to the used ring and asks whether the
 * driver wants an interrupt:
 *
 *	struct virtq_elem e;                     // virtq_elem_init(&e, q->max_size) once
 *	while ((r = virtq_pop(q, &e)) > 0) {
 *		... read e.iov[0 .. e.n_out), write e.iov[e.n_out .. e.n_out + e.n_in) ...
 *		virtq_push(q, &e, bytes_written);
 *	}
 *	if (r < 0) virtio_device_fail(v, r);     // malformed: the device needs a reset
 *	virtio_queue_signal(v, q);               // interrupt unless the driver suppressed it
 *
 * Every address the driver gives (rings, descriptors, indirect tables, buffers) is checked whole
 * through guest_memory_ptr(), so iovecs always lie inside guest RAM. Malformed input is reported
 * as a negative errno, never followed: loops and chains longer than the queue (-ELOOP), indirect
 * tables inside indirect tables, INDIRECT with NEXT, device-readable after device-writable
 * descriptors, zero-length buffers, out-of-range indices (-EBADMSG), addresses outside guest RAM
 * (-EFAULT). The guest writes the rings concurrently: every field is read once into a local copy,
 * with acquire/release ordering on the indices. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_memory;

#define VIRTQ_MAX_SIZE 32768
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_NO_VECTOR 0xffff

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq {
	unsigned index;
	uint16_t max_size;
	/* Programmed by the driver through the transport, before the queue is enabled. */
	uint16_t size;
	uint16_t msix_vector; /* PCI transport only */
	uint64_t desc_addr, avail_addr, used_addr;
	bool ready;
	/* Set by virtq_start() */
	const struct guest_memory *mem;
	bool event_idx;
	struct virtq_desc *desc;
	uint16_t *avail; /* flags, idx, ring[size], used_event */
	uint16_t *used;	 /* flags, idx, then struct virtq_used_elem ring[size], avail_event */
	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_used_valid;
	/* The driver's notifications: an eventfd the transport feeds (ioeventfd, or by hand). */
	int kick_fd;
};

struct virtq_elem {
	uint16_t head;
	unsigned n_out; /* iov[0, n_out): device-readable */
	unsigned n_in;	/* iov[n_out, n_out + n_in): device-writable */
	uint64_t out_len, in_len;
	unsigned cap;
	struct iovec *iov;
};

int virtq_elem_init(struct virtq_elem *e, unsigned cap);
void virtq_elem_done(struct virtq_elem *e);

/* Whether size is a queue size a driver may program for a queue of max_size. */
bool virtq_size_valid(uint16_t size, uint16_t max_size);
/* Resolves the rings the driver programmed; -EINVAL for a bad size or misaligned ring, -EFAULT for
 * a ring outside guest RAM. */
int virtq_start(struct virtq *q, const struct guest_memory *mem, bool event_idx);
/* Back to the state after reset: not ready, nothing programmed (kick_fd and max_size kept). */
void virtq_reset(struct virtq *q);
/* 1 with e filled, 0 when the driver has made nothing available, or a negative errno (above). */
int virtq_pop(struct virtq *q, struct virtq_elem *e);
/* Gives back the last n chains popped and not pushed: the next virtq_pop() returns them again (a
 * device that took more buffers than one packet needed). */
void virtq_unpop(struct virtq *q, uint16_t n);
/* Returns e's chain to the driver with written bytes stored in its device-writable part. */
void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t written);
/* After pushes: whether the driver asked to be interrupted (VIRTIO_F_EVENT_IDX's used_event, or
 * the NO_INTERRUPT flag). */
bool virtq_should_signal(struct virtq *q);
/* Bytes of guest memory each ring of a queue of size takes. */
uint64_t virtq_desc_size(uint16_t size);
uint64_t virtq_avail_size(uint16_t size);
uint64_t virtq_used_size(uint16_t size);
