/* SPDX-License-Identifier: Apache-2.0 */
/* The hardware-reduced ACPI sleep and reset registers, written the way ACPICA writes them
 * (acpi_hw_extended_sleep(), acpi_reset()), plus the event enum's string table. */
#include <glib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/acpi-pm.h"

struct pm {
	struct bus bus;
	struct acpi_pm *dev;
	unsigned events[_ACPI_PM_EVENT_MAX];
	unsigned n_events;
};

static void on_event(void *opaque, enum acpi_pm_event ev)
{
	struct pm *p = opaque;

	g_assert_cmpint(ev, >=, 0);
	g_assert_cmpint(ev, <, _ACPI_PM_EVENT_MAX);
	p->events[ev]++;
	p->n_events++;
}

static void pm_setup(struct pm *p)
{
	memset(p, 0, sizeof(*p));
	g_assert_cmpint(acpi_pm_new(on_event, p, &p->dev), ==, 0);
	g_assert_cmpint(
	    bus_register(&p->bus, PORT_ACPI_PM, PORT_ACPI_PM_LEN, &acpi_pm_ops, p->dev, "acpi-pm"), ==, 0);
}

static void pm_teardown(struct pm *p)
{
	p->dev = acpi_pm_free(p->dev);
	g_assert_null(p->dev);
}

static void outb(struct pm *p, uint16_t port, uint8_t v)
{
	g_assert_true(bus_write(&p->bus, port, &v, 1));
}

static uint8_t inb(struct pm *p, uint16_t port)
{
	uint8_t v = 0xaa;

	g_assert_true(bus_read(&p->bus, port, &v, 1));
	return v;
}

static uint8_t sleep_control(unsigned slp_typ, bool slp_en)
{
	return ((slp_typ & ACPI_SLEEP_CONTROL_SLP_TYP_MASK) << ACPI_SLEEP_CONTROL_SLP_TYP_SHIFT) |
	       (slp_en ? ACPI_SLEEP_CONTROL_SLP_EN : 0);
}

static void test_event_table(void)
{
	for (int i = 0; i < _ACPI_PM_EVENT_MAX; i++) {
		const char *s = acpi_pm_event_to_string(i);

		g_assert_nonnull(s);
		g_assert_cmpint(acpi_pm_event_from_string(s), ==, i);
		/* names are unique */
		for (int j = 0; j < i; j++)
			g_assert_cmpstr(acpi_pm_event_to_string(j), !=, s);
	}
	g_assert_cmpstr(acpi_pm_event_to_string(ACPI_PM_EVENT_POWEROFF), ==, "poweroff");
	g_assert_cmpstr(acpi_pm_event_to_string(ACPI_PM_EVENT_RESET), ==, "reset");
	g_assert_null(acpi_pm_event_to_string(_ACPI_PM_EVENT_MAX));
	g_assert_null(acpi_pm_event_to_string(_ACPI_PM_EVENT_INVALID));
	g_assert_null(acpi_pm_event_to_string(-1));
	g_assert_cmpint(acpi_pm_event_from_string("suspend"), ==, -EINVAL);
	g_assert_cmpint(acpi_pm_event_from_string(""), ==, -EINVAL);
	g_assert_cmpint(acpi_pm_event_from_string(NULL), ==, -EINVAL);
}

/* acpi_hw_extended_sleep(ACPI_STATE_S5): clear WAK_STS, then SLP_TYP | SLP_EN. */
static void test_s5(void)
{
	struct pm p;
	struct acpi_pm_stats st;

	pm_setup(&p);
	outb(&p, PORT_ACPI_SLEEP_STATUS, ACPI_SLEEP_STATUS_WAK_STS);
	g_assert_cmpuint(p.n_events, ==, 0);
	outb(&p, PORT_ACPI_SLEEP_CONTROL, sleep_control(ACPI_S5_SLP_TYP, true));
	g_assert_cmpuint(p.n_events, ==, 1);
	g_assert_cmpuint(p.events[ACPI_PM_EVENT_POWEROFF], ==, 1);
	/* powering off does not wake */
	g_assert_false(inb(&p, PORT_ACPI_SLEEP_STATUS) & ACPI_SLEEP_STATUS_WAK_STS);
	acpi_pm_get_stats(p.dev, &st);
	g_assert_cmpuint(st.poweroffs, ==, 1);
	pm_teardown(&p);
}

