/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the split-virtqueue parser: the input becomes the first 64 KiB of a real
 * guest memory (descriptor table, rings, indirect tables, all attacker-chosen) plus the queue's
 * size and flags; the target pops and pushes until the queue is empty or reports malformed input.
 * AddressSanitizer catches any access outside the mapping; the iovecs are checked to lie inside
 * guest RAM and are written to, as a device would. Build: see tests/fuzz/README.md. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/virtio/queue.h"
#include "memory/guest-memory.h"
#include "fuzz-queue.h"

#define MAX_SIZE 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_memory *mem;

static void check_inside(const struct iovec *iov)
{
	const uint8_t *base = mem->regions[0].hva;
	const uint8_t *p = iov->iov_base;

	if (p < base || p + iov->iov_len > base + mem->regions[0].size || iov->iov_len == 0)
		__builtin_trap();
}

/* A chain given back with virtq_unpop() and popped again must come out the same: nothing in
 * guest memory changed in between. */
static void check_same(const struct virtq_elem *a, const struct virtq_elem *b)
{
	if (a->head != b->head || a->n_out != b->n_out || a->n_in != b->n_in || a->out_len != b->out_len ||
	    a->in_len != b->in_len)
		__builtin_trap();
	for (unsigned i = 0; i < a->n_out + a->n_in; i++)
		if (a->iov[i].iov_base != b->iov[i].iov_base || a->iov[i].iov_len != b->iov[i].iov_len)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq q;
	struct virtq_elem e, again;
	uint8_t hdr[7];
	int r;

	if (!fuzz_queue_start(&mem, data, size, hdr, sizeof(hdr), MAX_SIZE, &q))
		return 0;
	/* hdr[4..5]: where the indices stand, as on a queue that has run a while, so that the 16-bit
	 * indices and the ring positions wrap around. */
	q.last_avail_idx = q.used_idx = q.signalled_used = (uint16_t)(hdr[4] | hdr[5] << 8);
	if (virtq_elem_init(&e, MAX_SIZE) < 0)
		return 0;
	if (virtq_elem_init(&again, MAX_SIZE) < 0) {
		virtq_elem_done(&e);
		return 0;
	}
	/* Nothing used yet: no interrupt, whatever the driver's flags or used_event say. */
	if (virtq_should_signal(&q))
		__builtin_trap();
	for (unsigned n = 0; n < 2 * MAX_SIZE; n++) {
		r = virtq_pop(&q, &e);
		if (r <= 0)
			break;
		/* hdr[6]: which pops a device gives back and takes again (bit n % 8), as virtio-net does
		 * with buffers one packet did not need. */
		if (hdr[6] & (1u << (n % 8))) {
			virtq_unpop(&q, 1);
			if (virtq_pop(&q, &again) != 1)
				__builtin_trap();
			check_same(&e, &again);
		}
		for (unsigned i = 0; i < e.n_out + e.n_in; i++)
			check_inside(&e.iov[i]);
		for (unsigned i = e.n_out; i < e.n_out + e.n_in; i++)
			memset(e.iov[i].iov_base, 0xa5, e.iov[i].iov_len);
		virtq_push(&q, &e, (uint32_t)e.in_len);
		(void)virtq_should_signal(&q);
	}
	virtq_elem_done(&again);
	virtq_elem_done(&e);
	return 0;
}
