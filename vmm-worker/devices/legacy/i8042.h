/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal 8042 keyboard controller: just enough for a guest to find no keyboard and to reboot the
 * machine with the "pulse reset line" command (0xfe on the command port). The reset callback runs
 * on the vCPU thread, outside the device lock. Registration:
 *   bus_register(pio, PORT_I8042_DATA, 1, &i8042_data_ops, k, "i8042-data");
 *   bus_register(pio, PORT_I8042_CMD, 1, &i8042_cmd_ops, k, "i8042-cmd"); */
#pragma once

#include <stdint.h>

struct bus_ops;
struct i8042;

struct i8042_stats {
	uint64_t commands;     /* bytes written to the command port */
	uint64_t resets;       /* reset pulses requested */
	uint64_t bad_accesses; /* wrong sizes or offsets, ignored */
};

/* reset may be NULL: the pulse is then only counted. */
int i8042_new(void (*reset)(void *opaque), void *opaque, struct i8042 **ret);
struct i8042 *i8042_free(struct i8042 *k);
static inline void i8042_freep(struct i8042 **p)
{
	if (*p)
		*p = i8042_free(*p);
}

void i8042_get_stats(struct i8042 *k, struct i8042_stats *ret);

extern const struct bus_ops i8042_data_ops;
extern const struct bus_ops i8042_cmd_ops;
