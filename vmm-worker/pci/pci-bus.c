/* SPDX-License-Identifier: Apache-2.0 */
/* Bus 0 of segment 0: config mechanism #1 (0xCF8/0xCFC), ECAM, the host bridge, BAR placement and
 * the decoding of the BAR windows. */
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "macro.h"
#include "pci/pci.h"

/* 0xCF8 address latch (PCI Local Bus 3.0, 3.2.2.3.2) */
#define CONFIG_ADDRESS_ENABLE 0x80000000u
#define CONFIG_ADDRESS_BUS(a) (((a) >> 16) & 0xff)
#define CONFIG_ADDRESS_SLOT(a) (((a) >> 11) & 0x1f)
#define CONFIG_ADDRESS_FN(a) (((a) >> 8) & 0x7)
#define CONFIG_ADDRESS_REG(a) ((a) & 0xfc)
/* ECAM offset: bus[27:20] device[19:15] function[14:12] register[11:0] */
#define ECAM_BUS(o) (((o) >> 20) & 0xff)
#define ECAM_SLOT(o) (((o) >> 15) & 0x1f)
#define ECAM_FN(o) (((o) >> 12) & 0x7)
#define ECAM_REG(o) ((o) & 0xfff)

int pci_bus_new(uint64_t mmio64_start, uint64_t mmio64_size, struct pci_bus **ret)
{
	struct pci_bus *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	b->mmio32 = (struct pci_window){ .bus = b, .base = LAYOUT_PCI_MMIO32_START, .size = LAYOUT_PCI_MMIO32_SIZE,
					 .next = LAYOUT_PCI_MMIO32_START };
	b->mmio64 = (struct pci_window){ .bus = b, .base = mmio64_start, .size = mmio64_size, .next = mmio64_start };
	pci_device_init(&b->host_bridge, "host-bridge", PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE,
			PCI_CLASS_BRIDGE_HOST, 0, PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE, NULL, NULL);
	/* A host bridge decodes memory by definition; nothing about it is the guest's to change. */
	pci_config_set(&b->host_bridge, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	memset(b->host_bridge.wmask, 0, sizeof(b->host_bridge.wmask));
	b->host_bridge.bus = b;
	b->slots[0] = &b->host_bridge;
	*ret = b;
	return 0;
}

struct pci_bus *pci_bus_free(struct pci_bus *b)
{
	if (!b)
		return NULL;
	pthread_mutex_destroy(&b->lock);
	free(b);
	return NULL;
}

static int place_bar(struct pci_window *w, struct pci_device *d, unsigned bar)
{
	uint64_t size = d->bars[bar].size;
	uint64_t addr = ALIGN_UP(w->next, size);

	if (addr < w->next || addr - w->base > w->size || size > w->size - (addr - w->base))
		return -ENOSPC;
	w->next = addr + size;
	pci_config_set(d, PCI_BAR0 + 4 * bar, (pci_config_get(d, PCI_BAR0 + 4 * bar, 4) & 0xf) | (uint32_t)addr, 4);
	if (d->bars[bar].type == PCI_BAR_MEM64)
		pci_config_set(d, PCI_BAR0 + 4 * (bar + 1), addr >> 32, 4);
	d->bars[bar].addr = addr;
	return 0;
}

int pci_bus_add(struct pci_bus *b, struct pci_device *d)
{
	unsigned slot;
	int r = 0;

	pthread_mutex_lock(&b->lock);
	for (slot = 1; slot < PCI_SLOTS && b->slots[slot]; slot++)
		;
	if (slot == PCI_SLOTS)
		r = -ENOSPC;
	for (unsigned i = 0; r >= 0 && i < PCI_NUM_BARS; i++) {
		switch (d->bars[i].type) {
		case PCI_BAR_MEM32:
			r = place_bar(&b->mmio32, d, i);
			break;
		case PCI_BAR_MEM64:
			r = place_bar(&b->mmio64, d, i);
			break;
		case PCI_BAR_NONE:
		case _PCI_BAR_TYPE_MAX:
		case _PCI_BAR_TYPE_INVALID:
		default:
			break;
		}
	}
	if (r >= 0) {
		d->bus = b;
		d->slot = slot;
		b->slots[slot] = d;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

static struct pci_device *lookup(struct pci_bus *b, unsigned bus, unsigned slot, unsigned fn)
{
	if (bus != 0 || fn != 0 || slot >= PCI_SLOTS)
		return NULL;
	return b->slots[slot];
}

void pci_bus_config_read(struct pci_bus *b, unsigned bus, unsigned slot, unsigned fn, uint32_t offset,
			 uint8_t *data, uint32_t len)
{
	pthread_mutex_lock(&b->lock);
	struct pci_device *d = lookup(b, bus, slot, fn);
	if (d)
		pci_device_config_read(d, offset, data, len);
	else {
		memset(data, 0xff, len);
		b->unhandled++;
	}
	pthread_mutex_unlock(&b->lock);
}

void pci_bus_config_write(struct pci_bus *b, unsigned bus, unsigned slot, unsigned fn, uint32_t offset,
			  const uint8_t *data, uint32_t len)
{
	pthread_mutex_lock(&b->lock);
	struct pci_device *d = lookup(b, bus, slot, fn);
	if (d)
		pci_device_config_write(d, offset, data, len);
	else
		b->unhandled++;
	pthread_mutex_unlock(&b->lock);
}

/* Ports 0xCF8-0xCFF: offset 0-3 the latch (dword accesses only, as chipsets decode it), 4-7 data. */
static void config_io_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct pci_bus *b = opaque;

	if (offset < 4) {
		uint32_t a;

		pthread_mutex_lock(&b->lock);
		a = b->config_address;
		pthread_mutex_unlock(&b->lock);
		if (offset == 0 && len == 4)
			memcpy(data, &a, 4);
		else
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&b->lock);
	uint32_t a = b->config_address;
	pthread_mutex_unlock(&b->lock);
	if (!(a & CONFIG_ADDRESS_ENABLE) || (offset - 4) % len != 0) {
		memset(data, 0xff, len);
		return;
	}
	pci_bus_config_read(b, CONFIG_ADDRESS_BUS(a), CONFIG_ADDRESS_SLOT(a), CONFIG_ADDRESS_FN(a),
			    CONFIG_ADDRESS_REG(a) + (uint32_t)(offset - 4), data, len);
}

static void config_io_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct pci_bus *b = opaque;

	if (offset < 4) {
		if (offset == 0 && len == 4) {
			pthread_mutex_lock(&b->lock);
			/* Bits 30:24 are reserved (AMD's extended register bits included): ignored. */
			memcpy(&b->config_address, data, 4);
			b->config_address &= CONFIG_ADDRESS_ENABLE | 0x00fffffcu;
			pthread_mutex_unlock(&b->lock);
		}
		return;
	}
	pthread_mutex_lock(&b->lock);
	uint32_t a = b->config_address;
	pthread_mutex_unlock(&b->lock);
	if (!(a & CONFIG_ADDRESS_ENABLE) || (offset - 4) % len != 0)
		return;
	pci_bus_config_write(b, CONFIG_ADDRESS_BUS(a), CONFIG_ADDRESS_SLOT(a), CONFIG_ADDRESS_FN(a),
			     CONFIG_ADDRESS_REG(a) + (uint32_t)(offset - 4), data, len);
}

const struct bus_ops pci_config_io_ops = {
	.read = config_io_read,
	.write = config_io_write,
};

static void ecam_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	pci_bus_config_read(opaque, ECAM_BUS(offset), ECAM_SLOT(offset), ECAM_FN(offset), ECAM_REG(offset), data,
			    len);
}

