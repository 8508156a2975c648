/* SPDX-License-Identifier: Apache-2.0 */
/* org.cloudhypervisor.chd1.VM: one object per VM (data/dbus/org.cloudhypervisor.chd1.xml). */
#include <glib/gi18n.h>
#include <stdarg.h>
#include <string.h>

#include "authz.h"
#include "bus-error.h"
#include "conf/domain.h"
#include "log.h"
#include "manager.h"
#include "vm.h"
#include "worker.h"

#define VM_INTERFACE "org.cloudhypervisor.chd1.VM"
#define VM_GET_XML_INACTIVE 1u
#define VM_SHUTDOWN_DEFAULT_TIMEOUT_SEC 60u

/* The VM a call is addressed to; it may be gone by the time polkit answered. */
static struct vm *vm_from_message(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	g_autofree char *name = NULL;
	struct vm *vm = NULL;

	if (sd_bus_path_decode(sd_bus_message_get_path(msg), VM_OBJECT_PREFIX, &name) > 0)
		vm = manager_find_vm(m, name);
	if (!vm)
		sd_bus_error_setf(error, CHD_ERROR_NO_SUCH_VM, _("VM '%s' no longer exists"),
				  name ? name : sd_bus_message_get_path(msg));
	return vm;
}

static int invalid_state(struct vm *vm, const char *what, sd_bus_error *error)
{
	return sd_bus_error_setf(error, CHD_ERROR_INVALID_STATE, _("cannot %s VM '%s': it is %s"), what,
				 vm->name, vm_state_to_string(vm->state));
}

/* Replies to the job's waiting call with the worker's answer and releases the job lock. */
static bool job_reply_from_worker(struct vm *vm, sd_bus_message *reply, const char *what)
{
	bool ok = !sd_bus_message_is_method_error(reply, NULL);

	if (vm->job_reply) {
		if (ok) {
			(void)sd_bus_reply_method_return(vm->job_reply, NULL);
		} else {
			const sd_bus_error *e = sd_bus_message_get_error(reply);
			sd_bus_error error = SD_BUS_ERROR_NULL;

			sd_bus_error_setf(&error,
					  sd_bus_error_has_name(e, CHD_ERROR_INVALID_STATE) ? CHD_ERROR_INVALID_STATE
											    : CHD_ERROR_WORKER_FAILED,
					  _("cannot %s VM '%s': the worker refused: %s"), what, vm->name, e->message);
			(void)sd_bus_reply_method_error(vm->job_reply, &error);
			sd_bus_error_free(&error);
		}
		vm->job_reply = sd_bus_message_unref(vm->job_reply);
	}
	vm_job_end(vm);
	return ok;
}

/* Sends a Worker method for a job; the reply goes to msg from reply_cb. */
static int job_call_worker(struct vm *vm, sd_bus_message *msg, enum vm_job job, const char *method,
			   sd_bus_message_handler_t reply_cb, sd_bus_error *error)
{
	int r = vm_job_begin(vm, job, error);

	if (r < 0)
		return r;
	r = worker_call(vm, method, reply_cb);
	if (r < 0) {
		vm_job_end(vm);
		return sd_bus_error_setf(error, CHD_ERROR_WORKER_FAILED,
					 _("cannot %s VM '%s': its worker is unreachable: %s"), vm_job_to_string(job),
					 vm->name, strerror(-r));
	}
	vm->job_reply = sd_bus_message_ref(msg);
	return 1;
}

static int do_start(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	struct vm *vm = vm_from_message(m, msg, error);
	int r;

	if (!vm)
		return -ENOENT;
	if (vm_state_is_active(vm->state))
		return invalid_state(vm, _("start"), error);
	r = vm_job_begin(vm, VM_JOB_START, error);
	if (r < 0)
		return r;
	r = worker_start(vm, msg, error);
	if (r < 0)
		vm_job_end(vm);
	return r < 0 ? r : 1;
}

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return authz_check(vm->manager, msg, CHD_ACTION_LIFECYCLE, do_start, error);
}

static int on_shutdown_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct vm *vm = userdata;

	log_info(_("chd: VM '%s' did not power off in time; stopping it"), vm->name);
	vm->timer = sd_event_source_disable_unref(vm->timer);
	return worker_kill(vm);
}

