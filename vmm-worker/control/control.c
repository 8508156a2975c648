/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket and its connections. Each accepted connection becomes an sd-bus server
 * connection attached to the worker's event loop; sd-bus does the authentication and marshalling,
 * and synthesises org.freedesktop.DBus.Local.Disconnected when the peer goes away or talks
 * nonsense, which is where a connection is freed. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>
#include <time.h>
#include <unistd.h>

#include "control/control.h"
#include "log.h"

/* After accept() failed for lack of file descriptors, wait this long before trying again instead
 * of spinning on a listening socket that stays readable. */
#define CONTROL_ACCEPT_RETRY_USEC (1000u * 1000u)
#define CONTROL_FLUSH_USEC (1000u * 1000u)

struct control_conn {
	struct control *control;
	sd_bus *bus;
	unsigned index;
};

struct control {
	struct worker *worker;
	int listen_fd;
	char *path; /* the socket we created, removed on free; NULL for an inherited one */
	sd_event_source *listen_source;
	sd_event_source *retry_source;
	sd_id128_t server_id;
	struct control_conn *conns[CONTROL_CONNECTIONS_MAX];
	struct control_stats stats;
};

static struct control_conn *control_conn_free(struct control_conn *conn)
{
	if (!conn)
		return NULL;
	if (conn->control) {
		conn->control->conns[conn->index] = NULL;
		conn->control->stats.open--;
	}
	sd_bus_close_unref(conn->bus);
	free(conn);
	return NULL;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control_conn *conn = userdata;

	log_debug("control: client %u disconnected", conn->index);
	control_conn_free(conn);
	return 0;
}

/* Only our own user and root may control us, whatever the socket's file mode says (an inherited
 * socket's permissions are not ours to check). */
static bool control_peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == getuid();
}

static int control_conn_new(struct control *c, int fd)
{
	_cleanup_close_ int owned_fd = fd;
	struct control_conn *conn;
	unsigned slot;
	int r;

	for (slot = 0; slot < CONTROL_CONNECTIONS_MAX && c->conns[slot]; slot++)
		;
	if (slot == CONTROL_CONNECTIONS_MAX) {
		c->stats.refused++;
		return log_debug_errno(EMFILE, "control: %d clients connected already, refusing another",
				       CONTROL_CONNECTIONS_MAX);
	}
	if (!control_peer_allowed(fd)) {
		c->stats.refused++;
		return log_debug_errno(EPERM, "control: refusing a client of another user");
	}

	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	conn->control = c;
	conn->index = slot;
	c->conns[slot] = conn;
	c->stats.open++;

	r = sd_bus_new(&conn->bus);
	if (r < 0)
		goto fail;
	r = sd_bus_set_fd(conn->bus, fd, fd);
	if (r < 0)
		goto fail;
	TAKE_FD(owned_fd); /* the bus closes it now */
	(void)sd_bus_set_description(conn->bus, "control-client");
	r = sd_bus_set_server(conn->bus, 1, c->server_id);
	if (r >= 0)
		r = sd_bus_set_anonymous(conn->bus, 1);
	/* Hot-plug will pass tap and disk file descriptors over this connection. */
	if (r >= 0)
		r = sd_bus_negotiate_fds(conn->bus, 1);
	if (r >= 0)
		r = control_bus_add_object(conn->bus, c->worker);
	if (r >= 0)
		r = sd_bus_start(conn->bus);
	if (r >= 0)
		r = sd_bus_match_signal(conn->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
					"org.freedesktop.DBus.Local", "Disconnected", on_disconnected, conn);
	if (r >= 0)
		r = sd_bus_attach_event(conn->bus, sd_event_source_get_event(c->listen_source), SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		goto fail;

	c->stats.accepted++;
	log_debug("control: client %u connected", slot);
	return 0;
fail:
	control_conn_free(conn);
	c->stats.refused++;
	return log_debug_errno(r, "control: cannot serve a new client: %s", strerror(-r));
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct control *c = userdata;

	c->retry_source = sd_event_source_unref(c->retry_source);
	return sd_event_source_set_enabled(c->listen_source, SD_EVENT_ON);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control *c = userdata;

	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ECONNABORTED || errno == EPROTO)
				continue;
			log_warning_errno(errno, "control: cannot accept a client: %m; trying again in a second");
			uint64_t now = 0;
			sd_event_now(sd_event_source_get_event(s), CLOCK_MONOTONIC, &now);
			if (!c->retry_source &&
			    sd_event_add_time(sd_event_source_get_event(s), &c->retry_source, CLOCK_MONOTONIC,
					      now + CONTROL_ACCEPT_RETRY_USEC, 0, on_accept_retry, c) >= 0)
				return sd_event_source_set_enabled(s, SD_EVENT_OFF);
			return 0;
		}
		(void)control_conn_new(c, cfd);
	}
}

/* An existing socket file at path is stale when nobody accepts on it. */
static bool control_socket_stale(const struct sockaddr_un *sa)
{
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	_cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0)
		return false;
	return connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno == ECONNREFUSED;
}

