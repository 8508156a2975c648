/* SPDX-License-Identifier: Apache-2.0 */
/* Address-range dispatch for port I/O and MMIO exits. A device registers a range with an ops
 * table; offsets passed to the ops are relative to the range's base. Accesses nobody claims read
 * as all-ones and are dropped, as on real hardware. Registration happens before vCPUs run; lookups
 * are lock-free after that, and each device serialises its own state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned n_ranges;
	uint64_t unhandled; /* accesses no device claimed */
};

/* -EEXIST if the range overlaps one already registered, -E2BIG when full. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name);
/* Return false (and fill data with 0xff on reads) when no device claims addr. */
bool bus_read(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len);
bool bus_write(struct bus *b, uint64_t addr, const uint8_t *data, uint32_t len);
