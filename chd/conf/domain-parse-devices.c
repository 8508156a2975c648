/* SPDX-License-Identifier: Apache-2.0 */
/* Reads <devices>: one reader per device kind, each refusing what it does not know and what would
 * clash with a device read before it (same target, same image, same MAC, same PCI slot). */
#include <errno.h>
#include <stdio.h>

#include "conf-internal.h"
#include "domain-parse.h"
#include "domain.h"

/* What the devices read so far already claim, to refuse the same thing twice with both lines. */
struct claims {
	GHashTable *seen; /* "kind\x1fvalue" -> line of its first use */
};

static int claim(struct parser *p, struct claims *c, xmlNode *node, const char *kind, const char *what,
		 const char *value)
{
	g_autofree char *key = g_strdup_printf("%s\x1f%s", kind, value);
	gpointer line;

	if (g_hash_table_lookup_extended(c->seen, key, NULL, &line))
		return parse_fail(p, node, _("%s '%s' is used twice (first on line %ld)"), what, value,
				  (long)GPOINTER_TO_SIZE(line));
	g_hash_table_insert(c->seen, TAKE_PTR(key), GSIZE_TO_POINTER((gsize)xmlGetLineNo(node)));
	return 0;
}

static int parse_number_attr(struct parser *p, xmlNode *node, const char *name, uint64_t max, uint64_t *ret)
{
	g_autofree char *v = NULL;
	int r;

	r = parse_attr_required(p, node, name, &v);
	if (r < 0)
		return r;
	if (conf_parse_uint(v, max, ret) < 0)
		return parse_fail(p, node, _("%s='%s' of element '%s' is not a number from 0 to %#llx"),
				  name, v, (const char *)node->name, (unsigned long long)max);
	return 0;
}

/* <address type='pci' .../>; guest addresses sit on 0000:00, function 0, slots 1-31. */
static int parse_pci_address(struct parser *p, xmlNode *node, bool guest, struct domain_pci_address *ret)
{
	static const char *const attrs[] = {"type", "domain", "bus", "slot", "function", NULL};
	uint64_t domain, bus, slot, function;
	int r;

	r = parse_check_node(p, node, guest ? attrs : attrs + 1, NULL);
	if (r >= 0 && guest)
		r = parse_fixed_attr(p, node, "type", "pci");
	if (r >= 0 && guest && !xmlHasProp(node, (const xmlChar *)"type"))
		r = parse_fail_attr(p, node, "type", NULL);
	if (r >= 0)
		r = parse_number_attr(p, node, "domain", 0xffff, &domain);
	if (r >= 0)
		r = parse_number_attr(p, node, "bus", 0xff, &bus);
	if (r >= 0)
		r = parse_number_attr(p, node, "slot", 0x1f, &slot);
	if (r >= 0)
		r = parse_number_attr(p, node, "function", 0x7, &function);
	if (r < 0)
		return r;
	if (guest && (domain != 0 || bus != 0 || function != 0))
		return parse_fail(p, node,
				  _("PCI address %04llx:%02llx:%02llx.%llx is not supported: devices sit on "
				    "0000:00, function 0"),
				  (unsigned long long)domain, (unsigned long long)bus,
				  (unsigned long long)slot, (unsigned long long)function);
	if (guest && slot < DOMAIN_PCI_SLOT_FIRST)
		return parse_fail(p, node, _("PCI slot 0 is the host bridge's; use slots 0x01 to 0x1f"));
	*ret = (struct domain_pci_address){.set = true,
					   .domain = (uint16_t)domain,
					   .bus = (uint8_t)bus,
					   .slot = (uint8_t)slot,
					   .function = (uint8_t)function};
	return 0;
}

/* The <address> child, if any, claiming its slot. */
static int parse_device_address(struct parser *p, struct claims *c, xmlNode *dev,
				struct domain_pci_address *ret)
{
	char slot[8];
	int r;

	for (xmlNode *n = dev->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || !streq((const char *)n->name, "address"))
			continue;
		if (ret->set)
			return parse_fail(p, n, _("element '%s' has more than one <address>"),
					  (const char *)dev->name);
		r = parse_pci_address(p, n, true, ret);
		if (r < 0)
			return r;
		snprintf(slot, sizeof(slot), "0x%02x", ret->slot);
		r = claim(p, c, n, "slot", _("PCI slot"), slot);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The only child element called name; NULL when absent, an error when repeated. */
static int only_child(struct parser *p, xmlNode *node, const char *name, xmlNode **ret)
{
	*ret = NULL;
	for (xmlNode *c = node->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || !streq((const char *)c->name, name))
			continue;
		if (*ret)
			return parse_fail(p, c, _("element '%s' has more than one <%s>"),
					  (const char *)node->name, name);
		*ret = c;
	}
	return 0;
}

