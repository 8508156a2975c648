/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk end to end below the transport: the real device on real guest memory, a real image
 * file, its per-queue I/O threads and both disk engines (io_uring and the thread pool). A small
 * driver in this file builds descriptor chains the way a guest would (and the ways a hostile one
 * would), kicks, and waits for the used ring; results are checked in guest memory and in the
 * image file on the host. */
#include <endian.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/disk.h"
#include "devices/virtio/blk-request.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/virtio.h"
#include "memory/guest-memory.h"

#define RAM (16u << 20)
#define QSIZE 16u
#define QUEUE_AREA(q) (0x10000u + (q)*0x10000u) /* desc, avail at +0x1000, used at +0x2000 */
#define BUF 0x200000u
#define DISK_SIZE (1u << 20)
#define SERIAL "chd-test-serial"

struct drv_queue {
	uint16_t next_desc;
	uint16_t avail_idx;
	uint16_t used_seen;
};

struct fixture {
	struct guest_memory *mem;
	struct virtio_device *v;
	char *path;
	struct drv_queue dq[2];
	unsigned signals;
};

struct params {
	enum disk_engine engine;
	unsigned queues;
	bool readonly;
	bool direct;
};

static void on_signal(void *opaque, struct virtq *q)
{
	struct fixture *f = opaque;
	__atomic_add_fetch(&f->signals, 1, __ATOMIC_SEQ_CST);
}

static void on_config(void *opaque)
{
}

static const struct virtio_transport_ops transport = {.signal_queue = on_signal, .signal_config = on_config};

static void setup(struct fixture *f, gconstpointer data)
{
	const struct params *p = data;
	g_autoptr(GError) error = NULL;
	struct disk_options opts = {.readonly = p->readonly, .direct = p->direct, .serial = SERIAL};
	struct virtio_blk_params bp = {.num_queues = p->queues, .queue_size = QSIZE, .engine = p->engine};
	struct disk *disk;
	int fd, r;

	memset(f, 0, sizeof(*f));
	g_assert_cmpint(guest_memory_new(RAM, &f->mem), ==, 0);
	fd = g_file_open_tmp("test-virtio-blk-XXXXXX", &f->path, &error);
	g_assert_no_error(error);
	/* Every sector starts with its number, so a read shows where it came from. */
	for (unsigned s = 0; s < DISK_SIZE / 512; s++) {
		uint8_t sector[512];
		memset(sector, 0x11, sizeof(sector));
		memcpy(sector, &s, sizeof(s));
		g_assert_cmpint(pwrite(fd, sector, sizeof(sector), (off_t)s * 512), ==, 512);
	}
	close(fd);
	r = disk_open(f->path, &opts, &disk);
	if (r == -EINVAL && p->direct) {
		g_test_skip("the file system of the temporary folder refuses O_DIRECT");
		return;
	}
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpint(virtio_blk_new(disk, &bp, f->mem, &f->v), ==, 0);
	virtio_device_set_transport(f->v, &transport, f);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	f->v = virtio_device_free(f->v);
	f->mem = guest_memory_free(f->mem);
	g_unlink(f->path);
	g_free(f->path);
}

static uint64_t device_features(struct fixture *f)
{
	pthread_mutex_lock(&f->v->lock);
	uint64_t r = virtio_get_device_features(f->v, 0) | (uint64_t)virtio_get_device_features(f->v, 1)
							       << 32;
	pthread_mutex_unlock(&f->v->lock);
	return r;
}

static uint8_t status(struct fixture *f)
{
	pthread_mutex_lock(&f->v->lock);
	uint8_t s = f->v->status;
	pthread_mutex_unlock(&f->v->lock);
	return s;
}

static void set_status(struct fixture *f, uint8_t s)
{
	pthread_mutex_lock(&f->v->lock);
	virtio_set_status(f->v, s);
	pthread_mutex_unlock(&f->v->lock);
}

