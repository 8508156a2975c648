/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <string.h>

#include "acpi/acpi-internal.h"
#include "arch/x86/layout.h"

/* Fixed ACPI Description Table, ACPI 6.5 5.2.9, revision 6. */
struct acpi_fadt {
	struct acpi_table_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor_id[8];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT SLEEP_CONTROL_REG");

/* Flags, Table 5.10 */
#define FADT_PWR_BUTTON (1u << 4) /* power button is a control-method device, \_SB.PWRB */
#define FADT_SLP_BUTTON (1u << 5) /* no sleep button */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* IA-PC boot architecture flags, Table 5.11: leaving 8042 (bit 1) and CMOS RTC not present
 * (bit 5) clear keeps Linux from probing a keyboard controller that only knows the reset
 * command, while it still registers the RTC. */
#define IAPC_BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)

#define FADT_MINOR_VERSION 5 /* ACPI 6.5 */

static struct acpi_gas io_byte_register(uint16_t port)
{
	return (struct acpi_gas){
	    .space_id = ACPI_GAS_SYSTEM_IO,
	    .bit_width = 8,
	    .access_size = ACPI_GAS_ACCESS_BYTE,
	    .address = port,
	};
}

int acpi_build_fadt(struct acpi_writer *w, uint64_t dsdt_gpa, uint64_t *ret_gpa)
{
	struct acpi_fadt *f;
	void *p;
	int r;

	r = acpi_writer_alloc(w, sizeof(*f), 8, &p, ret_gpa);
	if (r < 0)
		return r;
	f = p;
	acpi_table_init(&f->header, "FACP", sizeof(*f), 6);
	/* Hardware-reduced: no PM1/GPE blocks, no SCI, no FACS; sleep and reset go through the
	 * registers the ACPI PM device decodes at PORT_ACPI_PM. */
	f->flags = FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP | FADT_HW_REDUCED_ACPI;
	f->iapc_boot_arch = IAPC_BOOT_ARCH_VGA_NOT_PRESENT;
	f->reset_reg = io_byte_register(PORT_ACPI_RESET);
	f->reset_value = ACPI_RESET_VALUE;
	f->minor_version = FADT_MINOR_VERSION;
	if (dsdt_gpa <= UINT32_MAX)
		f->dsdt = (uint32_t)dsdt_gpa;
	f->x_dsdt = dsdt_gpa;
	f->sleep_control_reg = io_byte_register(PORT_ACPI_SLEEP_CONTROL);
	f->sleep_status_reg = io_byte_register(PORT_ACPI_SLEEP_STATUS);
	memcpy(f->hypervisor_vendor_id, "CHDVMM\0\0", sizeof(f->hypervisor_vendor_id));
	acpi_table_seal(&f->header);
	return 0;
}
