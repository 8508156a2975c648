/* SPDX-License-Identifier: Apache-2.0 */
/* The 16550A model driven through the port bus the way Linux's 8250 driver drives it: the probe
 * (autoconfig), the start-up interrupt tests, interrupt-driven transmit behind an edge-triggered
 * IOAPIC pin, console writes in between, receive, loopback, the divisor latch and hostile accesses.
 * Output is captured through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/serial.h"

/* include/uapi/linux/serial_reg.h */
#define UART_RX 0
#define UART_TX 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_EFR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI 0x08
#define UART_IER_UUE 0x40
#define UART_IIR_NO_INT 0x01
#define UART_IIR_ID 0x0e
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_64BYTE_FIFO 0x20
#define UART_IIR_FIFO_ENABLED 0xc0
#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR_R_TRIG_10 0x80
#define UART_FCR7_64BYTE 0x20
#define UART_LCR_DLAB 0x80
#define UART_LCR_WLEN8 0x03
#define UART_LCR_CONF_MODE_A 0x80
#define UART_LCR_CONF_MODE_B 0xbf
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_BOTH_EMPTY (UART_LSR_THRE | UART_LSR_TEMT)
#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_ANY_DELTA 0x0f

struct uart {
	struct bus bus;
	struct serial *s;
	int out[2]; /* out[1] is the device's output, out[0] the test's end */
	bool level;
	unsigned rising, falling, redundant;
	bool irr; /* an edge-triggered IOAPIC pin latched a rising edge */
};

static void on_irq(void *opaque, bool level)
{
	struct uart *u = opaque;

	if (level == u->level)
		u->redundant++;
	u->level = level;
	if (level) {
		u->rising++;
		u->irr = true;
	} else {
		u->falling++;
	}
}

static void uart_setup(struct uart *u)
{
	memset(u, 0, sizeof(*u));
	g_assert_cmpint(pipe2(u->out, O_CLOEXEC), ==, 0);
	g_assert_cmpint(fcntl(u->out[0], F_SETFL, O_NONBLOCK), ==, 0);
	g_assert_cmpint(serial_new(u->out[1], on_irq, u, &u->s), ==, 0);
	g_assert_cmpint(bus_register(&u->bus, PORT_COM1, PORT_COM1_LEN, &serial_ops, u->s, "serial"), ==, 0);
}

static void uart_teardown(struct uart *u)
{
	g_assert_cmpuint(u->redundant, ==, 0);
	u->s = serial_free(u->s);
	g_assert_null(u->s);
	if (u->out[0] >= 0)
		close(u->out[0]);
	if (u->out[1] >= 0)
		close(u->out[1]);
}

static uint8_t in(struct uart *u, unsigned reg)
{
	uint8_t v = 0;

	g_assert_true(bus_read(&u->bus, PORT_COM1 + reg, &v, 1));
	return v;
}

static void out(struct uart *u, unsigned reg, uint8_t v)
{
	g_assert_true(bus_write(&u->bus, PORT_COM1 + reg, &v, 1));
}

static GString *drain_output(struct uart *u)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	while ((n = read(u->out[0], buf, sizeof(buf))) > 0)
		g_string_append_len(s, buf, n);
	return s;
}

/* drivers/tty/serial/8250/8250_port.c: autoconfig() and autoconfig_16550a(), run with the flags
 * the COM1 platform device has (UPF_SKIP_TEST is ignored so the loopback check runs too). */