/* The driver's side of setup: features (VERSION_1 always), every queue, DRIVER_OK. */
static void start(struct fixture *f, uint64_t features)
{
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	memset(f->dq, 0, sizeof(f->dq));
	features |= 1ULL << VIRTIO_F_VERSION_1;
	set_status(f, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(f, s);
	pthread_mutex_lock(&f->v->lock);
	virtio_set_driver_features(f->v, 0, (uint32_t)features);
	virtio_set_driver_features(f->v, 1, (uint32_t)(features >> 32));
	virtio_set_status(f->v, s | VIRTIO_STATUS_FEATURES_OK);
	g_assert_cmpuint(f->v->status & VIRTIO_STATUS_FEATURES_OK, !=, 0);
	for (unsigned q = 0; q < f->v->n_queues; q++) {
		struct virtq *vq = &f->v->queues[q];
		g_assert_cmpint(guest_memory_write(f->mem, QUEUE_AREA(q), (uint8_t[0x3000]){0}, 0x3000), ==,
				0);
		vq->size = QSIZE;
		vq->desc_addr = QUEUE_AREA(q);
		vq->avail_addr = QUEUE_AREA(q) + 0x1000;
		vq->used_addr = QUEUE_AREA(q) + 0x2000;
		virtio_queue_enable(f->v, q);
		g_assert_true(vq->ready);
	}
	virtio_set_status(f->v, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	pthread_mutex_unlock(&f->v->lock);
	g_assert_cmpuint(status(f), ==, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/* Puts one chain on queue q and kicks; returns its head. */
static uint16_t submit(struct fixture *f, unsigned q, const struct buf *bufs, unsigned n)
{
	struct drv_queue *d = &f->dq[q];
	uint16_t head = d->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		struct virtq_desc desc = {
		    .addr = bufs[i].gpa,
		    .len = bufs[i].len,
		    .flags = (uint16_t)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					(i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
		    .next = (uint16_t)((idx + 1) % QSIZE),
		};
		g_assert_cmpint(guest_memory_write(f->mem, QUEUE_AREA(q) + idx * 16u, &desc, sizeof(desc)),
				==, 0);
	}
	d->next_desc = (uint16_t)((head + n) % QSIZE);
	g_assert_cmpint(
	    guest_memory_write(f->mem, QUEUE_AREA(q) + 0x1000 + 4 + 2 * (d->avail_idx % QSIZE), &head, 2),
	    ==, 0);
	d->avail_idx++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	g_assert_cmpint(guest_memory_write(f->mem, QUEUE_AREA(q) + 0x1000 + 2, &d->avail_idx, 2), ==, 0);
	virtio_queue_kick(f->v, q);
	return head;
}

static uint16_t used_idx(struct fixture *f, unsigned q)
{
	uint16_t *p = guest_memory_ptr(f->mem, QUEUE_AREA(q) + 0x2000 + 2, 2);
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Waits (at most 5 s) until the device used n more chains on q; returns the last one's len. */
static uint32_t wait_used(struct fixture *f, unsigned q, unsigned n)
{
	uint16_t want = (uint16_t)(f->dq[q].used_seen + n);
	uint32_t elem[2];

	for (int i = 0; i < 5000 && used_idx(f, q) != want; i++)
		g_usleep(1000);
	g_assert_cmpuint(used_idx(f, q), ==, want);
	f->dq[q].used_seen = want;
	g_assert_cmpint(
	    guest_memory_read(f->mem, QUEUE_AREA(q) + 0x2000 + 4 + 8 * ((want - 1) % QSIZE), elem, 8), ==,
	    0);
	return elem[1];
}

static void put_hdr(struct fixture *f, uint64_t gpa, uint32_t type, uint64_t sector)
{
	uint32_t h[4] = {htole32(type), 0, htole32((uint32_t)sector), htole32((uint32_t)(sector >> 32))};
	g_assert_cmpint(guest_memory_write(f->mem, gpa, h, sizeof(h)), ==, 0);
}

static uint8_t get8(struct fixture *f, uint64_t gpa)
{
	uint8_t v;
	g_assert_cmpint(guest_memory_read(f->mem, gpa, &v, 1), ==, 0);
	return v;
}

/* A simple request: header, one data buffer (if len), status; returns the status byte. */
static uint8_t request(struct fixture *f, unsigned q, uint32_t type, uint64_t sector, uint64_t data,
		       uint32_t len, bool data_writable, uint32_t *ret_used)
{
	const uint64_t hdr = BUF - 0x100, st = BUF - 0x10;
	struct buf b[3] = {{hdr, 16, false}};
	unsigned n = 1;

	put_hdr(f, hdr, type, sector);
	g_assert_cmpint(guest_memory_write(f->mem, st, (uint8_t[]){0xee}, 1), ==, 0);
	if (len)
		b[n++] = (struct buf){data, len, data_writable};
	b[n++] = (struct buf){st, 1, true};
	submit(f, q, b, n);
	uint32_t used = wait_used(f, q, 1);
	if (ret_used)
		*ret_used = used;
	return get8(f, st);
}

static void file_read(struct fixture *f, uint64_t off, void *buf, size_t len)
{
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, buf, len, (off_t)off), ==, (ssize_t)len);
	close(fd);
}

static uint32_t cfg32(struct fixture *f, uint32_t off)
{
	uint32_t v;
	pthread_mutex_lock(&f->v->lock);
	virtio_config_read(f->v, off, (uint8_t *)&v, 4);
	pthread_mutex_unlock(&f->v->lock);
	return le32toh(v);
}

static void test_config(struct fixture *f, gconstpointer data)
{
	const struct params *p = data;
	uint64_t feat = device_features(f), cap;

	pthread_mutex_lock(&f->v->lock);
	virtio_config_read(f->v, 0, (uint8_t *)&cap, 8);
	pthread_mutex_unlock(&f->v->lock);
	g_assert_cmpuint(le64toh(cap), ==, DISK_SIZE / 512);
	g_assert_cmpuint(cfg32(f, 20), ==, 512);       /* blk_size */
	g_assert_cmpuint(cfg32(f, 12), ==, QSIZE - 2); /* seg_max */
	g_assert_cmpuint(cfg32(f, 8), ==, VIRTIO_BLK_SIZE_MAX);
	g_assert_cmpuint(cfg32(f, 32) >> 16, ==, p->queues); /* num_queues */
	g_assert_true(feat & (1ULL << VIRTIO_BLK_F_FLUSH));
	g_assert_true(feat & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	g_assert_true(feat & (1ULL << VIRTIO_BLK_F_BLK_SIZE));
	g_assert_cmpuint(!!(feat & (1ULL << VIRTIO_BLK_F_MQ)), ==, p->queues > 1);
	g_assert_cmpuint(!!(feat & (1ULL << VIRTIO_BLK_F_RO)), ==, p->readonly);
	g_assert_cmpuint(!!(feat & (1ULL << VIRTIO_BLK_F_DISCARD)), ==, !p->readonly);
	g_assert_cmpuint(!!(feat & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)), ==, !p->readonly);
	if (!p->readonly) {
		g_assert_cmpuint(cfg32(f, 36), ==, VIRTIO_BLK_MAX_DISCARD_SECTORS);
		g_assert_cmpuint(cfg32(f, 40), ==, 1);
		g_assert_cmpuint(cfg32(f, 44), ==, 1);
		g_assert_cmpuint(cfg32(f, 56) & 0xff, ==, 1); /* write_zeroes_may_unmap */
	}
	/* Past the config space: zeroes, no crash. */
	g_assert_cmpuint(cfg32(f, VIRTIO_BLK_CONFIG_SIZE), ==, 0);
	g_assert_cmpuint(virtio_blk_engine(f->v), ==, p->engine);
}

static void test_read_write(struct fixture *f, gconstpointer data)
{
	uint8_t buf[1024], back[1024];
	struct virtio_stats st;
	uint32_t used, sector;

	start(f, 1ULL << VIRTIO_BLK_F_FLUSH);
	/* Read sectors 5 and 6. */
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 5, BUF, 1024, true, &used), ==, VIRTIO_BLK_S_OK);
	g_assert_cmpuint(used, ==, 1025);
	g_assert_cmpint(guest_memory_read(f->mem, BUF, buf, sizeof(buf)), ==, 0);
	memcpy(&sector, buf, 4);
	g_assert_cmpuint(sector, ==, 5);
	memcpy(&sector, buf + 512, 4);
	g_assert_cmpuint(sector, ==, 6);

	/* Write sectors 100-101, then read them back from the file. */
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	g_assert_cmpint(guest_memory_write(f->mem, BUF, buf, sizeof(buf)), ==, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_OUT, 100, BUF, 1024, false, &used), ==, VIRTIO_BLK_S_OK);
	g_assert_cmpuint(used, ==, 1);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), ==, VIRTIO_BLK_S_OK);
	file_read(f, 100 * 512, back, sizeof(back));
	g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));

	/* The last sector works; one past it does not. */
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, BUF, 512, true, NULL), ==,
			 VIRTIO_BLK_S_OK);
	virtio_device_get_stats(f->v, &st);
	g_assert_cmpuint(st.read_ops, ==, 2);
	g_assert_cmpuint(st.read_bytes, ==, 1536);
	g_assert_cmpuint(st.write_ops, ==, 1);
	g_assert_cmpuint(st.write_bytes, ==, 1024);
	g_assert_cmpuint(st.errors, ==, 0);
	g_assert_cmpuint(__atomic_load_n(&f->signals, __ATOMIC_SEQ_CST), >=, 1);
}

