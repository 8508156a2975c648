/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "bus.h"

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	if (b->n_ranges >= BUS_MAX_RANGES)
		return -E2BIG;
	for (unsigned i = 0; i < b->n_ranges; i++) {
		const struct bus_range *r = &b->ranges[i];
		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	b->ranges[b->n_ranges++] =
		(struct bus_range){ .base = base, .len = len, .ops = ops, .opaque = opaque, .name = name };
	return 0;
}

static const struct bus_range *bus_find(const struct bus *b, uint64_t addr, uint32_t len)
{
	for (unsigned i = 0; i < b->n_ranges; i++) {
		const struct bus_range *r = &b->ranges[i];
		if (addr >= r->base && addr - r->base < r->len && len <= r->len - (addr - r->base))
			return r;
	}
	return NULL;
}

bool bus_read(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len)
{
	const struct bus_range *r = bus_find(b, addr, len);
	if (!r || !r->ops->read) {
		memset(data, 0xff, len);
		if (!r)
			__atomic_add_fetch(&b->unhandled, 1, __ATOMIC_RELAXED);
		return r != NULL;
	}
	r->ops->read(r->opaque, addr - r->base, data, len);
	return true;
}

bool bus_write(struct bus *b, uint64_t addr, const uint8_t *data, uint32_t len)
{
	const struct bus_range *r = bus_find(b, addr, len);
	if (!r) {
		__atomic_add_fetch(&b->unhandled, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (r->ops->write)
		r->ops->write(r->opaque, addr - r->base, data, len);
	return true;
}
