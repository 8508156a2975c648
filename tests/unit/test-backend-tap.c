/* SPDX-License-Identifier: Apache-2.0 */
/* The tap backend with real taps, in a network namespace of the test's own (so it touches nothing
 * of the machine's network and never clashes with a parallel run): create, attach, adopt, host-side
 * configuration checked with ioctls and `ip`, and real frames both ways between the tap fd and a
 * UDP socket of the host. Needs root (CAP_NET_ADMIN); skipped without. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Ours before GLib: common/macro.h defines MIN/MAX unconditionally, and gmacros.h #undefs them. */
#include "backends/mac.h"
#include "backends/tap.h"

#include <glib.h>

typedef struct tap Tap;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Tap, tap_free)

static bool have_netns;

#define HOST_IP "10.11.12.1"
#define GUEST_IP "10.11.12.2"
static const uint8_t guest_mac[MAC_LEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static bool need_netns(void)
{
	if (!have_netns)
		g_test_skip("needs root and a network namespace of its own");
	return have_netns;
}

static void test_mac(void)
{
	uint8_t m[MAC_LEN], g1[MAC_LEN], g2[MAC_LEN];
	char buf[MAC_STRING_MAX];

	g_assert_cmpint(mac_parse("52:54:00:AB:cd:0f", m), ==, 0);
	g_assert_cmpstr(mac_format(m, buf), ==, "52:54:00:ab:cd:0f");
	g_assert_true(mac_is_unicast(m));

	static const char *const bad[] = {
	    "",
	    "52:54:00:ab:cd",
	    "52:54:00:ab:cd:0f:",
	    "52-54-00-ab-cd-0f",
	    "52:54:00:ab:cd:0g",
	    "5:254:00:ab:cd:0f",
	    " 52:54:00:ab:cd:0",
	    "52:54:00:ab:cd:0f\n",
	};
	memset(g1, 0xee, sizeof(g1));
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(mac_parse(bad[i], g1), ==, -EINVAL);
		g_assert_cmpuint(g1[0], ==, 0xee); /* untouched */
	}
	g_assert_cmpint(mac_parse(NULL, g1), ==, -EINVAL);

	g_assert_cmpint(mac_parse("ff:ff:ff:ff:ff:ff", m), ==, 0);
	g_assert_false(mac_is_unicast(m));
	g_assert_cmpint(mac_parse("01:00:5e:00:00:01", m), ==, 0);
	g_assert_false(mac_is_unicast(m));
	g_assert_cmpint(mac_parse("00:00:00:00:00:00", m), ==, 0);
	g_assert_false(mac_is_unicast(m));

	g_assert_cmpint(mac_generate(g1), ==, 0);
	g_assert_cmpint(mac_generate(g2), ==, 0);
	g_assert_true(mac_is_unicast(g1));
	g_assert_cmpuint(g1[0] & 0x02, ==, 0x02); /* locally administered */
	g_assert_cmpmem(g1, 3, "\x52\x54\x00", 3);
	/* 1 in 2^48 that both draws repeat */
	uint8_t g3[MAC_LEN];
	g_assert_cmpint(mac_generate(g3), ==, 0);
	g_assert_true(memcmp(g1, g2, MAC_LEN) != 0 || memcmp(g2, g3, MAC_LEN) != 0);
}

static int tun_flags(int fd)
{
	struct ifreq ifr = {};
	g_assert_cmpint(ioctl(fd, TUNGETIFF, &ifr), ==, 0);
	return ifr.ifr_flags;
}

static char *run_ip(const char *args)
{
	g_autofree char *cmd = g_strdup_printf("ip %s", args);
	g_autoptr(GError) error = NULL;
	char *out = NULL;
	int status;

	g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, &error));
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	return out;
}