/* Header split over two descriptors, data over three (one shared with the header's tail), the
 * status byte at the end of a longer writable buffer: any framing is valid (VERSION_1). */
static void test_any_layout(struct fixture *f, gconstpointer data)
{
	const uint64_t h = BUF + 0x10000;
	uint8_t pattern[1024], back[1024];
	uint32_t used;

	start(f, 1ULL << VIRTIO_BLK_F_FLUSH);
	for (unsigned i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i ^ 0x5a);
	/* OUT: [hdr 0..6) [hdr 6..16 + data 0..100) [data 100..700) [data 700..1024) [status] */
	put_hdr(f, h, VIRTIO_BLK_T_OUT, 7);
	g_assert_cmpint(guest_memory_write(f->mem, h + 16, pattern, sizeof(pattern)), ==, 0);
	const struct buf out[] = {
	    {h, 6, false}, {h + 6, 110, false}, {h + 116, 600, false}, {h + 716, 324, false}, {BUF, 1, true},
	};
	submit(f, 0, out, G_N_ELEMENTS(out));
	g_assert_cmpuint(wait_used(f, 0, 1), ==, 1);
	g_assert_cmpuint(get8(f, BUF), ==, VIRTIO_BLK_S_OK);
	file_read(f, 7 * 512, back, sizeof(back));
	g_assert_cmpmem(pattern, sizeof(pattern), back, sizeof(back));

	/* IN: [hdr] [data 0..300) [data 300..1024 + status] */
	const uint64_t d = BUF + 0x20000;
	put_hdr(f, h, VIRTIO_BLK_T_IN, 7);
	const struct buf in[] = {{h, 16, false}, {d, 300, true}, {d + 300, 725, true}};
	submit(f, 0, in, G_N_ELEMENTS(in));
	used = wait_used(f, 0, 1);
	g_assert_cmpuint(used, ==, 1025);
	g_assert_cmpuint(get8(f, d + 1024), ==, VIRTIO_BLK_S_OK);
	g_assert_cmpint(guest_memory_read(f->mem, d, back, sizeof(back)), ==, 0);
	g_assert_cmpmem(pattern, sizeof(pattern), back, sizeof(back));
}

