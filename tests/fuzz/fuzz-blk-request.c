/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the virtio-blk request parser: descriptor chains (from the split-virtqueue
 * parser, on a real guest memory whose first 64 KiB the input supplies) go through
 * blk_request_parse() and blk_request_prepare() with device limits the input chooses. Every request
 * the device would send to the disk must lie inside the disk, every iovec and the status byte
 * inside guest RAM; GET_ID writes only into the chain's writable part. Build: tests/fuzz/README.md. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backends/disk-queue.h"
#include "devices/virtio/blk-request.h"
#include "devices/virtio/queue.h"
#include "memory/guest-memory.h"
#include "fuzz-queue.h"

#define MAX_SIZE 256
#define SEG_CAP 32 /* as a device with seg_max 30 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_memory *mem;

static void check_inside(const void *p, uint64_t len)
{
	const uint8_t *base = mem->regions[0].hva;

	if ((const uint8_t *)p < base || (const uint8_t *)p + len > base + mem->regions[0].size)
		__builtin_trap();
}

static void check(const struct blk_request *r, const struct blk_limits *lim)
{
	struct disk_request d;
	uint64_t total = 0;

	check_inside(r->status, 1);
	for (unsigned i = 0; i < r->n_data; i++) {
		check_inside(r->data[i].iov_base, r->data[i].iov_len);
		total += r->data[i].iov_len;
	}
	if (total != r->data_len)
		__builtin_trap();
	if (r->type == VIRTIO_BLK_T_GET_ID) {
		/* Not a disk request: answered by the device itself. */
		if (blk_request_prepare(r, lim, &d) != VIRTIO_BLK_S_UNSUPP ||
		    blk_request_get_id(r, "fuzz-serial") > VIRTIO_BLK_ID_BYTES)
			__builtin_trap();
		return;
	}
	if (blk_request_prepare(r, lim, &d) != VIRTIO_BLK_S_OK)
		return;
	switch (d.op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		if (d.iov != r->data || d.iovcnt != r->n_data || d.iovcnt == 0)
			__builtin_trap();
		d.len = total;
		/* fall through */
	case DISK_OP_DISCARD:
	case DISK_OP_WRITE_ZEROES:
		if (d.len > lim->capacity * VIRTIO_BLK_SECTOR_SIZE ||
		    d.offset > lim->capacity * VIRTIO_BLK_SECTOR_SIZE - d.len ||
		    d.len % VIRTIO_BLK_SECTOR_SIZE)
			__builtin_trap();
		if (lim->readonly && d.op != DISK_OP_READ)
			__builtin_trap();
		break;
	case DISK_OP_FLUSH:
		break;
	case _DISK_OP_MAX:
	case _DISK_OP_INVALID:
	default:
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq q;
	struct virtq_elem e;
	uint8_t hdr[6];

	if (!fuzz_queue_start(&mem, data, size, hdr, sizeof(hdr), MAX_SIZE, &q) ||
	    virtq_elem_init(&e, SEG_CAP) < 0)
		return 0;
	/* hdr[4..5]: capacity (sectors, small so that ranges reach the end) and feature bits. */
	struct blk_limits lim = {
	    .capacity = (uint64_t)hdr[4] << (hdr[5] >> 4),
	    .readonly = hdr[5] & 1,
	    .discard = hdr[5] & 2,
	    .write_zeroes = hdr[5] & 4,
	    .max_discard_sectors = 64,
	    .max_write_zeroes_sectors = (hdr[5] & 8) ? UINT32_MAX : 64,
	};
	for (unsigned n = 0; n < 2 * MAX_SIZE; n++) {
		struct blk_request r;

		if (virtq_pop(&q, &e) <= 0)
			break;
		if (blk_request_parse(&e, &r) == 0)
			check(&r, &lim);
		virtq_push(&q, &e, 1);
	}
	virtq_elem_done(&e);
	return 0;
}
