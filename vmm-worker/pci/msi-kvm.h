/* SPDX-License-Identifier: Apache-2.0 */
/* MSI delivery through KVM: a GSI routing table (the in-kernel irqchip's default PIC/IOAPIC routes
 * plus one MSI route per vector in use, rewritten with KVM_SET_GSI_ROUTING when a guest programs a
 * vector) and one irqfd per vector, so a device thread raises an interrupt with a write to an
 * eventfd. struct msix_kvm is the struct msix_ops backend a PCI device plugs into its msix. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct msix_ops;

struct msi_route {
	uint64_t addr;
	uint32_t data;
	bool valid;
};

struct msi_routes {
	int vm_fd;
	pthread_mutex_t lock;
	unsigned n;		  /* GSIs handed out from IRQ_MSI_GSI_BASE */
	struct msi_route *routes; /* IRQ_MSI_GSI_MAX - IRQ_MSI_GSI_BASE of them */
};

int msi_routes_new(int vm_fd, struct msi_routes **ret);
struct msi_routes *msi_routes_free(struct msi_routes *r);
/* n consecutive GSIs for MSI, or -ENOSPC. */
int msi_routes_alloc(struct msi_routes *r, unsigned n, uint32_t *ret_first_gsi);
/* Points gsi at the MSI (addr, data) and pushes the whole table to KVM. */
int msi_routes_set(struct msi_routes *r, uint32_t gsi, uint64_t addr, uint32_t data);

/* One eventfd per vector, bound to the vector's GSI with KVM_IRQFD. */
struct msix_kvm {
	struct msi_routes *routes;
	int vm_fd;
	uint32_t first_gsi;
	unsigned n;
	int *fds;
};

int msix_kvm_new(struct msi_routes *routes, unsigned n_vectors, struct msix_kvm **ret);
struct msix_kvm *msix_kvm_free(struct msix_kvm *k);
extern const struct msix_ops msix_kvm_ops; /* opaque: struct msix_kvm * */