/* only_child() for each name in the NULL-terminated list, into the matching ret[i]. */
static int only_children(struct parser *p, xmlNode *node, const char *const *names, xmlNode **const *ret)
{
	for (size_t i = 0; names[i]; i++) {
		int r = only_child(p, node, names[i], ret[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_disk(struct parser *p, struct claims *c, xmlNode *node, struct domain_disk *d)
{
	static const char *const attrs[] = {"type", "device", NULL};
	static const char *const children[] = {"driver", "source",  "target", "readonly",
					       "serial", "address", NULL};
	static const char *const driver_attrs[] = {"name", "type", "cache", "io", NULL};
	static const char *const target_attrs[] = {"dev", "bus", NULL};
	xmlNode *driver, *source, *target, *readonly, *serial;
	int r;

	r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, node, "type", domain_disk_type, DOMAIN_DISK_TYPE_FILE, &d->type);
	if (r >= 0)
		r = parse_fixed_attr(p, node, "device", "disk");
	if (r >= 0)
		r = only_children(
		    p, node, (const char *const[]){"driver", "source", "target", "readonly", "serial", NULL},
		    (xmlNode * *const[]){&driver, &source, &target, &readonly, &serial});
	if (r < 0)
		return r;

	d->format = DOMAIN_DISK_FORMAT_RAW;
	if (driver) {
		/* name='qemu' is what every libvirt disk says; it changes nothing here. */
		r = parse_check_node(p, driver, driver_attrs, NULL);
		if (r >= 0)
			r = parse_fixed_attr(p, driver, "name", "qemu");
		if (r >= 0)
			r = PARSE_ENUM_ATTR(p, driver, "type", domain_disk_format, DOMAIN_DISK_FORMAT_RAW,
					    &d->format);
		if (r >= 0)
			r = PARSE_ENUM_ATTR(p, driver, "cache", domain_disk_cache, DOMAIN_DISK_CACHE_DEFAULT,
					    &d->cache);
		if (r >= 0)
			r = PARSE_ENUM_ATTR(p, driver, "io", domain_disk_io, DOMAIN_DISK_IO_DEFAULT, &d->io);
		if (r < 0)
			return r;
		if (d->io == DOMAIN_DISK_IO_NATIVE && d->cache != DOMAIN_DISK_CACHE_NONE &&
		    d->cache != DOMAIN_DISK_CACHE_DIRECTSYNC)
			return parse_fail(p, driver,
					  _("io='native' needs cache='none' or cache='directsync'"));
	}

	if (!source)
		return parse_fail(p, node, _("element 'disk' needs a <source>"));
	{
		const char *attr = d->type == DOMAIN_DISK_TYPE_FILE ? "file" : "dev";
		static const char *const file_attrs[] = {"file", NULL}, *const dev_attrs[] = {"dev", NULL};

		r = parse_check_node(p, source, d->type == DOMAIN_DISK_TYPE_FILE ? file_attrs : dev_attrs,
				     NULL);
		if (r >= 0)
			r = parse_path(p, source, attr, &d->source);
		if (r >= 0)
			r = claim(p, c, source, "disk", _("disk image"), d->source);
		if (r < 0)
			return r;
	}

	if (!target)
		return parse_fail(p, node, _("element 'disk' needs a <target dev='vdX'/>"));
	r = parse_check_node(p, target, target_attrs, NULL);
	if (r >= 0)
		r = parse_attr_required(p, target, "dev", &d->target);
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, target, "bus", domain_disk_bus, DOMAIN_DISK_BUS_VIRTIO, &d->bus);
	if (r < 0)
		return r;
	if (!g_str_has_prefix(d->target, "vd") || !d->target[2] ||
	    strspn(d->target + 2, "abcdefghijklmnopqrstuvwxyz") != strlen(d->target + 2) ||
	    strlen(d->target) > 8)
		return parse_fail(p, target, _("disk target '%s' is not a virtio disk name (vda, vdb, ...)"),
				  d->target);
	r = claim(p, c, target, "target", _("disk target"), d->target);
	if (r < 0)
		return r;

	if (readonly && (r = parse_check_node(p, readonly, NULL, NULL)) < 0)
		return r;
	d->readonly = readonly != NULL;
	if (serial) {
		r = parse_check_node(p, serial, NULL, NULL);
		if (r < 0)
			return r;
		d->serial = parse_text(serial);
		/* virtio-blk's serial is 20 bytes; commas would split the worker's option. */
		if (!*d->serial || strlen(d->serial) > 20 || strpbrk(d->serial, ",\"= "))
			return parse_fail(p, serial,
					  _("disk serial '%s' must be 1 to 20 characters without ',', '\"', "
					    "'=' or spaces"),
					  d->serial);
	}
	return parse_device_address(p, c, node, &d->address);
}

static int parse_interface(struct parser *p, struct claims *c, xmlNode *node, struct domain_interface *n)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const children[] = {"mac", "target", "model", "address", NULL};
	static const char *const mac_attrs[] = {"address", NULL}, *const dev_attrs[] = {"dev", NULL},
				 *const model_attrs[] = {"type", NULL};
	xmlNode *mac, *target, *model;
	int r;

	/* The type first: "type='bridge' is not supported" says more than its <source> would. */
	r = PARSE_ENUM_ATTR(p, node, "type", domain_interface_type, -1, &n->type);
	if (r >= 0)
		r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = only_children(p, node, (const char *const[]){"mac", "target", "model", NULL},
				  (xmlNode * *const[]){&mac, &target, &model});
	if (r < 0)
		return r;
	if (mac) {
		g_autofree char *a = NULL;
		char canon[DOMAIN_MAC_STRING_MAX];

		r = parse_check_node(p, mac, mac_attrs, NULL);
		if (r >= 0)
			r = parse_attr_required(p, mac, "address", &a);
		if (r < 0)
			return r;
		if (domain_mac_parse(a, n->mac) < 0)
			return parse_fail(p, mac, _("'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)"), a);
		if (n->mac[0] & 1)
			return parse_fail(p, mac, _("MAC address '%s' is a multicast address"), a);
		n->mac_set = true;
		domain_mac_format(n->mac, canon);
		r = claim(p, c, mac, "mac", _("MAC address"), canon);
		if (r < 0)
			return r;
	}
	if (target) {
		r = parse_check_node(p, target, dev_attrs, NULL);
		if (r >= 0)
			r = parse_attr_required(p, target, "dev", &n->target_dev);
		if (r < 0)
			return r;
		/* IFNAMSIZ is 16 with the NUL; '/' and ',' cannot appear in a name the worker can open. */
		if (!*n->target_dev || strlen(n->target_dev) > 15 || strpbrk(n->target_dev, "/, :=\"") ||
		    streq(n->target_dev, ".") || streq(n->target_dev, ".."))
			return parse_fail(p, target,
					  _("'%s' is not a network interface name (1 to 15 characters)"),
					  n->target_dev);
		r = claim(p, c, target, "tap", _("tap device"), n->target_dev);
		if (r < 0)
			return r;
	}
	n->model = DOMAIN_DEVICE_MODEL_VIRTIO;
	if (model) {
		r = parse_check_node(p, model, model_attrs, NULL);
		if (r >= 0)
			r = PARSE_ENUM_ATTR(p, model, "type", domain_device_model, -1, &n->model);
		if (r >= 0 && n->model != DOMAIN_DEVICE_MODEL_VIRTIO)
			r = parse_fail(p, model, _("interface model '%s' is not supported (only 'virtio')"),
				       domain_device_model_to_string(n->model));
		if (r < 0)
			return r;
	}
	return parse_device_address(p, c, node, &n->address);
}

/* <log file='/abs' append='on|off'/> of a pty: a copy of the guest's output beside the pty. */
static int parse_chr_log(struct parser *p, xmlNode *node, xmlNode *log, struct domain_chr *chr)
{
	static const char *const log_attrs[] = {"file", "append", NULL};
	g_autofree char *append = NULL;
	int r;

	if (chr->type != DOMAIN_CHR_TYPE_PTY)
		return parse_fail(p, log,
				  _("element '%s' of type '%s' takes no <log>: only a pty keeps a log beside "
				    "it (type 'file' writes to its file already)"),
				  (const char *)node->name, domain_chr_type_to_string(chr->type));
	r = parse_check_node(p, log, log_attrs, NULL);
	if (r >= 0)
		r = parse_path(p, log, "file", &chr->log_file);
	if (r < 0)
		return r;
	append = parse_attr(log, "append");
	if (append && !streq(append, "on") && !streq(append, "off"))
		return parse_fail(p, log, _("append='%s' of element 'log' must be 'on' or 'off'"), append);
	chr->log_append = append && streq(append, "on");
	return 0;
}

/* <serial> and <console>: type, <source path=.../> for files, <log file=.../> for ptys,
 * <target [type=...] port='0'/>. */
static int parse_chr(struct parser *p, xmlNode *node, bool console, struct domain_chr **ret)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const children[] = {"source", "log", "target", NULL};
	static const char *const source_attrs[] = {"path", NULL};
	static const char *const serial_target[] = {"port", NULL}, *const console_target[] = {"type", "port",
											      NULL};
	_cleanup_(conf_chr_freep) struct domain_chr *chr = g_new0(struct domain_chr, 1);
	xmlNode *source, *log, *target;
	int r;

	r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, node, "type", domain_chr_type, -1, &chr->type);
	if (r >= 0)
		r = only_children(p, node, children, (xmlNode * *const[]){&source, &log, &target});
	if (r >= 0 && log)
		r = parse_chr_log(p, node, log, chr);
	if (r < 0)
		return r;
	if (chr->type == DOMAIN_CHR_TYPE_FILE) {
		if (!source)
			return parse_fail(p, node,
					  _("element '%s' of type 'file' needs <source path='...'/>"),
					  (const char *)node->name);
		r = parse_check_node(p, source, source_attrs, NULL);
		if (r >= 0)
			r = parse_path(p, source, "path", &chr->path);
		if (r < 0)
			return r;
	} else if (source)
		return parse_fail(p, source, _("element '%s' of type '%s' takes no <source>"),
				  (const char *)node->name, domain_chr_type_to_string(chr->type));
	chr->target = DOMAIN_CONSOLE_TARGET_SERIAL;
	if (target) {
		r = parse_check_node(p, target, console ? console_target : serial_target, NULL);
		if (r >= 0)
			r = parse_fixed_attr(p, target, "port", "0");
		if (r >= 0 && console)
			r = PARSE_ENUM_ATTR(p, target, "type", domain_console_target,
					    DOMAIN_CONSOLE_TARGET_SERIAL, &chr->target);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(chr);
	return 0;
}