static void test_get_id(struct fixture *f, gconstpointer data)
{
	char id[VIRTIO_BLK_ID_BYTES + 1] = {0};
	uint32_t used;

	start(f, 0);
	g_assert_cmpint(guest_memory_write(f->mem, BUF, "XXXXXXXXXXXXXXXXXXXXXXXX", 24), ==, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_GET_ID, 0, BUF, VIRTIO_BLK_ID_BYTES, true, &used), ==,
			 VIRTIO_BLK_S_OK);
	g_assert_cmpuint(used, ==, VIRTIO_BLK_ID_BYTES + 1);
	g_assert_cmpint(guest_memory_read(f->mem, BUF, id, VIRTIO_BLK_ID_BYTES), ==, 0);
	g_assert_cmpstr(id, ==, SERIAL);
	/* A shorter buffer gets what fits; none at all is an error. */
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_GET_ID, 0, BUF, 4, true, &used), ==, VIRTIO_BLK_S_OK);
	g_assert_cmpuint(used, ==, 5);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_GET_ID, 0, 0, 0, true, NULL), ==, VIRTIO_BLK_S_IOERR);
}

static void put_segment(struct fixture *f, uint64_t gpa, uint64_t sector, uint32_t n, uint32_t flags)
{
	uint32_t s[4] = {htole32((uint32_t)sector), htole32((uint32_t)(sector >> 32)), htole32(n),
			 htole32(flags)};
	g_assert_cmpint(guest_memory_write(f->mem, gpa, s, sizeof(s)), ==, 0);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_discard_write_zeroes(struct fixture *f, gconstpointer data)
{
	uint8_t back[8192];

	start(f, (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	/* Discard sectors 16..31 (8 KiB): reads back as zeroes, neighbours untouched. */
	put_segment(f, BUF, 16, 16, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_DISCARD, 0, BUF, 16, false, NULL), ==, VIRTIO_BLK_S_OK);
	file_read(f, 16 * 512, back, sizeof(back));
	g_assert_true(all_zero(back, sizeof(back)));
	file_read(f, 32 * 512, back, 4);
	g_assert_cmpuint(back[0], ==, 32);

	/* Write zeroes, with and without unmap. */
	put_segment(f, BUF, 40, 3, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_OK);
	file_read(f, 40 * 512, back, 3 * 512);
	g_assert_true(all_zero(back, 3 * 512));
	file_read(f, 43 * 512, back, 4);
	g_assert_cmpuint(back[0], ==, 43);
	put_segment(f, BUF, 64, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_OK);
	file_read(f, 64 * 512, back, 8 * 512);
	g_assert_true(all_zero(back, 8 * 512));

	/* Unmap on a discard, unknown flags, two segments: UNSUPP. Past the end, too many sectors,
	 * a partial segment: IOERR. */
	put_segment(f, BUF, 0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_DISCARD, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_UNSUPP);
	put_segment(f, BUF, 0, 1, 4);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_UNSUPP);
	put_segment(f, BUF, 0, 1, 0);
	put_segment(f, BUF + 16, 8, 1, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_DISCARD, 0, BUF, 32, false, NULL), ==,
			 VIRTIO_BLK_S_UNSUPP);
	put_segment(f, BUF, DISK_SIZE / 512 - 1, 2, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_DISCARD, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_IOERR);
	put_segment(f, BUF, UINT64_MAX - 1, 4, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_IOERR);
	put_segment(f, BUF, 0, VIRTIO_BLK_MAX_DISCARD_SECTORS + 1, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_DISCARD, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_IOERR);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_DISCARD, 0, BUF, 12, false, NULL), ==,
			 VIRTIO_BLK_S_IOERR);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_NEEDS_RESET, ==, 0);
}

