/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net on a real tap, in a network namespace of the test's own, driven the way a driver
 * drives it (features, queues, DRIVER_OK, descriptor chains in real guest memory, kicks through the
 * eventfds its I/O threads poll): frames both ways between the guest rings and UDP sockets of the
 * host, mergeable buffers, a receive ring left empty (no spinning), the control queue, and hostile
 * input (short chains, writable transmit buffers, readable receive buffers, frames larger than the
 * buffers, bad control commands). Needs root; skipped without. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/tap.h"
#include "devices/virtio/net.h"
#include "devices/virtio/virtio.h"
#include "memory/guest-memory.h"

#include <glib.h>

#define RAM (32ULL << 20)
#define QSIZE 64
#define QBASE(i) (0x100000ULL + (uint64_t)(i) * 0x4000)
#define BUF_BASE 0x400000ULL
#define HDR 12u
#define ETH_IP_UDP (14u + 20u + 8u)
#define HOST_ADDR "10.77.0.1"
#define GUEST_ADDR "10.77.0.2"
#define F(b) (1ULL << (b))

static bool have_netns;
static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01};

struct fx {
	struct guest_memory *mem;
	struct virtio_device *v;
	char ifname[16];
	uint8_t host_mac[6];
	int sock;
	uint16_t port;
	uint16_t next_desc[8], avail[8];
	uint64_t next_buf;
	unsigned queue_irqs, config_irqs;
};

static void sig_queue(void *o, struct virtq *q)
{
	__atomic_add_fetch(&((struct fx *)o)->queue_irqs, 1, __ATOMIC_SEQ_CST);
}

static void sig_config(void *o)
{
	__atomic_add_fetch(&((struct fx *)o)->config_irqs, 1, __ATOMIC_SEQ_CST);
}

static const struct virtio_transport_ops recorder = {.signal_queue = sig_queue, .signal_config = sig_config};

static void *gpa(struct fx *f, uint64_t a, uint64_t len)
{
	void *p = guest_memory_ptr(f->mem, a, len);
	g_assert_nonnull(p);
	return p;
}

/* A fresh device on a fresh tap with pairs queue pairs; the host side has HOST_ADDR and knows the
 * guest's MAC (no ARP round trip), IPv6 off so nothing else crosses the link. */
static void fx_init(struct fx *f, unsigned pairs, uint16_t queue_size)
{
	struct virtio_net_params params = {.queue_size = queue_size, .offload_csum = true, .offload_tso = true};
	struct tap *t;
	struct in_addr a;
	char path[128];

	memset(f, 0, sizeof(*f));
	g_assert_cmpint(guest_memory_new(RAM, &f->mem), ==, 0);
	g_assert_cmpint(tap_open("vnettest%d", pairs, &t), ==, 0);
	g_strlcpy(f->ifname, tap_name(t), sizeof(f->ifname));
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", f->ifname);
	FILE *sysctl = fopen(path, "w");
	g_assert_nonnull(sysctl);
	g_assert_cmpint(fputs("1", sysctl), >=, 0);
	g_assert_cmpint(fclose(sysctl), ==, 0);
	inet_pton(AF_INET, HOST_ADDR, &a);
	g_assert_cmpint(tap_set_ipv4(t, a, 24), ==, 0);
	g_assert_cmpint(tap_set_up(t, true), ==, 0);
	g_assert_cmpint(tap_get_mac(t, f->host_mac), ==, 0);
	memcpy(params.mac, guest_mac, 6);
	g_assert_cmpint(virtio_net_new(&params, t, f->mem, &f->v), ==, 0);
	virtio_device_set_transport(f->v, &recorder, f);

	f->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};
	socklen_t sl = sizeof(sin);
	g_assert_cmpint(bind(f->sock, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
	g_assert_cmpint(getsockname(f->sock, (struct sockaddr *)&sin, &sl), ==, 0);
	f->port = ntohs(sin.sin_port);
	struct arpreq arp = {.arp_flags = ATF_COM | ATF_PERM};
	struct sockaddr_in *pa = (struct sockaddr_in *)&arp.arp_pa;
	pa->sin_family = AF_INET;
	inet_pton(AF_INET, GUEST_ADDR, &pa->sin_addr);
	arp.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(arp.arp_ha.sa_data, guest_mac, 6);
	g_strlcpy(arp.arp_dev, f->ifname, sizeof(arp.arp_dev));
	g_assert_cmpint(ioctl(f->sock, SIOCSARP, &arp), ==, 0);
}

static void fx_done(struct fx *f)
{
	f->v = virtio_device_free(f->v);
	f->mem = guest_memory_free(f->mem);
	close(f->sock);
}

/* The driver's side of start-up: features, n_queues queues of QSIZE, DRIVER_OK. */
static void start(struct fx *f, uint64_t features, unsigned n_queues)
{
	struct virtio_device *v = f->v;

	pthread_mutex_lock(&v->lock);
	virtio_set_status(v, 0);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	features |= F(VIRTIO_F_VERSION_1);
	virtio_set_driver_features(v, 0, (uint32_t)features);
	virtio_set_driver_features(v, 1, (uint32_t)(features >> 32));
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	g_assert_cmpuint(v->status & VIRTIO_STATUS_FEATURES_OK, !=, 0);
	for (unsigned i = 0; i < n_queues; i++) {
		struct virtq *q = &v->queues[i];
		memset(gpa(f, QBASE(i), 0x4000), 0, 0x4000);
		q->size = QSIZE;
		q->desc_addr = QBASE(i);
		q->avail_addr = QBASE(i) + 0x1000;
		q->used_addr = QBASE(i) + 0x2000;
		virtio_queue_enable(v, i);
		g_assert_true(q->ready);
		f->next_desc[i] = f->avail[i] = 0;
	}
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
				 VIRTIO_STATUS_DRIVER_OK);
	pthread_mutex_unlock(&v->lock);
	f->next_buf = BUF_BASE;
}

