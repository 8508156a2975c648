/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net: features and offloads, config space, start and reset, the control queue. The data
 * path is in net-pair.c. */
#include <endian.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>

#include "backends/tap.h"
#include "devices/virtio/net-internal.h"
#include "macro.h"

#define BIT(f) (1ULL << (f))
/* Guest offloads: what the tap may hand the guest, and what VIRTIO_NET_CTRL_GUEST_OFFLOADS
 * switches. */
#define GUEST_OFFLOADS                                                                                    \
	(BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |     \
	 BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_GUEST_UFO))
/* The largest command payload we accept (GUEST_OFFLOADS_SET's u64). */
#define CTRL_DATA_MAX 8

/* Config space (5.1.4) up to max_virtqueue_pairs. */
struct net_config {
	uint8_t mac[MAC_LEN];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

static unsigned ctrl_queue(const struct net *net)
{
	return 2 * net->n_pairs;
}

static uint64_t offered_features(const struct virtio_net_params *params, unsigned tap_offloads, unsigned n_pairs)
{
	uint64_t f = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
		     BIT(VIRTIO_NET_F_CTRL_VQ);

	if (n_pairs > 1)
		f |= BIT(VIRTIO_NET_F_MQ);
	if (!params->offload_csum)
		return f; /* segmentation offloads need checksum offload, both ways */
	/* Guest to host: the tap takes partial checksums and large segments in the header. */
	f |= BIT(VIRTIO_NET_F_CSUM);
	if (params->offload_tso)
		f |= BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_ECN);
	if (params->offload_ufo)
		f |= BIT(VIRTIO_NET_F_HOST_UFO);
	/* Host to guest: only what this kernel's tap can be told to hand over. */
	if (!(tap_offloads & TUN_F_CSUM))
		return f;
	f |= BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	if (params->offload_tso && (tap_offloads & TUN_F_TSO4))
		f |= BIT(VIRTIO_NET_F_GUEST_TSO4);
	if (params->offload_tso && (tap_offloads & TUN_F_TSO6))
		f |= BIT(VIRTIO_NET_F_GUEST_TSO6);
	if (params->offload_tso && (tap_offloads & TUN_F_TSO_ECN) && (tap_offloads & (TUN_F_TSO4 | TUN_F_TSO6)))
		f |= BIT(VIRTIO_NET_F_GUEST_ECN);
	if (params->offload_ufo && (tap_offloads & TUN_F_UFO))
		f |= BIT(VIRTIO_NET_F_GUEST_UFO);
	return f;
}

