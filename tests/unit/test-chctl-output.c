/* SPDX-License-Identifier: Apache-2.0 */
/* chctl's output: aligned tables, key/value fields, byte sizes, and the VM properties read from a
 * real sd-bus message and written as JSON. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chctl.h"
#include "output.h"
#include "vm-props.h"

#include <glib.h>

static void test_table(void)
{
	const char *headers[] = {"NAME", "STATE", "MEMORY"};
	g_autoptr(Table) t = table_new(3, headers);
	g_autofree char *text = NULL;
	g_autofree char *body = NULL;

	g_assert_cmpuint(table_rows(t), ==, 0);
	text = table_format(t, TRUE);
	g_assert_cmpstr(text, ==, "NAME  STATE  MEMORY\n");
	g_free(text);

	table_add(t, "web1");
	table_add(t, "running");
	table_add(t, "1 GiB");
	table_add(t, "database-primary");
	table_add(t, "shut-off");
	table_add(t, NULL);
	g_assert_cmpuint(table_rows(t), ==, 2);
	text = table_format(t, TRUE);
	g_assert_cmpstr(text, ==,
			"NAME              STATE     MEMORY\n"
			"web1              running   1 GiB\n"
			"database-primary  shut-off  \n");
	/* Without the header the widths follow the rows alone. */
	body = table_format(t, FALSE);
	g_assert_cmpstr(body, ==,
			"web1              running   1 GiB\n"
			"database-primary  shut-off  \n");
}

static void test_table_utf8(void)
{
	/* A translated header with accents is as wide as it looks, not as its bytes. */
	const char *headers[] = {"ÉTAT", "X"};
	g_autoptr(Table) t = table_new(2, headers);
	g_autofree char *text = NULL;

	table_add(t, "été");
	table_add(t, "1");
	text = table_format(t, TRUE);
	g_assert_cmpstr(text, ==, "ÉTAT  X\nété   1\n");
}

static void test_fields(void)
{
	const char *keys[] = {"Name", "Worker PID", "État"};
	const char *values[] = {"web1", "-", NULL};
	g_autofree char *text = format_fields(keys, values, 3);

	g_assert_cmpstr(text, ==,
			"Name:       web1\n"
			"Worker PID: -\n"
			"État:       \n");
}

static void test_bytes(void)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} cases[] = {
	    {0, "0 B"},
	    {1023, "1023 B"},
	    {1024, "1 KiB"},
	    {1536, "1.5 KiB"},
	    {512ULL << 20, "512 MiB"},
	    {1ULL << 30, "1 GiB"},
	    {(1ULL << 30) + (1ULL << 29), "1.5 GiB"},
	    {(2ULL << 30) - 1, "1.9 GiB"}, /* rounded down, never up to "2 GiB" */
	    {16ULL << 40, "16 TiB"},
	    {UINT64_MAX, "15.9 EiB"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *s = format_bytes(cases[i].bytes);

		g_assert_cmpstr(s, ==, cases[i].text);
	}
}

static void test_json_format(void)
{
	g_autoptr(JsonObject) o = json_object_new();
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	g_autofree char *compact = NULL;
	g_autofree char *pretty = NULL;

	json_object_set_string_member(o, "name", "a \"quoted\"\nname");
	json_object_set_int_member(o, "vcpus", 2);
	json_node_set_object(node, o);
	compact = json_format(node, FALSE);
	g_assert_cmpstr(compact, ==, "{\"name\":\"a \\\"quoted\\\"\\nname\",\"vcpus\":2}");
	pretty = json_format(node, TRUE);
	g_assert_cmpstr(pretty, ==, "{\n  \"name\" : \"a \\\"quoted\\\"\\nname\",\n  \"vcpus\" : 2\n}");
}

/* A message with an a{sv} of VM properties, sealed and rewound so it reads like a reply. A bus on
 * one end of a socket pair is enough to build messages; nothing is sent. */