static void test_create(void)
{
	if (!need_netns())
		return;
	g_autoptr(Tap) t = NULL;

	g_assert_cmpint(tap_open("chdt%d", 1, &t), ==, 0);
	g_assert_true(g_str_has_prefix(tap_name(t), "chdt"));
	g_assert_cmpuint(tap_n_queues(t), ==, 1);
	g_assert_cmpint(tap_fd(t, 1), ==, -1);
	int fd = tap_fd(t, 0);
	g_assert_cmpint(fcntl(fd, F_GETFL) & O_NONBLOCK, !=, 0);
	g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, !=, 0);
	int fl = tun_flags(fd);
	g_assert_cmpint(fl & (IFF_TAP | IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE), ==,
			IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);

	/* vnet header size, read back from the kernel */
	int sz = 0;
	g_assert_cmpint(tap_set_vnet_hdr_size(t, 12), ==, 0);
	g_assert_cmpint(ioctl(fd, TUNGETVNETHDRSZ, &sz), ==, 0);
	g_assert_cmpint(sz, ==, 12);
	g_assert_cmpint(tap_set_vnet_hdr_size(t, 7), ==, -EINVAL);

	/* offloads: CSUM and TSO are in every kernel we run on; UFO may not be */
	unsigned all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO;
	unsigned have = tap_probe_offloads(t, all);
	g_assert_cmpuint(have & (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN), ==,
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN);
	g_assert_cmpint(tap_set_offloads(t, have), ==, 0);
	g_test_message("offloads: 0x%x of 0x%x", have, all);
	g_assert_cmpint(tap_set_offloads(t, 0x40000000), ==, -EINVAL);

	/* host side: MAC, MTU, address, link up; checked with ioctls and with ip(8) */
	static const uint8_t host_mac[MAC_LEN] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
	uint8_t m[MAC_LEN];
	g_assert_cmpint(tap_set_mac(t, host_mac), ==, 0);
	g_assert_cmpint(tap_get_mac(t, m), ==, 0);
	g_assert_cmpmem(m, MAC_LEN, host_mac, MAC_LEN);
	g_assert_cmpint(tap_set_mac(t, (const uint8_t[MAC_LEN]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), ==,
			-EINVAL);
	g_assert_cmpint(tap_set_mtu(t, 9000), ==, 0);
	g_assert_cmpint(tap_set_mtu(t, 10), ==, -EINVAL);
	struct in_addr a;
	inet_pton(AF_INET, HOST_IP, &a);
	g_assert_cmpint(tap_set_ipv4(t, a, 24), ==, 0);
	g_assert_cmpint(tap_set_ipv4(t, a, 33), ==, -EINVAL);
	g_assert_cmpint(tap_set_up(t, true), ==, 0);
	int ifindex = tap_get_ifindex(t);
	g_assert_cmpint(ifindex, >, 0);
	g_assert_cmpuint(if_nametoindex(tap_name(t)), ==, (unsigned)ifindex);

	g_autofree char *args = g_strdup_printf("-o addr show dev %s", tap_name(t));
	g_autofree char *addr = run_ip(args);
	g_assert_nonnull(strstr(addr, "inet " HOST_IP "/24"));
	g_free(args);
	args = g_strdup_printf("-o link show dev %s", tap_name(t));
	g_autofree char *link = run_ip(args);
	g_assert_nonnull(strstr(link, "link/ether 52:54:00:aa:bb:cc"));
	g_assert_nonnull(strstr(link, "mtu 9000"));
	g_assert_nonnull(strstr(link, ",UP"));

	g_assert_cmpint(tap_set_up(t, false), ==, 0);
	g_free(link);
	link = run_ip(args);
	g_assert_null(strstr(link, ",UP"));

	/* gone with its last fd: the kernel made it non-persistent */
	g_autofree char *name = g_strdup(tap_name(t));
	t = tap_free(t);
	g_assert_cmpuint(if_nametoindex(name), ==, 0);
}