static void ecam_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	pci_bus_config_write(opaque, ECAM_BUS(offset), ECAM_SLOT(offset), ECAM_FN(offset), ECAM_REG(offset),
			     data, len);
}

const struct bus_ops pci_ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
};

/* The BAR that decodes [addr, addr+len), if any. */
static struct pci_device *find_bar(struct pci_bus *b, uint64_t addr, uint32_t len, unsigned *ret_bar,
				   uint64_t *ret_offset)
{
	struct pci_device *found = NULL;

	pthread_mutex_lock(&b->lock);
	for (unsigned s = 1; s < PCI_SLOTS && !found; s++) {
		struct pci_device *d = b->slots[s];

		if (!d || !pci_device_memory_enabled(d))
			continue;
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			const struct pci_bar *bar = &d->bars[i];

			if (bar->type == PCI_BAR_NONE || bar->addr == 0 || addr < bar->addr ||
			    addr - bar->addr >= bar->size || len > bar->size - (addr - bar->addr))
				continue;
			found = d;
			*ret_bar = i;
			*ret_offset = addr - bar->addr;
			break;
		}
	}
	if (!found)
		b->unhandled++;
	pthread_mutex_unlock(&b->lock);
	return found;
}

/* Reads and writes alike: find the BAR, then call the device without the bus lock. */
static void window_access(struct pci_window *w, uint64_t offset, uint8_t *rdata, const uint8_t *wdata,
			  uint32_t len)
{
	struct pci_device *d;
	uint64_t off;
	unsigned bar;

	d = find_bar(w->bus, w->base + offset, len, &bar, &off);
	if (rdata) {
		if (d && d->ops && d->ops->bar_read)
			d->ops->bar_read(d, bar, off, rdata, len);
		else
			memset(rdata, 0xff, len);
	} else if (d && d->ops && d->ops->bar_write)
		d->ops->bar_write(d, bar, off, wdata, len);
}

static void window_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	window_access(opaque, offset, data, NULL, len);
}

static void window_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	window_access(opaque, offset, NULL, data, len);
}

const struct bus_ops pci_window_ops = {
	.read = window_read,
	.write = window_write,
};