static int on_power_button(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct vm *vm = userdata;

	if (sd_bus_message_is_method_error(reply, NULL)) {
		job_reply_from_worker(vm, reply, _("shut down"));
		return 0;
	}
	/* The job lock stays until the worker exits: Shutdown is in progress until then. */
	vm->timer = sd_event_source_disable_unref(vm->timer);
	if (sd_event_add_time_relative(vm->manager->event, &vm->timer, CLOCK_MONOTONIC, vm->shutdown_timeout_usec, 0,
				       on_shutdown_timeout, vm) < 0)
		(void)worker_kill(vm);
	(void)sd_bus_reply_method_return(vm->job_reply, NULL);
	vm->job_reply = sd_bus_message_unref(vm->job_reply);
	vm_set_state(vm, VM_STATE_SHUTTING_DOWN, vm->reason);
	vm_emit_event(vm, VM_EVENT_SHUTDOWN, "power-button");
	return 0;
}

static int do_shutdown(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	struct vm *vm = vm_from_message(m, msg, error);
	uint32_t timeout;
	int r;

	if (!vm)
		return -ENOENT;
	r = sd_bus_message_read(msg, "u", &timeout);
	if (r < 0)
		return r;
	if (vm->state != VM_STATE_RUNNING && vm->job == VM_JOB_NONE)
		return invalid_state(vm, _("shut down"), error);
	vm->shutdown_timeout_usec = (uint64_t)(timeout ?: VM_SHUTDOWN_DEFAULT_TIMEOUT_SEC) * 1000000ULL;
	return job_call_worker(vm, msg, VM_JOB_SHUTDOWN, "PowerButton", on_power_button, error);
}

static int method_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return authz_check(vm->manager, msg, CHD_ACTION_LIFECYCLE, do_shutdown, error);
}

static int do_destroy(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	struct vm *vm = vm_from_message(m, msg, error);
	int r;

	if (!vm)
		return -ENOENT;
	if (!vm_state_is_active(vm->state))
		return invalid_state(vm, _("destroy"), error);
	/* Destroy overrides every job, Shutdown's escalation timer included. */
	r = worker_kill(vm);
	if (r < 0)
		return sd_bus_error_setf(error, CHD_ERROR_WORKER_FAILED, _("cannot destroy VM '%s': %s"), vm->name,
					 strerror(-r));
	g_ptr_array_add(vm->stop_waiters, sd_bus_message_ref(msg));
	return 1;
}

static int method_destroy(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return authz_check(vm->manager, msg, CHD_ACTION_LIFECYCLE, do_destroy, error);
}

static int on_worker_reboot(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	job_reply_from_worker(userdata, reply, _("reboot"));
	return 0;
}

static int do_reboot(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	struct vm *vm = vm_from_message(m, msg, error);

	if (!vm)
		return -ENOENT;
	if (vm->state != VM_STATE_RUNNING && vm->state != VM_STATE_PAUSED)
		return invalid_state(vm, _("reboot"), error);
	return job_call_worker(vm, msg, VM_JOB_REBOOT, "Reboot", on_worker_reboot, error);
}

static int method_reboot(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return authz_check(vm->manager, msg, CHD_ACTION_LIFECYCLE, do_reboot, error);
}

static int on_worker_pause(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct vm *vm = userdata;

	if (job_reply_from_worker(vm, reply, _("suspend"))) {
		vm_set_state(vm, VM_STATE_PAUSED, VM_STATE_REASON_USER);
		vm_emit_event(vm, VM_EVENT_SUSPENDED, "user");
	}
	return 0;
}

static int do_suspend(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	struct vm *vm = vm_from_message(m, msg, error);

	if (!vm)
		return -ENOENT;
	if (vm->state != VM_STATE_RUNNING && vm->job == VM_JOB_NONE)
		return invalid_state(vm, _("suspend"), error);
	return job_call_worker(vm, msg, VM_JOB_SUSPEND, "Pause", on_worker_pause, error);
}

static int method_suspend(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return authz_check(vm->manager, msg, CHD_ACTION_LIFECYCLE, do_suspend, error);
}

static int on_worker_resume(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct vm *vm = userdata;

	if (job_reply_from_worker(vm, reply, _("resume"))) {
		vm_set_state(vm, VM_STATE_RUNNING, VM_STATE_REASON_UNPAUSED);
		vm_emit_event(vm, VM_EVENT_RESUMED, "user");
	}
	return 0;
}

