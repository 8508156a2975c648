/* SPDX-License-Identifier: Apache-2.0 */
/* Tap queues through /dev/net/tun, host-side link settings through SIOC* ioctls on a throwaway
 * socket: no netlink library for what a handful of ioctls do. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backends/tap.h"
#include "macro.h"

#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

struct tap {
	char name[IFNAMSIZ];
	unsigned n_queues;
	int fds[];
};

static struct tap *tap_alloc(unsigned n)
{
	struct tap *t = calloc(1, sizeof(*t) + n * sizeof(int));
	if (!t)
		return NULL;
	t->n_queues = n;
	for (unsigned i = 0; i < n; i++)
		t->fds[i] = -1;
	return t;
}

struct tap *tap_free(struct tap *t)
{
	if (!t)
		return NULL;
	for (unsigned i = 0; i < t->n_queues; i++)
		safe_close(t->fds[i]);
	free(t);
	return NULL;
}

int tap_open(const char *name, unsigned n_queues, struct tap **ret)
{
	_cleanup_(tap_freep) struct tap *t = NULL;

	if (!name)
		name = "tap%d";
	if (!ret || n_queues == 0 || n_queues > TAP_QUEUES_MAX || !*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	t = tap_alloc(n_queues);
	if (!t)
		return -ENOMEM;
	snprintf(t->name, sizeof(t->name), "%s", name);

	for (unsigned i = 0; i < n_queues; i++) {
		struct ifreq ifr = {.ifr_flags = TAP_FLAGS | (n_queues > 1 ? IFF_MULTI_QUEUE : 0)};

		t->fds[i] = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (t->fds[i] < 0)
			return -errno;
		/* The first queue may expand "%d"; the others attach to the name it got. */
		memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
		if (ioctl(t->fds[i], TUNSETIFF, &ifr) < 0)
			return -errno;
		memcpy(t->name, ifr.ifr_name, sizeof(t->name));
		t->name[IFNAMSIZ - 1] = 0;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

int tap_adopt(const int *fds, unsigned n_fds, struct tap **ret)
{
	_cleanup_(tap_freep) struct tap *t = NULL;

	if (!fds || !ret || n_fds == 0 || n_fds > TAP_QUEUES_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n_fds; i++) {
		struct ifreq ifr = {};

		if (fds[i] < 0 || ioctl(fds[i], TUNGETIFF, &ifr) < 0)
			return -EINVAL; /* not a tun/tap fd, or a detached queue */
		if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)) != TAP_FLAGS)
			return -EINVAL;
		if (n_fds > 1 && !(ifr.ifr_flags & IFF_MULTI_QUEUE))
			return -EINVAL;
		ifr.ifr_name[IFNAMSIZ - 1] = 0;
		if (i > 0 && strcmp(ifr.ifr_name, t->name) != 0)
			return -EINVAL;
		if (i == 0) {
			t = tap_alloc(n_fds);
			if (!t)
				return -ENOMEM;
			memcpy(t->name, ifr.ifr_name, sizeof(t->name));
		}
	}
	/* Checked all before changing any: a refusal leaves the caller's fds as they were. */
	for (unsigned i = 0; i < n_fds; i++) {
		int fl = fcntl(fds[i], F_GETFL);
		if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
	}
	for (unsigned i = 0; i < n_fds; i++)
		t->fds[i] = fds[i];
	*ret = TAKE_PTR(t);
	return 0;
}

const char *tap_name(const struct tap *t)
{
	return t->name;
}

unsigned tap_n_queues(const struct tap *t)
{
	return t->n_queues;
}

int tap_fd(const struct tap *t, unsigned i)
{
	return i < t->n_queues ? t->fds[i] : -1;
}

int tap_set_vnet_hdr_size(struct tap *t, int size)
{
	if (size != 10 && size != 12)
		return -EINVAL;
	return ioctl(t->fds[0], TUNSETVNETHDRSZ, &size) < 0 ? -errno : 0;
}

