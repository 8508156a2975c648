/* SPDX-License-Identifier: Apache-2.0 */
/* The raw disk backend against real files: on the test's temporary folder (ext4 or whatever
 * TMPDIR is) and on /dev/shm (tmpfs: no ZERO_RANGE, so the write-zeroes fallback runs). Every
 * queue test runs on both engines, the thread pool forced. Data is checked through a second,
 * independent file descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Ours before GLib: common/macro.h defines MIN/MAX unconditionally, and gmacros.h #undefs them. */
#include "backends/disk-queue.h"
#include "backends/disk.h"

#include <glib.h>

typedef struct disk Disk;
typedef struct disk_queue DiskQueue;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Disk, disk_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DiskQueue, disk_queue_free)

#define TMPFS_MAGIC 0x01021994
#define MiB (1u << 20)

static char *tmpdir;

/* A file of size bytes, byte i = pattern(i); returns its path (g_free it). */
static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 12));
}

static char *make_image(const char *dir, uint64_t size)
{
	char *path = g_build_filename(dir, "disk-XXXXXX", NULL);
	int fd = g_mkstemp(path);
	g_assert_cmpint(fd, >=, 0);
	g_autofree uint8_t *buf = g_malloc(size);
	for (uint64_t i = 0; i < size; i++)
		buf[i] = pattern(i);
	g_assert_cmpint(pwrite(fd, buf, size, 0), ==, (ssize_t)size);
	g_assert_cmpint(fsync(fd), ==, 0);
	close(fd);
	return path;
}

/* Reads the file's bytes through a fresh descriptor, never through the backend. */
static uint8_t *slurp(const char *path, uint64_t off, size_t len)
{
	uint8_t *buf = g_malloc(len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, buf, len, (off_t)off), ==, (ssize_t)len);
	close(fd);
	return buf;
}

static void assert_pattern(const uint8_t *buf, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(off + i))
			g_error("byte %" G_GUINT64_FORMAT ": 0x%02x, expected 0x%02x", off + i, buf[i],
				pattern(off + i));
}

static void assert_filled(const uint8_t *buf, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != v)
			g_error("byte %zu: 0x%02x, expected 0x%02x", i, buf[i], v);
}

static void test_tables(void)
{
	for (int i = 0; i < _DISK_OP_MAX; i++) {
		const char *s = disk_op_to_string((enum disk_op)i);
		g_assert_nonnull(s);
		g_assert_cmpint(disk_op_from_string(s), ==, i);
	}
	for (int i = 0; i < _DISK_ENGINE_MAX; i++) {
		const char *s = disk_engine_to_string((enum disk_engine)i);
		g_assert_nonnull(s);
		g_assert_cmpint(disk_engine_from_string(s), ==, i);
	}
	g_assert_null(disk_op_to_string(_DISK_OP_MAX));
	g_assert_null(disk_op_to_string(_DISK_OP_INVALID));
	g_assert_cmpint(disk_op_from_string("trim"), ==, -EINVAL);
	g_assert_cmpint(disk_op_from_string(NULL), ==, -EINVAL);
	g_assert_null(disk_engine_to_string(_DISK_ENGINE_MAX));
	g_assert_cmpint(disk_engine_from_string("aio"), ==, -EINVAL);
}