static void test_multiqueue_and_attach(void)
{
	if (!need_netns())
		return;
	g_autoptr(Tap) t = NULL, more = NULL, none = NULL;

	g_assert_cmpint(tap_open("chdmq%d", 4, &t), ==, 0);
	g_assert_cmpuint(tap_n_queues(t), ==, 4);
	for (unsigned i = 0; i < 4; i++)
		g_assert_cmpint(tun_flags(tap_fd(t, i)) & IFF_MULTI_QUEUE, !=, 0);
	/* Attach two more queues by name; a single-queue attach is the wrong kind. */
	g_assert_cmpint(tap_open(tap_name(t), 2, &more), ==, 0);
	g_assert_cmpstr(tap_name(more), ==, tap_name(t));
	g_assert_cmpint(tap_open(tap_name(t), 1, &none), ==, -EINVAL);

	/* An existing single-queue tap (made persistent the way `ip tuntap add` does), attached by
	 * name; a second user of it is refused. */
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	g_strlcpy(ifr.ifr_name, "chdpersist", sizeof(ifr.ifr_name));
	g_assert_cmpint(ioctl(fd, TUNSETIFF, &ifr), ==, 0);
	g_assert_cmpint(ioctl(fd, TUNSETPERSIST, 1), ==, 0);
	close(fd);
	unsigned idx = if_nametoindex("chdpersist");
	g_assert_cmpuint(idx, >, 0);

	g_autoptr(Tap) p = NULL;
	g_assert_cmpint(tap_open("chdpersist", 1, &p), ==, 0);
	g_assert_cmpint(tap_get_ifindex(p), ==, (int)idx);
	g_assert_cmpint(tun_flags(tap_fd(p, 0)) & IFF_VNET_HDR, !=, 0);
	g_assert_cmpint(tap_open("chdpersist", 1, &none), ==, -EBUSY);
	g_assert_cmpint(ioctl(tap_fd(p, 0), TUNSETPERSIST, 0), ==, 0);

	/* refusals */
	g_assert_cmpint(tap_open("x", 0, &none), ==, -EINVAL);
	g_assert_cmpint(tap_open("x", TAP_QUEUES_MAX + 1, &none), ==, -EINVAL);
	g_assert_cmpint(tap_open("a-name-far-too-long-for-linux", 1, &none), ==, -EINVAL);
	g_assert_cmpint(tap_open("", 1, &none), ==, -EINVAL);
	g_assert_null(none);
}

static void test_adopt(void)
{
	if (!need_netns())
		return;
	g_autoptr(Tap) t = NULL, none = NULL;
	int fds[2];

	/* What chd does: open the queues itself, pass the fds. */
	for (int i = 0; i < 2; i++) {
		struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE};
		g_strlcpy(ifr.ifr_name, "chdfd", sizeof(ifr.ifr_name));
		fds[i] = open("/dev/net/tun", O_RDWR); /* blocking, inheritable: as passed */
		g_assert_cmpint(fds[i], >=, 0);
		g_assert_cmpint(ioctl(fds[i], TUNSETIFF, &ifr), ==, 0);
	}
	g_assert_cmpint(tap_adopt(fds, 2, &t), ==, 0);
	g_assert_cmpstr(tap_name(t), ==, "chdfd");
	g_assert_cmpuint(tap_n_queues(t), ==, 2);
	g_assert_cmpint(tap_fd(t, 1), ==, fds[1]);
	g_assert_cmpint(fcntl(fds[0], F_GETFL) & O_NONBLOCK, !=, 0);
	g_assert_cmpint(fcntl(fds[1], F_GETFD) & FD_CLOEXEC, !=, 0);

	/* Not a tap, a tun, a tap without vnet headers: refused, fds left as they were. (A tap without
	 * IFF_NO_PI cannot be told apart: recent kernels report NO_PI in TUNGETIFF regardless.) */
	int pipefd[2];
	g_assert_cmpint(pipe(pipefd), ==, 0);
	g_assert_cmpint(tap_adopt(pipefd, 1, &none), ==, -EINVAL);
	g_assert_cmpint(fcntl(pipefd[0], F_GETFL) & O_NONBLOCK, ==, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	static const short wrong[] = {IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, IFF_TAP | IFF_NO_PI};
	for (size_t i = 0; i < G_N_ELEMENTS(wrong); i++) {
		struct ifreq ifr = {.ifr_flags = wrong[i]};
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		g_assert_cmpint(ioctl(fd, TUNSETIFF, &ifr), ==, 0);
		g_assert_cmpint(tap_adopt(&fd, 1, &none), ==, -EINVAL);
		close(fd);
	}
	/* Queues of two different taps. */
	g_autoptr(Tap) other = NULL;
	g_assert_cmpint(tap_open("chdother%d", 1, &other), ==, 0);
	int mixed[2] = {tap_fd(t, 0), tap_fd(other, 0)};
	g_assert_cmpint(tap_adopt(mixed, 2, &none), ==, -EINVAL);
	g_assert_cmpint(tap_adopt(NULL, 1, &none), ==, -EINVAL);
	g_assert_null(none);
}

