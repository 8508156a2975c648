/* SPDX-License-Identifier: Apache-2.0 */
/* PCI config space through 0xCF8/0xCFC and ECAM, BAR sizing and decoding, read-only bits, MSI-X
 * table, masking and pending bits, and the MCFG table. */
#include <glib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "pci/msix.h"
#include "pci/pci.h"

#define MMIO64 0x4000000000ULL
#define N_VECTORS 3
#define TABLE_OFF 0x2000
#define PBA_OFF 0x3000

struct tdev {
	struct pci_device pci;
	struct msix msix;
	unsigned reads, writes, last_bar;
	uint64_t last_offset;
	unsigned changed;
	/* MSI-X recorder */
	unsigned fired[N_VECTORS];
	uint64_t route_addr[N_VECTORS];
	uint32_t route_data[N_VECTORS];
};

struct fixture {
	struct pci_bus *pci;
	struct bus pio, mmio;
	struct tdev dev;
};

static void dev_bar_read(struct pci_device *d, unsigned bar, uint64_t off, uint8_t *data, uint32_t len)
{
	struct tdev *t = d->opaque;

	t->reads++;
	t->last_bar = bar;
	t->last_offset = off;
	if (bar == 0 && off >= TABLE_OFF && off < PBA_OFF)
		msix_table_read(&t->msix, off - TABLE_OFF, data, len);
	else if (bar == 0 && off >= PBA_OFF)
		msix_pba_read(&t->msix, off - PBA_OFF, data, len);
	else
		memset(data, 0x5a, len);
}

static void dev_bar_write(struct pci_device *d, unsigned bar, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct tdev *t = d->opaque;

	t->writes++;
	t->last_bar = bar;
	t->last_offset = off;
	if (bar == 0 && off >= TABLE_OFF && off < PBA_OFF)
		msix_table_write(&t->msix, off - TABLE_OFF, data, len);
}

static void dev_config_written(struct pci_device *d, uint32_t offset, uint32_t len)
{
	struct tdev *t = d->opaque;
	msix_config_written(&t->msix, offset, len);
}

static void dev_bars_changed(struct pci_device *d)
{
	struct tdev *t = d->opaque;
	t->changed++;
}

static const struct pci_device_ops tdev_ops = {
	.bar_read = dev_bar_read,
	.bar_write = dev_bar_write,
	.config_written = dev_config_written,
	.bars_changed = dev_bars_changed,
};

static int rec_route(void *opaque, unsigned v, uint64_t addr, uint32_t data)
{
	struct tdev *t = opaque;
	t->route_addr[v] = addr;
	t->route_data[v] = data;
	return 0;
}

static void rec_fire(void *opaque, unsigned v)
{
	struct tdev *t = opaque;
	t->fired[v]++;
}

static const struct msix_ops rec_ops = { .route = rec_route, .fire = rec_fire };

static void setup(struct fixture *f, gconstpointer data)
{
	memset(f, 0, sizeof(*f));
	g_assert_cmpint(pci_bus_new(MMIO64, LAYOUT_PCI_MMIO64_SIZE, &f->pci), ==, 0);
	g_assert_cmpint(bus_register(&f->pio, PORT_PCI_CONFIG_ADDRESS, 8, &pci_config_io_ops, f->pci, "cf8"), ==, 0);
	g_assert_cmpint(bus_register(&f->mmio, LAYOUT_PCI_ECAM_START, LAYOUT_PCI_ECAM_SIZE, &pci_ecam_ops, f->pci,
				     "ecam"),
			==, 0);
	g_assert_cmpint(bus_register(&f->mmio, LAYOUT_PCI_MMIO32_START, LAYOUT_PCI_MMIO32_SIZE, &pci_window_ops,
				     &f->pci->mmio32, "mmio32"),
			==, 0);
	g_assert_cmpint(bus_register(&f->mmio, MMIO64, LAYOUT_PCI_MMIO64_SIZE, &pci_window_ops, &f->pci->mmio64,
				     "mmio64"),
			==, 0);

	struct tdev *t = &f->dev;
	pci_device_init(&t->pci, "test", 0x1234, 0x5678, 0xff0000, 2, 0x1234, 0x0001, &tdev_ops, t);
	g_assert_cmpint(pci_device_add_bar(&t->pci, 0, PCI_BAR_MEM32, 0x4000), ==, 0);
	g_assert_cmpint(pci_device_add_bar(&t->pci, 2, PCI_BAR_MEM64, 0x100000), ==, 0);
	g_assert_cmpint(msix_init(&t->msix, N_VECTORS, &rec_ops, t), ==, 0);
	g_assert_cmpint(msix_add_capability(&t->msix, &t->pci, 0, TABLE_OFF, PBA_OFF), >=, PCI_HEADER_SIZE);
	g_assert_cmpint(pci_bus_add(f->pci, &t->pci), ==, 0);
	g_assert_cmpuint(t->pci.slot, ==, 1);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	msix_done(&f->dev.msix);
	f->pci = pci_bus_free(f->pci);
}