static void test_open(void)
{
	g_autofree char *a = make_image(tmpdir, 3 * 4096 + 512);
	g_autofree char *b = make_image(tmpdir, 4096);
	g_autoptr(Disk) d = NULL;
	g_autoptr(Disk) d2 = NULL;
	g_autoptr(Disk) e = NULL;
	struct disk *none = NULL;

	g_assert_cmpint(disk_open(a, NULL, &d), ==, 0);
	g_assert_cmpuint(disk_size(d), ==, 3 * 4096 + 512);
	g_assert_cmpuint(disk_logical_block_size(d), ==, 512);
	g_assert_cmpuint(disk_physical_block_size(d) % 512, ==, 0);
	g_assert_false(disk_readonly(d));
	g_assert_false(disk_direct(d));
	g_assert_cmpstr(disk_name(d), ==, a);
	g_assert_cmpuint(strlen(disk_serial(d)), >, 0);
	g_assert_cmpuint(strlen(disk_serial(d)), <=, DISK_SERIAL_MAX);

	/* The serial is the file's: the same in a second open, different for another file. */
	g_assert_cmpint(disk_open(a, &(struct disk_options){.readonly = true}, &d2), ==, 0);
	g_assert_cmpstr(disk_serial(d), ==, disk_serial(d2));
	g_assert_cmpint(disk_open(b, &(struct disk_options){.serial = "web1-root"}, &e), ==, 0);
	g_assert_cmpstr(disk_serial(e), ==, "web1-root");
	e = disk_free(e);
	g_assert_cmpint(disk_open(b, NULL, &e), ==, 0);
	g_assert_cmpstr(disk_serial(d), !=, disk_serial(e));

	/* Refusals leave *ret alone. */
	g_assert_cmpint(disk_open(b, &(struct disk_options){.serial = "123456789012345678901"}, &none), ==,
			-EINVAL);
	g_assert_cmpint(disk_open(b, &(struct disk_options){.serial = "with space"}, &none), ==, -EINVAL);
	g_assert_cmpint(disk_open(b, &(struct disk_options){.serial = ""}, &none), ==, -EINVAL);
	g_autofree char *missing = g_build_filename(tmpdir, "missing.img", NULL);
	g_assert_cmpint(disk_open(missing, NULL, &none), ==, -ENOENT);
	g_assert_cmpint(disk_open(tmpdir, &(struct disk_options){.readonly = true}, &none), ==, -EISDIR);
	g_assert_cmpint(disk_open("/dev/null", NULL, &none), ==, -ENOTBLK);
	g_assert_null(none);
}

