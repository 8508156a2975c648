/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/ged.h"
#include "log.h"

struct ged {
	pthread_mutex_t lock;
	void (*irq)(void *opaque, bool level);
	void *irq_opaque;
	uint32_t pending;
	struct ged_stats stats;
};

static void ged_count_bad(struct ged *g, uint64_t offset, uint32_t len)
{
	uint64_t n = ++g->stats.bad_accesses;

	if ((n & (n - 1)) == 0)
		log_debug("ged: ignored %u-byte access at offset 0x%llx (%llu so far)", len,
			  (unsigned long long)offset, (unsigned long long)n);
}

static void ged_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct ged *g = opaque;

	pthread_mutex_lock(&g->lock);
	memset(data, 0, len);
	if (offset == GED_REG_EVENT && len == sizeof(uint32_t)) {
		uint32_t v = g->pending;

		/* The guest is little-endian like the host we run on (x86). */
		memcpy(data, &v, sizeof(v));
		g->pending = 0;
		g->stats.reads++;
	} else {
		ged_count_bad(g, offset, len);
	}
	pthread_mutex_unlock(&g->lock);
}

static void ged_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct ged *g = opaque;

	pthread_mutex_lock(&g->lock);
	ged_count_bad(g, offset, len);
	pthread_mutex_unlock(&g->lock);
}

const struct bus_ops ged_ops = {
	.read = ged_read,
	.write = ged_write,
};

void ged_notify(struct ged *g, uint32_t events)
{
	if (!g || events == 0)
		return;
	pthread_mutex_lock(&g->lock);
	g->pending |= events;
	g->stats.notifications++;
	if (g->irq) {
		g->irq(g->irq_opaque, true);
		g->irq(g->irq_opaque, false);
	}
	pthread_mutex_unlock(&g->lock);
	log_debug("ged: notified events 0x%x", events);
}

void ged_get_stats(struct ged *g, struct ged_stats *ret)
{
	pthread_mutex_lock(&g->lock);
	*ret = g->stats;
	pthread_mutex_unlock(&g->lock);
}

int ged_new(void (*irq)(void *opaque, bool level), void *irq_opaque, struct ged **ret)
{
	struct ged *g;
	int r;

	if (!ret)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = pthread_mutex_init(&g->lock, NULL);
	if (r != 0) {
		free(g);
		return -r;
	}
	g->irq = irq;
	g->irq_opaque = irq_opaque;
	*ret = g;
	return 0;
}

struct ged *ged_free(struct ged *g)
{
	if (!g)
		return NULL;
	pthread_mutex_destroy(&g->lock);
	free(g);
	return NULL;
}
