/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "bus.h"
#include "vm-props.h"

static int read_string(sd_bus_message *m, char **field)
{
	const char *s;
	int r = sd_bus_message_read_basic(m, 's', &s);

	if (r < 0)
		return r;
	g_free(*field);
	*field = g_strdup(s);
	return 0;
}

static int read_bool(sd_bus_message *m, bool *field)
{
	int b;
	int r = sd_bus_message_read_basic(m, 'b', &b);

	if (r < 0)
		return r;
	*field = b;
	return 0;
}

/* One property: name, the type chd documents, and where it goes. */
static int read_property(sd_bus_message *m, const char *name, struct vm_props *p)
{
	static const struct {
		const char *name;
		char type;
		size_t offset;
	} table[] = {
	    {"Name", 's', offsetof(struct vm_props, name)},
	    {"UUID", 's', offsetof(struct vm_props, uuid)},
	    {"State", 's', offsetof(struct vm_props, state)},
	    {"StateReason", 's', offsetof(struct vm_props, state_reason)},
	    {"Persistent", 'b', offsetof(struct vm_props, persistent)},
	    {"Autostart", 'b', offsetof(struct vm_props, autostart)},
	    {"VCPUs", 'u', offsetof(struct vm_props, vcpus)},
	    {"Memory", 't', offsetof(struct vm_props, memory)},
	    {"WorkerPID", 'u', offsetof(struct vm_props, worker_pid)},
	    {"ConsoleLog", 's', offsetof(struct vm_props, console_log)},
	    {"ConsolePath", 's', offsetof(struct vm_props, console_path)},
	};
	char type_string[2] = {0};

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		void *field = (char *)p + table[i].offset;

		if (strcmp(table[i].name, name) != 0)
			continue;
		type_string[0] = table[i].type;
		/* A property whose type changed is skipped, not misread. */
		if (sd_bus_message_verify_type(m, 'v', type_string) <= 0)
			break;
		int r = sd_bus_message_enter_container(m, 'v', type_string);
		if (r < 0)
			return r;
		switch (table[i].type) {
		case 's':
			r = read_string(m, field);
			break;
		case 'b':
			r = read_bool(m, field);
			break;
		default: /* 'u' and 't' read straight into their uint32_t / uint64_t field */
			r = sd_bus_message_read_basic(m, table[i].type, field);
			break;
		}
		if (r < 0)
			return r;
		return sd_bus_message_exit_container(m);
	}
	return sd_bus_message_skip(m, "v");
}

int vm_props_read(sd_bus_message *m, struct vm_props *p)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");

	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *name;

		r = sd_bus_message_read_basic(m, 's', &name);
		if (r < 0)
			return r;
		r = read_property(m, name, p);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

int vm_props_get(sd_bus *bus, const char *path, struct vm_props *p, sd_bus_error *error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	int r;

	r = sd_bus_call_method(bus, CHD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", error,
			       &reply, "s", CHD_VM_INTERFACE);
	if (r < 0)
		return r;
	g_free(p->path);
	p->path = g_strdup(path);
	return vm_props_read(reply, p);
}

JsonNode *vm_props_to_json(const struct vm_props *p)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "name");
	json_builder_add_string_value(b, p->name ? p->name : "");
	json_builder_set_member_name(b, "uuid");
	json_builder_add_string_value(b, p->uuid ? p->uuid : "");
	json_builder_set_member_name(b, "state");
	json_builder_add_string_value(b, p->state ? p->state : "");
	json_builder_set_member_name(b, "state_reason");
	json_builder_add_string_value(b, p->state_reason ? p->state_reason : "");
	json_builder_set_member_name(b, "persistent");
	json_builder_add_boolean_value(b, p->persistent);
	json_builder_set_member_name(b, "autostart");
	json_builder_add_boolean_value(b, p->autostart);
	json_builder_set_member_name(b, "vcpus");
	json_builder_add_int_value(b, p->vcpus);
	json_builder_set_member_name(b, "memory");
	json_builder_add_int_value(b, (gint64)MIN(p->memory, (uint64_t)G_MAXINT64));
	json_builder_set_member_name(b, "worker_pid");
	json_builder_add_int_value(b, p->worker_pid);
	json_builder_set_member_name(b, "console_log");
	json_builder_add_string_value(b, p->console_log ? p->console_log : "");
	json_builder_set_member_name(b, "console_path");
	json_builder_add_string_value(b, p->console_path ? p->console_path : "");
	json_builder_set_member_name(b, "object_path");
	json_builder_add_string_value(b, p->path ? p->path : "");
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

void vm_props_done(struct vm_props *p)
{
	if (!p)
		return;
	g_free(p->path);
	g_free(p->name);
	g_free(p->uuid);
	g_free(p->state);
	g_free(p->state_reason);
	g_free(p->console_log);
	g_free(p->console_path);
	*p = (struct vm_props){0};
}

char *format_bytes(uint64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	uint64_t whole = bytes, rest = 0;

	while (whole >= 1024 && u + 1 < G_N_ELEMENTS(units)) {
		rest = whole % 1024;
		whole /= 1024;
		u++;
	}
	if (rest == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT " %s", whole, units[u]);
	/* One decimal, rounded down: the figure never claims more than there is. */
	return g_strdup_printf("%" G_GUINT64_FORMAT ".%u %s", whole, (unsigned)(rest * 10 / 1024), units[u]);
}
