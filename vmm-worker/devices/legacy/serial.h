/* SPDX-License-Identifier: Apache-2.0 */
/* 16550A UART at PORT_COM1 (8 byte-wide registers). Output is written synchronously to a host fd,
 * so the transmitter is always empty; input comes from the host through serial_enqueue_input().
 * The interrupt line is reported with level semantics: irq(opaque, level) is called, under the
 * device lock, each time the computed line changes, so the callback must not call back into the
 * device. Registration: bus_register(pio, PORT_COM1, PORT_COM1_LEN, &serial_ops, s, "serial"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus_ops;
struct serial;

struct serial_stats {
	uint64_t tx_bytes;     /* bytes the guest wrote to THR (loopback included) */
	uint64_t rx_bytes;     /* bytes that entered the RX FIFO (host input or loopback) */
	uint64_t dropped;      /* transmitted bytes lost: output errors, stalled output, loopback overrun */
	uint64_t bad_accesses; /* wrong access sizes or offsets, ignored */
};

/* out_fd is not owned and not closed; -1 discards output. A pipe, socket, tty or file: writes
 * never raise SIGPIPE and never wait on a reader that does not read for more than a short while. */
int serial_new(int out_fd, void (*irq)(void *opaque, bool level), void *irq_opaque, struct serial **ret);
struct serial *serial_free(struct serial *s);
static inline void serial_freep(struct serial **p)
{
	if (*p)
		*p = serial_free(*p);
}

/* Host input into the RX FIFO; returns how many bytes were accepted (fewer when the FIFO is full,
 * none while the guest holds the UART in loopback mode, where the line is disconnected). */
size_t serial_enqueue_input(struct serial *s, const uint8_t *buf, size_t len);
/* tee(opaque, byte) sees every byte the guest transmits on the line (not in loopback), before it
 * is written to out_fd and whether or not out_fd takes it: a console log. Called under the device
 * lock on a vCPU thread; it must not block. */
void serial_set_tee(struct serial *s, void (*tee)(void *opaque, uint8_t byte), void *opaque);
void serial_get_stats(struct serial *s, struct serial_stats *ret);

extern const struct bus_ops serial_ops;