static void test_open_fd(void)
{
	g_autofree char *a = make_image(tmpdir, 8192);
	g_autoptr(Disk) d = NULL;
	int fd = open(a, O_RDONLY | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	/* A writable disk from a read-only fd: refused, and the fd is still the caller's. */
	g_assert_cmpint(disk_open_fd(fd, "fd:3", NULL, &d), ==, -EBADF);
	g_assert_cmpint(fcntl(fd, F_GETFD), >=, 0);
	g_assert_cmpint(disk_open_fd(fd, "fd:3", &(struct disk_options){.readonly = true}, &d), ==, 0);
	g_assert_cmpstr(disk_name(d), ==, "fd:3");
	g_assert_cmpint(disk_fd(d), ==, fd);
	g_assert_cmpuint(disk_size(d), ==, 8192);
	uint8_t buf[100];
	struct iovec v = {buf, sizeof(buf)};
	g_assert_cmpint(disk_readv(d, 5000, &v, 1), ==, 0);
	assert_pattern(buf, 5000, sizeof(buf));
	d = disk_free(d);
	/* Owned: closed with the disk. */
	g_assert_cmpint(fcntl(fd, F_GETFD), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
}

static void test_sync_io(void)
{
	g_autofree char *a = make_image(tmpdir, 64 * 1024);
	g_autoptr(Disk) d = NULL;
	uint8_t x[100], y[3000], z[1];
	struct iovec w[3] = {{x, sizeof(x)}, {y, sizeof(y)}, {z, sizeof(z)}};

	g_assert_cmpint(disk_open(a, NULL, &d), ==, 0);
	memset(x, 0x11, sizeof(x));
	memset(y, 0x22, sizeof(y));
	memset(z, 0x33, sizeof(z));
	g_assert_cmpint(disk_writev(d, 4196, w, 3), ==, 0);
	g_assert_cmpint(disk_flush(d), ==, 0);

	g_autofree uint8_t *f = slurp(a, 4096, 3300);
	assert_pattern(f, 4096, 100);
	assert_filled(f + 100, 100, 0x11);
	assert_filled(f + 200, 3000, 0x22);
	assert_filled(f + 3200, 1, 0x33);
	assert_pattern(f + 3201, 4096 + 3201, 99);

	/* Read it back split differently. */
	uint8_t r1[7], r2[3194];
	struct iovec r[2] = {{r1, sizeof(r1)}, {r2, sizeof(r2)}};
	g_assert_cmpint(disk_readv(d, 4196, r, 2), ==, 0);
	assert_filled(r1, sizeof(r1), 0x11);
	assert_filled(r2, 93, 0x11);
	assert_filled(r2 + 93, 3000, 0x22);
	assert_filled(r2 + 3093, 1, 0x33);

	/* The last byte is readable, one more is not. */
	g_assert_cmpint(disk_readv(d, 64 * 1024 - 1, &(struct iovec){z, 1}, 1), ==, 0);
	g_assert_cmpint(disk_readv(d, 64 * 1024 - 1, &(struct iovec){r1, 2}, 1), ==, -ERANGE);
	g_assert_cmpint(disk_readv(d, UINT64_MAX, &(struct iovec){r1, 2}, 1), ==, -ERANGE);
	g_assert_cmpint(disk_writev(d, 64 * 1024, &(struct iovec){r1, 1}, 1), ==, -ERANGE);
	g_assert_cmpint(disk_readv(d, 0, r, 0), ==, -EINVAL);
	g_assert_cmpint(disk_discard(d, 60 * 1024, 8192), ==, -ERANGE);
	g_assert_cmpint(disk_write_zeroes(d, UINT64_MAX - 10, 20), ==, -ERANGE);
}

static void test_readonly(void)
{
	g_autofree char *a = make_image(tmpdir, 8192);
	g_autoptr(Disk) d = NULL;
	uint8_t buf[512] = {};
	struct iovec v = {buf, sizeof(buf)};

	g_assert_cmpint(disk_open(a, &(struct disk_options){.readonly = true}, &d), ==, 0);
	g_assert_true(disk_readonly(d));
	g_assert_cmpint(disk_writev(d, 0, &v, 1), ==, -EROFS);
	g_assert_cmpint(disk_discard(d, 0, 4096), ==, -EROFS);
	g_assert_cmpint(disk_write_zeroes(d, 0, 4096), ==, -EROFS);
	g_assert_cmpint(disk_flush(d), ==, 0);
	g_assert_cmpint(disk_readv(d, 512, &v, 1), ==, 0);
	assert_pattern(buf, 512, sizeof(buf));
	g_autofree uint8_t *f = slurp(a, 0, 8192);
	assert_pattern(f, 0, 8192);
}

static void check_zeroed_range(const char *path, uint64_t size, uint64_t off, uint64_t len)
{
	g_autofree uint8_t *f = slurp(path, 0, size);
	struct stat st;

	assert_pattern(f, 0, off);
	assert_filled(f + off, len, 0);
	assert_pattern(f + off + len, off + len, size - off - len);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, (off_t)size);
}

static void test_discard(void)
{
	g_autofree char *a = make_image(tmpdir, 1 * MiB);
	g_autoptr(Disk) d = NULL;
	struct stat before, after;

	g_assert_cmpint(stat(a, &before), ==, 0);
	g_assert_cmpint(disk_open(a, NULL, &d), ==, 0);
	g_assert_cmpint(disk_discard(d, 256 * 1024, 256 * 1024), ==, 0);
	g_assert_cmpint(disk_discard(d, 0, 0), ==, 0);
	check_zeroed_range(a, 1 * MiB, 256 * 1024, 256 * 1024);
	g_assert_cmpint(stat(a, &after), ==, 0);
	g_assert_cmpint(after.st_blocks, <, before.st_blocks); /* the space went back to the host */
}

static void test_write_zeroes(gconstpointer dir_p)
{
	const char *dir = dir_p ? dir_p : tmpdir;
	struct statfs sfs;

	if (statfs(dir, &sfs) < 0) {
		g_test_skip("no such folder");
		return;
	}
	g_autofree char *a = make_image(dir, 1 * MiB);
	g_autoptr(Disk) d = NULL;

	g_assert_cmpint(disk_open(a, NULL, &d), ==, 0);
	/* Unaligned on purpose, and longer than one fallback chunk. */
	g_assert_cmpint(disk_write_zeroes(d, 1000, 200 * 1000 + 7), ==, 0);
	check_zeroed_range(a, 1 * MiB, 1000, 200 * 1000 + 7);
	g_assert_cmpint(disk_write_zeroes(d, 1 * MiB, 0), ==, 0);
	unlink(a);
}

static void test_direct(void)
{
	g_autofree char *a = make_image(tmpdir, 256 * 1024);
	g_autoptr(Disk) d = NULL;
	int r = disk_open(a, &(struct disk_options){.direct = true}, &d);

	if (r == -EINVAL) {
		g_test_skip("the test folder's file system has no O_DIRECT");
		return;
	}
	g_assert_cmpint(r, ==, 0);
	g_assert_true(disk_direct(d));
	g_assert_cmpint(fcntl(disk_fd(d), F_GETFL) & O_DIRECT, !=, 0);
	unsigned lbs = disk_logical_block_size(d), align = disk_memory_alignment(d);
	g_assert_cmpuint(lbs, >=, 512);
	g_assert_cmpuint(lbs & (lbs - 1), ==, 0);
	g_assert_cmpuint(align, >=, 1);

	/* Aligned buffers go straight through. */
	uint8_t *buf = NULL;
	g_assert_cmpint(posix_memalign((void **)&buf, 4096, 3 * 4096), ==, 0);
	g_assert_cmpint(disk_readv(d, 4096, &(struct iovec){buf, 4096}, 1), ==, 0);
	assert_pattern(buf, 4096, 4096);

	/* A buffer off by one byte, split in odd pieces: bounced, same result either way. */
	uint8_t *odd = buf + 1;
	struct iovec v[2] = {{odd, 100}, {odd + 100, 2 * lbs - 100}};
	g_assert_cmpint(disk_readv(d, 8 * lbs, v, 2), ==, 0);
	assert_pattern(odd, 8 * lbs, 2 * lbs);
	memset(odd, 0x5a, 2 * lbs);
	g_assert_cmpint(disk_writev(d, 2 * lbs, v, 2), ==, 0);
	g_autofree uint8_t *f = slurp(a, lbs, 4 * lbs);
	assert_pattern(f, lbs, lbs);
	assert_filled(f + lbs, 2 * lbs, 0x5a);
	assert_pattern(f + 3 * lbs, 3 * lbs, lbs);

	/* Offsets and lengths off the block size cannot be done with O_DIRECT. */
	g_assert_cmpint(disk_readv(d, 1, &(struct iovec){buf, lbs}, 1), ==, -EINVAL);
	g_assert_cmpint(disk_readv(d, 0, &(struct iovec){buf, lbs + 1}, 1), ==, -EINVAL);
	g_assert_cmpint(disk_write_zeroes(d, 0, 100), ==, -EINVAL);
	g_assert_cmpint(disk_write_zeroes(d, lbs, lbs), ==, 0);
	g_assert_cmpint(disk_flush(d), ==, 0);
	free(buf);
}

/* Polls the eventfd as an I/O thread would and reaps until at least n more requests finished. */
struct reaped {
	unsigned n;
	int first_error;
};

static void on_done(struct disk_request *req, void *userdata)
{
	struct reaped *r = userdata;
	r->n++;
	if (req->result < 0 && r->first_error == 0)
		r->first_error = req->result;
}

static void wait_for(struct disk_queue *q, struct reaped *r, unsigned n)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	unsigned want = r->n + n;

	while (r->n < want) {
		struct pollfd p = {.fd = disk_queue_eventfd(q), .events = POLLIN};
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_assert_cmpint(poll(&p, 1, 1000), >=, 0);
		g_assert_cmpint(disk_queue_reap(q, on_done, r), >=, 0);
	}
}

