/* SPDX-License-Identifier: Apache-2.0 */
/* The Counters reply: a{sa{st}}, device → counter name → value. Each device contributes through one
 * function in counter_sources[] that reads the device's own *_get_stats(), so devices stay
 * ignorant of D-Bus; a new device (PCI, virtio) adds one function and one row. */
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "backends/chardev.h"
#include "control/control.h"
#include "devices/legacy/ged.h"
#include "devices/legacy/serial.h"
#include "devices/virtio/pci-modern.h"
#include "devices/virtio/virtio.h"
#include "vcpu.h"

struct counter {
	const char *name;
	uint64_t value;
};

static int append_device(sd_bus_message *m, const char *device, const struct counter *counters, size_t n)
{
	int r;

	r = sd_bus_message_open_container(m, 'e', "sa{st}");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", device);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{st}");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(m, "{st}", counters[i].name, counters[i].value);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int counters_worker(sd_bus_message *m, struct worker *w)
{
	const struct counter c[] = {
		{ "boots", w->stats.boots },
		{ "pauses", w->stats.pauses },
		{ "power-button-presses", w->stats.power_button_presses },
	};
	return append_device(m, "worker", c, ELEMENTSOF(c));
}

static int counters_control(sd_bus_message *m, struct worker *w)
{
	struct control_stats st;

	if (!w->control)
		return 0;
	control_get_stats(w->control, &st);
	const struct counter c[] = {
		{ "connections-accepted", st.accepted },
		{ "connections-refused", st.refused },
		{ "connections-open", st.open },
	};
	return append_device(m, "control", c, ELEMENTSOF(c));
}

static int counters_vcpus(sd_bus_message *m, struct worker *w)
{
	for (unsigned i = 0; w->vm && i < w->vm->n_vcpus; i++) {
		struct vcpu_stats st;
		char name[32];
		int r;

		if (!w->vm->vcpus[i])
			continue;
		vcpu_get_stats(w->vm->vcpus[i], &st);
		const struct counter c[] = {
			{ "exits", st.exits },
			{ "exits-io", st.exits_io },
			{ "exits-mmio", st.exits_mmio },
			{ "exits-intr", st.exits_intr },
		};
		snprintf(name, sizeof(name), "vcpu%u", i);
		r = append_device(m, name, c, ELEMENTSOF(c));
		if (r < 0)
			return r;
	}
	return 0;
}

static int counters_serial(sd_bus_message *m, struct worker *w)
{
	struct serial_stats st;

	if (!w->vm || !w->vm->serial)
		return 0;
	serial_get_stats(w->vm->serial, &st);
	const struct counter c[] = {
		{ "tx-bytes", st.tx_bytes },
		{ "rx-bytes", st.rx_bytes },
		{ "dropped", st.dropped },
		{ "bad-accesses", st.bad_accesses },
	};
	return append_device(m, "serial", c, ELEMENTSOF(c));
}

/* The console logs ("serial-log", "console-log"): they outlive reboots, like the worker. */
static int counters_logs(sd_bus_message *m, struct worker *w)
{
	const struct {
		const char *name;
		const struct chardev *chr;
	} logs[] = {{"serial-log", w->io.serial_chr}, {"console-log", w->io.console}};

	for (size_t i = 0; i < ELEMENTSOF(logs); i++) {
		struct chardev_log_stats st;
		int r;

		if (!logs[i].chr || !chardev_get_log_stats(logs[i].chr, &st))
			continue;
		const struct counter c[] = {
			{ "written", st.written },
			{ "dropped", st.dropped },
		};
		r = append_device(m, logs[i].name, c, ELEMENTSOF(c));
		if (r < 0)
			return r;
	}
	return 0;
}

static int counters_ged(sd_bus_message *m, struct worker *w)
{
	struct ged_stats st;

	if (!w->vm || !w->vm->ged)
		return 0;
	ged_get_stats(w->vm->ged, &st);
	const struct counter c[] = {
		{ "notifications", st.notifications },
		{ "reads", st.reads },
		{ "bad-accesses", st.bad_accesses },
	};
	return append_device(m, "ged", c, ELEMENTSOF(c));
}

/* "virtio-blk0", "virtio-blk1", ...: numbered per kind in PCI order, as a Linux guest names them. */
static int counters_virtio(sd_bus_message *m, struct worker *w)
{
	for (unsigned i = 0; w->vm && i < w->vm->n_virtio; i++) {
		struct virtio_device *v = w->vm->virtio[i]->vdev;
		struct virtio_stats st;
		unsigned nth = 0;
		char name[64];
		int r;

		for (unsigned j = 0; j < i; j++)
			nth += strcmp(w->vm->virtio[j]->vdev->ops->name, v->ops->name) == 0;
		virtio_device_get_stats(v, &st);
		const struct counter c[] = {
			{ "read-bytes", st.read_bytes },
			{ "read-ops", st.read_ops },
			{ "write-bytes", st.write_bytes },
			{ "write-ops", st.write_ops },
			{ "notifications", st.notifications },
			{ "interrupts", st.interrupts },
			{ "errors", st.errors },
			{ "resets", st.resets },
		};
		snprintf(name, sizeof(name), "virtio-%s%u", v->ops->name, nth);
		r = append_device(m, name, c, ELEMENTSOF(c));
		if (r < 0)
			return r;
	}
	return 0;
}

static int (*const counter_sources[])(sd_bus_message *m, struct worker *w) = {
	counters_worker,
	counters_control,
	counters_vcpus,
	counters_serial,
	counters_logs,
	counters_ged,
	counters_virtio,
};

int control_append_counters(sd_bus_message *m, struct worker *w)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sa{st}}");
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(counter_sources); i++)
		r = counter_sources[i](m, w);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}
