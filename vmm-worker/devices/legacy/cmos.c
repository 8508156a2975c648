/* SPDX-License-Identifier: Apache-2.0 */
/* Time registers are computed from the host clock at each read, in the format register B asks for
 * (BCD or binary, 12 or 24 hours); the century byte (0x32) uses the same format. The update cycle is
 * modelled on the real part: register A's UIP bit is set during the last 244 us of every second, the
 * window in which a real MC146818 warns that the time registers are about to change, and is never
 * set while register B's SET bit stops updates. So a guest polling UIP sees it rise and fall once a
 * second and never waits longer than 244 us for it to clear.
 *
 * Guest time writes: with SET held (how Linux and firmware set the clock) the written fields are
 * collected and applied when SET is cleared; without SET each write applies at once. The new time
 * becomes an offset, in whole seconds, from the host clock. Day of week is derived from the date, so
 * writes to it are ignored. There is no RTC interrupt: register C reads 0, alarm and periodic
 * settings are stored but never fire. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/cmos.h"
#include "log.h"

#define CMOS_SIZE 128
#define CMOS_INDEX_MASK 0x7f

#define RTC_REG_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz periodic rate */

#define RTC_UIP_NS 244000L

struct cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t mem[CMOS_SIZE];
	int64_t offset_s;
	bool frozen;       /* register B SET: updates stopped, the time registers hold set_tm */
	struct tm set_tm;
	void (*clock)(void *opaque, struct timespec *ret);
	void *clock_opaque;
	struct cmos_stats stats;
};

static bool cmos_binary(const struct cmos *c)
{
	return c->mem[RTC_REG_B] & RTC_REG_B_DM_BINARY;
}

static uint8_t cmos_encode(const struct cmos *c, unsigned v)
{
	v %= 100;
	return cmos_binary(c) ? v : ((v / 10) << 4) | (v % 10);
}

