/* SPDX-License-Identifier: Apache-2.0 */
/* console: the terminal attached to a VM's serial console (console.c does the relaying). */
#include "console.h"
#include "chctl.h"
#include "i18n.h"

static int verb_console(struct chctl *c, char **args, unsigned n)
{
	return chctl_console_attach(c, args[0]);
}

const struct chctl_verb chctl_verbs_console[] = {
    {"console", CHCTL_GROUP_CONSOLE, "VM", 1, 1, N_("Attach the terminal to a VM's console"),
     N_("Keys go to the guest, its output comes back; Ctrl-] leaves. When chd exposes only the "
	"console log, chctl shows it read-only as it grows."),
     NULL, verb_console},
    {NULL},
};
