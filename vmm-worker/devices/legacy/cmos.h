/* SPDX-License-Identifier: Apache-2.0 */
/* MC146818 CMOS RTC and NVRAM at PORT_CMOS: index port (bit 7 disables NMI) at +0, data at +1,
 * 128 bytes. The clock follows the host's UTC clock; the guest may set it, which is kept as an
 * offset from the host clock for the life of the device. The NVRAM carries the memory size bytes
 * firmware reads. Registration:
 *   bus_register(pio, PORT_CMOS, 2, &cmos_ops, c, "cmos"); */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Register map of the MC146818 RTC and CMOS bytes, shared by the device model and its tests. */
#define CMOS_NMI_DISABLE 0x80
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32
#define RTC_REG_A_UIP 0x80
#define RTC_REG_B_SET 0x80
#define RTC_REG_B_DM_BINARY 0x04
#define RTC_REG_B_24H 0x02
#define RTC_REG_D_VRT 0x80
#define RTC_HOURS_PM 0x80
#define CMOS_BASE_MEM_LO 0x15
#define CMOS_EXT_MEM_LO 0x17
#define CMOS_EXT_MEM2_LO 0x30
#define CMOS_MEM_ABOVE_16M_LO 0x34
#define CMOS_MEM_ABOVE_4G_LO 0x5b

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