static uint8_t dev_status(struct fx *f)
{
	pthread_mutex_lock(&f->v->lock);
	uint8_t s = f->v->status;
	pthread_mutex_unlock(&f->v->lock);
	return s;
}

static uint64_t errors(struct fx *f)
{
	struct virtio_stats s;
	virtio_device_get_stats(f->v, &s);
	return s.errors;
}

struct seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

static uint64_t alloc_buf(struct fx *f, uint32_t len)
{
	uint64_t a = f->next_buf;
	f->next_buf += (len + 63) & ~63u;
	memset(gpa(f, a, len), 0, len);
	return a;
}

/* Puts one chain on queue qi's avail ring and kicks. Returns the head. */
static uint16_t add_chain(struct fx *f, unsigned qi, const struct seg *s, unsigned n)
{
	struct virtq_desc *desc = gpa(f, QBASE(qi), 16 * QSIZE);
	uint16_t *avail = gpa(f, QBASE(qi) + 0x1000, 6 + 2 * QSIZE);
	uint16_t head = f->next_desc[qi] % QSIZE;

	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % QSIZE);
		desc[d] = (struct virtq_desc){
		    .addr = s[i].addr,
		    .len = s[i].len,
		    .flags = (uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
		    .next = (uint16_t)((d + 1) % QSIZE),
		};
	}
	f->next_desc[qi] = (uint16_t)(f->next_desc[qi] + n);
	avail[2 + f->avail[qi] % QSIZE] = head;
	f->avail[qi]++;
	__atomic_store_n(&avail[1], f->avail[qi], __ATOMIC_RELEASE);
	virtio_queue_kick(f->v, qi);
	return head;
}

static uint64_t add_rx_buffer(struct fx *f, unsigned qi, uint32_t len)
{
	uint64_t a = alloc_buf(f, len);
	add_chain(f, qi, &(struct seg){a, len, true}, 1);
	return a;
}

/* Waits until queue qi's used index reaches want; false on timeout. */
static bool wait_used(struct fx *f, unsigned qi, uint16_t want)
{
	uint16_t *used = gpa(f, QBASE(qi) + 0x2000, 4);

	for (int i = 0; i < 300; i++) {
		if ((uint16_t)(__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) - want) < 0x8000)
			return true;
		g_usleep(10000);
	}
	return false;
}

static struct virtq_used_elem used_elem(struct fx *f, unsigned qi, uint16_t i)
{
	struct virtq_used_elem *u = gpa(f, QBASE(qi) + 0x2000 + 4, 8 * QSIZE);
	return u[i % QSIZE];
}

static uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A transmit frame at a: virtio-net header, Ethernet, IPv4, UDP to the host's socket, payload. */
static uint32_t put_tx_frame(struct fx *f, uint64_t a, const char *payload)
{
	size_t plen = strlen(payload);
	uint8_t *p = gpa(f, a, HDR + ETH_IP_UDP + plen);
	uint8_t *ip = p + HDR + 14, *udp = ip + 20;
	uint16_t ulen = (uint16_t)(8 + plen), tot = (uint16_t)(20 + ulen);

	memset(p, 0, HDR + ETH_IP_UDP);
	memcpy(p + HDR, f->host_mac, 6);
	memcpy(p + HDR + 6, guest_mac, 6);
	p[HDR + 12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, GUEST_ADDR, ip + 12);
	inet_pton(AF_INET, HOST_ADDR, ip + 16);
	uint16_t c = csum16(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	udp[0] = 0x0f, udp[1] = 0xa0; /* source port 4000; checksum 0: none, allowed for IPv4 */
	udp[2] = (uint8_t)(f->port >> 8), udp[3] = (uint8_t)f->port;
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen;
	memcpy(udp + 8, payload, plen);
	return (uint32_t)(HDR + ETH_IP_UDP + plen);
}

static void host_expect(struct fx *f, const char *payload)
{
	char buf[2048] = {};
	struct pollfd p = {.fd = f->sock, .events = POLLIN};

	g_assert_cmpint(poll(&p, 1, 3000), ==, 1);
	g_assert_cmpint(recv(f->sock, buf, sizeof(buf) - 1, 0), ==, (ssize_t)strlen(payload));
	g_assert_cmpstr(buf, ==, payload);
}

static void host_send(struct fx *f, size_t len, char fill)
{
	char buf[4096];
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(5000)};

	memset(buf, fill, len);
	inet_pton(AF_INET, GUEST_ADDR, &to.sin_addr);
	g_assert_cmpint(sendto(f->sock, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), ==, (ssize_t)len);
}

static bool need_netns(void)
{
	if (!have_netns)
		g_test_skip("needs root and a network namespace of its own");
	return have_netns;
}

static void test_config(void)
{
	if (!need_netns())
		return;
	struct fx f;
	uint8_t cfg[10];

	fx_init(&f, 2, 256);
	uint64_t feat = f.v->device_features;
	g_assert_cmpuint(f.v->n_queues, ==, 5);
	for (unsigned b = 0; b < 64; b++)
		if (b == VIRTIO_NET_F_MAC || b == VIRTIO_NET_F_STATUS || b == VIRTIO_NET_F_MRG_RXBUF ||
		    b == VIRTIO_NET_F_CTRL_VQ || b == VIRTIO_NET_F_MQ || b == VIRTIO_NET_F_CSUM ||
		    b == VIRTIO_NET_F_HOST_TSO4 || b == VIRTIO_F_VERSION_1)
			g_assert_cmpuint(feat & F(b), !=, 0);
	/* offload_ufo was off: no UFO either way; no notification from a queue of ours to the core */
	g_assert_cmpuint(feat & (F(VIRTIO_NET_F_HOST_UFO) | F(VIRTIO_NET_F_GUEST_UFO)), ==, 0);
	pthread_mutex_lock(&f.v->lock);
	virtio_config_read(f.v, 0, cfg, sizeof(cfg));
	uint64_t before = f.v->stats.errors;
	virtio_config_write(f.v, 0, cfg, 1); /* read-only */
	g_assert_cmpuint(f.v->stats.errors, ==, before + 1);
	pthread_mutex_unlock(&f.v->lock);
	g_assert_cmpmem(cfg, 6, guest_mac, 6);
	g_assert_cmpuint(cfg[6] | cfg[7] << 8, ==, VIRTIO_NET_S_LINK_UP);
	g_assert_cmpuint(cfg[8] | cfg[9] << 8, ==, 2);
	fx_done(&f);

	struct tap *t;
	struct virtio_device *v;
	struct virtio_net_params bad = {.queue_size = 100};
	g_assert_cmpint(tap_open("vnettest%d", 1, &t), ==, 0);
	g_assert_cmpint(virtio_net_new(&bad, t, NULL, &v), ==, -EINVAL);
	tap_free(t);
}

