/* SPDX-License-Identifier: Apache-2.0 */
/* 16550A UART. Transmission is instantaneous: a byte written to THR goes to the host fd at once, so
 * LSR always shows THRE|TEMT and the THR-empty interrupt is re-raised right after every write to
 * THR, as a real 16550A does when its transmitter drains. The THRE interrupt follows the 16550A
 * rules the Linux 8250 driver depends on: it is latched when THR empties or when IER.ETBEI goes from
 * 0 to 1 while THR is empty, and cleared by reading IIR while IIR reports it, or by writing THR.
 *
 * Simplifications: RX raises "data available" whenever the FIFO holds data (no trigger level or
 * character timeout, which the guest handles the same way); the divisor latch, line control and
 * FIFO trigger bits are stored but have no effect; MCR.OUT2 does not gate the interrupt line. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "devices/bus.h"
#include "devices/legacy/serial.h"
#include "log.h"

/* Register offsets; DLL/DLM replace RBR-THR/IER while LCR.DLAB is set. */
#define UART_RBR 0
#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* transmit holding register empty */
#define IER_ELSI 0x04  /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IER_MASK 0x0f

#define IIR_MSI 0x00
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE_FIFO 0x01
#define FCR_CLEAR_RCVR 0x02
#define FCR_TRIGGER_MASK 0xc0

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_ERRORS 0x1e /* overrun, parity, framing, break */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

/* Larger than the 16 bytes of a real 16550A so a paste survives until the guest drains it; the guest
 * cannot tell the difference. */
#define RX_FIFO_SIZE 1024
/* How long a vCPU waits for a reader that does not drain the output before bytes are dropped. */
#define OUTPUT_WAIT_MS 100

struct serial {
	pthread_mutex_t lock;

	int out_fd;         /* the fd written to: the caller's, or own_fd */
	int own_fd;         /* non-blocking reopen of the caller's pipe or tty, -1 if none */
	bool out_socket;    /* send(MSG_NOSIGNAL | MSG_DONTWAIT) */
	bool out_pipe;      /* write with SIGPIPE blocked */
	bool out_nonblock;  /* write() returns EAGAIN instead of waiting for room */
	bool out_poll_first; /* blocking pipe or tty: wait for POLLOUT before each write */
	bool out_stalled;   /* the reader did not drain in time: drop, without waiting, until it does */

	void (*irq)(void *opaque, bool level);
	void *irq_opaque;
	bool irq_level;

	void (*tee)(void *opaque, uint8_t byte);
	void *tee_opaque;

	uint8_t ier;
	uint8_t fcr;
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_errors;
	uint8_t msr;
	uint8_t scr;
	uint8_t dll;
	uint8_t dlm;
	bool thr_pending;

	uint8_t rx_fifo[RX_FIFO_SIZE];
	size_t rx_head;
	size_t rx_count;

	struct serial_stats stats;
};