static uint16_t ip_checksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

struct frame {
	struct virtio_net_hdr_v1 vnet;
	uint8_t eth[14];
	struct iphdr ip;
	struct udphdr udp;
	char payload[32];
} __attribute__((packed));

/* An Ethernet/IPv4/UDP frame from the guest to the host; with partial_csum, the way a guest with
 * checksum offload sends it: pseudo-header sum in place, NEEDS_CSUM, csum_start/offset set. */
static void build_frame(struct frame *f, const uint8_t dst_mac[MAC_LEN], uint16_t dport, const char *text,
			bool partial_csum)
{
	size_t plen = strlen(text);
	uint16_t udp_len = (uint16_t)(sizeof(struct udphdr) + plen);

	memset(f, 0, sizeof(*f));
	memcpy(f->eth, dst_mac, MAC_LEN);
	memcpy(f->eth + 6, guest_mac, MAC_LEN);
	f->eth[12] = 0x08;
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.tot_len = htons((uint16_t)(sizeof(struct iphdr) + udp_len));
	inet_pton(AF_INET, GUEST_IP, &f->ip.saddr);
	inet_pton(AF_INET, HOST_IP, &f->ip.daddr);
	f->ip.check = htons((uint16_t)~ip_checksum(&f->ip, sizeof(f->ip), 0));
	f->udp.source = htons(4000);
	f->udp.dest = htons(dport);
	f->udp.len = htons(udp_len);
	memcpy(f->payload, text, plen);
	if (partial_csum) {
		uint32_t pseudo = ip_checksum(&f->ip.saddr, 8, 0) + IPPROTO_UDP + udp_len;
		f->udp.check = htons(ip_checksum(NULL, 0, pseudo));
		f->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		f->vnet.csum_start = 14 + sizeof(struct iphdr);
		f->vnet.csum_offset = offsetof(struct udphdr, check);
	}
}

