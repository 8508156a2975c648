/* SPDX-License-Identifier: Apache-2.0 */
/* Raw disk images: a file or block device opened by path or adopted from an inherited fd (chd
 * passes fds), with its size, block sizes and a stable serial. Synchronous vectored I/O lives here;
 * asynchronous I/O goes through a struct disk_queue (disk-queue.h), one per I/O thread. Nothing
 * here knows about virtio: offsets and lengths are bytes, data is described by iovecs. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

struct iovec;
struct disk;

/* The serial is at most this many characters (virtio-blk's VIRTIO_BLK_ID_BYTES). */
#define DISK_SERIAL_MAX 20

enum disk_op {
	DISK_OP_READ,
	DISK_OP_WRITE,
	DISK_OP_FLUSH,	      /* fdatasync: written data is durable on the host before completion */
	DISK_OP_DISCARD,      /* fallocate(PUNCH_HOLE|KEEP_SIZE): the range reads back as zeroes */
	DISK_OP_WRITE_ZEROES, /* fallocate(ZERO_RANGE), or plain writes where the file system cannot */
	_DISK_OP_MAX,
	_DISK_OP_INVALID = -EINVAL,
};

const char *disk_op_to_string(enum disk_op op);
enum disk_op disk_op_from_string(const char *s);

struct disk_options {
	bool readonly;	    /* writes, discards and write-zeroes fail with -EROFS */
	bool direct;	    /* O_DIRECT: bypass the host page cache; misaligned buffers are bounced */
	const char *serial; /* NULL: derived from the file's identity, stable across runs */
};

/* Opens a regular file or a block device. opts may be NULL (read-write, cached). Returns -ENOENT,
 * -EACCES, -EISDIR / -ENOTBLK (neither a file nor a block device), -EINVAL (bad serial), ... */
int disk_open(const char *path, const struct disk_options *opts, struct disk **ret);

/* Adopts an open fd; name is used in messages only. On success the disk owns fd; on failure the
 * caller still does. -EBADF when a read-write disk is asked of an fd not open for writing. */
int disk_open_fd(int fd, const char *name, const struct disk_options *opts, struct disk **ret);

struct disk *disk_free(struct disk *d);
static inline void disk_freep(struct disk **p)
{
	if (*p)
		*p = disk_free(*p);
}

const char *disk_name(const struct disk *d);
int disk_fd(const struct disk *d);
uint64_t disk_size(const struct disk *d);
bool disk_readonly(const struct disk *d);
bool disk_direct(const struct disk *d);
/* The NUL-terminated serial, at most DISK_SERIAL_MAX characters. */
const char *disk_serial(const struct disk *d);
/* Smallest unit of I/O: in direct mode, offsets and lengths must be multiples of it (else
 * -EINVAL); a device should advertise it to the guest. 512 for cached files. */
unsigned disk_logical_block_size(const struct disk *d);
/* The unit the host writes without read-modify-write; a hint for the guest's I/O sizes. */
unsigned disk_physical_block_size(const struct disk *d);
/* Buffer address alignment O_DIRECT needs; buffers that miss it are copied through a bounce. */
unsigned disk_memory_alignment(const struct disk *d);

/* Synchronous I/O, whole transfers or an error: 0 or -errno (-EROFS read-only, -ERANGE past the
 * end, -EINVAL misaligned in direct mode or a bad iovec count, -EIO the file shrank). */
int disk_readv(struct disk *d, uint64_t offset, const struct iovec *iov, unsigned iovcnt);
int disk_writev(struct disk *d, uint64_t offset, const struct iovec *iov, unsigned iovcnt);
int disk_flush(struct disk *d);
int disk_discard(struct disk *d, uint64_t offset, uint64_t len);
int disk_write_zeroes(struct disk *d, uint64_t offset, uint64_t len);
