/* SPDX-License-Identifier: Apache-2.0 */
/* Raw disk images: opening, geometry, the serial, request checks and synchronous execution. The
 * engines in disk-uring.c and disk-threads.c reuse disk_execute() and the checks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backends/disk-internal.h"
#include "macro.h"
#include "string-table.h"

#define ZERO_CHUNK (64u << 10)
/* Where statx() cannot tell the O_DIRECT alignment, the common worst case. */
#define DIRECT_ALIGN_FALLBACK 4096u

static const char *const disk_op_table[_DISK_OP_MAX] = {
    [DISK_OP_READ] = "read",
    [DISK_OP_WRITE] = "write",
    [DISK_OP_FLUSH] = "flush",
    [DISK_OP_DISCARD] = "discard",
    [DISK_OP_WRITE_ZEROES] = "write-zeroes",
};

DEFINE_STRING_TABLE_LOOKUP(disk_op, enum disk_op, _DISK_OP_MAX, _DISK_OP_INVALID)

static bool serial_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > DISK_SERIAL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static bool power_of_two(unsigned v)
{
	return v && !(v & (v - 1));
}

/* O_DIRECT's offset/length and buffer alignment: statx() knows it on Linux 6.1+ for files and
 * block devices alike; older kernels leave the block device's logical sector size to ask. */
