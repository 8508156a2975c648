/* SPDX-License-Identifier: Apache-2.0 */
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>

#include "bus-error.h"
#include "conf/domain.h"
#include "log.h"
#include "manager.h"
#include "vm.h"
#include "worker.h"

static bool streq_ptr(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void message_unref_notify(gpointer p)
{
	sd_bus_message_unref(p);
}

int vm_new(struct manager *m, struct domain_def *def, bool persistent, struct vm **ret)
{
	_cleanup_(vm_freep) struct vm *vm = NULL;
	int r;

	vm = g_new0(struct vm, 1);
	vm->manager = m;
	vm->pidfd = -1;
	vm->name = g_strdup(def->name);
	domain_uuid_format(def->uuid, vm->uuid);
	r = sd_bus_path_encode(VM_OBJECT_PREFIX, vm->name, &vm->path);
	if (r < 0)
		return r;
	vm->def = def;
	vm->persistent = persistent;
	vm->state = VM_STATE_SHUT_OFF;
	vm->reason = VM_STATE_REASON_NONE;
	vm->stop_waiters = g_ptr_array_new_with_free_func(message_unref_notify);
	*ret = TAKE_PTR(vm);
	return 0;
}

struct vm *vm_free(struct vm *vm)
{
	if (!vm)
		return NULL;
	vm->vtable_slot = sd_bus_slot_unref(vm->vtable_slot);
	vm->state_changed_slot = sd_bus_slot_unref(vm->state_changed_slot);
	vm->control = sd_bus_flush_close_unref(vm->control);
	vm->pidfd_source = sd_event_source_disable_unref(vm->pidfd_source);
	vm->timer = sd_event_source_disable_unref(vm->timer);
	vm->pidfd = safe_close(vm->pidfd);
	worker_unit_forget(vm);
	vm->machine_slot = sd_bus_slot_unref(vm->machine_slot);
	vm->job_reply = sd_bus_message_unref(vm->job_reply);
	g_clear_pointer(&vm->stop_waiters, g_ptr_array_unref);
	domain_def_free(vm->def);
	domain_def_free(vm->live);
	g_free(vm->worker_stop_reason);
	g_free(vm->console_path);
	g_free(vm->path);
	g_free(vm->name);
	g_free(vm);
	return NULL;
}

const char *vm_name(const struct vm *vm)
{
	return vm->name;
}

const char *vm_uuid(const struct vm *vm)
{
	return vm->uuid;
}

const struct domain_def *vm_current_def(const struct vm *vm)
{
	return vm->live ? vm->live : vm->def;
}

void vm_set_state(struct vm *vm, enum vm_state state, enum vm_state_reason reason)
{
	if (vm->state == state && vm->reason == reason)
		return;
	log_debug("chd: VM '%s': %s (%s) -> %s (%s)", vm->name, vm_state_to_string(vm->state),
		  vm_state_reason_to_string(vm->reason), vm_state_to_string(state),
		  vm_state_reason_to_string(reason));
	vm->state = state;
	vm->reason = reason;
	vm_bus_emit_changed(vm, "State", "StateReason", "WorkerPID", "VCPUs", "Memory", NULL);
}

void vm_set_console_path(struct vm *vm, const char *path)
{
	if (path && !*path)
		path = NULL;
	if (g_strcmp0(vm->console_path, path) == 0)
		return;
	g_free(vm->console_path);
	vm->console_path = g_strdup(path);
	vm_bus_emit_changed(vm, "ConsolePath", NULL);
}

void vm_emit_event(struct vm *vm, enum vm_event event, const char *detail)
{
	if (!vm->vtable_slot)
		return;
	(void)sd_bus_emit_signal(vm->manager->bus, vm->path, "org.cloudhypervisor.chd1.VM", "Lifecycle",
				 "ss", vm_event_to_string(event), detail ?: "");
}

int vm_job_begin(struct vm *vm, enum vm_job job, sd_bus_error *error)
{
	if (vm->job != VM_JOB_NONE)
		return sd_bus_error_setf(error, CHD_ERROR_BUSY,
					 _("VM '%s' is busy: %s is in progress; try again when it has finished"),
					 vm->name, vm_job_to_string(vm->job));
	vm->job = job;
	return 0;
}

void vm_job_end(struct vm *vm)
{
	vm->job = VM_JOB_NONE;
}

int vm_open_store(struct manager *m, struct domain_store **ret)
{
	g_autofree char *dir = manager_definition_dir(m);

	return domain_store_new(dir, ret);
}

int vm_load_all(struct manager *m)
{
	_cleanup_(domain_store_freep) struct domain_store *store = NULL;
	struct domain_def **defs = NULL;
	char **errors = NULL;
	int r, n;

	r = vm_open_store(m, &store);
	if (r < 0)
		return log_error_errno(r, _("chd: cannot open the definitions in '%s': %s"),
				       m->config.config_dir, strerror(-r));
	n = domain_store_load_all(store, &defs, &errors);
	for (size_t i = 0; errors && errors[i]; i++)
		log_warning(_("chd: skipping a definition in '%s': %s"), domain_store_dir(store), errors[i]);
	g_strfreev(errors);
	if (n < 0)
		return log_error_errno(n, _("chd: cannot read the definitions in '%s': %s"),
				       domain_store_dir(store), strerror(-n));

	for (int i = 0; i < n; i++) {
		struct vm *vm = NULL;

		r = vm_new(m, TAKE_PTR(defs[i]), true, &vm);
		if (r < 0)
			break;
		vm->autostart = domain_store_get_autostart(store, vm->name) > 0;
		r = manager_add_vm(m, vm);
		if (r < 0)
			break;
	}
	domain_def_array_free(defs);
	if (r < 0)
		return log_error_errno(r, "chd: cannot add the stored VMs: %s", strerror(-r));
	log_debug("chd: %d definitions loaded", n);
	return 0;
}

/* Every <runtime>/vms/<name>.xml is a worker that an earlier chd started. */
int vm_reconnect_all(struct manager *m)
{
	g_autofree char *dir = g_build_filename(m->config.runtime_dir, "vms", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *entry;

	if (!d)
		return 0;
	while ((entry = g_dir_read_name(d))) {
		g_autofree char *path = NULL;
		g_autofree char *error = NULL;
		g_autofree char *name = NULL;
		struct domain_def *live = NULL;
		struct vm *vm;
		int r;

		if (!g_str_has_suffix(entry, ".xml"))
			continue;
		name = g_strndup(entry, strlen(entry) - 4);
		path = g_build_filename(dir, entry, NULL);
		r = domain_def_parse_file(path, &live, &error);
		if (r < 0) {
			log_warning(_("chd: ignoring the runtime record '%s': %s"), path, error ?: strerror(-r));
			continue;
		}
		vm = manager_find_vm(m, name);
		if (!vm) {
			/* A transient VM: its runtime record is its only definition. */
			struct domain_def *copy = NULL;

			if (domain_def_parse_file(path, &copy, NULL) < 0 ||
			    vm_new(m, copy, false, &vm) < 0 || manager_add_vm(m, vm) < 0) {
				log_warning(_("chd: cannot restore the transient VM '%s'"), name);
				domain_def_free(live);
				continue;
			}
		}
		vm->live = live;
		r = worker_reconnect(vm);
		if (r < 0) {
			log_info(_("chd: VM '%s' is no longer running"), name);
			if (!vm->persistent)
				manager_remove_vm(m, vm);
		}
	}
	return 0;
}

void vm_autostart_all(struct manager *m)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, m->vms);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct vm *vm = value;
		sd_bus_error error = SD_BUS_ERROR_NULL;

		if (!vm->autostart || vm_state_is_active(vm->state))
			continue;
		if (vm_job_begin(vm, VM_JOB_START, &error) >= 0 && worker_start(vm, NULL, &error) < 0) {
			log_warning(_("chd: cannot autostart VM '%s': %s"), vm->name, error.message);
			vm_job_end(vm);
		}
		sd_bus_error_free(&error);
	}
}

