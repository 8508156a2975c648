/* SPDX-License-Identifier: Apache-2.0 */
/* MC146818 CMOS RTC and NVRAM at PORT_CMOS: index port (bit 7 disables NMI) at +0, data at +1,
 * 128 bytes. The clock follows the host's UTC clock; the guest may set it, which is kept as an
 * offset from the host clock for the life of the device. The NVRAM carries the memory size bytes
 * firmware reads. Registration:
 *   bus_register(pio, PORT_CMOS, 2, &cmos_ops, c, "cmos"); */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct bus_ops;
struct cmos;
struct timespec;

struct cmos_stats {
	int64_t time_offset_s; /* guest clock minus host UTC clock, seconds */
	uint64_t time_sets;    /* guest writes that moved the clock */
	uint64_t bad_writes;   /* time values out of range, ignored */
	uint64_t bad_accesses; /* wrong sizes or offsets, ignored */
	bool nmi_disabled;     /* bit 7 of the last index written */
};

/* mem_below_4g: bytes of RAM below 4 GiB, counted from address 0; mem_above_4g: bytes of RAM from
 * 4 GiB up. They fill bytes 0x15-0x18, 0x30-0x31, 0x34-0x35 and 0x5b-0x5d. */
int cmos_new(uint64_t mem_below_4g, uint64_t mem_above_4g, struct cmos **ret);
struct cmos *cmos_free(struct cmos *c);
static inline void cmos_freep(struct cmos **p)
{
	if (*p)
		*p = cmos_free(*p);
}

/* Replaces the host UTC clock (CLOCK_REALTIME) the RTC follows; NULL restores it. For tests, and
 * for a VMM that restores a guest's clock from elsewhere. Called under the device lock. */
void cmos_set_clock(struct cmos *c, void (*clock)(void *opaque, struct timespec *ret), void *opaque);
void cmos_get_stats(struct cmos *c, struct cmos_stats *ret);

extern const struct bus_ops cmos_ops;
