/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio PCI transport, modern interface only (virtio 1.2, 4.1): vendor 0x1af4, device
 * 0x1040 + device ID, revision 1. One 32-bit memory BAR (BAR 0) holds the common configuration,
 * the ISR byte, the device configuration, the notification area (one 4-byte slot per queue) and
 * the MSI-X table and PBA; the virtio capabilities in config space point into it, and a
 * VIRTIO_PCI_CAP_PCI_CFG window reaches it through config space. Vectors: one per queue plus one
 * for config changes. No INTx: the driver uses MSI-X.
 *
 * With a vm_fd, each queue's notification slot is an ioeventfd (KVM_IOEVENTFD) feeding the queue's
 * kick eventfd directly, so a notification costs no exit to userspace; the registration follows
 * the BAR when the guest moves it. Without (tests), a write to the slot kicks the queue by hand. */
#pragma once

#include <stdint.h>

#include "pci/msix.h"
#include "pci/pci.h"

struct virtio_device;

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_PCI_SUBSYSTEM_ID 0x0040

/* BAR 0 layout */
#define VIRTIO_PCI_BAR 0
#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_COMMON_SIZE 0x38
#define VIRTIO_PCI_ISR_OFFSET 0x1000
#define VIRTIO_PCI_DEVICE_OFFSET 0x2000
#define VIRTIO_PCI_DEVICE_MAX 0x1000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4
#define VIRTIO_PCI_MSIX_TABLE_OFFSET 0x4000
#define VIRTIO_PCI_MSIX_PBA_OFFSET 0x6000

/* Capability types (4.1.4) */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* struct virtio_pci_common_cfg field offsets (4.1.4.3) */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF 0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF 0x0c
#define VIRTIO_PCI_COMMON_MSIX 0x10
#define VIRTIO_PCI_COMMON_NUMQ 0x12
#define VIRTIO_PCI_COMMON_STATUS 0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30

struct virtio_pci {
	struct pci_device pci;
	struct msix msix;
	struct virtio_device *vdev; /* owned */
	int vm_fd;		    /* not owned; -1: no ioeventfds */
	uint64_t ioeventfd_base;    /* BAR address the ioeventfds are registered at, 0 for none */
	bool ioeventfd_any_length;
	uint64_t ioeventfd_errors;
	/* Transport registers, under vdev->lock */
	uint32_t device_feature_select, driver_feature_select;
	uint16_t queue_select;
	uint16_t config_vector;
	uint8_t isr;
	unsigned pci_cfg_cap; /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	char name[32];
};

/* Vectors the transport needs for vdev: give msix_ops that many. */
unsigned virtio_pci_n_vectors(const struct virtio_device *vdev);
/* Wraps vdev (taking ownership, also on failure) in a PCI function; add it to a bus with
 * pci_bus_add(&ret->pci). */
int virtio_pci_new(struct virtio_device *vdev, const struct msix_ops *msix_ops, void *msix_opaque, int vm_fd,
		   struct virtio_pci **ret);
struct virtio_pci *virtio_pci_free(struct virtio_pci *p);
