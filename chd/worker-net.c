/* SPDX-License-Identifier: Apache-2.0 */
/* Taps for a worker without CAP_NET_ADMIN (chd in user mode). The kernel lets an unprivileged
 * process attach to a tap that exists and that it may use (tun's owner and group, as set by
 * `ip tuntap add ... user U group G`; a tap with neither is open to all), but not create a tap,
 * bring one up, or attach to somebody else's. chd checks each <interface> before the worker
 * starts, so Start fails with the reason and the fix instead of a worker that dies. */
#include <glib/gi18n.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bus-error.h"
#include "conf/domain.h"
#include "manager.h"
#include "string-table.h"
#include "vm.h"
#include "worker.h"

#define SYS_CLASS_NET "/sys/class/net"
#define TUN_DEVICE "/dev/net/tun"

static const char *const tap_access_table[_TAP_ACCESS_MAX] = {
    [TAP_ACCESS_OK] = "ok",
    [TAP_ACCESS_UNNAMED] = "unnamed",
    [TAP_ACCESS_MISSING] = "missing",
    [TAP_ACCESS_NOT_TAP] = "not-tap",
    [TAP_ACCESS_NOT_OWNER] = "not-owner",
    [TAP_ACCESS_MULTI_QUEUE] = "multi-queue",
    [TAP_ACCESS_DOWN] = "down",
    [TAP_ACCESS_NO_TUN] = "no-tun",
};

DEFINE_STRING_TABLE(tap_access, enum tap_access, tap_access_table)

/* A sysfs attribute of the interface as a number (base 0: "0x1002", "-1", "1000"). */
static int read_number(const char *name, const char *attr, gint64 *ret)
{
	g_autofree char *path = g_build_filename(SYS_CLASS_NET, name, attr, NULL);
	g_autofree char *text = NULL;
	char *end;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -ENOENT;
	*ret = g_ascii_strtoll(g_strstrip(text), &end, 0);
	return *end ? -EINVAL : 0;
}

int tap_info_read(const char *name, struct tap_info *ret)
{
	gint64 tun_flags = 0, flags = 0, owner = -1, group = -1;
	g_autofree char *dir = NULL;

	*ret = (struct tap_info){.owner = -1, .group = -1};
	/* A name sysfs would read as a path (".", "..", "a/b") is no interface. */
	if (!*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	dir = g_build_filename(SYS_CLASS_NET, name, NULL);
	ret->exists = g_file_test(dir, G_FILE_TEST_IS_DIR);
	if (!ret->exists)
		return 0;
	if (read_number(name, "flags", &flags) >= 0)
		ret->up = flags & IFF_UP;
	/* Only tun/tap devices have tun_flags, owner and group. */
	if (read_number(name, "tun_flags", &tun_flags) < 0)
		return 0;
	ret->is_tap = tun_flags & IFF_TAP;
	ret->multi_queue = tun_flags & IFF_MULTI_QUEUE;
	(void)read_number(name, "owner", &owner);
	(void)read_number(name, "group", &group);
	ret->owner = owner;
	ret->group = group;
	return 0;
}

enum tap_access tap_access_check(const char *name, const struct tap_info *t, uid_t uid, gid_t gid,
				 const gid_t *groups, size_t n_groups)
{
	bool in_group = t->group < 0 || (gint64)gid == t->group;

	if (!name)
		return TAP_ACCESS_UNNAMED;
	if (!t->exists)
		return TAP_ACCESS_MISSING;
	if (!t->is_tap)
		return TAP_ACCESS_NOT_TAP;
	for (size_t i = 0; !in_group && i < n_groups; i++)
		in_group = (gint64)groups[i] == t->group;
	/* The kernel's tun_not_capable(): owner and group, where set, must both match. */
	if ((t->owner >= 0 && (gint64)uid != t->owner) || !in_group)
		return TAP_ACCESS_NOT_OWNER;
	/* The worker asks for one queue pair (no IFF_MULTI_QUEUE), which such a tap refuses. */
	if (t->multi_queue)
		return TAP_ACCESS_MULTI_QUEUE;
	if (!t->up)
		return TAP_ACCESS_DOWN;
	return TAP_ACCESS_OK;
}

char *tap_access_message(enum tap_access a, const char *name, const struct tap_info *t, uid_t uid)
{
	switch (a) {
	case TAP_ACCESS_OK:
		return NULL;
	case TAP_ACCESS_UNNAMED:
		return g_strdup_printf(
		    _("an <interface> names no tap (<target dev='...'/>), and making one needs "
		      "CAP_NET_ADMIN, which chd in user mode does not have; as root, make a tap for "
		      "this user (ip tuntap add dev tap-vm mode tap user %u && ip link set tap-vm up) "
		      "and name it"),
		    uid);
	case TAP_ACCESS_MISSING:
		return g_strdup_printf(_("tap '%s' does not exist, and making it needs CAP_NET_ADMIN, which "
					 "chd in user mode does not have; as root: ip tuntap add dev %s "
					 "mode tap user %u && ip link set %s up"),
				       name, name, uid, name);
	case TAP_ACCESS_NOT_TAP:
		return g_strdup_printf(_("'%s' is not a tap device (<target dev='...'/> names the host side "
					 "of a tap)"),
				       name);
	case TAP_ACCESS_NOT_OWNER:
		return g_strdup_printf(
		    _("tap '%s' belongs to user %" G_GINT64_FORMAT ", group %" G_GINT64_FORMAT
		      " (-1: any), and using another user's tap needs CAP_NET_ADMIN, which "
		      "chd in user mode does not have; as root: ip tuntap del dev %s mode tap "
		      "&& ip tuntap add dev %s mode tap user %u"),
		    name, t->owner, t->group, name, name, uid);
	case TAP_ACCESS_MULTI_QUEUE:
		return g_strdup_printf(
		    _("tap '%s' is a multi-queue tap, and the VM's interface uses one queue "
		      "pair; make it without multi_queue"),
		    name);
	case TAP_ACCESS_DOWN:
		return g_strdup_printf(
		    _("tap '%s' is down, and bringing it up needs CAP_NET_ADMIN, which chd "
		      "in user mode does not have; as root: ip link set %s up"),
		    name, name);
	case TAP_ACCESS_NO_TUN:
		return g_strdup_printf(_("the worker may not open " TUN_DEVICE " to use tap '%s'; it is "
					 "normally open to all (mode 0666, udev's rule for 'tun')"),
				       name);
	case _TAP_ACCESS_MAX:
	case _TAP_ACCESS_INVALID:
		break;
	}
	return g_strdup(_("unknown tap problem"));
}

static bool have_cap_net_admin(void)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &header, data) < 0)
		return false;
	return data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN);
}