static struct disk_queue *new_queue(struct disk *d, unsigned depth, enum disk_engine engine)
{
	struct disk_queue *q = NULL;
	int r = disk_queue_new(d, depth, engine, &q);
	if (r == -EOPNOTSUPP && engine == DISK_ENGINE_IO_URING)
		return NULL;
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpint(disk_queue_engine(q), ==, engine);
	return q;
}

#define BLOCKS 64
#define BLOCK 4096

/* Many writes and reads in flight at once, never more than depth, checked byte for byte. */
static void test_queue_io(gconstpointer engine_p)
{
	enum disk_engine engine = GPOINTER_TO_INT(engine_p);
	g_autofree char *a = make_image(tmpdir, BLOCKS * BLOCK);
	g_autoptr(Disk) d = NULL;
	g_autoptr(DiskQueue) q = NULL;
	static uint8_t data[BLOCKS][BLOCK];
	struct disk_request req[BLOCKS];
	struct iovec iov[BLOCKS][2];
	struct reaped done = {};
	const unsigned depth = 16;

	g_assert_cmpint(disk_open(a, NULL, &d), ==, 0);
	q = new_queue(d, depth, engine);
	if (!q) {
		g_test_skip("io_uring is not available here");
		return;
	}

	/* Writes: block i filled with i, in two iovecs each. */
	for (unsigned i = 0; i < BLOCKS; i++) {
		memset(data[i], (int)i, BLOCK);
		iov[i][0] = (struct iovec){data[i], 1000};
		iov[i][1] = (struct iovec){data[i] + 1000, BLOCK - 1000};
		req[i] = (struct disk_request){
		    .op = DISK_OP_WRITE, .offset = (uint64_t)i * BLOCK, .iov = iov[i], .iovcnt = 2};
	}
	for (unsigned i = 0; i < BLOCKS;) {
		while (i < BLOCKS && disk_queue_in_flight(q) < depth)
			g_assert_cmpint(disk_queue_submit(q, &req[i++]), ==, 0);
		if (i < BLOCKS) /* full: one more is refused until something completes */
			g_assert_cmpint(disk_queue_submit(q, &req[i]), ==, -EAGAIN);
		g_assert_cmpint(disk_queue_kick(q), ==, 0);
		wait_for(q, &done, 1);
	}
	wait_for(q, &done, disk_queue_in_flight(q));
	g_assert_cmpint(done.first_error, ==, 0);
	for (unsigned i = 0; i < BLOCKS; i++)
		g_assert_cmpuint(req[i].len, ==, BLOCK);

	struct disk_request flush = {.op = DISK_OP_FLUSH};
	g_assert_cmpint(disk_queue_submit(q, &flush), ==, 0);
	g_assert_cmpint(disk_queue_kick(q), ==, 0);
	wait_for(q, &done, 1);
	g_assert_cmpint(flush.result, ==, 0);

	g_autofree uint8_t *f = slurp(a, 0, BLOCKS * BLOCK);
	for (unsigned i = 0; i < BLOCKS; i++)
		assert_filled(f + (size_t)i * BLOCK, BLOCK, (uint8_t)i);

	/* Reads into cleared buffers, in reverse order. */
	memset(data, 0xee, sizeof(data));
	for (unsigned i = 0; i < BLOCKS; i += depth) {
		for (unsigned j = i; j < i + depth; j++) {
			unsigned b = BLOCKS - 1 - j;
			req[b].op = DISK_OP_READ;
			g_assert_cmpint(disk_queue_submit(q, &req[b]), ==, 0);
		}
		g_assert_cmpint(disk_queue_kick(q), ==, 0);
		wait_for(q, &done, depth);
	}
	g_assert_cmpint(done.first_error, ==, 0);
	for (unsigned i = 0; i < BLOCKS; i++)
		assert_filled(data[i], BLOCK, (uint8_t)i);
}