static void test_not_negotiated(struct fixture *f, gconstpointer data)
{
	uint8_t buf[512], back[512];

	/* Neither DISCARD nor FLUSH: discard is UNSUPP, writes are written through (and complete). */
	start(f, 0);
	put_segment(f, BUF, 0, 1, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_DISCARD, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_UNSUPP);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_UNSUPP);
	memset(buf, 0x77, sizeof(buf));
	g_assert_cmpint(guest_memory_write(f->mem, BUF, buf, sizeof(buf)), ==, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_OUT, 3, BUF, 512, false, NULL), ==, VIRTIO_BLK_S_OK);
	file_read(f, 3 * 512, back, sizeof(back));
	g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));
}

static void test_bad_requests(struct fixture *f, gconstpointer data)
{
	struct virtio_stats st;
	uint32_t used;

	start(f, 1ULL << VIRTIO_BLK_F_FLUSH);
	/* Unknown and unsupported types. */
	g_assert_cmpuint(request(f, 0, 99, 0, 0, 0, false, NULL), ==, VIRTIO_BLK_S_UNSUPP);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_GET_LIFETIME, 0, BUF, 16, true, NULL), ==,
			 VIRTIO_BLK_S_UNSUPP);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_SECURE_ERASE, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_UNSUPP);
	/* Past the end, straddling it, a sector number that overflows when multiplied. */
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, DISK_SIZE / 512, BUF, 512, true, &used), ==,
			 VIRTIO_BLK_S_IOERR);
	g_assert_cmpuint(used, ==, 1);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_OUT, DISK_SIZE / 512 - 1, BUF, 1024, false, NULL), ==,
			 VIRTIO_BLK_S_IOERR);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, UINT64_MAX / 256, BUF, 512, true, NULL), ==,
			 VIRTIO_BLK_S_IOERR);
	/* Not whole sectors, and no data at all. */
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 0, BUF, 100, true, NULL), ==, VIRTIO_BLK_S_IOERR);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_OUT, 0, BUF, 513, false, NULL), ==, VIRTIO_BLK_S_IOERR);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 0, 0, 0, true, NULL), ==, VIRTIO_BLK_S_IOERR);
	virtio_device_get_stats(f->v, &st);
	g_assert_cmpuint(st.errors, ==, 9);
	g_assert_cmpuint(st.read_ops + st.write_ops, ==, 0);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_NEEDS_RESET, ==, 0);
	/* Still serving. */
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 0, BUF, 512, true, NULL), ==, VIRTIO_BLK_S_OK);
}

static bool wait_needs_reset(struct fixture *f)
{
	for (int i = 0; i < 5000; i++) {
		if (status(f) & VIRTIO_STATUS_NEEDS_RESET)
			return true;
		g_usleep(1000);
	}
	return false;
}

/* Chains that cannot be requests break the device (no status byte to answer in); a reset and a
 * fresh start bring it back. */
