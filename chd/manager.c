/* SPDX-License-Identifier: Apache-2.0 */
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "bus-error.h"
#include "log.h"
#include "manager.h"
#include "string-table.h"
#include "vm.h"
#include "worker.h"

#define CHD_BUS_NAME "org.cloudhypervisor.chd1"

static const char *const manager_mode_table[_MANAGER_MODE_MAX] = {
    [MANAGER_MODE_SYSTEM] = "system",
    [MANAGER_MODE_USER] = "user",
};

static const char *const authz_mode_table[_AUTHZ_MODE_MAX] = {
    [AUTHZ_MODE_POLKIT] = "polkit",
    [AUTHZ_MODE_UID] = "uid",
};

static const char *const spawn_mode_table[_SPAWN_MODE_MAX] = {
    [SPAWN_MODE_AUTO] = "auto",
    [SPAWN_MODE_FORK] = "fork",
    [SPAWN_MODE_SYSTEMD] = "systemd",
};

DEFINE_STRING_TABLE(manager_mode, enum manager_mode, manager_mode_table)
DEFINE_STRING_TABLE(authz_mode, enum authz_mode, authz_mode_table)
DEFINE_STRING_TABLE(spawn_mode, enum spawn_mode, spawn_mode_table)

/* DESIGN.md §3: /etc/chd, /run/chd, /var/log/chd; user mode under the XDG folders. */
int manager_config_defaults(struct manager_config *c, enum manager_mode mode)
{
	c->mode = mode;
	c->authz = mode == MANAGER_MODE_SYSTEM ? AUTHZ_MODE_POLKIT : AUTHZ_MODE_UID;
	if (mode == MANAGER_MODE_SYSTEM) {
		c->config_dir = g_strdup(CHD_SYSCONFDIR "/chd");
		c->runtime_dir = g_strdup("/run/chd");
		c->log_dir = g_strdup(CHD_LOCALSTATEDIR "/log/chd");
	} else {
		const char *runtime = g_getenv("XDG_RUNTIME_DIR");

		c->config_dir = g_build_filename(g_get_user_config_dir(), "chd", NULL);
		c->log_dir = g_build_filename(g_get_user_state_dir(), "chd", NULL);
		if (runtime)
			c->runtime_dir = g_build_filename(runtime, "chd", NULL);
	}
	if (!c->worker_path)
		c->worker_path = g_strdup(CHD_WORKER_PATH);
	return c->runtime_dir ? 0 : -ENXIO;
}

void manager_config_done(struct manager_config *c)
{
	g_clear_pointer(&c->bus_address, g_free);
	g_clear_pointer(&c->config_dir, g_free);
	g_clear_pointer(&c->runtime_dir, g_free);
	g_clear_pointer(&c->log_dir, g_free);
	g_clear_pointer(&c->worker_path, g_free);
	g_clear_pointer(&c->schema_dir, g_free);
}

char *manager_definition_dir(struct manager *m)
{
	return g_build_filename(m->config.config_dir, "vms", NULL);
}

char *manager_vm_runtime_dir(struct manager *m, const char *name)
{
	return g_build_filename(m->config.runtime_dir, "vms", name, NULL);
}

