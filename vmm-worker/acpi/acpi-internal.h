/* SPDX-License-Identifier: Apache-2.0 */
/* Table layouts (ACPI 6.5, chapter 5) and the helpers the per-table files share. The guest is
 * x86, so the packed little-endian structs are the wire format. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct acpi_config;
struct aml;

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ACPI tables are little-endian");

#define ACPI_OEM_ID "CHD   "
#define ACPI_OEM_TABLE_ID "CHDVMM  "
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "CHD "
#define ACPI_CREATOR_REVISION 1

#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_ACCESS_BYTE 1

struct acpi_table_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_table_header) == 36, "ACPI table header");

/* Generic Address Structure, 5.2.3.2 */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "ACPI GAS");

/* Where the tables go: buf is copied to base_gpa, so offset o lands at base_gpa + o. */
struct acpi_writer {
	uint8_t *buf;
	size_t size;
	size_t used;
	uint64_t base_gpa;
};

/* Zeroed room for len bytes at an aligned offset; -ENOSPC when it does not fit. */
int acpi_writer_alloc(struct acpi_writer *w, size_t len, size_t align, void **ret_ptr, uint64_t *ret_gpa);
uint8_t acpi_checksum(const void *p, size_t len);
/* Fills in the header of a table of len bytes and, last, its checksum. */
void acpi_table_init(struct acpi_table_header *h, const char signature[4], uint32_t len, uint8_t revision);
void acpi_table_seal(struct acpi_table_header *h);

/* The RSDP has no table header; the caller reserves ACPI_RSDP_SIZE bytes at offset 0 first, so
 * the guest finds it at base_gpa, and fills it in last. */
#define ACPI_RSDP_SIZE 36
void acpi_build_rsdp(void *rsdp, uint64_t xsdt_gpa);
int acpi_build_xsdt(struct acpi_writer *w, const uint64_t *tables, size_t n_tables, uint64_t *ret_gpa);
int acpi_build_fadt(struct acpi_writer *w, uint64_t dsdt_gpa, uint64_t *ret_gpa);
int acpi_build_madt(struct acpi_writer *w, const struct acpi_config *cfg, uint64_t *ret_gpa);
int acpi_build_mcfg(struct acpi_writer *w, uint64_t *ret_gpa);
/* \_SB.PCI0 and \_SB.MBRD, emitted inside the DSDT's \_SB scope. */
int acpi_dsdt_pci(struct aml *a, const struct acpi_config *cfg);
int acpi_build_dsdt(struct acpi_writer *w, const struct acpi_config *cfg, uint64_t *ret_gpa);
