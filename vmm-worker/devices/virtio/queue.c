/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/queue.h"
#include "memory/guest-memory.h"

/* Offsets in uint16_t units inside the avail ring, and in bytes inside the used ring. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2
#define USED_FLAGS 0
#define USED_IDX 1
#define USED_RING_BYTES 4

int virtq_elem_init(struct virtq_elem *e, unsigned cap)
{
	memset(e, 0, sizeof(*e));
	e->iov = calloc(cap, sizeof(*e->iov));
	if (!e->iov)
		return -ENOMEM;
	e->cap = cap;
	return 0;
}

void virtq_elem_done(struct virtq_elem *e)
{
	free(e->iov);
	memset(e, 0, sizeof(*e));
}

uint64_t virtq_desc_size(uint16_t size)
{
	return 16ULL * size;
}

uint64_t virtq_avail_size(uint16_t size)
{
	return 6ULL + 2ULL * size;
}

uint64_t virtq_used_size(uint16_t size)
{
	return 6ULL + 8ULL * size;
}

bool virtq_size_valid(uint16_t size, uint16_t max_size)
{
	return size != 0 && size <= max_size && size <= VIRTQ_MAX_SIZE && (size & (size - 1)) == 0;
}

void virtq_reset(struct virtq *q)
{
	int kick_fd = q->kick_fd;
	unsigned index = q->index;
	uint16_t max_size = q->max_size;

	memset(q, 0, sizeof(*q));
	q->kick_fd = kick_fd;
	q->index = index;
	q->max_size = max_size;
	q->size = max_size;
	q->msix_vector = VIRTQ_NO_VECTOR;
}

int virtq_start(struct virtq *q, const struct guest_memory *mem, bool event_idx)
{
	if (!virtq_size_valid(q->size, q->max_size))
		return -EINVAL;
	/* Alignments of 2.7: descriptor table 16, driver area 2, device area 4. */
	if (q->desc_addr % 16 || q->avail_addr % 2 || q->used_addr % 4)
		return -EINVAL;
	q->desc = guest_memory_ptr(mem, q->desc_addr, virtq_desc_size(q->size));
	q->avail = guest_memory_ptr(mem, q->avail_addr, virtq_avail_size(q->size));
	q->used = guest_memory_ptr(mem, q->used_addr, virtq_used_size(q->size));
	if (!q->desc || !q->avail || !q->used) {
		q->desc = NULL;
		q->avail = q->used = NULL;
		return -EFAULT;
	}
	q->mem = mem;
	q->event_idx = event_idx;
	q->last_avail_idx = 0;
	q->used_idx = 0;
	/* Nothing used yet counts as signalled: no interrupt until the first used buffer. */
	q->signalled_used = 0;
	q->signalled_used_valid = true;
	return 0;
}

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* One copy of a descriptor: the guest may rewrite it while we look at it, so every check below
 * reads the copy. memcpy because an indirect table need not be aligned. */
static void read_desc(const void *table, uint32_t i, struct virtq_desc *ret)
{
	memcpy(ret, (const uint8_t *)table + (size_t)i * sizeof(*ret), sizeof(*ret));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static int add_buffer(struct virtq *q, struct virtq_elem *e, const struct virtq_desc *d)
{
	void *p;

	if (d->len == 0)
		return -EBADMSG;
	p = guest_memory_ptr(q->mem, d->addr, d->len);
	if (!p)
		return -EFAULT;
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		e->in_len += d->len;
		e->n_in++;
	} else {
		/* Device-readable buffers come first (2.7.4.2). */
		if (e->n_in > 0)
			return -EBADMSG;
		e->out_len += d->len;
		e->n_out++;
	}
	if (e->out_len + e->in_len > UINT32_MAX)
		return -EBADMSG; /* used.len could not say how much was written */
	e->iov[e->n_out + e->n_in - 1] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	return 0;
}

static int walk_chain(struct virtq *q, uint16_t head, struct virtq_elem *e)
{
	const void *table = q->desc;
	uint32_t table_size = q->size, budget = q->size, i = head;
	bool indirect = false;
	struct virtq_desc d;
	int r;

	e->head = head;
	e->n_out = e->n_in = 0;
	e->out_len = e->in_len = 0;
	if (head >= q->size)
		return -EBADMSG;
	for (;;) {
		/* Every descriptor visited costs one from the budget: a loop runs out of it. */
		if (budget == 0)
			return -ELOOP;
		budget--;
		read_desc(table, i, &d);

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (indirect || (d.flags & VIRTQ_DESC_F_NEXT) || (d.flags & VIRTQ_DESC_F_WRITE))
				return -EBADMSG;
			if (d.len == 0 || d.len % sizeof(struct virtq_desc) != 0 ||
			    d.len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE)
				return -EBADMSG;
			table = guest_memory_ptr(q->mem, d.addr, d.len);
			if (!table)
				return -EFAULT;
			table_size = d.len / sizeof(struct virtq_desc);
			budget = table_size;
			indirect = true;
			i = 0;
			continue;
		}

		if (e->n_out + e->n_in >= e->cap)
			return -ELOOP;
		r = add_buffer(q, e, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= table_size)
			return -EBADMSG;
	}
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
	uint16_t avail_idx, pending, head;

	if (!q->avail)
		return 0;
	avail_idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	pending = (uint16_t)(avail_idx - q->last_avail_idx);
	if (pending == 0 && q->event_idx) {
		/* Ask for a kick at the next buffer (avail_event), then look once more: the driver may
		 * have added one before it could see the new avail_event. */
		store16(&q->used[USED_RING_BYTES / 2 + 4 * q->size], q->last_avail_idx);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
		pending = (uint16_t)(avail_idx - q->last_avail_idx);
	}
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return -EBADMSG; /* the driver cannot have more buffers out than the ring holds */

	head = load16(&q->avail[AVAIL_RING + q->last_avail_idx % q->size]);
	int r = walk_chain(q, head, e);
	if (r < 0)
		return r;
	q->last_avail_idx++;
	return 1;
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail_idx -= n;
}

void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t written)
{
	struct virtq_used_elem *ring = (struct virtq_used_elem *)((uint8_t *)q->used + USED_RING_BYTES);
	volatile struct virtq_used_elem *u = &ring[q->used_idx % q->size];

	if (written > e->in_len)
		written = (uint32_t)e->in_len;
	u->id = e->head;
	u->len = written;
	q->used_idx++;
	/* The element before the index that publishes it. */
	__atomic_store_n(&q->used[USED_IDX], q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_signal(struct virtq *q)
{
	uint16_t old, event;
	bool valid;

	if (!q->avail)
		return false;
	/* Nothing new since the last time: no interrupt, whatever the driver asked. */
	if (q->signalled_used_valid && q->used_idx == q->signalled_used)
		return false;
	/* Our used->idx store before the driver's flags / used_event we read next. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx) {
		q->signalled_used = q->used_idx;
		q->signalled_used_valid = true;
		return !(load16(&q->avail[AVAIL_FLAGS]) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}

	old = q->signalled_used;
	valid = q->signalled_used_valid;
	q->signalled_used = q->used_idx;
	q->signalled_used_valid = true;
	if (!valid)
		return true;
	event = load16(&q->avail[AVAIL_RING + q->size]);
	/* vring_need_event(): did used_idx pass used_event since we last signalled? */
	return (uint16_t)(q->used_idx - event - 1) < (uint16_t)(q->used_idx - old);
}
