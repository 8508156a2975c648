/* SPDX-License-Identifier: Apache-2.0 */
/* POST/boot-progress port (PORT_DEBUG, 0x80). Firmware and boot code write progress codes here;
 * the device keeps the last one, counts writes and logs every change at debug level with the time
 * since the device was created. Reads return the last value. Registration:
 *   bus_register(pio, PORT_DEBUG, 1, &debug_port_ops, d, "debug-port"); */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct bus_ops;
struct debug_port;

struct debug_port_stats {
	uint64_t writes;       /* every 1-byte write, repeated values included */
	uint64_t bad_accesses; /* wrong sizes or offsets, ignored */
	uint64_t last_ms;      /* when the last value was written, in ms since creation */
	uint8_t last;          /* last value written; 0 before the first */
	bool written;          /* whether anything was written yet */
};

int debug_port_new(struct debug_port **ret);
struct debug_port *debug_port_free(struct debug_port *d);
static inline void debug_port_freep(struct debug_port **p)
{
	if (*p)
		*p = debug_port_free(*p);
}

void debug_port_get_stats(struct debug_port *d, struct debug_port_stats *ret);

extern const struct bus_ops debug_port_ops;
