/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock (virtio 1.2, 5.10), stream sockets only, on the hybrid unix-socket backend
 * (backends/vsock-unix.h): a host client connects to PATH and writes "CONNECT <port>\n" to reach a
 * guest listener; a guest connecting to host port P reaches whoever listens on "PATH_P". Queue 0
 * (rx) carries packets to the guest, queue 1 (tx) the guest's packets, queue 2 (event) is left
 * alone (no transport events without migration).
 *
 * Every guest packet is hostile input. Descriptor layouts the spec forbids (device-writable tx
 * buffers, device-readable rx buffers, a tx chain shorter than a header, an rx buffer that cannot
 * hold one) make the device NEEDS_RESET. A well-formed chain with a bad packet (wrong type or
 * CIDs, a length that is not what the chain holds or above VIRTIO_VSOCK_MAX_PAYLOAD, an unknown op,
 * payload on a control op, data past the credit we gave, a packet for no connection) resets that
 * connection only (RST to the guest, the host socket closed) and counts an error. */
#pragma once

#include <stdint.h>

struct guest_memory;
struct virtio_device;

#define VIRTIO_VSOCK_QUEUE_SIZE 256
#define VIRTIO_VSOCK_RX 0
#define VIRTIO_VSOCK_TX 1
#define VIRTIO_VSOCK_EVENT 2
#define VIRTIO_VSOCK_HOST_CID 2
/* Guest CIDs: 0-2 are reserved (hypervisor, local, host), 0xffffffff is VMADDR_CID_ANY. */
#define VIRTIO_VSOCK_CID_MIN 3u
#define VIRTIO_VSOCK_CID_MAX 0xfffffffeu
/* Largest payload of one packet, either way (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE). */
#define VIRTIO_VSOCK_MAX_PAYLOAD (64u * 1024)
/* Packets of ours (responses, resets, credit updates) waiting for receive buffers. */
#define VIRTIO_VSOCK_CTL_MAX 512u

#define VIRTIO_VSOCK_TYPE_STREAM 1

enum virtio_vsock_op {
	VIRTIO_VSOCK_OP_INVALID = 0,
	VIRTIO_VSOCK_OP_REQUEST = 1,
	VIRTIO_VSOCK_OP_RESPONSE = 2,
	VIRTIO_VSOCK_OP_RST = 3,
	VIRTIO_VSOCK_OP_SHUTDOWN = 4,
	VIRTIO_VSOCK_OP_RW = 5,
	VIRTIO_VSOCK_OP_CREDIT_UPDATE = 6,
	VIRTIO_VSOCK_OP_CREDIT_REQUEST = 7,
};

/* SHUTDOWN flags: the sender will receive no more, send no more. */
#define VIRTIO_VSOCK_SHUTDOWN_RCV 1u
#define VIRTIO_VSOCK_SHUTDOWN_SEND 2u

/* The packet header (5.10.6), little-endian like the host. */
struct virtio_vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

/* Listens on path (see vsock_mux_new(): -EADDRINUSE, -ENAMETOOLONG) for guest cid; -EINVAL for a
 * cid outside VIRTIO_VSOCK_CID_MIN..MAX. */
int virtio_vsock_new(uint32_t cid, const char *path, const struct guest_memory *mem, struct virtio_device **ret);
