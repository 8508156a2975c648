/* SPDX-License-Identifier: Apache-2.0 */
/* The thread-pool disk engine, for kernels or sandboxes without io_uring: a few workers run the
 * synchronous calls and signal the queue's eventfd as each request finishes. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "backends/disk-internal.h"
#include "macro.h"

struct request_list {
	struct disk_request *head, **tail;
};

struct threads_state {
	struct disk_queue *q;
	pthread_mutex_t lock;
	pthread_cond_t work;	      /* pending gained a request, or stop */
	pthread_cond_t done;	      /* finished gained a request */
	struct request_list staged;   /* submitted, not kicked: the I/O thread's alone */
	struct request_list pending;  /* kicked, waiting for a worker */
	struct request_list finished; /* waiting for collect */
	bool stop;
	unsigned n_threads;
	pthread_t threads[DISK_QUEUE_THREADS];
};

static void list_init(struct request_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static void list_append(struct request_list *l, struct disk_request *req)
{
	req->priv.next = NULL;
	*l->tail = req;
	l->tail = &req->priv.next;
}

static void list_splice(struct request_list *to, struct request_list *from)
{
	if (!from->head)
		return;
	*to->tail = from->head;
	to->tail = from->tail;
	list_init(from);
}

static void *worker(void *arg)
{
	struct threads_state *s = arg;
	const uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct disk_request *req;

		while (!s->stop && !s->pending.head)
			pthread_cond_wait(&s->work, &s->lock);
		req = s->pending.head;
		if (!req)
			break; /* stop, and nothing left to do */
		s->pending.head = req->priv.next;
		if (!s->pending.head)
			s->pending.tail = &s->pending.head;
		pthread_mutex_unlock(&s->lock);

		req->result = disk_execute(s->q->disk, req);

		pthread_mutex_lock(&s->lock);
		list_append(&s->finished, req);
		pthread_cond_signal(&s->done);
		/* An eventfd write fails only when the counter would overflow; it is then readable. */
		(void)!write(s->q->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void threads_done(struct disk_queue *q)
{
	struct threads_state *s = q->state;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->n_threads; i++)
		pthread_join(s->threads[i], NULL);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->lock);
	free(s);
	q->state = NULL;
}

static int threads_init(struct disk_queue *q)
{
	struct threads_state *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->q = q;
	list_init(&s->staged);
	list_init(&s->pending);
	list_init(&s->finished);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	q->state = s;

	/* Workers take no signals: the VMM's signal handling stays with the threads that expect it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < MIN(q->depth, DISK_QUEUE_THREADS); i++) {
		r = -pthread_create(&s->threads[i], NULL, worker, s);
		if (r < 0)
			break;
		s->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		threads_done(q);
		return r;
	}
	return 0;
}

static int threads_submit(struct disk_queue *q, struct disk_request *req)
{
	struct threads_state *s = q->state;
	list_append(&s->staged, req);
	return 0;
}

static int threads_kick(struct disk_queue *q)
{
	struct threads_state *s = q->state;
	if (!s->staged.head)
		return 0;
	pthread_mutex_lock(&s->lock);
	list_splice(&s->pending, &s->staged);
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int threads_collect(struct disk_queue *q, struct disk_request **ret_list, bool wait)
{
	struct threads_state *s = q->state;

	pthread_mutex_lock(&s->lock);
	while (wait && !s->finished.head)
		pthread_cond_wait(&s->done, &s->lock);
	*ret_list = s->finished.head;
	list_init(&s->finished);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

const struct disk_engine_ops disk_engine_threads_ops = {
    .init = threads_init,
    .done = threads_done,
    .submit = threads_submit,
    .kick = threads_kick,
    .collect = threads_collect,
};
