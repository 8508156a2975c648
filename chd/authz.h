/* SPDX-License-Identifier: Apache-2.0 */
/* Authorization of mutating D-Bus calls: polkit on the system bus, the caller's uid on a user bus. */
#pragma once

#include <systemd/sd-bus.h>

struct manager;

/* polkit action ids (data/dbus/org.cloudhypervisor.chd1.policy). */
#define CHD_ACTION_DEFINE "org.cloudhypervisor.chd1.define"
#define CHD_ACTION_LIFECYCLE "org.cloudhypervisor.chd1.lifecycle"

/* Carries out an authorized call: replies to msg itself (or later), or returns a negative errno
 * with error set, which authz turns into the error reply. */
typedef int (*authz_continuation)(struct manager *m, sd_bus_message *msg, sd_bus_error *error);

/* Checks that the sender of msg may perform action, then calls cont, at once or when polkit has
 * answered. Returns what a method handler returns: 1 when handled (or pending), negative with
 * error set when refused at once. */
int authz_check(struct manager *m, sd_bus_message *msg, const char *action, authz_continuation cont,
		sd_bus_error *error);
