/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "macro.h"
#include "pci/msi-kvm.h"
#include "pci/msix.h"

#define N_MSI_GSIS (IRQ_MSI_GSI_MAX - IRQ_MSI_GSI_BASE)
#define PIC_PINS 8
#define ISA_IRQS 16

int msi_routes_new(int vm_fd, struct msi_routes **ret)
{
	struct msi_routes *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->routes = calloc(N_MSI_GSIS, sizeof(*r->routes));
	if (!r->routes) {
		free(r);
		return -ENOMEM;
	}
	r->vm_fd = vm_fd;
	pthread_mutex_init(&r->lock, NULL);
	*ret = r;
	return 0;
}

struct msi_routes *msi_routes_free(struct msi_routes *r)
{
	if (!r)
		return NULL;
	pthread_mutex_destroy(&r->lock);
	free(r->routes);
	free(r);
	return NULL;
}

int msi_routes_alloc(struct msi_routes *r, unsigned n, uint32_t *ret_first_gsi)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	if (n <= N_MSI_GSIS - r->n) {
		*ret_first_gsi = IRQ_MSI_GSI_BASE + r->n;
		r->n += n;
		ret = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* KVM_SET_GSI_ROUTING replaces the whole table, so it carries the routes KVM_CREATE_IRQCHIP set up
 * by default too: ISA IRQs 0-15 to both PICs and the IOAPIC, 16-23 to the IOAPIC. */
static int routes_push(struct msi_routes *r)
{
	unsigned max = ISA_IRQS * 2 + (IOAPIC_NUM_PINS - ISA_IRQS) + r->n, n = 0;
	_cleanup_free_ struct kvm_irq_routing *t =
		calloc(1, sizeof(*t) + max * sizeof(struct kvm_irq_routing_entry));

	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
		if (i < ISA_IRQS)
			t->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = i,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = i < PIC_PINS ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					       .pin = i % PIC_PINS },
			};
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = i,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = i },
		};
	}
	for (unsigned i = 0; i < r->n; i++) {
		if (!r->routes[i].valid)
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = IRQ_MSI_GSI_BASE + i,
			.type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)r->routes[i].addr,
				   .address_hi = (uint32_t)(r->routes[i].addr >> 32),
				   .data = r->routes[i].data },
		};
	}
	t->nr = n;
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t) < 0)
		return -errno;
	return 0;
}

int msi_routes_set(struct msi_routes *r, uint32_t gsi, uint64_t addr, uint32_t data)
{
	int ret = 0;

	if (gsi < IRQ_MSI_GSI_BASE || gsi - IRQ_MSI_GSI_BASE >= r->n)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	struct msi_route *e = &r->routes[gsi - IRQ_MSI_GSI_BASE];
	if (!e->valid || e->addr != addr || e->data != data) {
		*e = (struct msi_route){ .addr = addr, .data = data, .valid = true };
		ret = routes_push(r);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int msix_kvm_new(struct msi_routes *routes, unsigned n_vectors, struct msix_kvm **ret)
{
	struct msix_kvm *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	k->routes = routes;
	k->vm_fd = routes->vm_fd;
	k->fds = malloc(n_vectors * sizeof(int));
	if (!k->fds) {
		free(k);
		return -ENOMEM;
	}
	r = msi_routes_alloc(routes, n_vectors, &k->first_gsi);
	if (r < 0)
		goto fail;
	for (; k->n < n_vectors; k->n++) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			r = -errno;
			goto fail;
		}
		struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = k->first_gsi + k->n };
		if (ioctl(k->vm_fd, KVM_IRQFD, &irqfd) < 0) {
			r = -errno;
			close(fd);
			goto fail;
		}
		k->fds[k->n] = fd;
	}
	*ret = k;
	return 0;
fail:
	msix_kvm_free(k);
	return r;
}

struct msix_kvm *msix_kvm_free(struct msix_kvm *k)
{
	if (!k)
		return NULL;
	for (unsigned i = 0; i < k->n; i++) {
		struct kvm_irqfd irqfd = { .fd = (uint32_t)k->fds[i], .gsi = k->first_gsi + i,
					   .flags = KVM_IRQFD_FLAG_DEASSIGN };
		(void)ioctl(k->vm_fd, KVM_IRQFD, &irqfd);
		close(k->fds[i]);
	}
	free(k->fds);
	free(k);
	return NULL;
}

static int msix_kvm_route(void *opaque, unsigned vector, uint64_t addr, uint32_t data)
{
	struct msix_kvm *k = opaque;

	if (vector >= k->n)
		return -EINVAL;
	return msi_routes_set(k->routes, k->first_gsi + vector, addr, data);
}

static void msix_kvm_fire(void *opaque, unsigned vector)
{
	struct msix_kvm *k = opaque;
	uint64_t one = 1;

	if (vector < k->n)
		(void)!write(k->fds[vector], &one, sizeof(one));
}

const struct msix_ops msix_kvm_ops = {
	.route = msix_kvm_route,
	.fire = msix_kvm_fire,
};
