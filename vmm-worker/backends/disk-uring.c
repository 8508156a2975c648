/* SPDX-License-Identifier: Apache-2.0 */
/* The io_uring disk engine: one ring per queue, its completions signalled on the queue's eventfd.
 * Used only when the kernel's probe lists every opcode we issue; io_uring may also be disabled by
 * sysctl or a seccomp filter, which init reports so the caller can fall back to threads. */
#include <errno.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <stdlib.h>

#include "backends/disk-internal.h"
#include "macro.h"

struct uring_state {
	struct io_uring ring;
};

static int probe(struct io_uring *ring)
{
	static const int needed[] = {IORING_OP_NOP, IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC,
				     IORING_OP_FALLOCATE};
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	int r = 0;

	if (!p)
		return -EOPNOTSUPP; /* before Linux 5.6: no probe, and no fallocate either */
	for (size_t i = 0; i < ELEMENTSOF(needed); i++)
		if (!io_uring_opcode_supported(p, needed[i]))
			r = -EOPNOTSUPP;
	io_uring_free_probe(p);
	return r;
}

static int uring_init(struct disk_queue *q)
{
	struct uring_state *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = io_uring_queue_init(q->depth, &s->ring, 0);
	if (r < 0) {
		free(s);
		/* ENOSYS: no io_uring; EPERM: io_uring_disabled sysctl or seccomp */
		return r == -ENOSYS || r == -EPERM ? -EOPNOTSUPP : r;
	}
	r = probe(&s->ring);
	if (r >= 0)
		r = io_uring_register_eventfd(&s->ring, q->efd);
	if (r < 0) {
		io_uring_queue_exit(&s->ring);
		free(s);
		return r;
	}
	q->state = s;
	return 0;
}

static void uring_done(struct disk_queue *q)
{
	struct uring_state *s = q->state;
	if (!s)
		return;
	io_uring_queue_exit(&s->ring);
	free(s);
	q->state = NULL;
}

static int uring_kick(struct disk_queue *q)
{
	struct uring_state *s = q->state;
	int r;

	do
		r = io_uring_submit(&s->ring);
	while (r == -EINTR);
	return r < 0 ? r : 0;
}

static int uring_submit(struct disk_queue *q, struct disk_request *req)
{
	struct uring_state *s = q->state;
	struct disk *d = q->disk;
	const struct iovec *iov = req->priv.bounce_iov ? req->priv.bounce_iov : req->iov;
	unsigned iovcnt = req->priv.bounce_iov ? 1 : req->iovcnt;
	struct io_uring_sqe *sqe;

	/* At most depth requests are in flight and the ring has depth entries, so a full SQ only
	 * means earlier requests are still waiting for the kick. */
	sqe = io_uring_get_sqe(&s->ring);
	if (!sqe) {
		int r = uring_kick(q);
		if (r < 0)
			return r;
		sqe = io_uring_get_sqe(&s->ring);
		if (!sqe)
			return -EAGAIN;
	}

	switch (req->op) {
	case DISK_OP_READ:
		io_uring_prep_readv(sqe, d->fd, iov, iovcnt, req->offset);
		break;
	case DISK_OP_WRITE:
		io_uring_prep_writev(sqe, d->fd, iov, iovcnt, req->offset);
		break;
	case DISK_OP_FLUSH:
		io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
		break;
	case DISK_OP_DISCARD:
		if (req->len == 0)
			io_uring_prep_nop(sqe);
		else
			io_uring_prep_fallocate(sqe, d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						req->offset, req->len);
		break;
	case DISK_OP_WRITE_ZEROES:
		if (req->len > 0 && __atomic_load_n(&d->no_zero_range, __ATOMIC_RELAXED)) {
			req->priv.inline_zeroes = true;
			io_uring_prep_nop(sqe);
		} else if (req->len == 0) {
			io_uring_prep_nop(sqe);
		} else {
			io_uring_prep_fallocate(sqe, d->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
						req->offset, req->len);
		}
		break;
	case _DISK_OP_MAX:
	case _DISK_OP_INVALID:
		io_uring_prep_nop(sqe); /* disk_check_request() let nothing else through */
		break;
	}
	io_uring_sqe_set_data(sqe, req);
	return 0;
}

/* A CQE's result as the request's: short transfers finished by hand, the ZERO_RANGE fallback. */
static int complete(struct disk *d, struct disk_request *req, int res)
{
	switch (req->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		if (res < 0)
			return res;
		if ((uint64_t)res < req->len)
			return disk_transfer_rest(d, req, (uint64_t)res);
		return 0;
	case DISK_OP_WRITE_ZEROES:
		/* Rare and slow: a file system without ZERO_RANGE (tmpfs). Runs on the I/O thread. */
		if (req->priv.inline_zeroes)
			return disk_write_zeroes_by_writing(d, req->offset, req->len);
		if (res == -EOPNOTSUPP) {
			__atomic_store_n(&d->no_zero_range, true, __ATOMIC_RELAXED);
			return disk_write_zeroes_by_writing(d, req->offset, req->len);
		}
		return res < 0 ? res : 0;
	case DISK_OP_FLUSH:
	case DISK_OP_DISCARD:
	case _DISK_OP_MAX:
	case _DISK_OP_INVALID:
		break;
	}
	return res < 0 ? res : 0;
}

static int uring_collect(struct disk_queue *q, struct disk_request **ret_list, bool wait)
{
	struct uring_state *s = q->state;
	struct disk_request *head = NULL, **tail = &head;
	struct io_uring_cqe *cqe;
	int r;

	if (wait) {
		do
			r = io_uring_wait_cqe(&s->ring, &cqe);
		while (r == -EINTR);
		if (r < 0)
			return r;
	}
	while (io_uring_peek_cqe(&s->ring, &cqe) == 0) {
		struct disk_request *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&s->ring, cqe);
		req->result = complete(q->disk, req, res);
		req->priv.next = NULL;
		*tail = req;
		tail = &req->priv.next;
	}
	*ret_list = head;
	return 0;
}

const struct disk_engine_ops disk_engine_uring_ops = {
    .init = uring_init,
    .done = uring_done,
    .submit = uring_submit,
    .kick = uring_kick,
    .collect = uring_collect,
};