static void vm_destroy_notify(gpointer p)
{
	vm_free(p);
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;

	log_info("chd: %s received, exiting; running VMs keep running", strsignal(si->ssi_signo));
	(void)sd_notify(0, "STOPPING=1");
	m->exiting = true;
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

bool spawn_wants_units(enum spawn_mode requested, enum manager_mode mode, bool private_bus,
		       bool systemd_booted, bool *ret_required)
{
	*ret_required = requested == SPAWN_MODE_SYSTEMD;
	switch (requested) {
	case SPAWN_MODE_SYSTEMD:
		return true;
	case SPAWN_MODE_FORK:
		return false;
	case SPAWN_MODE_AUTO:
		/* A private bus is a test or a sandbox: its workers stay chd's children and never
		 * appear among the machine's or the user's units. */
		if (private_bus)
			return false;
		/* The user manager ("systemd --user") is probed on the session bus itself. */
		return mode == MANAGER_MODE_USER || systemd_booted;
	case _SPAWN_MODE_MAX:
	case _SPAWN_MODE_INVALID:
		break;
	}
	return false;
}

const char *spawn_slice(enum manager_mode mode)
{
	/* The user manager has no machine.slice; VMs are applications the user runs (the XDG
	 * convention puts those in app.slice), grouped in a slice of their own below it. */
	return mode == MANAGER_MODE_USER ? "app-chd.slice" : "machine.slice";
}

/* Transient units when asked to, in system mode on a machine that systemd booted, and in user
 * mode where the user's service manager is on the session bus; otherwise (containers, the build
 * hosts, a private bus, a session without "systemd --user") chd forks. */
static int manager_spawn_setup(struct manager *m)
{
	enum manager_mode mode = m->config.mode;
	bool required;
	int r;

	m->spawn = SPAWN_MODE_FORK;
	if (!spawn_wants_units(m->config.spawn, mode, m->config.bus_address != NULL, sd_booted() > 0,
			       &required))
		return 0;
	r = worker_unit_setup(m);
	if (r < 0 && required)
		return log_error_errno(r, _("chd: --spawn=systemd: cannot reach the %s service manager: %s"),
				       manager_mode_to_string(mode), strerror(-r));
	if (r < 0 && mode == MANAGER_MODE_USER) {
		/* Normal for a session that systemd does not manage. */
		log_info(_("chd: no systemd user manager on the session bus (%s); workers run as chd's own "
			   "children"),
			 strerror(-r));
		return 0;
	}
	if (r < 0) {
		log_warning(_("chd: cannot reach systemd's service manager (%s); workers run as chd's own "
			      "children instead"),
			    strerror(-r));
		return 0;
	}
	m->spawn = SPAWN_MODE_SYSTEMD;
	log_info(_("chd: workers run as transient units of the %s service manager in %s%s"),
		 manager_mode_to_string(mode), spawn_slice(mode),
		 m->machined ? _(", registered with systemd-machined") : "");
	return 0;
}

static int bus_open(struct manager *m)
{
	int r;

	if (m->config.bus_address) {
		r = sd_bus_new(&m->bus);
		if (r < 0)
			return r;
		r = sd_bus_set_address(m->bus, m->config.bus_address);
		if (r < 0)
			return r;
		r = sd_bus_set_bus_client(m->bus, true);
		if (r < 0)
			return r;
		r = sd_bus_start(m->bus);
	} else if (m->config.mode == MANAGER_MODE_SYSTEM) {
		r = sd_bus_open_system_with_description(&m->bus, "chd");
	} else {
		r = sd_bus_open_user_with_description(&m->bus, "chd");
	}
	if (r < 0)
		return log_error_errno(r, _("chd: cannot connect to the %s bus: %s"),
				       manager_mode_to_string(m->config.mode), strerror(-r));
	return sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
}

int manager_new(struct manager_config *config, struct manager **ret)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	int r;

	m = g_new0(struct manager, 1);
	m->config = *config;
	*config = (struct manager_config){};
	m->vms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, vm_destroy_notify);

	r = chd_bus_error_register();
	if (r < 0)
		return r;
	r = sd_event_new(&m->event);
	if (r < 0)
		return r;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/* A closed client socket must be an error return, never a signal that kills chd. */
	signal(SIGPIPE, SIG_IGN);
	r = sd_event_add_signal(m->event, NULL, SIGTERM, on_exit_signal, m);
	if (r < 0)
		return r;
	r = sd_event_add_signal(m->event, NULL, SIGINT, on_exit_signal, m);
	if (r < 0)
		return r;

	r = bus_open(m);
	if (r < 0)
		return r;
	r = manager_bus_register(m);
	if (r < 0)
		return log_error_errno(r, "chd: cannot register the D-Bus objects: %s", strerror(-r));

	r = manager_spawn_setup(m);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(m);
	return 0;
}

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	/* VMs go first: they hold bus slots and event sources. Workers keep running. */
	g_clear_pointer(&m->vms, g_hash_table_destroy);
	m->object_manager_slot = sd_bus_slot_unref(m->object_manager_slot);
	m->job_removed_slot = sd_bus_slot_unref(m->job_removed_slot);
	m->systemd_bus = sd_bus_flush_close_unref(m->systemd_bus);
	if (m->bus) {
		sd_bus_flush(m->bus);
		m->bus = sd_bus_flush_close_unref(m->bus);
	}
	m->event = sd_event_unref(m->event);
	manager_config_done(&m->config);
	g_free(m);
	return NULL;
}