static int do_resume(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	struct vm *vm = vm_from_message(m, msg, error);

	if (!vm)
		return -ENOENT;
	if (vm->state != VM_STATE_PAUSED && vm->job == VM_JOB_NONE)
		return invalid_state(vm, _("resume"), error);
	return job_call_worker(vm, msg, VM_JOB_RESUME, "Resume", on_worker_resume, error);
}

static int method_resume(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return authz_check(vm->manager, msg, CHD_ACTION_LIFECYCLE, do_resume, error);
}

static int store_error(struct vm *vm, const char *what, int r, sd_bus_error *error)
{
	return sd_bus_error_setf(error, CHD_ERROR_IO_ERROR, _("cannot %s VM '%s': %s"), what, vm->name,
				 strerror(-r));
}

static int do_undefine(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(domain_store_freep) struct domain_store *store = NULL;
	struct vm *vm = vm_from_message(m, msg, error);
	int r;

	if (!vm)
		return -ENOENT;
	if (!vm->persistent)
		return sd_bus_error_setf(error, CHD_ERROR_INVALID_STATE,
					 _("cannot undefine VM '%s': it is transient (Destroy removes it)"),
					 vm->name);
	r = vm_job_begin(vm, VM_JOB_UNDEFINE, error);
	if (r < 0)
		return r;
	r = vm_open_store(m, &store);
	if (r >= 0)
		r = domain_store_remove(store, vm->name);
	vm_job_end(vm);
	if (r < 0 && r != -ENOENT)
		return store_error(vm, _("undefine"), r, error);

	r = sd_bus_reply_method_return(msg, NULL);
	vm_emit_event(vm, VM_EVENT_UNDEFINED, "");
	if (vm_state_is_active(vm->state)) {
		/* Running VMs stay, as transient ones, until they stop. */
		vm->persistent = false;
		vm->autostart = false;
		vm_bus_emit_changed(vm, "Persistent", "Autostart", NULL);
	} else {
		manager_remove_vm(m, vm);
	}
	return r;
}

static int method_undefine(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return authz_check(vm->manager, msg, CHD_ACTION_DEFINE, do_undefine, error);
}

static int method_get_xml(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	g_autofree char *xml = NULL;
	uint32_t flags;
	int r;

	r = sd_bus_message_read(msg, "u", &flags);
	if (r < 0)
		return r;
	if (flags & ~VM_GET_XML_INACTIVE)
		return sd_bus_error_setf(error, CHD_ERROR_INVALID_ARGUMENT,
					 _("GetXML: unknown flags 0x%x (only 1, INACTIVE, is defined)"),
					 flags & ~VM_GET_XML_INACTIVE);
	r = domain_def_format((flags & VM_GET_XML_INACTIVE) ? vm->def : vm_current_def(vm), &xml);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "s", xml);
}

static int do_set_autostart(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(domain_store_freep) struct domain_store *store = NULL;
	struct vm *vm = vm_from_message(m, msg, error);
	int enable, r;

	if (!vm)
		return -ENOENT;
	r = sd_bus_message_read(msg, "b", &enable);
	if (r < 0)
		return r;
	if (!vm->persistent)
		return sd_bus_error_setf(error, CHD_ERROR_INVALID_STATE,
					 _("cannot mark VM '%s' for autostart: it is transient (Define it first)"),
					 vm->name);
	r = vm_job_begin(vm, VM_JOB_SET_AUTOSTART, error);
	if (r < 0)
		return r;
	r = vm_open_store(m, &store);
	if (r >= 0)
		r = domain_store_set_autostart(store, vm->name, enable);
	vm_job_end(vm);
	if (r < 0)
		return store_error(vm, _("change autostart of"), r, error);
	if (vm->autostart != !!enable) {
		vm->autostart = enable;
		vm_bus_emit_changed(vm, "Autostart", NULL);
	}
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_autostart(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return authz_check(vm->manager, msg, CHD_ACTION_DEFINE, do_set_autostart, error);
}

static int reply_strv(sd_bus_message *msg, char **strv)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(msg, &reply);
	if (r >= 0)
		r = sd_bus_message_append_strv(reply, strv);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	return r;
}

