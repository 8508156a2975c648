/* SPDX-License-Identifier: Apache-2.0 */
/* chctl's side of chd's D-Bus API (data/dbus/org.cloudhypervisor.chd1.xml): connecting to the
 * chosen bus, finding a VM's object, and turning a failed call into one message and an exit status. */
#pragma once

#include <systemd/sd-bus.h>

#include "chctl.h"

#define CHD_BUS_NAME "org.cloudhypervisor.chd1"
#define CHD_MANAGER_PATH "/org/cloudhypervisor/chd1"
#define CHD_VM_PATH_PREFIX "/org/cloudhypervisor/chd1/vm"
#define CHD_MANAGER_INTERFACE "org.cloudhypervisor.chd1.Manager"
#define CHD_VM_INTERFACE "org.cloudhypervisor.chd1.VM"

/* The environment variable that names a bus address, as --connect does (tests, private buses). */
#define CHCTL_ADDRESS_ENV "CHCTL_BUS_ADDRESS"

/* Connects c->bus on first use. Returns 0 or -errno; reports nothing. */
int chctl_bus_connect(struct chctl *c);
/* Connects, reporting a failure; returns CHCTL_EXIT_OK or the exit status. */
int chctl_bus(struct chctl *c);

/* Calls a Manager method that takes one string and returns an object path (Define, LookupBy*). */
int chctl_manager_call(struct chctl *c, const char *method, const char *arg, char **ret_path,
		       sd_bus_error *error);
/* Finds the object path of the VM called name (Manager.LookupByName). */
int chctl_vm_path(struct chctl *c, const char *name, char **ret_path, sd_bus_error *error);

/* Prints "chctl: <what>: <cause>" plus a hint, and returns the exit status for the error. what is
 * a translated, already formatted phrase such as "cannot start 'web1'". */
int chctl_fail(const sd_bus_error *error, int r, const char *what);
/* As chctl_fail() with a printf format for what. */
int chctl_failf(const sd_bus_error *error, int r, const char *format, ...) G_GNUC_PRINTF(3, 4);

/* Prints "chctl: <message>" to stderr, for failures that have no D-Bus error. */
void chctl_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* Calls a VM method by VM name: looks the VM up, then calls method with the types/arguments.
 * Returns 0 or -errno with *error set; *ret_path (optional) receives the object path. */
int chctl_call_vm(struct chctl *c, const char *name, const char *method, sd_bus_error *error,
		  sd_bus_message **ret_reply, char **ret_path, const char *types, ...);
