/* SPDX-License-Identifier: Apache-2.0 */
/* The CMOS RTC read the way Linux reads it (mc146818_get_time: wait for UIP to clear, read, check
 * the seconds did not move), in BCD and binary, 12 and 24 hours; setting the clock with SET held;
 * the update cycle; the memory size bytes; the NVRAM and hostile accesses. */
#include <glib.h>
#include <string.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/cmos.h"


struct rtc {
	struct bus bus;
	struct cmos *c;
};

static void rtc_setup(struct rtc *r, uint64_t below, uint64_t above)
{
	memset(r, 0, sizeof(*r));
	g_assert_cmpint(cmos_new(below, above, &r->c), ==, 0);
	g_assert_cmpint(bus_register(&r->bus, PORT_CMOS, 2, &cmos_ops, r->c, "cmos"), ==, 0);
}

static void rtc_teardown(struct rtc *r)
{
	r->c = cmos_free(r->c);
	g_assert_null(r->c);
}

static uint8_t cmos_in(struct rtc *r, uint8_t idx)
{
	uint8_t v = 0;

	g_assert_true(bus_write(&r->bus, PORT_CMOS, &idx, 1));
	g_assert_true(bus_read(&r->bus, PORT_CMOS + 1, &v, 1));
	return v;
}

static void cmos_out(struct rtc *r, uint8_t idx, uint8_t v)
{
	g_assert_true(bus_write(&r->bus, PORT_CMOS, &idx, 1));
	g_assert_true(bus_write(&r->bus, PORT_CMOS + 1, &v, 1));
}

