/* SPDX-License-Identifier: Apache-2.0 */
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/virtio/pci-modern.h"
#include "devices/virtio/virtio.h"
#include "macro.h"

#define ISR_QUEUE 0x1
#define ISR_CONFIG 0x2
#define VIRTIO_PCI_CAP_LEN 16
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20
#define VIRTIO_PCI_CFG_CAP_LEN 20
/* Fields of struct virtio_pci_cap (4.1.4) */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULTIPLIER 16
#define CAP_PCI_CFG_DATA 16

/* PCI class per device type; "other" for the rest. */
static uint32_t class_of(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000; /* ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x018000; /* other mass storage */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* other communication */
	default:
		return 0xff0000;
	}
}

unsigned virtio_pci_n_vectors(const struct virtio_device *vdev)
{
	return vdev->n_queues + 1;
}

/* Common configuration (4.1.4.3), little-endian as the guest sees it. */
struct common_cfg {
	uint32_t device_feature_select, device_feature;
	uint32_t driver_feature_select, driver_feature;
	uint16_t config_msix_vector, num_queues;
	uint8_t device_status, config_generation;
	uint16_t queue_select, queue_size, queue_msix_vector, queue_enable, queue_notify_off;
	uint64_t queue_desc, queue_driver, queue_device;
} __attribute__((packed));
_Static_assert(sizeof(struct common_cfg) == VIRTIO_PCI_COMMON_SIZE, "virtio_pci_common_cfg");

static void common_image(struct virtio_pci *p, struct common_cfg *c)
{
	struct virtio_device *v = p->vdev;

	*c = (struct common_cfg){
		.device_feature_select = p->device_feature_select,
		.device_feature = virtio_get_device_features(v, p->device_feature_select),
		.driver_feature_select = p->driver_feature_select,
		.driver_feature = virtio_get_driver_features(v, p->driver_feature_select),
		.config_msix_vector = p->config_vector,
		.num_queues = (uint16_t)v->n_queues,
		.device_status = v->status,
		.config_generation = v->config_generation,
		.queue_select = p->queue_select,
	};
	if (p->queue_select < v->n_queues) {
		const struct virtq *q = &v->queues[p->queue_select];

		c->queue_size = q->size;
		c->queue_msix_vector = q->msix_vector;
		c->queue_enable = q->ready;
		c->queue_notify_off = p->queue_select;
		c->queue_desc = q->desc_addr;
		c->queue_driver = q->avail_addr;
		c->queue_device = q->used_addr;
	}
}

static uint16_t valid_vector(struct virtio_pci *p, uint16_t vector)
{
	/* A vector we do not have reads back as NO_VECTOR, which tells the driver (4.1.5.1.2). */
	return vector < p->msix.n_vectors ? vector : VIRTQ_NO_VECTOR;
}

#define TOUCHED(field) \
	(off < offsetof(struct common_cfg, field) + sizeof(n.field) && offsetof(struct common_cfg, field) < off + len)

static void common_write(struct virtio_pci *p, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_device *v = p->vdev;
	struct common_cfg n;

	common_image(p, &n);
	memcpy((uint8_t *)&n + off, data, len);

	if (TOUCHED(device_feature_select))
		p->device_feature_select = n.device_feature_select;
	if (TOUCHED(driver_feature_select))
		p->driver_feature_select = n.driver_feature_select;
	if (TOUCHED(driver_feature))
		virtio_set_driver_features(v, p->driver_feature_select, n.driver_feature);
	if (TOUCHED(config_msix_vector))
		p->config_vector = valid_vector(p, n.config_msix_vector);
	if (TOUCHED(device_status))
		virtio_set_status(v, n.device_status);
	if (TOUCHED(queue_select))
		p->queue_select = n.queue_select;
	if (TOUCHED(device_feature) || TOUCHED(num_queues) || TOUCHED(config_generation) ||
	    TOUCHED(queue_notify_off))
		virtio_stats_error(v); /* read-only: ignored */

	unsigned qs = p->queue_select;
	if (qs >= v->n_queues)
		return;
	struct virtq *q = &v->queues[qs];
	if (TOUCHED(queue_msix_vector))
		q->msix_vector = valid_vector(p, n.queue_msix_vector);
	if (TOUCHED(queue_size) || TOUCHED(queue_desc) || TOUCHED(queue_driver) || TOUCHED(queue_device)) {
		if (virtio_queue_configurable(v, qs)) {
			q->size = n.queue_size;
			q->desc_addr = n.queue_desc;
			q->avail_addr = n.queue_driver;
			q->used_addr = n.queue_device;
		} else
			virtio_stats_error(v);
	}
	/* Writing 0 is not the driver's to do (4.1.4.3.2); a queue reset would need VIRTIO_F_RING_RESET. */
	if (TOUCHED(queue_enable) && n.queue_enable == 1)
		virtio_queue_enable(v, qs);
}