static void reply_stop_waiters(struct vm *vm)
{
	for (guint i = 0; i < vm->stop_waiters->len; i++)
		(void)sd_bus_reply_method_return(g_ptr_array_index(vm->stop_waiters, i), NULL);
	g_ptr_array_set_size(vm->stop_waiters, 0);
}

static void vm_worker_stopped(struct vm *vm, enum vm_state_reason reason, enum domain_lifecycle_action action,
			      bool crashed);

/* What happens after the worker is gone: reason, on_poweroff/on_crash, transient VMs. */
void vm_worker_exited(struct vm *vm, int exit_status, bool killed)
{
	const struct domain_def *def = vm_current_def(vm);
	bool crashed = killed || exit_status != 0;
	bool was_starting = vm->state == VM_STATE_STARTING;
	enum vm_state_reason reason;
	enum domain_lifecycle_action action;

	log_info(_("chd: VM '%s': worker exited (%s %d)"), vm->name, killed ? "signal" : "status",
		 exit_status);
	vm_set_console_path(vm, NULL);

	if (was_starting && !crashed && !vm->stop_requested) {
		/* The guest powered off before chd saw it running (a tiny guest): the start worked. */
		vm_worker_ready(vm, "running");
		reason = VM_STATE_REASON_SHUTDOWN;
		action = def->on_poweroff;
	} else if (was_starting) {
		reason = VM_STATE_REASON_FAILED;
		action = DOMAIN_LIFECYCLE_ACTION_DESTROY;
		if (vm->job_reply) {
			g_autofree char *log = worker_log_hint(vm);
			sd_bus_error error = SD_BUS_ERROR_NULL;

			sd_bus_error_setf(&error, CHD_ERROR_WORKER_FAILED,
					  _("VM '%s' did not start: vmm-worker exited with %s %d; its "
					    "messages are in %s"),
					  vm->name, killed ? _("signal") : _("status"), exit_status, log);
			(void)sd_bus_reply_method_error(vm->job_reply, &error);
			sd_bus_error_free(&error);
			vm->job_reply = sd_bus_message_unref(vm->job_reply);
		}
	} else if (vm->stop_requested) {
		/* Destroy or Shutdown's timeout. */
		reason = VM_STATE_REASON_DESTROYED;
		action = DOMAIN_LIFECYCLE_ACTION_DESTROY;
	} else if (crashed) {
		reason = VM_STATE_REASON_CRASHED;
		action = def->on_crash;
	} else {
		reason = VM_STATE_REASON_SHUTDOWN;
		action = def->on_poweroff;
	}

	vm_worker_stopped(vm, reason, action, crashed);
}

