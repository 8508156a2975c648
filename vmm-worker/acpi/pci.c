/* SPDX-License-Identifier: Apache-2.0 */
/* The PCI host bridge in the DSDT: \_SB.PCI0 with the resources it decodes for its children, and
 * \_SB.MBRD, a motherboard resource device that reserves the ECAM window (Linux uses MMCONFIG only
 * where firmware reserves it). */
#include "acpi/acpi-internal.h"
#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "arch/x86/layout.h"

#define PCI_IO_END 0xffff

static void crs(struct aml *a, const struct acpi_config *cfg)
{
	const uint8_t fixed = AML_ADDR_MIN_FIXED | AML_ADDR_MAX_FIXED;

	aml_name(a, "_CRS");
	aml_resource_template_begin(a);
	aml_rt_word_address(a, &(struct aml_addr_space){
				       .type = AML_ADDR_BUS_NUMBER,
				       .general_flags = fixed,
				       .min = 0,
				       .max = LAYOUT_PCI_ECAM_BUSES - 1,
				       .length = LAYOUT_PCI_ECAM_BUSES,
			       });
	aml_rt_io(a, PORT_PCI_CONFIG_ADDRESS, PORT_PCI_CONFIG_ADDRESS, 1, 8);
	/* Legacy I/O below and above the config ports goes down to the bus, as on a PC. */
	aml_rt_word_address(a, &(struct aml_addr_space){
				       .type = AML_ADDR_IO,
				       .general_flags = fixed,
				       .type_flags = AML_ADDR_IO_ENTIRE_RANGE,
				       .min = 0,
				       .max = PORT_PCI_CONFIG_ADDRESS - 1,
				       .length = PORT_PCI_CONFIG_ADDRESS,
			       });
	aml_rt_word_address(a, &(struct aml_addr_space){
				       .type = AML_ADDR_IO,
				       .general_flags = fixed,
				       .type_flags = AML_ADDR_IO_ENTIRE_RANGE,
				       .min = PORT_PCI_CONFIG_ADDRESS + 8,
				       .max = PCI_IO_END,
				       .length = PCI_IO_END + 1 - (PORT_PCI_CONFIG_ADDRESS + 8),
			       });
	aml_rt_dword_address(a, &(struct aml_addr_space){
					.type = AML_ADDR_MEMORY,
					.general_flags = fixed,
					.type_flags = AML_ADDR_MEM_RW,
					.min = LAYOUT_PCI_MMIO32_START,
					.max = LAYOUT_PCI_MMIO32_START + LAYOUT_PCI_MMIO32_SIZE - 1,
					.length = LAYOUT_PCI_MMIO32_SIZE,
				});
	if (cfg->pci_mmio64_size)
		aml_rt_qword_address(a, &(struct aml_addr_space){
						.type = AML_ADDR_MEMORY,
						.general_flags = fixed,
						.type_flags = AML_ADDR_MEM_RW,
						.min = cfg->pci_mmio64_start,
						.max = cfg->pci_mmio64_start + cfg->pci_mmio64_size - 1,
						.length = cfg->pci_mmio64_size,
					});
	aml_end(a);
}

int acpi_dsdt_pci(struct aml *a, const struct acpi_config *cfg)
{
	aml_device_begin(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A08");
	aml_name_eisaid(a, "_CID", "PNP0A03");
	aml_name_integer(a, "_ADR", 0);
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", 0);
	aml_name_integer(a, "_UID", 0);
	crs(a, cfg);
	/* _OSC (ACPI 6.5 6.2.11, PCI Firmware 4.5): the platform keeps no PCIe feature for itself, so
	 * it grants whatever the OS asks by returning the capabilities buffer unchanged (no error
	 * bits in DWORD 1). */
	aml_method_begin(a, "_OSC", 4, false);
	aml_return(a);
	aml_arg(a, 3);
	aml_end(a);
	aml_end(a);

	aml_device_begin(a, "MBRD");
	aml_name_eisaid(a, "_HID", "PNP0C02");
	aml_name_integer(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template_begin(a);
	aml_rt_memory32_fixed(a, true, LAYOUT_PCI_ECAM_START, LAYOUT_PCI_ECAM_SIZE);
	aml_end(a);
	aml_end(a);
	return aml_error(a);
}
