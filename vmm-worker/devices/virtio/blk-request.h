/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk requests (virtio 1.2, 5.2.6), parsed from a popped descriptor chain and turned into a
 * disk request. Separate from blk.c so the unit tests and the fuzz target reach the parser without
 * a device. The chain may be framed any way the driver likes (VIRTIO_F_VERSION_1 implies
 * ANY_LAYOUT): the 16-byte header is the first device-readable bytes, the status byte the last
 * device-writable one, the data what lies between. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct disk_request;
struct iovec;
struct virtq_elem;

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_GET_LIFETIME 10
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_T_SECURE_ERASE 14
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_ID_BYTES 20u
#define VIRTIO_BLK_HDR_SIZE 16u	    /* le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_SEGMENT_SIZE 16u /* discard / write zeroes: le64 sector, le32 num_sectors, le32 flags */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

/* One request, its data a slice of the chain's iovecs (adjusted in place: the element is the
 * device's until it is pushed). */
struct blk_request {
	uint32_t type;
	uint64_t sector;
	struct iovec *data; /* device-readable for OUT, DISCARD, WRITE_ZEROES; writable for IN, GET_ID */
	unsigned n_data;
	uint64_t data_len;
	uint8_t *status;
};

/* What the device allows; the negotiated parts come from the driver's features. */
struct blk_limits {
	uint64_t capacity; /* in 512-byte sectors */
	bool readonly;
	bool discard, write_zeroes; /* negotiated */
	uint32_t max_discard_sectors, max_write_zeroes_sectors;
};

/* Finds header, data and status byte in e. -EBADMSG when the chain cannot be a request at all: no
 * device-writable status byte, or fewer than 16 device-readable header bytes. The spec leaves the
 * device nothing to answer then; the caller marks the device broken. */
int blk_request_parse(struct virtq_elem *e, struct blk_request *ret);

/* Checks req against lim and fills d for disk_queue_submit() (op, offset, len or iovecs).
 * Returns VIRTIO_BLK_S_OK, or the status to complete req with at once: IOERR for ranges past the
 * end, lengths that are not whole sectors, writes to a read-only disk, malformed segments; UNSUPP
 * for unknown types, features the driver did not negotiate, unknown flags. GET_ID is not a disk
 * request: answer it with blk_request_get_id(). */
uint8_t blk_request_prepare(const struct blk_request *req, const struct blk_limits *lim,
			    struct disk_request *d);

/* Writes serial (zero-padded to VIRTIO_BLK_ID_BYTES, cut to the buffer) into req's data; returns
 * the bytes written, 0 when req has no room at all. */
uint32_t blk_request_get_id(const struct blk_request *req, const char *serial);

/* Copies len bytes from the start of iov[0..n) into buf; false if they hold fewer. */
bool blk_iov_gather(const struct iovec *iov, unsigned n, void *buf, uint64_t len);
