/* SPDX-License-Identifier: Apache-2.0 */
/* The Generic Event Device as the DSDT's _EVT method uses it: an edge on the GED interrupt, then
 * one 32-bit read of the event register that returns and clears the pending bits. */
#include <glib.h>
#include <pthread.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/ged.h"

struct gedt {
	struct bus bus;
	struct ged *g;
	pthread_mutex_t lock;
	bool level;
	unsigned edges, calls;
};

static void on_irq(void *opaque, bool level)
{
	struct gedt *t = opaque;

	pthread_mutex_lock(&t->lock);
	if (level && !t->level)
		t->edges++;
	t->level = level;
	t->calls++;
	pthread_mutex_unlock(&t->lock);
}

static void ged_setup(struct gedt *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	g_assert_cmpint(ged_new(on_irq, t, &t->g), ==, 0);
	g_assert_cmpint(bus_register(&t->bus, LAYOUT_GED_START, GED_REG_LEN, &ged_ops, t->g, "ged"), ==, 0);
}

static void ged_teardown(struct gedt *t)
{
	t->g = ged_free(t->g);
	g_assert_null(t->g);
	pthread_mutex_destroy(&t->lock);
}

static uint32_t read_event(struct gedt *t)
{
	uint32_t v = 0xdeadbeef;

	g_assert_true(bus_read(&t->bus, LAYOUT_GED_START + GED_REG_EVENT, (uint8_t *)&v, sizeof(v)));
	return v;
}

static void test_notify(void)
{
	struct gedt t;
	struct ged_stats st;

	ged_setup(&t);
	g_assert_cmphex(read_event(&t), ==, 0);
	ged_notify(t.g, GED_EVENT_POWER_BUTTON);
	/* an edge: raised, then lowered again */
	g_assert_cmpuint(t.edges, ==, 1);
	g_assert_cmpuint(t.calls, ==, 2);
	g_assert_false(t.level);
	g_assert_cmphex(read_event(&t), ==, GED_EVENT_POWER_BUTTON);
	/* read to clear */
	g_assert_cmphex(read_event(&t), ==, 0);

	/* events accumulate until read, each notification is its own edge */
	ged_notify(t.g, 1u << 3);
	ged_notify(t.g, GED_EVENT_POWER_BUTTON);
	ged_notify(t.g, 1u << 31);
	g_assert_cmpuint(t.edges, ==, 4);
	g_assert_cmphex(read_event(&t), ==, (1u << 3) | GED_EVENT_POWER_BUTTON | (1u << 31));
	g_assert_cmphex(read_event(&t), ==, 0);

	/* nothing to say, no interrupt */
	ged_notify(t.g, 0);
	g_assert_cmpuint(t.edges, ==, 4);
	ged_notify(NULL, GED_EVENT_POWER_BUTTON);

	ged_get_stats(t.g, &st);
	g_assert_cmpuint(st.notifications, ==, 4);
	g_assert_cmpuint(st.reads, ==, 5);
	g_assert_cmpuint(st.bad_accesses, ==, 0);
	ged_teardown(&t);
}

static void test_hostile(void)
{
	struct gedt t;
	struct ged_stats st;
	uint8_t buf[8];
	uint32_t v = 0xffffffff;

	ged_setup(&t);
	ged_notify(t.g, GED_EVENT_POWER_BUTTON);
	/* narrower reads read 0 and do not consume the events */
	memset(buf, 0xaa, sizeof(buf));
	g_assert_true(bus_read(&t.bus, LAYOUT_GED_START, buf, 1));
	g_assert_cmphex(buf[0], ==, 0);
	g_assert_true(bus_read(&t.bus, LAYOUT_GED_START + 2, buf, 2));
	g_assert_cmphex(buf[0] | buf[1], ==, 0);
	memset(buf, 0xaa, sizeof(buf));
	ged_ops.read(t.g, 0, buf, 8);
	for (int i = 0; i < 8; i++)
		g_assert_cmphex(buf[i], ==, 0);
	ged_ops.read(t.g, 4, buf, 4);
	ged_ops.read(t.g, UINT64_MAX, buf, 4);
	ged_ops.read(t.g, 0, buf, 0);
	/* writes are ignored: the guest cannot inject or clear events */
	g_assert_true(bus_write(&t.bus, LAYOUT_GED_START, (uint8_t *)&v, 4));
	ged_ops.write(t.g, 1000, (uint8_t *)&v, 4);
	g_assert_cmphex(read_event(&t), ==, GED_EVENT_POWER_BUTTON);
	g_assert_cmpuint(t.edges, ==, 1);
	ged_get_stats(t.g, &st);
	g_assert_cmpuint(st.bad_accesses, ==, 8);
	ged_teardown(&t);

	{
		struct ged *g = NULL;

		/* no interrupt callback: events are still recorded */
		g_assert_cmpint(ged_new(NULL, NULL, &g), ==, 0);
		ged_notify(g, 2);
		ged_ops.read(g, 0, (uint8_t *)&v, 4);
		g_assert_cmphex(v, ==, 2);
		g_assert_null(ged_free(g));
	}
	g_assert_null(ged_free(NULL));
}

struct notifier {
	struct gedt *t;
	uint32_t bit;
};

static void *notify_thread(void *arg)
{
	struct notifier *n = arg;

	for (int i = 0; i < 20000; i++)
		ged_notify(n->t->g, n->bit);
	return NULL;
}

/* The main loop notifies while a vCPU reads: no event is lost, none invented. */
static void test_concurrent(void)
{
	struct gedt t;
	struct notifier n[4];
	pthread_t th[4];
	uint32_t seen = 0;

	ged_setup(&t);
	for (int i = 0; i < 4; i++) {
		n[i] = (struct notifier){ .t = &t, .bit = 1u << (i * 5) };
		g_assert_cmpint(pthread_create(&th[i], NULL, notify_thread, &n[i]), ==, 0);
	}
	for (int i = 0; i < 20000; i++)
		seen |= read_event(&t);
	for (int i = 0; i < 4; i++)
		g_assert_cmpint(pthread_join(th[i], NULL), ==, 0);
	seen |= read_event(&t);
	g_assert_cmphex(seen, ==, (1u << 0) | (1u << 5) | (1u << 10) | (1u << 15));
	g_assert_cmphex(read_event(&t), ==, 0);
	g_assert_false(t.level);
	g_assert_cmpuint(t.edges, ==, 4 * 20000);
	ged_teardown(&t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ged/notify", test_notify);
	g_test_add_func("/ged/hostile", test_hostile);
	g_test_add_func("/ged/concurrent", test_concurrent);
	return g_test_run();
}
