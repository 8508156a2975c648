/* SPDX-License-Identifier: Apache-2.0 */
/* define, undefine, dumpxml, edit, autostart: the stored definitions. */
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "i18n.h"
#include "output.h"
#include "verb-util.h"

static gboolean arg_inactive;
static gboolean arg_disable;

/* GetXML flag (data/dbus/org.cloudhypervisor.chd1.xml). */
#define CHD_XML_INACTIVE 1u

static int read_definition(const char *file, char **ret_xml, GError **error)
{
	if (strcmp(file, "-") == 0) {
		g_autoptr(GString) xml = g_string_new(NULL);
		char buf[4096];
		size_t k;

		while ((k = fread(buf, 1, sizeof(buf), stdin)) > 0)
			g_string_append_len(xml, buf, (gssize)k);
		if (ferror(stdin)) {
			g_set_error_literal(error, G_FILE_ERROR, g_file_error_from_errno(EIO),
					    g_strerror(EIO));
			return -EIO;
		}
		*ret_xml = g_string_free(g_steal_pointer(&xml), FALSE);
		return 0;
	}
	if (!g_file_get_contents(file, ret_xml, NULL, error))
		return -ENOENT;
	return 0;
}

static int verb_define(struct chctl *c, char **args, unsigned n)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_autoptr(GError) gerror = NULL;
	g_autofree char *xml = NULL;
	g_autofree char *path = NULL;
	g_autofree char *name = NULL;
	g_autofree char *message = NULL;
	int r;

	if (read_definition(args[0], &xml, &gerror) < 0) {
		chctl_error(_("cannot read '%s': %s"), args[0], gerror->message);
		return CHCTL_EXIT_FAILURE;
	}
	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = chctl_manager_call(c, "Define", xml, &path, &error);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot define a VM from '%s'"), args[0]);
	r = sd_bus_get_property_string(c->bus, CHD_BUS_NAME, path, CHD_VM_INTERFACE, "Name", &error, &name);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot read the name of the VM defined from '%s'"),
				   args[0]);
	message = g_strdup_printf(_("VM '%s' defined from '%s'."), name, args[0]);
	return chctl_report_done(c, path, name, message);
}

static int verb_undefine(struct chctl *c, char **args, unsigned n)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	int r;

	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = chctl_call_vm(c, args[0], "Undefine", &error, NULL, NULL, NULL);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot undefine '%s'"), args[0]);
	if (c->json) {
		g_autoptr(JsonObject) o = json_object_new();

		json_object_set_string_member(o, "name", args[0]);
		json_object_set_boolean_member(o, "undefined", TRUE);
		return chctl_print_json_object(o);
	}
	printf(_("VM '%s' undefined.\n"), args[0]);
	return CHCTL_EXIT_OK;
}

int chctl_get_xml(struct chctl *c, const char *name, bool inactive, char **ret_xml, sd_bus_error *error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	const char *xml;
	int r;

	r = chctl_call_vm(c, name, "GetXML", error, &reply, NULL, "u", inactive ? CHD_XML_INACTIVE : 0u);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "s", &xml);
	if (r < 0)
		return sd_bus_error_set_errno(error, r);
	*ret_xml = g_strdup(xml);
	return 0;
}

static int verb_dumpxml(struct chctl *c, char **args, unsigned n)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_autofree char *xml = NULL;
	int r;

	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = chctl_get_xml(c, args[0], arg_inactive, &xml, &error);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot get the definition of '%s'"), args[0]);
	if (c->json) {
		g_autoptr(JsonObject) o = json_object_new();

		json_object_set_string_member(o, "name", args[0]);
		json_object_set_string_member(o, "xml", xml);
		return chctl_print_json_object(o);
	}
	fputs(xml, stdout);
	if (!g_str_has_suffix(xml, "\n"))
		fputc('\n', stdout);
	return CHCTL_EXIT_OK;
}

static int verb_autostart(struct chctl *c, char **args, unsigned n)
{
	if (arg_disable)
		return chctl_vm_operation(c, args[0], "SetAutostart", "b", false,
					  _("cannot disable autostart of '%s'"),
					  _("VM '%s' will no longer start with chd."));
	return chctl_vm_operation(c, args[0], "SetAutostart", "b", true,
				  _("cannot enable autostart of '%s'"), _("VM '%s' will start with chd."));
}

static const GOptionEntry dumpxml_options[] = {
    {"inactive", 0, 0, G_OPTION_ARG_NONE, &arg_inactive,
     N_("Show the stored definition, not the one a running VM uses"), NULL},
    {NULL},
};

static const GOptionEntry autostart_options[] = {
    {"disable", 0, 0, G_OPTION_ARG_NONE, &arg_disable, N_("Do not start the VM with chd any more"), NULL},
    {NULL},
};

const struct chctl_verb chctl_verbs_definitions[] = {
    {"define", CHCTL_GROUP_DEFINITIONS, "FILE", 1, 1, N_("Define or update a VM from an XML file"),
     N_("FILE is libvirt domain XML (see schemas/); '-' reads standard input. Defining an existing VM "
	"again replaces its definition; a running VM uses it from its next start."),
     NULL, verb_define},
    {"undefine", CHCTL_GROUP_DEFINITIONS, "VM", 1, 1, N_("Remove a VM's definition"),
     N_("A running VM keeps running and disappears when it stops."), NULL, verb_undefine},
    {"dumpxml", CHCTL_GROUP_DEFINITIONS, "VM", 1, 1, N_("Print a VM's definition as XML"), NULL,
     dumpxml_options, verb_dumpxml},
    {"edit", CHCTL_GROUP_DEFINITIONS, "VM", 1, 1, N_("Edit a VM's definition in $EDITOR"),
     N_("Opens the stored definition in $VISUAL, $EDITOR or vi, then defines the result. When chd "
	"refuses it, chctl says why and offers to edit again."),
     NULL, chctl_verb_edit},
    {"autostart", CHCTL_GROUP_DEFINITIONS, "VM", 1, 1, N_("Start a VM whenever chd starts"), NULL,
     autostart_options, verb_autostart},
    {NULL},
};
