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

#define RAM (16ULL << 20)
#define WINDOW 0x10000
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq q = { .max_size = MAX_SIZE, .kick_fd = -1 };
	struct virtq_elem e;
	uint8_t hdr[4] = { 0 };

	if (!mem && guest_memory_new(RAM, &mem) < 0)
		return 0;
	memcpy(hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
	data += size < sizeof(hdr) ? size : sizeof(hdr);
	size -= size < sizeof(hdr) ? size : sizeof(hdr);
	memset(mem->regions[0].hva, 0, WINDOW);
	memcpy(mem->regions[0].hva, data, size < WINDOW ? size : WINDOW);

	virtq_reset(&q);
	q.size = (uint16_t)(1u << (hdr[0] % 10)); /* 1 .. 512: sizes above max are refused */
	q.desc_addr = 0;
	q.avail_addr = (uint64_t)(hdr[1] & 0x7f) << 8;
	q.used_addr = 0x8000 + ((uint64_t)(hdr[2] & 0x3f) << 8);
	if (virtq_start(&q, mem, hdr[3] & 1) < 0 || virtq_elem_init(&e, MAX_SIZE) < 0)
		return 0;
	for (unsigned n = 0; n < 2 * MAX_SIZE; n++) {
		int r = virtq_pop(&q, &e);
		if (r <= 0)
			break;
		for (unsigned i = 0; i < e.n_out + e.n_in; i++)
			check_inside(&e.iov[i]);
		for (unsigned i = e.n_out; i < e.n_out + e.n_in; i++)
			memset(e.iov[i].iov_base, 0xa5, e.iov[i].iov_len);
		virtq_push(&q, &e, (uint32_t)e.in_len);
		(void)virtq_should_signal(&q);
	}
	virtq_elem_done(&e);
	return 0;
}
