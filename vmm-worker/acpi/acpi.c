/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "acpi/acpi-internal.h"
#include "acpi/acpi.h"
#include "macro.h"

int acpi_writer_alloc(struct acpi_writer *w, size_t len, size_t align, void **ret_ptr, uint64_t *ret_gpa)
{
	size_t off = ALIGN_UP(w->used, align);

	if (off < w->used || off > w->size || len > w->size - off)
		return -ENOSPC;
	/* Padding too: the buffer lands in guest RAM as a whole. */
	memset(w->buf + w->used, 0, off - w->used + len);
	w->used = off + len;
	*ret_ptr = w->buf + off;
	if (ret_gpa)
		*ret_gpa = w->base_gpa + off;
	return 0;
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum;
}

void acpi_table_init(struct acpi_table_header *h, const char signature[4], uint32_t len, uint8_t revision)
{
	memcpy(h->signature, signature, sizeof(h->signature));
	h->length = len;
	h->revision = revision;
	h->checksum = 0;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = ACPI_CREATOR_REVISION;
}

void acpi_table_seal(struct acpi_table_header *h)
{
	h->checksum = 0;
	h->checksum = (uint8_t)-acpi_checksum(h, h->length);
}

int acpi_build(const struct acpi_config *cfg, uint64_t base_gpa, uint8_t *buf, size_t buf_size,
	       size_t *ret_used)
{
	struct acpi_writer w = {.buf = buf, .size = buf_size, .base_gpa = base_gpa};
	uint64_t dsdt, tables[3], xsdt;
	size_t n_tables = 2;
	void *rsdp;
	int r;

	if (cfg->n_cpus_boot == 0 || cfg->n_cpus_boot > cfg->n_cpus_max || cfg->n_cpus_max > ACPI_MAX_CPUS ||
	    (cfg->n_aml_sources > 0 && !cfg->aml_sources))
		return -EINVAL;
	/* Linux finds the RSDP by scanning 16-byte boundaries when nobody hands it the address. */
	if (base_gpa % 16 != 0)
		return -EINVAL;

	r = acpi_writer_alloc(&w, ACPI_RSDP_SIZE, 16, &rsdp, NULL);
	if (r < 0)
		return r;
	r = acpi_build_dsdt(&w, cfg, &dsdt);
	if (r < 0)
		return r;
	r = acpi_build_fadt(&w, dsdt, &tables[0]);
	if (r < 0)
		return r;
	r = acpi_build_madt(&w, cfg, &tables[1]);
	if (r < 0)
		return r;
	if (cfg->pci) {
		r = acpi_build_mcfg(&w, &tables[n_tables++]);
		if (r < 0)
			return r;
	}
	r = acpi_build_xsdt(&w, tables, n_tables, &xsdt);
	if (r < 0)
		return r;
	acpi_build_rsdp(rsdp, xsdt);

	*ret_used = w.used;
	return 0;
}