/* Discard, write-zeroes, checks refused at submit, and freeing with requests in flight. */
static void test_queue_ops(gconstpointer engine_p)
{
	enum disk_engine engine = GPOINTER_TO_INT(engine_p);
	g_autofree char *a = make_image(tmpdir, 1 * MiB);
	g_autofree char *shm =
	    g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? make_image("/dev/shm", 1 * MiB) : NULL;
	g_autoptr(Disk) d = NULL;
	g_autoptr(Disk) ro = NULL;
	g_autoptr(Disk) t = NULL;
	g_autoptr(DiskQueue) q = NULL;
	g_autoptr(DiskQueue) qro = NULL;
	g_autoptr(DiskQueue) qt = NULL;
	struct reaped done = {};

	g_assert_cmpint(disk_open(a, NULL, &d), ==, 0);
	q = new_queue(d, 8, engine);
	if (!q) {
		g_test_skip("io_uring is not available here");
		if (shm)
			unlink(shm);
		return;
	}
	struct disk_request disc = {.op = DISK_OP_DISCARD, .offset = 64 * 1024, .len = 64 * 1024};
	struct disk_request zero = {.op = DISK_OP_WRITE_ZEROES, .offset = 300 * 1024 + 3, .len = 5000};
	g_assert_cmpint(disk_queue_submit(q, &disc), ==, 0);
	g_assert_cmpint(disk_queue_submit(q, &zero), ==, 0);
	g_assert_cmpint(disk_queue_kick(q), ==, 0);
	wait_for(q, &done, 2);
	g_assert_cmpint(disc.result, ==, 0);
	g_assert_cmpint(zero.result, ==, 0);
	g_autofree uint8_t *f = slurp(a, 0, 1 * MiB);
	assert_pattern(f, 0, 64 * 1024);
	assert_filled(f + 64 * 1024, 64 * 1024, 0);
	assert_pattern(f + 128 * 1024, 128 * 1024, 300 * 1024 + 3 - 128 * 1024);
	assert_filled(f + 300 * 1024 + 3, 5000, 0);
	assert_pattern(f + 300 * 1024 + 5003, 300 * 1024 + 5003, 1 * MiB - 300 * 1024 - 5003);

	/* Refused synchronously, never queued. */
	uint8_t b[16];
	struct disk_request bad = {
	    .op = DISK_OP_READ, .offset = 1 * MiB - 8, .iov = &(struct iovec){b, 16}, .iovcnt = 1};
	g_assert_cmpint(disk_queue_submit(q, &bad), ==, -ERANGE);
	bad.iovcnt = 0;
	g_assert_cmpint(disk_queue_submit(q, &bad), ==, -EINVAL);
	bad.op = (enum disk_op)42;
	g_assert_cmpint(disk_queue_submit(q, &bad), ==, -EINVAL);
	g_assert_cmpint(disk_queue_submit(q, NULL), ==, -EINVAL);
	g_assert_cmpuint(disk_queue_in_flight(q), ==, 0);

	g_assert_cmpint(disk_open(a, &(struct disk_options){.readonly = true}, &ro), ==, 0);
	qro = new_queue(ro, 4, engine);
	struct disk_request w = {.op = DISK_OP_WRITE, .iov = &(struct iovec){b, 16}, .iovcnt = 1};
	g_assert_cmpint(disk_queue_submit(qro, &w), ==, -EROFS);
	w.op = DISK_OP_WRITE_ZEROES;
	g_assert_cmpint(disk_queue_submit(qro, &w), ==, -EROFS);
	w.op = DISK_OP_DISCARD;
	g_assert_cmpint(disk_queue_submit(qro, &w), ==, -EROFS);

	/* tmpfs has no ZERO_RANGE: the engine falls back to writing zeroes, twice in a row. */
	if (shm) {
		g_assert_cmpint(disk_open(shm, NULL, &t), ==, 0);
		qt = new_queue(t, 4, engine);
		struct disk_request z1 = {.op = DISK_OP_WRITE_ZEROES, .offset = 10, .len = 100 * 1000};
		struct disk_request z2 = {.op = DISK_OP_WRITE_ZEROES, .offset = 512 * 1024, .len = 4096};
		g_assert_cmpint(disk_queue_submit(qt, &z1), ==, 0);
		g_assert_cmpint(disk_queue_kick(qt), ==, 0);
		wait_for(qt, &done, 1);
		g_assert_cmpint(disk_queue_submit(qt, &z2), ==, 0);
		g_assert_cmpint(disk_queue_kick(qt), ==, 0);
		wait_for(qt, &done, 1);
		g_assert_cmpint(z1.result, ==, 0);
		g_assert_cmpint(z2.result, ==, 0);
		g_autofree uint8_t *g = slurp(shm, 0, 1 * MiB);
		assert_pattern(g, 0, 10);
		assert_filled(g + 10, 100 * 1000, 0);
		assert_pattern(g + 100010, 100010, 512 * 1024 - 100010);
		assert_filled(g + 512 * 1024, 4096, 0);
		assert_pattern(g + 516 * 1024, 516 * 1024, 1 * MiB - 516 * 1024);
		unlink(shm);
	}

	/* Freed with reads in flight and one never kicked: waits, calls nobody back. */
	static uint8_t big[8][64 * 1024];
	struct disk_request rd[8];
	struct iovec rdv[8];
	for (unsigned i = 0; i < 8; i++) {
		rdv[i] = (struct iovec){big[i], sizeof(big[i])};
		rd[i] = (struct disk_request){
		    .op = DISK_OP_READ, .offset = (uint64_t)i * 64 * 1024, .iov = &rdv[i], .iovcnt = 1};
		g_assert_cmpint(disk_queue_submit(q, &rd[i]), ==, 0);
		if (i == 6)
			g_assert_cmpint(disk_queue_kick(q), ==, 0);
	}
	q = disk_queue_free(q);
	for (unsigned i = 0; i < 8; i++)
		g_assert_cmpmem(big[i], sizeof(big[i]), f + (size_t)i * 64 * 1024, sizeof(big[i]));
}

