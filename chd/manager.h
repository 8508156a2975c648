/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's one context object: event loop, bus connection, folders and the VM table. */
#pragma once

#include <stdbool.h>
#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

struct vm;

enum manager_mode {
	MANAGER_MODE_SYSTEM,
	MANAGER_MODE_USER,
	_MANAGER_MODE_MAX,
	_MANAGER_MODE_INVALID = -EINVAL,
};

/* How mutating calls are authorized (chd/authz.c). */
enum authz_mode {
	AUTHZ_MODE_POLKIT, /* org.freedesktop.PolicyKit1 on the bus chd is on; root always allowed */
	AUTHZ_MODE_UID,    /* only chd's own uid (and root) */
	_AUTHZ_MODE_MAX,
	_AUTHZ_MODE_INVALID = -EINVAL,
};

/* How workers are started (chd/worker.c, chd/worker-unit.c). */
enum spawn_mode {
	SPAWN_MODE_AUTO,    /* systemd where a service manager answers (see spawn_wants_units), else fork */
	SPAWN_MODE_FORK,    /* chd's own children, in chd's cgroup */
	SPAWN_MODE_SYSTEMD, /* transient service units in spawn_slice(), system mode: machined too */
	_SPAWN_MODE_MAX,
	_SPAWN_MODE_INVALID = -EINVAL,
};

/* Where everything lives; every folder can be overridden (tests). */
struct manager_config {
	enum manager_mode mode;
	enum authz_mode authz;
	char *bus_address;  /* NULL: the system or session bus */
	char *config_dir;   /* definitions in <config_dir>/vms, autostart marks in vms/autostart */
	char *runtime_dir;  /* <runtime_dir>/vms/<name>.xml and <runtime_dir>/vms/<name>/ */
	char *log_dir;      /* worker output and console logs */
	char *worker_path;  /* the vmm-worker binary */
	char *schema_dir;   /* NULL: the installed RelaxNG schemas */
	bool no_autostart;  /* skip autostart (tests) */
	enum spawn_mode spawn;
};

struct manager {
	struct manager_config config;
	sd_event *event;
	sd_bus *bus;
	GHashTable *vms; /* name → struct vm *, owned */
	sd_bus_slot *object_manager_slot;
	bool exiting;

	/* SPAWN_MODE_SYSTEMD (chd/worker-unit.c): the bus of the service manager (the system bus
	 * in system mode), the JobRemoved watch, and whether systemd-machined takes VMs. */
	enum spawn_mode spawn; /* resolved: never AUTO */
	sd_bus *systemd_bus;
	sd_bus_slot *job_removed_slot;
	bool machined;
};

int manager_config_defaults(struct manager_config *c, enum manager_mode mode);
void manager_config_done(struct manager_config *c);

int manager_new(struct manager_config *config, struct manager **ret);
struct manager *manager_free(struct manager *m);
DEFINE_POINTER_CLEANUP(struct manager, manager_free);

/* Loads definitions, finds running workers again, starts autostart VMs (once per boot: the
 * marker <runtime_dir>/autostarted), takes the bus name. */
int manager_startup(struct manager *m);
int manager_run(struct manager *m);

struct vm *manager_find_vm(struct manager *m, const char *name);
struct vm *manager_find_vm_by_uuid(struct manager *m, const char *uuid);
/* Adds vm to the table (taking ownership) and exports it on the bus. */
int manager_add_vm(struct manager *m, struct vm *vm);
/* Unexports and frees vm. */
void manager_remove_vm(struct manager *m, struct vm *vm);

/* Folder paths, newly allocated. */
char *manager_definition_dir(struct manager *m);
char *manager_vm_runtime_dir(struct manager *m, const char *name);

const char *manager_mode_to_string(enum manager_mode m);
enum manager_mode manager_mode_from_string(const char *s);
const char *authz_mode_to_string(enum authz_mode m);
enum authz_mode authz_mode_from_string(const char *s);
const char *spawn_mode_to_string(enum spawn_mode m);
enum spawn_mode spawn_mode_from_string(const char *s);

/* Whether --spawn=requested tries transient units: always for systemd, never for fork; auto
 * does unless the bus is private, in user mode (the probe of the session bus decides) and in
 * system mode on a machine systemd booted. *ret_required: a manager out of reach is fatal. */
bool spawn_wants_units(enum spawn_mode requested, enum manager_mode mode, bool private_bus,
		       bool systemd_booted, bool *ret_required);
/* The slice of the workers' units: machine.slice (system), app-chd.slice (user). */
const char *spawn_slice(enum manager_mode mode);

/* Registers the Manager interface and the object manager (chd/manager-dbus.c). */
int manager_bus_register(struct manager *m);