static void test_tx(void)
{
	if (!need_netns())
		return;
	struct fx f;

	fx_init(&f, 1, 256);
	start(&f, F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_CSUM), 2);
	/* the header in a descriptor of its own, the frame in the next, as Linux lays it out */
	uint64_t a = alloc_buf(&f, 2048);
	uint32_t len = put_tx_frame(&f, a, "guest to host");
	struct seg s[2] = {{a, HDR, false}, {a + HDR, len - HDR, false}};
	add_chain(&f, 1, s, 2);
	host_expect(&f, "guest to host");
	g_assert_true(wait_used(&f, 1, 1));
	struct virtio_stats st;
	virtio_device_get_stats(f.v, &st);
	g_assert_cmpuint(st.write_ops, ==, 1);
	g_assert_cmpuint(st.write_bytes, ==, len - HDR);
	g_assert_cmpuint(st.errors, ==, 0);
	fx_done(&f);
}

static void test_rx(void)
{
	if (!need_netns())
		return;
	struct fx f;

	fx_init(&f, 1, 256);
	start(&f, F(VIRTIO_NET_F_MAC), 2);
	uint64_t a = add_rx_buffer(&f, 0, 1526 + HDR);
	host_send(&f, 100, 'x');
	g_assert_true(wait_used(&f, 0, 1));
	struct virtq_used_elem u = used_elem(&f, 0, 0);
	g_assert_cmpuint(u.len, ==, HDR + ETH_IP_UDP + 100);
	uint8_t *p = gpa(&f, a, u.len);
	g_assert_cmpuint(p[10] | p[11] << 8, ==, 1); /* num_buffers */
	g_assert_cmpmem(p + HDR, 6, guest_mac, 6);
	g_assert_cmpuint(p[HDR + ETH_IP_UDP], ==, 'x');
	g_assert_cmpuint(p[u.len - 1], ==, 'x');
	g_assert_cmpuint(__atomic_load_n(&f.queue_irqs, __ATOMIC_SEQ_CST), >=, 1);
	fx_done(&f);
}

/* Small buffers: one frame spread over several, num_buffers saying how many; a frame bigger than
 * what the ring holds waits for more buffers instead of being cut. */
static void test_rx_mergeable(void)
{
	if (!need_netns())
		return;
	struct fx f;
	uint64_t b[6];

	fx_init(&f, 1, 256);
	start(&f, F(VIRTIO_NET_F_MRG_RXBUF), 2);
	for (int i = 0; i < 4; i++)
		b[i] = add_rx_buffer(&f, 0, 256);
	host_send(&f, 700, 'm');
	g_assert_true(wait_used(&f, 0, 3));
	uint8_t *p = gpa(&f, b[0], 256);
	g_assert_cmpuint(p[10] | p[11] << 8, ==, 3);
	g_assert_cmpuint(used_elem(&f, 0, 0).len, ==, 256);
	g_assert_cmpuint(used_elem(&f, 0, 1).len, ==, 256);
	g_assert_cmpuint(used_elem(&f, 0, 2).len, ==, HDR + ETH_IP_UDP + 700 - 512);
	g_assert_cmpuint(((uint8_t *)gpa(&f, b[2], 256))[HDR + ETH_IP_UDP + 700 - 513], ==, 'm');

	/* one buffer of 256 left: a 700-byte datagram waits... */
	host_send(&f, 700, 'n');
	g_usleep(200000);
	g_assert_cmpuint(((uint16_t *)gpa(&f, QBASE(0) + 0x2000, 4))[1], ==, 3);
	/* ...until the driver gives two more */
	b[4] = add_rx_buffer(&f, 0, 256);
	b[5] = add_rx_buffer(&f, 0, 256);
	g_assert_true(wait_used(&f, 0, 6));
	p = gpa(&f, b[3], 256);
	g_assert_cmpuint(p[10] | p[11] << 8, ==, 3);
	g_assert_cmpuint(p[HDR + ETH_IP_UDP], ==, 'n');
	g_assert_cmpuint(errors(&f), ==, 0);
	fx_done(&f);
}