static int parse_rng(struct parser *p, struct claims *c, xmlNode *node, struct domain_rng *rng)
{
	static const char *const attrs[] = {"model", NULL};
	static const char *const children[] = {"backend", "address", NULL};
	static const char *const backend_attrs[] = {"model", NULL};
	xmlNode *backend;
	int r;

	r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = parse_fixed_attr(p, node, "model", "virtio");
	if (r >= 0)
		r = only_child(p, node, "backend", &backend);
	if (r < 0)
		return r;
	rng->model = DOMAIN_DEVICE_MODEL_VIRTIO;
	if (!backend)
		return parse_fail(p, node,
				  _("element 'rng' needs <backend model='random'>/dev/urandom</backend>"));
	r = parse_check_node(p, backend, backend_attrs, NULL);
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, backend, "model", domain_rng_backend, -1, &rng->backend);
	if (r < 0)
		return r;
	rng->source = parse_text(backend);
	if (!*rng->source)
		g_free(g_steal_pointer(&rng->source)), rng->source = g_strdup("/dev/urandom");
	if (!conf_path_is_absolute(rng->source))
		return parse_fail(p, backend, _("path '%s' in element 'backend' is not absolute"),
				  rng->source);
	return parse_device_address(p, c, node, &rng->address);
}

static int parse_filesystem(struct parser *p, struct claims *c, xmlNode *node, struct domain_filesystem *fs)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const children[] = {"driver", "source", "target", "address", NULL};
	static const char *const driver_attrs[] = {"type", NULL}, *const source_attrs[] = {"socket", NULL},
				 *const target_attrs[] = {"dir", NULL};
	xmlNode *driver, *source, *target;
	int r;

	r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = parse_fixed_attr(p, node, "type", "mount");
	if (r >= 0)
		r = only_children(p, node, (const char *const[]){"driver", "source", "target", NULL},
				  (xmlNode * *const[]){&driver, &source, &target});
	if (r < 0)
		return r;
	if (!driver)
		return parse_fail(p, node, _("element 'filesystem' needs <driver type='virtiofs'/>"));
	r = parse_check_node(p, driver, driver_attrs, NULL);
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, driver, "type", domain_fs_driver, -1, &fs->driver);
	if (r < 0)
		return r;
	if (!source)
		return parse_fail(
		    p, node, _("element 'filesystem' needs <source socket='...'/> (virtiofsd's socket)"));
	r = parse_check_node(p, source, source_attrs, NULL);
	if (r >= 0)
		r = parse_path(p, source, "socket", &fs->socket);
	if (r < 0)
		return r;
	if (!target)
		return parse_fail(p, node, _("element 'filesystem' needs <target dir='TAG'/>"));
	r = parse_check_node(p, target, target_attrs, NULL);
	if (r >= 0)
		r = parse_attr_required(p, target, "dir", &fs->tag);
	if (r < 0)
		return r;
	/* The virtio-fs tag field is 36 bytes. */
	if (!*fs->tag || strlen(fs->tag) > 36 || strpbrk(fs->tag, ",\"= "))
		return parse_fail(p, target,
				  _("filesystem tag '%s' must be 1 to 36 characters without ',', '\"', '=' "
				    "or spaces"),
				  fs->tag);
	r = claim(p, c, target, "tag", _("filesystem tag"), fs->tag);
	if (r < 0)
		return r;
	return parse_device_address(p, c, node, &fs->address);
}

