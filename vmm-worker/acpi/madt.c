/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "acpi/acpi-internal.h"
#include "acpi/acpi.h"
#include "arch/x86/layout.h"

/* Multiple APIC Description Table, ACPI 6.5 5.2.12. Revision 5 is the first in which OSPM reads
 * the online-capable flag, which is how CPUs beyond the boot set become hot-pluggable. */
#define MADT_REVISION 5
#define MADT_PCAT_COMPAT (1u << 0) /* dual 8259s exist: KVM's in-kernel PIC */

#define MADT_TYPE_LOCAL_APIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_INT_SRC_OVERRIDE 2
#define MADT_TYPE_LOCAL_APIC_NMI 4

#define LAPIC_ENABLED (1u << 0)
#define LAPIC_ONLINE_CAPABLE (1u << 1)
#define NMI_ALL_PROCESSORS 0xff
#define NMI_LINT1 1

struct acpi_madt {
	struct acpi_table_header header;
	uint32_t local_apic_address;
	uint32_t flags;
} __attribute__((packed));

struct madt_local_apic {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type;
	uint8_t length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_int_src_override {
	uint8_t type;
	uint8_t length;
	uint8_t bus; /* 0: ISA */
	uint8_t source;
	uint32_t gsi;
	uint16_t flags; /* 0: conforms to the bus */
} __attribute__((packed));

struct madt_local_apic_nmi {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(sizeof(struct madt_local_apic) == 8, "MADT Local APIC");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT I/O APIC");
_Static_assert(sizeof(struct madt_int_src_override) == 10, "MADT Interrupt Source Override");
_Static_assert(sizeof(struct madt_local_apic_nmi) == 6, "MADT Local APIC NMI");

int acpi_build_madt(struct acpi_writer *w, const struct acpi_config *cfg, uint64_t *ret_gpa)
{
	size_t len = sizeof(struct acpi_madt) + cfg->n_cpus_max * sizeof(struct madt_local_apic) +
		     sizeof(struct madt_ioapic) + sizeof(struct madt_int_src_override) +
		     sizeof(struct madt_local_apic_nmi);
	struct acpi_madt *m;
	uint8_t *e;
	void *p;
	int r;

	if (cfg->n_cpus_max > ACPI_MAX_CPUS)
		return -EINVAL;
	r = acpi_writer_alloc(w, len, 8, &p, ret_gpa);
	if (r < 0)
		return r;
	m = p;
	acpi_table_init(&m->header, "APIC", (uint32_t)len, MADT_REVISION);
	m->local_apic_address = (uint32_t)LAYOUT_LAPIC_START;
	m->flags = MADT_PCAT_COMPAT;
	e = (uint8_t *)(m + 1);

	/* The processor UID matches the _UID of the CPU's device in the DSDT. */
	for (unsigned i = 0; i < cfg->n_cpus_max; i++) {
		struct madt_local_apic *l = (struct madt_local_apic *)e;
		*l = (struct madt_local_apic){
		    .type = MADT_TYPE_LOCAL_APIC,
		    .length = sizeof(*l),
		    .processor_uid = (uint8_t)i,
		    .apic_id = (uint8_t)i,
		    .flags = i < cfg->n_cpus_boot ? LAPIC_ENABLED : LAPIC_ONLINE_CAPABLE,
		};
		e += sizeof(*l);
	}

	struct madt_ioapic *io = (struct madt_ioapic *)e;
	*io = (struct madt_ioapic){
	    .type = MADT_TYPE_IOAPIC,
	    .length = sizeof(*io),
	    .ioapic_id = 0,
	    .address = (uint32_t)LAYOUT_IOAPIC_START,
	    .gsi_base = 0,
	};
	e += sizeof(*io);

	/* KVM's default routing wires the PIT (ISA IRQ 0) to IOAPIC pin 2, as PC chipsets do. */
	struct madt_int_src_override *iso = (struct madt_int_src_override *)e;
	*iso = (struct madt_int_src_override){
	    .type = MADT_TYPE_INT_SRC_OVERRIDE,
	    .length = sizeof(*iso),
	    .bus = 0,
	    .source = 0,
	    .gsi = 2,
	    .flags = 0,
	};
	e += sizeof(*iso);

	struct madt_local_apic_nmi *nmi = (struct madt_local_apic_nmi *)e;
	*nmi = (struct madt_local_apic_nmi){
	    .type = MADT_TYPE_LOCAL_APIC_NMI,
	    .length = sizeof(*nmi),
	    .processor_uid = NMI_ALL_PROCESSORS,
	    .flags = 0,
	    .lint = NMI_LINT1,
	};

	acpi_table_seal(&m->header);
	return 0;
}