/* CPU time (ticks) the thread named name has used. */
static unsigned long thread_ticks(const char *name)
{
	g_autoptr(GDir) d = g_dir_open("/proc/self/task", 0, NULL);
	const char *tid;

	while (d && (tid = g_dir_read_name(d))) {
		g_autofree char *comm = NULL, *stat = NULL;
		g_autofree char *cp = g_strdup_printf("/proc/self/task/%s/comm", tid);
		g_autofree char *sp = g_strdup_printf("/proc/self/task/%s/stat", tid);
		if (!g_file_get_contents(cp, &comm, NULL, NULL) || strcmp(g_strchomp(comm), name) != 0)
			continue;
		g_assert_true(g_file_get_contents(sp, &stat, NULL, NULL));
		unsigned long ut = 0, st = 0;
		const char *rest = strrchr(stat, ')');
		g_assert_cmpint(sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), ==, 2);
		return ut + st;
	}
	g_assert_not_reached();
}

/* Frames waiting on the tap while the ring is empty cost no CPU; the first buffer gets one. */
static void test_rx_no_buffers(void)
{
	if (!need_netns())
		return;
	struct fx f;

	fx_init(&f, 1, 256);
	start(&f, 0, 2);
	for (int i = 0; i < 5; i++)
		host_send(&f, 64, 'w');
	unsigned long t0 = thread_ticks("virtio-net-0");
	g_usleep(500000);
	g_assert_cmpuint(thread_ticks("virtio-net-0") - t0, <=, 2);
	uint64_t a = add_rx_buffer(&f, 0, 1526 + HDR);
	g_assert_true(wait_used(&f, 0, 1));
	g_assert_cmpuint(((uint8_t *)gpa(&f, a, 200))[HDR + ETH_IP_UDP], ==, 'w');
	fx_done(&f);
}

/* Without mergeable buffers a frame larger than its buffer is dropped and counted; the device
 * carries on. */
static void test_rx_too_large(void)
{
	if (!need_netns())
		return;
	struct fx f;

	fx_init(&f, 1, 256);
	start(&f, 0, 2);
	add_rx_buffer(&f, 0, 100);
	host_send(&f, 700, 'L');
	for (int i = 0; i < 300 && errors(&f) == 0; i++)
		g_usleep(10000);
	g_assert_cmpuint(errors(&f), ==, 1);
	g_assert_cmpuint(dev_status(&f) & VIRTIO_STATUS_NEEDS_RESET, ==, 0);
	host_send(&f, 30, 's');
	g_assert_true(wait_used(&f, 0, 1));
	g_assert_cmpuint(used_elem(&f, 0, 0).len, ==, HDR + ETH_IP_UDP + 30);
	fx_done(&f);
}

/* Malformed chains: the device needs a reset, counts the error, and works again after one. */
static void test_hostile(void)
{
	if (!need_netns())
		return;
	struct fx f;
	static const struct {
		unsigned queue;
		uint32_t len;
		bool write;
	} cases[] = {
	    {1, 8, false},	 /* transmit chain shorter than the header */
	    {1, 64, true},	 /* transmit buffer the device may write */
	    {0, 8, true},	 /* receive buffer shorter than the header */
	    {0, 1500, false}, /* receive buffer the device may not write */
	};

	fx_init(&f, 1, 256);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		start(&f, F(VIRTIO_NET_F_MRG_RXBUF), 2);
		uint64_t before = errors(&f);
		uint64_t a = alloc_buf(&f, 2048);
		add_chain(&f, cases[i].queue, &(struct seg){a, cases[i].len, cases[i].write}, 1);
		if (cases[i].queue == 0)
			host_send(&f, 64, 'h');
		for (int k = 0; k < 300 && !(dev_status(&f) & VIRTIO_STATUS_NEEDS_RESET); k++)
			g_usleep(10000);
		g_assert_cmpuint(dev_status(&f) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
		g_assert_cmpuint(errors(&f), >, before);
		g_assert_cmpuint(__atomic_load_n(&f.config_irqs, __ATOMIC_SEQ_CST), >=, i + 1);
	}
	/* reset and start again: traffic flows */
	start(&f, 0, 2);
	uint64_t a = alloc_buf(&f, 2048);
	add_chain(&f, 1, &(struct seg){a, put_tx_frame(&f, a, "after reset"), false}, 1);
	host_expect(&f, "after reset");
	fx_done(&f);
}