void vm_worker_start_failed(struct vm *vm, const char *detail)
{
	log_warning(_("chd: VM '%s' did not start: %s"), vm->name, detail);
	if (vm->job_reply) {
		sd_bus_error error = SD_BUS_ERROR_NULL;

		sd_bus_error_setf(&error, CHD_ERROR_WORKER_FAILED, _("VM '%s' did not start: %s"), vm->name, detail);
		(void)sd_bus_reply_method_error(vm->job_reply, &error);
		sd_bus_error_free(&error);
		vm->job_reply = sd_bus_message_unref(vm->job_reply);
	}
	vm_worker_stopped(vm, VM_STATE_REASON_FAILED, DOMAIN_LIFECYCLE_ACTION_DESTROY, true);
}

/* The worker is gone: answer what waited for it, announce the new state, apply the on_* action. */
static void vm_worker_stopped(struct vm *vm, enum vm_state_reason reason, enum domain_lifecycle_action action,
			      bool crashed)
{
	if (vm->job_reply) {
		/* A Suspend, Resume, Reboot or PowerButton call the worker can no longer answer. */
		sd_bus_error error = SD_BUS_ERROR_NULL;

		sd_bus_error_setf(&error, CHD_ERROR_WORKER_FAILED, _("VM '%s' stopped during %s"), vm->name,
				  vm_job_to_string(vm->job));
		(void)sd_bus_reply_method_error(vm->job_reply, &error);
		sd_bus_error_free(&error);
		vm->job_reply = sd_bus_message_unref(vm->job_reply);
	}
	vm->live = domain_def_free(vm->live);
	vm->stop_requested = false;
	vm_job_end(vm);
	vm_set_state(vm, reason == VM_STATE_REASON_CRASHED ? VM_STATE_CRASHED : VM_STATE_SHUT_OFF, reason);
	vm_emit_event(vm, VM_EVENT_STOPPED, vm_state_reason_to_string(reason));
	reply_stop_waiters(vm);

	if (action == DOMAIN_LIFECYCLE_ACTION_RESTART) {
		sd_bus_error error = SD_BUS_ERROR_NULL;

		log_info(_("chd: VM '%s': starting it again (on_%s=restart)"), vm->name,
			 crashed ? "crash" : "poweroff");
		vm->restarting = true;
		if (vm_job_begin(vm, VM_JOB_START, &error) >= 0 && worker_start(vm, NULL, &error) < 0) {
			log_warning(_("chd: cannot restart VM '%s': %s"), vm->name, error.message);
			vm_job_end(vm);
		}
		sd_bus_error_free(&error);
		if (vm_state_is_active(vm->state))
			return;
	}

	if (!vm->persistent) {
		vm_emit_event(vm, VM_EVENT_UNDEFINED, "");
		manager_remove_vm(vm->manager, vm);
	}
}

