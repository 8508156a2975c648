/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-blk device: config space, request slots per queue, asynchronous submission and
 * completion through one disk_queue per virtqueue. */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "backends/disk.h"
#include "devices/virtio/blk-request.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/virtio.h"
#include "macro.h"

/* One request in the device's hands, from virtq_pop() to virtq_push(). */
struct blk_slot {
	struct virtq_elem elem;
	struct blk_request req;
	struct disk_request disk;
	bool flush_after; /* the driver did not negotiate FLUSH: a write is durable when it completes */
	uint32_t written; /* bytes written into the chain before the status byte */
	struct blk_slot *next_free;
};

struct blk_queue {
	struct disk_queue *dq;
	struct blk_slot *slots;
	unsigned n_slots;
	struct blk_slot *free;
};

struct blk {
	struct virtio_device_ops ops; /* per device: queue count and features vary */
	struct disk *disk;
	struct blk_queue queues[VIRTIO_MAX_QUEUES];
	unsigned n_queues;
	unsigned seg_max;
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
};

/* Start/collect rounds one process() runs before it yields the device lock. */
#define PROCESS_ROUNDS 16

/* Config space offsets (5.2.4) */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_PHYSICAL_BLOCK_EXP 24
#define CFG_MIN_IO_SIZE 26
#define CFG_NUM_QUEUES 34
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_SECTOR_ALIGNMENT 44
#define CFG_MAX_WRITE_ZEROES_SECTORS 48
#define CFG_MAX_WRITE_ZEROES_SEG 52
#define CFG_WRITE_ZEROES_MAY_UNMAP 56

static void put16(uint8_t *config, unsigned off, uint16_t v)
{
	v = htole16(v);
	memcpy(config + off, &v, sizeof(v));
}

static void put32(uint8_t *config, unsigned off, uint32_t v)
{
	v = htole32(v);
	memcpy(config + off, &v, sizeof(v));
}

static void put64(uint8_t *config, unsigned off, uint64_t v)
{
	v = htole64(v);
	memcpy(config + off, &v, sizeof(v));
}

