/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock on real unix sockets and real guest memory, with its I/O thread: the guest CID in
 * the config space, guest- and host-initiated connections with data both ways, shutdown, hostile
 * packets (each resets its connection and is counted), a credit overrun, hostile layouts
 * (NEEDS_RESET), and a device reset closing the host ends. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backends/vsock-unix.h"
#include "devices/virtio/vsock.h"
#include "virtio-driver.h"

#define CID 3
#define HDR sizeof(struct virtio_vsock_hdr)

struct fixture {
	struct vdrv d;
	char *dir, *path;
};

static void setup(struct fixture *f, gconstpointer data)
{
	memset(f, 0, sizeof(*f));
	vdrv_init(&f->d);
	f->dir = g_dir_make_tmp("test-vsock-XXXXXX", NULL);
	f->path = g_build_filename(f->dir, "v.sock", NULL);
	g_assert_cmpint(virtio_vsock_new(CID, f->path, f->d.mem, &f->d.v), ==, 0);
	vdrv_start(&f->d);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	vdrv_done(&f->d);
	g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS)); /* removed by the device */
	g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
	const char *name;
	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *p = g_build_filename(f->dir, name, NULL);
		g_unlink(p);
	}
	g_rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

static struct virtio_vsock_hdr hdr(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len)
{
	return (struct virtio_vsock_hdr){ .src_cid = CID, .dst_cid = VIRTIO_VSOCK_HOST_CID, .src_port = src_port,
					  .dst_port = dst_port, .len = len, .type = VIRTIO_VSOCK_TYPE_STREAM,
					  .op = op, .buf_alloc = 256 * 1024 };
}

/* One packet on the tx queue: header and payload in two descriptors, as Linux sends them. */
static void send_pkt(struct fixture *f, struct virtio_vsock_hdr h, const void *payload, uint32_t len)
{
	struct vdrv_buf b[2] = { { vdrv_alloc(&f->d, &h, HDR), HDR, false },
				 { len ? vdrv_alloc(&f->d, payload, len) : 0, len, false } };
	vdrv_post(&f->d, VIRTIO_VSOCK_TX, b, len ? 2 : 1);
	virtio_queue_process(f->d.v, VIRTIO_VSOCK_TX);
	g_assert_true(vdrv_used(&f->d, VIRTIO_VSOCK_TX, NULL, NULL));
}

static uint64_t rx_bufs[VDRV_QSIZE];

static void post_rx(struct fixture *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = vdrv_alloc(&f->d, NULL, 4096);
		struct vdrv_buf b = { gpa, 4096, true };
		rx_bufs[vdrv_post(&f->d, VIRTIO_VSOCK_RX, &b, 1)] = gpa;
	}
	virtio_queue_process(f->d.v, VIRTIO_VSOCK_RX);
}

/* The next packet the device put in a receive buffer (waiting for the I/O thread). */
static struct virtio_vsock_hdr recv_pkt(struct fixture *f, char *payload, size_t cap)
{
	struct virtio_vsock_hdr h = { 0 };
	uint16_t id = 0;
	uint32_t len = 0;

	g_assert_true(vdrv_wait_used(&f->d, VIRTIO_VSOCK_RX, &id, &len));
	g_assert_cmpuint(len, >=, HDR);
	g_assert_cmpint(guest_memory_read(f->d.mem, rx_bufs[id], &h, HDR), ==, 0);
	g_assert_cmpuint(h.len, ==, len - HDR);
	g_assert_cmpuint(h.src_cid, ==, VIRTIO_VSOCK_HOST_CID);
	g_assert_cmpuint(h.dst_cid, ==, CID);
	if (payload) {
		g_assert_cmpuint(h.len, <, cap);
		g_assert_cmpint(guest_memory_read(f->d.mem, rx_bufs[id] + HDR, payload, h.len), ==, 0);
		payload[h.len] = '\0';
	}
	return h;
}

static int unix_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 4), ==, 0);
	return fd;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return fd;
}

