/* SPDX-License-Identifier: Apache-2.0 */
/* The controller never has data for the guest: the status register shows an empty output buffer, so
 * a probing driver times out and gives up, and the data port reads 0. Only the reset pulse does
 * something; every other command and every data byte is ignored. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/legacy/i8042.h"
#include "log.h"

#define I8042_STATUS_SYS 0x04      /* system flag: self-test passed */
#define I8042_STATUS_CMD 0x08      /* last byte written went to the command port */
#define I8042_STATUS_UNLOCKED 0x10 /* keyboard not inhibited */

#define I8042_CMD_PULSE_RESET 0xfe

struct i8042 {
	pthread_mutex_t lock;
	void (*reset)(void *opaque);
	void *opaque;
	bool last_was_cmd;
	struct i8042_stats stats;
};

static void i8042_count_bad(struct i8042 *k, const char *port, uint32_t len)
{
	uint64_t n = ++k->stats.bad_accesses;

	if ((n & (n - 1)) == 0)
		log_debug("i8042: ignored %u-byte access to the %s port (%llu so far)", len, port,
			  (unsigned long long)n);
}

static void i8042_data_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	memset(data, 0, len);
	if (len != 1 || offset != 0)
		i8042_count_bad(k, "data", len);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_data_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	if (len != 1 || offset != 0)
		i8042_count_bad(k, "data", len);
	else
		k->last_was_cmd = false;
	pthread_mutex_unlock(&k->lock);
}

static void i8042_cmd_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	if (len != 1 || offset != 0) {
		memset(data, 0xff, len);
		i8042_count_bad(k, "command", len);
	} else {
		data[0] = I8042_STATUS_SYS | I8042_STATUS_UNLOCKED |
			  (k->last_was_cmd ? I8042_STATUS_CMD : 0);
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_cmd_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (len != 1 || offset != 0) {
		i8042_count_bad(k, "command", len);
	} else {
		k->stats.commands++;
		k->last_was_cmd = true;
		if (data[0] == I8042_CMD_PULSE_RESET) {
			k->stats.resets++;
			reset = true;
		}
	}
	pthread_mutex_unlock(&k->lock);

	/* Outside the lock: the handler may take VM-wide locks or call back into this device. */
	if (reset) {
		log_debug("i8042: reset pulse");
		if (k->reset)
			k->reset(k->opaque);
	}
}

const struct bus_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

const struct bus_ops i8042_cmd_ops = {
	.read = i8042_cmd_read,
	.write = i8042_cmd_write,
};

void i8042_get_stats(struct i8042 *k, struct i8042_stats *ret)
{
	pthread_mutex_lock(&k->lock);
	*ret = k->stats;
	pthread_mutex_unlock(&k->lock);
}

int i8042_new(void (*reset)(void *opaque), void *opaque, struct i8042 **ret)
{
	struct i8042 *k;
	int r;

	if (!ret)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	r = pthread_mutex_init(&k->lock, NULL);
	if (r != 0) {
		free(k);
		return -r;
	}
	k->reset = reset;
	k->opaque = opaque;
	*ret = k;
	return 0;
}

struct i8042 *i8042_free(struct i8042 *k)
{
	if (!k)
		return NULL;
	pthread_mutex_destroy(&k->lock);
	free(k);
	return NULL;
}
