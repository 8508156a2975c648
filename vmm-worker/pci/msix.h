/* SPDX-License-Identifier: Apache-2.0 */
/* MSI-X (PCI Local Bus 3.0, 6.8.2): the capability, the vector table and the pending-bit array
 * that a device places in one of its BARs. msix_notify() delivers a vector, or, while the vector
 * or the whole function is masked, sets its pending bit; unmasking delivers what is pending. How a
 * vector reaches the guest is the caller's: struct msix_ops (KVM GSI routes + irqfd in the VMM, a
 * recorder in the tests). Thread-safe: devices notify from their I/O threads. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct pci_device;

#define MSIX_MAX_VECTORS 2048
#define MSIX_ENTRY_SIZE 16
#define MSIX_CAP_LEN 12
/* Message control (capability offset 2) */
#define MSIX_CONTROL_ENABLE 0x8000
#define MSIX_CONTROL_MASKALL 0x4000
#define MSIX_CONTROL_TABLE_SIZE 0x07ff
/* Vector control (entry offset 12) */
#define MSIX_ENTRY_MASKED 0x1

struct msix_ops {
	/* The guest programmed vector's address/data and it may fire: route it. Returns -errno. */
	int (*route)(void *opaque, unsigned vector, uint64_t addr, uint32_t data);
	/* Deliver vector now (its route is current). */
	void (*fire)(void *opaque, unsigned vector);
};

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, control;
};

struct msix {
	pthread_mutex_t lock;
	unsigned n_vectors;
	struct msix_entry *table;
	uint64_t *pba;
	bool enabled, masked; /* message control: MSI-X enable, function mask */
	const struct msix_ops *ops;
	void *opaque;
	struct pci_device *pci; /* for the capability */
	unsigned cap;		/* its offset in config space */
	uint64_t fired, pended, route_errors;
};

/* Allocates a table of n_vectors (1..MSIX_MAX_VECTORS), all masked, as after reset. */
int msix_init(struct msix *m, unsigned n_vectors, const struct msix_ops *ops, void *opaque);
void msix_done(struct msix *m);
/* Adds the capability to d: table at table_offset and PBA at pba_offset of BAR bar (8-byte
 * aligned). Returns the capability's offset or -errno. */
int msix_add_capability(struct msix *m, struct pci_device *d, unsigned bar, uint32_t table_offset,
			uint32_t pba_offset);
/* Bytes the table and the PBA take in the BAR. */
uint32_t msix_table_size(const struct msix *m);
uint32_t msix_pba_size(const struct msix *m);
/* BAR accesses, offsets relative to the table / PBA; 4- or 8-byte aligned accesses only. */
void msix_table_read(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len);
void msix_table_write(struct msix *m, uint64_t offset, const uint8_t *data, uint32_t len);
void msix_pba_read(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len);
/* Call after any config write that touches the capability (struct pci_device_ops.config_written). */
void msix_config_written(struct msix *m, uint32_t offset, uint32_t len);
/* Signals vector; false when it was left pending (masked, disabled) or does not exist. */
bool msix_notify(struct msix *m, unsigned vector);
bool msix_is_pending(struct msix *m, unsigned vector);
/* Back to the power-on state (function reset): disabled, every vector masked, nothing pending. */
void msix_reset(struct msix *m);
