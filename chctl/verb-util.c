/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "bus.h"
#include "i18n.h"
#include "output.h"
#include "verb-util.h"
#include "vm-props.h"

int chctl_print_json(JsonNode *node)
{
	int r = json_print(node, TRUE);

	if (r < 0)
		return chctl_failf(NULL, r, _("cannot write to standard output"));
	return CHCTL_EXIT_OK;
}

int chctl_print_json_object(JsonObject *o)
{
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

	json_node_set_object(node, o);
	return chctl_print_json(node);
}

int chctl_report_done(struct chctl *c, const char *path, const char *name, const char *message)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_auto(VmProps) p = {0};
	g_autoptr(JsonNode) node = NULL;
	int r;

	if (!c->json) {
		printf("%s\n", message);
		return CHCTL_EXIT_OK;
	}
	r = vm_props_get(c->bus, path, &p, &error);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot read the properties of '%s'"), name);
	node = vm_props_to_json(&p);
	return chctl_print_json(node);
}

int chctl_vm_operation(struct chctl *c, const char *name, const char *method, const char *types,
		       unsigned arg, const char *fail_format, const char *done_format)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_autofree char *path = NULL;
	g_autofree char *message = NULL;
	int r;

	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = chctl_call_vm(c, name, method, &error, NULL, &path, types, arg);
	if (r < 0)
		return chctl_failf(&error, r, fail_format, name);
	message = g_strdup_printf(done_format, name);
	return chctl_report_done(c, path, name, message);
}
