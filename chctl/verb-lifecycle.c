/* SPDX-License-Identifier: Apache-2.0 */
/* start, shutdown, destroy, reboot, suspend, resume: one VM method each. */
#include <stdio.h>

#include "bus.h"
#include "console.h"
#include "i18n.h"
#include "verb-util.h"

static gboolean arg_console;
static int arg_timeout;

static int verb_start(struct chctl *c, char **args, unsigned n)
{
	int r =
	    chctl_vm_operation(c, args[0], "Start", NULL, 0, _("cannot start '%s'"), _("VM '%s' started."));

	if (r != CHCTL_EXIT_OK || !arg_console)
		return r;
	return chctl_console_attach(c, args[0]);
}

static int verb_shutdown(struct chctl *c, char **args, unsigned n)
{
	if (arg_timeout < 0) {
		chctl_error(_("--timeout must be 0 or more seconds, not %d"), arg_timeout);
		return CHCTL_EXIT_USAGE;
	}
	return chctl_vm_operation(c, args[0], "Shutdown", "u", (unsigned)arg_timeout,
				  _("cannot shut down '%s'"), _("VM '%s' is shutting down."));
}

static int verb_destroy(struct chctl *c, char **args, unsigned n)
{
	return chctl_vm_operation(c, args[0], "Destroy", NULL, 0, _("cannot destroy '%s'"),
				  _("VM '%s' destroyed."));
}

static int verb_reboot(struct chctl *c, char **args, unsigned n)
{
	return chctl_vm_operation(c, args[0], "Reboot", NULL, 0, _("cannot reboot '%s'"),
				  _("VM '%s' is rebooting."));
}

static int verb_suspend(struct chctl *c, char **args, unsigned n)
{
	return chctl_vm_operation(c, args[0], "Suspend", NULL, 0, _("cannot suspend '%s'"),
				  _("VM '%s' suspended."));
}

static int verb_resume(struct chctl *c, char **args, unsigned n)
{
	return chctl_vm_operation(c, args[0], "Resume", NULL, 0, _("cannot resume '%s'"),
				  _("VM '%s' resumed."));
}

static const GOptionEntry start_options[] = {
    {"console", 0, 0, G_OPTION_ARG_NONE, &arg_console, N_("Attach to the console once started"), NULL},
    {NULL},
};

static const GOptionEntry shutdown_options[] = {
    {"timeout", 't', 0, G_OPTION_ARG_INT, &arg_timeout,
     N_("Stop the VM hard after S seconds if the guest ignores the power button (0: chd's default, 60)"),
     N_("S")},
    {NULL},
};

const struct chctl_verb chctl_verbs_lifecycle[] = {
    {"start", CHCTL_GROUP_LIFECYCLE, "VM", 1, 1, N_("Start a defined VM"), NULL, start_options, verb_start},
    {"shutdown", CHCTL_GROUP_LIFECYCLE, "VM", 1, 1, N_("Press the VM's power button"),
     N_("Returns once the power button is pressed; the guest then powers itself off, or chd stops it "
	"after the timeout. 'chctl events VM' shows when it is off."),
     shutdown_options, verb_shutdown},
    {"destroy", CHCTL_GROUP_LIFECYCLE, "VM", 1, 1, N_("Stop a VM at once, like pulling the plug"), NULL,
     NULL, verb_destroy},
    {"reboot", CHCTL_GROUP_LIFECYCLE, "VM", 1, 1, N_("Restart a VM from its definition"), NULL, NULL,
     verb_reboot},
    {"suspend", CHCTL_GROUP_LIFECYCLE, "VM", 1, 1, N_("Pause a VM's vCPUs"), NULL, NULL, verb_suspend},
    {"resume", CHCTL_GROUP_LIFECYCLE, "VM", 1, 1, N_("Run a paused VM again"), NULL, NULL, verb_resume},
    {NULL},
};