static bool access_ok(uint64_t off, uint32_t len, uint64_t size)
{
	return (len == 1 || len == 2 || len == 4 || len == 8) && off < size && len <= size - off;
}

static void bar_read(struct pci_device *d, unsigned bar, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_pci *p = d->opaque;
	struct virtio_device *v = p->vdev;

	memset(data, 0, len);
	if (off >= VIRTIO_PCI_MSIX_PBA_OFFSET) {
		msix_pba_read(&p->msix, off - VIRTIO_PCI_MSIX_PBA_OFFSET, data, len);
		return;
	}
	if (off >= VIRTIO_PCI_MSIX_TABLE_OFFSET) {
		msix_table_read(&p->msix, off - VIRTIO_PCI_MSIX_TABLE_OFFSET, data, len);
		return;
	}
	pthread_mutex_lock(&v->lock);
	if (off < VIRTIO_PCI_ISR_OFFSET) {
		struct common_cfg c;

		common_image(p, &c);
		if (access_ok(off, len, sizeof(c)))
			memcpy(data, (uint8_t *)&c + off, len);
	} else if (off == VIRTIO_PCI_ISR_OFFSET) {
		data[0] = __atomic_exchange_n(&p->isr, 0, __ATOMIC_SEQ_CST); /* read-to-clear (4.1.4.5) */
	} else if (off >= VIRTIO_PCI_DEVICE_OFFSET && off < VIRTIO_PCI_NOTIFY_OFFSET) {
		virtio_config_read(v, (uint32_t)(off - VIRTIO_PCI_DEVICE_OFFSET), data, len);
	}
	pthread_mutex_unlock(&v->lock);
}

static void bar_write(struct pci_device *d, unsigned bar, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_pci *p = d->opaque;
	struct virtio_device *v = p->vdev;

	if (off >= VIRTIO_PCI_MSIX_PBA_OFFSET)
		return; /* the PBA is read-only */
	if (off >= VIRTIO_PCI_MSIX_TABLE_OFFSET) {
		msix_table_write(&p->msix, off - VIRTIO_PCI_MSIX_TABLE_OFFSET, data, len);
		return;
	}
	if (off >= VIRTIO_PCI_NOTIFY_OFFSET) {
		/* Only reached without an ioeventfd (or with an access size it does not match). */
		uint64_t q = (off - VIRTIO_PCI_NOTIFY_OFFSET) / VIRTIO_PCI_NOTIFY_MULTIPLIER;
		if (q < v->n_queues)
			virtio_queue_kick(v, (unsigned)q);
		return;
	}
	pthread_mutex_lock(&v->lock);
	if (off < VIRTIO_PCI_ISR_OFFSET) {
		if (access_ok(off, len, VIRTIO_PCI_COMMON_SIZE))
			common_write(p, (uint32_t)off, data, len);
		else
			virtio_stats_error(v);
	} else if (off >= VIRTIO_PCI_DEVICE_OFFSET && off < VIRTIO_PCI_NOTIFY_OFFSET) {
		virtio_config_write(v, (uint32_t)(off - VIRTIO_PCI_DEVICE_OFFSET), data, len);
	}
	pthread_mutex_unlock(&v->lock);
}

static int ioeventfds(struct virtio_pci *p, uint64_t base, bool assign)
{
	int r = 0;

	for (unsigned i = 0; i < p->vdev->n_queues; i++) {
		struct kvm_ioeventfd e = {
			.addr = base + VIRTIO_PCI_NOTIFY_OFFSET + i * VIRTIO_PCI_NOTIFY_MULTIPLIER,
			/* Drivers write the queue index as 16 bits (4.1.5.2). */
			.len = p->ioeventfd_any_length ? 0 : 2,
			.fd = p->vdev->queues[i].kick_fd,
			.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
		};
		if (ioctl(p->vm_fd, KVM_IOEVENTFD, &e) < 0 && r == 0)
			r = -errno;
	}
	return r;
}

