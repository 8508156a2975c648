/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a definition as libvirt domain XML, in libvirt's element order, so that libvirt's own
 * tooling (virt-xml-validate, virsh) reads what chd stores. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "conf-internal.h"
#include "domain-parse.h"
#include "domain.h"

static xmlNode *add(xmlNode *parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

static void set(xmlNode *node, const char *name, const char *value)
{
	if (value)
		xmlNewProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

static void setf(xmlNode *node, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void setf(xmlNode *node, const char *name, const char *fmt, ...)
{
	g_autofree char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	set(node, name, v);
}

static void add_kib(xmlNode *parent, const char *name, uint64_t kib)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, kib);
	set(add(parent, name, buf), "unit", "KiB");
}

static void add_pci(xmlNode *parent, const struct domain_pci_address *a, bool guest)
{
	xmlNode *n;

	if (!a->set)
		return;
	n = add(parent, "address", NULL);
	if (guest)
		set(n, "type", "pci");
	setf(n, "domain", "0x%04x", a->domain);
	setf(n, "bus", "0x%02x", a->bus);
	setf(n, "slot", "0x%02x", a->slot);
	setf(n, "function", "0x%x", a->function);
}

static void add_disk(xmlNode *devices, const struct domain_disk *d)
{
	xmlNode *n = add(devices, "disk", NULL), *drv;

	set(n, "type", domain_disk_type_to_string(d->type));
	set(n, "device", "disk");
	drv = add(n, "driver", NULL);
	set(drv, "type", domain_disk_format_to_string(d->format));
	if (d->cache != DOMAIN_DISK_CACHE_DEFAULT)
		set(drv, "cache", domain_disk_cache_to_string(d->cache));
	if (d->io != DOMAIN_DISK_IO_DEFAULT)
		set(drv, "io", domain_disk_io_to_string(d->io));
	set(add(n, "source", NULL), d->type == DOMAIN_DISK_TYPE_FILE ? "file" : "dev", d->source);
	{
		xmlNode *t = add(n, "target", NULL);
		set(t, "dev", d->target);
		set(t, "bus", domain_disk_bus_to_string(d->bus));
	}
	if (d->readonly)
		add(n, "readonly", NULL);
	if (d->serial)
		add(n, "serial", d->serial);
	add_pci(n, &d->address, true);
}

static void add_interface(xmlNode *devices, const struct domain_interface *i)
{
	xmlNode *n = add(devices, "interface", NULL);
	char mac[DOMAIN_MAC_STRING_MAX];

	set(n, "type", domain_interface_type_to_string(i->type));
	if (i->mac_set) {
		domain_mac_format(i->mac, mac);
		set(add(n, "mac", NULL), "address", mac);
	}
	if (i->target_dev)
		set(add(n, "target", NULL), "dev", i->target_dev);
	set(add(n, "model", NULL), "type", domain_device_model_to_string(i->model));
	add_pci(n, &i->address, true);
}

static void add_chr(xmlNode *devices, const char *name, const struct domain_chr *c, bool console)
{
	xmlNode *n = add(devices, name, NULL), *t;

	set(n, "type", domain_chr_type_to_string(c->type));
	if (c->type == DOMAIN_CHR_TYPE_FILE)
		set(add(n, "source", NULL), "path", c->path);
	if (c->log_file) {
		xmlNode *log = add(n, "log", NULL);

		set(log, "file", c->log_file);
		set(log, "append", c->log_append ? "on" : "off");
	}
	t = add(n, "target", NULL);
	if (console)
		set(t, "type", domain_console_target_to_string(c->target));
	set(t, "port", "0");
}

static void add_devices(xmlNode *root, const struct domain_def *def)
{
	xmlNode *devices = add(root, "devices", NULL), *n;

	/* libvirt's order: disks, filesystems, interfaces, hostdevs, serials, consoles, watchdog,
	 * memballoon, rng, vsock. */
	for (size_t i = 0; i < def->n_disks; i++)
		add_disk(devices, &def->disks[i]);
	for (size_t i = 0; i < def->n_filesystems; i++) {
		const struct domain_filesystem *fs = &def->filesystems[i];
		n = add(devices, "filesystem", NULL);
		set(n, "type", "mount");
		set(add(n, "driver", NULL), "type", domain_fs_driver_to_string(fs->driver));
		set(add(n, "source", NULL), "socket", fs->socket);
		set(add(n, "target", NULL), "dir", fs->tag);
		add_pci(n, &fs->address, true);
	}
	for (size_t i = 0; i < def->n_interfaces; i++)
		add_interface(devices, &def->interfaces[i]);
	for (size_t i = 0; i < def->n_hostdevs; i++) {
		const struct domain_hostdev *h = &def->hostdevs[i];
		n = add(devices, "hostdev", NULL);
		set(n, "mode", "subsystem");
		set(n, "type", domain_hostdev_type_to_string(h->type));
		set(n, "managed", h->managed ? "yes" : "no");
		add_pci(add(n, "source", NULL), &h->source, false);
		add_pci(n, &h->address, true);
	}
	if (def->serial)
		add_chr(devices, "serial", def->serial, false);
	if (def->console)
		add_chr(devices, "console", def->console, true);
	if (def->watchdog) {
		n = add(devices, "watchdog", NULL);
		set(n, "model", domain_watchdog_model_to_string(def->watchdog->model));
		set(n, "action", domain_watchdog_action_to_string(def->watchdog->action));
		add_pci(n, &def->watchdog->address, true);
	}
	if (def->memballoon) {
		n = add(devices, "memballoon", NULL);
		set(n, "model", domain_device_model_to_string(def->memballoon->model));
		add_pci(n, &def->memballoon->address, true);
	}
	if (def->rng) {
		n = add(devices, "rng", NULL);
		set(n, "model", domain_device_model_to_string(def->rng->model));
		set(add(n, "backend", def->rng->source), "model",
		    domain_rng_backend_to_string(def->rng->backend));
		add_pci(n, &def->rng->address, true);
	}
	if (def->vsock) {
		n = add(devices, "vsock", NULL);
		set(n, "model", domain_device_model_to_string(def->vsock->model));
		if (def->vsock->cid || !def->vsock->cid_auto) {
			xmlNode *cid = add(n, "cid", NULL);
			set(cid, "auto", def->vsock->cid_auto ? "yes" : "no");
			setf(cid, "address", "%" PRIu32, def->vsock->cid);
		} else
			set(add(n, "cid", NULL), "auto", "yes");
		add_pci(n, &def->vsock->address, true);
	}
}

static xmlNode *build_root(const struct domain_def *def)
{
	xmlNode *root = xmlNewNode(NULL, (const xmlChar *)"domain"), *n;
	char buf[64];

	set(root, "type", "kvm");
	add(root, "name", def->name);
	if (def->uuid_set) {
		domain_uuid_format(def->uuid, buf);
		add(root, "uuid", buf);
	}
	if (def->title)
		add(root, "title", def->title);
	if (def->description)
		add(root, "description", def->description);
	if (def->max_memory_kib) {
		add_kib(root, "maxMemory", def->max_memory_kib);
		setf(root->last, "slots", "%u", def->max_memory_slots);
	}
	add_kib(root, "memory", def->memory_kib);
	if (def->current_memory_kib)
		add_kib(root, "currentMemory", def->current_memory_kib);
	snprintf(buf, sizeof(buf), "%u", def->vcpus);
	n = add(root, "vcpu", buf);
	set(n, "placement", "static");
	if (def->vcpus_current && def->vcpus_current != def->vcpus)
		setf(n, "current", "%u", def->vcpus_current);

	n = add(root, "os", NULL);
	set(add(n, "type", "hvm"), "arch", "x86_64");
	if (def->os_loader)
		add(n, "loader", def->os_loader);
	if (def->os_kernel)
		add(n, "kernel", def->os_kernel);
	if (def->os_initrd)
		add(n, "initrd", def->os_initrd);
	if (def->os_cmdline)
		add(n, "cmdline", def->os_cmdline);
	if (def->acpi || def->apic) {
		n = add(root, "features", NULL);
		if (def->acpi)
			add(n, "acpi", NULL);
		if (def->apic)
			add(n, "apic", NULL);
	}
	add(root, "on_poweroff", domain_lifecycle_action_to_string(def->on_poweroff));
	add(root, "on_reboot", domain_lifecycle_action_to_string(def->on_reboot));
	add(root, "on_crash", domain_lifecycle_action_to_string(def->on_crash));
	add_devices(root, def);
	return root;
}

int domain_def_format(const struct domain_def *def, char **ret)
{
	g_autoptr(xmlDoc) doc = xmlNewDoc((const xmlChar *)"1.0");
	g_autoptr(xmlBuffer) buf = xmlBufferCreate();
	xmlSaveCtxt *save;

	if (!doc || !buf)
		return -ENOMEM;
	xmlDocSetRootElement(doc, build_root(def));
	/* No XML declaration, two-space indentation: what virsh dumpxml prints. */
	save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
	if (!save)
		return -ENOMEM;
	if (xmlSaveDoc(save, doc) < 0) {
		xmlSaveClose(save);
		return -ENOMEM;
	}
	xmlSaveClose(save);
	*ret = g_strdup((const char *)xmlBufferContent(buf));
	return 0;
}