static uint32_t cf8_read(struct fixture *f, unsigned slot, unsigned reg, unsigned len)
{
	uint32_t addr = 0x80000000u | slot << 11 | (reg & 0xfc), v = 0;
	g_assert_true(bus_write(&f->pio, PORT_PCI_CONFIG_ADDRESS, (uint8_t *)&addr, 4));
	g_assert_true(bus_read(&f->pio, PORT_PCI_CONFIG_DATA + (reg & 3), (uint8_t *)&v, len));
	return v;
}

static void cf8_write(struct fixture *f, unsigned slot, unsigned reg, uint32_t v, unsigned len)
{
	uint32_t addr = 0x80000000u | slot << 11 | (reg & 0xfc);
	g_assert_true(bus_write(&f->pio, PORT_PCI_CONFIG_ADDRESS, (uint8_t *)&addr, 4));
	g_assert_true(bus_write(&f->pio, PORT_PCI_CONFIG_DATA + (reg & 3), (uint8_t *)&v, len));
}

static uint64_t ecam(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return LAYOUT_PCI_ECAM_START + ((uint64_t)bus << 20 | slot << 15 | fn << 12 | reg);
}

static uint32_t ecam_read(struct fixture *f, unsigned slot, unsigned reg, unsigned len)
{
	uint32_t v = 0;
	g_assert_true(bus_read(&f->mmio, ecam(0, slot, 0, reg), (uint8_t *)&v, len));
	return v;
}

static void ecam_write(struct fixture *f, unsigned slot, unsigned reg, uint32_t v, unsigned len)
{
	g_assert_true(bus_write(&f->mmio, ecam(0, slot, 0, reg), (uint8_t *)&v, len));
}

static void test_host_bridge(struct fixture *f, gconstpointer data)
{
	g_assert_cmphex(cf8_read(f, 0, PCI_VENDOR_ID, 4), ==, 0x00081b36);
	g_assert_cmphex(cf8_read(f, 0, PCI_REVISION_ID, 4) >> 8, ==, PCI_CLASS_BRIDGE_HOST);
	g_assert_cmphex(ecam_read(f, 0, PCI_VENDOR_ID, 4), ==, 0x00081b36);
	/* Nothing of it is writable. */
	cf8_write(f, 0, PCI_COMMAND, 0xffff, 2);
	g_assert_cmphex(cf8_read(f, 0, PCI_COMMAND, 2), ==, PCI_COMMAND_MEMORY);
	cf8_write(f, 0, PCI_VENDOR_ID, 0, 4);
	g_assert_cmphex(ecam_read(f, 0, PCI_VENDOR_ID, 4), ==, 0x00081b36);
}

static void test_empty_slots(struct fixture *f, gconstpointer data)
{
	g_assert_cmphex(cf8_read(f, 31, 0, 4), ==, 0xffffffff);
	g_assert_cmphex(ecam_read(f, 2, 0, 4), ==, 0xffffffff);
	/* Other functions and buses: nothing there. */
	uint32_t v = 0;
	g_assert_true(bus_read(&f->mmio, ecam(0, 1, 1, 0), (uint8_t *)&v, 4));
	g_assert_cmphex(v, ==, 0xffffffff);
	g_assert_true(bus_read(&f->mmio, ecam(1, 0, 0, 0), (uint8_t *)&v, 4));
	g_assert_cmphex(v, ==, 0xffffffff);
	/* Writes there go nowhere, and reach no other device. */
	v = 0;
	g_assert_true(bus_write(&f->mmio, ecam(1, 1, 0, PCI_COMMAND), (uint8_t *)&v, 2));
	g_assert_cmphex(cf8_read(f, 1, PCI_VENDOR_ID, 4), ==, 0x56781234);
}