static void test_malformed(struct fixture *f, gconstpointer data)
{
	static const struct buf cases[][3] = {
	    {{BUF, 16, false}, {BUF + 512, 512, false}}, /* no writable status byte */
	    {{BUF, 8, false}, {BUF + 512, 1, true}},	 /* header too short */
	    {{BUF + 512, 1, true}},			 /* no header at all */
	    {{BUF, 16, false}, {RAM - 8, 512, true}},	 /* data beyond guest RAM */
	    {{BUF, 16, false}, {BUF + 512, 0, true}},	 /* zero-length status */
	};
	static const unsigned n[] = {2, 2, 1, 2, 2};

	for (unsigned c = 0; c < G_N_ELEMENTS(cases); c++) {
		struct virtio_stats before, after;

		start(f, 0);
		put_hdr(f, BUF, VIRTIO_BLK_T_IN, 0);
		virtio_device_get_stats(f->v, &before);
		submit(f, 0, cases[c], n[c]);
		g_assert_true(wait_needs_reset(f));
		g_assert_cmpuint(used_idx(f, 0), ==, 0);
		virtio_device_get_stats(f->v, &after);
		g_assert_cmpuint(after.errors, >, before.errors);
		/* Nothing more until the reset. */
		put_hdr(f, BUF + 0x1000, VIRTIO_BLK_T_IN, 0);
		submit(f, 0, (struct buf[]){{BUF + 0x1000, 16, false}, {BUF + 0x2000, 513, true}}, 2);
		g_usleep(50000);
		g_assert_cmpuint(used_idx(f, 0), ==, 0);
		set_status(f, 0);
		g_assert_cmpuint(status(f), ==, 0);
	}
	start(f, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 1, BUF, 512, true, NULL), ==, VIRTIO_BLK_S_OK);
}

/* A full queue of requests at once (all in flight together), on every queue. */
static void test_many_in_flight(struct fixture *f, gconstpointer data)
{
	const struct params *p = data;
	const unsigned per_queue = QSIZE / 3; /* three descriptors each, no indirect tables */
	struct virtio_stats st;

	start(f, (1ULL << VIRTIO_BLK_F_FLUSH) | (p->queues > 1 ? 1ULL << VIRTIO_BLK_F_MQ : 0));
	for (unsigned q = 0; q < p->queues; q++)
		for (unsigned i = 0; i < per_queue; i++) {
			uint64_t slot = BUF + (q * per_queue + i) * 0x2000u;
			put_hdr(f, slot, VIRTIO_BLK_T_IN, q * 100 + i * 8);
			submit(f, q,
			       (struct buf[]){
				   {slot, 16, false}, {slot + 0x1000, 4096, true}, {slot + 16, 1, true}},
			       3);
		}
	for (unsigned q = 0; q < p->queues; q++) {
		for (int i = 0; i < 5000 && used_idx(f, q) != per_queue; i++)
			g_usleep(1000);
		g_assert_cmpuint(used_idx(f, q), ==, per_queue);
		for (unsigned i = 0; i < per_queue; i++) {
			uint64_t slot = BUF + (q * per_queue + i) * 0x2000u;
			uint32_t sector;
			g_assert_cmpuint(get8(f, slot + 16), ==, VIRTIO_BLK_S_OK);
			g_assert_cmpint(guest_memory_read(f->mem, slot + 0x1000 + 7 * 512, &sector, 4), ==,
					0);
			g_assert_cmpuint(sector, ==, q * 100 + i * 8 + 7);
		}
	}
	virtio_device_get_stats(f->v, &st);
	g_assert_cmpuint(st.read_ops, ==, per_queue * p->queues);
	g_assert_cmpuint(st.read_bytes, ==, per_queue * p->queues * 4096ull);
}

static void test_readonly(struct fixture *f, gconstpointer data)
{
	uint8_t back[512];

	start(f, (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_RO));
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 9, BUF, 512, true, NULL), ==, VIRTIO_BLK_S_OK);
	g_assert_cmpint(guest_memory_write(f->mem, BUF, (uint8_t[512]){0}, 512), ==, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_OUT, 9, BUF, 512, false, NULL), ==, VIRTIO_BLK_S_IOERR);
	file_read(f, 9 * 512, back, sizeof(back));
	g_assert_cmpuint(back[0], ==, 9);
	/* DISCARD cannot be negotiated on a read-only disk. */
	put_segment(f, BUF, 9, 1, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_DISCARD, 0, BUF, 16, false, NULL), ==,
			 VIRTIO_BLK_S_UNSUPP);
	file_read(f, 9 * 512, back, sizeof(back));
	g_assert_cmpuint(back[0], ==, 9);
	/* A flush has nothing to write back, and succeeds. */
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), ==, VIRTIO_BLK_S_OK);
}

