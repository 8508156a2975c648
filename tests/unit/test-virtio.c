/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-pci common configuration and device status state machine, driven through BAR 0 as a
 * driver does, with the real virtio-rng device on real guest memory and its I/O thread: feature
 * negotiation, read-only registers, queue setup, reset, NEEDS_RESET on a hostile queue, and a
 * request served end to end with an MSI-X interrupt. */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "devices/virtio/pci-modern.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio.h"
#include "memory/guest-memory.h"

#define RAM (16 * MiB)
#define DESC 0x1000
#define AVAIL 0x3000
#define USED 0x4000
#define BUF 0x10000
#define QSIZE 16

struct fixture {
	struct guest_memory *mem;
	struct virtio_pci *p;
	char *src;
	unsigned fired[2];
};

static int rec_route(void *opaque, unsigned v, uint64_t addr, uint32_t data)
{
	return 0;
}

static void rec_fire(void *opaque, unsigned v)
{
	struct fixture *f = opaque;
	__atomic_add_fetch(&f->fired[v], 1, __ATOMIC_SEQ_CST);
}

static const struct msix_ops rec_ops = { .route = rec_route, .fire = rec_fire };

static void setup(struct fixture *f, gconstpointer data)
{
	struct virtio_device *v;
	g_autoptr(GError) error = NULL;
	int fd;

	memset(f, 0, sizeof(*f));
	g_assert_cmpint(guest_memory_new(RAM, &f->mem), ==, 0);
	fd = g_file_open_tmp("test-virtio-XXXXXX", &f->src, &error);
	g_assert_no_error(error);
	g_assert_cmpint(write(fd, "0123456789abcdef0123456789abcdef", 32), ==, 32);
	close(fd);
	g_assert_cmpint(virtio_rng_new(f->src, f->mem, &v), ==, 0);
	g_assert_cmpint(virtio_pci_new(v, &rec_ops, f, -1, &f->p), ==, 0);
	/* As the bus would place it: BAR 0 at the start of the 32-bit window, decoding on. */
	pci_config_set(&f->p->pci, PCI_BAR0, LAYOUT_PCI_MMIO32_START, 4);
	pci_config_set(&f->p->pci, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	f->p = virtio_pci_free(f->p);
	f->mem = guest_memory_free(f->mem);
	unlink(f->src);
	g_free(f->src);
}

static uint32_t rd(struct fixture *f, uint64_t off, unsigned len)
{
	uint32_t v = 0;
	f->p->pci.ops->bar_read(&f->p->pci, 0, off, (uint8_t *)&v, len);
	return v;
}

static void wr(struct fixture *f, uint64_t off, uint32_t v, unsigned len)
{
	f->p->pci.ops->bar_write(&f->p->pci, 0, off, (uint8_t *)&v, len);
}

static uint8_t status(struct fixture *f)
{
	return (uint8_t)rd(f, VIRTIO_PCI_COMMON_STATUS, 1);
}

/* ACKNOWLEDGE, DRIVER, features (VERSION_1 | EVENT_IDX when event_idx), FEATURES_OK. */
static void negotiate(struct fixture *f, bool event_idx)
{
	wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	wr(f, VIRTIO_PCI_COMMON_GF, event_idx ? 1u << VIRTIO_F_RING_EVENT_IDX : 0, 4);
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(f, VIRTIO_PCI_COMMON_GF, 1u << (VIRTIO_F_VERSION_1 - 32), 4);
	wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK,
	   1);
}