static void test_cf8_latch(struct fixture *f, gconstpointer data)
{
	uint32_t v = 0x80000000u | 1 << 11, got = 0;
	uint8_t b = 0;

	g_assert_true(bus_write(&f->pio, PORT_PCI_CONFIG_ADDRESS, (uint8_t *)&v, 4));
	g_assert_true(bus_read(&f->pio, PORT_PCI_CONFIG_ADDRESS, (uint8_t *)&got, 4));
	g_assert_cmphex(got, ==, v);
	/* Byte accesses do not touch the latch (Linux's type 1 probe relies on it). */
	g_assert_true(bus_write(&f->pio, PORT_PCI_CONFIG_ADDRESS + 3, &b, 1));
	g_assert_true(bus_read(&f->pio, PORT_PCI_CONFIG_ADDRESS, (uint8_t *)&got, 4));
	g_assert_cmphex(got, ==, v);
	/* Enable bit clear: data reads all-ones. */
	v = 1 << 11;
	g_assert_true(bus_write(&f->pio, PORT_PCI_CONFIG_ADDRESS, (uint8_t *)&v, 4));
	g_assert_true(bus_read(&f->pio, PORT_PCI_CONFIG_DATA, (uint8_t *)&got, 4));
	g_assert_cmphex(got, ==, 0xffffffff);
	/* Byte and word reads inside the dword */
	g_assert_cmphex(cf8_read(f, 1, PCI_DEVICE_ID, 2), ==, 0x5678);
	g_assert_cmphex(cf8_read(f, 1, PCI_REVISION_ID, 1), ==, 2);
	g_assert_cmphex(cf8_read(f, 1, PCI_CLASS_DEVICE + 1, 1), ==, 0xff);
}

static void test_read_only(struct fixture *f, gconstpointer data)
{
	uint8_t before[PCI_CONFIG_SIZE];

	memcpy(before, f->dev.pci.config, sizeof(before));
	for (unsigned reg = 0; reg < PCI_CONFIG_SIZE; reg += 4)
		ecam_write(f, 1, reg, 0xffffffff, 4);
	for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++) {
		uint8_t ro = (uint8_t)~f->dev.pci.wmask[i];
		if ((f->dev.pci.config[i] & ro) != (before[i] & ro))
			g_error("read-only bits of config byte 0x%x changed: 0x%02x -> 0x%02x", i, before[i],
				f->dev.pci.config[i]);
	}
	g_assert_cmphex(ecam_read(f, 1, PCI_VENDOR_ID, 4), ==, 0x56781234);
	g_assert_cmphex(ecam_read(f, 1, PCI_COMMAND, 2), ==,
			PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	g_assert_cmphex(ecam_read(f, 1, PCI_INTERRUPT_PIN, 1), ==, 0);
	g_assert_cmphex(ecam_read(f, 1, PCI_ROM_ADDRESS, 4), ==, 0); /* no ROM */
	/* Misaligned accesses are dropped. */
	g_assert_cmphex(ecam_read(f, 1, PCI_VENDOR_ID + 1, 2), ==, 0xffff);
}

