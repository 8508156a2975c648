/* SPDX-License-Identifier: Apache-2.0 */
/* Wires PCI to the VM: config mechanisms on the port and MMIO buses, the BAR windows, MSI routing
 * through KVM, and the virtio devices the configuration asks for. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "cli/config.h"
#include "backends/tap.h"
#include "devices/virtio/net.h"
#include "devices/virtio/console.h"
#include "devices/virtio/pci-modern.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/vsock.h"
#include "log.h"
#include "memory/guest-memory.h"
#include "pci/msi-kvm.h"
#include "pci/pci.h"
#include "vm.h"

static uint64_t ram_end(const struct guest_memory *m)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < m->n_regions; i++)
		end = MAX(end, m->regions[i].gpa + m->regions[i].size);
	return end;
}

int vm_add_virtio(struct vm *vm, struct virtio_device *vdev)
{
	const char *name = vdev->ops->name;
	struct virtio_pci *p = NULL;
	struct msix_kvm *k = NULL;
	int r;

	if (vm->n_virtio >= VM_MAX_VIRTIO) {
		virtio_device_free(vdev);
		return log_error_errno(E2BIG, "cannot add virtio-%s: at most %d virtio devices", name, VM_MAX_VIRTIO);
	}
	r = msix_kvm_new(vm->msi, virtio_pci_n_vectors(vdev), &k);
	if (r < 0) {
		virtio_device_free(vdev);
		return log_error_errno(r, "cannot set up MSI-X interrupts for virtio-%s: %s", name, strerror(-r));
	}
	r = virtio_pci_new(vdev, &msix_kvm_ops, k, vm->vm_fd, &p);
	if (r < 0) {
		msix_kvm_free(k);
		return log_error_errno(r, "cannot create the PCI function of virtio-%s: %s", name, strerror(-r));
	}
	r = pci_bus_add(vm->pci, &p->pci);
	if (r < 0) {
		virtio_pci_free(p);
		msix_kvm_free(k);
		return log_error_errno(r, "cannot put virtio-%s on the PCI bus: %s", name,
				       r == -ENOSPC ? "no free slot or BAR space" : strerror(-r));
	}
	vm->virtio[vm->n_virtio] = p;
	vm->virtio_msix[vm->n_virtio] = k;
	vm->n_virtio++;
	log_debug("virtio-%s at PCI 00:%02x.0, BAR0 0x%llx", name, p->pci.slot,
		  (unsigned long long)pci_device_bar_addr(&p->pci, VIRTIO_PCI_BAR));
	return 0;
}

static int add_rng(struct vm *vm)
{
	const char *src = vmm_config_rng_src(vm->cfg);
	struct virtio_device *vdev;
	int r;

	r = virtio_rng_new(src, vm->mem, &vdev);
	if (r < 0)
		return log_error_errno(r, "--rng: cannot use '%s' as entropy source: %s", src, strerror(-r));
	return vm_add_virtio(vm, vdev);
}

/* The tap of --net n: fd= adopts duplicates (the originals stay for the next boot after a reboot);
 * a named or new tap gets the host-side settings and is brought up. */
static int open_tap(const struct net_config *n, const char *what, struct tap **ret)
{
	_cleanup_(tap_freep) struct tap *t = NULL;
	int r;

	if (n->n_fds > 0) {
		int fds[VMM_NET_NUM_QUEUES_MAX / 2];

		for (size_t i = 0; i < n->n_fds; i++) {
			fds[i] = fcntl(n->fds[i], F_DUPFD_CLOEXEC, 3);
			if (fds[i] < 0) {
				r = log_error_errno(errno, "--net %s: fd %d is not open: %s", what, n->fds[i],
						    strerror(errno));
				while (i > 0)
					safe_close(fds[--i]);
				return r;
			}
		}
		r = tap_adopt(fds, (unsigned)n->n_fds, ret);
		if (r < 0) {
			for (size_t i = 0; i < n->n_fds; i++)
				safe_close(fds[i]);
			return log_error_errno(r, "--net %s: the fds are not queues of one tap with IFF_NO_PI and "
						  "IFF_VNET_HDR (IFF_MULTI_QUEUE for several)", what);
		}
		return 0;
	}
	r = tap_open(n->tap ? n->tap : VMM_NET_TAP_DEFAULT, n->num_queues / 2, &t);
	if (r < 0)
		return log_error_errno(r, "--net %s: cannot open tap '%s' with %u queues: %s%s", what,
				       n->tap ? n->tap : VMM_NET_TAP_DEFAULT, n->num_queues / 2, strerror(-r),
				       r == -EPERM ? " (needs CAP_NET_ADMIN, or a tap made for this user)"
				       : r == -EINVAL ? " (an existing tap of another kind or queue count?)" : "");
	if (n->ip_set) {
		struct in_addr a = {.s_addr = n->ip};
		r = tap_set_ipv4(t, a, (unsigned)__builtin_popcount(n->mask));
		if (r < 0)
			return log_error_errno(r, "--net %s: cannot set ip= on tap '%s': %s", what, tap_name(t),
					       strerror(-r));
	}
	if (n->host_mac_set && (r = tap_set_mac(t, n->host_mac)) < 0)
		return log_error_errno(r, "--net %s: cannot set host_mac= on tap '%s': %s", what, tap_name(t),
				       strerror(-r));
	r = tap_set_up(t, true);
	if (r < 0)
		return log_error_errno(r, "--net %s: cannot bring tap '%s' up: %s", what, tap_name(t), strerror(-r));
	*ret = TAKE_PTR(t);
	return 0;
}

