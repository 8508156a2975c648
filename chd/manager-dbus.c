/* SPDX-License-Identifier: Apache-2.0 */
/* org.cloudhypervisor.chd1.Manager and the object manager (data/dbus/org.cloudhypervisor.chd1.xml). */
#include <glib/gi18n.h>
#include <string.h>

#include "authz.h"
#include "bus-error.h"
#include "conf/domain.h"
#include "log.h"
#include "manager.h"
#include "vm.h"

#define MANAGER_PATH "/org/cloudhypervisor/chd1"
#define MANAGER_INTERFACE "org.cloudhypervisor.chd1.Manager"

/* Parses and canonicalises a definition; InvalidDefinition names the cause. Nothing is stored. */
/* Parses and canonicalises xml; on failure *ret_error (g_free) says why, with the VM's name once
 * it is known. */
static int definition_from_xml(struct manager *m, const char *xml, struct domain_def **ret, char **ret_error)
{
	_cleanup_(domain_def_freep) struct domain_def *def = NULL;
	struct vm *same_name;
	char *why = NULL;
	int r;

	r = domain_def_parse(xml, strlen(xml), &def, &why);
	if (r < 0) {
		*ret_error = g_strdup_printf(_("invalid definition: %s"), why ?: strerror(-r));
		g_free(why);
		return r;
	}
	/* Redefining without a uuid keeps the VM's uuid, as libvirt does. */
	same_name = manager_find_vm(m, def->name);
	if (same_name && !def->uuid_set) {
		const struct domain_def *old = same_name->def;

		memcpy(def->uuid, old->uuid, sizeof(def->uuid));
		def->uuid_set = true;
	}
	r = domain_def_canonicalize(def, NULL, &why);
	if (r < 0) {
		*ret_error = g_strdup_printf(_("invalid definition '%s': %s"), def->name, why ?: strerror(-r));
		g_free(why);
		return r;
	}
	*ret = TAKE_PTR(def);
	return 0;
}

static int parse_definition(struct manager *m, sd_bus_message *msg, struct domain_def **ret,
			    sd_bus_error *error)
{
	g_autofree char *msg_error = NULL;
	const char *xml;
	int r;

	r = sd_bus_message_read(msg, "s", &xml);
	if (r < 0)
		return r;
	r = definition_from_xml(m, xml, ret, &msg_error);
	if (r < 0)
		return sd_bus_error_set(error, CHD_ERROR_INVALID_DEFINITION, msg_error);
	return 0;
}

/* A new definition may reuse neither another VM's name nor its uuid. */
static int check_conflicts(struct manager *m, const struct domain_def *def, bool allow_same, sd_bus_error *error)
{
	char uuid[DOMAIN_UUID_STRING_MAX];
	struct vm *by_name = manager_find_vm(m, def->name);
	struct vm *by_uuid;

	domain_uuid_format(def->uuid, uuid);
	by_uuid = manager_find_vm_by_uuid(m, uuid);
	if (by_name && (!allow_same || strcmp(by_name->uuid, uuid) != 0))
		return sd_bus_error_setf(error, CHD_ERROR_VM_EXISTS,
					 allow_same ? _("VM '%s' already exists with uuid %s; undefine it first or "
							"keep its uuid")
						    : _("VM '%s' already exists (%s)"),
					 def->name, by_name->uuid);
	if (by_uuid && by_uuid != by_name)
		return sd_bus_error_setf(error, CHD_ERROR_VM_EXISTS, _("uuid %s already belongs to VM '%s'"), uuid,
					 by_uuid->name);
	return 0;
}

static int store_definition(struct manager *m, const struct domain_def *def, sd_bus_error *error)
{
	_cleanup_(domain_store_freep) struct domain_store *store = NULL;
	char *why = NULL;
	int r;

	r = vm_open_store(m, &store);
	if (r >= 0)
		r = domain_store_save(store, def, &why);
	if (r < 0)
		r = sd_bus_error_setf(error, CHD_ERROR_IO_ERROR, _("cannot store VM '%s': %s"), def->name,
				      why ?: strerror(-r));
	g_free(why);
	return r;
}

