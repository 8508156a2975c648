/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-console (virtio 1.2, 5.3): port 0 only (no MULTIPORT), hvc0 in a Linux guest, on a
 * character backend (backends/chardev.h) that outlives the device, so a pty keeps its path across
 * guest reboots. Queue 0 (receiveq) carries host input to the guest, queue 1 (transmitq) the
 * guest's output. The guest never waits for the host: output the backend cannot take at once waits
 * in a bounded backlog and is dropped (and counted as errors) beyond it; input is read only while
 * the driver has receive buffers posted, so it stays in the terminal until then. */
#pragma once

struct chardev;
struct guest_memory;
struct virtio_device;

#define VIRTIO_CONSOLE_QUEUE_SIZE 256
#define VIRTIO_CONSOLE_RX 0
#define VIRTIO_CONSOLE_TX 1
/* Bytes of guest output kept while the backend is full (a pty nobody reads, a slow pipe). */
#define VIRTIO_CONSOLE_BACKLOG (64 * 1024)
/* Device config space (5.3.4): cols, rows, max_nr_ports, emerg_wr; only the size matters here. */
#define VIRTIO_CONSOLE_CONFIG_SIZE 12

/* chr is not owned and must outlive the device. */
int virtio_console_new(struct chardev *chr, const struct guest_memory *mem, struct virtio_device **ret);
