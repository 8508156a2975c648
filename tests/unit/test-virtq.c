/* SPDX-License-Identifier: Apache-2.0 */
/* Split virtqueues against hostile drivers, on real guest memory: well-formed chains (direct,
 * indirect, EVENT_IDX) and every malformed case the device must refuse without touching memory
 * outside guest RAM. */
#include <glib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/virtio/queue.h"
#include "memory/guest-memory.h"

#define RAM (16 * MiB)
#define QSIZE 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define INDIRECT 0x4000
#define BUF 0x10000

struct fixture {
	struct guest_memory *mem;
	struct virtq q;
	struct virtq_elem e;
	uint16_t avail_idx;
};

static void setup(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(guest_memory_new(RAM, &f->mem), ==, 0);
	f->q = (struct virtq){ .max_size = QSIZE, .kick_fd = -1 };
	virtq_reset(&f->q);
	f->q.desc_addr = DESC;
	f->q.avail_addr = AVAIL;
	f->q.used_addr = USED;
	g_assert_cmpint(virtq_start(&f->q, f->mem, data != NULL), ==, 0);
	g_assert_cmpint(virtq_elem_init(&f->e, QSIZE), ==, 0);
	f->avail_idx = 0;
}

static void teardown(struct fixture *f, gconstpointer data)
{
	virtq_elem_done(&f->e);
	f->mem = guest_memory_free(f->mem);
}

static void put_desc(struct fixture *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
	g_assert_cmpint(guest_memory_write(f->mem, table + i * sizeof(d), &d, sizeof(d)), ==, 0);
}

static void put16(struct fixture *f, uint64_t gpa, uint16_t v)
{
	g_assert_cmpint(guest_memory_write(f->mem, gpa, &v, 2), ==, 0);
}

static uint16_t get16(struct fixture *f, uint64_t gpa)
{
	uint16_t v;
	g_assert_cmpint(guest_memory_read(f->mem, gpa, &v, 2), ==, 0);
	return v;
}

/* Makes head available, as a driver does: ring entry first, then the index. */
static void make_available(struct fixture *f, uint16_t head)
{
	put16(f, AVAIL + 4 + 2 * (f->avail_idx % QSIZE), head);
	f->avail_idx++;
	put16(f, AVAIL + 2, f->avail_idx);
}

static void test_empty(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, 0);
}

static void test_chain(struct fixture *f, gconstpointer data)
{
	/* 0: 16 readable bytes -> 1: 8 readable -> 2: 32 writable */
	put_desc(f, DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF + 0x100, 8, VIRTQ_DESC_F_NEXT, 2);
	put_desc(f, DESC, 2, BUF + 0x200, 32, VIRTQ_DESC_F_WRITE, 0);
	make_available(f, 0);

	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, 1);
	g_assert_cmpuint(f->e.head, ==, 0);
	g_assert_cmpuint(f->e.n_out, ==, 2);
	g_assert_cmpuint(f->e.n_in, ==, 1);
	g_assert_cmpuint(f->e.out_len, ==, 24);
	g_assert_cmpuint(f->e.in_len, ==, 32);
	g_assert_true(f->e.iov[0].iov_base == guest_memory_ptr(f->mem, BUF, 16));
	g_assert_true(f->e.iov[2].iov_base == guest_memory_ptr(f->mem, BUF + 0x200, 32));
	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, 0);

	/* Used ring: id and length, then the index; more than was offered is clamped. */
	virtq_push(&f->q, &f->e, 1000);
	uint32_t used[2];
	g_assert_cmpint(guest_memory_read(f->mem, USED + 4, used, sizeof(used)), ==, 0);
	g_assert_cmpuint(used[0], ==, 0);
	g_assert_cmpuint(used[1], ==, 32);
	g_assert_cmpuint(get16(f, USED + 2), ==, 1);
	g_assert_true(virtq_should_signal(&f->q));
	g_assert_false(virtq_should_signal(&f->q)); /* nothing new since */
	put16(f, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	virtq_push(&f->q, &f->e, 0);
	g_assert_false(virtq_should_signal(&f->q));
}