static int do_define(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(domain_def_freep) struct domain_def *def = NULL;
	struct vm *vm;
	bool updated;
	int r;

	r = parse_definition(m, msg, &def, error);
	if (r < 0)
		return r;
	r = check_conflicts(m, def, true, error);
	if (r < 0)
		return r;
	r = store_definition(m, def, error);
	if (r < 0)
		return r;

	vm = manager_find_vm(m, def->name);
	updated = vm != NULL;
	if (vm) {
		domain_def_free(vm->def);
		vm->def = TAKE_PTR(def);
		if (!vm->persistent) {
			vm->persistent = true;
			vm_bus_emit_changed(vm, "Persistent", NULL);
		}
		vm_bus_emit_changed(vm, "VCPUs", "Memory", NULL);
	} else {
		r = vm_new(m, def, true, &vm);
		if (r < 0)
			return r;
		TAKE_PTR(def);
		r = manager_add_vm(m, vm);
		if (r < 0)
			return r;
	}
	log_info(_("chd: VM '%s' %s"), vm->name, updated ? _("redefined") : _("defined"));
	vm_emit_event(vm, VM_EVENT_DEFINED, updated ? "updated" : "new");
	return sd_bus_reply_method_return(msg, "o", vm->path);
}

static int method_define(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return authz_check(userdata, msg, CHD_ACTION_DEFINE, do_define, error);
}

static int do_create_transient(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(domain_def_freep) struct domain_def *def = NULL;
	struct vm *vm;
	int r;

	r = parse_definition(m, msg, &def, error);
	if (r < 0)
		return r;
	r = check_conflicts(m, def, false, error);
	if (r < 0)
		return r;
	r = vm_new(m, def, false, &vm);
	if (r < 0)
		return r;
	TAKE_PTR(def);
	r = manager_add_vm(m, vm);
	if (r < 0)
		return r;
	r = vm_job_begin(vm, VM_JOB_START, error);
	if (r >= 0)
		r = worker_start(vm, msg, error);
	if (r < 0) {
		manager_remove_vm(m, vm);
		return r;
	}
	return 1;
}

static int method_create_transient(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return authz_check(userdata, msg, CHD_ACTION_LIFECYCLE, do_create_transient, error);
}

static int method_lookup_by_name(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const char *name;
	struct vm *vm;
	int r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	vm = manager_find_vm(m, name);
	if (!vm)
		return sd_bus_error_setf(error, CHD_ERROR_NO_SUCH_VM, _("no VM is named '%s'"), name);
	return sd_bus_reply_method_return(msg, "o", vm->path);
}

static int method_lookup_by_uuid(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	uint8_t bytes[16];
	const char *uuid;
	struct vm *vm;
	int r;

	r = sd_bus_message_read(msg, "s", &uuid);
	if (r < 0)
		return r;
	if (domain_uuid_parse(uuid, bytes) < 0)
		return sd_bus_error_setf(error, CHD_ERROR_INVALID_ARGUMENT,
					 _("'%s' is not a UUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"), uuid);
	vm = manager_find_vm_by_uuid(m, uuid);
	if (!vm)
		return sd_bus_error_setf(error, CHD_ERROR_NO_SUCH_VM, _("no VM has the uuid %s"), uuid);
	return sd_bus_reply_method_return(msg, "o", vm->path);
}

static int method_list(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct manager *m = userdata;
	GList *names = g_list_sort(g_hash_table_get_keys(m->vms), (GCompareFunc)strcmp);
	int r;

	r = sd_bus_message_new_method_return(msg, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(osss)");
	for (GList *l = names; r >= 0 && l; l = l->next) {
		struct vm *vm = manager_find_vm(m, l->data);

		r = sd_bus_message_append(reply, "(osss)", vm->path, vm->name, vm->uuid,
					  vm_state_to_string(vm->state));
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	g_list_free(names);
	return r;
}

static int property_version(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_mode(sd_bus *bus, const char *path, const char *interface, const char *property,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "s", manager_mode_to_string(m->config.mode));
}

static const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", property_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Mode", "s", property_mode, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD_WITH_ARGS("Define", SD_BUS_ARGS("s", xml), SD_BUS_RESULT("o", vm), method_define,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CreateTransient", SD_BUS_ARGS("s", xml), SD_BUS_RESULT("o", vm),
			    method_create_transient, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("LookupByName", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", vm),
			    method_lookup_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("LookupByUUID", SD_BUS_ARGS("s", uuid), SD_BUS_RESULT("o", vm),
			    method_lookup_by_uuid, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("List", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(osss)", vms), method_list,
			    SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

int manager_bus_register(struct manager *m)
{
	int r;

	r = sd_bus_add_object_vtable(m->bus, NULL, MANAGER_PATH, MANAGER_INTERFACE, manager_vtable, m);
	if (r < 0)
		return r;
	return sd_bus_add_object_manager(m->bus, &m->object_manager_slot, MANAGER_PATH);
}
