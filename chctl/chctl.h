/* SPDX-License-Identifier: Apache-2.0 */
/* chctl's context object and verb table. Verbs return an exit status (enum chctl_exit); helpers
 * below them return 0 or -errno, and the verb reports the failure once. */
#pragma once

#include <stdbool.h>

#include <glib.h>
#include <systemd/sd-bus.h>

#include "exit-code.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sd_bus_error, sd_bus_error_free)

enum chctl_bus_kind {
	CHCTL_BUS_SYSTEM,
	CHCTL_BUS_USER,
	CHCTL_BUS_ADDRESS,
	_CHCTL_BUS_KIND_MAX,
	_CHCTL_BUS_KIND_INVALID = -EINVAL,
};

const char *chctl_bus_kind_to_string(enum chctl_bus_kind k);
enum chctl_bus_kind chctl_bus_kind_from_string(const char *s);

enum chctl_verb_group {
	CHCTL_GROUP_LIFECYCLE,
	CHCTL_GROUP_DEFINITIONS,
	CHCTL_GROUP_INFO,
	CHCTL_GROUP_CONSOLE,
	CHCTL_GROUP_EVENTS,
	_CHCTL_GROUP_MAX,
	_CHCTL_GROUP_INVALID = -EINVAL,
};

const char *chctl_verb_group_to_string(enum chctl_verb_group g);
enum chctl_verb_group chctl_verb_group_from_string(const char *s);

struct chctl {
	enum chctl_bus_kind bus_kind;
	char *address; /* with CHCTL_BUS_ADDRESS */
	bool json;
	sd_bus *bus; /* connected on first use */
};

struct chctl_verb {
	const char *name;
	enum chctl_verb_group group;
	const char *args; /* positional arguments for help: "VM", "FILE" */
	unsigned min_args;
	unsigned max_args;
	const char *summary;	     /* N_() */
	const char *description;     /* N_(), may be NULL */
	const GOptionEntry *options; /* NULL or terminated by an entry with a NULL long_name */
	int (*run)(struct chctl *c, char **args, unsigned n_args);
};

/* Each group file exports its verbs, terminated by an entry with a NULL name. */
extern const struct chctl_verb chctl_verbs_lifecycle[];
extern const struct chctl_verb chctl_verbs_definitions[];
extern const struct chctl_verb chctl_verbs_info[];
extern const struct chctl_verb chctl_verbs_console[];
extern const struct chctl_verb chctl_verbs_events[];

const struct chctl_verb *chctl_verb_find(const char *name);
/* Why a verb of DESIGN.md's vocabulary is not available yet, or NULL for any other name. */
const char *chctl_verb_planned(const char *name);
/* Calls fn for every verb in table order; stops when fn returns false. */
void chctl_verb_foreach(bool (*fn)(const struct chctl_verb *v, void *userdata), void *userdata);

/* Parses the whole command line and runs the verb; returns the process exit status. */
int chctl_main(int argc, char **argv);

void chctl_done(struct chctl *c);