static void setup_queue(struct fixture *f, uint64_t desc)
{
	wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	wr(f, VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
	wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_DESCLO + 4, (uint32_t)(desc >> 32), 4);
	wr(f, VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_USEDLO, USED, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	wr(f, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static void driver_ok(struct fixture *f)
{
	wr(f, VIRTIO_PCI_COMMON_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
}

static void enable_msix(struct fixture *f)
{
	struct msix *m = &f->p->msix;
	uint16_t ctl = MSIX_CONTROL_ENABLE;

	pci_device_config_write(&f->p->pci, m->cap + 2, (uint8_t *)&ctl, 2);
	for (unsigned v = 0; v < 2; v++) {
		wr(f, VIRTIO_PCI_MSIX_TABLE_OFFSET + v * 16, 0xfee00000, 4);
		wr(f, VIRTIO_PCI_MSIX_TABLE_OFFSET + v * 16 + 8, 0x40 + v, 4);
		wr(f, VIRTIO_PCI_MSIX_TABLE_OFFSET + v * 16 + 12, 0, 4);
	}
}

static void test_identity(struct fixture *f, gconstpointer data)
{
	struct pci_device *d = &f->p->pci;
	uint8_t cfg_types[8] = { 0 };
	unsigned n = 0;

	g_assert_cmphex(pci_config_get(d, PCI_VENDOR_ID, 2), ==, 0x1af4);
	g_assert_cmphex(pci_config_get(d, PCI_DEVICE_ID, 2), ==, 0x1044);
	g_assert_cmpuint(pci_config_get(d, PCI_REVISION_ID, 1), >=, 1);
	for (unsigned c = d->config[PCI_CAPABILITY_LIST]; c && n < 8; c = d->config[c + 1])
		if (d->config[c] == PCI_CAP_ID_VNDR)
			cfg_types[n++] = d->config[c + 3];
	g_assert_cmpuint(n, ==, 4); /* common, notify, ISR, PCI_CFG: rng has no device config */
	g_assert_cmpuint(cfg_types[0], ==, VIRTIO_PCI_CAP_COMMON_CFG);
	g_assert_cmpuint(cfg_types[1], ==, VIRTIO_PCI_CAP_NOTIFY_CFG);
	g_assert_cmpuint(cfg_types[2], ==, VIRTIO_PCI_CAP_ISR_CFG);
	g_assert_cmpuint(cfg_types[3], ==, VIRTIO_PCI_CAP_PCI_CFG);

	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), ==, 1);
	wr(f, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	g_assert_cmphex(rd(f, VIRTIO_PCI_COMMON_DF, 4), ==, 1u << (VIRTIO_F_VERSION_1 - 32)); /* no ACCESS_PLATFORM */
	wr(f, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	g_assert_cmphex(rd(f, VIRTIO_PCI_COMMON_DF, 4), ==,
			(1u << VIRTIO_F_RING_EVENT_IDX) | (1u << VIRTIO_F_RING_INDIRECT_DESC));
	wr(f, VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
	g_assert_cmphex(rd(f, VIRTIO_PCI_COMMON_DF, 4), ==, 0);
}

static void test_read_only(struct fixture *f, gconstpointer data)
{
	struct virtio_stats st;

	wr(f, VIRTIO_PCI_COMMON_DF, 0xffffffff, 4);
	wr(f, VIRTIO_PCI_COMMON_NUMQ, 7, 2);
	wr(f, VIRTIO_PCI_COMMON_CFGGENERATION, 9, 1);
	wr(f, VIRTIO_PCI_COMMON_Q_NOFF, 5, 2);
	g_assert_cmphex(rd(f, VIRTIO_PCI_COMMON_DF, 4), ==,
			(1u << VIRTIO_F_RING_EVENT_IDX) | (1u << VIRTIO_F_RING_INDIRECT_DESC));
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), ==, 1);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1), ==, 0);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_Q_NOFF, 2), ==, 0);
	virtio_device_get_stats(f->p->vdev, &st);
	g_assert_cmpuint(st.errors, ==, 4);
	/* Past the common config, and unaligned sizes: nothing. */
	wr(f, VIRTIO_PCI_COMMON_SIZE, 1, 4);
	wr(f, VIRTIO_PCI_COMMON_STATUS, 0x0101, 3);
	g_assert_cmpuint(status(f), ==, 0);
	/* Vectors we do not have read back as NO_VECTOR. */
	wr(f, VIRTIO_PCI_COMMON_MSIX, 5, 2);
	g_assert_cmphex(rd(f, VIRTIO_PCI_COMMON_MSIX, 2), ==, VIRTQ_NO_VECTOR);
	/* Queues that do not exist read as size 0 and take no writes. */
	wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 3, 2);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 0);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
}