static void test_indirect(struct fixture *f, gconstpointer data)
{
	put_desc(f, INDIRECT, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 2);
	put_desc(f, INDIRECT, 2, BUF + 0x100, 64, VIRTQ_DESC_F_WRITE, 0);
	put_desc(f, DESC, 3, INDIRECT, 3 * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
	make_available(f, 3);
	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, 1);
	g_assert_cmpuint(f->e.head, ==, 3);
	g_assert_cmpuint(f->e.n_out, ==, 1);
	g_assert_cmpuint(f->e.n_in, ==, 1);
	g_assert_cmpuint(f->e.in_len, ==, 64);
}

/* One malformed chain at head 0 must give err, whatever else is in the ring. */
static void expect_error(struct fixture *f, int err)
{
	make_available(f, 0);
	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, err);
}

static void test_loop(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	expect_error(f, -ELOOP);
}

static void test_self_loop(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	expect_error(f, -ELOOP);
}

static void test_indirect_loop(struct fixture *f, gconstpointer data)
{
	put_desc(f, INDIRECT, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, INDIRECT, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
	put_desc(f, DESC, 0, INDIRECT, 2 * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(f, -ELOOP);
}

static void test_next_out_of_range(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	expect_error(f, -EBADMSG);
}

static void test_head_out_of_range(struct fixture *f, gconstpointer data)
{
	make_available(f, QSIZE);
	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, -EBADMSG);
}

static void test_nested_indirect(struct fixture *f, gconstpointer data)
{
	put_desc(f, INDIRECT, 0, INDIRECT + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(f, DESC, 0, INDIRECT, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(f, -EBADMSG);
}

static void test_indirect_with_next(struct fixture *f, gconstpointer data)
{
	put_desc(f, INDIRECT, 0, BUF, 16, 0, 0);
	put_desc(f, DESC, 0, INDIRECT, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 16, 0, 0);
	expect_error(f, -EBADMSG);
}

static void test_indirect_bad_len(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, INDIRECT, 17, VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(f, -EBADMSG);
}

static void test_indirect_outside_ram(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(f, -EFAULT);
}

static void test_buffer_outside_ram(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, RAM - 8, 16, VIRTQ_DESC_F_WRITE, 0);
	expect_error(f, -EFAULT);
}

static void test_buffer_in_mmio_gap(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, LAYOUT_PCI_MMIO32_START, 16, 0, 0);
	expect_error(f, -EFAULT);
}

static void test_address_wraps(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, UINT64_MAX - 7, 16, 0, 0);
	expect_error(f, -EFAULT);
}

static void test_zero_length(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, BUF, 0, VIRTQ_DESC_F_WRITE, 0);
	expect_error(f, -EBADMSG);
}

static void test_huge_length(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, BUF, UINT32_MAX, VIRTQ_DESC_F_WRITE, 0);
	expect_error(f, -EFAULT);
}

static void test_readable_after_writable(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 16, 0, 0);
	expect_error(f, -EBADMSG);
}

static void test_avail_idx_jump(struct fixture *f, gconstpointer data)
{
	put_desc(f, DESC, 0, BUF, 16, 0, 0);
	put16(f, AVAIL + 2, QSIZE + 1);
	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, -EBADMSG);
}

static void test_bad_sizes(void)
{
	struct guest_memory *mem;
	struct virtq q = { .max_size = 256, .kick_fd = -1 };
	const uint16_t bad[] = { 0, 3, 100, 512, 255 };

	g_assert_cmpint(guest_memory_new(RAM, &mem), ==, 0);
	virtq_reset(&q);
	q.desc_addr = DESC;
	q.avail_addr = AVAIL;
	q.used_addr = USED;
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		q.size = bad[i];
		g_assert_cmpint(virtq_start(&q, mem, false), ==, -EINVAL);
	}
	/* Misaligned rings */
	q.size = 16;
	q.desc_addr = DESC + 8;
	g_assert_cmpint(virtq_start(&q, mem, false), ==, -EINVAL);
	q.desc_addr = DESC;
	q.used_addr = USED + 2;
	g_assert_cmpint(virtq_start(&q, mem, false), ==, -EINVAL);
	/* Rings outside RAM, or straddling its end */
	q.used_addr = RAM - 8;
	g_assert_cmpint(virtq_start(&q, mem, false), ==, -EFAULT);
	q.used_addr = USED;
	q.desc_addr = LAYOUT_PCI_ECAM_START;
	g_assert_cmpint(virtq_start(&q, mem, false), ==, -EFAULT);
	q.desc_addr = DESC;
	g_assert_cmpint(virtq_start(&q, mem, false), ==, 0);
	guest_memory_free(mem);
}