/* VIRTIO_NET_F_GUEST_* bits to the tap's TUN_F_* flags. */
static unsigned tun_offloads(uint64_t guest)
{
	unsigned t = 0;

	if (guest & BIT(VIRTIO_NET_F_GUEST_CSUM))
		t |= TUN_F_CSUM;
	if (guest & BIT(VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (guest & BIT(VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	if (guest & BIT(VIRTIO_NET_F_GUEST_ECN))
		t |= TUN_F_TSO_ECN;
	if (guest & BIT(VIRTIO_NET_F_GUEST_UFO))
		t |= TUN_F_UFO;
	return t;
}

/* Runs the first active_pairs pairs and stops the others; a multi-queue tap gets its idle queues
 * detached, so the kernel steers no traffic to a queue nobody reads. */
static void apply_pairs(struct net *net, bool running)
{
	for (unsigned i = 0; i < net->n_pairs; i++) {
		struct net_pair *p = &net->pairs[i];
		bool on = running && i < net->active_pairs;

		if (!on)
			net_pair_set_running(p, false);
		/* Queue 0 stays attached: the interface keeps taking traffic while the guest is away. */
		if (net->n_pairs > 1 && i > 0 && on != p->tap_attached) {
			if (tap_set_queue_enabled(net->tap, i, on) < 0)
				virtio_stats_error(net->v);
			else
				p->tap_attached = on;
		}
		if (on)
			net_pair_set_running(p, true);
	}
}

void net_fail(struct net *net, int r, const char *why)
{
	virtio_device_fail(net->v, r, why);
	apply_pairs(net, false);
}

static void net_config_read(struct virtio_device *v, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct net *net = v->priv;
	struct net_config c = {
	    .status = htole16(VIRTIO_NET_S_LINK_UP),
	    .max_virtqueue_pairs = htole16((uint16_t)net->n_pairs),
	};

	memcpy(c.mac, net->mac, MAC_LEN);
	memcpy(data, (const uint8_t *)&c + offset, len);
}

static void net_config_write(struct virtio_device *v, uint32_t offset, const uint8_t *data, uint32_t len)
{
	/* Read-only for a VERSION_1 driver (5.1.4.2): counted and ignored. */
	virtio_stats_error(v);
}

static int net_activate(struct virtio_device *v)
{
	struct net *net = v->priv;
	int r;

	r = tap_set_offloads(net->tap, tun_offloads(v->driver_features & GUEST_OFFLOADS));
	if (r < 0)
		return r;
	net->generation++;
	net->active_pairs = 1; /* until VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (5.1.6.5.5) */
	apply_pairs(net, true);
	return 0;
}

static void net_reset(struct virtio_device *v)
{
	struct net *net = v->priv;

	net->generation++;
	apply_pairs(net, false);
}

static uint8_t ctrl_command(struct net *net, uint8_t class, uint8_t cmd, const uint8_t *data, uint64_t len)
{
	struct virtio_device *v = net->v;

	switch (class) {
	case VIRTIO_NET_CTRL_MQ: {
		uint16_t pairs;

		if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || len != sizeof(pairs) ||
		    !virtio_feature_negotiated(v, VIRTIO_NET_F_MQ))
			return VIRTIO_NET_ERR;
		memcpy(&pairs, data, sizeof(pairs));
		pairs = le16toh(pairs);
		if (pairs < 1 || pairs > net->n_pairs)
			return VIRTIO_NET_ERR;
		net->active_pairs = pairs;
		apply_pairs(net, true);
		return VIRTIO_NET_OK;
	}
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS: {
		uint64_t offloads;

		if (cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || len != sizeof(offloads) ||
		    !virtio_feature_negotiated(v, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS))
			return VIRTIO_NET_ERR;
		memcpy(&offloads, data, sizeof(offloads));
		offloads = le64toh(offloads);
		/* Only offloads negotiated at start-up may be switched (5.1.6.5.6.2). */
		if (offloads & ~(v->driver_features & GUEST_OFFLOADS))
			return VIRTIO_NET_ERR;
		return tap_set_offloads(net->tap, tun_offloads(offloads)) < 0 ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
	}
	default:
		return VIRTIO_NET_ERR;
	}
}

/* Copies up to len device-readable bytes of e into buf; returns how many. */
static size_t elem_read(const struct virtq_elem *e, uint8_t *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < e->n_out && done < len; i++) {
		size_t c = MIN(len - done, e->iov[i].iov_len);
		memcpy(buf + done, e->iov[i].iov_base, c);
		done += c;
	}
	return done;
}

static void ctrl_process(struct net *net, struct virtq *q)
{
	struct virtio_device *v = net->v;
	struct virtq_elem *e = &net->ctrl_elem;
	int r;

	while ((r = virtq_pop(q, e)) > 0) {
		uint8_t buf[sizeof(struct virtio_net_ctrl_hdr) + CTRL_DATA_MAX] = {};
		const size_t hdr = sizeof(struct virtio_net_ctrl_hdr);

		/* Class and command readable, then an ack byte the device writes (5.1.6.5). */
		if (e->out_len < hdr || e->n_in == 0) {
			net_fail(net, -EBADMSG, e->n_in == 0 ? "a control request without room for the ack"
							     : "a control request shorter than its header");
			return;
		}
		elem_read(e, buf, sizeof(buf));
		uint8_t ack = ctrl_command(net, buf[0], buf[1], buf + hdr, e->out_len - hdr);
		if (ack != VIRTIO_NET_OK)
			virtio_stats_error(v);
		*(uint8_t *)e->iov[e->n_out].iov_base = ack;
		virtq_push(q, e, 1);
	}
	if (r < 0)
		net_fail(net, r, "malformed descriptor chain on the control queue");
	virtio_queue_signal(v, q);
}

static void net_queue_notify(struct virtio_device *v, struct virtq *q)
{
	struct net *net = v->priv;
	const char *why = NULL;

	if (q->index == ctrl_queue(net)) {
		ctrl_process(net, q);
		return;
	}
	/* A data queue by hand (tests): the same path as its pair's thread. */
	int r = net_pair_process(&net->pairs[q->index / 2], q, &why);
	if (r < 0)
		net_fail(net, r, why);
}

static void net_free(struct virtio_device *v)
{
	struct net *net = v->priv;

	if (!net)
		return;
	for (unsigned i = 0; i < net->n_pairs; i++)
		net_pair_done(&net->pairs[i]);
	tap_free(net->tap);
	virtq_elem_done(&net->ctrl_elem);
	/* net holds v->ops: the core touches it no more after this call. */
	free(net);
}

static const struct virtio_device_ops net_ops_template = {
    .name = "net",
    .device_id = VIRTIO_ID_NET,
    .config_size = sizeof(struct net_config),
    .config_read = net_config_read,
    .config_write = net_config_write,
    .activate = net_activate,
    .reset = net_reset,
    .queue_notify = net_queue_notify,
    .free = net_free,
};

unsigned virtio_net_active_pairs(struct virtio_device *v)
{
	struct net *net = v->priv;

	pthread_mutex_lock(&v->lock);
	unsigned n = net->active_pairs;
	pthread_mutex_unlock(&v->lock);
	return n;
}

int virtio_net_new(const struct virtio_net_params *params, struct tap *tap, const struct guest_memory *mem,
		   struct virtio_device **ret)
{
	unsigned n_pairs = tap_n_queues(tap);
	struct virtio_device *v;
	struct net *net;
	int r;

	if (n_pairs == 0 || n_pairs > VIRTIO_NET_PAIRS_MAX || !virtq_size_valid(params->queue_size, VIRTQ_MAX_SIZE))
		return -EINVAL;
	/* VERSION_1 always has the 12-byte header with num_buffers (5.1.6.1). */
	r = tap_set_vnet_hdr_size(tap, NET_HDR_LEN);
	if (r < 0)
		return r;

	net = calloc(1, sizeof(*net) + n_pairs * sizeof(net->pairs[0]));
	if (!net)
		return -ENOMEM;
	net->n_pairs = n_pairs;
	net->active_pairs = 1;
	memcpy(net->mac, params->mac, MAC_LEN);
	net->tap_offloads = tap_probe_offloads(tap, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO);
	net->ops = net_ops_template;
	net->ops.n_queues = 2 * n_pairs + 1;
	net->ops.queue_max_size = params->queue_size;
	net->ops.features = offered_features(params, net->tap_offloads, n_pairs);
	net->ops.own_queues = BIT(2 * n_pairs) - 1;
	for (unsigned i = 0; i < n_pairs; i++) {
		net->pairs[i].tap_attached = true;
		net->pairs[i].epoll_fd = net->pairs[i].stop_fd = -1;
	}

	r = virtq_elem_init(&net->ctrl_elem, params->queue_size);
	if (r >= 0)
		r = virtio_device_new(&net->ops, net, mem, &v);
	if (r < 0) {
		virtq_elem_done(&net->ctrl_elem);
		free(net);
		return r;
	}
	net->v = v;
	net->tap = tap;
	for (unsigned i = 0; i < n_pairs && r >= 0; i++)
		r = net_pair_init(net, i);
	if (r < 0) {
		net->tap = NULL; /* the caller's again */
		virtio_device_free(v);
		return r;
	}
	*ret = v;
	return 0;
}
