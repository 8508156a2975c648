/* SPDX-License-Identifier: Apache-2.0 */
/* Fixture for the D-Bus tests: a private dbus-daemon and the real chd binary on it, with
 * temporary folders. Never touches the machine's buses or /etc/chd. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#define CHD_NAME "org.cloudhypervisor.chd1"
#define CHD_PATH "/org/cloudhypervisor/chd1"
#define CHD_MANAGER "org.cloudhypervisor.chd1.Manager"
#define CHD_VM "org.cloudhypervisor.chd1.VM"
#define CHD_ERROR(kind) "org.cloudhypervisor.chd1.Error." kind

struct chd_test {
	char *dir;	   /* temporary root: bus socket, config/, run/, log/ */
	GPid bus_pid;
	char *address;
	GPid chd_pid;
	const char *authz;  /* chd's --authz: "uid" (default) or "polkit" */
	GPid polkit_pid;
	GDBusConnection *conn;
	int reaper_fd;	   /* closing it (or dying) makes the reaper clean up */
	GPid reaper_pid;
	GPtrArray *signals; /* "member path arg0 arg1" strings seen from chd, in order */
	guint signal_sub;
};

/* Starts the bus and chd. */
void chd_test_setup(struct chd_test *t);
/* The same, with a bus policy file included after an allow-all default (the system bus policy
 * in data/dbus, to test it). */
void chd_test_setup_with_policy(struct chd_test *t, const char *policy);
void chd_test_teardown(struct chd_test *t);
/* Starts chd (again) on the same bus and folders, and waits until it owns its name. */
void chd_test_start_daemon(struct chd_test *t);
/* Starts the real polkitd on the test bus in its own mount namespace, where the actions folder
 * holds data/dbus/org.cloudhypervisor.chd1.policy and the rules folder the given rules (JavaScript).
 * FALSE when polkitd or mount namespaces are not available here. */
gboolean chd_test_start_polkit(struct chd_test *t, const char *rules);
/* Stops chd with sig and returns its wait status. */
int chd_test_stop_daemon(struct chd_test *t, int sig);

/* A method call to chd; NULL with *error set when it failed. */
GVariant *chd_call(struct chd_test *t, const char *path, const char *iface, const char *method,
		   GVariant *args, GError **error);
/* A call that must succeed. */
GVariant *chd_call_ok(struct chd_test *t, const char *path, const char *iface, const char *method,
		      GVariant *args);
/* A call that must fail with the named D-Bus error; returns the message. */
char *chd_call_error(struct chd_test *t, const char *path, const char *iface, const char *method,
		     GVariant *args, const char *error_name);

GVariant *chd_get(struct chd_test *t, const char *path, const char *property);
char *chd_get_string(struct chd_test *t, const char *path, const char *property);
/* Waits up to timeout_ms for a VM property to reach a string value. */
gboolean chd_wait_property(struct chd_test *t, const char *path, const char *property, const char *value,
			   guint timeout_ms);
/* Waits up to timeout_ms for a signal "member path arg0..." starting with prefix. */
gboolean chd_wait_signal(struct chd_test *t, const char *prefix, guint timeout_ms);

/* Defines xml and returns the object path. */
char *chd_define(struct chd_test *t, const char *xml);
/* A definition: name, uuid (NULL: none) and kernel path. */
char *chd_test_xml(const char *name, const char *uuid, const char *kernel);

/* Runs argv as user nobody (uid and gid 65534); returns the exit status, output in *out. */
int chd_run_as_nobody(char **argv, char **out);