static void test_bar_sizing(struct fixture *f, gconstpointer data)
{
	/* Placed by the bus: BAR 0 in the 32-bit window, BAR 2 (64-bit) above 4 GiB. */
	g_assert_cmphex(cf8_read(f, 1, PCI_BAR0, 4), ==, LAYOUT_PCI_MMIO32_START);
	g_assert_cmphex(cf8_read(f, 1, PCI_BAR0 + 8, 4), ==, (uint32_t)MMIO64 | PCI_BAR_MEM_64);
	g_assert_cmphex(cf8_read(f, 1, PCI_BAR0 + 12, 4), ==, MMIO64 >> 32);

	cf8_write(f, 1, PCI_BAR0, 0xffffffff, 4);
	g_assert_cmphex(cf8_read(f, 1, PCI_BAR0, 4), ==, ~(0x4000u - 1));
	cf8_write(f, 1, PCI_BAR0 + 8, 0xffffffff, 4);
	cf8_write(f, 1, PCI_BAR0 + 12, 0xffffffff, 4);
	g_assert_cmphex(cf8_read(f, 1, PCI_BAR0 + 8, 4), ==, ~(0x100000u - 1) | PCI_BAR_MEM_64);
	g_assert_cmphex(cf8_read(f, 1, PCI_BAR0 + 12, 4), ==, 0xffffffff);
	/* Unused BARs size as 0. */
	cf8_write(f, 1, PCI_BAR0 + 4, 0xffffffff, 4);
	g_assert_cmphex(cf8_read(f, 1, PCI_BAR0 + 4, 4), ==, 0);
	cf8_write(f, 1, PCI_BAR0 + 20, 0xffffffff, 4);
	g_assert_cmphex(cf8_read(f, 1, PCI_BAR0 + 20, 4), ==, 0);
	/* Low bits below the size are dropped when programming. */
	cf8_write(f, 1, PCI_BAR0, LAYOUT_PCI_MMIO32_START + 0x10000 + 0x123, 4);
	g_assert_cmphex(pci_device_bar_addr(&f->dev.pci, 0), ==, LAYOUT_PCI_MMIO32_START + 0x10000);
	g_assert_cmpuint(f->dev.changed, >, 0);

	g_assert_cmpint(pci_device_add_bar(&f->dev.pci, 1, PCI_BAR_MEM32, 0x1000), ==, 0);
	g_assert_cmpint(pci_device_add_bar(&f->dev.pci, 3, PCI_BAR_MEM32, 0x1000), ==, -EBUSY);
	g_assert_cmpint(pci_device_add_bar(&f->dev.pci, 4, PCI_BAR_MEM32, 0x1800), ==, -EINVAL);
	g_assert_cmpint(pci_device_add_bar(&f->dev.pci, 5, PCI_BAR_MEM64, 0x1000), ==, -EINVAL);
}

static void test_bar_decoding(struct fixture *f, gconstpointer data)
{
	uint8_t buf[4];
	uint32_t v = 0;

	/* Memory decoding off: nobody answers. */
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START, buf, 4));
	g_assert_cmphex(buf[0], ==, 0xff);
	g_assert_cmpuint(f->dev.reads, ==, 0);

	cf8_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START + 0x10, buf, 4));
	g_assert_cmphex(buf[0], ==, 0x5a);
	g_assert_cmpuint(f->dev.last_bar, ==, 0);
	g_assert_cmpuint(f->dev.last_offset, ==, 0x10);
	g_assert_true(bus_write(&f->mmio, MMIO64 + 0x20, (uint8_t *)&v, 4));
	g_assert_cmpuint(f->dev.last_bar, ==, 2);
	g_assert_cmpuint(f->dev.last_offset, ==, 0x20);

	/* Past the BAR's end and straddling it: not the device's. */
	unsigned reads = f->dev.reads;
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START + 0x4000, buf, 4));
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START + 0x3ffe, buf, 4));
	g_assert_cmphex(buf[0], ==, 0xff);
	g_assert_cmpuint(f->dev.reads, ==, reads);

	/* Moved by the guest: decoded at the new place only. */
	cf8_write(f, 1, PCI_BAR0, LAYOUT_PCI_MMIO32_START + 0x100000, 4);
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START + 0x100004, buf, 4));
	g_assert_cmpuint(f->dev.reads, ==, reads + 1);
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START + 4, buf, 4));
	g_assert_cmpuint(f->dev.reads, ==, reads + 1);
}

static void table_write(struct fixture *f, unsigned v, unsigned field, uint32_t value)
{
	uint64_t a = LAYOUT_PCI_MMIO32_START + TABLE_OFF + v * MSIX_ENTRY_SIZE + field;
	g_assert_true(bus_write(&f->mmio, a, (uint8_t *)&value, 4));
}

static uint32_t pba(struct fixture *f)
{
	uint32_t p = 0;
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START + PBA_OFF, (uint8_t *)&p, 4));
	return p;
}