static void linux_autoconfig(struct uart *u)
{
	uint8_t scratch, scratch2, scratch3, save_mcr, save_lcr, status1, status2, iersave;

	scratch = in(u, UART_IER);
	out(u, UART_IER, 0);
	scratch2 = in(u, UART_IER) & 0x0f;
	out(u, UART_IER, 0x0f);
	scratch3 = in(u, UART_IER) & 0x0f;
	out(u, UART_IER, scratch);
	g_assert_cmphex(scratch2, ==, 0);
	g_assert_cmphex(scratch3, ==, 0x0f);

	save_mcr = in(u, UART_MCR);
	save_lcr = in(u, UART_LCR);

	out(u, UART_MCR, UART_MCR_LOOP | 0x0a);
	status1 = in(u, UART_MSR) & 0xf0;
	out(u, UART_MCR, save_mcr);
	g_assert_cmphex(status1, ==, 0x90);

	out(u, UART_LCR, UART_LCR_CONF_MODE_B);
	out(u, UART_EFR, 0);
	out(u, UART_LCR, 0);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	scratch = in(u, UART_IIR) >> 6;
	g_assert_cmpuint(scratch, ==, 3); /* 16550A */

	/* autoconfig_16550a(): no EFR with DLAB set ... */
	out(u, UART_LCR, UART_LCR_CONF_MODE_A);
	g_assert_cmphex(in(u, UART_EFR), !=, 0);
	/* ... nor with 0xbf in LCR */
	out(u, UART_LCR, UART_LCR_CONF_MODE_B);
	g_assert_cmphex(in(u, UART_EFR), !=, 0);
	/* not a NatSemi SuperIO */
	out(u, UART_LCR, 0);
	status1 = in(u, UART_MCR);
	out(u, UART_LCR, 0xe0);
	status2 = in(u, 0x02);
	if (!((status2 ^ status1) & UART_MCR_LOOP)) {
		out(u, UART_LCR, 0);
		out(u, UART_MCR, status1 ^ UART_MCR_LOOP);
		out(u, UART_LCR, 0xe0);
		status2 = in(u, 0x02);
		out(u, UART_LCR, 0);
		out(u, UART_MCR, status1);
		g_assert_false((status2 ^ status1) & UART_MCR_LOOP);
	}
	/* not a TI16750 */
	out(u, UART_LCR, 0);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	status1 = in(u, UART_IIR) & (UART_IIR_64BYTE_FIFO | UART_IIR_FIFO_ENABLED);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_LCR, UART_LCR_CONF_MODE_A);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	status2 = in(u, UART_IIR) & (UART_IIR_64BYTE_FIFO | UART_IIR_FIFO_ENABLED);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_LCR, 0);
	g_assert_cmphex(status1, ==, UART_IIR_FIFO_ENABLED);
	g_assert_cmphex(status2, ==, UART_IIR_FIFO_ENABLED);
	/* not an XScale: IER's UUE bit does not stick */
	iersave = in(u, UART_IER);
	out(u, UART_IER, iersave & ~UART_IER_UUE);
	g_assert_false(in(u, UART_IER) & UART_IER_UUE);
	out(u, UART_IER, iersave | UART_IER_UUE);
	g_assert_false(in(u, UART_IER) & UART_IER_UUE);
	out(u, UART_IER, iersave);

	out(u, UART_LCR, save_lcr);
	out(u, UART_MCR, save_mcr);
	/* serial8250_clear_fifos() */
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	out(u, UART_FCR, 0);
	(void)in(u, UART_RX);
	out(u, UART_IER, 0);
}

/* serial8250_do_startup(): the interrupt tests decide whether the driver trusts THRE interrupts. */
static void linux_startup(struct uart *u)
{
	uint8_t iir1, iir, lsr;

	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	out(u, UART_FCR, 0);
	(void)in(u, UART_LSR);
	(void)in(u, UART_RX);
	(void)in(u, UART_IIR);
	(void)in(u, UART_MSR);
	g_assert_cmphex(in(u, UART_LSR), !=, 0xff); /* "LSR safety check engaged!" */

	/* UART_BUG_THRE test: THRE must be re-asserted when ETBEI is enabled again. */
	g_assert_true(in(u, UART_LSR) & UART_LSR_THRE);
	out(u, UART_IER, UART_IER_THRI);
	iir1 = in(u, UART_IIR);
	out(u, UART_IER, 0);
	out(u, UART_IER, UART_IER_THRI);
	iir = in(u, UART_IIR);
	out(u, UART_IER, 0);
	g_assert_false(iir1 & UART_IIR_NO_INT);
	g_assert_false(iir & UART_IIR_NO_INT);

	out(u, UART_LCR, UART_LCR_WLEN8);
	out(u, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);

	/* UART_BUG_TXEN test */
	out(u, UART_IER, UART_IER_THRI);
	lsr = in(u, UART_LSR);
	iir = in(u, UART_IIR);
	out(u, UART_IER, 0);
	g_assert_false((lsr & UART_LSR_TEMT) && (iir & UART_IIR_NO_INT));

	(void)in(u, UART_LSR);
	(void)in(u, UART_RX);
	(void)in(u, UART_IIR);
	(void)in(u, UART_MSR);
	/* set_termios: FIFO on with a receive trigger level */
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
	out(u, UART_IER, UART_IER_RDI | UART_IER_RLSI);
	g_assert_false(u->level);
}

