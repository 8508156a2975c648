/* SPDX-License-Identifier: Apache-2.0 */
/* list, info, cmdline: reading VMs. */
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "i18n.h"
#include "output.h"
#include "verb-util.h"
#include "vm-props.h"

static gboolean arg_all;
static gboolean arg_name;

/* Every VM with its properties, in one GetManagedObjects round trip (1,000 VMs stay fast). */
static int read_all_vms(struct chctl *c, GArray *vms, sd_bus_error *error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	int r;

	r = sd_bus_call_method(c->bus, CHD_BUS_NAME, CHD_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
			       "GetManagedObjects", error, &reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		struct vm_props p = {0};
		const char *path;
		bool is_vm = false;

		r = sd_bus_message_read_basic(reply, 'o', &path);
		if (r < 0)
			return r;
		r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
		if (r < 0)
			return r;
		while ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
			const char *interface;

			r = sd_bus_message_read_basic(reply, 's', &interface);
			if (r >= 0 && strcmp(interface, CHD_VM_INTERFACE) == 0) {
				is_vm = true;
				r = vm_props_read(reply, &p);
			} else if (r >= 0) {
				r = sd_bus_message_skip(reply, "a{sv}");
			}
			if (r >= 0)
				r = sd_bus_message_exit_container(reply);
			if (r < 0) {
				vm_props_done(&p);
				return r;
			}
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
		if (r < 0 || !is_vm) {
			vm_props_done(&p);
			if (r < 0)
				return r;
			continue;
		}
		p.path = g_strdup(path);
		g_array_append_val(vms, p);
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(reply);
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	const struct vm_props *x = a, *y = b;

	return g_strcmp0(x->name, y->name);
}

/* "Active" as virsh means it: a worker exists or is being started. */
static bool is_active(const struct vm_props *p)
{
	return p->state && strcmp(p->state, "shut-off") != 0 && strcmp(p->state, "crashed") != 0;
}

static const char *yes_no(bool b)
{
	return b ? _("yes") : _("no");
}

static char *state_with_reason(const struct vm_props *p)
{
	if (!p->state_reason || !*p->state_reason || strcmp(p->state_reason, "none") == 0)
		return g_strdup(p->state ? p->state : "");
	return g_strdup_printf("%s (%s)", p->state ? p->state : "", p->state_reason);
}

static int print_list(struct chctl *c, GArray *vms)
{
	const char *headers[] = {_("NAME"), _("STATE"), _("VCPUS"), _("MEMORY"), _("AUTOSTART")};
	g_autoptr(Table) t = table_new(G_N_ELEMENTS(headers), headers);
	g_autoptr(JsonArray) array = json_array_new();
	g_autofree char *text = NULL;

	for (guint i = 0; i < vms->len; i++) {
		const struct vm_props *p = &g_array_index(vms, struct vm_props, i);
		g_autofree char *vcpus = NULL;
		g_autofree char *memory = NULL;

		if (!arg_all && !is_active(p))
			continue;
		if (c->json) {
			json_array_add_element(array, vm_props_to_json(p));
			continue;
		}
		if (arg_name) {
			printf("%s\n", p->name);
			continue;
		}
		vcpus = g_strdup_printf("%u", p->vcpus);
		memory = format_bytes(p->memory);
		table_add(t, p->name);
		table_add(t, p->state);
		table_add(t, vcpus);
		table_add(t, memory);
		table_add(t, yes_no(p->autostart));
	}
	if (c->json) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);

		json_node_set_array(node, array);
		return chctl_print_json(node);
	}
	if (arg_name)
		return CHCTL_EXIT_OK;
	text = table_format(t, TRUE);
	fputs(text, stdout);
	return CHCTL_EXIT_OK;
}

static int verb_list(struct chctl *c, char **args, unsigned n)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_autoptr(GArray) vms = g_array_new(FALSE, TRUE, sizeof(struct vm_props));
	int r;

	g_array_set_clear_func(vms, (GDestroyNotify)vm_props_done);
	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = read_all_vms(c, vms, &error);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot list the VMs"));
	g_array_sort(vms, compare_names);
	return print_list(c, vms);
}