static void test_features(struct fixture *f, gconstpointer data)
{
	/* Without VERSION_1 the device refuses FEATURES_OK. */
	wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK,
	   1);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_FEATURES_OK, ==, 0);
	/* Nor features it does not offer (ACCESS_PLATFORM). */
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(f, VIRTIO_PCI_COMMON_GF, 3, 4);
	wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK,
	   1);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_FEATURES_OK, ==, 0);
	/* DRIVER_OK without FEATURES_OK does not start the device. */
	driver_ok(f);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_DRIVER_OK, ==, 0);

	negotiate(f, true);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_FEATURES_OK, !=, 0);
	/* Features are frozen now. */
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	wr(f, VIRTIO_PCI_COMMON_GF, 0, 4);
	g_assert_cmphex(rd(f, VIRTIO_PCI_COMMON_GF, 4), ==, 1u << VIRTIO_F_RING_EVENT_IDX);
	/* Clearing a status bit is not the driver's to do. */
	wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	g_assert_cmpuint(status(f), ==,
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

static void put_desc(struct fixture *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
	g_assert_cmpint(guest_memory_write(f->mem, DESC + i * sizeof(d), &d, sizeof(d)), ==, 0);
}

static uint16_t get16(struct fixture *f, uint64_t gpa)
{
	uint16_t v;
	g_assert_cmpint(guest_memory_read(f->mem, gpa, &v, 2), ==, 0);
	return v;
}

static void offer(struct fixture *f, uint16_t head, uint16_t idx)
{
	g_assert_cmpint(guest_memory_write(f->mem, AVAIL + 4 + 2 * ((idx - 1) % QSIZE), &head, 2), ==, 0);
	g_assert_cmpint(guest_memory_write(f->mem, AVAIL + 2, &idx, 2), ==, 0);
	wr(f, VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
}

/* Waits (bounded) for the I/O thread. */
static bool wait_for(bool (*cond)(struct fixture *), struct fixture *f)
{
	for (int i = 0; i < 500; i++) {
		if (cond(f))
			return true;
		g_usleep(10000);
	}
	return false;
}

static bool used_one(struct fixture *f)
{
	return get16(f, USED + 2) == 1;
}

static bool needs_reset(struct fixture *f)
{
	return status(f) & VIRTIO_STATUS_NEEDS_RESET;
}

static void test_request(struct fixture *f, gconstpointer data)
{
	struct virtio_stats st;
	char buf[16];
	uint32_t used[2];

	enable_msix(f);
	negotiate(f, false);
	setup_queue(f, DESC);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 1);
	/* Queue registers are frozen once the queue is enabled. */
	wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 4, 2);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, QSIZE);
	driver_ok(f);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_DRIVER_OK, !=, 0);

	put_desc(f, 0, BUF, 10, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0, 1);
	g_assert_true(wait_for(used_one, f));
	g_assert_cmpint(guest_memory_read(f->mem, USED + 4, used, sizeof(used)), ==, 0);
	g_assert_cmpuint(used[0], ==, 0);
	g_assert_cmpuint(used[1], ==, 10);
	g_assert_cmpint(guest_memory_read(f->mem, BUF, buf, 10), ==, 0);
	g_assert_cmpmem(buf, 10, "0123456789", 10);
	g_assert_cmpuint(__atomic_load_n(&f->fired[1], __ATOMIC_SEQ_CST), ==, 1);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_ISR_OFFSET, 1), ==, 1); /* read clears it */
	g_assert_cmpuint(rd(f, VIRTIO_PCI_ISR_OFFSET, 1), ==, 0);
	virtio_device_get_stats(f->p->vdev, &st);
	g_assert_cmpuint(st.read_ops, ==, 1);
	g_assert_cmpuint(st.read_bytes, ==, 10);
	g_assert_cmpuint(st.interrupts, ==, 1);

	/* Reset: everything back to its initial value. */
	wr(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	g_assert_cmpuint(status(f), ==, 0);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
	g_assert_cmphex(rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), ==, VIRTQ_NO_VECTOR);
	g_assert_cmphex(rd(f, VIRTIO_PCI_COMMON_MSIX, 2), ==, VIRTQ_NO_VECTOR);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), ==, 0);
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_GF, 4), ==, 0);
	virtio_device_get_stats(f->p->vdev, &st);
	g_assert_cmpuint(st.resets, ==, 1);
}