static unsigned bcd2bin(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* mc146818_get_time(): returns the RTC's time as UTC seconds; fails the test if UIP never clears
 * within Linux's 10 ms budget. */
static time_t linux_read_rtc(struct rtc *r, struct tm *ret)
{
	int64_t start = mono_us();
	struct tm tm = {};
	uint8_t seconds, ctrl = 0, century = 0;
	bool ok = false;

	while (mono_us() - start < 10000) {
		seconds = cmos_in(r, RTC_SECONDS);
		if (cmos_in(r, RTC_REG_A) & RTC_REG_A_UIP)
			continue;
		if (seconds != cmos_in(r, RTC_SECONDS))
			continue;
		tm.tm_sec = seconds;
		tm.tm_min = cmos_in(r, RTC_MINUTES);
		tm.tm_hour = cmos_in(r, RTC_HOURS);
		tm.tm_mday = cmos_in(r, RTC_DAY_OF_MONTH);
		tm.tm_mon = cmos_in(r, RTC_MONTH);
		tm.tm_year = cmos_in(r, RTC_YEAR);
		century = cmos_in(r, RTC_CENTURY);
		ctrl = cmos_in(r, RTC_REG_B);
		if (cmos_in(r, RTC_REG_A) & RTC_REG_A_UIP)
			continue;
		if (seconds != cmos_in(r, RTC_SECONDS))
			continue;
		ok = true;
		break;
	}
	g_assert_true(ok);

	if (!(ctrl & RTC_REG_B_DM_BINARY)) {
		tm.tm_sec = bcd2bin(tm.tm_sec);
		tm.tm_min = bcd2bin(tm.tm_min);
		tm.tm_hour = bcd2bin(tm.tm_hour & 0x7f) | (tm.tm_hour & 0x80);
		tm.tm_mday = bcd2bin(tm.tm_mday);
		tm.tm_mon = bcd2bin(tm.tm_mon);
		tm.tm_year = bcd2bin(tm.tm_year);
		century = bcd2bin(century);
	}
	if (!(ctrl & RTC_REG_B_24H)) {
		bool pm = tm.tm_hour & 0x80;

		tm.tm_hour = (tm.tm_hour & 0x7f) % 12 + (pm ? 12 : 0);
	}
	tm.tm_year += century * 100 - 1900;
	tm.tm_mon -= 1;
	if (ret)
		*ret = tm;
	return timegm(&tm);
}

static void assert_near_host_time(struct rtc *r)
{
	time_t before = time(NULL);
	time_t t = linux_read_rtc(r, NULL);
	time_t after = time(NULL);

	g_assert_cmpint(t, >=, before - 1);
	g_assert_cmpint(t, <=, after + 1);
}

static void test_time_bcd(void)
{
	struct rtc r;
	struct tm host, tm;
	time_t now;

	rtc_setup(&r, 512 * MiB, 0);
	/* power-on: BCD, 24 hours, valid RAM and time */
	g_assert_cmphex(cmos_in(&r, RTC_REG_B), ==, RTC_REG_B_24H);
	g_assert_cmphex(cmos_in(&r, RTC_REG_D), ==, RTC_REG_D_VRT);
	g_assert_cmphex(cmos_in(&r, RTC_REG_A) & 0x7f, ==, 0x26);
	assert_near_host_time(&r);

	now = linux_read_rtc(&r, &tm);
	gmtime_r(&now, &host);
	/* every field is valid BCD */
	for (uint8_t idx = 0; idx <= RTC_YEAR; idx += (idx < 0x06 ? 2 : 1)) {
		uint8_t v = cmos_in(&r, idx);

		g_assert_cmpuint(v & 0x0f, <=, 9);
		g_assert_cmpuint(v >> 4, <=, 9);
	}
	g_assert_cmpuint(bcd2bin(cmos_in(&r, RTC_CENTURY)), ==, (host.tm_year + 1900) / 100);
	/* day of week: 1 = Sunday */
	g_assert_cmpuint(bcd2bin(cmos_in(&r, RTC_DAY_OF_WEEK)), ==, host.tm_wday + 1);
	rtc_teardown(&r);
}

static void test_time_binary(void)
{
	struct rtc r;
	struct tm tm;

	rtc_setup(&r, 512 * MiB, 0);
	cmos_out(&r, RTC_REG_B, RTC_REG_B_24H | RTC_REG_B_DM_BINARY);
	assert_near_host_time(&r);
	linux_read_rtc(&r, &tm);
	g_assert_cmpuint(cmos_in(&r, RTC_MINUTES), ==, tm.tm_min);
	g_assert_cmpuint(cmos_in(&r, RTC_CENTURY), ==, (tm.tm_year + 1900) / 100);
	/* 12-hour modes, both encodings */
	cmos_out(&r, RTC_REG_B, RTC_REG_B_DM_BINARY);
	assert_near_host_time(&r);
	cmos_out(&r, RTC_REG_B, 0);
	assert_near_host_time(&r);
	rtc_teardown(&r);
}

/* mc146818_set_time(): SET held, fields written, SET released. */
static void set_clock(struct rtc *r, uint8_t ctrl, uint8_t hour, uint8_t min, uint8_t sec, uint8_t mday,
		      uint8_t mon, uint8_t year, uint8_t century)
{
	cmos_out(r, RTC_REG_B, ctrl | RTC_REG_B_SET);
	cmos_out(r, RTC_YEAR, year);
	cmos_out(r, RTC_MONTH, mon);
	cmos_out(r, RTC_DAY_OF_MONTH, mday);
	cmos_out(r, RTC_HOURS, hour);
	cmos_out(r, RTC_MINUTES, min);
	cmos_out(r, RTC_SECONDS, sec);
	cmos_out(r, RTC_CENTURY, century);
	/* updates are stopped while SET is held: no UIP, the fields read back as written */
	g_assert_false(cmos_in(r, RTC_REG_A) & RTC_REG_A_UIP);
	g_assert_cmphex(cmos_in(r, RTC_HOURS), ==, hour);
	cmos_out(r, RTC_REG_B, ctrl);
}

static void test_set_time(void)
{
	struct rtc r;
	struct cmos_stats st;
	struct tm want = { .tm_year = 124, .tm_mon = 5, .tm_mday = 15, .tm_hour = 13, .tm_min = 45 };
	time_t target = timegm(&want), t;
	uint8_t minutes;

	rtc_setup(&r, 512 * MiB, 0);
	set_clock(&r, RTC_REG_B_24H, 0x13, 0x45, 0x00, 0x15, 0x06, 0x24, 0x20);
	t = linux_read_rtc(&r, NULL);
	g_assert_cmpint(t, >=, target);
	g_assert_cmpint(t, <=, target + 2);
	cmos_get_stats(r.c, &st);
	g_assert_cmpuint(st.time_sets, ==, 1);
	g_assert_cmpint(st.time_offset_s, <=, target - time(NULL) + 1);
	g_assert_cmpint(st.time_offset_s, >=, target - time(NULL) - 2);
	/* 2024-06-15 was a Saturday */
	g_assert_cmphex(cmos_in(&r, RTC_DAY_OF_WEEK), ==, 0x07);

	/* 13:45 in 12-hour mode is 1 PM: BCD and binary */
	cmos_out(&r, RTC_REG_B, 0);
	g_assert_cmphex(cmos_in(&r, RTC_HOURS), ==, 0x81);
	cmos_out(&r, RTC_REG_B, RTC_REG_B_DM_BINARY);
	g_assert_cmphex(cmos_in(&r, RTC_HOURS), ==, 0x81);
	g_assert_cmphex(cmos_in(&r, RTC_MINUTES), ==, 45);
	g_assert_cmphex(cmos_in(&r, RTC_YEAR), ==, 24);
	g_assert_cmphex(cmos_in(&r, RTC_CENTURY), ==, 20);

	/* midnight and noon in 12-hour mode, set in 12-hour mode */
	set_clock(&r, 0, 0x12, 0x10, 0x00, 0x01, 0x01, 0x99, 0x19); /* 12 AM */
	cmos_out(&r, RTC_REG_B, RTC_REG_B_24H);
	g_assert_cmphex(cmos_in(&r, RTC_HOURS), ==, 0x00);
	g_assert_cmphex(cmos_in(&r, RTC_YEAR), ==, 0x99);
	g_assert_cmphex(cmos_in(&r, RTC_CENTURY), ==, 0x19);
	set_clock(&r, 0, 0x92, 0x10, 0x00, 0x01, 0x01, 0x99, 0x19); /* 12 PM */
	cmos_out(&r, RTC_REG_B, RTC_REG_B_24H);
	g_assert_cmphex(cmos_in(&r, RTC_HOURS), ==, 0x12);

	/* a single write without SET applies at once */
	cmos_out(&r, RTC_MINUTES, 0x30);
	g_assert_cmphex(cmos_in(&r, RTC_MINUTES), ==, 0x30);
	/* writes to the day of week are ignored: it follows the date */
	cmos_out(&r, RTC_DAY_OF_WEEK, 0x03);
	g_assert_cmphex(cmos_in(&r, RTC_DAY_OF_WEEK), ==, 0x06); /* 1999-01-01: Friday */

	/* out-of-range and non-BCD values are refused */
	cmos_get_stats(r.c, &st);
	minutes = cmos_in(&r, RTC_MINUTES);
	cmos_out(&r, RTC_MINUTES, 0x60);
	cmos_out(&r, RTC_MINUTES, 0x3a);
	cmos_out(&r, RTC_HOURS, 0x24);
	cmos_out(&r, RTC_MONTH, 0x00);
	cmos_out(&r, RTC_MONTH, 0x13);
	cmos_out(&r, RTC_DAY_OF_MONTH, 0x32);
	cmos_out(&r, RTC_YEAR, 0xff);
	cmos_out(&r, RTC_REG_B, 0); /* 12 hours: hour 0 and 13 do not exist */
	cmos_out(&r, RTC_HOURS, 0x00);
	cmos_out(&r, RTC_HOURS, 0x13);
	{
		struct cmos_stats st2;

		cmos_get_stats(r.c, &st2);
		g_assert_cmpuint(st2.bad_writes, ==, st.bad_writes + 9);
		g_assert_cmpuint(st2.time_sets, ==, st.time_sets);
	}
	g_assert_cmphex(cmos_in(&r, RTC_MINUTES), ==, minutes);
	rtc_teardown(&r);
}

/* How long UIP stays set as seen on the host clock over two update cycles (0 if it was never
 * seen: this host may well deschedule us across every 244 us window). */
static int64_t uip_longest_us(struct rtc *r)
{
	int64_t start = mono_us(), set_since = -1, longest = 0;
	unsigned rises = 0;
	bool prev = false;

	while (mono_us() - start < 2200000 && rises < 2) {
		bool uip = cmos_in(r, RTC_REG_A) & RTC_REG_A_UIP;
		int64_t now = mono_us();

		if (uip && !prev) {
			rises++;
			set_since = now;
		}
		if (uip)
			longest = MAX(longest, now - set_since);
		prev = uip;
	}
	return longest;
}

/* On the real host clock UIP never stays set for long. The exact window is checked with a fake
 * clock in /cmos/update-cycle. */
static void test_uip(void)
{
	struct rtc r;
	int64_t longest = 0, start;

	rtc_setup(&r, 512 * MiB, 0);
	/* The real part holds UIP at most 244 us + 2 ms; Linux gives up after 10 ms. A loaded test
	 * host may preempt us while we look, so one clean measurement out of three is enough. */
	for (int attempt = 0; attempt < 3; attempt++) {
		longest = uip_longest_us(&r);
		if (longest < 3000)
			break;
	}
	g_assert_cmpint(longest, <, 3000);

	/* the guest cannot set UIP, and SET stops updates (and UIP) */
	cmos_out(&r, RTC_REG_A, 0xa6);
	g_assert_cmphex(cmos_in(&r, RTC_REG_A) & 0x7f, ==, 0x26);
	cmos_out(&r, RTC_REG_B, RTC_REG_B_24H | RTC_REG_B_SET);
	start = mono_us();
	while (mono_us() - start < 1100000)
		g_assert_false(cmos_in(&r, RTC_REG_A) & RTC_REG_A_UIP);
	cmos_out(&r, RTC_REG_B, RTC_REG_B_24H);
	rtc_teardown(&r);
}

struct fake_clock {
	struct timespec now;
	long step_ns; /* how far each reading advances the clock */
};

static void fake_clock_read(void *opaque, struct timespec *ret)
{
	struct fake_clock *f = opaque;

	*ret = f->now;
	f->now.tv_nsec += f->step_ns;
	f->now.tv_sec += f->now.tv_nsec / 1000000000L;
	f->now.tv_nsec %= 1000000000L;
}

static void fake_clock_set(struct fake_clock *f, time_t sec, long nsec)
{
	f->now = (struct timespec){ .tv_sec = sec, .tv_nsec = nsec };
}

/* The update cycle and the time registers against a clock the test controls. */
static void test_update_cycle(void)
{
	struct rtc r;
	struct fake_clock f = {};
	struct tm when = { .tm_year = 124, .tm_mon = 5, .tm_mday = 15, .tm_hour = 13, .tm_min = 45,
			   .tm_sec = 59 };
	struct tm eoc = { .tm_year = 199, .tm_mon = 11, .tm_mday = 31, .tm_hour = 23, .tm_min = 59,
			  .tm_sec = 59 };
	time_t t = timegm(&when), t2;

	rtc_setup(&r, 512 * MiB, 0);
	cmos_set_clock(r.c, fake_clock_read, &f);

	/* 2024-06-15 13:45:59.5 UTC, a Saturday */
	fake_clock_set(&f, t, 500000000);
	g_assert_cmphex(cmos_in(&r, RTC_SECONDS), ==, 0x59);
	g_assert_cmphex(cmos_in(&r, RTC_MINUTES), ==, 0x45);
	g_assert_cmphex(cmos_in(&r, RTC_HOURS), ==, 0x13);
	g_assert_cmphex(cmos_in(&r, RTC_DAY_OF_WEEK), ==, 0x07);
	g_assert_cmphex(cmos_in(&r, RTC_DAY_OF_MONTH), ==, 0x15);
	g_assert_cmphex(cmos_in(&r, RTC_MONTH), ==, 0x06);
	g_assert_cmphex(cmos_in(&r, RTC_YEAR), ==, 0x24);
	g_assert_cmphex(cmos_in(&r, RTC_CENTURY), ==, 0x20);
	g_assert_false(cmos_in(&r, RTC_REG_A) & RTC_REG_A_UIP);

	/* UIP: the last 244 us before each second */
	fake_clock_set(&f, t, 999755999);
	g_assert_false(cmos_in(&r, RTC_REG_A) & RTC_REG_A_UIP);
	fake_clock_set(&f, t, 999756000);
	g_assert_true(cmos_in(&r, RTC_REG_A) & RTC_REG_A_UIP);
	fake_clock_set(&f, t, 999999999);
	g_assert_true(cmos_in(&r, RTC_REG_A) & RTC_REG_A_UIP);
	g_assert_cmphex(cmos_in(&r, RTC_SECONDS), ==, 0x59);
	fake_clock_set(&f, t + 1, 0);
	g_assert_false(cmos_in(&r, RTC_REG_A) & RTC_REG_A_UIP);
	g_assert_cmphex(cmos_in(&r, RTC_SECONDS), ==, 0x00);
	g_assert_cmphex(cmos_in(&r, RTC_MINUTES), ==, 0x46);

	/* Linux started inside the window waits it out and reads the new second */
	fake_clock_set(&f, t, 999800000);
	f.step_ns = 20000;
	g_assert_cmpint(linux_read_rtc(&r, NULL), ==, t + 1);
	f.step_ns = 0;

	/* SET stops the clock and UIP, even inside the window */
	fake_clock_set(&f, t, 999900000);
	cmos_out(&r, RTC_REG_B, RTC_REG_B_24H | RTC_REG_B_SET);
	g_assert_false(cmos_in(&r, RTC_REG_A) & RTC_REG_A_UIP);
	fake_clock_set(&f, t + 5, 999900000);
	g_assert_false(cmos_in(&r, RTC_REG_A) & RTC_REG_A_UIP);
	g_assert_cmphex(cmos_in(&r, RTC_SECONDS), ==, 0x59);
	g_assert_cmphex(cmos_in(&r, RTC_MINUTES), ==, 0x45);
	/* releasing SET starts the clock again from the held time */
	cmos_out(&r, RTC_REG_B, RTC_REG_B_24H);
	g_assert_cmphex(cmos_in(&r, RTC_SECONDS), ==, 0x59);
	fake_clock_set(&f, t + 15, 0);
	g_assert_cmphex(cmos_in(&r, RTC_SECONDS), ==, 0x09);
	g_assert_cmphex(cmos_in(&r, RTC_MINUTES), ==, 0x46);

	/* the century rolls over with the year */
	cmos_set_clock(r.c, NULL, NULL);
	rtc_teardown(&r);
	rtc_setup(&r, 512 * MiB, 0);
	cmos_set_clock(r.c, fake_clock_read, &f);
	t2 = timegm(&eoc);
	fake_clock_set(&f, t2, 900000000);
	g_assert_cmphex(cmos_in(&r, RTC_CENTURY), ==, 0x20);
	g_assert_cmphex(cmos_in(&r, RTC_YEAR), ==, 0x99);
	g_assert_cmphex(cmos_in(&r, RTC_MONTH), ==, 0x12);
	fake_clock_set(&f, t2 + 1, 100000000);
	g_assert_cmphex(cmos_in(&r, RTC_CENTURY), ==, 0x21);
	g_assert_cmphex(cmos_in(&r, RTC_YEAR), ==, 0x00);
	g_assert_cmphex(cmos_in(&r, RTC_MONTH), ==, 0x01);
	g_assert_cmphex(cmos_in(&r, RTC_DAY_OF_MONTH), ==, 0x01);
	g_assert_cmphex(cmos_in(&r, RTC_HOURS), ==, 0x00);
	/* binary, 12 hours: 00:00 is 12 AM */
	cmos_out(&r, RTC_REG_B, RTC_REG_B_DM_BINARY);
	g_assert_cmphex(cmos_in(&r, RTC_HOURS), ==, 12);
	g_assert_cmphex(cmos_in(&r, RTC_CENTURY), ==, 21);
	/* a clock callback returning nonsense nanoseconds is tamed */
	fake_clock_set(&f, t2, -5);
	(void)cmos_in(&r, RTC_REG_A);
	fake_clock_set(&f, t2, 2000000000L);
	(void)cmos_in(&r, RTC_REG_A);
	rtc_teardown(&r);
}

static void test_memory_size(void)
{
	struct rtc r;

	/* 3 GiB below 4 GiB, 5 GiB above */
	rtc_setup(&r, 3 * GiB, 5 * GiB);
	g_assert_cmphex(cmos_in(&r, 0x34) | cmos_in(&r, 0x35) << 8, ==, (3 * GiB - 16 * MiB) / (64 * KiB));
	g_assert_cmphex(cmos_in(&r, 0x34), ==, 0x00);
	g_assert_cmphex(cmos_in(&r, 0x35), ==, 0xbf);
	g_assert_cmphex(cmos_in(&r, 0x5b), ==, 0x00);
	g_assert_cmphex(cmos_in(&r, 0x5c), ==, 0x40);
	g_assert_cmphex(cmos_in(&r, 0x5d), ==, 0x01);
	/* base memory 640 KiB, extended memory capped at 0xffff KiB */
	g_assert_cmphex(cmos_in(&r, 0x15) | cmos_in(&r, 0x16) << 8, ==, 640);
	g_assert_cmphex(cmos_in(&r, 0x17) | cmos_in(&r, 0x18) << 8, ==, 0xffff);
	g_assert_cmphex(cmos_in(&r, 0x30) | cmos_in(&r, 0x31) << 8, ==, 0xffff);
	rtc_teardown(&r);

	/* less than 16 MiB: nothing above 16 MiB, nothing above 4 GiB */
	rtc_setup(&r, 8 * MiB, 0);
	g_assert_cmphex(cmos_in(&r, 0x34), ==, 0);
	g_assert_cmphex(cmos_in(&r, 0x35), ==, 0);
	g_assert_cmphex(cmos_in(&r, 0x5b) | cmos_in(&r, 0x5c) | cmos_in(&r, 0x5d), ==, 0);
	g_assert_cmphex(cmos_in(&r, 0x17) | cmos_in(&r, 0x18) << 8, ==, 7 * 1024);
	rtc_teardown(&r);

	/* more than fits: clamped, not wrapped */
	rtc_setup(&r, 4 * GiB, 2048 * GiB);
	g_assert_cmphex(cmos_in(&r, 0x34) | cmos_in(&r, 0x35) << 8, ==, 0xff00);
	g_assert_cmphex(cmos_in(&r, 0x5b), ==, 0xff);
	g_assert_cmphex(cmos_in(&r, 0x5c), ==, 0xff);
	g_assert_cmphex(cmos_in(&r, 0x5d), ==, 0xff);
	rtc_teardown(&r);
}

static void test_nvram_and_hostile(void)
{
	struct rtc r;
	struct cmos_stats st;
	uint8_t buf[4] = {0x12, 0x34, 0x56, 0x78}, v;

	rtc_setup(&r, 1 * GiB, 0);
	/* ordinary bytes are stored; bit 7 of the index disables NMI and selects the same byte */
	for (unsigned idx = 0x0e; idx < 0x80; idx++)
		if (idx != RTC_CENTURY)
			cmos_out(&r, idx, idx ^ 0xa5);
	for (unsigned idx = 0x0e; idx < 0x80; idx++)
		if (idx != RTC_CENTURY)
			g_assert_cmphex(cmos_in(&r, idx | CMOS_NMI_DISABLE), ==, idx ^ 0xa5);
	cmos_get_stats(r.c, &st);
	g_assert_true(st.nmi_disabled);
	cmos_in(&r, 0x10);
	cmos_get_stats(r.c, &st);
	g_assert_false(st.nmi_disabled);
	/* C has no flags (no RTC interrupt), D always says the time is valid; both read-only */
	cmos_out(&r, RTC_REG_C, 0xff);
	cmos_out(&r, RTC_REG_D, 0x00);
	g_assert_cmphex(cmos_in(&r, RTC_REG_C), ==, 0);
	g_assert_cmphex(cmos_in(&r, RTC_REG_D), ==, RTC_REG_D_VRT);
	/* the index register reads as all-ones */
	g_assert_true(bus_read(&r.bus, PORT_CMOS, &v, 1));
	g_assert_cmphex(v, ==, 0xff);

	/* wrong sizes and offsets: ignored and counted */
	g_assert_true(bus_write(&r.bus, PORT_CMOS, buf, 2));
	g_assert_true(bus_read(&r.bus, PORT_CMOS, buf, 2));
	g_assert_cmphex(buf[0], ==, 0xff);
	cmos_ops.write(r.c, 2, buf, 1);
	cmos_ops.read(r.c, UINT64_MAX, buf, 1);
	cmos_ops.write(r.c, 1, buf, 0);
	cmos_get_stats(r.c, &st);
	g_assert_cmpuint(st.bad_accesses, ==, 5);
	g_assert_cmphex(cmos_in(&r, 0x10), ==, 0x10 ^ 0xa5);

	/* every value into every register: the clock keeps running, nothing breaks */
	for (unsigned idx = 0; idx < 0x100; idx++)
		for (unsigned val = 0; val < 0x100; val++) {
			cmos_out(&r, idx, val);
			(void)cmos_in(&r, idx);
		}
	cmos_out(&r, RTC_REG_B, RTC_REG_B_24H);
	cmos_out(&r, RTC_REG_A, 0x26);
	(void)linux_read_rtc(&r, NULL);
	rtc_teardown(&r);
	g_assert_null(cmos_free(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cmos/time-bcd", test_time_bcd);
	g_test_add_func("/cmos/time-binary", test_time_binary);
	g_test_add_func("/cmos/set-time", test_set_time);
	g_test_add_func("/cmos/uip", test_uip);
	g_test_add_func("/cmos/update-cycle", test_update_cycle);
	g_test_add_func("/cmos/memory-size", test_memory_size);
	g_test_add_func("/cmos/nvram-hostile", test_nvram_and_hostile);
	return g_test_run();
}