/* The interrupt-driven transmit path of the 8250 driver, for one port behind an edge-triggered pin:
 * uart_write() -> __start_tx() -> serial8250_interrupt() -> serial8250_handle_irq() -> tx_chars(). */
struct driver {
	struct uart *u;
	uint8_t ier;
	GString *xmit; /* the tty's transmit buffer: bytes from pos on are still to send */
	size_t pos;
	GString *rx;
	unsigned isr_runs, unhandled;
};

static void drv_stop_tx(struct driver *d)
{
	if (d->ier & UART_IER_THRI) {
		d->ier &= ~UART_IER_THRI;
		out(d->u, UART_IER, d->ier);
	}
}

static void drv_tx_chars(struct driver *d)
{
	if (d->pos == d->xmit->len) {
		drv_stop_tx(d);
		return;
	}
	for (int count = 16; count > 0 && d->pos < d->xmit->len; count--)
		out(d->u, UART_TX, d->xmit->str[d->pos++]);
	if (d->pos == d->xmit->len)
		drv_stop_tx(d);
}

static bool drv_handle_irq(struct driver *d)
{
	uint8_t iir = in(d->u, UART_IIR), lsr;

	if (iir & UART_IIR_NO_INT)
		return false;
	lsr = in(d->u, UART_LSR);
	for (int max = 256; (lsr & UART_LSR_DR) && max > 0; max--) {
		g_string_append_c(d->rx, in(d->u, UART_RX));
		lsr = in(d->u, UART_LSR);
	}
	(void)in(d->u, UART_MSR);
	if ((lsr & UART_LSR_THRE) && (d->ier & UART_IER_THRI))
		drv_tx_chars(d);
	return true;
}

static void drv_interrupt(struct driver *d)
{
	bool handled = false;

	for (int pass = 0; pass < 512 && drv_handle_irq(d); pass++)
		handled = true;
	if (!handled)
		d->unhandled++;
	d->isr_runs++;
}

/* The CPU takes the latched edge: a new edge while the handler runs is taken after it. */
static void drv_deliver(struct driver *d)
{
	while (d->u->irr) {
		d->u->irr = false;
		drv_interrupt(d);
	}
}

static void drv_start_tx(struct driver *d)
{
	if (!(d->ier & UART_IER_THRI)) {
		d->ier |= UART_IER_THRI;
		out(d->u, UART_IER, d->ier);
	}
}

static void drv_user_write(struct driver *d, const char *buf, size_t len)
{
	g_string_append_len(d->xmit, buf, len);
	drv_start_tx(d);
}

/* serial8250_console_write(): IER saved, cleared, polled output, IER restored. */
static void drv_console_write(struct driver *d, const char *msg)
{
	uint8_t ier = in(d->u, UART_IER);

	out(d->u, UART_IER, 0);
	for (const char *p = msg; *p; p++) {
		int spins = 0;

		while (!(in(d->u, UART_LSR) & UART_LSR_THRE))
			g_assert_cmpint(++spins, <, 1000);
		out(d->u, UART_TX, *p);
	}
	g_assert_cmphex(in(d->u, UART_LSR) & UART_LSR_BOTH_EMPTY, ==, UART_LSR_BOTH_EMPTY);
	out(d->u, UART_IER, ier);
}

static void test_probe(void)
{
	struct uart u;

	uart_setup(&u);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_NO_INT);
	g_assert_cmphex(in(&u, UART_LSR), ==, UART_LSR_BOTH_EMPTY);
	linux_autoconfig(&u);
	linux_startup(&u);
	g_assert_false(u.level);
	uart_teardown(&u);
}