static uint8_t ctrl(struct fx *f, unsigned cq, const void *cmd, uint32_t len, bool with_ack)
{
	uint64_t a = alloc_buf(f, 64), ack = alloc_buf(f, 1);
	uint16_t *used = gpa(f, QBASE(cq) + 0x2000, 4);
	uint16_t want = (uint16_t)(used[1] + 1);

	memcpy(gpa(f, a, len), cmd, len);
	*(uint8_t *)gpa(f, ack, 1) = 0xee;
	struct seg s[2] = {{a, len, false}, {ack, 1, true}};
	add_chain(f, cq, s, with_ack ? 2 : 1);
	virtio_queue_process(f->v, cq); /* the core's I/O thread does it too; either is fine */
	/* A malformed request is never used: the device just needs a reset. */
	if (with_ack && len >= 2) {
		g_assert_true(wait_used(f, cq, want));
		g_assert_cmpuint(used_elem(f, cq, (uint16_t)(want - 1)).len, ==, 1);
	}
	return *(uint8_t *)gpa(f, ack, 1);
}

static void test_ctrl(void)
{
	if (!need_netns())
		return;
	struct fx f;

	fx_init(&f, 2, 256);
	start(&f, F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ), 5);
	g_assert_cmpuint(virtio_net_active_pairs(f.v), ==, 1);

	const uint8_t set2[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0};
	g_assert_cmpuint(ctrl(&f, 4, set2, sizeof(set2), true), ==, VIRTIO_NET_OK);
	g_assert_cmpuint(virtio_net_active_pairs(f.v), ==, 2);
	g_assert_cmpuint(errors(&f), ==, 0);

	/* traffic on the second pair */
	uint64_t a = alloc_buf(&f, 2048);
	add_chain(&f, 3, &(struct seg){a, put_tx_frame(&f, a, "second pair"), false}, 1);
	host_expect(&f, "second pair");

	static const struct {
		uint8_t cmd[12];
		uint32_t len;
	} bad[] = {
	    {{VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 0, 0}, 4},	 /* zero pairs */
	    {{VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3, 0}, 4},	 /* more than there are */
	    {{VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0, 0}, 5}, /* wrong length */
	    {{VIRTIO_NET_CTRL_MQ, 7, 1, 0}, 4},					 /* unknown command */
	    {{99, 0}, 2},							 /* unknown class */
	    {{VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, 1, 0, 0, 0, 0, 0, 0, 0}, 10},
	    /* ^ GUEST_OFFLOADS not negotiated */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpuint(ctrl(&f, 4, bad[i].cmd, bad[i].len, true), ==, VIRTIO_NET_ERR);
	g_assert_cmpuint(errors(&f), ==, G_N_ELEMENTS(bad));
	g_assert_cmpuint(virtio_net_active_pairs(f.v), ==, 2);
	g_assert_cmpuint(dev_status(&f) & VIRTIO_STATUS_NEEDS_RESET, ==, 0);

	/* no room for the ack, and a header cut short: malformed */
	(void)ctrl(&f, 4, set2, sizeof(set2), false);
	g_assert_cmpuint(dev_status(&f) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	start(&f, F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ), 5);
	g_assert_cmpuint(virtio_net_active_pairs(f.v), ==, 1);
	(void)ctrl(&f, 4, set2, 1, true);
	g_assert_cmpuint(dev_status(&f) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	fx_done(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	have_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 && access("/dev/net/tun", R_OK | W_OK) == 0;

	g_test_add_func("/virtio-net/config", test_config);
	g_test_add_func("/virtio-net/tx", test_tx);
	g_test_add_func("/virtio-net/rx", test_rx);
	g_test_add_func("/virtio-net/rx-mergeable", test_rx_mergeable);
	g_test_add_func("/virtio-net/rx-no-buffers", test_rx_no_buffers);
	g_test_add_func("/virtio-net/rx-too-large", test_rx_too_large);
	g_test_add_func("/virtio-net/hostile", test_hostile);
	g_test_add_func("/virtio-net/ctrl", test_ctrl);
	return g_test_run();
}
