/* SPDX-License-Identifier: Apache-2.0 */
/* The minimal 8042: Linux's i8042 probe finds an empty controller, the 0xfe pulse reboots. The
 * port-0x80 debug port, the other one-byte legacy port, is tested here too. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/debug-port.h"
#include "devices/legacy/i8042.h"
#include "log.h"

#define I8042_STR_OBF 0x01
#define I8042_STR_IBF 0x02
#define I8042_STR_SYSFLAG 0x04
#define I8042_CMD_CTL_RCTR 0x20
#define I8042_CMD_CTL_TEST 0xaa
#define I8042_CMD_PULSE_RESET 0xfe

struct kbd {
	struct bus bus;
	struct i8042 *k;
	unsigned resets;
};

static void on_reset(void *opaque)
{
	struct kbd *t = opaque;

	t->resets++;
}

static void kbd_setup(struct kbd *t)
{
	memset(t, 0, sizeof(*t));
	g_assert_cmpint(i8042_new(on_reset, t, &t->k), ==, 0);
	g_assert_cmpint(bus_register(&t->bus, PORT_I8042_DATA, 1, &i8042_data_ops, t->k, "i8042-data"), ==,
			0);
	g_assert_cmpint(bus_register(&t->bus, PORT_I8042_CMD, 1, &i8042_cmd_ops, t->k, "i8042-cmd"), ==, 0);
}

static void kbd_teardown(struct kbd *t)
{
	t->k = i8042_free(t->k);
	g_assert_null(t->k);
}

static uint8_t inb(struct bus *b, uint16_t port)
{
	uint8_t v = 0xaa;

	g_assert_true(bus_read(b, port, &v, 1));
	return v;
}

static void outb(struct bus *b, uint16_t port, uint8_t v)
{
	g_assert_true(bus_write(b, port, &v, 1));
}

static void test_status(void)
{
	struct kbd t;
	uint8_t str;

	kbd_setup(&t);
	/* i8042_controller_check(): a present controller (not 0xff), no data, not busy */
	str = inb(&t.bus, PORT_I8042_CMD);
	g_assert_cmphex(str, !=, 0xff);
	g_assert_false(str & I8042_STR_OBF);
	g_assert_false(str & I8042_STR_IBF);
	g_assert_true(str & I8042_STR_SYSFLAG);
	g_assert_cmphex(inb(&t.bus, PORT_I8042_DATA), ==, 0);
	/* commands that expect an answer get none; the guest's driver times out */
	outb(&t.bus, PORT_I8042_CMD, I8042_CMD_CTL_RCTR);
	outb(&t.bus, PORT_I8042_CMD, I8042_CMD_CTL_TEST);
	g_assert_false(inb(&t.bus, PORT_I8042_CMD) & (I8042_STR_OBF | I8042_STR_IBF));
	outb(&t.bus, PORT_I8042_DATA, 0x47);
	g_assert_cmphex(inb(&t.bus, PORT_I8042_DATA), ==, 0);
	g_assert_cmpuint(t.resets, ==, 0);
	kbd_teardown(&t);
}

static void test_reset(void)
{
	struct kbd t;
	struct i8042_stats st;

	kbd_setup(&t);
	for (unsigned v = 0; v < 0x100; v++)
		if (v != I8042_CMD_PULSE_RESET)
			outb(&t.bus, PORT_I8042_CMD, v);
	g_assert_cmpuint(t.resets, ==, 0);
	/* the pulse on the data port is just data */
	outb(&t.bus, PORT_I8042_DATA, I8042_CMD_PULSE_RESET);
	g_assert_cmpuint(t.resets, ==, 0);
	outb(&t.bus, PORT_I8042_CMD, I8042_CMD_PULSE_RESET);
	g_assert_cmpuint(t.resets, ==, 1);
	outb(&t.bus, PORT_I8042_CMD, I8042_CMD_PULSE_RESET);
	g_assert_cmpuint(t.resets, ==, 2);
	i8042_get_stats(t.k, &st);
	g_assert_cmpuint(st.resets, ==, 2);
	g_assert_cmpuint(st.commands, ==, 0x100 + 1);
	kbd_teardown(&t);
}