/* The notification slots follow BAR 0 and memory decoding. */
static void bars_changed(struct pci_device *d)
{
	struct virtio_pci *p = d->opaque;
	uint64_t base = pci_device_memory_enabled(d) ? pci_device_bar_addr(d, VIRTIO_PCI_BAR) : 0;

	if (p->vm_fd < 0 || base == p->ioeventfd_base)
		return;
	if (p->ioeventfd_base && ioeventfds(p, p->ioeventfd_base, false) < 0)
		p->ioeventfd_errors++;
	p->ioeventfd_base = 0;
	if (base) {
		if (ioeventfds(p, base, true) < 0) {
			/* Notifications still arrive, through the exit path. */
			p->ioeventfd_errors++;
			ioeventfds(p, base, false);
		} else
			p->ioeventfd_base = base;
	}
}

/* VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9): the driver picks bar/offset/length, then reads or writes
 * pci_cfg_data to access the BAR through config space. Accesses other than 1, 2 or 4 bytes inside
 * our BAR do nothing. */
static bool pci_cfg_target(struct virtio_pci *p, uint64_t *ret_off, uint32_t *ret_len)
{
	unsigned c = p->pci_cfg_cap;
	uint32_t len = pci_config_get(&p->pci, c + CAP_LENGTH, 4);
	uint64_t off = pci_config_get(&p->pci, c + CAP_OFFSET, 4);

	if (p->pci.config[c + CAP_BAR] != VIRTIO_PCI_BAR || (len != 1 && len != 2 && len != 4) ||
	    off % len || off + len > VIRTIO_PCI_BAR_SIZE)
		return false;
	*ret_off = off;
	*ret_len = len;
	return true;
}

static bool config_read(struct pci_device *d, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct virtio_pci *p = d->opaque;
	unsigned c = p->pci_cfg_cap + CAP_PCI_CFG_DATA;
	uint64_t off;
	uint32_t n;

	if (offset != c || len != 4 || !pci_cfg_target(p, &off, &n))
		return false;
	memset(data, 0, len);
	bar_read(d, VIRTIO_PCI_BAR, off, data, n);
	return true;
}

static void config_written(struct pci_device *d, uint32_t offset, uint32_t len)
{
	struct virtio_pci *p = d->opaque;
	unsigned c = p->pci_cfg_cap + CAP_PCI_CFG_DATA;
	uint64_t off;
	uint32_t n;

	msix_config_written(&p->msix, offset, len);
	if (offset == c && len == 4 && pci_cfg_target(p, &off, &n))
		bar_write(d, VIRTIO_PCI_BAR, off, d->config + c, n);
}

static const struct pci_device_ops virtio_pci_ops = {
	.bar_read = bar_read,
	.bar_write = bar_write,
	.config_written = config_written,
	.bars_changed = bars_changed,
	.config_read = config_read,
};

static void signal_queue(void *opaque, struct virtq *q)
{
	struct virtio_pci *p = opaque;

	/* Atomic: a device with I/O threads of its own (net) signals queues without the device lock. */
	__atomic_or_fetch(&p->isr, ISR_QUEUE, __ATOMIC_SEQ_CST);
	if (q->msix_vector != VIRTQ_NO_VECTOR)
		msix_notify(&p->msix, q->msix_vector);
}

static void signal_config(void *opaque)
{
	struct virtio_pci *p = opaque;

	__atomic_or_fetch(&p->isr, ISR_CONFIG, __ATOMIC_SEQ_CST);
	if (p->config_vector != VIRTQ_NO_VECTOR)
		msix_notify(&p->msix, p->config_vector);
}

static void transport_reset(void *opaque)
{
	struct virtio_pci *p = opaque;

	__atomic_store_n(&p->isr, 0, __ATOMIC_SEQ_CST);
	p->config_vector = VIRTQ_NO_VECTOR;
	p->device_feature_select = p->driver_feature_select = 0;
	p->queue_select = 0;
}

static const struct virtio_transport_ops virtio_pci_transport = {
	.signal_queue = signal_queue,
	.signal_config = signal_config,
	.reset = transport_reset,
};

static int add_virtio_cap(struct pci_device *d, uint8_t type, uint8_t len, uint32_t offset, uint32_t length)
{
	int c = pci_device_add_capability(d, PCI_CAP_ID_VNDR, len);

	if (c < 0)
		return c;
	d->config[c + 2] = len;
	d->config[c + CAP_CFG_TYPE] = type;
	d->config[c + CAP_BAR] = VIRTIO_PCI_BAR;
	pci_config_set(d, c + CAP_OFFSET, offset, 4);
	pci_config_set(d, c + CAP_LENGTH, length, 4);
	return c;
}