static void test_traffic(void)
{
	if (!need_netns())
		return;
	g_autoptr(Tap) t = NULL;
	uint8_t host_mac[MAC_LEN];
	struct in_addr a;

	g_assert_cmpint(tap_open("chdnet%d", 1, &t), ==, 0);
	g_assert_cmpint(tap_set_vnet_hdr_size(t, sizeof(struct virtio_net_hdr_v1)), ==, 0);
	g_assert_cmpint(tap_set_offloads(t, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), ==, 0);
	inet_pton(AF_INET, HOST_IP, &a);
	g_assert_cmpint(tap_set_ipv4(t, a, 24), ==, 0);
	g_assert_cmpint(tap_set_up(t, true), ==, 0);
	g_assert_cmpint(tap_get_mac(t, host_mac), ==, 0);

	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};
	socklen_t sl = sizeof(sin);
	g_assert_cmpint(bind(s, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
	g_assert_cmpint(getsockname(s, (struct sockaddr *)&sin, &sl), ==, 0);
	uint16_t port = ntohs(sin.sin_port);

	/* guest -> host: a full checksum, then a partial one left to the host */
	for (int partial = 0; partial < 2; partial++) {
		struct frame f;
		const char *text = partial ? "partial checksum" : "hello from the guest";
		build_frame(&f, host_mac, port, text, partial);
		size_t len = offsetof(struct frame, payload) + strlen(text);
		g_assert_cmpint(tap_writev(t, 0, &(struct iovec){&f, len}, 1), ==, (ssize_t)len);

		struct pollfd p = {.fd = s, .events = POLLIN};
		g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
		char buf[64] = {};
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		g_assert_cmpint(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), ==,
				(ssize_t)strlen(text));
		g_assert_cmpstr(buf, ==, text);
		g_assert_cmpuint(ntohs(from.sin_port), ==, 4000);
		char ip[INET_ADDRSTRLEN];
		g_assert_cmpstr(inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip)), ==, GUEST_IP);
	}

	/* host -> guest: a static neighbour entry spares the ARP round trip */
	struct arpreq arp = {.arp_flags = ATF_COM | ATF_PERM};
	struct sockaddr_in *pa = (struct sockaddr_in *)&arp.arp_pa;
	pa->sin_family = AF_INET;
	inet_pton(AF_INET, GUEST_IP, &pa->sin_addr);
	arp.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(arp.arp_ha.sa_data, guest_mac, MAC_LEN);
	g_strlcpy(arp.arp_dev, tap_name(t), sizeof(arp.arp_dev));
	g_assert_cmpint(ioctl(s, SIOCSARP, &arp), ==, 0);

	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(5000), .sin_addr = pa->sin_addr};
	g_assert_cmpint(sendto(s, "to the guest", 12, 0, (struct sockaddr *)&to, sizeof(to)), ==, 12);

	/* The tap also carries the host's own IPv6 chatter: read until our datagram. */
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	bool seen = false;
	while (!seen && g_get_monotonic_time() < deadline) {
		struct frame f;
		uint8_t rest[2048];
		struct iovec v[2] = {{&f, sizeof(f)}, {rest, sizeof(rest)}};
		ssize_t n = tap_readv(t, 0, v, 2);
		if (n == -EAGAIN) {
			struct pollfd p = {.fd = tap_fd(t, 0), .events = POLLIN};
			g_assert_cmpint(poll(&p, 1, 1000), >=, 0);
			continue;
		}
		g_assert_cmpint(n, >, (ssize_t)sizeof(struct virtio_net_hdr_v1));
		if (n < (ssize_t)offsetof(struct frame, payload) + 12 || f.eth[12] != 0x08 ||
		    f.eth[13] != 0 || f.ip.protocol != IPPROTO_UDP || f.udp.dest != htons(5000))
			continue;
		g_assert_cmpmem(f.eth, MAC_LEN, guest_mac, MAC_LEN);
		g_assert_cmpmem(f.eth + 6, MAC_LEN, host_mac, MAC_LEN);
		g_assert_cmpuint(f.vnet.gso_type, ==, VIRTIO_NET_HDR_GSO_NONE);
		/* With CSUM offered the host may leave the checksum to the "guest". */
		if (f.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			g_assert_cmpuint(f.vnet.csum_start, ==, 14 + sizeof(struct iphdr));
			g_assert_cmpuint(f.vnet.csum_offset, ==, offsetof(struct udphdr, check));
		}
		g_assert_cmpmem(f.payload, 12, "to the guest", 12);
		seen = true;
	}
	g_assert_true(seen);
	close(s);
}

/* A worker without CAP_NET_ADMIN (chd --user) on a tap that root brought up: tap_set_up(true)
 * asks nothing of the kernel, while changing the state still needs the capability. */
static void test_up_without_cap(void)
{
	g_autoptr(Tap) t = NULL;
	int status = 0;
	pid_t pid;

	if (!need_netns())
		return;
	g_assert_cmpint(tap_open("chdcap%d", 1, &t), ==, 0);
	g_assert_cmpint(tap_set_up(t, true), ==, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

		if (syscall(SYS_capget, &h, d) < 0)
			_exit(10);
		d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &= ~CAP_TO_MASK(CAP_NET_ADMIN);
		if (syscall(SYS_capset, &h, d) < 0)
			_exit(11);
		if (tap_set_up(t, true) != 0)
			_exit(12);
		_exit(tap_set_up(t, false) == -EPERM ? 0 : 13);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	have_netns =
	    geteuid() == 0 && unshare(CLONE_NEWNET) == 0 && access("/dev/net/tun", R_OK | W_OK) == 0;

	g_test_add_func("/backend-tap/mac", test_mac);
	g_test_add_func("/backend-tap/create", test_create);
	g_test_add_func("/backend-tap/multiqueue-and-attach", test_multiqueue_and_attach);
	g_test_add_func("/backend-tap/adopt", test_adopt);
	g_test_add_func("/backend-tap/traffic", test_traffic);
	g_test_add_func("/backend-tap/up-without-cap", test_up_without_cap);
	return g_test_run();
}
