/* SPDX-License-Identifier: Apache-2.0 */
/* One function's configuration space: the header image, write masks, BARs and capabilities. */
#include <string.h>

#include "pci/pci.h"

static const char *const pci_bar_type_table[_PCI_BAR_TYPE_MAX] = {
	[PCI_BAR_NONE] = "none",
	[PCI_BAR_MEM32] = "mem32",
	[PCI_BAR_MEM64] = "mem64",
};

const char *pci_bar_type_to_string(enum pci_bar_type t)
{
	if ((int)t < 0 || t >= _PCI_BAR_TYPE_MAX)
		return NULL;
	return pci_bar_type_table[t];
}

enum pci_bar_type pci_bar_type_from_string(const char *s)
{
	for (int i = 0; s && i < _PCI_BAR_TYPE_MAX; i++)
		if (strcmp(pci_bar_type_table[i], s) == 0)
			return i;
	return _PCI_BAR_TYPE_INVALID;
}

uint32_t pci_config_get(const struct pci_device *d, uint32_t offset, uint32_t len)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < len && offset + i < PCI_CONFIG_SIZE; i++)
		v |= (uint32_t)d->config[offset + i] << (8 * i);
	return v;
}

void pci_config_set(struct pci_device *d, uint32_t offset, uint64_t value, uint32_t len)
{
	for (uint32_t i = 0; i < len && offset + i < PCI_CONFIG_SIZE; i++)
		d->config[offset + i] = (uint8_t)(value >> (8 * i));
}

void pci_device_set_wmask(struct pci_device *d, uint32_t offset, uint64_t mask, uint32_t len)
{
	for (uint32_t i = 0; i < len && offset + i < PCI_CONFIG_SIZE; i++)
		d->wmask[offset + i] = (uint8_t)(mask >> (8 * i));
}

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id, const struct pci_device_ops *ops,
		     void *opaque)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->ops = ops;
	d->opaque = opaque;
	d->cap_free = PCI_HEADER_SIZE;
	pci_config_set(d, PCI_VENDOR_ID, vendor, 2);
	pci_config_set(d, PCI_DEVICE_ID, device, 2);
	pci_config_set(d, PCI_REVISION_ID, revision, 1);
	pci_config_set(d, PCI_CLASS_PROG, class_code, 3);
	pci_config_set(d, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor, 2);
	pci_config_set(d, PCI_SUBSYSTEM_ID, subsys_id, 2);
	/* No I/O BARs and no INTx: memory decoding, bus mastering and the INTx mask are all a guest
	 * can switch. */
	pci_device_set_wmask(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
	pci_device_set_wmask(d, PCI_INTERRUPT_LINE, 0xff, 1);
}

int pci_device_add_bar(struct pci_device *d, unsigned bar, enum pci_bar_type type, uint64_t size)
{
	if (bar >= PCI_NUM_BARS || size < 4096 || (size & (size - 1)) != 0)
		return -EINVAL;
	if (d->bars[bar].type != PCI_BAR_NONE || (bar > 0 && d->bars[bar - 1].type == PCI_BAR_MEM64))
		return -EBUSY;
	switch (type) {
	case PCI_BAR_MEM32:
		if (size > (1ULL << 31))
			return -EINVAL;
		pci_config_set(d, PCI_BAR0 + 4 * bar, 0, 4);
		pci_device_set_wmask(d, PCI_BAR0 + 4 * bar, ~(size - 1) & 0xfffffff0u, 4);
		break;
	case PCI_BAR_MEM64:
		if (bar + 1 >= PCI_NUM_BARS || d->bars[bar + 1].type != PCI_BAR_NONE)
			return -EINVAL;
		pci_config_set(d, PCI_BAR0 + 4 * bar, PCI_BAR_MEM_64, 4);
		pci_device_set_wmask(d, PCI_BAR0 + 4 * bar, ~(size - 1) & 0xfffffff0u, 4);
		pci_device_set_wmask(d, PCI_BAR0 + 4 * (bar + 1), ~(size - 1) >> 32, 4);
		break;
	case PCI_BAR_NONE:
	case _PCI_BAR_TYPE_MAX:
	case _PCI_BAR_TYPE_INVALID:
	default:
		return -EINVAL;
	}
	d->bars[bar] = (struct pci_bar){ .type = type, .size = size };
	return 0;
}

int pci_device_add_capability(struct pci_device *d, uint8_t id, uint8_t len)
{
	uint32_t off = (d->cap_free + 3u) & ~3u;

	if (len < 2 || off + len > PCI_CONFIG_LEGACY_SIZE)
		return -ENOSPC;
	d->config[off] = id;
	d->config[off + 1] = 0;
	if (d->last_cap)
		d->config[d->last_cap + 1] = (uint8_t)off;
	else
		d->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
	pci_config_set(d, PCI_STATUS, pci_config_get(d, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST, 2);
	d->last_cap = (uint8_t)off;
	d->cap_free = (uint16_t)(off + len);
	return (int)off;
}

bool pci_device_memory_enabled(const struct pci_device *d)
{
	return pci_config_get(d, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
}

uint64_t pci_device_bar_addr(const struct pci_device *d, unsigned bar)
{
	if (bar >= PCI_NUM_BARS)
		return 0;
	switch (d->bars[bar].type) {
	case PCI_BAR_MEM32:
		return pci_config_get(d, PCI_BAR0 + 4 * bar, 4) & 0xfffffff0u;
	case PCI_BAR_MEM64:
		return (pci_config_get(d, PCI_BAR0 + 4 * bar, 4) & 0xfffffff0u) |
		       (uint64_t)pci_config_get(d, PCI_BAR0 + 4 * (bar + 1), 4) << 32;
	case PCI_BAR_NONE:
	case _PCI_BAR_TYPE_MAX:
	case _PCI_BAR_TYPE_INVALID:
	default:
		return 0;
	}
}

static bool access_ok(uint32_t offset, uint32_t len)
{
	return (len == 1 || len == 2 || len == 4) && offset < PCI_CONFIG_SIZE && offset % len == 0;
}

void pci_device_config_read(struct pci_device *d, uint32_t offset, uint8_t *data, uint32_t len)
{
	if (!access_ok(offset, len)) {
		memset(data, 0xff, len);
		return;
	}
	if (d->ops && d->ops->config_read && d->ops->config_read(d, offset, data, len))
		return;
	memcpy(data, d->config + offset, len);
}

static bool overlaps(uint32_t offset, uint32_t len, uint32_t start, uint32_t end)
{
	return offset < end && start < offset + len;
}

void pci_device_config_write(struct pci_device *d, uint32_t offset, const uint8_t *data, uint32_t len)
{
	if (!access_ok(offset, len))
		return;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t *c = &d->config[offset + i];
		uint8_t m = d->wmask[offset + i];

		*c = (uint8_t)((*c & ~m) | (data[i] & m));
		*c &= (uint8_t)~(data[i] & d->w1cmask[offset + i]);
	}
	for (unsigned b = 0; b < PCI_NUM_BARS; b++)
		if (d->bars[b].type != PCI_BAR_NONE)
			d->bars[b].addr = pci_device_bar_addr(d, b);
	if (d->ops && d->ops->bars_changed &&
	    (overlaps(offset, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	     overlaps(offset, len, PCI_BAR0, PCI_BAR0 + 4 * PCI_NUM_BARS)))
		d->ops->bars_changed(d);
	if (d->ops && d->ops->config_written)
		d->ops->config_written(d, offset, len);
}