/* -1 for digits a BCD register cannot hold */
static int cmos_decode(const struct cmos *c, uint8_t v)
{
	if (cmos_binary(c))
		return v;
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t cmos_encode_hour(const struct cmos *c, unsigned hour)
{
	unsigned h12;

	if (c->mem[RTC_REG_B] & RTC_REG_B_24H)
		return cmos_encode(c, hour);
	h12 = hour % 12;
	return cmos_encode(c, h12 == 0 ? 12 : h12) | (hour >= 12 ? RTC_HOURS_PM : 0);
}

static int cmos_decode_hour(const struct cmos *c, uint8_t v)
{
	int h;

	if (c->mem[RTC_REG_B] & RTC_REG_B_24H)
		return cmos_decode(c, v);
	h = cmos_decode(c, v & ~RTC_HOURS_PM);
	if (h < 1 || h > 12)
		return -1;
	return (h % 12) + ((v & RTC_HOURS_PM) ? 12 : 0);
}

static void cmos_now(const struct cmos *c, struct timespec *ts)
{
	if (c->clock)
		c->clock(c->clock_opaque, ts);
	else
		clock_gettime(CLOCK_REALTIME, ts);
	/* whatever a clock callback says, keep the nanoseconds in range */
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		ts->tv_nsec = 0;
}

static void cmos_guest_tm(const struct cmos *c, const struct timespec *now, struct tm *tm)
{
	time_t t = (time_t)(now->tv_sec + c->offset_s);

	if (c->frozen) {
		*tm = c->set_tm;
		return;
	}
	if (!gmtime_r(&t, tm))
		memset(tm, 0, sizeof(*tm));
}

static bool cmos_uip(const struct cmos *c, const struct timespec *now)
{
	return !c->frozen && now->tv_nsec >= 1000000000L - RTC_UIP_NS;
}

static uint8_t cmos_read_reg(struct cmos *c, uint8_t idx)
{
	struct timespec now;
	struct tm tm;

	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		cmos_now(c, &now);
		cmos_guest_tm(c, &now, &tm);
		break;
	case RTC_REG_A:
		cmos_now(c, &now);
		return (c->mem[RTC_REG_A] & ~RTC_REG_A_UIP) | (cmos_uip(c, &now) ? RTC_REG_A_UIP : 0);
	case RTC_REG_C:
		return 0;
	case RTC_REG_D:
		return RTC_REG_D_VRT;
	default:
		return c->mem[idx];
	}

	switch (idx) {
	case RTC_SECONDS:
		return cmos_encode(c, tm.tm_sec);
	case RTC_MINUTES:
		return cmos_encode(c, tm.tm_min);
	case RTC_HOURS:
		return cmos_encode_hour(c, tm.tm_hour);
	case RTC_DAY_OF_WEEK:
		return cmos_encode(c, tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return cmos_encode(c, tm.tm_mday);
	case RTC_MONTH:
		return cmos_encode(c, tm.tm_mon + 1);
	case RTC_YEAR:
		return cmos_encode(c, (unsigned)(tm.tm_year + 1900) % 100);
	default: /* RTC_CENTURY */
		return cmos_encode(c, (unsigned)(tm.tm_year + 1900) / 100);
	}
}

static void cmos_commit_time(struct cmos *c, struct tm *tm, const struct timespec *now)
{
	time_t t;

	tm->tm_isdst = 0;
	t = timegm(tm);
	c->offset_s = (int64_t)t - now->tv_sec;
	c->stats.time_sets++;
	log_debug("cmos: guest set the clock, %+lld s from the host clock", (long long)c->offset_s);
}

static void cmos_write_time(struct cmos *c, uint8_t idx, uint8_t v)
{
	struct timespec now;
	struct tm tm;
	int year, val;

	if (idx == RTC_DAY_OF_WEEK)
		return;

	cmos_now(c, &now);
	cmos_guest_tm(c, &now, &tm);
	year = tm.tm_year + 1900;
	val = idx == RTC_HOURS ? cmos_decode_hour(c, v) : cmos_decode(c, v);

	switch (idx) {
	case RTC_SECONDS:
		if (val < 0 || val > 59)
			goto bad;
		tm.tm_sec = val;
		break;
	case RTC_MINUTES:
		if (val < 0 || val > 59)
			goto bad;
		tm.tm_min = val;
		break;
	case RTC_HOURS:
		if (val < 0 || val > 23)
			goto bad;
		tm.tm_hour = val;
		break;
	case RTC_DAY_OF_MONTH:
		if (val < 1 || val > 31)
			goto bad;
		tm.tm_mday = val;
		break;
	case RTC_MONTH:
		if (val < 1 || val > 12)
			goto bad;
		tm.tm_mon = val - 1;
		break;
	case RTC_YEAR:
		if (val < 0 || val > 99)
			goto bad;
		tm.tm_year = year / 100 * 100 + val - 1900;
		break;
	default: /* RTC_CENTURY */
		if (val < 0 || val > 99)
			goto bad;
		tm.tm_year = val * 100 + year % 100 - 1900;
		break;
	}

	if (c->frozen)
		c->set_tm = tm;
	else
		cmos_commit_time(c, &tm, &now);
	return;
bad:
	c->stats.bad_writes++;
	log_debug("cmos: ignored out-of-range value 0x%02x for register 0x%02x", v, idx);
}

static void cmos_write_reg(struct cmos *c, uint8_t idx, uint8_t v)
{
	struct timespec now;

	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		cmos_write_time(c, idx, v);
		break;
	case RTC_REG_A:
		c->mem[RTC_REG_A] = v & ~RTC_REG_A_UIP;
		break;
	case RTC_REG_B:
		cmos_now(c, &now);
		if ((v & RTC_REG_B_SET) && !c->frozen) {
			cmos_guest_tm(c, &now, &c->set_tm);
			c->frozen = true;
		} else if (!(v & RTC_REG_B_SET) && c->frozen) {
			c->frozen = false;
			cmos_commit_time(c, &c->set_tm, &now);
		}
		c->mem[RTC_REG_B] = v;
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		/* read-only */
		break;
	default:
		c->mem[idx] = v;
		break;
	}
}

