/* SPDX-License-Identifier: Apache-2.0 */
/* What several verb groups share: printing results, the definition calls that edit reuses. */
#pragma once

#include <stdbool.h>

#include <json-glib/json-glib.h>

#include "chctl.h"

/* After a successful operation on the VM at path: prints message (human) or the VM's properties
 * (--json). Returns the exit status. */
int chctl_report_done(struct chctl *c, const char *path, const char *name, const char *message);

/* Print JSON on stdout; return the exit status (a failed write is a failure). */
int chctl_print_json(JsonNode *node);
int chctl_print_json_object(JsonObject *o);

/* Calls method on the VM called name, with one optional argument (types "u" or "b", or NULL),
 * and reports: fail_format and done_format take the VM's name. Returns the exit status. */
int chctl_vm_operation(struct chctl *c, const char *name, const char *method, const char *types,
		       unsigned arg, const char *fail_format, const char *done_format);
/* VM.GetXML of the VM called name; inactive: the stored definition even when running. */
int chctl_get_xml(struct chctl *c, const char *name, bool inactive, char **ret_xml, sd_bus_error *error);

/* The edit verb (edit.c). */
int chctl_verb_edit(struct chctl *c, char **args, unsigned n);