/* The exact THRE interrupt rules, one step at a time. */
static void test_thre_rules(void)
{
	struct uart u;
	g_autoptr(GString) o = NULL;

	uart_setup(&u);
	out(&u, UART_FCR, UART_FCR_ENABLE_FIFO);

	/* enabling ETBEI with THR empty raises the interrupt */
	out(&u, UART_IER, UART_IER_THRI);
	g_assert_true(u.level);
	g_assert_cmpuint(u.rising, ==, 1);
	/* reading IIR while it reports THRI clears it */
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_THRI);
	g_assert_false(u.level);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
	/* rewriting the same IER value is no new edge of ETBEI */
	out(&u, UART_IER, UART_IER_THRI);
	g_assert_false(u.level);
	/* a write to THR empties at once: THRE is raised again */
	out(&u, UART_TX, 'a');
	g_assert_true(u.level);
	g_assert_cmpuint(u.rising, ==, 2);
	/* writing THR while THRI is pending: the line falls and rises, a fresh edge */
	out(&u, UART_TX, 'b');
	g_assert_true(u.level);
	g_assert_cmpuint(u.rising, ==, 3);
	g_assert_cmpuint(u.falling, ==, 2);
	/* masking ETBEI drops the line; unmasking raises it again even though IIR was read */
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_THRI);
	out(&u, UART_IER, 0);
	g_assert_false(u.level);
	out(&u, UART_IER, UART_IER_THRI);
	g_assert_true(u.level);
	/* RX data outranks THRI, and reading IIR then does not clear THRI */
	out(&u, UART_IER, UART_IER_THRI | UART_IER_RDI);
	g_assert_cmpuint(serial_enqueue_input(u.s, (const uint8_t *)"x", 1), ==, 1);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
	g_assert_cmphex(in(&u, UART_RX), ==, 'x');
	g_assert_true(u.level);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_THRI);
	g_assert_false(u.level);
	/* with the FIFO off, IIR's top bits are clear */
	out(&u, UART_FCR, 0);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_NO_INT);

	o = drain_output(&u);
	g_assert_cmpstr(o->str, ==, "ab");
	uart_teardown(&u);
}

/* Userspace writes through the interrupt-driven path never stall, with console output in between. */
static void test_interrupt_driven_tx(void)
{
	struct uart u;
	struct driver d = {};
	g_autoptr(GString) expected = g_string_new(NULL);
	g_autoptr(GString) o = NULL;
	struct serial_stats st;
	char chunk[300];

	uart_setup(&u);
	linux_autoconfig(&u);
	linux_startup(&u);
	d.u = &u;
	d.ier = in(&u, UART_IER);
	d.xmit = g_string_new(NULL);
	d.rx = g_string_new(NULL);

	for (int i = 0; i < 40; i++) {
		for (size_t j = 0; j < sizeof(chunk); j++)
			chunk[j] = 'A' + (i + j) % 26;
		unsigned before = u.rising;

		drv_user_write(&d, chunk, sizeof(chunk));
		/* enabling ETBEI must have produced an edge the CPU will take */
		g_assert_cmpuint(u.rising, >, before);
		if (i % 4 == 1) {
			/* printk arrives before the CPU took the interrupt, and goes out first */
			drv_console_write(&d, "[console]\n");
			g_string_append(expected, "[console]\n");
		}
		g_string_append_len(expected, chunk, sizeof(chunk));
		drv_deliver(&d);
		/* everything queued went out: no stall */
		g_assert_cmpuint(d.pos, ==, d.xmit->len);
		g_assert_false(d.ier & UART_IER_THRI);
		g_assert_false(u.level);
		if (i % 4 == 1) {
			o = drain_output(&u);
			g_assert_cmpuint(o->len, ==, expected->len);
			g_assert_cmpmem(o->str, o->len, expected->str, expected->len);
			g_string_truncate(expected, 0);
			g_string_free(g_steal_pointer(&o), TRUE);
		}
	}
	o = drain_output(&u);
	g_assert_cmpmem(o->str, o->len, expected->str, expected->len);
	/* an edge per THR write may leave one interrupt for a handler that finds nothing, never a
	 * majority of them (Linux disables an IRQ line that nobody handles) */
	g_assert_cmpuint(d.unhandled * 2, <=, d.isr_runs + 1);

	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.tx_bytes, ==, 40 * sizeof(chunk) + 10 * strlen("[console]\n"));
	g_assert_cmpuint(st.dropped, ==, 0);
	g_string_free(d.xmit, TRUE);
	g_string_free(d.rx, TRUE);
	uart_teardown(&u);
}

