/* SPDX-License-Identifier: Apache-2.0 */
/* chd: the VM management daemon (docs/chd.8). Options here, everything else in the core library. */
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "manager.h"

static gboolean arg_system;
static gboolean arg_user;
static gboolean arg_version;
static gboolean arg_no_autostart;
static gboolean arg_debug;
static char *arg_bus_address;
static char *arg_config_dir;
static char *arg_runtime_dir;
static char *arg_log_dir;
static char *arg_worker;
static char *arg_authz;
static char *arg_spawn;

static const GOptionEntry options[] = {
    {"system", 0, 0, G_OPTION_ARG_NONE, &arg_system, N_("Serve the system bus, folders under /etc, /run, /var (default for root)"), NULL},
    {"user", 0, 0, G_OPTION_ARG_NONE, &arg_user, N_("Serve the session bus, folders under the XDG folders (default otherwise)"), NULL},
    {"bus-address", 0, 0, G_OPTION_ARG_STRING, &arg_bus_address, N_("Connect to this bus instead (tests: a private dbus-daemon)"), N_("ADDRESS")},
    {"config-dir", 0, 0, G_OPTION_ARG_FILENAME, &arg_config_dir, N_("Definitions below DIR/vms"), N_("DIR")},
    {"runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &arg_runtime_dir, N_("Runtime state below DIR/vms"), N_("DIR")},
    {"log-dir", 0, 0, G_OPTION_ARG_FILENAME, &arg_log_dir, N_("Worker and console logs in DIR"), N_("DIR")},
    {"worker", 0, 0, G_OPTION_ARG_FILENAME, &arg_worker, N_("The vmm-worker binary to run"), N_("PATH")},
    {"authz", 0, 0, G_OPTION_ARG_STRING, &arg_authz, N_("Authorize changes with polkit or by uid (default: polkit on the system bus)"), "polkit|uid"},
    {"spawn", 0, 0, G_OPTION_ARG_STRING, &arg_spawn, N_("Run workers as transient units of systemd (system mode, machine.slice) or of the user's systemd (user mode, app-chd.slice), or as chd's own children (default auto: units where that service manager answers, never on a private --bus-address)"), "auto|systemd|fork"},
    {"no-autostart", 0, 0, G_OPTION_ARG_NONE, &arg_no_autostart, N_("Do not start autostart VMs"), NULL},
    {"debug", 0, 0, G_OPTION_ARG_NONE, &arg_debug, N_("Log debug messages"), NULL},
    {"version", 0, 0, G_OPTION_ARG_NONE, &arg_version, N_("Show the version and exit"), NULL},
    {NULL},
};

static void replace(char **dst, char *src)
{
	if (src) {
		g_free(*dst);
		*dst = src;
	}
}

/* The daemon's life, once the command line is read; the exit status. */
static int run(struct manager_config *config)
{
	_cleanup_(manager_freep) struct manager *m = NULL;

	if (manager_new(config, &m) < 0 || manager_startup(m) < 0)
		return 1;
	return manager_run(m) < 0 ? 1 : 0;
}

int main(int argc, char *argv[])
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	struct manager_config config = {};
	enum manager_mode mode;
	int r;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, CHD_LOCALEDIR);
	log_set_prefix("");
	log_set_level(LOG_LEVEL_INFO);

	context = g_option_context_new(NULL);
	g_option_context_set_summary(context, _("Manage Cloud-Hypervisor-class virtual machines over D-Bus."));
	g_option_context_add_main_entries(context, options, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "chd: %s (see chd --help)\n", error->message);
		return 2;
	}
	if (arg_version) {
		printf("chd %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc > 1 || (arg_system && arg_user)) {
		fprintf(stderr, _("chd: %s (see chd --help)\n"),
			argc > 1 ? _("unexpected arguments") : _("--system and --user exclude each other"));
		return 2;
	}
	if (arg_debug)
		log_set_level(LOG_LEVEL_DEBUG);

	mode = arg_system ? MANAGER_MODE_SYSTEM
	       : arg_user ? MANAGER_MODE_USER
	       : geteuid() == 0 ? MANAGER_MODE_SYSTEM
				: MANAGER_MODE_USER;
	r = manager_config_defaults(&config, mode);
	if (r < 0 && !arg_runtime_dir) {
		fprintf(stderr, _("chd: user mode needs $XDG_RUNTIME_DIR (or --runtime-dir)\n"));
		manager_config_done(&config);
		return 1;
	}
	replace(&config.bus_address, arg_bus_address);
	replace(&config.config_dir, arg_config_dir);
	replace(&config.runtime_dir, arg_runtime_dir);
	replace(&config.log_dir, arg_log_dir);
	/* Absolute: a unit's ExecStart must be, and a relative one would depend on chd's folder. */
	replace(&config.worker_path, arg_worker ? g_canonicalize_filename(arg_worker, NULL) : NULL);
	g_free(arg_worker);
	config.no_autostart = arg_no_autostart;
	if (arg_authz) {
		config.authz = authz_mode_from_string(arg_authz);
		g_free(arg_authz);
		if ((int)config.authz < 0) {
			fprintf(stderr, _("chd: --authz: expected polkit or uid\n"));
			manager_config_done(&config);
			return 2;
		}
	}

	if (arg_spawn) {
		config.spawn = spawn_mode_from_string(arg_spawn);
		g_free(arg_spawn);
		if ((int)config.spawn < 0) {
			fprintf(stderr, _("chd: --spawn: expected auto, systemd or fork\n"));
			manager_config_done(&config);
			return 2;
		}
	}

	return run(&config);
}
