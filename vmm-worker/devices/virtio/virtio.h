/* SPDX-License-Identifier: Apache-2.0 */
/* A virtio 1.x device, independent of its transport.
 *
 * A device (rng.c, later blk, net, console, vsock) is a struct virtio_device_ops table plus its
 * private state: device ID, feature bits, config space accessors, number and maximum size of its
 * queues, and callbacks. It knows nothing of PCI: the transport (pci-modern.c) maps the driver's
 * register accesses onto the calls below and delivers the interrupts the core asks for.
 *
 * The core owns what every device shares: feature negotiation (VIRTIO_F_VERSION_1 required,
 * RING_INDIRECT_DESC and RING_EVENT_IDX offered, ACCESS_PLATFORM never), the device status state
 * machine with reset and DEVICE_NEEDS_RESET, the config generation, the queues, per-device
 * counters, and one I/O thread per device that waits (epoll) on every queue's kick eventfd and
 * calls ops->queue_notify() there, never on a vCPU thread.
 *
 * Locking: v->lock serialises the device. The I/O thread holds it around queue_notify(); the
 * transport holds it around every register access (so config_read/config_write, activate and
 * reset run with it held too). Device callbacks must not call back into the transport except
 * through virtio_queue_signal(), virtio_config_changed() and virtio_device_fail(), which expect
 * the lock held. */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/queue.h"

struct guest_memory;
struct virtio_device;

/* Device status (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Reserved feature bits (6) */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_VSOCK 19

#define VIRTIO_MAX_QUEUES 64
/* Backend file descriptors one device's I/O thread can watch besides its queues. */
#define VIRTIO_MAX_WATCHES 4

/* A backend fd is ready (I/O thread, v->lock held). Wake-ups can be spurious: handlers read and
 * write non-blocking. */
typedef void (*virtio_watch_fn)(struct virtio_device *v, int fd, uint32_t revents);

struct virtio_device_ops {
	const char *name; /* "rng": for messages and the transport's device name */
	uint32_t device_id;
	uint64_t features; /* device-specific bits; the core adds the transport bits */
	unsigned n_queues; /* 1 .. VIRTIO_MAX_QUEUES */
	uint16_t queue_max_size;
	uint32_t config_size; /* bytes of device config space, may be 0 */
	/* Queues the device polls on threads of its own (bit q: queues[q].kick_fd), with locking of its
	 * own that its reset callback uses to stop them: the core's I/O thread leaves them alone. Such
	 * threads may call virtio_queue_signal() for their queues without v->lock. 0 for most devices. */
	uint64_t own_queues;
	/* Device config space; offset + len <= config_size is checked by the core. Optional. */
	void (*config_read)(struct virtio_device *v, uint32_t offset, uint8_t *data, uint32_t len);
	void (*config_write)(struct virtio_device *v, uint32_t offset, const uint8_t *data, uint32_t len);
	/* The driver set DRIVER_OK: queues are started, v->driver_features is final. A negative errno
	 * marks the device NEEDS_RESET. Optional. */
	int (*activate)(struct virtio_device *v);
	/* The driver reset the device: drop in-flight state. Optional. */
	void (*reset)(struct virtio_device *v);
	/* The driver notified queue q (I/O thread, lock held). Required. */
	void (*queue_notify)(struct virtio_device *v, struct virtq *q);
	/* Frees v->priv when the device goes away. Optional. */
	void (*free)(struct virtio_device *v);
};

/* How the core reaches the guest; the transport fills it with virtio_device_set_transport(). */
struct virtio_transport_ops {
	void (*signal_queue)(void *opaque, struct virtq *q); /* used buffers on q */
	void (*signal_config)(void *opaque);		     /* config space or status changed */
	void (*reset)(void *opaque);			     /* transport state back to reset values */
};

/* Counters for the control interface: read them with virtio_device_get_stats(). "read" and
 * "written" are what the device did to its backend (an rng reads its source; a block device
 * counts disk reads and writes). */
struct virtio_stats {
	uint64_t read_bytes, read_ops;
	uint64_t write_bytes, write_ops;
	uint64_t notifications; /* queue notifications handled */
	uint64_t interrupts;	/* signals sent to the guest */
	uint64_t errors;	/* malformed driver input, failed backend operations */
	uint64_t resets;	/* device resets by the driver */
};

enum virtio_stat {
	VIRTIO_STAT_READ,
	VIRTIO_STAT_WRITE,
	_VIRTIO_STAT_MAX,
	_VIRTIO_STAT_INVALID = -EINVAL,
};