static void test_rx(void)
{
	struct uart u;
	struct driver d = {};
	struct serial_stats st;
	uint8_t big[8192];
	size_t accepted;

	uart_setup(&u);
	linux_autoconfig(&u);
	linux_startup(&u);
	d.u = &u;
	d.ier = in(&u, UART_IER);
	d.xmit = g_string_new(NULL);
	d.rx = g_string_new(NULL);

	g_assert_false(in(&u, UART_LSR) & UART_LSR_DR);
	g_assert_cmpuint(serial_enqueue_input(u.s, (const uint8_t *)"hello", 5), ==, 5);
	g_assert_true(u.level);
	g_assert_true(in(&u, UART_LSR) & UART_LSR_DR);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
	drv_deliver(&d);
	g_assert_cmpstr(d.rx->str, ==, "hello");
	g_assert_false(u.level);
	g_assert_false(in(&u, UART_LSR) & UART_LSR_DR);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
	/* reading an empty RBR is harmless */
	g_assert_cmphex(in(&u, UART_RX), ==, 0);

	/* the FIFO takes at least 64 bytes, then refuses */
	memset(big, 'z', sizeof(big));
	accepted = serial_enqueue_input(u.s, big, sizeof(big));
	g_assert_cmpuint(accepted, >=, 64);
	g_assert_cmpuint(accepted, <, sizeof(big));
	g_assert_cmpuint(serial_enqueue_input(u.s, big, 1), ==, 0);
	/* with ERBFI masked the data waits, without an interrupt */
	out(&u, UART_IER, 0);
	g_assert_false(u.level);
	out(&u, UART_IER, UART_IER_RDI);
	g_assert_true(u.level);
	g_string_truncate(d.rx, 0);
	drv_deliver(&d);
	g_assert_cmpuint(d.rx->len, ==, accepted);
	/* FCR's clear-receiver bit empties the FIFO */
	g_assert_cmpuint(serial_enqueue_input(u.s, (const uint8_t *)"abc", 3), ==, 3);
	out(&u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	g_assert_false(in(&u, UART_LSR) & UART_LSR_DR);
	g_assert_false(u.level);

	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.rx_bytes, ==, 5 + accepted + 3);
	g_string_free(d.xmit, TRUE);
	g_string_free(d.rx, TRUE);
	uart_teardown(&u);
}