static int verb_info(struct chctl *c, char **args, unsigned n)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_auto(VmProps) p = {0};
	g_autofree char *path = NULL;
	g_autofree char *state = NULL;
	g_autofree char *memory = NULL;
	g_autofree char *vcpus = NULL;
	g_autofree char *pid = NULL;
	g_autofree char *text = NULL;
	int r;

	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = chctl_vm_path(c, args[0], &path, &error);
	if (r >= 0)
		r = vm_props_get(c->bus, path, &p, &error);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot get information on '%s'"), args[0]);
	if (c->json) {
		g_autoptr(JsonNode) node = vm_props_to_json(&p);

		return chctl_print_json(node);
	}
	state = state_with_reason(&p);
	memory = format_bytes(p.memory);
	vcpus = g_strdup_printf("%u", p.vcpus);
	pid = p.worker_pid ? g_strdup_printf("%u", p.worker_pid) : g_strdup("-");
	const char *keys[] = {_("Name"),  _("UUID"),   _("State"),	_("Persistent"), _("Autostart"),
			      _("vCPUs"), _("Memory"), _("Worker PID"), _("Console"), _("Console log")};
	const char *values[] = {p.name,
				p.uuid,
				state,
				yes_no(p.persistent),
				yes_no(p.autostart),
				vcpus,
				memory,
				pid,
				p.console_path && *p.console_path ? p.console_path : "-",
				p.console_log && *p.console_log ? p.console_log : "-"};
	text = format_fields(keys, values, G_N_ELEMENTS(keys));
	fputs(text, stdout);
	return CHCTL_EXIT_OK;
}

static int verb_cmdline(struct chctl *c, char **args, unsigned n)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_autoptr(sd_bus_message) reply = NULL;
	g_auto(GStrv) argv = NULL;
	int r;

	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = chctl_call_vm(c, args[0], "GetWorkerCommandLine", &error, &reply, NULL, NULL);
	if (r >= 0)
		r = sd_bus_message_read_strv(reply, &argv);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot get the worker command line of '%s'"), args[0]);
	if (c->json) {
		g_autoptr(JsonObject) o = json_object_new();
		JsonArray *a = json_array_sized_new(g_strv_length(argv));

		for (char **s = argv; *s; s++)
			json_array_add_string_element(a, *s);
		json_object_set_string_member(o, "name", args[0]);
		json_object_set_array_member(o, "argv", a);
		return chctl_print_json_object(o);
	}
	for (char **s = argv; *s; s++) {
		g_autofree char *quoted = g_shell_quote(*s);
		/* Quote only what needs it, so the line reads like the one a person would type. */
		bool plain =
		    **s && strspn(*s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				      "-_=,./:@+%") == strlen(*s);

		printf("%s%s", s == argv ? "" : " ", plain ? *s : quoted);
	}
	printf("\n");
	return CHCTL_EXIT_OK;
}

static const GOptionEntry list_options[] = {
    {"all", 'a', 0, G_OPTION_ARG_NONE, &arg_all, N_("List every VM, not only the running ones"), NULL},
    {"name", 0, 0, G_OPTION_ARG_NONE, &arg_name, N_("Print only the names, one a line"), NULL},
    {NULL},
};

const struct chctl_verb chctl_verbs_info[] = {
    {"list", CHCTL_GROUP_INFO, NULL, 0, 0, N_("List the running VMs (--all: every VM)"), NULL, list_options,
     verb_list},
    {"info", CHCTL_GROUP_INFO, "VM", 1, 1, N_("Show a VM's state and resources"), NULL, NULL, verb_info},
    {"cmdline", CHCTL_GROUP_INFO, "VM", 1, 1, N_("Show the vmm-worker command line that runs a VM"),
     N_("The same command runs the VM by hand, without chd."), NULL, verb_cmdline},
    {NULL},
};