static void set_timeout(int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void test_config(struct fixture *f, gconstpointer data)
{
	uint64_t cid = 0;

	virtio_config_read(f->d.v, 0, (uint8_t *)&cid, 8);
	g_assert_cmpuint(cid, ==, CID);
	g_assert_cmpuint(f->d.v->ops->device_id, ==, VIRTIO_ID_VSOCK);
	g_assert_cmpuint(f->d.v->n_queues, ==, 3);
	g_assert_cmpint(virtio_vsock_new(2, "/nonexistent/x", f->d.mem, &(struct virtio_device *){ NULL }), ==, -EINVAL);
	struct virtio_device *other = NULL;
	g_assert_cmpint(virtio_vsock_new(4, f->path, f->d.mem, &other), ==, -EADDRINUSE);
}

/* Guest connects to host port 1234 -> PATH_1234; data both ways; guest closes. */
static void test_guest_connect(struct fixture *f, gconstpointer data)
{
	g_autofree char *lpath = g_strdup_printf("%s_1234", f->path);
	int l = unix_listen(lpath);
	char buf[64] = { 0 };

	post_rx(f, 8);
	send_pkt(f, hdr(VIRTIO_VSOCK_OP_REQUEST, 5555, 1234, 0), NULL, 0);
	struct virtio_vsock_hdr h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RESPONSE);
	g_assert_cmpuint(h.src_port, ==, 1234);
	g_assert_cmpuint(h.dst_port, ==, 5555);
	g_assert_cmpuint(h.buf_alloc, ==, 256 * 1024);
	int c = accept(l, NULL, NULL);
	set_timeout(c);

	send_pkt(f, hdr(VIRTIO_VSOCK_OP_RW, 5555, 1234, 4), "ping", 4);
	g_assert_cmpint(read(c, buf, sizeof(buf)), ==, 4);
	g_assert_cmpstr(buf, ==, "ping");

	g_assert_cmpint(write(c, "pong!", 5), ==, 5);
	h = recv_pkt(f, buf, sizeof(buf));
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RW);
	g_assert_cmpstr(buf, ==, "pong!");
	g_assert_cmpuint(h.fwd_cnt, ==, 4); /* the host took the guest's 4 bytes */

	/* The host half-closes: the guest hears SHUTDOWN(SEND). */
	shutdown(c, SHUT_WR);
	h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_SHUTDOWN);
	g_assert_cmpuint(h.flags, ==, VIRTIO_VSOCK_SHUTDOWN_SEND);

	/* The guest closes: EOF on the host, RST to the guest. */
	struct virtio_vsock_hdr sd = hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 5555, 1234, 0);
	sd.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
	send_pkt(f, sd, NULL, 0);
	h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RST);
	g_assert_cmpint(read(c, buf, sizeof(buf)), ==, 0);
	struct virtio_stats st = vdrv_stats(&f->d);
	g_assert_cmpuint(st.write_bytes, ==, 4);
	g_assert_cmpuint(st.read_bytes, ==, 5);
	g_assert_cmpuint(st.errors, ==, 0);
	close(c);
	close(l);
	g_unlink(lpath);
}

static void test_guest_connect_refused(struct fixture *f, gconstpointer data)
{
	post_rx(f, 2);
	send_pkt(f, hdr(VIRTIO_VSOCK_OP_REQUEST, 5555, 4321, 0), NULL, 0);
	struct virtio_vsock_hdr h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RST);
	g_assert_cmpuint(vdrv_stats(&f->d).errors, ==, 0); /* nobody listening is not the guest's fault */
}

/* A host client writes CONNECT 5000; the guest accepts; data both ways. */
static void test_host_connect(struct fixture *f, gconstpointer data)
{
	char buf[64] = { 0 };
	int c = unix_connect(f->path);

	set_timeout(c);
	post_rx(f, 8);
	g_assert_cmpint(write(c, "CONNECT 5000\nearly", 18), ==, 18);
	struct virtio_vsock_hdr h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_REQUEST);
	g_assert_cmpuint(h.dst_port, ==, 5000);
	g_assert_cmpuint(h.src_port, >=, VSOCK_LOCAL_PORT_FIRST);
	uint32_t host_port = h.src_port;

	send_pkt(f, hdr(VIRTIO_VSOCK_OP_RESPONSE, 5000, host_port, 0), NULL, 0);
	g_autofree char *ok = g_strdup_printf("OK %u\n", host_port);
	g_assert_cmpint(read(c, buf, strlen(ok)), ==, (ssize_t)strlen(ok));
	g_assert_cmpstr(buf, ==, ok);
	/* What the client sent right behind its line reaches the guest. */
	h = recv_pkt(f, buf, sizeof(buf));
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RW);
	g_assert_cmpstr(buf, ==, "early");

	send_pkt(f, hdr(VIRTIO_VSOCK_OP_RW, 5000, host_port, 5), "reply", 5);
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(read(c, buf, sizeof(buf)), ==, 5);
	g_assert_cmpstr(buf, ==, "reply");

	/* A credit request is answered with an update. */
	send_pkt(f, hdr(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 5000, host_port, 0), NULL, 0);
	h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	g_assert_cmpuint(h.fwd_cnt, ==, 5);

	/* The host client leaves: the guest gets SHUTDOWN for the EOF, then a reset once it closes. */
	close(c);
	h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_SHUTDOWN);
	g_assert_cmpuint(vdrv_stats(&f->d).errors, ==, 0);
}

