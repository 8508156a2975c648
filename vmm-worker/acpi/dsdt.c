/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acpi/acpi-internal.h"
#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "arch/x86/layout.h"
#include "macro.h"

/* Differentiated System Description Table, ACPI 6.5 5.2.11.1. Revision 2: 64-bit integers. */
#define DSDT_REVISION 2

/* The CMOS index/data pair at PORT_CMOS and the RTC's ISA interrupt. */
#define CMOS_PORT_LEN 2
#define IRQ_RTC 8

#define STA_PRESENT_ENABLED_SHOWN_FUNCTIONING 0x0f
#define NOTIFY_POWER_BUTTON 0x80 /* 5.6.6: "button pressed" on a PNP0C0C device */

static int dsdt_cpus(struct aml *a, const struct acpi_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_cpus_max; i++) {
		char name[5];

		/* The _UID is the MADT processor UID; CPUs beyond the boot set are absent until
		 * hot-plug replaces this constant _STA. */
		snprintf(name, sizeof(name), "CP%02X", i & 0xffu);
		aml_device_begin(a, name);
		aml_name_str(a, "_HID", "ACPI0007");
		aml_name_integer(a, "_UID", i);
		aml_method_begin(a, "_STA", 0, false);
		aml_return(a);
		aml_integer(a, i < cfg->n_cpus_boot ? STA_PRESENT_ENABLED_SHOWN_FUNCTIONING : 0);
		aml_end(a);
		aml_end(a);
	}
	return aml_error(a);
}

static int dsdt_power_button(struct aml *a)
{
	aml_device_begin(a, "PWRB");
	aml_name_eisaid(a, "_HID", "PNP0C0C");
	aml_name_integer(a, "_UID", 0);
	aml_end(a);
	return aml_error(a);
}

/* Generic Event Device (ACPI 6.5 5.6.9): its interrupt makes OSPM run _EVT, which reads the
 * read-to-clear event register once (layout.h, GED_REG_*) and fans the bits out. */
static int dsdt_ged(struct aml *a)
{
	const uint32_t irq = IRQ_GED;

	aml_device_begin(a, "GED");
	aml_name_str(a, "_HID", "ACPI0013");
	aml_name_integer(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template_begin(a);
	aml_rt_interrupt(a, AML_IRQ_CONSUMER | AML_IRQ_EDGE, &irq, 1);
	aml_end(a);

	aml_operation_region(a, "GDST", AML_REGION_SYSTEM_MEMORY, LAYOUT_GED_START, GED_REG_LEN);
	aml_field_begin(a, "GDST", AML_FIELD_DWORD_ACC | AML_FIELD_WRITE_AS_ZEROS);
	if (GED_REG_EVENT > 0)
		aml_field_reserved(a, GED_REG_EVENT * 8);
	aml_field_entry(a, "GDAT", 32);
	aml_end(a);

	aml_method_begin(a, "_EVT", 1, true);
	/* Local0 = GDAT */
	aml_store(a);
	aml_name_string(a, "GDAT");
	aml_local(a, 0);
	/* If ((Local0 & GED_EVENT_POWER_BUTTON) == GED_EVENT_POWER_BUTTON) */
	aml_if_begin(a);
	aml_lequal(a);
	aml_and(a);
	aml_local(a, 0);
	aml_integer(a, GED_EVENT_POWER_BUTTON);
	aml_null_target(a);
	aml_integer(a, GED_EVENT_POWER_BUTTON);
	/* Notify (\_SB.PWRB, 0x80) */
	aml_notify(a);
	aml_name_string(a, "\\_SB.PWRB");
	aml_integer(a, NOTIFY_POWER_BUTTON);
	aml_end(a);
	aml_end(a);

	aml_end(a);
	return aml_error(a);
}

static int dsdt_com1(struct aml *a)
{
	aml_device_begin(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_integer(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template_begin(a);
	aml_rt_io(a, PORT_COM1, PORT_COM1, 1, PORT_COM1_LEN);
	aml_rt_irq_noflags(a, IRQ_COM1);
	aml_end(a);
	aml_end(a);
	return aml_error(a);
}

static int dsdt_rtc(struct aml *a)
{
	aml_device_begin(a, "RTC");
	aml_name_eisaid(a, "_HID", "PNP0B00");
	aml_name(a, "_CRS");
	aml_resource_template_begin(a);
	aml_rt_io(a, PORT_CMOS, PORT_CMOS, 1, CMOS_PORT_LEN);
	aml_rt_irq_noflags(a, IRQ_RTC);
	aml_end(a);
	aml_end(a);
	return aml_error(a);
}

/* \_S5 names the SLP_TYP that OSPM writes to SLEEP_CONTROL_REG to power off. */
static int dsdt_s5(struct aml *a)
{
	aml_name(a, "\\_S5");
	aml_package_begin(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);
	return aml_error(a);
}

static int dsdt_aml(struct aml *a, const struct acpi_config *cfg)
{
	int r;

	aml_scope_begin(a, "\\_SB");
	r = dsdt_cpus(a, cfg);
	if (r < 0)
		return r;
	r = dsdt_power_button(a);
	if (r < 0)
		return r;
	r = dsdt_ged(a);
	if (r < 0)
		return r;
	if (cfg->serial) {
		r = dsdt_com1(a);
		if (r < 0)
			return r;
	}
	r = dsdt_rtc(a);
	if (r < 0)
		return r;
	if (cfg->pci) {
		r = acpi_dsdt_pci(a, cfg);
		if (r < 0)
			return r;
	}
	r = aml_end(a);
	if (r < 0)
		return r;

	r = dsdt_s5(a);
	if (r < 0)
		return r;

	for (size_t i = 0; i < cfg->n_aml_sources; i++) {
		r = cfg->aml_sources[i].append(a, cfg->aml_sources[i].userdata);
		if (r < 0)
			return r;
		/* A source that left an error behind or an object open would corrupt the rest. */
		r = aml_error(a);
		if (r < 0)
			return r;
	}
	return 0;
}

int acpi_build_dsdt(struct acpi_writer *w, const struct acpi_config *cfg, uint64_t *ret_gpa)
{
	_cleanup_(aml_freep) struct aml *a = NULL;
	struct acpi_table_header *h;
	const uint8_t *body;
	size_t body_len, len;
	void *p;
	int r;

	r = aml_new(&a);
	if (r < 0)
		return r;
	r = dsdt_aml(a, cfg);
	if (r < 0)
		return r;
	r = aml_get(a, &body, &body_len);
	if (r < 0)
		return r == -EBUSY ? -EINVAL : r;

	len = sizeof(*h) + body_len;
	if (len > UINT32_MAX)
		return -E2BIG;
	r = acpi_writer_alloc(w, len, 8, &p, ret_gpa);
	if (r < 0)
		return r;
	h = p;
	acpi_table_init(h, "DSDT", (uint32_t)len, DSDT_REVISION);
	memcpy((uint8_t *)h + sizeof(*h), body, body_len);
	acpi_table_seal(h);
	return 0;
}