static void test_loopback(void)
{
	struct uart u;
	struct serial_stats st;
	g_autoptr(GString) o = NULL;
	uint8_t msr;
	size_t fifo;

	uart_setup(&u);
	out(&u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(&u, UART_MCR, UART_MCR_LOOP);
	(void)in(&u, UART_MSR);
	out(&u, UART_IER, UART_IER_RDI);
	out(&u, UART_TX, 'L');
	g_assert_true(u.level);
	g_assert_true(in(&u, UART_LSR) & UART_LSR_DR);
	g_assert_cmphex(in(&u, UART_RX), ==, 'L');
	g_assert_false(u.level);
	/* the line is disconnected: host input is refused */
	g_assert_cmpuint(serial_enqueue_input(u.s, (const uint8_t *)"h", 1), ==, 0);

	/* modem outputs loop back to the inputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
	out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1 | UART_MCR_OUT2);
	msr = in(&u, UART_MSR);
	g_assert_cmphex(msr & 0xf0, ==, 0xf0);
	g_assert_cmphex(msr & UART_MSR_ANY_DELTA, ==, UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	g_assert_cmphex(in(&u, UART_MSR), ==, 0xf0); /* deltas clear on read */
	/* modem status interrupt, lowest priority; RI falling sets TERI */
	out(&u, UART_IER, UART_IER_MSI);
	out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	g_assert_true(u.level);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_MSI);
	g_assert_cmphex(in(&u, UART_MSR), ==, 0xb0 | UART_MSR_TERI);
	g_assert_false(u.level);

	/* overflowing the RX FIFO through loopback is an overrun, reported once in LSR */
	out(&u, UART_IER, UART_IER_RLSI);
	for (fifo = 0; fifo < 100000 && !(u.level); fifo++)
		out(&u, UART_TX, 'o');
	g_assert_true(u.level);
	g_assert_cmpuint(fifo, >, 64);
	g_assert_cmphex(in(&u, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_RLSI);
	g_assert_cmphex(in(&u, UART_LSR), ==, UART_LSR_BOTH_EMPTY | UART_LSR_OE | UART_LSR_DR);
	g_assert_false(u.level);
	g_assert_cmphex(in(&u, UART_LSR), ==, UART_LSR_BOTH_EMPTY | UART_LSR_DR);

	/* leaving loopback: output reaches the host again */
	out(&u, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	out(&u, UART_TX, '!');
	o = drain_output(&u);
	g_assert_cmpstr(o->str, ==, "!");
	g_assert_cmphex(in(&u, UART_MSR) & 0xf0, ==, 0xb0);

	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.dropped, ==, 1);
	g_assert_cmpuint(st.tx_bytes, ==, 1 + fifo + 1);
	uart_teardown(&u);
}

static void test_divisor_latch(void)
{
	struct uart u;
	g_autoptr(GString) o = NULL;

	uart_setup(&u);
	out(&u, UART_IER, UART_IER_RDI);
	out(&u, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	out(&u, UART_DLL, 0x01); /* 115200 baud */
	out(&u, UART_DLM, 0x00);
	g_assert_cmphex(in(&u, UART_DLL), ==, 0x01);
	g_assert_cmphex(in(&u, UART_DLM), ==, 0x00);
	out(&u, UART_DLM, 0x80);
	g_assert_cmphex(in(&u, UART_DLM), ==, 0x80);
	g_assert_cmphex(in(&u, UART_LCR), ==, UART_LCR_DLAB | UART_LCR_WLEN8);
	out(&u, UART_LCR, UART_LCR_WLEN8);
	/* IER and THR are back, untouched by the latch */
	g_assert_cmphex(in(&u, UART_IER), ==, UART_IER_RDI);
	out(&u, UART_TX, 'q');
	o = drain_output(&u);
	g_assert_cmpstr(o->str, ==, "q");
	out(&u, UART_LCR, UART_LCR_DLAB);
	g_assert_cmphex(in(&u, UART_DLL), ==, 0x01);
	g_assert_cmphex(in(&u, UART_DLM), ==, 0x80);
	/* scratch register */
	out(&u, UART_LCR, 0);
	out(&u, UART_SCR, 0x5a);
	g_assert_cmphex(in(&u, UART_SCR), ==, 0x5a);
	uart_teardown(&u);
}

static void test_hostile(void)
{
	struct uart u;
	struct serial_stats st;
	uint8_t buf[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	g_autoptr(GRand) rnd = g_rand_new_with_seed(42);
	g_autoptr(GString) o = NULL;

	uart_setup(&u);
	/* wrong sizes through the bus: ignored, reads give all-ones */
	g_assert_true(bus_read(&u.bus, PORT_COM1, buf, 2));
	g_assert_cmphex(buf[0], ==, 0xff);
	g_assert_cmphex(buf[1], ==, 0xff);
	g_assert_true(bus_write(&u.bus, PORT_COM1, buf, 4));
	g_assert_true(bus_write(&u.bus, PORT_COM1 + 4, buf, 4));
	/* offsets beyond the 8 registers, and empty accesses, straight through the ops */
	serial_ops.write(u.s, 8, buf, 1);
	serial_ops.write(u.s, UINT64_MAX, buf, 1);
	serial_ops.read(u.s, 1000, buf, 1);
	g_assert_cmphex(buf[0], ==, 0xff);
	serial_ops.write(u.s, 0, buf, 0);
	serial_ops.read(u.s, 0, buf, 0);
	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.bad_accesses, ==, 8);
	g_assert_cmpuint(st.tx_bytes, ==, 0);

	/* random register traffic, including every value in every register */
	for (unsigned reg = 0; reg < 8; reg++)
		for (unsigned v = 0; v < 256; v++) {
			out(&u, reg, v);
			(void)in(&u, g_rand_int_range(rnd, 0, 8));
		}
	for (int i = 0; i < 200000; i++) {
		unsigned reg = g_rand_int_range(rnd, 0, 8);

		if (g_rand_boolean(rnd))
			out(&u, reg, g_rand_int_range(rnd, 0, 256));
		else
			(void)in(&u, reg);
		if (i % 1000 == 0)
			serial_enqueue_input(u.s, (const uint8_t *)"noise", 5);
		if (i % 4096 == 0) {
			o = drain_output(&u);
			g_string_free(g_steal_pointer(&o), TRUE);
		}
	}
	/* the device still works afterwards */
	out(&u, UART_LCR, UART_LCR_WLEN8);
	out(&u, UART_MCR, UART_MCR_OUT2);
	out(&u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	out(&u, UART_IER, 0);
	(void)in(&u, UART_LSR);
	(void)in(&u, UART_MSR);
	(void)in(&u, UART_IIR);
	g_assert_false(u.level);
	o = drain_output(&u);
	g_string_free(g_steal_pointer(&o), TRUE);
	out(&u, UART_TX, 'k');
	o = drain_output(&u);
	g_assert_cmpstr(o->str, ==, "k");
	uart_teardown(&u);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A reader that went away, or that stopped reading, costs bounded time and counted drops, never a
 * SIGPIPE (this test keeps SIGPIPE's default disposition, which would kill it). */
static void test_output_errors(void)
{
	struct uart u;
	struct serial_stats st;
	g_autoptr(GString) o = NULL;
	int sp[2];
	int64_t start;
	unsigned written;
	int pipe_size;

	g_assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);

	/* reader closed */
	uart_setup(&u);
	close(u.out[0]);
	u.out[0] = -1;
	out(&u, UART_TX, 'x');
	out(&u, UART_TX, 'y');
	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.tx_bytes, ==, 2);
	g_assert_cmpuint(st.dropped, ==, 2);
	uart_teardown(&u);

	/* reader alive but not reading: one bounded wait, then quick drops until it drains */
	uart_setup(&u);
	pipe_size = fcntl(u.out[1], F_SETPIPE_SZ, 4096);
	g_assert_cmpint(pipe_size, >=, 4096);
	start = mono_ms();
	for (written = 0; written < 20000; written++)
		out(&u, UART_TX, 'f');
	g_assert_cmpint(mono_ms() - start, <, 2000);
	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.dropped, >, 0);
	g_assert_cmpuint(st.dropped, <, 20000);
	o = drain_output(&u);
	g_assert_cmpuint(o->len + st.dropped, ==, 20000);
	/* the pipe was filled to the last byte before anything was dropped */
	g_assert_cmpuint(o->len, ==, (unsigned)pipe_size);
	g_string_free(g_steal_pointer(&o), TRUE);
	out(&u, UART_TX, 'r');
	o = drain_output(&u);
	g_assert_cmpstr(o->str, ==, "r");
	uart_teardown(&u);

	/* a socket whose peer is gone */
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), ==, 0);
	close(sp[1]);
	uart_setup(&u);
	u.s = serial_free(u.s);
	g_assert_cmpint(serial_new(sp[0], on_irq, &u, &u.s), ==, 0);
	u.bus = (struct bus){};
	g_assert_cmpint(bus_register(&u.bus, PORT_COM1, PORT_COM1_LEN, &serial_ops, u.s, "serial"), ==, 0);
	out(&u, UART_TX, 'z');
	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.dropped, ==, 1);
	uart_teardown(&u);
	close(sp[0]);

	/* -1 discards silently */
	{
		struct serial *s = NULL;
		uint8_t v = 'd';

		g_assert_cmpint(serial_new(-1, NULL, NULL, &s), ==, 0);
		serial_ops.write(s, UART_TX, &v, 1);
		serial_get_stats(s, &st);
		g_assert_cmpuint(st.tx_bytes, ==, 1);
		g_assert_cmpuint(st.dropped, ==, 0);
		g_assert_null(serial_free(s));
	}
	/* a closed fd is refused up front */
	{
		struct serial *s = NULL;
		int fds[2];

		g_assert_cmpint(pipe(fds), ==, 0);
		close(fds[0]);
		close(fds[1]);
		g_assert_cmpint(serial_new(fds[1], NULL, NULL, &s), ==, -EBADF);
		g_assert_null(s);
	}
	g_assert_null(serial_free(NULL));
}

