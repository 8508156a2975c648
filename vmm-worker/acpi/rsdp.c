/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "acpi/acpi-internal.h"

/* Root System Description Pointer, ACPI 6.5 5.2.5.3 */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* first 20 bytes, the ACPI 1.0 part */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* whole structure */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == ACPI_RSDP_SIZE, "RSDP");

void acpi_build_rsdp(void *p, uint64_t xsdt_gpa)
{
	struct acpi_rsdp *r = p;

	/* No RSDT: revision 2 points OSPM at the XSDT, and every table lives below 1 MiB anyway. */
	*r = (struct acpi_rsdp){
	    .revision = 2,
	    .length = sizeof(*r),
	    .xsdt_address = xsdt_gpa,
	};
	memcpy(r->signature, "RSD PTR ", sizeof(r->signature));
	memcpy(r->oem_id, ACPI_OEM_ID, sizeof(r->oem_id));
	r->checksum = (uint8_t)-acpi_checksum(r, 20);
	r->extended_checksum = (uint8_t)-acpi_checksum(r, sizeof(*r));
}