int tap_set_offloads(struct tap *t, unsigned flags)
{
	return ioctl(t->fds[0], TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

unsigned tap_probe_offloads(struct tap *t, unsigned wanted)
{
	unsigned have = 0;

	if ((wanted & TUN_F_CSUM) && tap_set_offloads(t, TUN_F_CSUM) == 0)
		have |= TUN_F_CSUM;
	for (unsigned bit = 1; bit && bit <= wanted; bit <<= 1) {
		/* Segmentation needs checksums; ECN is a flavour of TSO and means nothing alone. */
		unsigned with = TUN_F_CSUM | (bit == TUN_F_TSO_ECN ? TUN_F_TSO4 : 0);
		if ((wanted & bit) && bit != TUN_F_CSUM && tap_set_offloads(t, bit | with) == 0)
			have |= bit;
	}
	(void)tap_set_offloads(t, 0);
	return have;
}

int tap_set_queue_enabled(struct tap *t, unsigned i, bool enabled)
{
	struct ifreq ifr = {.ifr_flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE};

	if (i >= t->n_queues)
		return -EINVAL;
	return ioctl(t->fds[i], TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}

/* SIOC* requests on the tap's name, through a datagram socket of the VMM's network namespace. */
static int if_ioctl(const struct tap *t, unsigned long req, struct ifreq *ifr)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	memcpy(ifr->ifr_name, t->name, sizeof(ifr->ifr_name));
	return ioctl(s, req, ifr) < 0 ? -errno : 0;
}

int tap_set_up(struct tap *t, bool up)
{
	struct ifreq ifr = {};
	int r = if_ioctl(t, SIOCGIFFLAGS, &ifr);

	if (r < 0)
		return r;
	/* Already so: no SIOCSIFFLAGS, which needs CAP_NET_ADMIN even when it changes nothing, so
	 * that an unprivileged worker can use a tap that root made and brought up for its user. */
	if (!!(ifr.ifr_flags & IFF_UP) == up)
		return 0;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return if_ioctl(t, SIOCSIFFLAGS, &ifr);
}

int tap_set_ipv4(struct tap *t, struct in_addr addr, unsigned prefix_len)
{
	struct ifreq ifr = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int r;

	if (prefix_len > 32)
		return -EINVAL;
	sin->sin_family = AF_INET;
	sin->sin_addr = addr;
	r = if_ioctl(t, SIOCSIFADDR, &ifr);
	if (r < 0)
		return r;
	sin = (struct sockaddr_in *)&ifr.ifr_netmask;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(prefix_len ? ~0u << (32 - prefix_len) : 0);
	return if_ioctl(t, SIOCSIFNETMASK, &ifr);
}

int tap_set_mac(struct tap *t, const uint8_t mac[MAC_LEN])
{
	struct ifreq ifr = {};

	if (!mac_is_unicast(mac))
		return -EINVAL;
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, MAC_LEN);
	return if_ioctl(t, SIOCSIFHWADDR, &ifr);
}

int tap_get_mac(struct tap *t, uint8_t ret[MAC_LEN])
{
	struct ifreq ifr = {};
	int r = if_ioctl(t, SIOCGIFHWADDR, &ifr);

	if (r < 0)
		return r;
	memcpy(ret, ifr.ifr_hwaddr.sa_data, MAC_LEN);
	return 0;
}

int tap_set_mtu(struct tap *t, unsigned mtu)
{
	struct ifreq ifr = {.ifr_mtu = (int)mtu};

	if (mtu < 68 || mtu > 65535)
		return -EINVAL;
	return if_ioctl(t, SIOCSIFMTU, &ifr);
}

int tap_get_ifindex(struct tap *t)
{
	struct ifreq ifr = {};
	int r = if_ioctl(t, SIOCGIFINDEX, &ifr);
	return r < 0 ? r : ifr.ifr_ifindex;
}

static ssize_t tap_io(struct tap *t, unsigned i, const struct iovec *iov, int iovcnt, bool write)
{
	ssize_t n;

	if (i >= t->n_queues)
		return -EINVAL;
	do
		n = write ? writev(t->fds[i], iov, iovcnt) : readv(t->fds[i], iov, iovcnt);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t tap_readv(struct tap *t, unsigned i, const struct iovec *iov, int iovcnt)
{
	return tap_io(t, i, iov, iovcnt, false);
}

ssize_t tap_writev(struct tap *t, unsigned i, const struct iovec *iov, int iovcnt)
{
	return tap_io(t, i, iov, iovcnt, true);
}
