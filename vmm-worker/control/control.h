/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's control socket: a unix stream socket on which every accepted connection is served as
 * a private sd-bus *server* connection (no bus daemon, ANONYMOUS or EXTERNAL authentication)
 * exporting org.cloudhypervisor.chd1.Worker at CONTROL_OBJECT_PATH (data/dbus/…Worker.xml).
 * Connections run on the worker's event loop; a client that sends garbage, closes early or never
 * reads costs one connection slot, never the worker. */
#pragma once

#include <stdint.h>

#include "worker.h"

#define CONTROL_OBJECT_PATH "/org/cloudhypervisor/chd1/worker"
#define CONTROL_INTERFACE "org.cloudhypervisor.chd1.Worker"
#define CONTROL_ERROR_INVALID_STATE "org.cloudhypervisor.chd1.Error.InvalidState"
#define CONTROL_ERROR_FAILED "org.cloudhypervisor.chd1.Error.Failed"

/* More simultaneous clients than chd, a monitoring agent and an admin's busctl need; beyond it new
 * connections are closed at once. */
#define CONTROL_CONNECTIONS_MAX 32

typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
struct control;

struct control_stats {
	uint64_t accepted; /* connections served */
	uint64_t refused;  /* closed at once: too many, or a peer of another user */
	uint64_t open;	   /* connections open now */
};

/* Listens on path (created; an existing socket nobody answers on is replaced) or, when path is
 * NULL, on listen_fd, an inherited listening AF_UNIX stream socket (taken over: closed by
 * control_free()). Logs the reason of a failure itself. */
int control_new(struct worker *w, const char *path, int listen_fd, struct control **ret);
/* Closes every connection and the socket, and removes the path it created. */
struct control *control_free(struct control *c);

/* Sends StateChanged(state, reason) and PropertiesChanged to every client. */
void control_state_changed(struct control *c, enum worker_state state, enum worker_reason reason);
/* Writes out what is queued for every client, waiting at most about a second in all: the last
 * replies and signals before the worker exits. */
void control_flush(struct control *c);
void control_get_stats(struct control *c, struct control_stats *ret);

/* control-bus.c: the Worker object on one connection. */
int control_bus_add_object(sd_bus *bus, struct worker *w);
/* counters.c: appends the Counters reply body (a{sa{st}}). */
int control_append_counters(sd_bus_message *m, struct worker *w);
