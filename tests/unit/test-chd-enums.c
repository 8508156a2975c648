/* SPDX-License-Identifier: Apache-2.0 */
/* Walks every chd enum ↔ string table: each value has a unique string that maps back to it, and
 * the D-Bus strings documented in data/dbus/org.cloudhypervisor.chd1.xml are the ones in use. */
#include <glib.h>
#include <string.h>

#include "bus-error.h"
#include "manager.h"
#include "vm-state.h"
#include "worker.h"

#define WALK(name, max)                                                                            \
	do {                                                                                       \
		for (int i = 0; i < (max); i++) {                                                  \
			const char *s = name##_to_string(i);                                       \
			g_assert_nonnull(s);                                                       \
			g_assert_cmpint(name##_from_string(s), ==, i);                             \
			for (int j = 0; j < i; j++)                                                \
				g_assert_cmpstr(name##_to_string(j), !=, s);                       \
		}                                                                                  \
		g_assert_null(name##_to_string(max));                                              \
		g_assert_null(name##_to_string(-1));                                               \
		g_assert_cmpint(name##_from_string("no-such-value"), ==, -EINVAL);                 \
		g_assert_cmpint(name##_from_string(NULL), ==, -EINVAL);                            \
	} while (0)

static void test_tables(void)
{
	WALK(vm_state, _VM_STATE_MAX);
	WALK(vm_state_reason, _VM_STATE_REASON_MAX);
	WALK(vm_event, _VM_EVENT_MAX);
	WALK(vm_job, _VM_JOB_MAX);
	WALK(manager_mode, _MANAGER_MODE_MAX);
	WALK(authz_mode, _AUTHZ_MODE_MAX);
	WALK(spawn_mode, _SPAWN_MODE_MAX);
	WALK(tap_access, _TAP_ACCESS_MAX);
}

/* Every state, reason and event string is documented in the interface XML. */
static void test_documented(void)
{
	g_autofree char *xml = NULL;

	g_assert_true(g_file_get_contents(TEST_SRCDIR "/../../data/dbus/org.cloudhypervisor.chd1.xml", &xml, NULL, NULL));
	for (int i = 0; i < _VM_STATE_MAX; i++) {
		g_autofree char *quoted = g_strdup_printf("\"%s\"", vm_state_to_string(i));
		g_assert_nonnull(strstr(xml, quoted));
	}
	for (int i = 0; i < _VM_STATE_REASON_MAX; i++) {
		g_autofree char *quoted = g_strdup_printf("\"%s\"", vm_state_reason_to_string(i));
		g_assert_nonnull(strstr(xml, quoted));
	}
	for (int i = 0; i < _VM_EVENT_MAX; i++) {
		g_autofree char *quoted = g_strdup_printf("\"%s\"", vm_event_to_string(i));
		g_assert_nonnull(strstr(xml, quoted));
	}
	for (const sd_bus_error_map *e = chd_bus_error_map; e->name; e++) {
		const char *kind = e->name + strlen(CHD_ERROR_PREFIX);
		g_autofree char *line = g_strdup_printf("    %s ", kind);

		g_assert_true(g_str_has_prefix(e->name, CHD_ERROR_PREFIX));
		g_assert_nonnull(strstr(xml, line));
	}
}

static void test_active(void)
{
	g_assert_false(vm_state_is_active(VM_STATE_SHUT_OFF));
	g_assert_false(vm_state_is_active(VM_STATE_CRASHED));
	g_assert_true(vm_state_is_active(VM_STATE_STARTING));
	g_assert_true(vm_state_is_active(VM_STATE_RUNNING));
	g_assert_true(vm_state_is_active(VM_STATE_PAUSED));
	g_assert_true(vm_state_is_active(VM_STATE_SHUTTING_DOWN));
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chd/enums/tables", test_tables);
	g_test_add_func("/chd/enums/documented", test_documented);
	g_test_add_func("/chd/enums/active", test_active);
	return g_test_run();
}