static int parse_vsock(struct parser *p, struct claims *c, xmlNode *node, struct domain_vsock *v)
{
	static const char *const attrs[] = {"model", NULL};
	static const char *const children[] = {"cid", "address", NULL};
	static const char *const cid_attrs[] = {"auto", "address", NULL};
	xmlNode *cid;
	int r;

	r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = parse_fixed_attr(p, node, "model", "virtio");
	if (r >= 0)
		r = only_child(p, node, "cid", &cid);
	if (r < 0)
		return r;
	v->model = DOMAIN_DEVICE_MODEL_VIRTIO;
	v->cid_auto = true;
	if (cid) {
		g_autofree char *a = parse_attr(cid, "address");
		uint64_t n;

		r = parse_check_node(p, cid, cid_attrs, NULL);
		if (r >= 0)
			r = parse_yes_no(p, cid, "auto", a == NULL, &v->cid_auto);
		if (r < 0)
			return r;
		if (a && (conf_parse_uint(a, UINT32_MAX - 1, &n) < 0 || n < 3))
			return parse_fail(p, cid, _("vsock CID '%s' is not a number from 3 to 4294967294"),
					  a);
		if (a)
			v->cid = (uint32_t)n;
		if (!v->cid_auto && !a)
			return parse_fail(p, cid, _("<cid auto='no'/> needs an address='N'"));
	}
	return parse_device_address(p, c, node, &v->address);
}

