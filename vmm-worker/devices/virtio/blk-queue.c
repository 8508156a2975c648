/* SPDX-License-Identifier: Apache-2.0 */
/* One virtio-blk request queue: its I/O thread waits in epoll on the queue's kick eventfd and on
 * its disk queue's completion eventfd. It pops requests while a slot is free, submits them, kicks
 * the disk queue once per batch, collects what finished (io_uring runs reads from the host page
 * cache inline, inside the kick) and goes round again until nothing moves; then one interrupt. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backends/disk.h"
#include "devices/virtio/blk-internal.h"
#include "macro.h"

/* Start/collect rounds one pass runs before it lets start and reset in; it kicks itself then. */
#define PROCESS_ROUNDS 16

enum { EV_STOP, EV_KICK, EV_DISK };

static void slot_release(struct blk_queue *bq, struct blk_slot *s)
{
	s->next_free = bq->free;
	bq->free = s;
}

/* Answers the driver: status byte, used-ring entry. */
static void complete(struct blk_queue *bq, struct blk_slot *s, uint8_t status)
{
	struct virtio_device *v = bq->blk->v;

	if (status != VIRTIO_BLK_S_OK)
		virtio_stats_error(v);
	else if (s->req.type == VIRTIO_BLK_T_IN)
		virtio_stats_add(v, VIRTIO_STAT_READ, s->req.data_len);
	else if (s->req.type == VIRTIO_BLK_T_OUT)
		virtio_stats_add(v, VIRTIO_STAT_WRITE, s->req.data_len);
	/* After a reset or a failure the rings are not ours to write any more. */
	if (bq->running) {
		__atomic_store_n(s->req.status, status, __ATOMIC_RELAXED);
		virtq_push(bq->q, &s->elem, s->written + 1);
	}
	slot_release(bq, s);
}

/* Starts one popped request: completes it at once, or hands it to the disk queue. -EBADMSG when
 * the chain cannot be a request (no status byte to answer in, 5.2.6.1). */