static void test_other_sleep_types(void)
{
	struct pm p;
	struct acpi_pm_stats st;

	pm_setup(&p);
	/* S5's type without SLP_EN does nothing */
	outb(&p, PORT_ACPI_SLEEP_CONTROL, sleep_control(ACPI_S5_SLP_TYP, false));
	g_assert_cmpuint(p.n_events, ==, 0);
	for (unsigned typ = 0; typ <= ACPI_SLEEP_CONTROL_SLP_TYP_MASK; typ++) {
		if (typ == ACPI_S5_SLP_TYP)
			continue;
		outb(&p, PORT_ACPI_SLEEP_STATUS, ACPI_SLEEP_STATUS_WAK_STS);
		g_assert_false(inb(&p, PORT_ACPI_SLEEP_STATUS) & ACPI_SLEEP_STATUS_WAK_STS);
		outb(&p, PORT_ACPI_SLEEP_CONTROL, sleep_control(typ, true));
		g_assert_cmpuint(p.n_events, ==, 0);
		/* ACPICA then spins until WAK_STS: the guest is woken at once */
		g_assert_true(inb(&p, PORT_ACPI_SLEEP_STATUS) & ACPI_SLEEP_STATUS_WAK_STS);
		/* writing 0 leaves it, writing 1 clears it */
		outb(&p, PORT_ACPI_SLEEP_STATUS, 0);
		g_assert_true(inb(&p, PORT_ACPI_SLEEP_STATUS) & ACPI_SLEEP_STATUS_WAK_STS);
		outb(&p, PORT_ACPI_SLEEP_STATUS, ACPI_SLEEP_STATUS_WAK_STS);
		g_assert_false(inb(&p, PORT_ACPI_SLEEP_STATUS) & ACPI_SLEEP_STATUS_WAK_STS);
	}
	/* every byte without SLP_EN: nothing */
	for (unsigned v = 0; v < 0x100; v++)
		if (!(v & ACPI_SLEEP_CONTROL_SLP_EN))
			outb(&p, PORT_ACPI_SLEEP_CONTROL, v);
	g_assert_cmpuint(p.n_events, ==, 0);
	/* the control register is write-only */
	g_assert_cmphex(inb(&p, PORT_ACPI_SLEEP_CONTROL), ==, 0);
	acpi_pm_get_stats(p.dev, &st);
	g_assert_cmpuint(st.other_sleeps, ==, 7);
	g_assert_cmpuint(st.poweroffs, ==, 0);
	pm_teardown(&p);
}

static void test_reset(void)
{
	struct pm p;

	pm_setup(&p);
	for (unsigned v = 0; v < 0x100; v++)
		if (v != ACPI_RESET_VALUE)
			outb(&p, PORT_ACPI_RESET, v);
	g_assert_cmpuint(p.n_events, ==, 0);
	outb(&p, PORT_ACPI_RESET, ACPI_RESET_VALUE);
	g_assert_cmpuint(p.n_events, ==, 1);
	g_assert_cmpuint(p.events[ACPI_PM_EVENT_RESET], ==, 1);
	pm_teardown(&p);
}

static void test_hostile(void)
{
	struct pm p;
	struct acpi_pm_stats st;
	uint8_t s5[4], buf[4];

	pm_setup(&p);
	/* a wide write that would carry S5 and the reset value is not two register writes */
	memset(s5, sleep_control(ACPI_S5_SLP_TYP, true), sizeof(s5));
	s5[2] = ACPI_RESET_VALUE;
	g_assert_true(bus_write(&p.bus, PORT_ACPI_PM, s5, 4));
	g_assert_true(bus_write(&p.bus, PORT_ACPI_PM, s5, 2));
	g_assert_true(bus_read(&p.bus, PORT_ACPI_PM, buf, 4));
	/* offsets outside the block, and empty accesses */
	acpi_pm_ops.write(p.dev, PORT_ACPI_PM_LEN, s5, 1);
	acpi_pm_ops.write(p.dev, UINT64_MAX, s5, 1);
	acpi_pm_ops.read(p.dev, 100, buf, 1);
	acpi_pm_ops.write(p.dev, 0, s5, 0);
	g_assert_cmpuint(p.n_events, ==, 0);
	acpi_pm_get_stats(p.dev, &st);
	g_assert_cmpuint(st.bad_accesses, ==, 7);
	/* the unused byte of the block reads 0 and ignores writes */
	outb(&p, PORT_ACPI_PM + 3, 0xff);
	g_assert_cmphex(inb(&p, PORT_ACPI_PM + 3), ==, 0);
	g_assert_cmpuint(p.n_events, ==, 0);
	pm_teardown(&p);

	/* no callback: requests are only counted */
	{
		struct acpi_pm *dev = NULL;
		uint8_t v = sleep_control(ACPI_S5_SLP_TYP, true);

		g_assert_cmpint(acpi_pm_new(NULL, NULL, &dev), ==, 0);
		acpi_pm_ops.write(dev, 0, &v, 1);
		acpi_pm_get_stats(dev, &st);
		g_assert_cmpuint(st.poweroffs, ==, 1);
		g_assert_null(acpi_pm_free(dev));
	}
	g_assert_null(acpi_pm_free(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/acpi-pm/event-table", test_event_table);
	g_test_add_func("/acpi-pm/s5", test_s5);
	g_test_add_func("/acpi-pm/other-sleep-types", test_other_sleep_types);
	g_test_add_func("/acpi-pm/reset", test_reset);
	g_test_add_func("/acpi-pm/hostile", test_hostile);
	return g_test_run();
}