static int parse_memballoon(struct parser *p, struct claims *c, xmlNode *node, struct domain_memballoon *b)
{
	static const char *const attrs[] = {"model", NULL};
	static const char *const children[] = {"address", NULL};
	int r;

	r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, node, "model", domain_device_model, -1, &b->model);
	if (r >= 0)
		r = parse_device_address(p, c, node, &b->address);
	if (r >= 0 && b->model == DOMAIN_DEVICE_MODEL_NONE && b->address.set)
		r = parse_fail(p, node, _("<memballoon model='none'/> takes no <address>"));
	return r;
}

static int parse_watchdog(struct parser *p, struct claims *c, xmlNode *node, struct domain_watchdog *w)
{
	static const char *const attrs[] = {"model", "action", NULL};
	static const char *const children[] = {"address", NULL};
	int r;

	r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, node, "model", domain_watchdog_model, -1, &w->model);
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, node, "action", domain_watchdog_action, DOMAIN_WATCHDOG_ACTION_RESET,
				    &w->action);
	if (r >= 0)
		r = parse_device_address(p, c, node, &w->address);
	return r;
}

static int parse_hostdev(struct parser *p, struct claims *c, xmlNode *node, struct domain_hostdev *h)
{
	static const char *const attrs[] = {"mode", "type", "managed", NULL};
	static const char *const children[] = {"source", "address", NULL};
	static const char *const source_children[] = {"address", NULL};
	xmlNode *source, *address = NULL;
	char bdf[16];
	int r;

	r = parse_check_node(p, node, attrs, children);
	if (r >= 0)
		r = parse_fixed_attr(p, node, "mode", "subsystem");
	if (r >= 0)
		r = PARSE_ENUM_ATTR(p, node, "type", domain_hostdev_type, -1, &h->type);
	if (r >= 0)
		r = parse_yes_no(p, node, "managed", false, &h->managed);
	if (r >= 0)
		r = only_child(p, node, "source", &source);
	if (r < 0)
		return r;
	if (source) {
		r = parse_check_node(p, source, NULL, source_children);
		if (r >= 0)
			r = only_child(p, source, "address", &address);
		if (r < 0)
			return r;
	}
	if (!address)
		return parse_fail(p, node,
				  _("element 'hostdev' needs <source><address domain= bus= slot= function=/>"
				    "</source>"));
	r = parse_pci_address(p, address, false, &h->source);
	if (r < 0)
		return r;
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", h->source.domain, h->source.bus, h->source.slot,
		 h->source.function);
	r = claim(p, c, address, "hostdev", _("host PCI device"), bdf);
	if (r < 0)
		return r;
	return parse_device_address(p, c, node, &h->address);
}

