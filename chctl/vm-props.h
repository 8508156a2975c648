/* SPDX-License-Identifier: Apache-2.0 */
/* The properties of one org.cloudhypervisor.chd1.VM object, read from an a{sv} (GetAll, or one
 * interface of GetManagedObjects), and their JSON form. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <systemd/sd-bus.h>

struct vm_props {
	char *path;
	char *name;
	char *uuid;
	char *state;
	char *state_reason;
	bool persistent;
	bool autostart;
	uint32_t vcpus;
	uint64_t memory; /* bytes */
	uint32_t worker_pid;
	char *console_log;  /* "" or absent: none */
	char *console_path; /* pty or unix socket for an interactive console; absent on older chd */
};

/* Reads an a{sv} at the message's read position; properties it does not know are skipped, so a
 * newer chd with more properties still works. Returns 0 or -errno. */
int vm_props_read(sd_bus_message *m, struct vm_props *p);
/* Fills p with GetAll on the VM object at path. Returns 0 or -errno with *error set. */
int vm_props_get(sd_bus *bus, const char *path, struct vm_props *p, sd_bus_error *error);
JsonNode *vm_props_to_json(const struct vm_props *p);
void vm_props_done(struct vm_props *p);
typedef struct vm_props VmProps;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmProps, vm_props_done)
/* "1.5 GiB", "512 MiB": binary units, one decimal where it is not whole. */
char *format_bytes(uint64_t bytes);
