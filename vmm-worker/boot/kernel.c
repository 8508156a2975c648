/* SPDX-License-Identifier: Apache-2.0 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "boot-internal.h"
#include "bootparam.h"
#include "kernel.h"
#include "macro.h"
#include "memory/guest-memory.h"

static const char *const boot_protocol_table[_BOOT_PROTOCOL_MAX] = {
    [BOOT_PROTOCOL_LINUX64] = "linux64",
    [BOOT_PROTOCOL_PVH] = "pvh",
};

const char *boot_protocol_to_string(enum boot_protocol p)
{
	if (p < 0 || p >= _BOOT_PROTOCOL_MAX)
		return NULL;
	return boot_protocol_table[p];
}

enum boot_protocol boot_protocol_from_string(const char *s)
{
	if (!s)
		return _BOOT_PROTOCOL_INVALID;
	for (int i = 0; i < _BOOT_PROTOCOL_MAX; i++)
		if (strcmp(boot_protocol_table[i], s) == 0)
			return i;
	return _BOOT_PROTOCOL_INVALID;
}

int boot_failf(const char **ret_reason, int r, const char *fmt, ...)
{
	/* The reason must outlive this call without the caller owning memory; one buffer per thread
	 * keeps concurrent VM setups (tests) apart. */
	static _Thread_local char buffer[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buffer, sizeof(buffer), fmt, ap);
	va_end(ap);
	if (ret_reason)
		*ret_reason = buffer;
	return r;
}

int boot_read_at(int fd, void *buf, size_t len, uint64_t offset)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, MIN(len, (size_t)1 << 30), (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

int boot_file_open(const char *path, const char *what, int *ret_fd, uint64_t *ret_size,
		   const char **ret_reason)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!path || !*path)
		return boot_failf(ret_reason, -EINVAL, "no %s file given", what);

	/* O_NONBLOCK: a FIFO in place of the file must not hang the VMM in open(). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int r = -errno;
		return boot_failf(ret_reason, r, "cannot open the %s file: %s", what, strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		return boot_failf(ret_reason, r, "cannot stat the %s file: %s", what, strerror(-r));
	}
	if (S_ISDIR(st.st_mode))
		return boot_failf(ret_reason, -EISDIR, "the %s path is a directory, not a file", what);
	if (!S_ISREG(st.st_mode))
		return boot_failf(ret_reason, -EINVAL, "the %s is not a regular file", what);
	if (st.st_size == 0)
		return boot_failf(ret_reason, -ENODATA, "the %s file is empty", what);

	*ret_fd = TAKE_FD(fd);
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

int kernel_load(const char *path, struct guest_memory *mem, struct kernel_image *ret,
		const char **ret_reason)
{
	_cleanup_close_ int fd = -1;
	uint8_t head[1024];
	uint64_t size;
	int r;

	if (ret_reason)
		*ret_reason = NULL;

	r = boot_file_open(path, "kernel", &fd, &size, ret_reason);
	if (r < 0)
		return r;

	size_t head_len = (size_t)MIN(size, (uint64_t)sizeof(head));
	r = boot_read_at(fd, head, head_len, 0);
	if (r < 0)
		return boot_failf(ret_reason, r, "cannot read the kernel file: %s", strerror(-r));

	if (head_len >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0)
		return pvh_elf_load(fd, size, head, head_len, mem, ret, ret_reason);

	uint32_t magic;
	if (head_len >= SETUP_OFFSET_HEADER + sizeof(magic)) {
		memcpy(&magic, head + SETUP_OFFSET_HEADER, sizeof(magic));
		if (magic == SETUP_HEADER_MAGIC)
			return bzimage_load(fd, size, head, head_len, mem, ret, ret_reason);
	}

	return boot_failf(ret_reason, -ENOEXEC,
			  "not a Linux kernel: neither a bzImage ('HdrS' at offset 0x202) nor an ELF file "
			  "(%" PRIu64 " bytes); pass a vmlinuz bzImage or a PVH vmlinux",
			  size);
}

/* Where [gpa, gpa + size) may go: at most 'top', at least 1 MiB, outside the kernel. */
static int initramfs_place(const struct kernel_image *k, uint64_t top, uint64_t size, uint64_t *ret_gpa)
{
	const uint64_t floor = LAYOUT_HIGH_RAM_START;
	uint64_t gpa;

	if (top < floor || size > top - floor)
		return -E2BIG;
	gpa = ALIGN_DOWN(top - size, 4 * KiB);
	if (gpa < floor)
		return -E2BIG;

	/* Overlapping the kernel: the space above it is too small, try below it. */
	if (gpa < k->load_end && k->load_start < gpa + size) {
		if (k->load_start < floor || size > k->load_start - floor)
			return -E2BIG;
		gpa = ALIGN_DOWN(k->load_start - size, 4 * KiB);
		if (gpa < floor)
			return -E2BIG;
	}
	*ret_gpa = gpa;
	return 0;
}

int initramfs_load(const char *path, struct guest_memory *mem, const struct kernel_image *k,
		   uint64_t *ret_gpa, uint64_t *ret_size, const char **ret_reason)
{
	_cleanup_close_ int fd = -1;
	uint64_t size, gpa, top;
	int r;

	if (ret_reason)
		*ret_reason = NULL;

	r = boot_file_open(path, "initramfs", &fd, &size, ret_reason);
	if (r < 0)
		return r;

	top = MIN(guest_memory_low_end(mem), LAYOUT_MMIO_GAP_START);
	top = MIN(top, 4 * GiB);
	if (k->initrd_addr_max < top)
		top = k->initrd_addr_max + 1;

	r = initramfs_place(k, top, size, &gpa);
	if (r < 0)
		return boot_failf(ret_reason, r,
				  "the initramfs (%" PRIu64
				  " bytes) does not fit in guest RAM between 1 MiB and "
				  "0x%" PRIx64 " outside the kernel at [0x%" PRIx64 ", 0x%" PRIx64 "); "
				  "give the VM more memory or use a smaller initramfs",
				  size, top, k->load_start, k->load_end);

	void *p = guest_memory_ptr(mem, gpa, size);
	if (!p)
		return boot_failf(ret_reason, -E2BIG,
				  "the initramfs would be placed at [0x%" PRIx64 ", 0x%" PRIx64
				  "), outside guest RAM",
				  gpa, gpa + size);
	r = boot_read_at(fd, p, size, 0);
	if (r < 0)
		return boot_failf(ret_reason, r, "cannot read the initramfs file: %s",
				  r == -EIO ? "it became shorter while being read" : strerror(-r));

	*ret_gpa = gpa;
	*ret_size = size;
	return 0;
}