static int add_net(struct vm *vm, const struct net_config *n, size_t index)
{
	struct virtio_net_params params = {
	    .queue_size = (uint16_t)n->queue_size,
	    .offload_csum = n->offload_csum,
	    .offload_tso = n->offload_tso,
	    .offload_ufo = n->offload_ufo,
	};
	struct virtio_device *vdev;
	char what[64], mac[MAC_STRING_MAX];
	struct tap *t;
	int r;

	if (n->id)
		snprintf(what, sizeof(what), "id=%s", n->id);
	else
		snprintf(what, sizeof(what), "#%zu", index + 1);
	r = open_tap(n, what, &t);
	if (r < 0)
		return r;
	memcpy(params.mac, n->mac, MAC_LEN);
	r = virtio_net_new(&params, t, vm->mem, &vdev);
	if (r < 0) {
		tap_free(t);
		return log_error_errno(r, "--net %s: cannot create the virtio-net device: %s", what, strerror(-r));
	}
	log_info("--net %s: tap %s, %u queue pair(s), guest MAC %s", what, tap_name(t), n->num_queues / 2,
		 mac_format(n->mac, mac));
	return vm_add_virtio(vm, vdev);
}

static int add_console(struct vm *vm)
{
	struct virtio_device *vdev;
	int r;

	r = virtio_console_new(vm->console, vm->mem, &vdev);
	if (r < 0)
		return log_error_errno(r, "--console: cannot create the virtio console: %s", strerror(-r));
	return vm_add_virtio(vm, vdev);
}

static int add_vsock(struct vm *vm)
{
	const struct vsock_config *c = &vm->cfg->vsock;
	struct virtio_device *vdev;
	int r;

	r = virtio_vsock_new(c->cid, c->socket, vm->mem, &vdev);
	if (r == -EADDRINUSE)
		return log_error_errno(r, "--vsock: '%s' exists already: remove it if no other VM uses it", c->socket);
	if (r < 0)
		return log_error_errno(r, "--vsock: cannot listen on '%s': %s", c->socket, strerror(-r));
	return vm_add_virtio(vm, vdev);
}

int vm_pci_setup(struct vm *vm)
{
	uint64_t mmio64 = layout_pci_mmio64_start(ram_end(vm->mem));
	int r;

	r = pci_bus_new(mmio64, LAYOUT_PCI_MMIO64_SIZE, &vm->pci);
	if (r < 0)
		return log_error_errno(r, "cannot create the PCI bus: %s", strerror(-r));
	r = msi_routes_new(vm->vm_fd, &vm->msi);
	if (r < 0)
		return log_error_errno(r, "cannot create the MSI routing table: %s", strerror(-r));

	r = bus_register(&vm->pio, PORT_PCI_CONFIG_ADDRESS, 8, &pci_config_io_ops, vm->pci, "pci-config");
	if (r >= 0)
		r = bus_register(&vm->mmio, LAYOUT_PCI_ECAM_START, LAYOUT_PCI_ECAM_SIZE, &pci_ecam_ops, vm->pci,
				 "pci-ecam");
	if (r >= 0)
		r = bus_register(&vm->mmio, LAYOUT_PCI_MMIO32_START, LAYOUT_PCI_MMIO32_SIZE, &pci_window_ops,
				 &vm->pci->mmio32, "pci-mmio32");
	if (r >= 0)
		r = bus_register(&vm->mmio, mmio64, LAYOUT_PCI_MMIO64_SIZE, &pci_window_ops, &vm->pci->mmio64,
				 "pci-mmio64");
	if (r < 0)
		return log_error_errno(r, "cannot place the PCI config mechanisms and windows: %s", strerror(-r));

	if (vm->cfg->rng.enabled) {
		r = add_rng(vm);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < vm->cfg->n_nets; i++) {
		r = add_net(vm, &vm->cfg->nets[i], i);
		if (r < 0)
			return r;
	}
	if (vm->console) {
		r = add_console(vm);
		if (r < 0)
			return r;
	}
	if (vm->cfg->vsock.enabled) {
		r = add_vsock(vm);
		if (r < 0)
			return r;
	}
	return 0;
}

void vm_pci_free(struct vm *vm)
{
	/* Devices first: their I/O threads use the MSI-X routes and guest memory. */
	for (unsigned i = 0; i < vm->n_virtio; i++) {
		vm->virtio[i] = virtio_pci_free(vm->virtio[i]);
		vm->virtio_msix[i] = msix_kvm_free(vm->virtio_msix[i]);
	}
	vm->n_virtio = 0;
	vm->msi = msi_routes_free(vm->msi);
	vm->pci = pci_bus_free(vm->pci);
}