static sd_bus_message *properties_message(sd_bus **ret_bus, int fds[2])
{
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
	g_assert_cmpint(sd_bus_new(&bus), >=, 0);
	g_assert_cmpint(sd_bus_set_fd(bus, fds[0], fds[0]), >=, 0);
	g_assert_cmpint(sd_bus_start(bus), >=, 0);
	g_assert_cmpint(
	    sd_bus_message_new_method_call(bus, &m, "org.cloudhypervisor.chd1", "/x", "x.y", "Z"), >=, 0);
	g_assert_cmpint(sd_bus_message_append(
			    m, "a{sv}", 13, "Name", "s", "web1", "UUID", "s",
			    "6f1c1b4e-0b7a-4c8e-9d51-3b2a9d0c1e2f", "State", "s", "running", "StateReason",
			    "s", "booted", "Persistent", "b", 1, "Autostart", "b", 0, "VCPUs", "u", 4,
			    "Memory", "t", (uint64_t)2 << 30, "WorkerPID", "u", 4242, "ConsoleLog", "s",
			    "/var/log/chd/web1.log",
			    /* a property from a newer chd, and one whose type changed */
			    "Balloon", "as", 2, "a", "b", "ConsolePath", "u", 7, "Future", "(ii)", 1, 2),
			>=, 0);
	g_assert_cmpint(sd_bus_message_seal(m, 1, 0), >=, 0);
	g_assert_cmpint(sd_bus_message_rewind(m, true), >=, 0);
	*ret_bus = bus;
	return m;
}

static void test_vm_props(void)
{
	g_autoptr(sd_bus) bus = NULL;
	g_autoptr(sd_bus_message) m = NULL;
	g_auto(VmProps) p = {0};
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *json = NULL;
	int fds[2];

	m = properties_message(&bus, fds);
	g_assert_cmpint(vm_props_read(m, &p), >=, 0);
	g_assert_cmpint(sd_bus_message_at_end(m, true), >, 0);
	g_assert_cmpstr(p.name, ==, "web1");
	g_assert_cmpstr(p.uuid, ==, "6f1c1b4e-0b7a-4c8e-9d51-3b2a9d0c1e2f");
	g_assert_cmpstr(p.state, ==, "running");
	g_assert_cmpstr(p.state_reason, ==, "booted");
	g_assert_true(p.persistent);
	g_assert_false(p.autostart);
	g_assert_cmpuint(p.vcpus, ==, 4);
	g_assert_cmpuint(p.memory, ==, 2ULL << 30);
	g_assert_cmpuint(p.worker_pid, ==, 4242);
	g_assert_cmpstr(p.console_log, ==, "/var/log/chd/web1.log");
	g_assert_null(p.console_path); /* wrong type: skipped, not misread */

	p.path = g_strdup("/org/cloudhypervisor/chd1/vm/web1");
	node = vm_props_to_json(&p);
	json = json_format(node, FALSE);
	g_assert_cmpstr(
	    json, ==,
	    "{\"name\":\"web1\",\"uuid\":\"6f1c1b4e-0b7a-4c8e-9d51-3b2a9d0c1e2f\",\"state\":\"running\","
	    "\"state_reason\":\"booted\",\"persistent\":true,\"autostart\":false,\"vcpus\":4,"
	    "\"memory\":2147483648,\"worker_pid\":4242,\"console_log\":\"/var/log/chd/web1.log\","
	    "\"console_path\":\"\",\"object_path\":\"/org/cloudhypervisor/chd1/vm/web1\"}");
	close(fds[1]);
}

static void test_vm_props_empty(void)
{
	struct vm_props p = {0};
	g_autoptr(JsonNode) node = vm_props_to_json(&p);
	g_autofree char *json = json_format(node, FALSE);

	/* Missing strings are empty, never null, so scripts need no special case. */
	g_assert_null(strstr(json, "null"));
	vm_props_done(&p);
	vm_props_done(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chctl/output/table", test_table);
	g_test_add_func("/chctl/output/table-utf8", test_table_utf8);
	g_test_add_func("/chctl/output/fields", test_fields);
	g_test_add_func("/chctl/output/bytes", test_bytes);
	g_test_add_func("/chctl/output/json", test_json_format);
	g_test_add_func("/chctl/vm-props/read", test_vm_props);
	g_test_add_func("/chctl/vm-props/empty", test_vm_props_empty);
	return g_test_run();
}
