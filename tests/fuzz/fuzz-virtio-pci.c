/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the virtio-pci register path: a real virtio-rng (entropy from /dev/zero,
 * so runs repeat) behind the modern PCI transport, driven by a script of guest accesses of any
 * offset, size and value: BAR 0 reads and writes (common config, ISR, device config, notify, MSI-X
 * table and PBA), config space reads and writes (capabilities, the PCI_CFG window, MSI-X message
 * control) and writes to guest RAM, where queues the script enables may lie. Each input gets a
 * new device, its I/O thread serving the kicks. Build and input layout: tests/fuzz/README.md. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/virtio/pci-modern.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio.h"
#include "memory/guest-memory.h"
#include "pci/msix.h"
#include "pci/pci.h"

#define RAM (16ULL << 20)
#define WINDOW 0x10000
#define OP_SIZE 12
#define MAX_OPS 512

enum {
	OP_BAR_READ,
	OP_BAR_WRITE,
	OP_CONFIG_READ,
	OP_CONFIG_WRITE,
	OP_RAM_WRITE,
	_OP_MAX,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_memory *mem;

static int route(void *opaque, unsigned vector, uint64_t addr, uint32_t value)
{
	return 0;
}

static void fire(void *opaque, unsigned vector)
{
}

static const struct msix_ops msix_ops = {.route = route, .fire = fire};

/* One access of the script: kind, offset (le16), length (1 .. 8), value (8 bytes). */
static void run_op(struct virtio_pci *p, const uint8_t *op)
{
	struct pci_device *d = &p->pci;
	uint32_t off = (uint32_t)(op[1] | op[2] << 8);
	uint32_t len = op[3] % 8 + 1;
	uint8_t buf[8];

	memcpy(buf, op + 4, sizeof(buf));
	switch (op[0] % _OP_MAX) {
	case OP_BAR_READ:
	case OP_BAR_WRITE:
		/* The bus forwards only accesses that lie wholly inside the BAR (pci-bus.c find_bar()). */
		off %= VIRTIO_PCI_BAR_SIZE;
		if (len > VIRTIO_PCI_BAR_SIZE - off)
			break;
		if (op[0] % _OP_MAX == OP_BAR_READ)
			d->ops->bar_read(d, VIRTIO_PCI_BAR, off, buf, len);
		else
			d->ops->bar_write(d, VIRTIO_PCI_BAR, off, buf, len);
		break;
	case OP_CONFIG_READ:
		pci_device_config_read(d, off % PCI_CONFIG_SIZE, buf, len > 4 ? 4 : len);
		break;
	case OP_CONFIG_WRITE:
		/* As the bus does it: the device sees the write once the masks let it through. */
		off %= PCI_CONFIG_SIZE;
		len = len > 4 ? 4 : len;
		pci_device_config_write(d, off, buf, len);
		break;
	case OP_RAM_WRITE:
		memcpy(mem->regions[0].hva + (off % (WINDOW / 8)) * 8, buf, sizeof(buf));
		break;
	default:
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_device *v;
	struct virtio_pci *p;

	if (!mem && guest_memory_new(RAM, &mem) < 0)
		return 0;
	memset(mem->regions[0].hva, 0, WINDOW);
	if (virtio_rng_new("/dev/zero", mem, &v) < 0 || virtio_pci_new(v, &msix_ops, NULL, -1, &p) < 0)
		return 0;
	for (size_t n = 0; n < MAX_OPS && size >= OP_SIZE; n++, data += OP_SIZE, size -= OP_SIZE)
		run_op(p, data);
	/* Whatever the guest wrote, the identity registers stay read-only. */
	if (pci_config_get(&p->pci, PCI_VENDOR_ID, 2) != VIRTIO_PCI_VENDOR ||
	    pci_config_get(&p->pci, PCI_DEVICE_ID, 2) != VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_RNG)
		__builtin_trap();
	virtio_pci_free(p);
	return 0;
}
