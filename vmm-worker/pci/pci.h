/* SPDX-License-Identifier: Apache-2.0 */
/* Conventional PCI on segment 0, bus 0: a host bridge at 00:00.0 and up to 31 more single-function
 * devices. Configuration space is reachable through the 0xCF8/0xCFC port pair (first 256 bytes)
 * and through ECAM (all 4 KiB); memory BARs are decoded in the 32-bit and 64-bit windows of
 * layout.h. A device is a struct pci_device with a config image, per-byte write masks and an ops
 * table; the bus checks every guest access against the masks, so read-only registers stay
 * read-only whatever the guest writes, and BAR sizing (write all-ones, read back) works for every
 * device without device code. */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

#define PCI_SLOTS 32
#define PCI_CONFIG_SIZE 4096	    /* ECAM */
#define PCI_CONFIG_LEGACY_SIZE 256 /* 0xCF8/0xCFC */
#define PCI_NUM_BARS 6

/* Type 0 header offsets and bits (PCI Local Bus 3.0, 6.1) */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_BAR_MEM_64 0x04
#define PCI_BAR_MEM_PREFETCH 0x08
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_HEADER_SIZE 0x40
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* The host bridge's identity: Red Hat's generic "PCIe host bridge" ID, which no Linux quirk
 * matches. */
#define PCI_HOST_BRIDGE_VENDOR 0x1b36
#define PCI_HOST_BRIDGE_DEVICE 0x0008
#define PCI_CLASS_BRIDGE_HOST 0x060000

enum pci_bar_type {
	PCI_BAR_NONE,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* takes the next BAR slot as its upper half */
	_PCI_BAR_TYPE_MAX,
	_PCI_BAR_TYPE_INVALID = -EINVAL,
};

const char *pci_bar_type_to_string(enum pci_bar_type t);
enum pci_bar_type pci_bar_type_from_string(const char *s);

struct pci_device;

struct pci_device_ops {
	/* An access inside BAR bar while memory decoding is on; offset is relative to the BAR. Called
	 * on vCPU threads, without the bus lock: the device serialises its own state. */
	void (*bar_read)(struct pci_device *d, unsigned bar, uint64_t offset, uint8_t *data, uint32_t len);
	void (*bar_write)(struct pci_device *d, unsigned bar, uint64_t offset, const uint8_t *data, uint32_t len);
	/* After a guest write to [offset, offset+len) of config space (already applied through the
	 * masks), under the bus lock. Optional. */
	void (*config_written)(struct pci_device *d, uint32_t offset, uint32_t len);
	/* A BAR moved or memory decoding changed: where the device keeps state tied to its guest
	 * address (ioeventfds) it updates it here, under the bus lock. Optional. */
	void (*bars_changed)(struct pci_device *d);
	/* Optional: config space reads the device computes itself (virtio's PCI_CFG window). Return
	 * true when handled. */
	bool (*config_read)(struct pci_device *d, uint32_t offset, uint8_t *data, uint32_t len);
};

struct pci_bar {
	enum pci_bar_type type;
	uint64_t size; /* power of two, at least 4 KiB */
	uint64_t addr; /* guest address as last programmed */
};

struct pci_device {
	const struct pci_device_ops *ops;
	void *opaque;
	const char *name;
	struct pci_bus *bus;
	unsigned slot; /* device number on bus 0 */
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];	  /* bits the guest may change */
	uint8_t w1cmask[PCI_CONFIG_SIZE]; /* bits the guest clears by writing 1 */
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t last_cap;   /* offset of the last capability in the list, 0 for none */
	uint16_t cap_free;  /* where the next capability goes */
};

/* Fills the header of a type 0 function: identity, class (24 bits: class, subclass, prog-if),
 * writable command bits, no INTx pin. */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id, const struct pci_device_ops *ops,
		     void *opaque);
/* Declares BAR bar; the bus gives it an address when the device is added. -EINVAL for a size that
 * is not a power of two of at least 4 KiB or a slot a 64-bit BAR cannot use. */
int pci_device_add_bar(struct pci_device *d, unsigned bar, enum pci_bar_type type, uint64_t size);
/* Appends a capability of len bytes (its ID and next pointer are filled in) and returns its offset
 * in config space, or -ENOSPC. The caller fills the body and sets write masks with
 * pci_device_set_wmask(). */
int pci_device_add_capability(struct pci_device *d, uint8_t id, uint8_t len);
void pci_device_set_wmask(struct pci_device *d, uint32_t offset, uint64_t mask, uint32_t len);
/* Little-endian accessors on the config image, for device code. */
uint32_t pci_config_get(const struct pci_device *d, uint32_t offset, uint32_t len);
void pci_config_set(struct pci_device *d, uint32_t offset, uint64_t value, uint32_t len);
/* Whether the guest enabled memory decoding, and BAR bar's current address (0 when unset). */
bool pci_device_memory_enabled(const struct pci_device *d);
uint64_t pci_device_bar_addr(const struct pci_device *d, unsigned bar);

/* Guest config accesses; offset < PCI_CONFIG_SIZE, len 1, 2 or 4, naturally aligned (anything
 * else reads all-ones and is dropped). Exposed for the bus and the tests. */
void pci_device_config_read(struct pci_device *d, uint32_t offset, uint8_t *data, uint32_t len);
void pci_device_config_write(struct pci_device *d, uint32_t offset, const uint8_t *data, uint32_t len);

/* One BAR window as the MMIO bus sees it: offsets come relative to base. */
struct pci_window {
	struct pci_bus *bus;
	uint64_t base, size;
	uint64_t next; /* bump allocator for BAR placement */
};

struct pci_bus {
	pthread_mutex_t lock; /* config space of every device, the address latch, BAR lookup */
	struct pci_device host_bridge;
	struct pci_device *slots[PCI_SLOTS];
	uint32_t config_address; /* the 0xCF8 latch */
	struct pci_window mmio32, mmio64;
	uint64_t unhandled; /* config or BAR accesses nothing claimed */
};

/* mmio64_start/size: the 64-bit window (layout_pci_mmio64_start()). */
int pci_bus_new(uint64_t mmio64_start, uint64_t mmio64_size, struct pci_bus **ret);
struct pci_bus *pci_bus_free(struct pci_bus *b);
/* Puts d in the first free slot and places its BARs (64-bit BARs above 4 GiB). Before vCPUs run.
 * -ENOSPC when the bus or a window is full. */
int pci_bus_add(struct pci_bus *b, struct pci_device *d);

/* Bus ops, opaque = the pci_bus: 0xCF8-0xCFF (one range of 8 ports) and the ECAM window. */
extern const struct bus_ops pci_config_io_ops;
extern const struct bus_ops pci_ecam_ops;
/* Bus ops for a BAR window, opaque = &bus->mmio32 or &bus->mmio64. */
extern const struct bus_ops pci_window_ops;
/* Guest config access to (slot, offset) on bus 0, as both mechanisms use it. */
void pci_bus_config_read(struct pci_bus *b, unsigned bus, unsigned slot, unsigned fn, uint32_t offset,
			 uint8_t *data, uint32_t len);
void pci_bus_config_write(struct pci_bus *b, unsigned bus, unsigned slot, unsigned fn, uint32_t offset,
			  const uint8_t *data, uint32_t len);
