/* SPDX-License-Identifier: Apache-2.0 */
/* The console logs of a running VM: a copy of what the guest writes on a pty serial port or
 * virtio console, beside the pty (libvirt's <log file=... append=...>). chd opens each log itself
 * and passes the worker the fd (a unit gets the path: systemd passes transient services no fds).
 * Every VM gets one by default: <log>/<name>.log for its first pty console, the one ConsolePath
 * offers (the serial port, else the virtio console), unless the definition names another file.
 * Size: a log starts empty at each start of the VM unless append='on'; within a run it grows with
 * the guest's output (rotate it with copytruncate: the worker appends). */
#include <fcntl.h>
#include <glib.h>

#include "conf/domain.h"
#include "manager.h"
#include "vm.h"
#include "worker.h"

static bool is_pty(const struct domain_chr *c)
{
	return c && c->type == DOMAIN_CHR_TYPE_PTY;
}

char *worker_default_console_log(struct vm *vm)
{
	g_autofree char *file = g_strdup_printf("%s.log", vm->name);

	return g_build_filename(vm->manager->config.log_dir, file, NULL);
}

void worker_logs_get(struct vm *vm, const struct domain_def *def, struct worker_logs *ret)
{
	const struct domain_chr *serial = domain_def_serial_port(def),
				*console = domain_def_virtio_console(def);
	/* chd's default goes to the console chd offers: the serial port's pty first. */
	const struct domain_chr *primary = is_pty(serial) ? serial : is_pty(console) ? console : NULL;

	*ret = (struct worker_logs){};
	if (is_pty(serial) && (serial->log_file || serial == primary)) {
		ret->serial = serial->log_file ? g_strdup(serial->log_file) : worker_default_console_log(vm);
		ret->serial_append = serial->log_append;
	}
	if (is_pty(console) && (console->log_file || console == primary)) {
		ret->console =
		    console->log_file ? g_strdup(console->log_file) : worker_default_console_log(vm);
		ret->console_append = console->log_append;
	}
}

void worker_logs_done(struct worker_logs *l)
{
	g_clear_pointer(&l->serial, g_free);
	g_clear_pointer(&l->console, g_free);
}

int worker_log_open(const char *path, bool append)
{
	int fd =
	    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | (append ? 0 : O_TRUNC), 0640);

	return fd < 0 ? -errno : fd;
}
