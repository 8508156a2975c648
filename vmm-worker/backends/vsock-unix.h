/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of a vsock device in the hybrid unix-socket model: the VMM listens on PATH; a host
 * client connects, writes "CONNECT <port>\n" and gets "OK <host port>\n" once the guest accepted;
 * a guest connecting to host port P reaches whoever listens on "PATH_P". Each connection carries
 * the credit counters of vsock's flow control, so a device on top only moves packets:
 *
 *   host -> guest: ops->readable(c), then vsock_conn_recv() as far as the guest's credit allows;
 *   guest -> host: vsock_conn_send(), buffered up to our advertised buf_alloc when the host client
 *                  is slow, flushed as the socket drains (ops->credit(c) when fwd_cnt moved).
 *
 * One I/O thread polls vsock_mux_fd() and calls vsock_mux_process(). Ports are host-side "local"
 * and guest-side "peer" ports, as in a vsock packet the device sends. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct iovec;
struct vsock_mux;
struct vsock_conn;

/* Bytes of guest data we buffer per connection: the buf_alloc we advertise to the guest. */
#define VSOCK_CONN_BUF_ALLOC (256u * 1024)
/* Connections at once, handshaking ones included; more are refused at accept(). */
#define VSOCK_MUX_CONNS_MAX 256u
/* Host-initiated connections get local ports from here up (guests listen on low ports). */
#define VSOCK_LOCAL_PORT_FIRST (1u << 30)

struct vsock_mux_ops {
	/* A host client asked for guest port vsock_conn_peer_port(c): send the guest a request
	 * from vsock_conn_local_port(c), then call vsock_conn_accepted() or vsock_conn_close(). */
	void (*host_connect)(void *userdata, struct vsock_conn *c);
	/* Data or EOF waits on c's socket. The mux says no more about c's input until
	 * vsock_conn_recv() has returned -EAGAIN (drained) once. */
	void (*readable)(void *userdata, struct vsock_conn *c);
	/* Buffered guest data reached the host: fwd_cnt moved (maybe send a credit update). */
	void (*credit)(void *userdata, struct vsock_conn *c);
	/* The host side failed or hung up for good: reset the guest's end, then vsock_conn_close(). */
	void (*hangup)(void *userdata, struct vsock_conn *c);
};

/* Binds and listens on path; -EADDRINUSE when something is there already (never unlinked: it may
 * be another VMM's), -ENAMETOOLONG when path plus "_4294967295" does not fit a sockaddr_un. */
int vsock_mux_new(const char *path, const struct vsock_mux_ops *ops, void *userdata, struct vsock_mux **ret);
/* Closes every connection without callbacks and removes the listening socket's path. */
struct vsock_mux *vsock_mux_free(struct vsock_mux *m);
static inline void vsock_mux_freep(struct vsock_mux **p)
{
	if (*p)
		*p = vsock_mux_free(*p);
}

/* An epoll fd: readable when vsock_mux_process() has work. */
int vsock_mux_fd(const struct vsock_mux *m);
/* Handles what is ready without blocking (accepts, handshakes, flushes) and calls the ops;
 * 0 or -errno when the epoll fd itself failed. */
int vsock_mux_process(struct vsock_mux *m);
unsigned vsock_mux_n_conns(const struct vsock_mux *m);
struct vsock_conn *vsock_mux_find(struct vsock_mux *m, uint32_t local_port, uint32_t peer_port);

/* The guest connects from peer_port to host port local_port: connects to "PATH_<local_port>".
 * -ECONNREFUSED / -ENOENT (nobody listens: reset the guest), -EEXIST (that pair exists),
 * -EMFILE (VSOCK_MUX_CONNS_MAX). The connection is established at once. */
int vsock_mux_connect_guest(struct vsock_mux *m, uint32_t local_port, uint32_t peer_port,
			    struct vsock_conn **ret);

uint32_t vsock_conn_local_port(const struct vsock_conn *c);
uint32_t vsock_conn_peer_port(const struct vsock_conn *c);
bool vsock_conn_established(const struct vsock_conn *c);

/* The guest accepted a host-initiated connection: tells the host client "OK <local port>". */
int vsock_conn_accepted(struct vsock_conn *c);
/* Forgets c and closes its socket; safe inside callbacks. */
void vsock_conn_close(struct vsock_conn *c);

/* Every packet from the guest carries its buf_alloc and fwd_cnt. */
void vsock_conn_set_peer_credit(struct vsock_conn *c, uint32_t buf_alloc, uint32_t fwd_cnt);
/* Bytes the guest can take now. */
uint32_t vsock_conn_peer_free(const struct vsock_conn *c);
/* Our buf_alloc and fwd_cnt for the header of a packet to the guest; marks them reported. */
void vsock_conn_get_credit(struct vsock_conn *c, uint32_t *ret_buf_alloc, uint32_t *ret_fwd_cnt);
/* The guest's last view of our free space is low and more is free now: send a credit update. */
bool vsock_conn_credit_update_due(const struct vsock_conn *c);

/* Host -> guest: reads at most vsock_conn_peer_free() bytes into iov (at most 64 entries). Bytes;
 * 0 at EOF (shut the guest's side down); -EAGAIN drained; -ENOSPC no credit; -errno. */
ssize_t vsock_conn_recv(struct vsock_conn *c, const struct iovec *iov, int iovcnt);
/* Guest -> host: takes all len bytes (written or buffered) or none: -ENOBUFS when the guest sent
 * more than our credit allows (reset it), -EPIPE when the host side is gone. */
int vsock_conn_send(struct vsock_conn *c, const void *buf, size_t len);
/* The guest will send no more: the host client sees EOF once buffered data is out. */
int vsock_conn_shutdown_write(struct vsock_conn *c);
