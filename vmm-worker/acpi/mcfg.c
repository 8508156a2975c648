/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "acpi/acpi-internal.h"
#include "arch/x86/layout.h"

/* PCI Firmware Specification 3.3, 4.1.2: one ECAM allocation for segment 0. */
struct acpi_mcfg {
	struct acpi_table_header header;
	uint8_t reserved[8];
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved2;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG with one allocation");

int acpi_build_mcfg(struct acpi_writer *w, uint64_t *ret_gpa)
{
	struct acpi_mcfg *m;
	void *p;
	int r;

	r = acpi_writer_alloc(w, sizeof(*m), 8, &p, ret_gpa);
	if (r < 0)
		return r;
	m = p;
	acpi_table_init(&m->header, "MCFG", sizeof(*m), 1);
	m->base = LAYOUT_PCI_ECAM_START;
	m->segment = 0;
	m->start_bus = 0;
	m->end_bus = LAYOUT_PCI_ECAM_BUSES - 1;
	acpi_table_seal(&m->header);
	return 0;
}