static int method_get_worker_command_line(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	g_autofree char *msg_error = NULL;
	g_auto(GStrv) argv = NULL;
	int r;

	r = worker_argv(vm, vm_current_def(vm), &argv, &msg_error);
	if (r < 0)
		return sd_bus_error_setf(error, CHD_ERROR_INVALID_DEFINITION, _("VM '%s': %s"), vm->name,
					 msg_error ?: strerror(-r));
	return reply_strv(msg, argv);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	const struct domain_def *def = vm_current_def(vm);
	int r;

	if (strcmp(property, "Name") == 0)
		return sd_bus_message_append(reply, "s", vm->name);
	if (strcmp(property, "UUID") == 0)
		return sd_bus_message_append(reply, "s", vm->uuid);
	if (strcmp(property, "State") == 0)
		return sd_bus_message_append(reply, "s", vm_state_to_string(vm->state));
	if (strcmp(property, "StateReason") == 0)
		return sd_bus_message_append(reply, "s", vm_state_reason_to_string(vm->reason));
	if (strcmp(property, "Persistent") == 0)
		return sd_bus_message_append(reply, "b", vm->persistent);
	if (strcmp(property, "Autostart") == 0)
		return sd_bus_message_append(reply, "b", vm->autostart);
	if (strcmp(property, "VCPUs") == 0)
		return sd_bus_message_append(reply, "u", def->vcpus_current ? def->vcpus_current : def->vcpus);
	if (strcmp(property, "Memory") == 0)
		return sd_bus_message_append(reply, "t", (uint64_t)def->memory_kib * 1024);
	if (strcmp(property, "WorkerPID") == 0)
		return sd_bus_message_append(reply, "u", (uint32_t)vm->pid);
	if (strcmp(property, "ConsoleLog") == 0) {
		/* The serial port, or a console that is the serial port, written to a file. */
		const struct domain_chr *c = domain_def_serial_port(def);

		return sd_bus_message_append(reply, "s", c && c->type == DOMAIN_CHR_TYPE_FILE ? c->path : "");
	}
	if (strcmp(property, "ConsolePath") == 0)
		return sd_bus_message_append(reply, "s", vm->console_path ?: "");
	if (strcmp(property, "PtyLog") == 0) {
		/* The log of the console ConsolePath offers: the serial port's first. */
		struct worker_logs logs;

		worker_logs_get(vm, def, &logs);
		r = sd_bus_message_append(reply, "s", logs.serial ?: logs.console ?: "");
		worker_logs_done(&logs);
		return r;
	}
	return -ENOENT;
}

static const sd_bus_vtable vm_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Name", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("UUID", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("State", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("StateReason", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Persistent", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Autostart", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("VCPUs", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Memory", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("WorkerPID", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ConsoleLog", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ConsolePath", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("PtyLog", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("Start", "", "", method_start, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Shutdown", SD_BUS_ARGS("u", timeout), SD_BUS_NO_RESULT, method_shutdown,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Reboot", "", "", method_reboot, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Suspend", "", "", method_suspend, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Resume", "", "", method_resume, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Undefine", "", "", method_undefine, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("GetXML", SD_BUS_ARGS("u", flags), SD_BUS_RESULT("s", xml), method_get_xml,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("SetAutostart", SD_BUS_ARGS("b", autostart), SD_BUS_NO_RESULT,
			    method_set_autostart, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("GetWorkerCommandLine", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", argv),
			    method_get_worker_command_line, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_ARGS("Lifecycle", SD_BUS_ARGS("s", event, "s", detail), 0),
    SD_BUS_VTABLE_END,
};

int vm_bus_export(struct vm *vm)
{
	int r;

	r = sd_bus_add_object_vtable(vm->manager->bus, &vm->vtable_slot, vm->path, VM_INTERFACE, vm_vtable, vm);
	if (r < 0)
		return r;
	(void)sd_bus_emit_object_added(vm->manager->bus, vm->path);
	return 0;
}

void vm_bus_unexport(struct vm *vm)
{
	if (!vm->vtable_slot)
		return;
	(void)sd_bus_emit_object_removed(vm->manager->bus, vm->path);
	vm->vtable_slot = sd_bus_slot_unref(vm->vtable_slot);
}

void vm_bus_emit_changed(struct vm *vm, const char *property, ...)
{
	const char *names[16];
	size_t n = 0;
	va_list ap;

	if (!vm->vtable_slot)
		return;
	va_start(ap, property);
	for (const char *p = property; p && n < ELEMENTSOF(names) - 1; p = va_arg(ap, const char *))
		names[n++] = p;
	va_end(ap);
	names[n] = NULL;
	(void)sd_bus_emit_properties_changed_strv(vm->manager->bus, vm->path, VM_INTERFACE, (char **)names);
}