static bool running(const struct virtio_device *v)
{
	return (v->status & VIRTIO_STATUS_DRIVER_OK) && !(v->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void limits(const struct virtio_device *v, const struct blk *blk, struct blk_limits *ret)
{
	*ret = (struct blk_limits){
		.capacity = disk_size(blk->disk) / VIRTIO_BLK_SECTOR_SIZE,
		.readonly = disk_readonly(blk->disk),
		.discard = virtio_feature_negotiated(v, VIRTIO_BLK_F_DISCARD),
		.write_zeroes = virtio_feature_negotiated(v, VIRTIO_BLK_F_WRITE_ZEROES),
		.max_discard_sectors = VIRTIO_BLK_MAX_DISCARD_SECTORS,
		.max_write_zeroes_sectors = VIRTIO_BLK_MAX_DISCARD_SECTORS,
	};
}

static void slot_release(struct blk_queue *bq, struct blk_slot *s)
{
	s->next_free = bq->free;
	bq->free = s;
}

/* Answers the driver: status byte, used-ring entry. */
static void complete(struct virtio_device *v, struct virtq *q, struct blk_slot *s, uint8_t status)
{
	struct blk *blk = v->priv;

	if (status != VIRTIO_BLK_S_OK)
		virtio_stats_error(v);
	else if (s->req.type == VIRTIO_BLK_T_IN)
		virtio_stats_add(v, VIRTIO_STAT_READ, s->req.data_len);
	else if (s->req.type == VIRTIO_BLK_T_OUT)
		virtio_stats_add(v, VIRTIO_STAT_WRITE, s->req.data_len);
	/* Completions of requests started before a failure still land; after a reset none are left. */
	if (q->ready) {
		__atomic_store_n(s->req.status, status, __ATOMIC_RELAXED);
		virtq_push(q, &s->elem, s->written + 1);
	}
	slot_release(&blk->queues[q->index], s);
}

/* Starts one popped request: completes it at once, or hands it to the disk queue. */
static void start(struct virtio_device *v, struct virtq *q, struct blk_slot *s)
{
	struct blk *blk = v->priv;
	struct blk_limits lim;
	uint8_t status;
	int r;

	s->written = 0;
	s->flush_after = false;
	r = blk_request_parse(&s->elem, &s->req);
	if (r < 0) {
		/* No status byte to answer in: the driver broke the protocol (5.2.6.1). */
		virtio_device_fail(v, r, "a block request without header or status byte");
		slot_release(&blk->queues[q->index], s);
		return;
	}
	if (s->req.type == VIRTIO_BLK_T_GET_ID) {
		s->written = blk_request_get_id(&s->req, disk_serial(blk->disk));
		complete(v, q, s, s->written > 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
		return;
	}
	limits(v, blk, &lim);
	status = blk_request_prepare(&s->req, &lim, &s->disk);
	if (status != VIRTIO_BLK_S_OK) {
		complete(v, q, s, status);
		return;
	}
	s->disk.opaque = s;
	s->flush_after = s->disk.op == DISK_OP_WRITE && !virtio_feature_negotiated(v, VIRTIO_BLK_F_FLUSH);
	r = disk_queue_submit(blk->queues[q->index].dq, &s->disk);
	if (r < 0)
		complete(v, q, s, VIRTIO_BLK_S_IOERR); /* e.g. misaligned for direct I/O */
}

struct reap_ctx {
	struct virtio_device *v;
	struct virtq *q;
};

static void on_done(struct disk_request *d, void *userdata)
{
	struct reap_ctx *ctx = userdata;
	struct blk *blk = ctx->v->priv;
	struct blk_slot *s = d->opaque;

	if (d->result == 0 && s->flush_after) {
		/* Write-through for drivers without FLUSH: the write, then fdatasync, then the answer. */
		s->flush_after = false;
		s->disk = (struct disk_request){ .op = DISK_OP_FLUSH, .opaque = s };
		if (disk_queue_submit(blk->queues[ctx->q->index].dq, &s->disk) == 0)
			return;
		d->result = -EIO;
	}
	if (d->result == 0 && s->req.type == VIRTIO_BLK_T_IN)
		s->written = (uint32_t)s->req.data_len;
	complete(ctx->v, ctx->q, s, d->result == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
}

/* Pops and starts requests while there are free slots; a full queue resumes on a completion. */
static unsigned pop_and_start(struct virtio_device *v, struct virtq *q)
{
	struct blk *blk = v->priv;
	struct blk_queue *bq = &blk->queues[q->index];
	unsigned n = 0;

	while (bq->free && running(v)) {
		struct blk_slot *s = bq->free;
		int r = virtq_pop(q, &s->elem);
		if (r == 0)
			break;
		if (r < 0) {
			virtio_device_fail(v, r, "malformed descriptor chain on a request queue");
			break;
		}
		bq->free = s->next_free;
		start(v, q, s);
		n++;
	}
	return n;
}

/* Starts what the driver made available, collects what finished, until neither moves; then one
 * interrupt. Reads from the host page cache complete inside the kick (io_uring runs them inline),
 * so collecting right after it answers them in the same pass, without a trip through epoll. */
static void process(struct virtio_device *v, struct virtq *q)
{
	struct blk *blk = v->priv;
	struct blk_queue *bq = &blk->queues[q->index];
	struct reap_ctx ctx = { .v = v, .q = q };
	int reaped;

	for (unsigned round = 0;; round++) {
		unsigned started = running(v) && q->ready ? pop_and_start(v, q) : 0;
		(void)disk_queue_kick(bq->dq);
		reaped = disk_queue_reap(bq->dq, on_done, &ctx);
		if (reaped < 0)
			virtio_stats_error(v);
		if ((started == 0 && reaped <= 0) || !running(v) || !q->ready)
			break;
		if (round == PROCESS_ROUNDS) {
			/* Let register accesses (they wait for the lock) in; come back at once. */
			virtio_queue_kick(v, q->index);
			break;
		}
	}
	virtio_queue_signal(v, q);
}

static void blk_queue_notify(struct virtio_device *v, struct virtq *q)
{
	process(v, q);
}

static void blk_queue_event(struct virtio_device *v, struct virtq *q)
{
	process(v, q);
}

static int blk_queue_event_fd(struct virtio_device *v, unsigned q)
{
	struct blk *blk = v->priv;
	return disk_queue_eventfd(blk->queues[q].dq);
}

static void drop(struct disk_request *d, void *userdata)
{
	slot_release(userdata, d->opaque);
}

/* The driver reset the device: requests in flight write into guest memory, so wait for them
 * (their answers are dropped: the rings are gone). Runs with the device lock held, which keeps
 * the I/O threads out meanwhile. */
static void blk_reset(struct virtio_device *v)
{
	struct blk *blk = v->priv;

	for (unsigned i = 0; i < blk->n_queues; i++) {
		struct blk_queue *bq = &blk->queues[i];

		(void)disk_queue_kick(bq->dq);
		while (disk_queue_in_flight(bq->dq) > 0) {
			struct pollfd p = { .fd = disk_queue_eventfd(bq->dq), .events = POLLIN };
			(void)poll(&p, 1, 1000);
			if (disk_queue_reap(bq->dq, drop, bq) < 0)
				break;
		}
	}
}

static void blk_config_read(struct virtio_device *v, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct blk *blk = v->priv;
	memcpy(data, blk->config + offset, len);
}

static void blk_destroy(struct blk *blk)
{
	for (unsigned i = 0; i < blk->n_queues; i++) {
		struct blk_queue *bq = &blk->queues[i];

		/* Waits for requests in flight before their slots go. */
		bq->dq = disk_queue_free(bq->dq);
		for (unsigned j = 0; bq->slots && j < bq->n_slots; j++)
			virtq_elem_done(&bq->slots[j].elem);
		free(bq->slots);
	}
	disk_free(blk->disk);
	free(blk);
}

static void blk_free(struct virtio_device *v)
{
	if (v->priv)
		blk_destroy(v->priv);
}

static unsigned log2u(unsigned v)
{
	unsigned r = 0;
	while (v >>= 1)
		r++;
	return r;
}

static void fill_config(struct blk *blk)
{
	unsigned lbs = disk_logical_block_size(blk->disk), pbs = disk_physical_block_size(blk->disk);
	uint32_t align = MAX(lbs / VIRTIO_BLK_SECTOR_SIZE, 1u);
	uint32_t max_sectors = ALIGN_DOWN(VIRTIO_BLK_MAX_DISCARD_SECTORS, align);

	put64(blk->config, CFG_CAPACITY, disk_size(blk->disk) / VIRTIO_BLK_SECTOR_SIZE);
	put32(blk->config, CFG_SIZE_MAX, VIRTIO_BLK_SIZE_MAX);
	put32(blk->config, CFG_SEG_MAX, blk->seg_max);
	put32(blk->config, CFG_BLK_SIZE, lbs);
	blk->config[CFG_PHYSICAL_BLOCK_EXP] = (uint8_t)log2u(MAX(pbs / lbs, 1u));
	put16(blk->config, CFG_MIN_IO_SIZE, (uint16_t)MAX(pbs / lbs, 1u));
	put16(blk->config, CFG_NUM_QUEUES, (uint16_t)blk->n_queues);
	put32(blk->config, CFG_MAX_DISCARD_SECTORS, max_sectors);
	put32(blk->config, CFG_MAX_DISCARD_SEG, 1);
	put32(blk->config, CFG_DISCARD_SECTOR_ALIGNMENT, align);
	put32(blk->config, CFG_MAX_WRITE_ZEROES_SECTORS, max_sectors);
	put32(blk->config, CFG_MAX_WRITE_ZEROES_SEG, 1);
	blk->config[CFG_WRITE_ZEROES_MAY_UNMAP] = 1;
}

static uint64_t features(const struct blk *blk)
{
	uint64_t f = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		     (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_TOPOLOGY);

	if (disk_readonly(blk->disk))
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	if (blk->n_queues > 1)
		f |= 1ULL << VIRTIO_BLK_F_MQ;
	return f;
}

static int queue_init(struct blk *blk, struct blk_queue *bq, const struct virtio_blk_params *p)
{
	int r;

	r = disk_queue_new(blk->disk, p->queue_size, p->engine, &bq->dq);
	if (r < 0)
		return r;
	bq->slots = calloc(p->queue_size, sizeof(*bq->slots));
	if (!bq->slots)
		return -ENOMEM;
	bq->n_slots = p->queue_size;
	for (unsigned i = bq->n_slots; i-- > 0;) {
		/* Linux sends header, seg_max data segments and the status byte. */
		r = virtq_elem_init(&bq->slots[i].elem, blk->seg_max + 2);
		if (r < 0)
			return r;
		slot_release(bq, &bq->slots[i]);
	}
	return 0;
}

int virtio_blk_new(struct disk *disk, const struct virtio_blk_params *p, const struct guest_memory *mem,
		   struct virtio_device **ret)
{
	struct blk *blk;
	int r;

	if (!disk)
		return -EINVAL;
	if (p->num_queues < 1 || p->num_queues > VIRTIO_MAX_QUEUES || p->queue_size < 2 ||
	    p->queue_size > VIRTIO_BLK_QUEUE_SIZE_MAX || (p->queue_size & (p->queue_size - 1))) {
		disk_free(disk);
		return -EINVAL;
	}
	blk = calloc(1, sizeof(*blk));
	if (!blk) {
		disk_free(disk);
		return -ENOMEM;
	}
	blk->disk = disk;
	blk->n_queues = p->num_queues;
	blk->seg_max = MAX(MIN(p->queue_size - 2, VIRTIO_BLK_SEG_MAX), 1u);
	blk->ops = (struct virtio_device_ops){
		.name = "blk",
		.device_id = VIRTIO_ID_BLOCK,
		.features = features(blk),
		.n_queues = p->num_queues,
		.queue_max_size = (uint16_t)p->queue_size,
		.config_size = VIRTIO_BLK_CONFIG_SIZE,
		.config_read = blk_config_read,
		.reset = blk_reset,
		.queue_notify = blk_queue_notify,
		.free = blk_free,
		.queue_threads = true,
		.queue_event_fd = blk_queue_event_fd,
		.queue_event = blk_queue_event,
	};
	fill_config(blk);
	r = 0;
	for (unsigned i = 0; i < blk->n_queues && r >= 0; i++)
		r = queue_init(blk, &blk->queues[i], p);
	if (r >= 0)
		r = virtio_device_new(&blk->ops, blk, mem, ret);
	if (r < 0)
		blk_destroy(blk);
	return r;
}

enum disk_engine virtio_blk_engine(const struct virtio_device *v)
{
	const struct blk *blk = v->priv;
	return disk_queue_engine(blk->queues[0].dq);
}
