/* SPDX-License-Identifier: Apache-2.0 */
/* A definition as the vmm-worker command line, in Cloud Hypervisor's grammar. chd runs exactly this
 * (with already-open fds in place of tap names and images), and `chctl` can show it, so one code
 * path serves standalone and managed workers. */
#include <errno.h>
#include <inttypes.h>

#include "conf-internal.h"
#include "domain.h"

/* Cloud Hypervisor's option values are comma-separated key=value lists: a value cannot hold ','
 * or '"' (its quoting) and stay one value. */
static int check_value(const char *what, const char *value, char **ret_error)
{
	if (strpbrk(value, ",\"\n"))
		return conf_error(
		    ret_error, -EINVAL,
		    _("%s '%s' contains ',', '\"' or a newline, which vmm-worker's command line cannot "
		      "carry; rename it"),
		    what, value);
	return 0;
}

static const char *chr_value(const struct domain_chr *c, const char *path_override, const char *log_override,
			     char **buf)
{
	const char *log = log_override ? log_override : c->log_file;

	switch (c->type) {
	case DOMAIN_CHR_TYPE_NULL:
		return "null";
	case DOMAIN_CHR_TYPE_PTY:
		if (!log)
			return "pty";
		*buf = g_strconcat("pty,log=", log, NULL);
		return *buf;
	case DOMAIN_CHR_TYPE_STDIO:
		return "tty";
	case DOMAIN_CHR_TYPE_FILE:
		*buf = g_strconcat("file=", path_override ? path_override : c->path, NULL);
		return *buf;
	case _DOMAIN_CHR_TYPE_MAX:
	case _DOMAIN_CHR_TYPE_INVALID:
		break;
	}
	return "off";
}

static int add_disks(GPtrArray *a, const struct domain_def *def, const struct domain_argv_options *o,
		     char **ret_error)
{
	int r;

	if (def->n_disks == 0)
		return 0;
	g_ptr_array_add(a, g_strdup("--disk"));
	for (size_t i = 0; i < def->n_disks; i++) {
		const struct domain_disk *d = &def->disks[i];
		GString *v = g_string_new(NULL);
		bool direct = d->cache == DOMAIN_DISK_CACHE_NONE || d->cache == DOMAIN_DISK_CACHE_DIRECTSYNC;

		if (i < o->n_disk_fds && o->disk_fds[i] >= 0)
			g_string_append_printf(v, "path=/dev/fd/%d", o->disk_fds[i]);
		else if ((r = check_value(_("disk image"), d->source, ret_error)) < 0) {
			g_string_free(v, TRUE);
			return r;
		} else
			g_string_append_printf(v, "path=%s", d->source);
		if (d->readonly)
			g_string_append(v, ",readonly=on");
		if (direct)
			g_string_append(v, ",direct=on");
		if (d->serial)
			g_string_append_printf(v, ",serial=%s", d->serial);
		g_string_append_printf(v, ",id=%s", d->target);
		g_ptr_array_add(a, g_string_free(v, FALSE));
	}
	return 0;
}

static void add_nets(GPtrArray *a, const struct domain_def *def, const struct domain_argv_options *o)
{
	if (def->n_interfaces == 0)
		return;
	g_ptr_array_add(a, g_strdup("--net"));
	for (size_t i = 0; i < def->n_interfaces; i++) {
		const struct domain_interface *n = &def->interfaces[i];
		GString *v = g_string_new(NULL);
		char mac[DOMAIN_MAC_STRING_MAX];

		if (i < o->n_net_fds && o->net_fds[i] >= 0)
			g_string_append_printf(v, "fd=%d,", o->net_fds[i]);
		else if (n->target_dev)
			g_string_append_printf(v, "tap=%s,", n->target_dev);
		if (n->mac_set) {
			domain_mac_format(n->mac, mac);
			g_string_append_printf(v, "mac=%s,", mac);
		}
		g_string_append_printf(v, "id=net%zu", i);
		g_ptr_array_add(a, g_string_free(v, FALSE));
	}
}

static int check_paths(const struct domain_def *def, const struct domain_argv_options *o, char **ret_error)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < def->n_filesystems; i++)
		r = check_value(_("virtiofsd socket"), def->filesystems[i].socket, ret_error);
	if (r >= 0 && def->rng)
		r = check_value(_("random source"), def->rng->source, ret_error);
	if (r >= 0 && def->serial && def->serial->type == DOMAIN_CHR_TYPE_FILE)
		r = check_value(_("serial log"), o->serial_path ? o->serial_path : def->serial->path,
				ret_error);
	if (r >= 0 && def->console && def->console->type == DOMAIN_CHR_TYPE_FILE)
		r = check_value(_("console log"), def->console->path, ret_error);
	if (r >= 0 && (o->serial_log || (def->serial && def->serial->log_file)))
		r = check_value(_("serial log"), o->serial_log ? o->serial_log : def->serial->log_file,
				ret_error);
	if (r >= 0 && (o->console_log || (def->console && def->console->log_file)))
		r = check_value(_("console log"), o->console_log ? o->console_log : def->console->log_file,
				ret_error);
	if (r >= 0 && def->vsock && !o->vsock_socket)
		r = conf_error(ret_error, -EINVAL,
			       _("VM '%s' has a <vsock>, but no host socket was given for it"), def->name);
	if (r >= 0 && def->vsock)
		r = check_value(_("vsock socket"), o->vsock_socket, ret_error);
	return r;
}

