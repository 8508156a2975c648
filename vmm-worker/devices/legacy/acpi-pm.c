/* SPDX-License-Identifier: Apache-2.0 */
/* Only S5 is implemented. A guest that enters another sleep state (our DSDT names none, but a guest
 * may try anyway) is woken at once: WAK_STS is set, so ACPICA's wait loop in
 * acpi_hw_extended_sleep() returns instead of spinning forever. The sleep control register reads 0
 * (it is write-only); sleep status keeps WAK_STS until the guest writes 1 to it. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/acpi-pm.h"
#include "log.h"

#define ACPI_PM_SLEEP_CONTROL (PORT_ACPI_SLEEP_CONTROL - PORT_ACPI_PM)
#define ACPI_PM_SLEEP_STATUS (PORT_ACPI_SLEEP_STATUS - PORT_ACPI_PM)
#define ACPI_PM_RESET (PORT_ACPI_RESET - PORT_ACPI_PM)

struct acpi_pm {
	pthread_mutex_t lock;
	void (*event)(void *opaque, enum acpi_pm_event ev);
	void *opaque;
	uint8_t sleep_status;
	struct acpi_pm_stats stats;
};

static const char *const acpi_pm_event_table[_ACPI_PM_EVENT_MAX] = {
	[ACPI_PM_EVENT_POWEROFF] = "poweroff",
	[ACPI_PM_EVENT_RESET] = "reset",
};

const char *acpi_pm_event_to_string(enum acpi_pm_event ev)
{
	if (ev < 0 || ev >= _ACPI_PM_EVENT_MAX)
		return NULL;
	return acpi_pm_event_table[ev];
}

enum acpi_pm_event acpi_pm_event_from_string(const char *s)
{
	if (!s)
		return _ACPI_PM_EVENT_INVALID;
	for (int i = 0; i < _ACPI_PM_EVENT_MAX; i++)
		if (acpi_pm_event_table[i] && strcmp(acpi_pm_event_table[i], s) == 0)
			return (enum acpi_pm_event)i;
	return _ACPI_PM_EVENT_INVALID;
}

static void acpi_pm_count_bad(struct acpi_pm *pm, uint64_t offset, uint32_t len)
{
	uint64_t n = ++pm->stats.bad_accesses;

	if ((n & (n - 1)) == 0)
		log_debug("acpi-pm: ignored %u-byte access at offset 0x%llx (%llu so far)", len,
			  (unsigned long long)offset, (unsigned long long)n);
}

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	memset(data, 0, len);
	if (len != 1 || offset >= PORT_ACPI_PM_LEN)
		acpi_pm_count_bad(pm, offset, len);
	else if (offset == ACPI_PM_SLEEP_STATUS)
		data[0] = pm->sleep_status;
	pthread_mutex_unlock(&pm->lock);
}

/* Returns the event to deliver, or _ACPI_PM_EVENT_INVALID for none. */
static enum acpi_pm_event acpi_pm_write_reg(struct acpi_pm *pm, uint64_t offset, uint8_t v)
{
	unsigned slp_typ;

	switch (offset) {
	case ACPI_PM_SLEEP_CONTROL:
		if (!(v & ACPI_SLEEP_CONTROL_SLP_EN))
			break;
		slp_typ = (v >> ACPI_SLEEP_CONTROL_SLP_TYP_SHIFT) & ACPI_SLEEP_CONTROL_SLP_TYP_MASK;
		if (slp_typ == ACPI_S5_SLP_TYP) {
			pm->stats.poweroffs++;
			return ACPI_PM_EVENT_POWEROFF;
		}
		pm->stats.other_sleeps++;
		pm->sleep_status |= ACPI_SLEEP_STATUS_WAK_STS;
		log_debug("acpi-pm: sleep type %u not supported, waking the guest at once", slp_typ);
		break;
	case ACPI_PM_SLEEP_STATUS:
		pm->sleep_status &= ~(v & ACPI_SLEEP_STATUS_WAK_STS);
		break;
	case ACPI_PM_RESET:
		if (v == ACPI_RESET_VALUE) {
			pm->stats.resets++;
			return ACPI_PM_EVENT_RESET;
		}
		break;
	default:
		break;
	}
	return _ACPI_PM_EVENT_INVALID;
}

static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct acpi_pm *pm = opaque;
	enum acpi_pm_event ev = _ACPI_PM_EVENT_INVALID;

	pthread_mutex_lock(&pm->lock);
	if (len != 1 || offset >= PORT_ACPI_PM_LEN)
		acpi_pm_count_bad(pm, offset, len);
	else
		ev = acpi_pm_write_reg(pm, offset, data[0]);
	pthread_mutex_unlock(&pm->lock);

	/* Outside the lock: the handler may take VM-wide locks or call back into this device. */
	if (ev != _ACPI_PM_EVENT_INVALID) {
		log_debug("acpi-pm: guest requested %s", acpi_pm_event_to_string(ev));
		if (pm->event)
			pm->event(pm->opaque, ev);
	}
}

const struct bus_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

void acpi_pm_get_stats(struct acpi_pm *pm, struct acpi_pm_stats *ret)
{
	pthread_mutex_lock(&pm->lock);
	*ret = pm->stats;
	pthread_mutex_unlock(&pm->lock);
}

int acpi_pm_new(void (*event)(void *opaque, enum acpi_pm_event ev), void *opaque, struct acpi_pm **ret)
{
	struct acpi_pm *pm;
	int r;

	if (!ret)
		return -EINVAL;
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	r = pthread_mutex_init(&pm->lock, NULL);
	if (r != 0) {
		free(pm);
		return -r;
	}
	pm->event = event;
	pm->opaque = opaque;
	*ret = pm;
	return 0;
}

struct acpi_pm *acpi_pm_free(struct acpi_pm *pm)
{
	if (!pm)
		return NULL;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
	return NULL;
}