const char *virtio_stat_to_string(enum virtio_stat s);
enum virtio_stat virtio_stat_from_string(const char *s);

struct virtio_device {
	const struct virtio_device_ops *ops;
	void *priv;
	const struct guest_memory *mem;
	pthread_mutex_t lock;

	uint8_t status;
	uint8_t config_generation;
	uint64_t device_features; /* ops->features plus the transport bits */
	uint64_t driver_features;
	struct virtq queues[VIRTIO_MAX_QUEUES];
	unsigned n_queues;
	struct virtio_stats stats;
	const char *last_error; /* why the device last needed a reset, for logs */

	const struct virtio_transport_ops *transport;
	void *transport_data;

	pthread_t io_thread;
	bool io_started;
	int epoll_fd;
	int stop_fd;
	struct {
		int fd; /* -1: free slot */
		uint32_t events;
		virtio_watch_fn handler;
	} watches[VIRTIO_MAX_WATCHES];
};

/* Creates the device and its I/O thread; priv is the device's state (freed by ops->free). */
int virtio_device_new(const struct virtio_device_ops *ops, void *priv, const struct guest_memory *mem,
		      struct virtio_device **ret);
/* Stops the I/O thread, then frees queues, priv and v. */
struct virtio_device *virtio_device_free(struct virtio_device *v);
void virtio_device_set_transport(struct virtio_device *v, const struct virtio_transport_ops *t, void *opaque);

/* Register semantics, for transports; call with v->lock held. */
uint32_t virtio_get_device_features(struct virtio_device *v, uint32_t select);
void virtio_set_driver_features(struct virtio_device *v, uint32_t select, uint32_t value);
uint32_t virtio_get_driver_features(struct virtio_device *v, uint32_t select);
/* The driver writes the status register: reset (0), feature check (FEATURES_OK), start
 * (DRIVER_OK), or an invalid transition, which is ignored and counted. */
void virtio_set_status(struct virtio_device *v, uint8_t status);
/* Whether the driver may still program queue q (before DRIVER_OK, q not yet enabled). */
bool virtio_queue_configurable(struct virtio_device *v, unsigned q);
/* The driver enables queue q: checks size and rings now; a bad queue marks the device broken. */
void virtio_queue_enable(struct virtio_device *v, unsigned q);
/* Device config space bounds-checked; out-of-range reads give zeroes. */
void virtio_config_read(struct virtio_device *v, uint32_t offset, uint8_t *data, uint32_t len);
void virtio_config_write(struct virtio_device *v, uint32_t offset, const uint8_t *data, uint32_t len);
/* The driver notified queue q by hand (no ioeventfd): wakes the I/O thread. Any thread. */
void virtio_queue_kick(struct virtio_device *v, unsigned q);

/* For devices; call with v->lock held (as in queue_notify). */
bool virtio_feature_negotiated(const struct virtio_device *v, unsigned bit);
/* DRIVER_OK and not NEEDS_RESET: the driver's queues may be used. */
bool virtio_device_running(const struct virtio_device *v);
/* Has the I/O thread poll a backend's fd (a tty, a socket, an epoll fd) and call handler with the
 * events; EPOLLET is allowed. Calling it again for the same fd changes events (and handler);
 * events 0 stops watching fd. -ENOSPC past VIRTIO_MAX_WATCHES fds. Call with v->lock held, or from
 * the device's constructor before the device is handed to a transport. */
int virtio_device_watch(struct virtio_device *v, int fd, uint32_t events, virtio_watch_fn handler);
/* Interrupts the driver for q unless it suppressed the interrupt. With v->lock held, or from the
 * device's own thread for a queue in ops->own_queues. */
void virtio_queue_signal(struct virtio_device *v, struct virtq *q);
/* Device config changed: bumps the generation and sends a config interrupt. */
void virtio_config_changed(struct virtio_device *v);
/* Malformed driver input or a broken backend: counted, and the device enters DEVICE_NEEDS_RESET
 * (with a config interrupt) and processes nothing until the driver resets it. */
void virtio_device_fail(struct virtio_device *v, int error, const char *why);
void virtio_stats_add(struct virtio_device *v, enum virtio_stat s, uint64_t bytes);
/* Counts an error that does not break the device (a failed backend read, an ignored write). */
void virtio_stats_error(struct virtio_device *v);
/* A consistent copy of the counters; any thread. */
void virtio_device_get_stats(struct virtio_device *v, struct virtio_stats *ret);
/* Runs one queue's handler now on the calling thread, as the I/O thread would (tests). */
void virtio_queue_process(struct virtio_device *v, unsigned q);
