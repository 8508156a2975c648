/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk request parsing and checking: everything a guest controls about a request goes
 * through here before it reaches the disk. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "backends/disk-queue.h"
#include "devices/virtio/blk-request.h"
#include "devices/virtio/queue.h"
#include "macro.h"

bool blk_iov_gather(const struct iovec *iov, unsigned n, void *buf, uint64_t len)
{
	uint8_t *p = buf;

	for (unsigned i = 0; i < n && len > 0; i++) {
		size_t take = MIN((uint64_t)iov[i].iov_len, len);
		memcpy(p, iov[i].iov_base, take);
		p += take;
		len -= take;
	}
	return len == 0;
}

/* Drops the first skip bytes of iov[0..*n): returns where the rest starts, *n its count. */
static struct iovec *iov_skip(struct iovec *iov, unsigned *n, uint64_t skip)
{
	while (*n > 0 && skip >= iov->iov_len) {
		skip -= iov->iov_len;
		iov++;
		(*n)--;
	}
	if (*n > 0 && skip > 0) {
		iov->iov_base = (uint8_t *)iov->iov_base + skip;
		iov->iov_len -= skip;
	}
	return iov;
}

int blk_request_parse(struct virtq_elem *e, struct blk_request *ret)
{
	struct {
		uint32_t type;
		uint32_t reserved;
		uint64_t sector;
	} hdr;
	struct iovec *last;
	unsigned n_out = e->n_out, n_in = e->n_in;

	if (e->in_len < 1 || e->out_len < VIRTIO_BLK_HDR_SIZE)
		return -EBADMSG;
	if (!blk_iov_gather(e->iov, e->n_out, &hdr, sizeof(hdr)))
		return -EBADMSG;

	*ret = (struct blk_request){.type = le32toh(hdr.type), .sector = le64toh(hdr.sector)};
	/* The status byte is the last writable byte; the writable data is what comes before. */
	last = &e->iov[e->n_out + e->n_in - 1];
	ret->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	last->iov_len--;
	if (last->iov_len == 0)
		n_in--;

	switch (ret->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		ret->data = &e->iov[e->n_out];
		ret->n_data = n_in;
		ret->data_len = e->in_len - 1;
		break;
	case VIRTIO_BLK_T_OUT:
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		ret->data = iov_skip(e->iov, &n_out, VIRTIO_BLK_HDR_SIZE);
		ret->n_data = n_out;
		ret->data_len = e->out_len - VIRTIO_BLK_HDR_SIZE;
		break;
	default:
		break; /* no data */
	}
	return 0;
}

static bool range_ok(const struct blk_limits *lim, uint64_t sector, uint64_t sectors)
{
	return sector <= lim->capacity && sectors <= lim->capacity - sector;
}

static uint8_t prepare_segment(const struct blk_request *req, const struct blk_limits *lim,
			       struct disk_request *d)
{
	bool discard = req->type == VIRTIO_BLK_T_DISCARD;
	struct {
		uint64_t sector;
		uint32_t num_sectors;
		uint32_t flags;
	} seg;
	uint32_t allowed_flags = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

	if (!(discard ? lim->discard : lim->write_zeroes))
		return VIRTIO_BLK_S_UNSUPP;
	if (req->data_len == 0 || req->data_len % VIRTIO_BLK_SEGMENT_SIZE != 0)
		return VIRTIO_BLK_S_IOERR;
	/* We offer max_discard_seg = max_write_zeroes_seg = 1. */
	if (req->data_len > VIRTIO_BLK_SEGMENT_SIZE)
		return VIRTIO_BLK_S_UNSUPP;
	if (!blk_iov_gather(req->data, req->n_data, &seg, sizeof(seg)))
		return VIRTIO_BLK_S_IOERR;
	seg.sector = le64toh(seg.sector);
	seg.num_sectors = le32toh(seg.num_sectors);
	seg.flags = le32toh(seg.flags);
	/* Unknown flags, and unmap on a discard, are UNSUPP (5.2.6.2). */
	if (seg.flags & ~allowed_flags)
		return VIRTIO_BLK_S_UNSUPP;
	if (seg.num_sectors > (discard ? lim->max_discard_sectors : lim->max_write_zeroes_sectors) ||
	    !range_ok(lim, seg.sector, seg.num_sectors) || lim->readonly)
		return VIRTIO_BLK_S_IOERR;
	/* Our discard punches a hole, which reads back as zeroes: write zeroes may unmap with it. */
	*d = (struct disk_request){
	    .op = discard || (seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ? DISK_OP_DISCARD
									      : DISK_OP_WRITE_ZEROES,
	    .offset = seg.sector * VIRTIO_BLK_SECTOR_SIZE,
	    .len = (uint64_t)seg.num_sectors * VIRTIO_BLK_SECTOR_SIZE,
	};
	return VIRTIO_BLK_S_OK;
}

uint8_t blk_request_prepare(const struct blk_request *req, const struct blk_limits *lim,
			    struct disk_request *d)
{
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (req->data_len == 0 || req->data_len % VIRTIO_BLK_SECTOR_SIZE != 0 ||
		    !range_ok(lim, req->sector, req->data_len / VIRTIO_BLK_SECTOR_SIZE))
			return VIRTIO_BLK_S_IOERR;
		if (req->type == VIRTIO_BLK_T_OUT && lim->readonly)
			return VIRTIO_BLK_S_IOERR;
		*d = (struct disk_request){
		    .op = req->type == VIRTIO_BLK_T_IN ? DISK_OP_READ : DISK_OP_WRITE,
		    .offset = req->sector * VIRTIO_BLK_SECTOR_SIZE,
		    .iov = req->data,
		    .iovcnt = req->n_data,
		};
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		*d = (struct disk_request){.op = DISK_OP_FLUSH};
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return prepare_segment(req, lim, d);
	case VIRTIO_BLK_T_GET_ID:
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

uint32_t blk_request_get_id(const struct blk_request *req, const char *serial)
{
	char id[VIRTIO_BLK_ID_BYTES] = {0};
	uint64_t left = MIN(req->data_len, (uint64_t)VIRTIO_BLK_ID_BYTES);
	uint32_t done = 0;

	/* Not NUL-terminated when the serial takes all 20 bytes, as the spec has it. */
	memcpy(id, serial, strnlen(serial, sizeof(id)));
	for (unsigned i = 0; i < req->n_data && left > 0; i++) {
		size_t take = MIN((uint64_t)req->data[i].iov_len, left);
		memcpy(req->data[i].iov_base, id + done, take);
		done += (uint32_t)take;
		left -= take;
	}
	return done;
}