/* O_DIRECT through the queue: aligned and bounced buffers. */
static void test_queue_direct(gconstpointer engine_p)
{
	enum disk_engine engine = GPOINTER_TO_INT(engine_p);
	g_autofree char *a = make_image(tmpdir, 256 * 1024);
	g_autoptr(Disk) d = NULL;
	g_autoptr(DiskQueue) q = NULL;
	struct reaped done = {};

	if (disk_open(a, &(struct disk_options){.direct = true}, &d) == -EINVAL) {
		g_test_skip("the test folder's file system has no O_DIRECT");
		return;
	}
	g_assert_nonnull(d);
	q = new_queue(d, 4, engine);
	if (!q) {
		g_test_skip("io_uring is not available here");
		return;
	}
	unsigned lbs = disk_logical_block_size(d);
	uint8_t *buf = NULL;
	g_assert_cmpint(posix_memalign((void **)&buf, 4096, 4 * lbs + 4096), ==, 0);
	struct disk_request r1 = {
	    .op = DISK_OP_READ, .offset = lbs, .iov = &(struct iovec){buf, lbs}, .iovcnt = 1};
	struct disk_request r2 = {.op = DISK_OP_READ,
				  .offset = 4 * lbs,
				  .iov = &(struct iovec){buf + 2 * lbs + 3, 2 * lbs},
				  .iovcnt = 1};
	g_assert_cmpint(disk_queue_submit(q, &r1), ==, 0);
	g_assert_cmpint(disk_queue_submit(q, &r2), ==, 0);
	g_assert_cmpint(disk_queue_kick(q), ==, 0);
	wait_for(q, &done, 2);
	g_assert_cmpint(done.first_error, ==, 0);
	assert_pattern(buf, lbs, lbs);
	assert_pattern(buf + 2 * lbs + 3, 4 * lbs, 2 * lbs);

	memset(buf + 1, 0x77, lbs);
	struct disk_request w = {
	    .op = DISK_OP_WRITE, .offset = 0, .iov = &(struct iovec){buf + 1, lbs}, .iovcnt = 1};
	g_assert_cmpint(disk_queue_submit(q, &w), ==, 0);
	g_assert_cmpint(disk_queue_kick(q), ==, 0);
	wait_for(q, &done, 1);
	g_assert_cmpint(w.result, ==, 0);
	g_autofree uint8_t *f = slurp(a, 0, 2 * lbs);
	assert_filled(f, lbs, 0x77);
	assert_pattern(f + lbs, lbs, lbs);

	w.offset = 1;
	g_assert_cmpint(disk_queue_submit(q, &w), ==, -EINVAL);
	free(buf);
}