static void test_msix(struct fixture *f, gconstpointer data)
{
	struct tdev *t = &f->dev;
	unsigned cap = t->msix.cap;
	uint32_t v;

	cf8_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	g_assert_cmphex(ecam_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, !=, 0);
	g_assert_cmphex(ecam_read(f, 1, PCI_CAPABILITY_LIST, 1), ==, cap);
	g_assert_cmphex(ecam_read(f, 1, cap, 1), ==, PCI_CAP_ID_MSIX);
	g_assert_cmphex(ecam_read(f, 1, cap + 2, 2), ==, N_VECTORS - 1);
	g_assert_cmphex(ecam_read(f, 1, cap + 4, 4), ==, TABLE_OFF | 0);
	g_assert_cmphex(ecam_read(f, 1, cap + 8, 4), ==, PBA_OFF | 0);
	/* Table size is read-only */
	ecam_write(f, 1, cap + 2, 0x07ff, 2);
	g_assert_cmphex(ecam_read(f, 1, cap + 2, 2), ==, N_VECTORS - 1);

	/* After reset every vector is masked. */
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START + TABLE_OFF + 12, (uint8_t *)&v, 4));
	g_assert_cmphex(v, ==, MSIX_ENTRY_MASKED);

	/* Disabled: a notification stays pending. */
	g_assert_false(msix_notify(&t->msix, 1));
	g_assert_cmphex(pba(f), ==, 1u << 1);

	table_write(f, 1, 0, 0xfee00000);
	table_write(f, 1, 4, 0);
	table_write(f, 1, 8, 0x4041);
	table_write(f, 1, 12, 0); /* unmask vector 1, but MSI-X is still disabled */
	g_assert_cmpuint(t->fired[1], ==, 0);

	/* Enable with the function masked: still pending. */
	ecam_write(f, 1, cap + 2, MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL, 2);
	g_assert_cmpuint(t->fired[1], ==, 0);
	g_assert_false(msix_notify(&t->msix, 1));
	/* Function unmasked: the pending vector is routed and delivered, its bit cleared. */
	ecam_write(f, 1, cap + 2, MSIX_CONTROL_ENABLE, 2);
	g_assert_cmpuint(t->fired[1], ==, 1);
	g_assert_cmphex(t->route_addr[1], ==, 0xfee00000);
	g_assert_cmphex(t->route_data[1], ==, 0x4041);
	g_assert_cmphex(pba(f), ==, 0);

	g_assert_true(msix_notify(&t->msix, 1));
	g_assert_cmpuint(t->fired[1], ==, 2);
	/* Vector 0 is still masked */
	g_assert_false(msix_notify(&t->msix, 0));
	g_assert_cmphex(pba(f), ==, 1u);
	g_assert_true(msix_is_pending(&t->msix, 0));
	/* Masking vector 1 again, then unmasking, with nothing pending: no spurious interrupt */
	table_write(f, 1, 12, 1);
	table_write(f, 1, 12, 0);
	g_assert_cmpuint(t->fired[1], ==, 2);
	/* Only the mask bit of vector control sticks. */
	table_write(f, 2, 12, 0xfffffffe);
	g_assert_true(bus_read(&f->mmio, LAYOUT_PCI_MMIO32_START + TABLE_OFF + 2 * 16 + 12, (uint8_t *)&v, 4));
	g_assert_cmphex(v, ==, 0);
	/* Vectors that do not exist: nothing happens */
	g_assert_false(msix_notify(&t->msix, N_VECTORS));
	/* The PBA is read-only, and accesses past the table read all-ones. */
	v = 0xffffffff;
	g_assert_true(bus_write(&f->mmio, LAYOUT_PCI_MMIO32_START + PBA_OFF, (uint8_t *)&v, 4));
	g_assert_cmphex(pba(f), ==, 1u);
	uint8_t b[4];
	msix_table_read(&t->msix, N_VECTORS * MSIX_ENTRY_SIZE, b, 4);
	g_assert_cmphex(b[0], ==, 0xff);
	msix_table_read(&t->msix, 2, b, 2); /* not 4 or 8 bytes */
	g_assert_cmphex(b[0], ==, 0xff);
}

