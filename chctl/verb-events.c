/* SPDX-License-Identifier: Apache-2.0 */
/* events: chd's Lifecycle signals and VM property changes as they happen, until Ctrl-C. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "bus.h"
#include "i18n.h"
#include "output.h"
#include "verb-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event, sd_event_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event_source, sd_event_source_unref)

static int arg_count;
static int arg_timeout;

struct watch {
	struct chctl *c;
	int seen;
};

/* The VM's name from its object path (the inverse of chd's sd_bus_path_encode). */
static char *vm_name(sd_bus_message *m)
{
	char *name = NULL;

	if (sd_bus_path_decode(sd_bus_message_get_path(m), CHD_VM_PATH_PREFIX, &name) <= 0)
		return g_strdup(sd_bus_message_get_path(m));
	return name;
}

static char *now_string(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();

	return g_date_time_format(now, "%F %T.%f");
}

/* One basic value inside a variant, as JSON and as text. Containers are skipped: chd's VM
 * properties are all basic. Returns 1 when read, 0 when skipped, -errno on failure. */
static int read_variant(sd_bus_message *m, JsonNode **ret_json, char **ret_text)
{
	const char *contents;
	char type;
	union {
		const char *s;
		int b;
		uint32_t u;
		int32_t i;
		uint64_t t;
		int64_t x;
		double d;
	} v;
	int r;

	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	if (!contents || strlen(contents) != 1 || !strchr("sobuitxd", contents[0]))
		return sd_bus_message_skip(m, "v") < 0 ? -EBADMSG : 0;
	r = sd_bus_message_enter_container(m, 'v', contents);
	if (r >= 0)
		r = sd_bus_message_read_basic(m, contents[0], &v);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	*ret_json = json_node_new(JSON_NODE_VALUE);
	switch (contents[0]) {
	case 's':
	case 'o':
		json_node_set_string(*ret_json, v.s);
		*ret_text = g_strdup(v.s);
		break;
	case 'b':
		json_node_set_boolean(*ret_json, v.b);
		*ret_text = g_strdup(v.b ? "true" : "false");
		break;
	case 'u':
		json_node_set_int(*ret_json, v.u);
		*ret_text = g_strdup_printf("%" PRIu32, v.u);
		break;
	case 'i':
		json_node_set_int(*ret_json, v.i);
		*ret_text = g_strdup_printf("%" PRIi32, v.i);
		break;
	case 't':
		json_node_set_int(*ret_json, (gint64)MIN(v.t, (uint64_t)G_MAXINT64));
		*ret_text = g_strdup_printf("%" PRIu64, v.t);
		break;
	case 'x':
		json_node_set_int(*ret_json, v.x);
		*ret_text = g_strdup_printf("%" PRIi64, v.x);
		break;
	default:
		json_node_set_double(*ret_json, v.d);
		*ret_text = g_strdup_printf("%g", v.d);
		break;
	}
	return 1;
}

static int emit(struct watch *w, JsonObject *o, const char *text)
{
	sd_event *e = sd_bus_get_event(w->c->bus);

	if (w->c->json) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

		json_node_set_object(node, o);
		if (json_print(node, FALSE) < 0)
			return sd_event_exit(e, CHCTL_EXIT_FAILURE);
	} else {
		printf("%s %s\n", json_object_get_string_member(o, "time"), text);
		fflush(stdout);
	}
	if (arg_count > 0 && ++w->seen >= arg_count)
		return sd_event_exit(e, CHCTL_EXIT_OK);
	return 0;
}

static JsonObject *event_object(sd_bus_message *m, const char *vm)
{
	JsonObject *o = json_object_new();
	g_autofree char *time = now_string();

	json_object_set_string_member(o, "time", time);
	json_object_set_string_member(o, "vm", vm);
	return o;
}