static uint8_t serial_iir_id(const struct serial *s)
{
	if ((s->ier & IER_ELSI) && (s->lsr_errors & LSR_ERRORS))
		return IIR_RLSI;
	if ((s->ier & IER_ERBFI) && s->rx_count > 0)
		return IIR_RDI;
	if ((s->ier & IER_ETBEI) && s->thr_pending)
		return IIR_THRI;
	if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Called with the lock held, so concurrent vCPUs cannot deliver line levels out of order. */
static void serial_update_irq(struct serial *s)
{
	bool level = serial_iir_id(s) != IIR_NO_INT;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (s->irq)
		s->irq(s->irq_opaque, level);
}

static uint8_t serial_modem_lines(const struct serial *s)
{
	uint8_t m = 0;

	if (!(s->mcr & MCR_LOOP))
		/* The host end of the line is always there and ready. */
		return MSR_DCD | MSR_DSR | MSR_CTS;

	if (s->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (s->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (s->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static void serial_update_msr(struct serial *s)
{
	uint8_t old = s->msr & ~MSR_DELTAS, new = serial_modem_lines(s), delta = 0;

	if ((old ^ new) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ new) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(new & MSR_RI))
		delta |= MSR_TERI;
	if ((old ^ new) & MSR_DCD)
		delta |= MSR_DDCD;
	s->msr = new | (s->msr & MSR_DELTAS) | delta;
}

static size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = MIN(len, RX_FIFO_SIZE - s->rx_count);

	for (size_t i = 0; i < n; i++)
		s->rx_fifo[(s->rx_head + s->rx_count + i) % RX_FIFO_SIZE] = buf[i];
	s->rx_count += n;
	s->stats.rx_bytes += n;
	return n;
}

static uint8_t serial_rx_pop(struct serial *s)
{
	uint8_t v;

	if (s->rx_count == 0)
		return 0;
	v = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % RX_FIFO_SIZE;
	s->rx_count--;
	return v;
}

static void serial_rx_clear(struct serial *s)
{
	s->rx_head = s->rx_count = 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 once out_fd can take a byte, -ETIMEDOUT after timeout_ms, another -errno when it never will. */
static int serial_wait_writable(struct serial *s, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = s->out_fd, .events = POLLOUT };
		int64_t left = MAX(deadline - now_ms(), 0);
		int r = poll(&p, 1, (int)left);

		if (r > 0)
			return (p.revents & POLLOUT) ? 0 : -EPIPE;
		if (r == 0)
			return -ETIMEDOUT;
		/* vCPU threads get kicked with signals; keep waiting until the deadline. */
		if (errno != EINTR)
			return -errno;
	}
}

static ssize_t serial_write_byte(struct serial *s, uint8_t byte)
{
	sigset_t pipe_set, old;
	ssize_t n;
	int saved;

	if (s->out_socket)
		return send(s->out_fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (!s->out_pipe)
		return write(s->out_fd, &byte, 1);

	/* A pipe whose reader is gone raises SIGPIPE: block it in this thread and swallow the one the
	 * write generated, so the VMM does not depend on the process-wide disposition. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(s->out_fd, &byte, 1);
	saved = errno;
	if (n < 0 && saved == EPIPE && !sigismember(&old, SIGPIPE)) {
		const struct timespec zero = {};
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

static void serial_mark_stalled(struct serial *s)
{
	if (!s->out_stalled)
		log_debug("serial: output fd %d not draining, dropping output", s->out_fd);
	s->out_stalled = true;
}

/* Never blocks for more than about OUTPUT_WAIT_MS; a reader that stops draining costs one such
 * wait, then bytes are dropped at once until it drains again. */
static void serial_output(struct serial *s, uint8_t byte)
{
	if (s->out_fd < 0)
		return;

	for (int attempt = 0; attempt < 3; attempt++) {
		ssize_t n;
		int r;

		if (s->out_poll_first) {
			/* POLLOUT can lag behind the room a pipe has left: that may cost a wait, or a
			 * drop, never a hang. */
			r = serial_wait_writable(s, s->out_stalled ? 0 : OUTPUT_WAIT_MS);
			if (r == -ETIMEDOUT)
				serial_mark_stalled(s);
			if (r < 0)
				break;
		}

		n = serial_write_byte(s, byte);
		if (n == 1) {
			if (s->out_stalled)
				log_debug("serial: output fd %d drains again", s->out_fd);
			s->out_stalled = false;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && s->out_nonblock && !s->out_stalled) {
			r = serial_wait_writable(s, OUTPUT_WAIT_MS);
			if (r == -ETIMEDOUT)
				serial_mark_stalled(s);
			if (r < 0)
				break;
			continue;
		}
		break;
	}
	s->stats.dropped++;
}

static void serial_transmit(struct serial *s, uint8_t byte)
{
	s->stats.tx_bytes++;
	if (!(s->mcr & MCR_LOOP)) {
		if (s->tee)
			s->tee(s->tee_opaque, byte);
		serial_output(s, byte);
		return;
	}
	if (serial_rx_push(s, &byte, 1) == 0) {
		s->lsr_errors |= LSR_OE;
		s->stats.dropped++;
	}
}

static uint8_t serial_read_reg(struct serial *s, uint64_t offset)
{
	uint8_t v;

	switch (offset) {
	case UART_RBR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		return serial_rx_pop(s);
	case UART_IER:
		if (s->lcr & LCR_DLAB)
			return s->dlm;
		return s->ier;
	case UART_IIR:
		v = serial_iir_id(s);
		if (v == IIR_THRI)
			s->thr_pending = false;
		if (s->fcr & FCR_ENABLE_FIFO)
			v |= IIR_FIFO_ENABLED;
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = s->lsr_errors | LSR_THRE | LSR_TEMT | (s->rx_count > 0 ? LSR_DR : 0);
		s->lsr_errors = 0;
		return v;
	case UART_MSR:
		v = s->msr;
		s->msr &= ~MSR_DELTAS;
		return v;
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

static void serial_write_reg(struct serial *s, uint64_t offset, uint8_t v)
{
	switch (offset) {
	case UART_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			break;
		}
		/* Writing THR clears a pending THRE interrupt; the line must fall before the byte
		 * "drains" and THRE is raised again, or an edge-triggered IOAPIC pin never sees the
		 * next interrupt. */
		s->thr_pending = false;
		serial_update_irq(s);
		serial_transmit(s, v);
		s->thr_pending = true;
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* A rising ETBEI with THR empty (always, here) latches the THRE interrupt again even
		 * if reading IIR had cleared it: the 8250 driver's start-up test and its console
		 * write path (IER saved, cleared and restored) rely on it. */
		if ((s->ier ^ v) & IER_ETBEI)
			s->thr_pending = v & IER_ETBEI;
		s->ier = v & IER_MASK;
		break;
	case UART_FCR:
		/* Switching the FIFOs on or off empties them, as on the real part. */
		if (((s->fcr ^ v) & FCR_ENABLE_FIFO) || (v & FCR_CLEAR_RCVR))
			serial_rx_clear(s);
		s->fcr = v & (FCR_ENABLE_FIFO | FCR_TRIGGER_MASK);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & MCR_MASK;
		serial_update_msr(s);
		break;
	case UART_LSR:
	case UART_MSR:
		/* factory-test registers on real parts: writes ignored */
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
	serial_update_irq(s);
}

static void serial_count_bad(struct serial *s, uint64_t offset, uint32_t len)
{
	uint64_t n = ++s->stats.bad_accesses;

	/* A guest can repeat this forever: log the 1st, 2nd, 4th, 8th ... only. */
	if ((n & (n - 1)) == 0)
		log_debug("serial: ignored access of %u bytes at offset 0x%llx (%llu so far)", len,
			  (unsigned long long)offset, (unsigned long long)n);
}

static void serial_bus_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (len != 1 || offset >= PORT_COM1_LEN) {
		memset(data, 0xff, len);
		serial_count_bad(s, offset, len);
	} else {
		data[0] = serial_read_reg(s, offset);
		serial_update_irq(s);
	}
	pthread_mutex_unlock(&s->lock);
}

static void serial_bus_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (len != 1 || offset >= PORT_COM1_LEN)
		serial_count_bad(s, offset, len);
	else
		serial_write_reg(s, offset, data[0]);
	pthread_mutex_unlock(&s->lock);
}

const struct bus_ops serial_ops = {
	.read = serial_bus_read,
	.write = serial_bus_write,
};

size_t serial_enqueue_input(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	if (!s || !buf)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (!(s->mcr & MCR_LOOP))
		n = serial_rx_push(s, buf, len);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_get_stats(struct serial *s, struct serial_stats *ret)
{
	pthread_mutex_lock(&s->lock);
	*ret = s->stats;
	pthread_mutex_unlock(&s->lock);
}

/* Pipes and ttys are reopened through /proc with O_NONBLOCK: a file description of our own, so
 * write() can say EAGAIN without changing the flags of the caller's (often shared) stdout. When
 * that is impossible, each write waits for POLLOUT first, with a time limit. */
static void serial_setup_output(struct serial *s, const struct stat *st)
{
	char path[64];
	int fd;

	if (S_ISSOCK(st->st_mode)) {
		s->out_socket = s->out_nonblock = true;
		return;
	}
	if (!S_ISFIFO(st->st_mode) && !S_ISCHR(st->st_mode))
		return; /* a regular file: write() does not wait for a reader */

	s->out_pipe = S_ISFIFO(st->st_mode);
	/* Already non-blocking, so a description of the VMM's own (a pty master from --serial pty,
	 * where reopening /dev/ptmx would create a new pty). */
	int flags = fcntl(s->out_fd, F_GETFL);
	if (flags >= 0 && (flags & O_NONBLOCK)) {
		s->out_nonblock = true;
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->out_fd);
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		struct stat st2;

		if (fstat(fd, &st2) == 0 && st2.st_dev == st->st_dev && st2.st_ino == st->st_ino &&
		    st2.st_rdev == st->st_rdev) {
			s->own_fd = s->out_fd = fd;
			s->out_nonblock = true;
			return;
		}
		close(fd);
	}
	log_debug("serial: cannot reopen output fd %d non-blocking (%m), polling before each write",
		  s->out_fd);
	s->out_poll_first = true;
}

int serial_new(int out_fd, void (*irq)(void *opaque, bool level), void *irq_opaque, struct serial **ret)
{
	struct serial *s;
	struct stat st = {};
	int r;

	if (!ret)
		return -EINVAL;
	if (out_fd >= 0 && fstat(out_fd, &st) < 0)
		return -errno;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = pthread_mutex_init(&s->lock, NULL);
	if (r != 0) {
		free(s);
		return -r;
	}

	s->out_fd = out_fd < 0 ? -1 : out_fd;
	s->own_fd = -1;
	if (out_fd >= 0)
		serial_setup_output(s, &st);
	s->irq = irq;
	s->irq_opaque = irq_opaque;
	/* Power-on state: 8 data bits, 9600 baud, no interrupts, lines idle. */
	s->lcr = 0x03;
	s->dll = 0x0c;
	s->msr = serial_modem_lines(s);

	*ret = s;
	return 0;
}

void serial_set_tee(struct serial *s, void (*tee)(void *opaque, uint8_t byte), void *opaque)
{
	pthread_mutex_lock(&s->lock);
	s->tee = tee;
	s->tee_opaque = opaque;
	pthread_mutex_unlock(&s->lock);
}

struct serial *serial_free(struct serial *s)
{
	if (!s)
		return NULL;
	safe_close(s->own_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}