/* A reset while large writes are in flight waits for them and drops their answers; the device
 * then starts afresh. */
static void test_reset_in_flight(struct fixture *f, gconstpointer data)
{
	start(f, 1ULL << VIRTIO_BLK_F_FLUSH);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t slot = BUF + i * 0x40000u;
		put_hdr(f, slot, VIRTIO_BLK_T_OUT, i * 256);
		submit(
		    f, 0,
		    (struct buf[]){{slot, 16, false}, {slot + 0x1000, 0x20000, false}, {slot + 16, 1, true}},
		    3);
	}
	set_status(f, 0);
	g_assert_cmpuint(status(f), ==, 0);
	start(f, 1ULL << VIRTIO_BLK_F_FLUSH);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 1, BUF, 512, true, NULL), ==, VIRTIO_BLK_S_OK);
}

/* direct=on: the guest is told the O_DIRECT block size; buffers at odd guest addresses go
 * through a bounce buffer; offsets the file system cannot take directly fail with IOERR. */
static void test_direct(struct fixture *f, gconstpointer data)
{
	uint32_t lbs, sector;
	uint8_t buf[8192], back[8192];

	if (!f->v)
		return; /* skipped in setup */
	lbs = cfg32(f, 20);
	g_assert_cmpuint(lbs, >=, 512);
	g_assert_cmpuint(lbs & (lbs - 1), ==, 0);
	start(f, 1ULL << VIRTIO_BLK_F_FLUSH);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 16, BUF + 1, lbs, true, NULL), ==, VIRTIO_BLK_S_OK);
	g_assert_cmpint(guest_memory_read(f->mem, BUF + 1, &sector, 4), ==, 0);
	g_assert_cmpuint(sector, ==, 16);
	for (unsigned i = 0; i < lbs; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	g_assert_cmpint(guest_memory_write(f->mem, BUF + 3, buf, lbs), ==, 0);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_OUT, 32, BUF + 3, lbs, false, NULL), ==,
			 VIRTIO_BLK_S_OK);
	g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), ==, VIRTIO_BLK_S_OK);
	file_read(f, 32 * 512, back, lbs);
	g_assert_cmpmem(buf, lbs, back, lbs);
	if (lbs > 512)
		g_assert_cmpuint(request(f, 0, VIRTIO_BLK_T_IN, 1, BUF, 512, true, NULL), ==,
				 VIRTIO_BLK_S_IOERR);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_NEEDS_RESET, ==, 0);
}

/* Table-driven checks of the parser alone, including splits no test above makes. */
static void test_parse(void)
{
	uint8_t mem[1024] = {0};
	struct iovec iov[4];
	struct virtq_elem e = {.iov = iov, .cap = 4};
	struct blk_request r;
	struct blk_limits lim = {.capacity = 8};
	struct disk_request d;

	/* One readable descriptor holding header and data, one writable: status only. */
	mem[0] = VIRTIO_BLK_T_OUT;
	mem[8] = 7;
	iov[0] = (struct iovec){mem, 16 + 4};
	iov[1] = (struct iovec){mem + 40, 1};
	e.n_out = 1, e.n_in = 1, e.out_len = 20, e.in_len = 1;
	g_assert_cmpint(blk_request_parse(&e, &r), ==, 0);
	g_assert_cmpuint(r.type, ==, VIRTIO_BLK_T_OUT);
	g_assert_cmpuint(r.sector, ==, 7);
	g_assert_true(r.status == mem + 40);
	g_assert_cmpuint(r.n_data, ==, 1);
	g_assert_true(r.data[0].iov_base == mem + 16);
	g_assert_cmpuint(r.data_len, ==, 4);
	/* 4 bytes are not a sector. */
	g_assert_cmpuint(blk_request_prepare(&r, &lim, &d), ==, VIRTIO_BLK_S_IOERR);

	/* The header exactly fills the readable part: an OUT without data. */
	iov[0] = (struct iovec){mem, 16};
	iov[1] = (struct iovec){mem + 40, 1};
	e.out_len = 16;
	g_assert_cmpint(blk_request_parse(&e, &r), ==, 0);
	g_assert_cmpuint(r.n_data, ==, 0);
	g_assert_cmpuint(blk_request_prepare(&r, &lim, &d), ==, VIRTIO_BLK_S_IOERR);

	/* A read of sector 7: the last one. */
	mem[0] = VIRTIO_BLK_T_IN;
	iov[0] = (struct iovec){mem, 16};
	iov[1] = (struct iovec){mem + 16, 513};
	e.in_len = 513;
	g_assert_cmpint(blk_request_parse(&e, &r), ==, 0);
	g_assert_cmpuint(r.data_len, ==, 512);
	g_assert_true(r.status == mem + 16 + 512);
	g_assert_cmpuint(blk_request_prepare(&r, &lim, &d), ==, VIRTIO_BLK_S_OK);
	g_assert_cmpuint(d.op, ==, DISK_OP_READ);
	g_assert_cmpuint(d.offset, ==, 7 * 512);
	mem[8] = 8;
	iov[1] = (struct iovec){mem + 16, 513};
	g_assert_cmpint(blk_request_parse(&e, &r), ==, 0);
	g_assert_cmpuint(blk_request_prepare(&r, &lim, &d), ==, VIRTIO_BLK_S_IOERR);

	/* Structural errors. */
	e.in_len = 0, e.n_in = 0;
	g_assert_cmpint(blk_request_parse(&e, &r), ==, -EBADMSG);
	e.in_len = 1, e.n_in = 1, e.out_len = 15;
	iov[0].iov_len = 15;
	g_assert_cmpint(blk_request_parse(&e, &r), ==, -EBADMSG);
}

