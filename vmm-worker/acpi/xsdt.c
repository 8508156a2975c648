/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "acpi/acpi-internal.h"

/* Extended System Description Table, ACPI 6.5 5.2.8: 64-bit pointers to every table but the
 * DSDT, which the FADT points to. */
struct acpi_xsdt {
	struct acpi_table_header header;
	uint64_t entries[];
} __attribute__((packed));

int acpi_build_xsdt(struct acpi_writer *w, const uint64_t *tables, size_t n_tables, uint64_t *ret_gpa)
{
	size_t len = sizeof(struct acpi_xsdt) + n_tables * sizeof(uint64_t);
	struct acpi_xsdt *x;
	void *p;
	int r;

	r = acpi_writer_alloc(w, len, 8, &p, ret_gpa);
	if (r < 0)
		return r;
	x = p;
	acpi_table_init(&x->header, "XSDT", (uint32_t)len, 1);
	/* Byte copy: the entries sit at offset 36, not 8-byte aligned. */
	memcpy((uint8_t *)x + sizeof(x->header), tables, n_tables * sizeof(uint64_t));
	acpi_table_seal(&x->header);
	return 0;
}