/* A tty (here a pty) is the usual output: reopened non-blocking, so a terminal that stops reading
 * costs a bounded wait and drops, while the caller's own descriptor keeps its flags. */
static void test_tty_output(void)
{
	struct uart u;
	struct serial_stats st;
	struct termios tio;
	char buf[65536];
	int master, slave, flags;
	int64_t start;
	ssize_t n;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		g_test_skip("no pseudo-terminals here");
		return;
	}
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	g_assert_cmpint(slave, >=, 0);
	g_assert_cmpint(tcgetattr(slave, &tio), ==, 0);
	cfmakeraw(&tio);
	g_assert_cmpint(tcsetattr(slave, TCSANOW, &tio), ==, 0);
	flags = fcntl(slave, F_GETFL);

	uart_setup(&u);
	u.s = serial_free(u.s);
	g_assert_cmpint(serial_new(slave, on_irq, &u, &u.s), ==, 0);
	u.bus = (struct bus){};
	g_assert_cmpint(bus_register(&u.bus, PORT_COM1, PORT_COM1_LEN, &serial_ops, u.s, "serial"), ==, 0);
	/* the caller's descriptor is left as it was */
	g_assert_cmpint(fcntl(slave, F_GETFL), ==, flags);

	for (const char *p = "tty ok\n"; *p; p++)
		out(&u, UART_TX, *p);
	/* the pty hands the bytes over asynchronously, maybe in pieces */
	for (size_t got = 0; got < 7; got += n) {
		n = read(master, buf + got, sizeof(buf) - got);
		g_assert_cmpint(n, >, 0);
		if (got + n >= 7)
			g_assert_cmpmem(buf, got + n, "tty ok\n", 7);
	}

	/* nobody reads the terminal: bounded time, then drops */
	start = mono_ms();
	for (int i = 0; i < 300000; i++)
		out(&u, UART_TX, 't');
	g_assert_cmpint(mono_ms() - start, <, 3000);
	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.dropped, >, 0);
	g_assert_cmpuint(st.tx_bytes, ==, 7 + 300000);

	uart_teardown(&u);
	close(slave);
	close(master);
}