void vm_worker_ready(struct vm *vm, const char *worker_state)
{
	enum vm_state state = VM_STATE_RUNNING;

	if (worker_state && strcmp(worker_state, "paused") == 0)
		state = VM_STATE_PAUSED;
	else if (worker_state && strcmp(worker_state, "shutting-down") == 0)
		state = VM_STATE_SHUTTING_DOWN;

	if (vm->state == VM_STATE_STARTING) {
		vm_job_end(vm);
		vm_set_state(vm, state, vm->restarting ? VM_STATE_REASON_REBOOTED : VM_STATE_REASON_BOOTED);
		vm_emit_event(vm, VM_EVENT_STARTED, vm->restarting ? "restored-after-crash" : "booted");
		vm->restarting = false;
		if (vm->job_reply) {
			/* CreateTransient returns the object; Start returns nothing. */
			if (streq_ptr(sd_bus_message_get_member(vm->job_reply), "CreateTransient"))
				(void)sd_bus_reply_method_return(vm->job_reply, "o", vm->path);
			else
				(void)sd_bus_reply_method_return(vm->job_reply, NULL);
			vm->job_reply = sd_bus_message_unref(vm->job_reply);
		}
	} else {
		/* Found again after a chd restart. */
		vm_set_state(vm, state, VM_STATE_REASON_RECONNECTED);
	}
}

void vm_worker_state_changed(struct vm *vm, const char *state, const char *reason)
{
	log_debug("chd: VM '%s': worker state %s (%s)", vm->name, state, reason);
	if (strcmp(state, "stopped") == 0) {
		g_free(vm->worker_stop_reason);
		vm->worker_stop_reason = g_strdup(reason);
		return;
	}
	if (strcmp(state, "running") == 0 && strcmp(reason, "reboot") == 0) {
		vm_set_state(vm, VM_STATE_RUNNING, VM_STATE_REASON_REBOOTED);
		vm_emit_event(vm, VM_EVENT_STARTED, "rebooted");
		return;
	}
	if (strcmp(state, "running") == 0 && strcmp(reason, "guest-reset") == 0) {
		if (vm_current_def(vm)->on_reboot == DOMAIN_LIFECYCLE_ACTION_DESTROY) {
			/* on_reboot=destroy: a reset ends the VM like a power-off. */
			(void)worker_call(vm, "Stop", NULL);
			return;
		}
		vm_set_state(vm, VM_STATE_RUNNING, VM_STATE_REASON_REBOOTED);
		vm_emit_event(vm, VM_EVENT_STARTED, "rebooted");
	}
}