static int start(struct blk_queue *bq, struct blk_slot *s)
{
	uint8_t status;

	s->written = 0;
	s->flush_after = false;
	if (blk_request_parse(&s->elem, &s->req) < 0) {
		slot_release(bq, s);
		return -EBADMSG;
	}
	if (s->req.type == VIRTIO_BLK_T_GET_ID) {
		s->written = blk_request_get_id(&s->req, disk_serial(bq->blk->disk));
		complete(bq, s, s->written > 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
		return 0;
	}
	status = blk_request_prepare(&s->req, &bq->limits, &s->disk);
	if (status != VIRTIO_BLK_S_OK) {
		complete(bq, s, status);
		return 0;
	}
	s->disk.opaque = s;
	s->flush_after = s->disk.op == DISK_OP_WRITE && !bq->flush;
	if (disk_queue_submit(bq->dq, &s->disk) < 0)
		complete(bq, s, VIRTIO_BLK_S_IOERR); /* e.g. misaligned for direct I/O */
	return 0;
}

static void on_done(struct disk_request *d, void *userdata)
{
	struct blk_queue *bq = userdata;
	struct blk_slot *s = d->opaque;

	if (d->result == 0 && s->flush_after && bq->running) {
		/* Write-through for drivers without FLUSH: the write, then fdatasync, then the answer. */
		s->flush_after = false;
		s->disk = (struct disk_request){.op = DISK_OP_FLUSH, .opaque = s};
		if (disk_queue_submit(bq->dq, &s->disk) == 0)
			return;
		d->result = -EIO;
	}
	if (d->result == 0 && s->req.type == VIRTIO_BLK_T_IN)
		s->written = (uint32_t)s->req.data_len;
	complete(bq, s, d->result == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
}

/* Pops and starts requests while there are free slots; a full queue resumes on a completion. */
static int pop_and_start(struct blk_queue *bq, unsigned *started, const char **why)
{
	while (bq->free) {
		struct blk_slot *s = bq->free;
		int r = virtq_pop(bq->q, &s->elem);
		if (r == 0)
			return 0;
		if (r < 0) {
			*why = "malformed descriptor chain on a request queue";
			return r;
		}
		bq->free = s->next_free;
		r = start(bq, s);
		if (r < 0) {
			*why = "a block request without header or status byte";
			return r;
		}
		(*started)++;
	}
	return 0;
}

/* One pass, lock held. A protocol error stops the queue and is returned for the caller to report
 * under the device lock. */
static int process(struct blk_queue *bq, const char **why)
{
	int r = 0;

	for (unsigned round = 0;; round++) {
		unsigned started = 0;
		int reaped;

		if (bq->running) {
			r = pop_and_start(bq, &started, why);
			if (r < 0)
				bq->running = false;
		}
		(void)disk_queue_kick(bq->dq);
		reaped = disk_queue_reap(bq->dq, on_done, bq);
		if (reaped < 0)
			virtio_stats_error(bq->blk->v);
		if (r < 0 || !bq->running || (started == 0 && reaped <= 0))
			break;
		if (round == PROCESS_ROUNDS) {
			virtio_queue_kick(bq->blk->v, bq->q->index);
			break;
		}
	}
	if (bq->running)
		virtio_queue_signal(bq->blk->v, bq->q);
	return r;
}

int blk_queue_process_locked(struct blk_queue *bq, const char **why)
{
	pthread_mutex_lock(&bq->lock);
	int r = process(bq, why);
	pthread_mutex_unlock(&bq->lock);
	return r;
}

static void handle(struct blk_queue *bq)
{
	struct virtio_device *v = bq->blk->v;
	const char *why = NULL;
	uint32_t generation;
	int r;

	pthread_mutex_lock(&bq->lock);
	generation = bq->generation;
	r = process(bq, &why);
	pthread_mutex_unlock(&bq->lock);
	if (r >= 0)
		return;
	/* Reported under the device lock, unless a reset or a new start came in between. */
	pthread_mutex_lock(&v->lock);
	if (bq->blk->generation == generation) {
		virtio_device_fail(v, r, why);
		for (unsigned i = 0; i < bq->blk->n_queues; i++)
			blk_queue_set_running(&bq->blk->queues[i], false, NULL, false);
	}
	pthread_mutex_unlock(&v->lock);
}

static void *queue_thread(void *userdata)
{
	struct blk_queue *bq = userdata;
	struct epoll_event ev[3];

	for (;;) {
		int n = epoll_wait(bq->epoll_fd, ev, ELEMENTSOF(ev), -1);
		bool work = false;

		if (n < 0)
			continue; /* EINTR: every signal is blocked here, but be safe */
		for (int i = 0; i < n; i++) {
			uint64_t count;

			if (ev[i].data.u32 == EV_STOP)
				return NULL;
			if (ev[i].data.u32 == EV_KICK &&
			    read(bq->q->kick_fd, &count, sizeof(count)) != sizeof(count))
				continue;
			work = true; /* EV_DISK: reaping reads the eventfd */
		}
		if (work)
			handle(bq);
	}
}

static void drop(struct disk_request *d, void *userdata)
{
	struct blk_queue *bq = userdata;
	slot_release(bq, d->opaque);
}

void blk_queue_set_running(struct blk_queue *bq, bool running, const struct blk_limits *lim, bool flush)
{
	pthread_mutex_lock(&bq->lock);
	bq->running = running && bq->q->ready;
	bq->generation = bq->blk->generation;
	if (lim) {
		bq->limits = *lim;
		bq->flush = flush;
	}
	if (!running) {
		/* Requests in flight write into guest memory: wait for them, drop their answers. */
		(void)disk_queue_kick(bq->dq);
		while (disk_queue_in_flight(bq->dq) > 0) {
			struct pollfd p = {.fd = disk_queue_eventfd(bq->dq), .events = POLLIN};
			(void)poll(&p, 1, 1000);
			if (disk_queue_reap(bq->dq, drop, bq) < 0)
				break;
		}
	}
	pthread_mutex_unlock(&bq->lock);
	if (bq->running)
		virtio_queue_kick(bq->blk->v, bq->q->index); /* buffers given before the start */
}

int blk_queue_init(struct blk_queue *bq, struct blk *blk, const struct virtio_blk_params *p)
{
	int r;

	bq->blk = blk;
	bq->epoll_fd = bq->stop_fd = -1;
	pthread_mutex_init(&bq->lock, NULL);
	bq->lock_initialized = true;
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

static int watch(int epoll_fd, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int blk_queue_start_thread(struct blk_queue *bq)
{
	sigset_t all, old;
	char name[16];
	int r;

	bq->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	bq->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bq->epoll_fd < 0 || bq->stop_fd < 0)
		return -errno;
	r = watch(bq->epoll_fd, bq->stop_fd, EV_STOP);
	if (r >= 0)
		r = watch(bq->epoll_fd, bq->q->kick_fd, EV_KICK);
	if (r >= 0)
		r = watch(bq->epoll_fd, disk_queue_eventfd(bq->dq), EV_DISK);
	if (r < 0)
		return r;
	/* Signals belong to the main loop and the vCPU threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&bq->thread, NULL, queue_thread, bq);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	bq->thread_started = true;
	snprintf(name, sizeof(name), "virtio-blk-q%u", bq->q->index);
	pthread_setname_np(bq->thread, name);
	return 0;
}

void blk_queue_stop_thread(struct blk_queue *bq)
{
	if (bq->thread_started) {
		uint64_t one = 1;
		(void)!write(bq->stop_fd, &one, sizeof(one));
		pthread_join(bq->thread, NULL);
		bq->thread_started = false;
	}
}

void blk_queue_done(struct blk_queue *bq)
{
	blk_queue_stop_thread(bq);
	/* Waits for requests in flight before their slots go. */
	bq->dq = disk_queue_free(bq->dq);
	for (unsigned j = 0; bq->slots && j < bq->n_slots; j++)
		virtq_elem_done(&bq->slots[j].elem);
	free(bq->slots);
	bq->slots = NULL;
	bq->epoll_fd = safe_close(bq->epoll_fd);
	bq->stop_fd = safe_close(bq->stop_fd);
	if (bq->lock_initialized)
		pthread_mutex_destroy(&bq->lock);
	bq->lock_initialized = false;
}
