/* SPDX-License-Identifier: Apache-2.0 */
/* Host tap interfaces for a virtual NIC: opened by name (an existing tap, or a new one the kernel
 * removes when the VMM exits), or adopted from fds chd passed. Every queue fd is a tap with
 * IFF_NO_PI and IFF_VNET_HDR, non-blocking and close-on-exec, so an I/O thread polls it and each
 * frame read or written starts with a virtio-net header of the size set here. Host-side settings
 * (link up, IPv4 address, MAC, MTU) go through plain ioctls. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/mac.h"

struct iovec;
struct tap;

/* The kernel's limit on queues of one multi-queue tap (MAX_TAP_QUEUES). */
#define TAP_QUEUES_MAX 256u

/* name: an existing tap to attach to, a new name, a pattern with "%d", or NULL for "tap%d".
 * n_queues > 1 asks for IFF_MULTI_QUEUE, and an existing tap must have been made multi-queue too.
 * -EINVAL (bad name or count, a tap of the other kind), -EBUSY (single-queue tap already in use),
 * -EPERM (no CAP_NET_ADMIN over someone else's tap), -ENOENT (no /dev/net/tun). */
int tap_open(const char *name, unsigned n_queues, struct tap **ret);

/* Adopts fds[0..n_fds) of one tap (one per queue). -EINVAL when one is not a tap with IFF_NO_PI
 * and IFF_VNET_HDR, or they belong to different interfaces. On success the tap owns the fds; on
 * failure the caller still does. */
int tap_adopt(const int *fds, unsigned n_fds, struct tap **ret);

struct tap *tap_free(struct tap *t);
static inline void tap_freep(struct tap **p)
{
	if (*p)
		*p = tap_free(*p);
}

const char *tap_name(const struct tap *t);
unsigned tap_n_queues(const struct tap *t);
/* The fd of queue i, or -1 past the last. */
int tap_fd(const struct tap *t, unsigned i);

/* Size of the header in front of every frame: 10 (legacy virtio-net without mergeable buffers) or
 * 12 (virtio 1.0 / mergeable buffers). Tap-wide; 10 until set. */
int tap_set_vnet_hdr_size(struct tap *t, int size);
/* TUN_F_* offload bits (linux/if_tun.h: CSUM, TSO4, TSO6, TSO_ECN, UFO) the guest can take: the
 * host may then hand it partial checksums and large segments. -EINVAL when the kernel lacks one;
 * tap_probe_offloads() says which it has. TSO and UFO need CSUM, TSO_ECN needs TSO4 or TSO6. */
int tap_set_offloads(struct tap *t, unsigned flags);
/* Which of the bits in wanted this kernel accepts (each tried with CSUM, ECN with TSO4 too);
 * leaves the tap's offloads at none. */
unsigned tap_probe_offloads(struct tap *t, unsigned wanted);

/* Attaches (enabled) or detaches queue i of a multi-queue tap: the kernel steers no traffic to a
 * detached queue, and its fd polls as EPOLLERR until it is attached again. -EINVAL for a
 * single-queue tap or a queue already in that state. */
int tap_set_queue_enabled(struct tap *t, unsigned i, bool enabled);

/* Host side of the link. */
int tap_set_up(struct tap *t, bool up);
int tap_set_ipv4(struct tap *t, struct in_addr addr, unsigned prefix_len);
int tap_set_mac(struct tap *t, const uint8_t mac[MAC_LEN]);
int tap_get_mac(struct tap *t, uint8_t ret[MAC_LEN]);
int tap_set_mtu(struct tap *t, unsigned mtu);
int tap_get_ifindex(struct tap *t);

/* One frame (vnet header first) per call, never blocking: bytes, or -EAGAIN when queue i has
 * nothing to read / no room, or another -errno. */
ssize_t tap_readv(struct tap *t, unsigned i, const struct iovec *iov, int iovcnt);
ssize_t tap_writev(struct tap *t, unsigned i, const struct iovec *iov, int iovcnt);