static const struct params p_uring = {DISK_ENGINE_IO_URING, 1, false};
static const struct params p_threads = {DISK_ENGINE_THREADS, 1, false};
static const struct params p_mq_uring = {DISK_ENGINE_IO_URING, 2, false};
static const struct params p_mq_threads = {DISK_ENGINE_THREADS, 2, false};
static const struct params p_ro = {DISK_ENGINE_THREADS, 1, true};
static const struct params p_direct = {DISK_ENGINE_AUTO, 1, false, true};

static bool have_io_uring(void)
{
	g_autofree char *path = NULL;
	struct disk *disk = NULL;
	struct disk_queue *q = NULL;
	int fd = g_file_open_tmp("test-virtio-blk-probe-XXXXXX", &path, NULL);
	bool ok;

	g_assert_cmpint(ftruncate(fd, 4096), ==, 0);
	close(fd);
	g_assert_cmpint(disk_open(path, NULL, &disk), ==, 0);
	ok = disk_queue_new(disk, 4, DISK_ENGINE_IO_URING, &q) == 0;
	disk_queue_free(q);
	disk_free(disk);
	g_unlink(path);
	return ok;
}

#define ADD(name, p, fn) g_test_add(name, struct fixture, p, setup, fn, teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtio-blk/parse", test_parse);
	const struct params *engines[] = {&p_threads, &p_uring};
	const struct params *mq[] = {&p_mq_threads, &p_mq_uring};
	unsigned n_engines = have_io_uring() ? 2 : 1;
	if (n_engines == 1)
		g_test_message("io_uring is not available here: the io_uring cases are left out");
	static const struct {
		const char *name;
		void (*fn)(struct fixture *f, gconstpointer data);
		bool mq;
	} cases[] = {
	    {"config", test_config},
	    {"read-write", test_read_write},
	    {"any-layout", test_any_layout},
	    {"get-id", test_get_id},
	    {"discard-write-zeroes", test_discard_write_zeroes},
	    {"not-negotiated", test_not_negotiated},
	    {"bad-requests", test_bad_requests},
	    {"malformed", test_malformed},
	    {"many-in-flight", test_many_in_flight},
	    {"multi-queue-config", test_config, true},
	    {"multi-queue", test_many_in_flight, true},
	    {"reset-in-flight", test_reset_in_flight},
	};
	for (unsigned i = 0; i < n_engines; i++)
		for (unsigned c = 0; c < G_N_ELEMENTS(cases); c++) {
			g_autofree char *name = g_strdup_printf(
			    "/virtio-blk/%s/%s", disk_engine_to_string(engines[i]->engine), cases[c].name);
			ADD(name, cases[c].mq ? mq[i] : engines[i], cases[c].fn);
		}
	ADD("/virtio-blk/readonly/config", &p_ro, test_config);
	ADD("/virtio-blk/readonly/requests", &p_ro, test_readonly);
	ADD("/virtio-blk/direct/requests", &p_direct, test_direct);
	return g_test_run();
}