static void direct_alignment(struct disk *d)
{
	struct statx stx = {};

	d->logical_block_size = MAX(d->logical_block_size, 512u);
	d->mem_align = d->logical_block_size;
	if (statx(d->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 && (stx.stx_mask & STATX_DIOALIGN) &&
	    power_of_two(stx.stx_dio_offset_align) && power_of_two(stx.stx_dio_mem_align)) {
		d->logical_block_size = MAX(d->logical_block_size, stx.stx_dio_offset_align);
		d->mem_align = MAX(stx.stx_dio_mem_align, (unsigned)sizeof(void *));
		return;
	}
	if (!d->block_device)
		d->logical_block_size = d->mem_align = DIRECT_ALIGN_FALLBACK;
}

static int disk_geometry(struct disk *d, const struct stat *st)
{
	d->logical_block_size = 512;
	d->physical_block_size = 512;
	d->mem_align = 1;

	if (d->block_device) {
		uint64_t size;
		int lbs = 0;
		unsigned pbs = 0;

		if (ioctl(d->fd, BLKGETSIZE64, &size) < 0)
			return -errno;
		d->size = size;
		if (ioctl(d->fd, BLKSSZGET, &lbs) == 0 && lbs > 0 && power_of_two((unsigned)lbs))
			d->logical_block_size = (unsigned)lbs;
		if (ioctl(d->fd, BLKPBSZGET, &pbs) == 0 && power_of_two(pbs))
			d->physical_block_size = pbs;
	} else {
		d->size = (uint64_t)st->st_size;
		if (st->st_blksize >= 512 && st->st_blksize <= 65536 &&
		    power_of_two((unsigned)st->st_blksize))
			d->physical_block_size = (unsigned)st->st_blksize;
	}
	if (d->direct)
		direct_alignment(d);
	d->physical_block_size = MAX(d->physical_block_size, d->logical_block_size);
	return 0;
}

int disk_open_fd(int fd, const char *name, const struct disk_options *opts, struct disk **ret)
{
	static const struct disk_options defaults = {};
	_cleanup_(disk_freep) struct disk *d = NULL;
	struct stat st;
	int flags, r;

	if (fd < 0 || !ret)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if (opts->serial && !serial_valid(opts->serial))
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -ENOTBLK;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	if (!opts->readonly && (flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (opts->direct && !(flags & O_DIRECT) && fcntl(fd, F_SETFL, flags | O_DIRECT) < 0)
		return -errno;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = -1;
	d->name = strdup(name ? name : "disk");
	if (!d->name)
		return -ENOMEM;
	d->readonly = opts->readonly;
	d->direct = opts->direct || (flags & O_DIRECT);
	d->block_device = S_ISBLK(st.st_mode);
	d->fd = fd; /* from here on ours, but handed back below on failure */
	r = disk_geometry(d, &st);
	if (r < 0) {
		d->fd = -1;
		return r;
	}

	if (opts->serial)
		snprintf(d->serial, sizeof(d->serial), "%s", opts->serial);
	else
		/* The file's identity: the same image gets the same serial in every run, so guests
		 * can name it in /dev/disk/by-id. Truncated to what virtio-blk carries. */
		snprintf(d->serial, sizeof(d->serial), "%llx%llx%llx", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_rdev, (unsigned long long)st.st_ino);
	*ret = TAKE_PTR(d);
	return 0;
}

int disk_open(const char *path, const struct disk_options *opts, struct disk **ret)
{
	_cleanup_close_ int fd = -1;
	bool ro = opts && opts->readonly, direct = opts && opts->direct;
	int r;

	if (!path || !ret)
		return -EINVAL;
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | (direct ? O_DIRECT : 0) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = disk_open_fd(fd, path, opts, ret);
	if (r < 0)
		return r;
	TAKE_FD(fd);
	return 0;
}

struct disk *disk_free(struct disk *d)
{
	if (!d)
		return NULL;
	safe_close(d->fd);
	free(d->name);
	free(d);
	return NULL;
}

const char *disk_name(const struct disk *d)
{
	return d->name;
}

int disk_fd(const struct disk *d)
{
	return d->fd;
}

uint64_t disk_size(const struct disk *d)
{
	return d->size;
}

bool disk_readonly(const struct disk *d)
{
	return d->readonly;
}

bool disk_direct(const struct disk *d)
{
	return d->direct;
}

const char *disk_serial(const struct disk *d)
{
	return d->serial;
}

unsigned disk_logical_block_size(const struct disk *d)
{
	return d->logical_block_size;
}

unsigned disk_physical_block_size(const struct disk *d)
{
	return d->physical_block_size;
}

unsigned disk_memory_alignment(const struct disk *d)
{
	return d->mem_align;
}

static int check_range(const struct disk *d, uint64_t offset, uint64_t len)
{
	if (len > d->size || offset > d->size - len)
		return -ERANGE;
	if (d->direct && ((offset | len) & (d->logical_block_size - 1)))
		return -EINVAL;
	return 0;
}

int disk_check_request(struct disk *d, struct disk_request *req)
{
	bool bounce = false;
	int r;

	switch (req->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		if (req->op == DISK_OP_WRITE && d->readonly)
			return -EROFS;
		if (req->iovcnt == 0 || req->iovcnt > IOV_MAX || !req->iov)
			return -EINVAL;
		req->len = 0;
		for (unsigned i = 0; i < req->iovcnt; i++) {
			const struct iovec *v = &req->iov[i];
			if (v->iov_len > SSIZE_MAX - req->len)
				return -EINVAL;
			req->len += v->iov_len;
			if (d->direct && (((uintptr_t)v->iov_base & (d->mem_align - 1)) ||
					  (v->iov_len & (d->logical_block_size - 1))))
				bounce = true;
		}
		r = check_range(d, req->offset, req->len);
		return r < 0 ? r : bounce;
	case DISK_OP_FLUSH:
		return 0;
	case DISK_OP_DISCARD:
	case DISK_OP_WRITE_ZEROES:
		if (d->readonly)
			return -EROFS;
		return check_range(d, req->offset, req->len);
	case _DISK_OP_MAX:
	case _DISK_OP_INVALID:
		break;
	}
	return -EINVAL;
}

int disk_bounce_prepare(struct disk *d, struct disk_request *req)
{
	void *buf = NULL;
	struct iovec *v;

	v = malloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (posix_memalign(&buf, MAX(d->mem_align, (unsigned)sizeof(void *)), MAX(req->len, 1)) != 0) {
		free(v);
		return -ENOMEM;
	}
	if (req->op == DISK_OP_WRITE) {
		/* Padding a misaligned total up is impossible: check_range() already refused it. */
		size_t at = 0;
		for (unsigned i = 0; i < req->iovcnt; i++) {
			memcpy((uint8_t *)buf + at, req->iov[i].iov_base, req->iov[i].iov_len);
			at += req->iov[i].iov_len;
		}
	}
	*v = (struct iovec){.iov_base = buf, .iov_len = req->len};
	req->priv.bounce = buf;
	req->priv.bounce_iov = v;
	return 0;
}

void disk_bounce_finish(struct disk_request *req)
{
	if (!req->priv.bounce)
		return;
	if (req->op == DISK_OP_READ && req->result == 0) {
		size_t at = 0;
		for (unsigned i = 0; i < req->iovcnt; i++) {
			memcpy(req->iov[i].iov_base, (uint8_t *)req->priv.bounce + at, req->iov[i].iov_len);
			at += req->iov[i].iov_len;
		}
	}
	free(req->priv.bounce);
	free(req->priv.bounce_iov);
	req->priv.bounce = NULL;
	req->priv.bounce_iov = NULL;
}

/* preadv/pwritev until the whole transfer is done, skipping the first skip bytes. */
static int transfer(int fd, bool write, uint64_t offset, const struct iovec *iov, unsigned iovcnt,
		    uint64_t skip)
{
	_cleanup_free_ struct iovec *v = malloc(sizeof(*v) * iovcnt);
	unsigned first = 0;

	if (!v)
		return -ENOMEM;
	memcpy(v, iov, sizeof(*v) * iovcnt);
	offset += skip;
	for (;;) {
		while (first < iovcnt && skip >= v[first].iov_len)
			skip -= v[first++].iov_len;
		if (first == iovcnt)
			return 0;
		v[first].iov_base = (uint8_t *)v[first].iov_base + skip;
		v[first].iov_len -= skip;
		ssize_t n = write ? pwritev(fd, v + first, (int)(iovcnt - first), (off_t)offset)
				  : preadv(fd, v + first, (int)(iovcnt - first), (off_t)offset);
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n < 0)
			return -errno;
		else if (n == 0)
			return -EIO; /* the file shrank under us */
		offset += (uint64_t)n;
		skip = (uint64_t)n;
	}
}

int disk_transfer_rest(struct disk *d, struct disk_request *req, uint64_t done)
{
	const struct iovec *iov = req->priv.bounce_iov ? req->priv.bounce_iov : req->iov;
	unsigned n = req->priv.bounce_iov ? 1 : req->iovcnt;
	return transfer(d->fd, req->op == DISK_OP_WRITE, req->offset, iov, n, done);
}

int disk_write_zeroes_by_writing(struct disk *d, uint64_t offset, uint64_t len)
{
	void *zero = NULL;
	int r = 0;

	if (posix_memalign(&zero, 4096, ZERO_CHUNK) != 0)
		return -ENOMEM;
	memset(zero, 0, ZERO_CHUNK);
	while (len > 0 && r == 0) {
		struct iovec v = {.iov_base = zero, .iov_len = MIN(len, (uint64_t)ZERO_CHUNK)};
		r = transfer(d->fd, true, offset, &v, 1, 0);
		offset += v.iov_len;
		len -= v.iov_len;
	}
	free(zero);
	return r;
}

int disk_execute(struct disk *d, struct disk_request *req)
{
	int mode;

	switch (req->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		return disk_transfer_rest(d, req, 0);
	case DISK_OP_FLUSH:
		return fdatasync(d->fd) < 0 ? -errno : 0;
	case DISK_OP_DISCARD:
		if (req->len == 0)
			return 0;
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		return fallocate(d->fd, mode, (off_t)req->offset, (off_t)req->len) < 0 ? -errno : 0;
	case DISK_OP_WRITE_ZEROES:
		if (req->len == 0)
			return 0;
		if (!__atomic_load_n(&d->no_zero_range, __ATOMIC_RELAXED)) {
			mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
			if (fallocate(d->fd, mode, (off_t)req->offset, (off_t)req->len) == 0)
				return 0;
			if (errno != EOPNOTSUPP)
				return -errno;
			/* e.g. tmpfs; racing threads at worst ask twice */
			__atomic_store_n(&d->no_zero_range, true, __ATOMIC_RELAXED);
		}
		return disk_write_zeroes_by_writing(d, req->offset, req->len);
	case _DISK_OP_MAX:
	case _DISK_OP_INVALID:
		break;
	}
	return -EINVAL;
}

static int run_sync(struct disk *d, struct disk_request *req)
{
	int r = disk_check_request(d, req);
	if (r < 0)
		return r;
	if (r > 0) {
		r = disk_bounce_prepare(d, req);
		if (r < 0)
			return r;
	}
	req->result = disk_execute(d, req);
	disk_bounce_finish(req);
	return req->result;
}

int disk_readv(struct disk *d, uint64_t offset, const struct iovec *iov, unsigned iovcnt)
{
	struct disk_request req = {.op = DISK_OP_READ, .offset = offset, .iov = iov, .iovcnt = iovcnt};
	return run_sync(d, &req);
}

int disk_writev(struct disk *d, uint64_t offset, const struct iovec *iov, unsigned iovcnt)
{
	struct disk_request req = {.op = DISK_OP_WRITE, .offset = offset, .iov = iov, .iovcnt = iovcnt};
	return run_sync(d, &req);
}

int disk_flush(struct disk *d)
{
	struct disk_request req = {.op = DISK_OP_FLUSH};
	return run_sync(d, &req);
}

int disk_discard(struct disk *d, uint64_t offset, uint64_t len)
{
	struct disk_request req = {.op = DISK_OP_DISCARD, .offset = offset, .len = len};
	return run_sync(d, &req);
}

int disk_write_zeroes(struct disk *d, uint64_t offset, uint64_t len)
{
	struct disk_request req = {.op = DISK_OP_WRITE_ZEROES, .offset = offset, .len = len};
	return run_sync(d, &req);
}