/* A chain as long as the queue is fine; the queue cannot hold a longer one without a loop. */
static void test_longest_chain(struct fixture *f, gconstpointer data)
{
	for (unsigned i = 0; i < QSIZE; i++)
		put_desc(f, DESC, i, BUF + i * 0x100, 16, i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	make_available(f, 0);
	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, 1);
	g_assert_cmpuint(f->e.n_out, ==, QSIZE);
}

/* An indirect table longer than the element's iovec room is refused, not overflowed. */
static void test_indirect_too_long(struct fixture *f, gconstpointer data)
{
	const unsigned n = QSIZE + 4;

	for (unsigned i = 0; i < n; i++)
		put_desc(f, INDIRECT, i, BUF, 16, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	put_desc(f, DESC, 0, INDIRECT, n * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(f, -ELOOP);
}

static void test_event_idx(struct fixture *f, gconstpointer data)
{
	const uint64_t used_event = AVAIL + 4 + 2 * QSIZE, avail_event = USED + 4 + 8 * QSIZE;

	for (unsigned i = 0; i < 4; i++) {
		put_desc(f, DESC, i, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
		make_available(f, (uint16_t)i);
	}
	/* Device side: an empty queue publishes avail_event = where it stopped. */
	for (unsigned i = 0; i < 4; i++)
		g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, 1);
	g_assert_cmpint(virtq_pop(&f->q, &f->e), ==, 0);
	g_assert_cmpuint(get16(f, avail_event), ==, 4);

	/* Driver wants an interrupt once used idx passes 2 (used_event = 2). */
	put16(f, used_event, 2);
	g_assert_false(virtq_should_signal(&f->q)); /* nothing used yet */
	virtq_push(&f->q, &f->e, 0);
	g_assert_false(virtq_should_signal(&f->q)); /* used idx 1: not past 2 */
	virtq_push(&f->q, &f->e, 0);
	g_assert_false(virtq_should_signal(&f->q)); /* used idx 2: not past 2 yet */
	virtq_push(&f->q, &f->e, 0);
	g_assert_true(virtq_should_signal(&f->q)); /* 3: crossed used_event */
	virtq_push(&f->q, &f->e, 0);
	g_assert_false(virtq_should_signal(&f->q)); /* already signalled past 2 */
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
#define T(name, fn, data) g_test_add("/virtq/" name, struct fixture, data, setup, fn, teardown)
	T("empty", test_empty, NULL);
	T("chain", test_chain, NULL);
	T("indirect", test_indirect, NULL);
	T("longest-chain", test_longest_chain, NULL);
	T("event-idx", test_event_idx, "event-idx");
	T("hostile/loop", test_loop, NULL);
	T("hostile/self-loop", test_self_loop, NULL);
	T("hostile/indirect-loop", test_indirect_loop, NULL);
	T("hostile/indirect-too-long", test_indirect_too_long, NULL);
	T("hostile/next-out-of-range", test_next_out_of_range, NULL);
	T("hostile/head-out-of-range", test_head_out_of_range, NULL);
	T("hostile/nested-indirect", test_nested_indirect, NULL);
	T("hostile/indirect-with-next", test_indirect_with_next, NULL);
	T("hostile/indirect-bad-len", test_indirect_bad_len, NULL);
	T("hostile/indirect-outside-ram", test_indirect_outside_ram, NULL);
	T("hostile/buffer-outside-ram", test_buffer_outside_ram, NULL);
	T("hostile/buffer-in-mmio-gap", test_buffer_in_mmio_gap, NULL);
	T("hostile/address-wraps", test_address_wraps, NULL);
	T("hostile/zero-length", test_zero_length, NULL);
	T("hostile/huge-length", test_huge_length, NULL);
	T("hostile/readable-after-writable", test_readable_after_writable, NULL);
	T("hostile/avail-idx-jump", test_avail_idx_jump, NULL);
	g_test_add_func("/virtq/hostile/bad-sizes", test_bad_sizes);
	return g_test_run();
}