struct writer {
	struct uart *u;
	unsigned n;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;

	for (unsigned i = 0; i < w->n; i++) {
		out(w->u, UART_TX, 'c');
		(void)in(w->u, UART_IIR);
		(void)in(w->u, UART_LSR);
	}
	return NULL;
}

/* Several vCPUs hitting the port at once: every byte goes out, and the line levels reported stay
 * consistent (the callback only ever sees changes). */
static void test_concurrent(void)
{
	struct uart u;
	struct writer w;
	pthread_t t[4];
	g_autoptr(GString) o = g_string_new(NULL);
	struct serial_stats st;

	uart_setup(&u);
	out(&u, UART_IER, UART_IER_THRI | UART_IER_RDI);
	w = (struct writer){ .u = &u, .n = 5000 };
	for (int i = 0; i < 4; i++)
		g_assert_cmpint(pthread_create(&t[i], NULL, writer_thread, &w), ==, 0);
	/* 20000 bytes fit in the pipe: no reader needed meanwhile */
	for (int i = 0; i < 4; i++)
		g_assert_cmpint(pthread_join(t[i], NULL), ==, 0);
	{
		g_autoptr(GString) part = drain_output(&u);

		g_string_append_len(o, part->str, part->len);
	}
	for (size_t i = 0; i < o->len; i++)
		g_assert_cmpint(o->str[i], ==, 'c');
	{
		/* the last level reported matches what IIR says is pending */
		bool level = u.level;

		g_assert_cmpint(level, ==, !(in(&u, UART_IIR) & UART_IIR_NO_INT));
	}
	g_assert_cmpuint(o->len, ==, 4 * 5000);
	serial_get_stats(u.s, &st);
	g_assert_cmpuint(st.tx_bytes, ==, 4 * 5000);
	g_assert_cmpuint(st.dropped, ==, 0);
	uart_teardown(&u);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/serial/probe", test_probe);
	g_test_add_func("/serial/thre-rules", test_thre_rules);
	g_test_add_func("/serial/interrupt-driven-tx", test_interrupt_driven_tx);
	g_test_add_func("/serial/rx", test_rx);
	g_test_add_func("/serial/loopback", test_loopback);
	g_test_add_func("/serial/divisor-latch", test_divisor_latch);
	g_test_add_func("/serial/hostile", test_hostile);
	g_test_add_func("/serial/output-errors", test_output_errors);
	g_test_add_func("/serial/tty-output", test_tty_output);
	g_test_add_func("/serial/concurrent", test_concurrent);
	return g_test_run();
}
