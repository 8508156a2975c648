/* SPDX-License-Identifier: Apache-2.0 */
/* ACPI tables for an x86 guest: RSDP, XSDT, FADT (hardware-reduced), MADT and DSDT, laid out in
 * one buffer that the caller copies into guest RAM. Devices that need more than the built-in
 * DSDT content supply their own AML through acpi_config.aml_sources. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml;

/* Called while the DSDT is built, at the root scope; appends a device's AML (for example
 * Scope (\_SB) { Device (PCI0) { ... } }). Returns 0 or -errno, which fails acpi_build(). */
struct acpi_aml_source {
	int (*append)(struct aml *a, void *userdata);
	void *userdata;
};

struct acpi_config {
	unsigned n_cpus_boot; /* 1 .. n_cpus_max */
	unsigned n_cpus_max;  /* up to ACPI_MAX_CPUS; APIC ID and ACPI UID = index */
	bool serial;	      /* COM1 at PORT_COM1, IRQ_COM1 */
	/* PCI host bridge: an MCFG table for the ECAM window and \_SB.PCI0 (with \_SB.MBRD reserving
	 * ECAM) in the DSDT, windows from layout.h plus this 64-bit window (size 0: none). */
	bool pci;
	uint64_t pci_mmio64_start, pci_mmio64_size;
	const struct acpi_aml_source *aml_sources;
	size_t n_aml_sources;
};

/* xAPIC IDs are 8 bits and 0xff is the broadcast ID. */
#define ACPI_MAX_CPUS 255

/* Builds RSDP (at offset 0 = base_gpa), XSDT, FADT, MADT, DSDT into buf; the caller copies buf
 * into guest RAM at base_gpa (LAYOUT_ACPI_START). -EINVAL for a bad config, -ENOSPC when buf is
 * too small; LAYOUT_ACPI_SIZE is enough for ACPI_MAX_CPUS. */
int acpi_build(const struct acpi_config *cfg, uint64_t base_gpa, uint8_t *buf, size_t buf_size,
	       size_t *ret_used);