/* A guest that never answers a host client's request while it has no driver: refused. The guest
 * answering RST instead of RESPONSE closes the client. */
static void test_host_connect_rst(struct fixture *f, gconstpointer data)
{
	char buf[16];
	int c = unix_connect(f->path);

	set_timeout(c);
	post_rx(f, 2);
	g_assert_cmpint(write(c, "CONNECT 7\n", 10), ==, 10);
	struct virtio_vsock_hdr h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_REQUEST);
	send_pkt(f, hdr(VIRTIO_VSOCK_OP_RST, 7, h.src_port, 0), NULL, 0);
	g_assert_cmpint(read(c, buf, sizeof(buf)), ==, 0);
	close(c);
}

/* Each hostile packet resets its connection (RST back) and is counted; the device keeps going. */
static void test_hostile_packets(struct fixture *f, gconstpointer data)
{
	struct virtio_vsock_hdr bad[7];
	unsigned n = 0;

	bad[n] = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 2, 0), bad[n++].dst_cid = 7;	  /* not to the host */
	bad[n] = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 2, 0), bad[n++].src_cid = 9;	  /* not from this guest */
	bad[n] = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 2, 0), bad[n++].type = 2;	  /* seqpacket: not offered */
	bad[n++] = hdr(99, 1, 2, 0);						  /* unknown op */
	bad[n++] = hdr(VIRTIO_VSOCK_OP_RW, 1, 2, 100);				  /* longer than its chain */
	bad[n++] = hdr(VIRTIO_VSOCK_OP_RW, 1, 2, 0);				  /* data for no connection */
	bad[n] = hdr(VIRTIO_VSOCK_OP_RW, 1, 2, 0), bad[n++].len = 0x80000000;	  /* absurd length */

	post_rx(f, 16);
	for (unsigned i = 0; i < n; i++) {
		send_pkt(f, bad[i], "x", 1 > bad[i].len && bad[i].op == VIRTIO_VSOCK_OP_RW ? 0 : 1);
		struct virtio_vsock_hdr h = recv_pkt(f, NULL, 0);
		g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RST);
		g_assert_cmpuint(h.src_port, ==, 2);
		g_assert_cmpuint(h.dst_port, ==, 1);
	}
	g_assert_cmpuint(vdrv_stats(&f->d).errors, ==, n);
	g_assert_false(vdrv_needs_reset(&f->d));
	/* An RST for nothing is ignored, not answered. */
	send_pkt(f, hdr(VIRTIO_VSOCK_OP_RST, 1, 2, 0), NULL, 0);
	g_usleep(50000);
	g_assert_false(vdrv_used(&f->d, VIRTIO_VSOCK_RX, NULL, NULL));
}

