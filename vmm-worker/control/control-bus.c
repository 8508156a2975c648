/* SPDX-License-Identifier: Apache-2.0 */
/* org.cloudhypervisor.chd1.Worker on one connection: each method calls the worker command of the
 * same name and turns its -errno into a named D-Bus error. */
#include <errno.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "backends/chardev.h"
#include "cli/config.h"
#include "cli/i18n.h"
#include "control/control.h"
#include "log.h"

/* For messages: "cannot <action>: ...". */
static const char *const command_action[_WORKER_COMMAND_MAX] = {
	[WORKER_COMMAND_POWER_BUTTON] = N_("press the power button"),
	[WORKER_COMMAND_STOP] = N_("stop the VM"),
	[WORKER_COMMAND_PAUSE] = N_("pause the VM"),
	[WORKER_COMMAND_RESUME] = N_("resume the VM"),
	[WORKER_COMMAND_REBOOT] = N_("reboot the VM"),
};

static int control_reply(sd_bus_message *m, struct worker *w, enum worker_command c, int r,
			 sd_bus_error *error)
{
	const char *state = worker_state_to_string(w->state);
	const char *action = _(command_action[c]);

	switch (-r) {
	case 0:
		return sd_bus_reply_method_return(m, NULL);
	case EBUSY:
		return sd_bus_error_setf(error, CONTROL_ERROR_INVALID_STATE, _("cannot %s: the VM is %s%s"), action,
					 state, w->state == WORKER_STATE_PAUSED ? _(" (resume it first)") : "");
	case ESHUTDOWN:
		return sd_bus_error_setf(error, CONTROL_ERROR_INVALID_STATE, _("cannot %s: the VM is stopping or rebooting"),
					 action);
	default:
		return sd_bus_error_setf(error, CONTROL_ERROR_FAILED, _("cannot %s: %s"), action, strerror(-r));
	}
}

static int method_power_button(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct worker *w = userdata;
	return control_reply(m, w, WORKER_COMMAND_POWER_BUTTON, worker_power_button(w), error);
}

static int method_stop(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct worker *w = userdata;
	return control_reply(m, w, WORKER_COMMAND_STOP, worker_stop(w), error);
}

static int method_pause(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct worker *w = userdata;
	return control_reply(m, w, WORKER_COMMAND_PAUSE, worker_pause(w), error);
}

static int method_resume(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct worker *w = userdata;
	return control_reply(m, w, WORKER_COMMAND_RESUME, worker_resume(w), error);
}

static int method_reboot(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct worker *w = userdata;
	return control_reply(m, w, WORKER_COMMAND_REBOOT, worker_reboot(w), error);
}

static int append_entry(sd_bus_message *m, const char *key, const char *type, ...)
{
	va_list ap;
	int r;

	r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', type);
	if (r >= 0) {
		va_start(ap, type);
		r = sd_bus_message_appendv(m, type, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int method_info(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct worker *w = userdata;
	const struct vmm_config *cfg = w->cfg;
	uint64_t now = worker_now(w);
	uint64_t paused = w->paused_usec;
	int r;

	if (w->state == WORKER_STATE_PAUSED)
		paused += now - w->paused_since_usec;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = append_entry(reply, "State", "s", worker_state_to_string(w->state));
	if (r >= 0)
		r = append_entry(reply, "Pid", "u", (uint32_t)getpid());
	if (r >= 0)
		r = append_entry(reply, "VCPUs", "u", cfg->cpus_boot);
	if (r >= 0)
		r = append_entry(reply, "MaxVCPUs", "u", cfg->cpus_max);
	if (r >= 0)
		r = append_entry(reply, "Memory", "t", cfg->memory_size);
	if (r >= 0)
		r = append_entry(reply, "Kernel", "s", cfg->kernel ? cfg->kernel : "");
	if (r >= 0)
		r = append_entry(reply, "Initramfs", "s", cfg->initramfs ? cfg->initramfs : "");
	if (r >= 0)
		r = append_entry(reply, "Cmdline", "s", cfg->cmdline ? cfg->cmdline : "");
	if (r >= 0)
		r = append_entry(reply, "Uptime", "t", w->stats.boots ? now - w->started_usec : (uint64_t)0);
	if (r >= 0)
		r = append_entry(reply, "BootUptime", "t", w->stats.boots ? now - w->boot_started_usec : (uint64_t)0);
	if (r >= 0)
		r = append_entry(reply, "PausedTime", "t", paused);
	if (r >= 0)
		r = append_entry(reply, "BootCount", "u", (uint32_t)w->stats.boots);
	if (r >= 0)
		r = append_entry(reply, "SerialPty", "s", w->io.serial_pty ? w->io.serial_pty : "");
	if (r >= 0)
		r = append_entry(reply, "ConsolePty", "s",
				 w->io.console && chardev_pty_path(w->io.console) ? chardev_pty_path(w->io.console) : "");
	if (r >= 0)
		r = append_entry(reply, "Version", "s", PACKAGE_VERSION);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int method_counters(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = control_append_counters(reply, userdata);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int property_state(sd_bus *bus, const char *path, const char *interface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct worker *w = userdata;
	return sd_bus_message_append(reply, "s", worker_state_to_string(w->state));
}

static int property_boot_count(sd_bus *bus, const char *path, const char *interface, const char *property,
			       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct worker *w = userdata;
	return sd_bus_message_append(reply, "u", (uint32_t)w->stats.boots);
}

static const sd_bus_vtable worker_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("PowerButton", "", "", method_power_button, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Stop", "", "", method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Pause", "", "", method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Resume", "", "", method_resume, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Reboot", "", "", method_reboot, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Info", "", , "a{sv}", SD_BUS_PARAM(info), method_info,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Counters", "", , "a{sa{st}}", SD_BUS_PARAM(counters), method_counters,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("StateChanged", "ss", SD_BUS_PARAM(state) SD_BUS_PARAM(reason), 0),
	SD_BUS_PROPERTY("State", "s", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("BootCount", "u", property_boot_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END,
};

/* Clients in bus mode (busctl with an address, sd_bus_set_bus_client()) open with Hello, as if a bus
 * daemon were there; answering it with a made-up unique name lets them talk to us unchanged.
 * Peer-to-peer clients (chd, gdbus) never call it. */
static int method_hello(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return sd_bus_reply_method_return(m, "s", ":1.1");
}

static const sd_bus_vtable hello_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Hello", "", "s", method_hello, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int control_bus_add_object(sd_bus *bus, struct worker *w)
{
	int r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus", hello_vtable, NULL);
	if (r < 0)
		return r;
	return sd_bus_add_object_vtable(bus, NULL, CONTROL_OBJECT_PATH, CONTROL_INTERFACE, worker_vtable, w);
}