static void test_queue_auto(void)
{
	g_autofree char *a = make_image(tmpdir, 4096);
	g_autoptr(Disk) d = NULL;
	g_autoptr(DiskQueue) q = NULL;
	g_autoptr(DiskQueue) u = NULL;
	struct disk_queue *none = NULL;

	g_assert_cmpint(disk_open(a, NULL, &d), ==, 0);
	g_assert_cmpint(disk_queue_new(d, 0, DISK_ENGINE_AUTO, &none), ==, -EINVAL);
	g_assert_cmpint(disk_queue_new(d, DISK_QUEUE_DEPTH_MAX + 1, DISK_ENGINE_AUTO, &none), ==, -EINVAL);
	g_assert_cmpint(disk_queue_new(d, 1, _DISK_ENGINE_MAX, &none), ==, -EINVAL);
	g_assert_null(none);
	g_assert_cmpint(disk_queue_new(d, 1, DISK_ENGINE_AUTO, &q), ==, 0);
	/* AUTO never reports itself, and picks io_uring wherever io_uring works. */
	int r = disk_queue_new(d, 1, DISK_ENGINE_IO_URING, &u);
	g_assert_cmpint(disk_queue_engine(q), ==, r == 0 ? DISK_ENGINE_IO_URING : DISK_ENGINE_THREADS);
	if (r < 0)
		g_assert_cmpint(r, ==, -EOPNOTSUPP);
}