static int on_lifecycle(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	g_autofree char *vm = vm_name(m);
	g_autoptr(JsonObject) o = NULL;
	g_autofree char *text = NULL;
	const char *event, *detail;

	if (sd_bus_message_read(m, "ss", &event, &detail) < 0)
		return 0; /* a malformed signal is not worth ending the watch */
	o = event_object(m, vm);
	json_object_set_string_member(o, "event", event);
	json_object_set_string_member(o, "detail", detail);
	text = *detail ? g_strdup_printf("%s: %s (%s)", vm, event, detail)
		       : g_strdup_printf("%s: %s", vm, event);
	return emit(userdata, o, text);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	g_autofree char *vm = vm_name(m);
	g_autoptr(JsonObject) o = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	JsonObject *changed = json_object_new();
	const char *interface;
	int r;

	o = event_object(m, vm);
	json_object_set_object_member(o, "changed", changed);
	g_string_append_printf(text, "%s:", vm);
	r = sd_bus_message_read(m, "s", &interface);
	if (r < 0 || strcmp(interface, CHD_VM_INTERFACE) != 0)
		return 0;
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		g_autofree char *value = NULL;
		JsonNode *node = NULL;
		const char *name;

		r = sd_bus_message_read_basic(m, 's', &name);
		if (r >= 0)
			r = read_variant(m, &node, &value);
		if (r > 0) {
			json_object_set_member(changed, name, node);
			g_string_append_printf(text, " %s=%s", name, value);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r < 0 || json_object_get_size(changed) == 0)
		return 0;
	return emit(userdata, o, text->str);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), CHCTL_EXIT_OK);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), CHCTL_EXIT_OK);
}

static int verb_events(struct chctl *c, char **args, unsigned n)
{
	g_autoptr(sd_event) e = NULL;
	g_autoptr(sd_event_source) sigint = NULL, sigterm = NULL, timer = NULL;
	g_autoptr(sd_bus_slot) lifecycle = NULL, changed = NULL;
	g_autofree char *path = NULL;
	g_autofree char *match = NULL;
	struct watch w = {.c = c};
	sigset_t mask;
	int r;

	if (arg_count < 0 || arg_timeout < 0) {
		chctl_error(_("--count and --timeout must not be negative"));
		return CHCTL_EXIT_USAGE;
	}
	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	/* A VM's path comes from its name alone, so one can watch a VM before it is defined. */
	if (n == 1 && sd_bus_path_encode(CHD_VM_PATH_PREFIX, args[0], &path) < 0)
		return chctl_failf(NULL, -ENOMEM, _("cannot watch '%s'"), args[0]);
	match =
	    path ? g_strdup_printf("path='%s'", path) : g_strdup("path_namespace='" CHD_VM_PATH_PREFIX "'");

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_new(&e);
	if (r >= 0)
		r = sd_event_add_signal(e, &sigint, SIGINT, on_signal, NULL);
	if (r >= 0)
		r = sd_event_add_signal(e, &sigterm, SIGTERM, on_signal, NULL);
	if (r >= 0 && arg_timeout > 0)
		r = sd_event_add_time_relative(e, &timer, CLOCK_MONOTONIC, (uint64_t)arg_timeout * 1000000,
					       0, on_timeout, NULL);
	if (r >= 0)
		r = sd_bus_attach_event(c->bus, e, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return chctl_failf(NULL, r, _("cannot watch for events"));

	{
		g_autofree char *lifecycle_match =
		    g_strdup_printf("type='signal',sender='" CHD_BUS_NAME "',interface='" CHD_VM_INTERFACE
				    "',member='Lifecycle',%s",
				    match);
		g_autofree char *changed_match = g_strdup_printf(
		    "type='signal',sender='" CHD_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
		    "member='PropertiesChanged',arg0='" CHD_VM_INTERFACE "',%s",
		    match);

		/* Both matches are in place before the banner, so nothing after it is missed. */
		r = sd_bus_add_match(c->bus, &lifecycle, lifecycle_match, on_lifecycle, &w);
		if (r >= 0)
			r = sd_bus_add_match(c->bus, &changed, changed_match, on_properties_changed, &w);
		if (r < 0)
			return chctl_failf(NULL, r, _("cannot watch for events"));
	}
	if (n == 1)
		fprintf(stderr, _("Watching the events of '%s'; Ctrl-C stops.\n"), args[0]);
	else
		fprintf(stderr, _("Watching the events of every VM; Ctrl-C stops.\n"));
	r = sd_event_loop(e);
	sd_bus_detach_event(c->bus);
	if (r < 0)
		return chctl_failf(NULL, r, _("cannot watch for events"));
	return r;
}

static const GOptionEntry events_options[] = {
    {"count", 0, 0, G_OPTION_ARG_INT, &arg_count, N_("Stop after N events"), N_("N")},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &arg_timeout, N_("Stop after S seconds"), N_("S")},
    {NULL},
};

const struct chctl_verb chctl_verbs_events[] = {
    {"events", CHCTL_GROUP_EVENTS, "[VM]", 0, 1, N_("Print VM events as they happen"),
     N_("Lifecycle events (defined, started, stopped, …) and property changes (State, …) of one VM or "
	"of all, one line each (with --json: one JSON object a line), until Ctrl-C."),
     events_options, verb_events},
    {NULL},
};
