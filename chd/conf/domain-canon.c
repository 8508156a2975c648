/* SPDX-License-Identifier: Apache-2.0 */
/* Canonicalisation on define: everything a definition left to defaults gets written down, so the
 * stored file says exactly what the VM gets and stays the same across chd versions. */
#include <errno.h>
#include <sys/random.h>

#include "conf-internal.h"
#include "domain.h"

static uint32_t random_u32(const struct domain_random *rnd)
{
	uint32_t v;

	if (rnd && rnd->next)
		return rnd->next(rnd->userdata);
	/* getrandom() of 4 bytes from an initialised pool cannot fail short; fall back to GLib's
	 * generator if the kernel's is not ready yet. */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = g_random_int();
	return v;
}

static void random_bytes(const struct domain_random *rnd, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = random_u32(rnd);
		memcpy(buf + i, &v, MIN(4, n - i));
	}
}

static bool mac_in_use(const struct domain_def *def, const uint8_t mac[6])
{
	for (size_t i = 0; i < def->n_interfaces; i++)
		if (def->interfaces[i].mac_set && memcmp(def->interfaces[i].mac, mac, 6) == 0)
			return true;
	return false;
}

/* Every PCI address slot of the definition, in the order slots get assigned. */
static size_t collect_addresses(struct domain_def *def, struct domain_pci_address **out)
{
	size_t n = 0;

	for (size_t i = 0; i < def->n_disks; i++)
		out[n++] = &def->disks[i].address;
	for (size_t i = 0; i < def->n_interfaces; i++)
		out[n++] = &def->interfaces[i].address;
	for (size_t i = 0; i < def->n_filesystems; i++)
		out[n++] = &def->filesystems[i].address;
	for (size_t i = 0; i < def->n_hostdevs; i++)
		out[n++] = &def->hostdevs[i].address;
	if (def->vsock)
		out[n++] = &def->vsock->address;
	if (def->rng)
		out[n++] = &def->rng->address;
	if (def->watchdog)
		out[n++] = &def->watchdog->address;
	if (def->memballoon && def->memballoon->model == DOMAIN_DEVICE_MODEL_VIRTIO)
		out[n++] = &def->memballoon->address;
	return n;
}

static int assign_pci_slots(struct domain_def *def, char **ret_error)
{
	size_t max = def->n_disks + def->n_interfaces + def->n_filesystems + def->n_hostdevs + 4;
	g_autofree struct domain_pci_address **addrs = g_new0(struct domain_pci_address *, max);
	bool used[DOMAIN_PCI_SLOT_LAST + 1] = {[0] = true};
	size_t n = collect_addresses(def, addrs);
	unsigned next = DOMAIN_PCI_SLOT_FIRST;

	for (size_t i = 0; i < n; i++)
		if (addrs[i]->set)
			used[addrs[i]->slot] = true;
	for (size_t i = 0; i < n; i++) {
		if (addrs[i]->set)
			continue;
		while (next <= DOMAIN_PCI_SLOT_LAST && used[next])
			next++;
		if (next > DOMAIN_PCI_SLOT_LAST)
			return conf_error(ret_error, -EINVAL,
					  _("VM '%s' has more PCI devices than the %d free slots of bus 0"),
					  def->name, DOMAIN_PCI_SLOT_LAST - DOMAIN_PCI_SLOT_FIRST + 1);
		*addrs[i] = (struct domain_pci_address){.set = true, .slot = (uint8_t)next};
		used[next] = true;
	}
	return 0;
}

int domain_def_canonicalize(struct domain_def *def, const struct domain_random *rnd, char **ret_error)
{
	if (!def->uuid_set) {
		random_bytes(rnd, def->uuid, 16);
		/* RFC 4122 version 4 (random), variant 1. */
		def->uuid[6] = (uint8_t)((def->uuid[6] & 0x0f) | 0x40);
		def->uuid[8] = (uint8_t)((def->uuid[8] & 0x3f) | 0x80);
		def->uuid_set = true;
	}
	for (size_t i = 0; i < def->n_interfaces; i++) {
		struct domain_interface *n = &def->interfaces[i];
		uint8_t mac[6] = {0x52, 0x54, 0x00};

		if (n->mac_set)
			continue;
		do
			random_bytes(rnd, mac + 3, 3);
		while (mac_in_use(def, mac));
		memcpy(n->mac, mac, 6);
		n->mac_set = true;
	}
	if (!def->current_memory_kib)
		def->current_memory_kib = def->memory_kib;
	if (!def->vcpus_current)
		def->vcpus_current = def->vcpus;
	def->acpi = true; /* vmm-worker always describes the machine with ACPI */
	if (!def->memballoon)
		def->memballoon = g_new0(struct domain_memballoon, 1),
		def->memballoon->model = DOMAIN_DEVICE_MODEL_NONE;
	if (def->console && def->console->target == DOMAIN_CONSOLE_TARGET_SERIAL && !def->serial) {
		/* libvirt's rule: a serial-target console is serial port 0, which must then exist. */
		def->serial = g_new0(struct domain_chr, 1);
		def->serial->type = def->console->type;
		def->serial->path = g_strdup(def->console->path);
	}
	if (def->vsock && !def->vsock->cid)
		/* 3..2^31: a random pick rarely collides; chd checks the running VMs at start. */
		def->vsock->cid = 3 + random_u32(rnd) % ((1u << 31) - 3);
	return assign_pci_slots(def, ret_error);
}