static void cmos_count_bad(struct cmos *c, uint64_t offset, uint32_t len)
{
	uint64_t n = ++c->stats.bad_accesses;

	if ((n & (n - 1)) == 0)
		log_debug("cmos: ignored %u-byte access at offset 0x%llx (%llu so far)", len,
			  (unsigned long long)offset, (unsigned long long)n);
}

static void cmos_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct cmos *c = opaque;

	pthread_mutex_lock(&c->lock);
	if (len != 1 || offset > 1) {
		memset(data, 0xff, len);
		cmos_count_bad(c, offset, len);
	} else if (offset == 0) {
		/* the index register is write-only */
		data[0] = 0xff;
	} else {
		data[0] = cmos_read_reg(c, c->index);
	}
	pthread_mutex_unlock(&c->lock);
}

static void cmos_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct cmos *c = opaque;

	pthread_mutex_lock(&c->lock);
	if (len != 1 || offset > 1) {
		cmos_count_bad(c, offset, len);
	} else if (offset == 0) {
		c->index = data[0] & CMOS_INDEX_MASK;
		c->stats.nmi_disabled = data[0] & CMOS_NMI_DISABLE;
	} else {
		cmos_write_reg(c, c->index, data[0]);
	}
	pthread_mutex_unlock(&c->lock);
}

const struct bus_ops cmos_ops = {
	.read = cmos_read,
	.write = cmos_write,
};

void cmos_set_clock(struct cmos *c, void (*clock)(void *opaque, struct timespec *ret), void *opaque)
{
	pthread_mutex_lock(&c->lock);
	c->clock = clock;
	c->clock_opaque = opaque;
	pthread_mutex_unlock(&c->lock);
}

void cmos_get_stats(struct cmos *c, struct cmos_stats *ret)
{
	pthread_mutex_lock(&c->lock);
	*ret = c->stats;
	ret->time_offset_s = c->offset_s;
	pthread_mutex_unlock(&c->lock);
}

static void cmos_put16(struct cmos *c, uint8_t idx, uint64_t v)
{
	v = MIN(v, 0xffffULL);
	c->mem[idx] = v & 0xff;
	c->mem[idx + 1] = (v >> 8) & 0xff;
}

static void cmos_set_memory_size(struct cmos *c, uint64_t below_4g, uint64_t above_4g)
{
	uint64_t above_16m = below_4g > 16 * MiB ? (below_4g - 16 * MiB) / (64 * KiB) : 0;
	uint64_t ext = below_4g > 1 * MiB ? (below_4g - 1 * MiB) / KiB : 0;
	uint64_t high = MIN(above_4g / (64 * KiB), 0xffffffULL);

	cmos_put16(c, CMOS_BASE_MEM_LO, 640);
	cmos_put16(c, CMOS_EXT_MEM_LO, ext);
	cmos_put16(c, CMOS_EXT_MEM2_LO, ext);
	cmos_put16(c, CMOS_MEM_ABOVE_16M_LO, above_16m);
	c->mem[CMOS_MEM_ABOVE_4G_LO] = high & 0xff;
	c->mem[CMOS_MEM_ABOVE_4G_LO + 1] = (high >> 8) & 0xff;
	c->mem[CMOS_MEM_ABOVE_4G_LO + 2] = (high >> 16) & 0xff;
}

int cmos_new(uint64_t mem_below_4g, uint64_t mem_above_4g, struct cmos **ret)
{
	struct cmos *c;
	int r;

	if (!ret)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = pthread_mutex_init(&c->lock, NULL);
	if (r != 0) {
		free(c);
		return -r;
	}
	c->mem[RTC_REG_A] = RTC_REG_A_DEFAULT;
	c->mem[RTC_REG_B] = RTC_REG_B_24H;
	cmos_set_memory_size(c, mem_below_4g, mem_above_4g);
	*ret = c;
	return 0;
}

struct cmos *cmos_free(struct cmos *c)
{
	if (!c)
		return NULL;
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}