static int control_listen_path(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(ENAMETOOLONG,
				       "--control-socket: '%s' is too long for a unix socket (at most %zu bytes); "
				       "use a shorter path", path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(errno, "--control-socket: cannot create a socket: %m");

	for (int attempt = 0;; attempt++) {
		/* Owner only: whoever can connect controls the VM. Single-threaded here: no vCPU yet. */
		mode_t old = umask(0077);
		r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
		umask(old);
		if (r >= 0)
			break;
		if (errno == EADDRINUSE && attempt == 0 && control_socket_stale(&sa)) {
			log_debug("--control-socket: replacing the stale socket '%s'", path);
			if (unlink(path) < 0)
				return log_error_errno(errno, "--control-socket: cannot remove the stale socket '%s': %m",
						       path);
			continue;
		}
		if (errno == EADDRINUSE)
			return log_error_errno(errno,
					       "--control-socket: '%s' exists and is in use (another vmm-worker?); "
					       "stop it or choose another path", path);
		return log_error_errno(errno, "--control-socket: cannot bind '%s': %m", path);
	}
	if (listen(fd, SOMAXCONN) < 0) {
		r = log_error_errno(errno, "--control-socket: cannot listen on '%s': %m", path);
		unlink(path);
		return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int control_check_inherited(int fd)
{
	int type = 0, listening = 0, domain = 0;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return log_error_errno(errno, "--control-socket: fd=%d is not an open socket: %m", fd);
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return log_error_errno(errno, "--control-socket: fd=%d: %m", fd);
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return log_error_errno(errno, "--control-socket: fd=%d: %m", fd);
	if (domain != AF_UNIX || type != SOCK_STREAM || !listening)
		return log_error_errno(EINVAL,
				       "--control-socket: fd=%d must be a listening unix stream socket "
				       "(as systemd's ListenStream= or chd passes)", fd);
	return 0;
}

int control_new(struct worker *w, const char *path, int listen_fd, struct control **ret)
{
	struct control *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return log_error_errno(ENOMEM, "out of memory");
	c->worker = w;
	c->listen_fd = -1;

	if (path) {
		r = control_listen_path(path, &c->listen_fd);
		if (r >= 0) {
			c->path = strdup(path);
			if (!c->path) {
				unlink(path);
				r = log_error_errno(ENOMEM, "out of memory");
			}
		}
	} else {
		r = control_check_inherited(listen_fd);
		if (r >= 0)
			c->listen_fd = listen_fd;
	}
	if (r >= 0)
		r = sd_id128_randomize(&c->server_id);
	/* accept() in a loop until EAGAIN needs a non-blocking socket (an inherited one may not be). */
	if (r >= 0) {
		int flags = fcntl(c->listen_fd, F_GETFL);
		if (flags < 0 || fcntl(c->listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
			r = -errno;
	}
	if (r >= 0)
		r = sd_event_add_io(w->event, &c->listen_source, c->listen_fd, EPOLLIN, on_accept, c);
	if (r < 0) {
		control_free(c);
		return log_error_errno(r, "--control-socket: cannot serve the control socket: %s", strerror(-r));
	}
	log_debug("control: listening on %s", path ? path : "an inherited socket");
	*ret = c;
	return 0;
}

struct control *control_free(struct control *c)
{
	if (!c)
		return NULL;
	for (unsigned i = 0; i < CONTROL_CONNECTIONS_MAX; i++)
		control_conn_free(c->conns[i]);
	c->retry_source = sd_event_source_unref(c->retry_source);
	c->listen_source = sd_event_source_unref(c->listen_source);
	safe_close(c->listen_fd);
	if (c->path)
		unlink(c->path);
	free(c->path);
	free(c);
	return NULL;
}

void control_state_changed(struct control *c, enum worker_state state, enum worker_reason reason)
{
	for (unsigned i = 0; i < CONTROL_CONNECTIONS_MAX; i++) {
		sd_bus *bus = c->conns[i] ? c->conns[i]->bus : NULL;
		int r;

		if (!bus)
			continue;
		r = sd_bus_emit_signal(bus, CONTROL_OBJECT_PATH, CONTROL_INTERFACE, "StateChanged", "ss",
				       worker_state_to_string(state), worker_reason_to_string(reason));
		if (r >= 0)
			r = sd_bus_emit_properties_changed(bus, CONTROL_OBJECT_PATH, CONTROL_INTERFACE, "State",
							   "BootCount", NULL);
		if (r < 0)
			log_debug("control: cannot tell client %u about the state change: %s", i, strerror(-r));
	}
}

void control_flush(struct control *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t start = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	uint64_t deadline = start + CONTROL_FLUSH_USEC;

	for (unsigned i = 0; i < CONTROL_CONNECTIONS_MAX; i++) {
		if (!c->conns[i])
			continue;
		/* Processing may dispatch Disconnected, which frees the connection: hold the bus. */
		_cleanup_(sd_bus_unrefp) sd_bus *bus = sd_bus_ref(c->conns[i]->bus);

		for (;;) {
			uint64_t queued = 0, now;

			if (sd_bus_get_n_queued_write(bus, &queued) < 0 || queued == 0)
				break;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
			if (now >= deadline)
				break;
			int r = sd_bus_process(bus, NULL);
			if (r > 0)
				continue;
			if (r < 0 || sd_bus_wait(bus, deadline - now) < 0)
				break;
		}
	}
}

void control_get_stats(struct control *c, struct control_stats *ret)
{
	*ret = c->stats;
}
