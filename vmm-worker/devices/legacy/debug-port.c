/* SPDX-License-Identifier: Apache-2.0 */
/* Only changes are logged: Linux and firmware also use port 0x80 as an I/O delay, and logging each
 * of those writes would flood the log with one repeated value. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/bus.h"
#include "devices/legacy/debug-port.h"
#include "log.h"

struct debug_port {
	pthread_mutex_t lock;
	struct timespec created;
	struct debug_port_stats stats;
};

static uint64_t debug_port_elapsed_ms(const struct debug_port *d)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - d->created.tv_sec) * 1000 + (now.tv_nsec - d->created.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (uint64_t)ms;
}

static void debug_port_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct debug_port *d = opaque;

	pthread_mutex_lock(&d->lock);
	if (len != 1 || offset != 0) {
		memset(data, 0xff, len);
		d->stats.bad_accesses++;
	} else {
		data[0] = d->stats.last;
	}
	pthread_mutex_unlock(&d->lock);
}

static void debug_port_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct debug_port *d = opaque;

	pthread_mutex_lock(&d->lock);
	if (len != 1 || offset != 0) {
		d->stats.bad_accesses++;
	} else {
		bool changed = !d->stats.written || d->stats.last != data[0];

		d->stats.writes++;
		d->stats.last = data[0];
		d->stats.written = true;
		d->stats.last_ms = debug_port_elapsed_ms(d);
		if (changed)
			log_debug("boot progress 0x%02x at %llu ms", data[0],
				  (unsigned long long)d->stats.last_ms);
	}
	pthread_mutex_unlock(&d->lock);
}

const struct bus_ops debug_port_ops = {
	.read = debug_port_read,
	.write = debug_port_write,
};

void debug_port_get_stats(struct debug_port *d, struct debug_port_stats *ret)
{
	pthread_mutex_lock(&d->lock);
	*ret = d->stats;
	pthread_mutex_unlock(&d->lock);
}

int debug_port_new(struct debug_port **ret)
{
	struct debug_port *d;
	int r;

	if (!ret)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	r = pthread_mutex_init(&d->lock, NULL);
	if (r != 0) {
		free(d);
		return -r;
	}
	clock_gettime(CLOCK_MONOTONIC, &d->created);
	*ret = d;
	return 0;
}

struct debug_port *debug_port_free(struct debug_port *d)
{
	if (!d)
		return NULL;
	pthread_mutex_destroy(&d->lock);
	free(d);
	return NULL;
}
