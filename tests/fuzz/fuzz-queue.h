/* SPDX-License-Identifier: Apache-2.0 */
/* The input layout of the targets that fuzz what a driver puts in a split virtqueue: hdr_len
 * leading bytes (hdr[0..3]: queue size, where the driver and device rings lie, EVENT_IDX, hostile
 * ring placements; the rest the target's own), then the first 64 KiB of a real 16 MiB guest
 * memory: descriptor table at 0, rings and indirect tables wherever the input puts them. Header
 * only: each target is one file, built with and without libFuzzer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/virtio/queue.h"
#include "memory/guest-memory.h"

#define FUZZ_RAM (16ULL << 20)
#define FUZZ_WINDOW 0x10000

/* Fills hdr (zeroes where the input is short) and guest memory from data, and starts q with a
 * maximum size of max_size; false when the input's queue does not start (a valid outcome). */
static inline bool fuzz_queue_start(struct guest_memory **mem, const uint8_t *data, size_t size,
				    uint8_t *hdr, size_t hdr_len, uint16_t max_size, struct virtq *q)
{
	size_t n = size < hdr_len ? size : hdr_len;

	if (!*mem && guest_memory_new(FUZZ_RAM, mem) < 0)
		return false;
	memset(hdr, 0, hdr_len);
	memcpy(hdr, data, n);
	data += n;
	size -= n;
	memset((*mem)->regions[0].hva, 0, FUZZ_WINDOW);
	memcpy((*mem)->regions[0].hva, data, size < FUZZ_WINDOW ? size : FUZZ_WINDOW);

	*q = (struct virtq){.max_size = max_size, .kick_fd = -1};
	virtq_reset(q);
	q->size = (uint16_t)(1u << (hdr[0] % 10)); /* 1 .. 512: sizes above the maximum are refused */
	q->desc_addr = 0;
	q->avail_addr = (uint64_t)(hdr[1] & 0x7f) << 8;
	q->used_addr = 0x8000 + ((uint64_t)(hdr[2] & 0x3f) << 8);
	/* hdr[3] >> 1: a few hostile placements a driver may program (misaligned, at or across the end
	 * of RAM, wrapping past 2^64); every other value keeps the rings in the window. */
	switch (hdr[3] >> 1) {
	case 1:
		q->desc_addr += 8;
		break;
	case 2:
		q->avail_addr += 1;
		break;
	case 3:
		q->used_addr += 2;
		break;
	case 4:
		q->desc_addr = FUZZ_RAM - virtq_desc_size(q->size);
		break;
	case 5:
		q->avail_addr = FUZZ_RAM - virtq_avail_size(q->size) + 2;
		break;
	case 6:
		q->used_addr = UINT64_MAX - 7;
		break;
	default:
		break;
	}
	return virtq_start(q, *mem, hdr[3] & 1) == 0;
}