/* What chd cannot do in user mode is NotSupported (not AccessDenied: clients read that as a
 * refusal by polkit or the bus); a tap that cannot serve as one is an InvalidDefinition. */
static const char *tap_access_error(enum tap_access a)
{
	switch (a) {
	case TAP_ACCESS_UNNAMED:
	case TAP_ACCESS_MISSING:
	case TAP_ACCESS_NOT_OWNER:
	case TAP_ACCESS_DOWN:
	case TAP_ACCESS_NO_TUN:
		return CHD_ERROR_NOT_SUPPORTED;
	case TAP_ACCESS_OK:
	case TAP_ACCESS_NOT_TAP:
	case TAP_ACCESS_MULTI_QUEUE:
	case _TAP_ACCESS_MAX:
	case _TAP_ACCESS_INVALID:
		break;
	}
	return CHD_ERROR_INVALID_DEFINITION;
}

int worker_check_taps(struct vm *vm, const struct domain_def *def, sd_bus_error *error)
{
	g_autofree gid_t *groups = NULL;
	int n_groups;

	/* System mode (and a user chd with CAP_NET_ADMIN): the worker does what it likes. */
	if (vm->manager->config.mode != MANAGER_MODE_USER || def->n_interfaces == 0 || have_cap_net_admin())
		return 0;
	n_groups = getgroups(0, NULL);
	groups = g_new0(gid_t, MAX(n_groups, 1));
	n_groups = n_groups > 0 ? getgroups(n_groups, groups) : 0;
	if (n_groups < 0)
		n_groups = 0;
	for (size_t i = 0; i < def->n_interfaces; i++) {
		const char *name = def->interfaces[i].target_dev;
		g_autofree char *why = NULL;
		struct tap_info t = {};
		enum tap_access a;

		if (name)
			(void)tap_info_read(name, &t);
		a = tap_access_check(name, &t, geteuid(), getegid(), groups, (size_t)n_groups);
		/* The worker opens the tun device as chd's user (or the user manager's: the same). */
		if (a == TAP_ACCESS_OK && access(TUN_DEVICE, R_OK | W_OK) < 0)
			a = TAP_ACCESS_NO_TUN;
		if (a == TAP_ACCESS_OK)
			continue;
		why = tap_access_message(a, name, &t, geteuid());
		return sd_bus_error_setf(error, tap_access_error(a), _("VM '%s' cannot start: %s"), vm->name,
					 why);
	}
	return 0;
}