static int add_caps(struct virtio_pci *p)
{
	struct virtio_device *v = p->vdev;
	struct pci_device *d = &p->pci;
	int c;

	c = add_virtio_cap(d, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_LEN, VIRTIO_PCI_COMMON_OFFSET,
			   VIRTIO_PCI_COMMON_SIZE);
	if (c < 0)
		return c;
	c = add_virtio_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_CAP_LEN, VIRTIO_PCI_NOTIFY_OFFSET,
			   v->n_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER);
	if (c < 0)
		return c;
	pci_config_set(d, c + CAP_NOTIFY_MULTIPLIER, VIRTIO_PCI_NOTIFY_MULTIPLIER, 4);
	c = add_virtio_cap(d, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_LEN, VIRTIO_PCI_ISR_OFFSET, 1);
	if (c < 0)
		return c;
	if (v->ops->config_size > 0) {
		c = add_virtio_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_LEN, VIRTIO_PCI_DEVICE_OFFSET,
				   v->ops->config_size);
		if (c < 0)
			return c;
	}
	c = add_virtio_cap(d, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_PCI_CFG_CAP_LEN, 0, 0);
	if (c < 0)
		return c;
	p->pci_cfg_cap = (unsigned)c;
	d->config[c + CAP_BAR] = 0;
	pci_device_set_wmask(d, c + CAP_BAR, 0xff, 1);
	pci_device_set_wmask(d, c + CAP_OFFSET, 0xffffffff, 4);
	pci_device_set_wmask(d, c + CAP_LENGTH, 0xffffffff, 4);
	pci_device_set_wmask(d, c + CAP_PCI_CFG_DATA, 0xffffffff, 4);

	c = msix_add_capability(&p->msix, d, VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_TABLE_OFFSET,
				VIRTIO_PCI_MSIX_PBA_OFFSET);
	return c < 0 ? c : 0;
}

int virtio_pci_new(struct virtio_device *vdev, const struct msix_ops *msix_ops, void *msix_opaque, int vm_fd,
		   struct virtio_pci **ret)
{
	unsigned n_vectors = virtio_pci_n_vectors(vdev);
	int r;

	if (vdev->ops->config_size > VIRTIO_PCI_DEVICE_MAX ||
	    vdev->n_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER > VIRTIO_PCI_MSIX_TABLE_OFFSET - VIRTIO_PCI_NOTIFY_OFFSET ||
	    n_vectors * MSIX_ENTRY_SIZE > VIRTIO_PCI_MSIX_PBA_OFFSET - VIRTIO_PCI_MSIX_TABLE_OFFSET) {
		virtio_device_free(vdev);
		return -EINVAL;
	}
	struct virtio_pci *p = calloc(1, sizeof(*p));
	if (!p) {
		virtio_device_free(vdev);
		return -ENOMEM;
	}
	p->vdev = vdev;
	p->vm_fd = vm_fd;
	p->config_vector = VIRTQ_NO_VECTOR;
	if (vm_fd >= 0)
		p->ioeventfd_any_length = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
	snprintf(p->name, sizeof(p->name), "virtio-%s", vdev->ops->name);

	pci_device_init(&p->pci, p->name, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vdev->ops->device_id),
			class_of(vdev->ops->device_id), 1, VIRTIO_PCI_VENDOR, VIRTIO_PCI_SUBSYSTEM_ID, &virtio_pci_ops,
			p);
	r = msix_init(&p->msix, n_vectors, msix_ops, msix_opaque);
	if (r >= 0)
		r = pci_device_add_bar(&p->pci, VIRTIO_PCI_BAR, PCI_BAR_MEM32, VIRTIO_PCI_BAR_SIZE);
	if (r >= 0)
		r = add_caps(p);
	if (r < 0) {
		virtio_pci_free(p);
		return r;
	}
	virtio_device_set_transport(vdev, &virtio_pci_transport, p);
	*ret = p;
	return 0;
}

struct virtio_pci *virtio_pci_free(struct virtio_pci *p)
{
	if (!p)
		return NULL;
	if (p->vm_fd >= 0 && p->ioeventfd_base)
		(void)ioeventfds(p, p->ioeventfd_base, false);
	/* The I/O thread stops before the msix goes: it may still be signalling through it. */
	p->vdev = virtio_device_free(p->vdev);
	msix_done(&p->msix);
	free(p);
	return NULL;
}
