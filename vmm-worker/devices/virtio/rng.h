/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng (virtio 1.2, 5.4): one queue of device-writable buffers the device fills from an
 * entropy source (a file or character device, /dev/urandom by default). */
#pragma once

struct guest_memory;
struct virtio_device;

#define VIRTIO_RNG_QUEUE_SIZE 256
/* Upper bound on the bytes one request gets, so a huge buffer cannot keep the I/O thread busy. */
#define VIRTIO_RNG_MAX_REQUEST (64 * 1024)

/* Opens src (read-only, non-blocking) and creates the device; -errno from open() or creation. */
int virtio_rng_new(const char *src, const struct guest_memory *mem, struct virtio_device **ret);