static void test_hostile_queue(struct fixture *f, gconstpointer data)
{
	struct virtio_stats st;

	enable_msix(f);
	negotiate(f, true);
	setup_queue(f, DESC);
	driver_ok(f);
	/* A descriptor loop: the device gives up on the queue and asks for a reset. */
	put_desc(f, 0, BUF, 10, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0, 1);
	g_assert_true(wait_for(needs_reset, f));
	g_assert_cmpuint(__atomic_load_n(&f->fired[0], __ATOMIC_SEQ_CST), ==, 1); /* config interrupt */
	g_assert_cmpuint(rd(f, VIRTIO_PCI_ISR_OFFSET, 1) & 2, ==, 2);
	g_assert_cmpuint(get16(f, USED + 2), ==, 0);
	virtio_device_get_stats(f->p->vdev, &st);
	g_assert_cmpuint(st.errors, ==, 1);
	/* Further kicks do nothing until the reset. */
	put_desc(f, 1, BUF, 10, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 1, 2);
	g_usleep(50000);
	g_assert_cmpuint(get16(f, USED + 2), ==, 0);

	/* After a reset the device works again. */
	wr(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	guest_memory_write(f->mem, AVAIL, (uint16_t[]){ 0, 0 }, 4);
	guest_memory_write(f->mem, USED, (uint16_t[]){ 0, 0 }, 4);
	negotiate(f, false);
	setup_queue(f, DESC);
	driver_ok(f);
	put_desc(f, 0, BUF, 10, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0, 1);
	g_assert_true(wait_for(used_one, f));
}

static void test_queue_outside_ram(struct fixture *f, gconstpointer data)
{
	negotiate(f, false);
	setup_queue(f, RAM - 64);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	g_assert_cmpuint(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
	/* Bad sizes likewise. */
	wr(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	negotiate(f, false);
	wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 3, 2);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	g_assert_cmpuint(status(f) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
}

static void test_pci_cfg_window(struct fixture *f, gconstpointer data)
{
	struct pci_device *d = &f->p->pci;
	unsigned c = f->p->pci_cfg_cap;
	uint32_t v = 0;

	/* Read num_queues through config space: bar 0, offset 0x12, 2 bytes. */
	pci_device_config_write(d, c + 4, (uint8_t[]){ 0 }, 1);
	pci_device_config_write(d, c + 8, (uint8_t *)&(uint32_t){ VIRTIO_PCI_COMMON_NUMQ }, 4);
	pci_device_config_write(d, c + 12, (uint8_t *)&(uint32_t){ 2 }, 4);
	pci_device_config_read(d, c + 16, (uint8_t *)&v, 4);
	g_assert_cmpuint(v, ==, 1);
	/* Write the status through it */
	pci_device_config_write(d, c + 8, (uint8_t *)&(uint32_t){ VIRTIO_PCI_COMMON_STATUS }, 4);
	pci_device_config_write(d, c + 12, (uint8_t *)&(uint32_t){ 1 }, 4);
	pci_device_config_write(d, c + 16, (uint8_t *)&(uint32_t){ VIRTIO_STATUS_ACKNOWLEDGE }, 4);
	g_assert_cmpuint(status(f), ==, VIRTIO_STATUS_ACKNOWLEDGE);
	/* A length of 3 or another BAR does nothing. */
	pci_device_config_write(d, c + 12, (uint8_t *)&(uint32_t){ 3 }, 4);
	pci_device_config_write(d, c + 16, (uint8_t *)&(uint32_t){ 0 }, 4);
	g_assert_cmpuint(status(f), ==, VIRTIO_STATUS_ACKNOWLEDGE);
}

static void test_stat_table(void)
{
	for (int i = 0; i < _VIRTIO_STAT_MAX; i++) {
		const char *s = virtio_stat_to_string(i);
		g_assert_nonnull(s);
		g_assert_cmpint(virtio_stat_from_string(s), ==, i);
	}
	g_assert_null(virtio_stat_to_string(_VIRTIO_STAT_MAX));
	g_assert_null(virtio_stat_to_string(_VIRTIO_STAT_INVALID));
	g_assert_cmpint(virtio_stat_from_string("bogus"), ==, _VIRTIO_STAT_INVALID);
}

static void test_rng_bad_source(void)
{
	struct guest_memory *mem;
	struct virtio_device *v;

	g_assert_cmpint(guest_memory_new(RAM, &mem), ==, 0);
	g_assert_cmpint(virtio_rng_new("/nonexistent/entropy", mem, &v), ==, -ENOENT);
	guest_memory_free(mem);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/virtio/" name, struct fixture, NULL, setup, fn, teardown)
	T("identity", test_identity);
	T("read-only", test_read_only);
	T("features", test_features);
	T("request-and-reset", test_request);
	T("hostile-queue", test_hostile_queue);
	T("queue-outside-ram", test_queue_outside_ram);
	T("pci-cfg-window", test_pci_cfg_window);
	g_test_add_func("/virtio/stat-table", test_stat_table);
	g_test_add_func("/virtio/rng-bad-source", test_rng_bad_source);
	return g_test_run();
}