static void test_hostile(void)
{
	struct kbd t;
	struct i8042_stats st;
	uint8_t wide[4] = {I8042_CMD_PULSE_RESET, I8042_CMD_PULSE_RESET, I8042_CMD_PULSE_RESET,
			   I8042_CMD_PULSE_RESET};

	kbd_setup(&t);
	/* a wide write carrying 0xfe is not a command; offsets beyond the port are ignored */
	i8042_cmd_ops.write(t.k, 0, wide, 2);
	i8042_cmd_ops.write(t.k, 0, wide, 4);
	i8042_cmd_ops.write(t.k, 1, wide, 1);
	i8042_cmd_ops.write(t.k, UINT64_MAX, wide, 1);
	i8042_cmd_ops.write(t.k, 0, wide, 0);
	i8042_data_ops.write(t.k, 7, wide, 1);
	i8042_cmd_ops.read(t.k, 0, wide, 4);
	g_assert_cmphex(wide[0], ==, 0xff);
	i8042_data_ops.read(t.k, 0, wide, 4);
	g_assert_cmphex(wide[0] | wide[1] | wide[2] | wide[3], ==, 0);
	g_assert_cmpuint(t.resets, ==, 0);
	i8042_get_stats(t.k, &st);
	g_assert_cmpuint(st.bad_accesses, ==, 8);
	kbd_teardown(&t);

	/* no callback: the pulse is only counted */
	{
		struct i8042 *k = NULL;
		uint8_t v = I8042_CMD_PULSE_RESET;

		g_assert_cmpint(i8042_new(NULL, NULL, &k), ==, 0);
		i8042_cmd_ops.write(k, 0, &v, 1);
		i8042_get_stats(k, &st);
		g_assert_cmpuint(st.resets, ==, 1);
		g_assert_null(i8042_free(k));
	}
	g_assert_null(i8042_free(NULL));
}

static void test_debug_port(void)
{
	struct bus b = {};
	struct debug_port *d = NULL;
	struct debug_port_stats st;
	uint8_t buf[4];
	g_autofree char *log_path = NULL, *log = NULL;
	int fd;

	/* this is the last test of the binary: the log stays in the file from here on */
	fd = g_file_open_tmp("test-debug-port-XXXXXX", &log_path, NULL);
	g_assert_cmpint(fd, >=, 0);
	close(fd);
	g_assert_cmpint(log_open_file(log_path), ==, 0);
	log_set_level(LOG_LEVEL_DEBUG);
	g_assert_cmpint(debug_port_new(&d), ==, 0);
	g_assert_cmpint(bus_register(&b, PORT_DEBUG, 1, &debug_port_ops, d, "debug-port"), ==, 0);
	debug_port_get_stats(d, &st);
	g_assert_false(st.written);
	g_assert_cmpuint(st.writes, ==, 0);
	g_assert_cmphex(inb(&b, PORT_DEBUG), ==, 0);

	outb(&b, PORT_DEBUG, 0x10);
	outb(&b, PORT_DEBUG, 0x10);
	g_usleep(20000);
	outb(&b, PORT_DEBUG, 0x2a);
	g_assert_cmphex(inb(&b, PORT_DEBUG), ==, 0x2a);
	debug_port_get_stats(d, &st);
	g_assert_true(st.written);
	g_assert_cmpuint(st.writes, ==, 3);
	g_assert_cmphex(st.last, ==, 0x2a);
	g_assert_cmpuint(st.last_ms, >=, 20);
	g_assert_cmpuint(st.last_ms, <, 60000);

	/* wide or misplaced accesses are ignored */
	memset(buf, 0x99, sizeof(buf));
	debug_port_ops.write(d, 0, buf, 4);
	debug_port_ops.write(d, 1, buf, 1);
	debug_port_ops.read(d, 0, buf, 2);
	g_assert_cmphex(buf[0], ==, 0xff);
	g_assert_cmphex(inb(&b, PORT_DEBUG), ==, 0x2a);
	debug_port_get_stats(d, &st);
	g_assert_cmpuint(st.writes, ==, 3);
	g_assert_cmpuint(st.bad_accesses, ==, 3);
	log_set_level(LOG_LEVEL_WARNING);

	/* each new value is logged once, with its time */
	g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
	g_assert_nonnull(strstr(log, "boot progress 0x10 at "));
	g_assert_null(strstr(strstr(log, "boot progress 0x10 at ") + 1, "boot progress 0x10"));
	g_assert_nonnull(strstr(log, "boot progress 0x2a at "));
	g_assert_cmpint(g_unlink(log_path), ==, 0);

	g_assert_null(debug_port_free(d));
	g_assert_null(debug_port_free(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/i8042/status", test_status);
	g_test_add_func("/i8042/reset", test_reset);
	g_test_add_func("/i8042/hostile", test_hostile);
	g_test_add_func("/debug-port/boot-progress", test_debug_port);
	return g_test_run();
}
