/* SPDX-License-Identifier: Apache-2.0 */
/* systemd-machined: a VM whose worker runs as a unit is registered as a machine of class "vm"
 * (RegisterMachineWithNetwork, leader = the worker), so machinectl, ps -o machine and the
 * journal's _MACHINE_ID know it. machined takes the unit from the leader's cgroup; it also drops
 * the machine by itself when that unit goes away, which covers a chd that is not running then.
 * Registration is best effort: a machine without machined runs all the same. */
#include <glib/gi18n.h>
#include <net/if.h>
#include <string.h>

#include "conf/domain.h"
#include "log.h"
#include "manager.h"
#include "vm.h"
#include "worker.h"

#define MACHINED_SERVICE "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER "org.freedesktop.machine1.Manager"
#define MACHINE_NAME_MAX 64

bool machined_name_is_valid(const char *name)
{
	size_t n = strlen(name);

	/* A host name: letters, digits, '-', '_', '.'; no empty label. */
	if (n == 0 || n > MACHINE_NAME_MAX || name[0] == '.' || name[n - 1] == '.' || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("-_.", *p))
			return false;
	return true;
}

static int on_registered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct vm *vm = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	vm->machine_slot = sd_bus_slot_unref(vm->machine_slot);
	if (!e || sd_bus_error_has_name(e, "org.freedesktop.machine1.MachineExists")) {
		/* Exists: registered by the chd that started the worker. */
		vm->machine_registered = true;
		log_debug("chd: VM '%s': registered with systemd-machined", vm->name);
		return 0;
	}
	if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		/* Not installed (systemd-container): say it once, then stop asking. */
		log_info(
		    _("chd: systemd-machined is not available (%s); VMs are not registered as machines"),
		    e->message);
		vm->manager->machined = false;
		return 0;
	}
	log_warning(_("chd: VM '%s': systemd-machined refused to register it: %s"), vm->name, e->message);
	return 0;
}

void machined_register(struct vm *vm)
{
	struct manager *m = vm->manager;
	const struct domain_def *def = vm_current_def(vm);
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	int r;

	if (!m->machined || !m->systemd_bus || vm->pid <= 0)
		return;
	if (!machined_name_is_valid(vm->name)) {
		log_info(_("chd: VM '%s' is not registered with systemd-machined: machine names are host "
			   "names (letters, digits, '-', '_', '.', at most %d characters)"),
			 vm->name, MACHINE_NAME_MAX);
		return;
	}
	r = sd_bus_message_new_method_call(m->systemd_bus, &call, MACHINED_SERVICE, MACHINED_PATH,
					   MACHINED_MANAGER, "RegisterMachineWithNetwork");
	if (r >= 0)
		r = sd_bus_message_append(call, "s", vm->name);
	if (r >= 0)
		r = sd_bus_message_append_array(call, 'y', def->uuid, sizeof(def->uuid));
	if (r >= 0)
		r = sd_bus_message_append(call, "ssus", "chd", "vm", (uint32_t)vm->pid, "");
	/* The VM's taps that exist now (the host side of its network). */
	if (r >= 0)
		r = sd_bus_message_open_container(call, 'a', "i");
	for (size_t i = 0; r >= 0 && i < def->n_interfaces; i++) {
		const char *tap = def->interfaces[i].target_dev;
		unsigned ifindex = tap ? if_nametoindex(tap) : 0;

		if (ifindex > 0)
			r = sd_bus_message_append(call, "i", (int32_t)ifindex);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(call);
	if (r >= 0) {
		vm->machine_slot = sd_bus_slot_unref(vm->machine_slot);
		r = sd_bus_call_async(m->systemd_bus, &vm->machine_slot, call, on_registered, vm, 0);
	}
	if (r < 0)
		log_warning(_("chd: VM '%s': cannot register it with systemd-machined: %s"), vm->name,
			    strerror(-r));
}

void machined_unregister(struct vm *vm)
{
	struct manager *m = vm->manager;

	vm->machine_registered = false;
	if (!m->systemd_bus)
		return;
	/* UnregisterMachine forgets the machine and kills nothing. machined may have dropped it
	 * already (the unit is gone): NoSuchMachine then, which is fine. */
	(void)sd_bus_call_method_async(m->systemd_bus, NULL, MACHINED_SERVICE, MACHINED_PATH,
				       MACHINED_MANAGER, "UnregisterMachine", NULL, NULL, "s", vm->name);
}
