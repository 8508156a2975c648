/* SPDX-License-Identifier: Apache-2.0 */
/* Hardware-reduced ACPI sleep control, sleep status and reset registers (FADT SLEEP_CONTROL_REG,
 * SLEEP_STATUS_REG, RESET_REG) at PORT_ACPI_PM, one byte each. The event callback runs on the vCPU
 * thread, outside the device lock. Registration:
 *   bus_register(pio, PORT_ACPI_PM, PORT_ACPI_PM_LEN, &acpi_pm_ops, pm, "acpi-pm"); */
#pragma once

#include <errno.h>
#include <stdint.h>

struct bus_ops;
struct acpi_pm;

enum acpi_pm_event {
	ACPI_PM_EVENT_POWEROFF, /* SLP_EN with SLP_TYP == ACPI_S5_SLP_TYP */
	ACPI_PM_EVENT_RESET,    /* ACPI_RESET_VALUE written to the reset register */
	_ACPI_PM_EVENT_MAX,
	_ACPI_PM_EVENT_INVALID = -EINVAL,
};

const char *acpi_pm_event_to_string(enum acpi_pm_event ev);
enum acpi_pm_event acpi_pm_event_from_string(const char *s);

struct acpi_pm_stats {
	uint64_t poweroffs;
	uint64_t resets;
	uint64_t other_sleeps; /* SLP_EN with a sleep type we do not implement: woken at once */
	uint64_t bad_accesses; /* wrong sizes or offsets, ignored */
};

/* event may be NULL: requests are then only counted. */
int acpi_pm_new(void (*event)(void *opaque, enum acpi_pm_event ev), void *opaque, struct acpi_pm **ret);
struct acpi_pm *acpi_pm_free(struct acpi_pm *pm);
static inline void acpi_pm_freep(struct acpi_pm **p)
{
	if (*p)
		*p = acpi_pm_free(*p);
}

void acpi_pm_get_stats(struct acpi_pm *pm, struct acpi_pm_stats *ret);

extern const struct bus_ops acpi_pm_ops;