/* Grows an array by one zeroed element and returns it. */
#define APPEND(array, n)                                                                                    \
	(array = g_renew(__typeof__(*array), array, n + 1), memset(&array[n], 0, sizeof(*array)),           \
	 &array[n++])

static int parse_single(struct parser *p, xmlNode *node, void **slot, size_t size)
{
	if (*slot)
		return parse_fail(p, node, _("only one <%s> is supported"), (const char *)node->name);
	*slot = g_malloc0(size);
	return 0;
}

int parse_devices(struct parser *p, xmlNode *node, struct domain_def *def)
{
	static const char *const children[] = {"disk",	   "interface",	 "serial", "console",
					       "rng",	   "filesystem", "vsock",  "memballoon",
					       "watchdog", "hostdev",	 NULL};
	struct claims c = {.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
	xmlNode *console = NULL;
	int r;

	r = parse_check_node(p, node, NULL, children);
	for (xmlNode *n = node->children; r >= 0 && n; n = n->next) {
		const char *name = (const char *)n->name;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (streq(name, "disk"))
			r = parse_disk(p, &c, n, APPEND(def->disks, def->n_disks));
		else if (streq(name, "interface"))
			r = parse_interface(p, &c, n, APPEND(def->interfaces, def->n_interfaces));
		else if (streq(name, "filesystem"))
			r = parse_filesystem(p, &c, n, APPEND(def->filesystems, def->n_filesystems));
		else if (streq(name, "hostdev"))
			r = parse_hostdev(p, &c, n, APPEND(def->hostdevs, def->n_hostdevs));
		else if (streq(name, "serial") || streq(name, "console")) {
			struct domain_chr **slot = streq(name, "serial") ? &def->serial : &def->console;
			if (*slot)
				r = parse_fail(p, n, _("only one <%s> is supported"), name);
			else
				r = parse_chr(p, n, slot == &def->console, slot);
			if (slot == &def->console)
				console = n;
		} else if (streq(name, "rng")) {
			r = parse_single(p, n, (void **)&def->rng, sizeof(*def->rng));
			if (r >= 0)
				r = parse_rng(p, &c, n, def->rng);
		} else if (streq(name, "vsock")) {
			r = parse_single(p, n, (void **)&def->vsock, sizeof(*def->vsock));
			if (r >= 0)
				r = parse_vsock(p, &c, n, def->vsock);
		} else if (streq(name, "memballoon")) {
			r = parse_single(p, n, (void **)&def->memballoon, sizeof(*def->memballoon));
			if (r >= 0)
				r = parse_memballoon(p, &c, n, def->memballoon);
		} else if (streq(name, "watchdog")) {
			r = parse_single(p, n, (void **)&def->watchdog, sizeof(*def->watchdog));
			if (r >= 0)
				r = parse_watchdog(p, &c, n, def->watchdog);
		}
	}
	g_hash_table_unref(c.seen);
	/* libvirt's rule: a serial-target console is serial port 0 seen again, so they must agree. */
	if (r >= 0 && console && def->serial && def->console->target == DOMAIN_CONSOLE_TARGET_SERIAL &&
	    (def->console->type != def->serial->type ||
	     g_strcmp0(def->console->path, def->serial->path) != 0 ||
	     g_strcmp0(def->console->log_file, def->serial->log_file) != 0 ||
	     def->console->log_append != def->serial->log_append))
		r = parse_fail(p, console,
			       _("a <console> with target type 'serial' must have the type, source and log "
				 "of the <serial>"));
	return r;
}