static void add_queue_tests(void)
{
	static const enum disk_engine engines[] = {DISK_ENGINE_IO_URING, DISK_ENGINE_THREADS};
	for (size_t i = 0; i < G_N_ELEMENTS(engines); i++) {
		const char *name = disk_engine_to_string(engines[i]);
		gconstpointer p = GINT_TO_POINTER(engines[i]);
		g_autofree char *io = g_strdup_printf("/backend-disk/queue/%s/io", name);
		g_autofree char *ops = g_strdup_printf("/backend-disk/queue/%s/ops", name);
		g_autofree char *direct = g_strdup_printf("/backend-disk/queue/%s/direct", name);
		g_test_add_data_func(io, p, test_queue_io);
		g_test_add_data_func(ops, p, test_queue_ops);
		g_test_add_data_func(direct, p, test_queue_direct);
	}
	g_test_add_func("/backend-disk/queue/auto", test_queue_auto);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-backend-disk-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);

	g_test_add_func("/backend-disk/tables", test_tables);
	g_test_add_func("/backend-disk/open", test_open);
	g_test_add_func("/backend-disk/open-fd", test_open_fd);
	g_test_add_func("/backend-disk/sync-io", test_sync_io);
	g_test_add_func("/backend-disk/readonly", test_readonly);
	g_test_add_func("/backend-disk/discard", test_discard);
	g_test_add_data_func("/backend-disk/write-zeroes/tmpdir", NULL, test_write_zeroes);
	g_test_add_data_func("/backend-disk/write-zeroes/tmpfs", "/dev/shm", test_write_zeroes);
	g_test_add_func("/backend-disk/direct", test_direct);
	add_queue_tests();

	int r = g_test_run();
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	(void)!system(cmd);
	g_free(tmpdir);
	return r;
}