int domain_def_to_argv(const struct domain_def *def, const struct domain_argv_options *opts, char ***ret,
		       char **ret_error)
{
	static const struct domain_argv_options none = {};
	const struct domain_argv_options *o = opts ? opts : &none;
	g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *serial_buf = NULL, *console_buf = NULL;
	const struct domain_chr *serial, *console;
	unsigned boot = def->vcpus_current ? def->vcpus_current : def->vcpus;
	uint64_t current = def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
	GString *mem;
	int r;

	r = check_paths(def, o, ret_error);
	if (r < 0)
		return r;
	g_ptr_array_add(a, g_strdup(o->program ? o->program : "vmm-worker"));
	if (def->os_kernel) {
		g_ptr_array_add(a, g_strdup("--kernel"));
		g_ptr_array_add(a, g_strdup(def->os_kernel));
	} else if (def->os_loader) {
		g_ptr_array_add(a, g_strdup("--firmware"));
		g_ptr_array_add(a, g_strdup(def->os_loader));
	}
	if (def->os_initrd) {
		g_ptr_array_add(a, g_strdup("--initramfs"));
		g_ptr_array_add(a, g_strdup(def->os_initrd));
	}
	if (def->os_cmdline) {
		/* "--cmdline=" keeps a command line that starts with '-' from reading as an option. */
		g_ptr_array_add(a, g_strconcat("--cmdline=", def->os_cmdline, NULL));
	}
	g_ptr_array_add(a, g_strdup("--cpus"));
	g_ptr_array_add(a, g_strdup_printf("boot=%u,max=%u", boot, def->vcpus));

	mem = g_string_new(NULL);
	g_string_append_printf(mem, "size=%" PRIu64 "K", def->memory_kib);
	if (def->max_memory_kib > def->memory_kib)
		g_string_append_printf(mem, ",hotplug_size=%" PRIu64 "K",
				       def->max_memory_kib - def->memory_kib);
	/* vhost-user devices (virtiofsd) map guest memory: it must be shared. */
	if (def->n_filesystems > 0)
		g_string_append(mem, ",shared=on");
	g_ptr_array_add(a, g_strdup("--memory"));
	g_ptr_array_add(a, g_string_free(mem, FALSE));

	r = add_disks(a, def, o, ret_error);
	if (r < 0)
		return r;
	add_nets(a, def, o);
	if (def->rng) {
		g_ptr_array_add(a, g_strdup("--rng"));
		g_ptr_array_add(a, g_strconcat("src=", def->rng->source, NULL));
	}
	if (def->n_filesystems > 0) {
		g_ptr_array_add(a, g_strdup("--fs"));
		for (size_t i = 0; i < def->n_filesystems; i++)
			g_ptr_array_add(a,
					g_strdup_printf("tag=%s,socket=%s,id=fs%zu", def->filesystems[i].tag,
							def->filesystems[i].socket, i));
	}
	if (def->vsock) {
		g_ptr_array_add(a, g_strdup("--vsock"));
		g_ptr_array_add(a, g_strdup_printf("cid=%" PRIu32 ",socket=%s,id=vsock0", def->vsock->cid,
						   o->vsock_socket));
	}
	if (def->memballoon && def->memballoon->model == DOMAIN_DEVICE_MODEL_VIRTIO) {
		g_ptr_array_add(a, g_strdup("--balloon"));
		g_ptr_array_add(a, g_strdup_printf("size=%" PRIu64 "K", def->memory_kib - current));
	}
	if (def->watchdog)
		g_ptr_array_add(a, g_strdup("--watchdog"));
	if (def->n_hostdevs > 0) {
		g_ptr_array_add(a, g_strdup("--device"));
		for (size_t i = 0; i < def->n_hostdevs; i++) {
			const struct domain_pci_address *s = &def->hostdevs[i].source;
			g_ptr_array_add(
			    a, g_strdup_printf("path=/sys/bus/pci/devices/%04x:%02x:%02x.%x/,id=hostdev%zu",
					       s->domain, s->bus, s->slot, s->function, i));
		}
	}

	/* Spell out both: Cloud Hypervisor's defaults (serial null, console tty) suit a terminal,
	 * not a daemon. A serial-target console is the serial port itself. */
	serial = domain_def_serial_port(def);
	console = domain_def_virtio_console(def);
	g_ptr_array_add(a, g_strdup("--serial"));
	g_ptr_array_add(
	    a, g_strdup(serial ? chr_value(serial, o->serial_path, o->serial_log, &serial_buf) : "off"));
	g_ptr_array_add(a, g_strdup("--console"));
	g_ptr_array_add(a,
			g_strdup(console ? chr_value(console, NULL, o->console_log, &console_buf) : "off"));

	g_ptr_array_add(a, NULL);
	*ret = (char **)g_ptr_array_free(g_steal_pointer(&a), FALSE);
	return 0;
}