static void test_bar_type_table(void)
{
	for (int i = 0; i < _PCI_BAR_TYPE_MAX; i++) {
		const char *s = pci_bar_type_to_string(i);
		g_assert_nonnull(s);
		g_assert_cmpint(pci_bar_type_from_string(s), ==, i);
	}
	g_assert_null(pci_bar_type_to_string(_PCI_BAR_TYPE_MAX));
	g_assert_null(pci_bar_type_to_string(_PCI_BAR_TYPE_INVALID));
	g_assert_cmpint(pci_bar_type_from_string("io"), ==, _PCI_BAR_TYPE_INVALID);
	g_assert_cmpint(pci_bar_type_from_string(NULL), ==, _PCI_BAR_TYPE_INVALID);
}

static void test_bus_full(void)
{
	struct pci_bus *b;
	static struct pci_device devs[PCI_SLOTS];

	g_assert_cmpint(pci_bus_new(MMIO64, LAYOUT_PCI_MMIO64_SIZE, &b), ==, 0);
	for (unsigned i = 1; i < PCI_SLOTS; i++) {
		pci_device_init(&devs[i], "d", 0x1234, (uint16_t)i, 0, 0, 0, 0, NULL, NULL);
		g_assert_cmpint(pci_bus_add(b, &devs[i]), ==, 0);
	}
	pci_device_init(&devs[0], "d", 0x1234, 0, 0, 0, 0, 0, NULL, NULL);
	g_assert_cmpint(pci_bus_add(b, &devs[0]), ==, -ENOSPC);
	pci_bus_free(b);

	/* A BAR larger than its window */
	g_assert_cmpint(pci_bus_new(MMIO64, 0x100000, &b), ==, 0);
	pci_device_init(&devs[0], "d", 0x1234, 0, 0, 0, 0, 0, NULL, NULL);
	g_assert_cmpint(pci_device_add_bar(&devs[0], 0, PCI_BAR_MEM64, 0x200000), ==, 0);
	g_assert_cmpint(pci_bus_add(b, &devs[0]), ==, -ENOSPC);
	pci_bus_free(b);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void test_mcfg(void)
{
	struct acpi_config cfg = { .n_cpus_boot = 1, .n_cpus_max = 1, .pci = true, .pci_mmio64_start = MMIO64,
				   .pci_mmio64_size = LAYOUT_PCI_MMIO64_SIZE };
	g_autofree uint8_t *buf = g_malloc0(LAYOUT_ACPI_SIZE);
	size_t used;
	bool found = false;

	g_assert_cmpint(acpi_build(&cfg, LAYOUT_ACPI_START, buf, LAYOUT_ACPI_SIZE, &used), ==, 0);
	const uint8_t *x = buf + (rd64(buf + 24) - LAYOUT_ACPI_START);
	g_assert_cmpmem(x, 4, "XSDT", 4);
	g_assert_cmpuint((rd32(x + 4) - 36) / 8, ==, 3);
	for (uint32_t i = 36; i < rd32(x + 4); i += 8) {
		const uint8_t *t = buf + (rd64(x + i) - LAYOUT_ACPI_START);
		uint8_t sum = 0;

		if (memcmp(t, "MCFG", 4) != 0)
			continue;
		found = true;
		g_assert_cmpuint(rd32(t + 4), ==, 60);
		for (unsigned j = 0; j < 60; j++)
			sum = (uint8_t)(sum + t[j]);
		g_assert_cmpuint(sum, ==, 0);
		g_assert_cmphex(rd64(t + 44), ==, LAYOUT_PCI_ECAM_START);
		g_assert_cmpuint(t[52] | t[53] << 8, ==, 0); /* segment */
		g_assert_cmpuint(t[54], ==, 0);
		g_assert_cmpuint(t[55], ==, 255);
	}
	g_assert_true(found);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/pci/" name, struct fixture, NULL, setup, fn, teardown)
	T("host-bridge", test_host_bridge);
	T("empty-slots", test_empty_slots);
	T("cf8-latch", test_cf8_latch);
	T("read-only", test_read_only);
	T("bar-sizing", test_bar_sizing);
	T("bar-decoding", test_bar_decoding);
	T("msix", test_msix);
	g_test_add_func("/pci/bar-type-table", test_bar_type_table);
	g_test_add_func("/pci/bus-full", test_bus_full);
	g_test_add_func("/pci/mcfg", test_mcfg);
	return g_test_run();
}
