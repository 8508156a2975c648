/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "chctl.h"
#include "i18n.h"
#include "string-table.h"

static const char *const chctl_bus_kind_table[_CHCTL_BUS_KIND_MAX] = {
    [CHCTL_BUS_SYSTEM] = "system",
    [CHCTL_BUS_USER] = "user",
    [CHCTL_BUS_ADDRESS] = "address",
};

static const char *const chctl_verb_group_table[_CHCTL_GROUP_MAX] = {
    [CHCTL_GROUP_LIFECYCLE] = "lifecycle", [CHCTL_GROUP_DEFINITIONS] = "definitions",
    [CHCTL_GROUP_INFO] = "info",	   [CHCTL_GROUP_CONSOLE] = "console",
    [CHCTL_GROUP_EVENTS] = "events",
};

DEFINE_STRING_TABLE_LOOKUP(chctl_bus_kind, enum chctl_bus_kind, _CHCTL_BUS_KIND_MAX, _CHCTL_BUS_KIND_INVALID)
DEFINE_STRING_TABLE_LOOKUP(chctl_verb_group, enum chctl_verb_group, _CHCTL_GROUP_MAX, _CHCTL_GROUP_INVALID)

/* In the order help lists them. */
static const struct chctl_verb *const verb_tables[] = {
    chctl_verbs_lifecycle, chctl_verbs_definitions, chctl_verbs_info,
    chctl_verbs_console,   chctl_verbs_events,
};

void chctl_verb_foreach(bool (*fn)(const struct chctl_verb *v, void *userdata), void *userdata)
{
	for (size_t t = 0; t < G_N_ELEMENTS(verb_tables); t++)
		for (const struct chctl_verb *v = verb_tables[t]; v->name; v++)
			if (!fn(v, userdata))
				return;
}

struct find {
	const char *name;
	const struct chctl_verb *found;
};

static bool match_name(const struct chctl_verb *v, void *userdata)
{
	struct find *f = userdata;

	if (strcmp(v->name, f->name) != 0)
		return true;
	f->found = v;
	return false;
}

const struct chctl_verb *chctl_verb_find(const char *name)
{
	struct find f = {.name = name};

	if (!name)
		return NULL;
	chctl_verb_foreach(match_name, &f);
	return f.found;
}

/* Verbs of virsh's vocabulary that DESIGN.md §3 names and vmm-worker cannot carry out yet: chctl
 * knows them, so that scripts get "not supported" (exit 10) and a reason, not "unknown verb". */
static const struct {
	const char *name;
	const char *reason;
} planned_verbs[] = {
    {"attach-device", N_("vmm-worker has no device hot-plug yet")},
    {"detach-device", N_("vmm-worker has no device hot-plug yet")},
    {"setvcpus", N_("vmm-worker has no vCPU hot-plug yet")},
    {"setmem", N_("vmm-worker has no memory hot-plug or balloon yet")},
    {"migrate", N_("vmm-worker has no live migration yet")},
};

const char *chctl_verb_planned(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(planned_verbs); i++)
		if (strcmp(planned_verbs[i].name, name) == 0)
			return _(planned_verbs[i].reason);
	return NULL;
}