struct vm *manager_find_vm(struct manager *m, const char *name)
{
	return name ? g_hash_table_lookup(m->vms, name) : NULL;
}

struct vm *manager_find_vm_by_uuid(struct manager *m, const char *uuid)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, m->vms);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (g_ascii_strcasecmp(vm_uuid(value), uuid) == 0)
			return value;
	return NULL;
}

int manager_add_vm(struct manager *m, struct vm *vm)
{
	int r;

	g_hash_table_insert(m->vms, (gpointer)vm_name(vm), vm);
	r = vm_bus_export(vm);
	if (r < 0) {
		g_hash_table_remove(m->vms, vm_name(vm));
		return r;
	}
	return 0;
}

void manager_remove_vm(struct manager *m, struct vm *vm)
{
	vm_bus_unexport(vm);
	g_hash_table_remove(m->vms, vm_name(vm));
}

static int mkdir_p(const char *path, mode_t mode)
{
	if (g_mkdir_with_parents(path, mode) < 0)
		return log_error_errno(-errno, _("chd: cannot create folder '%s': %s"), path, strerror(errno));
	return 0;
}

/* Autostart VMs start once per boot (or, in user mode, per login: $XDG_RUNTIME_DIR is as
 * short-lived): the marker lives in the runtime folder, a tmpfs that a restarted chd keeps. */
static void manager_autostart(struct manager *m)
{
	g_autofree char *marker = g_build_filename(m->config.runtime_dir, "autostarted", NULL);
	g_autoptr(GError) error = NULL;

	if (g_file_test(marker, G_FILE_TEST_EXISTS)) {
		log_debug("chd: %s exists: autostart VMs were started earlier in this boot", marker);
		return;
	}
	vm_autostart_all(m);
	if (!g_file_set_contents(marker, "", 0, &error))
		log_warning(_("chd: cannot write '%s': %s; a restarted chd will start the autostart VMs "
			      "again"),
			    marker, error->message);
}

int manager_startup(struct manager *m)
{
	g_autofree char *defs = manager_definition_dir(m);
	g_autofree char *autostart = g_build_filename(defs, "autostart", NULL);
	g_autofree char *runtime = g_build_filename(m->config.runtime_dir, "vms", NULL);
	int r;

	r = mkdir_p(defs, 0755);
	if (r < 0)
		return r;
	r = mkdir_p(autostart, 0755);
	if (r < 0)
		return r;
	r = mkdir_p(runtime, 0755);
	if (r < 0)
		return r;
	r = mkdir_p(m->config.log_dir, 0750);
	if (r < 0)
		return r;

	/* Persistent definitions first, then the runtime records of VMs still running (transient
	 * ones included), then autostart: a VM that runs already is not started twice. */
	r = vm_load_all(m);
	if (r < 0)
		return r;
	r = vm_reconnect_all(m);
	if (r < 0)
		return r;
	if (!m->config.no_autostart)
		manager_autostart(m);

	/* The name comes last: a client that sees it finds every VM in place. */
	r = sd_bus_request_name(m->bus, CHD_BUS_NAME, 0);
	if (r < 0)
		return log_error_errno(r, _("chd: cannot own the bus name %s: %s (is another chd running?)"),
				       CHD_BUS_NAME, strerror(-r));
	return 0;
}

int manager_run(struct manager *m)
{
	int r;

	(void)sd_notify(0, "READY=1\nSTATUS=Managing virtual machines");
	r = sd_event_loop(m->event);
	if (r < 0)
		return log_error_errno(r, "chd: event loop failed: %s", strerror(-r));
	return 0;
}
