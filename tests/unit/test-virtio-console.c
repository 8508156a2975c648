/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-console on real chardevs (a file, a pty, null) and real guest memory, with its I/O thread:
 * guest output reaches the backend, host input typed on the pty reaches receive buffers, a pty
 * nobody reads never stalls the guest, and malformed layouts make the device NEEDS_RESET. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "backends/chardev.h"
#include "devices/virtio/console.h"
#include "virtio-driver.h"

struct fixture {
	struct vdrv d;
	struct chardev *chr;
	char *dir, *path;
};

static void setup(struct fixture *f, enum output_mode mode)
{
	memset(f, 0, sizeof(*f));
	vdrv_init(&f->d);
	f->dir = g_dir_make_tmp("test-virtio-console-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "out", NULL);
	g_assert_cmpint(chardev_new(mode, mode == OUTPUT_MODE_FILE ? f->path : NULL, &f->chr), ==, 0);
	g_assert_cmpint(virtio_console_new(f->chr, f->d.mem, &f->d.v), ==, 0);
	vdrv_start(&f->d);
}

static void teardown(struct fixture *f)
{
	vdrv_done(&f->d);
	f->chr = chardev_free(f->chr);
	g_unlink(f->path);
	g_rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

static void tx(struct fixture *f, const char *a, const char *b)
{
	struct vdrv_buf bufs[2] = {
		{ vdrv_alloc(&f->d, a, (uint32_t)strlen(a)), (uint32_t)strlen(a), false },
		{ b ? vdrv_alloc(&f->d, b, (uint32_t)strlen(b)) : 0, b ? (uint32_t)strlen(b) : 0, false },
	};
	vdrv_post(&f->d, VIRTIO_CONSOLE_TX, bufs, b ? 2 : 1);
	virtio_queue_process(f->d.v, VIRTIO_CONSOLE_TX);
}

static void test_identity(void)
{
	struct fixture f;

	setup(&f, OUTPUT_MODE_NULL);
	g_assert_cmpuint(f.d.v->ops->device_id, ==, VIRTIO_ID_CONSOLE);
	g_assert_cmpuint(f.d.v->n_queues, ==, 2);
	g_assert_cmpuint(f.d.v->ops->config_size, ==, VIRTIO_CONSOLE_CONFIG_SIZE);
	teardown(&f);
}

static void test_output_file(void)
{
	struct fixture f;
	g_autofree char *text = NULL;
	uint16_t id = 0;
	uint32_t len = 0;

	setup(&f, OUTPUT_MODE_FILE);
	tx(&f, "hello ", "from hvc0\n");
	tx(&f, "second line\n", NULL);
	g_assert_true(vdrv_used(&f.d, VIRTIO_CONSOLE_TX, &id, &len));
	g_assert_cmpuint(id, ==, 0);
	g_assert_cmpuint(len, ==, 0); /* the device writes nothing into transmit buffers */
	g_assert_true(vdrv_used(&f.d, VIRTIO_CONSOLE_TX, &id, &len));
	g_assert_cmpuint(id, ==, 2);
	g_assert_true(g_file_get_contents(f.path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "hello from hvc0\nsecond line\n");
	struct virtio_stats st = vdrv_stats(&f.d);
	g_assert_cmpuint(st.write_ops, ==, 2);
	g_assert_cmpuint(st.write_bytes, ==, 28);
	g_assert_cmpuint(st.errors, ==, 0);
	teardown(&f);
}

static int open_pty(struct fixture *f)
{
	int fd = open(chardev_pty_path(f->chr), O_RDWR | O_NOCTTY | O_NONBLOCK);
	struct termios t;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(tcgetattr(fd, &t), ==, 0);
	cfmakeraw(&t);
	g_assert_cmpint(tcsetattr(fd, TCSANOW, &t), ==, 0);
	return fd;
}

static void test_pty_both_ways(void)
{
	struct fixture f;
	char buf[64] = { 0 };
	uint16_t id = 0;
	uint32_t len = 0;

	setup(&f, OUTPUT_MODE_PTY);
	int fd = open_pty(&f);

	/* Input before any receive buffer waits in the terminal... */
	g_assert_cmpint(write(fd, "typed", 5), ==, 5);
	g_usleep(50000);
	g_assert_false(vdrv_used(&f.d, VIRTIO_CONSOLE_RX, NULL, NULL));
	/* ...and lands in the first one the driver posts. */
	uint64_t rx = vdrv_alloc(&f.d, NULL, 16);
	struct vdrv_buf b = { rx, 16, true };
	vdrv_post(&f.d, VIRTIO_CONSOLE_RX, &b, 1);
	virtio_queue_process(f.d.v, VIRTIO_CONSOLE_RX);
	g_assert_true(vdrv_wait_used(&f.d, VIRTIO_CONSOLE_RX, &id, &len));
	g_assert_cmpuint(len, ==, 5);
	g_assert_cmpint(guest_memory_read(f.d.mem, rx, buf, len), ==, 0);
	g_assert_cmpstr(buf, ==, "typed");

	/* A posted buffer is filled by the I/O thread when input arrives later. */
	uint64_t rx2 = vdrv_alloc(&f.d, NULL, 16);
	b = (struct vdrv_buf){ rx2, 16, true };
	vdrv_post(&f.d, VIRTIO_CONSOLE_RX, &b, 1);
	virtio_queue_process(f.d.v, VIRTIO_CONSOLE_RX);
	g_assert_false(vdrv_used(&f.d, VIRTIO_CONSOLE_RX, NULL, NULL));
	g_assert_cmpint(write(fd, "more", 4), ==, 4);
	g_assert_true(vdrv_wait_used(&f.d, VIRTIO_CONSOLE_RX, &id, &len));
	g_assert_cmpuint(len, ==, 4);
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(guest_memory_read(f.d.mem, rx2, buf, len), ==, 0);
	g_assert_cmpstr(buf, ==, "more");

	/* Output to the pty's reader. */
	tx(&f, "out", NULL);
	g_usleep(50000);
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(read(fd, buf, sizeof(buf)), ==, 3);
	g_assert_cmpstr(buf, ==, "out");
	struct virtio_stats st = vdrv_stats(&f.d);
	g_assert_cmpuint(st.read_bytes, ==, 9);
	g_assert_cmpuint(st.write_bytes, ==, 3);
	close(fd);
	teardown(&f);
}

/* Nobody reads the pty: the guest's writes still complete; what fits neither the terminal nor the
 * backlog is dropped and counted. */
static void test_pty_unread_never_stalls(void)
{
	struct fixture f;
	static char chunk[4096 + 1];
	unsigned n = 0;

	setup(&f, OUTPUT_MODE_PTY);
	memset(chunk, 'x', sizeof(chunk) - 1);
	for (unsigned i = 0; i < 64; i++) { /* 256 KiB */
		tx(&f, chunk, NULL);
		while (vdrv_used(&f.d, VIRTIO_CONSOLE_TX, NULL, NULL))
			n++;
	}
	g_assert_cmpuint(n, ==, 64);
	g_assert_false(vdrv_needs_reset(&f.d));
	g_assert_cmpuint(vdrv_stats(&f.d).errors, >, 0);
	teardown(&f);
}

static void test_null(void)
{
	struct fixture f;

	setup(&f, OUTPUT_MODE_NULL);
	tx(&f, "discarded", NULL);
	g_assert_true(vdrv_used(&f.d, VIRTIO_CONSOLE_TX, NULL, NULL));
	/* No input: receive buffers stay with the device, untouched. */
	struct vdrv_buf b = { vdrv_alloc(&f.d, NULL, 16), 16, true };
	vdrv_post(&f.d, VIRTIO_CONSOLE_RX, &b, 1);
	virtio_queue_process(f.d.v, VIRTIO_CONSOLE_RX);
	g_assert_false(vdrv_used(&f.d, VIRTIO_CONSOLE_RX, NULL, NULL));
	g_assert_cmpuint(vdrv_stats(&f.d).write_bytes, ==, 9);
	teardown(&f);
}

/* Hostile layouts: each breaks the device (NEEDS_RESET, counted); a reset brings it back. */
static void test_hostile(void)
{
	struct fixture f;

	setup(&f, OUTPUT_MODE_PTY);
	/* A transmit chain with a device-writable buffer. */
	struct vdrv_buf bad_tx[2] = { { vdrv_alloc(&f.d, "ab", 2), 2, false }, { vdrv_alloc(&f.d, NULL, 8), 8, true } };
	vdrv_post(&f.d, VIRTIO_CONSOLE_TX, bad_tx, 2);
	virtio_queue_process(f.d.v, VIRTIO_CONSOLE_TX);
	g_assert_true(vdrv_needs_reset(&f.d));
	g_assert_cmpuint(vdrv_stats(&f.d).errors, ==, 1);

	/* Reset, start again: a receive buffer the device would have to read. */
	pthread_mutex_lock(&f.d.v->lock);
	virtio_set_status(f.d.v, 0);
	pthread_mutex_unlock(&f.d.v->lock);
	vdrv_start(&f.d);
	struct vdrv_buf bad_rx = { vdrv_alloc(&f.d, NULL, 8), 8, false };
	vdrv_post(&f.d, VIRTIO_CONSOLE_RX, &bad_rx, 1);
	virtio_queue_process(f.d.v, VIRTIO_CONSOLE_RX);
	g_assert_true(vdrv_needs_reset(&f.d));

	/* A buffer outside guest RAM. */
	pthread_mutex_lock(&f.d.v->lock);
	virtio_set_status(f.d.v, 0);
	pthread_mutex_unlock(&f.d.v->lock);
	vdrv_start(&f.d);
	struct vdrv_buf outside = { VDRV_RAM - 4, 64, false };
	vdrv_post(&f.d, VIRTIO_CONSOLE_TX, &outside, 1);
	virtio_queue_process(f.d.v, VIRTIO_CONSOLE_TX);
	g_assert_true(vdrv_needs_reset(&f.d));

	/* A zero-length buffer. */
	pthread_mutex_lock(&f.d.v->lock);
	virtio_set_status(f.d.v, 0);
	pthread_mutex_unlock(&f.d.v->lock);
	vdrv_start(&f.d);
	struct vdrv_buf empty = { vdrv_alloc(&f.d, NULL, 8), 0, false };
	vdrv_post(&f.d, VIRTIO_CONSOLE_TX, &empty, 1);
	virtio_queue_process(f.d.v, VIRTIO_CONSOLE_TX);
	g_assert_true(vdrv_needs_reset(&f.d));
	struct virtio_stats st = vdrv_stats(&f.d);
	g_assert_cmpuint(st.errors, ==, 4);
	g_assert_cmpuint(st.resets, ==, 3);

	/* And after all that it works. */
	pthread_mutex_lock(&f.d.v->lock);
	virtio_set_status(f.d.v, 0);
	pthread_mutex_unlock(&f.d.v->lock);
	vdrv_start(&f.d);
	tx(&f, "fine", NULL);
	g_assert_true(vdrv_used(&f.d, VIRTIO_CONSOLE_TX, NULL, NULL));
	g_assert_false(vdrv_needs_reset(&f.d));
	teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtio-console/identity", test_identity);
	g_test_add_func("/virtio-console/output-file", test_output_file);
	g_test_add_func("/virtio-console/pty-both-ways", test_pty_both_ways);
	g_test_add_func("/virtio-console/pty-unread-never-stalls", test_pty_unread_never_stalls);
	g_test_add_func("/virtio-console/null", test_null);
	g_test_add_func("/virtio-console/hostile", test_hostile);
	return g_test_run();
}
