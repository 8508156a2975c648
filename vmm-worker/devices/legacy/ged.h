/* SPDX-License-Identifier: Apache-2.0 */
/* ACPI Generic Event Device register block (MMIO at LAYOUT_GED_START, GED_REG_LEN bytes): one 32-bit
 * read-to-clear register of pending GED_EVENT_* bits, read by the DSDT's _EVT method when the GED
 * interrupt fires. The interrupt is an edge: irq(opaque, true) then irq(opaque, false), called under
 * the device lock, so the callback must not call back into the device. Registration:
 *   bus_register(mmio, LAYOUT_GED_START, GED_REG_LEN, &ged_ops, g, "ged"); */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct bus_ops;
struct ged;

struct ged_stats {
	uint64_t notifications; /* ged_notify() calls that raised the interrupt */
	uint64_t reads;         /* 32-bit reads of GED_REG_EVENT */
	uint64_t bad_accesses;  /* other sizes or offsets: read 0, writes ignored */
};

int ged_new(void (*irq)(void *opaque, bool level), void *irq_opaque, struct ged **ret);
struct ged *ged_free(struct ged *g);
static inline void ged_freep(struct ged **p)
{
	if (*p)
		*p = ged_free(*p);
}

/* ORs events into the pending register and pulses the interrupt; safe from any thread. Does
 * nothing when events is 0. */
void ged_notify(struct ged *g, uint32_t events);
void ged_get_stats(struct ged *g, struct ged_stats *ret);

extern const struct bus_ops ged_ops;
