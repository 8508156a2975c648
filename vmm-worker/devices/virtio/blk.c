/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-blk device: config space and features, start and reset; the queues, each on a
 * thread of its own, are in blk-queue.c. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/disk.h"
#include "devices/virtio/blk-internal.h"
#include "macro.h"

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

/* DRIVER_OK (v->lock held): the queues start with what the driver negotiated. */
static int blk_activate(struct virtio_device *v)
{
	struct blk *blk = v->priv;
	struct blk_limits lim = {
	    .capacity = disk_size(blk->disk) / VIRTIO_BLK_SECTOR_SIZE,
	    .readonly = disk_readonly(blk->disk),
	    .discard = virtio_feature_negotiated(v, VIRTIO_BLK_F_DISCARD),
	    .write_zeroes = virtio_feature_negotiated(v, VIRTIO_BLK_F_WRITE_ZEROES),
	    .max_discard_sectors = VIRTIO_BLK_MAX_DISCARD_SECTORS,
	    .max_write_zeroes_sectors = VIRTIO_BLK_MAX_DISCARD_SECTORS,
	};

	blk->generation++;
	for (unsigned i = 0; i < blk->n_queues; i++)
		blk_queue_set_running(&blk->queues[i], true, &lim,
				      virtio_feature_negotiated(v, VIRTIO_BLK_F_FLUSH));
	return 0;
}

static void stop_queues(struct blk *blk)
{
	for (unsigned i = 0; i < blk->n_queues; i++)
		blk_queue_set_running(&blk->queues[i], false, NULL, false);
}

/* The driver reset the device (v->lock held): every queue stops and waits for its requests. */
static void blk_reset(struct virtio_device *v)
{
	struct blk *blk = v->priv;

	blk->generation++;
	stop_queues(blk);
}

/* Only virtio_queue_process() calls it (the core leaves own_queues alone): tests. */
static void blk_queue_notify(struct virtio_device *v, struct virtq *q)
{
	struct blk *blk = v->priv;
	const char *why = NULL;

	if (blk_queue_process_locked(&blk->queues[q->index], &why) < 0) {
		virtio_device_fail(v, -EBADMSG, why);
		stop_queues(blk);
	}
}

static void blk_config_read(struct virtio_device *v, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct blk *blk = v->priv;
	memcpy(data, blk->config + offset, len);
}

static void blk_destroy(struct blk *blk)
{
	for (unsigned i = 0; i < blk->n_queues; i++)
		blk_queue_stop_thread(&blk->queues[i]);
	for (unsigned i = 0; i < blk->n_queues; i++)
		blk_queue_done(&blk->queues[i]);
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
		     (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) |
		     (1ULL << VIRTIO_BLK_F_TOPOLOGY);

	if (disk_readonly(blk->disk))
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	if (blk->n_queues > 1)
		f |= 1ULL << VIRTIO_BLK_F_MQ;
	return f;
}

int virtio_blk_new(struct disk *disk, const struct virtio_blk_params *p, const struct guest_memory *mem,
		   struct virtio_device **ret)
{
	struct virtio_device *v;
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
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		blk->queues[i].epoll_fd = blk->queues[i].stop_fd = -1;
	blk->seg_max = MAX(MIN(p->queue_size - 2, VIRTIO_BLK_SEG_MAX), 1u);
	blk->ops = (struct virtio_device_ops){
	    .name = "blk",
	    .device_id = VIRTIO_ID_BLOCK,
	    .features = features(blk),
	    .n_queues = p->num_queues,
	    .queue_max_size = (uint16_t)p->queue_size,
	    .config_size = VIRTIO_BLK_CONFIG_SIZE,
	    .config_read = blk_config_read,
	    .own_queues = p->num_queues >= 64 ? UINT64_MAX : (1ULL << p->num_queues) - 1,
	    .activate = blk_activate,
	    .reset = blk_reset,
	    .queue_notify = blk_queue_notify,
	    .free = blk_free,
	};
	fill_config(blk);
	r = 0;
	for (unsigned i = 0; i < blk->n_queues && r >= 0; i++)
		r = blk_queue_init(&blk->queues[i], blk, p);
	if (r >= 0)
		r = virtio_device_new(&blk->ops, blk, mem, &v);
	if (r < 0) {
		blk_destroy(blk);
		return r;
	}
	/* From here on the device owns blk: virtio_device_free() ends it. */
	blk->v = v;
	for (unsigned i = 0; i < blk->n_queues && r >= 0; i++) {
		blk->queues[i].q = &v->queues[i];
		r = blk_queue_start_thread(&blk->queues[i]);
	}
	if (r < 0) {
		virtio_device_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

enum disk_engine virtio_blk_engine(const struct virtio_device *v)
{
	const struct blk *blk = v->priv;
	return disk_queue_engine(blk->queues[0].dq);
}