/* The guest sends more than the 256 KiB of credit we gave while the host reads nothing. */
static void test_credit_overrun(struct fixture *f, gconstpointer data)
{
	g_autofree char *lpath = g_strdup_printf("%s_80", f->path);
	g_autofree char *chunk = g_malloc0(VIRTIO_VSOCK_MAX_PAYLOAD);
	int l = unix_listen(lpath);

	send_pkt(f, hdr(VIRTIO_VSOCK_OP_REQUEST, 6000, 80, 0), NULL, 0);
	int c = accept(l, NULL, NULL);
	/* No receive buffers: the guest never hears of the host's progress, so its credit is 256 KiB. */
	for (unsigned i = 0; i < 4; i++)
		send_pkt(f, hdr(VIRTIO_VSOCK_OP_RW, 6000, 80, VIRTIO_VSOCK_MAX_PAYLOAD), chunk, VIRTIO_VSOCK_MAX_PAYLOAD);
	g_assert_cmpuint(vdrv_stats(&f->d).errors, ==, 0);
	send_pkt(f, hdr(VIRTIO_VSOCK_OP_RW, 6000, 80, 1), "!", 1);
	g_assert_cmpuint(vdrv_stats(&f->d).errors, ==, 1);
	post_rx(f, 8);
	/* RESPONSE, then the reset (credit updates may come between). */
	struct virtio_vsock_hdr h = recv_pkt(f, NULL, 0);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RESPONSE);
	do
		h = recv_pkt(f, NULL, 0);
	while (h.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RST);
	close(c);
	close(l);
	g_unlink(lpath);
}

/* Layouts the spec forbids break the device; a reset also closes every host end. */
static void test_hostile_layouts(struct fixture *f, gconstpointer data)
{
	struct virtio_vsock_hdr h = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 2, 0);
	struct vdrv_buf shorter = { vdrv_alloc(&f->d, &h, 20), 20, false };

	vdrv_post(&f->d, VIRTIO_VSOCK_TX, &shorter, 1);
	virtio_queue_process(f->d.v, VIRTIO_VSOCK_TX);
	g_assert_true(vdrv_needs_reset(&f->d));

	pthread_mutex_lock(&f->d.v->lock);
	virtio_set_status(f->d.v, 0);
	pthread_mutex_unlock(&f->d.v->lock);
	vdrv_start(&f->d);
	struct vdrv_buf tiny_rx = { vdrv_alloc(&f->d, NULL, 16), 16, true };
	vdrv_post(&f->d, VIRTIO_VSOCK_RX, &tiny_rx, 1);
	send_pkt(f, hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 2, 0), NULL, 0); /* refused: an RST to deliver */
	g_assert_true(vdrv_needs_reset(&f->d));

	pthread_mutex_lock(&f->d.v->lock);
	virtio_set_status(f->d.v, 0);
	pthread_mutex_unlock(&f->d.v->lock);
	vdrv_start(&f->d);
	struct vdrv_buf w[2] = { { vdrv_alloc(&f->d, &h, HDR), HDR, false }, { vdrv_alloc(&f->d, NULL, 8), 8, true } };
	vdrv_post(&f->d, VIRTIO_VSOCK_TX, w, 2);
	virtio_queue_process(f->d.v, VIRTIO_VSOCK_TX);
	g_assert_true(vdrv_needs_reset(&f->d));
	g_assert_cmpuint(vdrv_stats(&f->d).errors, ==, 3);

	/* Working again after a reset, and a reset drops the connections. */
	g_autofree char *lpath = g_strdup_printf("%s_9", f->path);
	int l = unix_listen(lpath);
	pthread_mutex_lock(&f->d.v->lock);
	virtio_set_status(f->d.v, 0);
	pthread_mutex_unlock(&f->d.v->lock);
	vdrv_start(&f->d);
	post_rx(f, 4);
	send_pkt(f, hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 9, 0), NULL, 0);
	g_assert_cmpuint(recv_pkt(f, NULL, 0).op, ==, VIRTIO_VSOCK_OP_RESPONSE);
	int c = accept(l, NULL, NULL);
	set_timeout(c);
	pthread_mutex_lock(&f->d.v->lock);
	virtio_set_status(f->d.v, 0);
	pthread_mutex_unlock(&f->d.v->lock);
	char buf[4];
	g_assert_cmpint(read(c, buf, sizeof(buf)), ==, 0);
	close(c);
	close(l);
	g_unlink(lpath);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/virtio-vsock/" name, struct fixture, NULL, setup, fn, teardown)
	ADD("config", test_config);
	ADD("guest-connect", test_guest_connect);
	ADD("guest-connect-refused", test_guest_connect_refused);
	ADD("host-connect", test_host_connect);
	ADD("host-connect-rst", test_host_connect_rst);
	ADD("hostile-packets", test_hostile_packets);
	ADD("credit-overrun", test_credit_overrun);
	ADD("hostile-layouts", test_hostile_layouts);
	return g_test_run();
}
