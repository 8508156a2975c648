/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "exit-code.h"
#include "i18n.h"
#include "string-table.h"

static const char *const chctl_exit_table[_CHCTL_EXIT_MAX] = {
    [CHCTL_EXIT_OK] = "ok",
    [CHCTL_EXIT_FAILURE] = "failure",
    [CHCTL_EXIT_USAGE] = "usage",
    [CHCTL_EXIT_NO_SUCH_VM] = "no-such-vm",
    [CHCTL_EXIT_INVALID_STATE] = "invalid-state",
    [CHCTL_EXIT_BUSY] = "busy",
    [CHCTL_EXIT_PERMISSION_DENIED] = "permission-denied",
    [CHCTL_EXIT_NO_DAEMON] = "no-daemon",
    [CHCTL_EXIT_INVALID_DEFINITION] = "invalid-definition",
    [CHCTL_EXIT_VM_EXISTS] = "vm-exists",
    [CHCTL_EXIT_NOT_SUPPORTED] = "not-supported",
};

DEFINE_STRING_TABLE_LOOKUP(chctl_exit, enum chctl_exit, _CHCTL_EXIT_MAX, _CHCTL_EXIT_INVALID)

#define CHD_ERROR "org.cloudhypervisor.chd1.Error."

static const struct {
	const char *name;
	enum chctl_exit exit;
} error_map[] = {
    {CHD_ERROR "NoSuchVM", CHCTL_EXIT_NO_SUCH_VM},
    {CHD_ERROR "InvalidState", CHCTL_EXIT_INVALID_STATE},
    {CHD_ERROR "Busy", CHCTL_EXIT_BUSY},
    {CHD_ERROR "InvalidDefinition", CHCTL_EXIT_INVALID_DEFINITION},
    {CHD_ERROR "VMExists", CHCTL_EXIT_VM_EXISTS},
    {CHD_ERROR "NotSupported", CHCTL_EXIT_NOT_SUPPORTED},
    {CHD_ERROR "PermissionDenied", CHCTL_EXIT_PERMISSION_DENIED},
    {CHD_ERROR "AccessDenied", CHCTL_EXIT_PERMISSION_DENIED},
    /* The bus daemon's policy, or polkit through chd, said no. */
    {"org.freedesktop.DBus.Error.AccessDenied", CHCTL_EXIT_PERMISSION_DENIED},
    {"org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", CHCTL_EXIT_PERMISSION_DENIED},
    {"org.freedesktop.PolicyKit1.Error.NotAuthorized", CHCTL_EXIT_PERMISSION_DENIED},
    /* Nobody owns org.cloudhypervisor.chd1 and activation did not start chd. */
    {"org.freedesktop.DBus.Error.ServiceUnknown", CHCTL_EXIT_NO_DAEMON},
    {"org.freedesktop.DBus.Error.NameHasNoOwner", CHCTL_EXIT_NO_DAEMON},
    {"org.freedesktop.DBus.Error.NoServer", CHCTL_EXIT_NO_DAEMON},
    /* A VM object that vanished between lookup and call. */
    {"org.freedesktop.DBus.Error.UnknownObject", CHCTL_EXIT_NO_SUCH_VM},
    /* An older chd without the method or property chctl asked for. */
    {"org.freedesktop.DBus.Error.UnknownMethod", CHCTL_EXIT_NOT_SUPPORTED},
    {"org.freedesktop.DBus.Error.UnknownProperty", CHCTL_EXIT_NOT_SUPPORTED},
    {"org.freedesktop.DBus.Error.NotSupported", CHCTL_EXIT_NOT_SUPPORTED},
};

enum chctl_exit chctl_exit_from_error_name(const char *name)
{
	if (!name)
		return CHCTL_EXIT_FAILURE;
	for (size_t i = 0; i < sizeof(error_map) / sizeof(error_map[0]); i++)
		if (strcmp(error_map[i].name, name) == 0)
			return error_map[i].exit;
	return CHCTL_EXIT_FAILURE;
}

enum chctl_exit chctl_exit_from_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return CHCTL_EXIT_OK;
	case EACCES:
	case EPERM:
		return CHCTL_EXIT_PERMISSION_DENIED;
	case ENOENT:
	case ECONNREFUSED:
	case ENOTCONN:
	case ENXIO:
		return CHCTL_EXIT_NO_DAEMON;
	default:
		return CHCTL_EXIT_FAILURE;
	}
}

const char *chctl_exit_description(enum chctl_exit e)
{
	switch (e) {
	case CHCTL_EXIT_OK:
		return _("success");
	case CHCTL_EXIT_FAILURE:
		return _("failure");
	case CHCTL_EXIT_USAGE:
		return _("bad command line");
	case CHCTL_EXIT_NO_SUCH_VM:
		return _("no VM of that name");
	case CHCTL_EXIT_INVALID_STATE:
		return _("the VM's state does not allow the operation");
	case CHCTL_EXIT_BUSY:
		return _("another operation on the VM is in progress");
	case CHCTL_EXIT_PERMISSION_DENIED:
		return _("permission denied");
	case CHCTL_EXIT_NO_DAEMON:
		return _("chd cannot be reached");
	case CHCTL_EXIT_INVALID_DEFINITION:
		return _("the definition is invalid");
	case CHCTL_EXIT_VM_EXISTS:
		return _("a VM of that name or UUID exists");
	case CHCTL_EXIT_NOT_SUPPORTED:
		return _("chd does not support the operation");
	case _CHCTL_EXIT_MAX:
	case _CHCTL_EXIT_INVALID:
		break;
	}
	return NULL;
}

const char *chctl_exit_hint(enum chctl_exit e)
{
	switch (e) {
	case CHCTL_EXIT_NO_SUCH_VM:
		return _("'chctl list --all' shows the defined VMs");
	case CHCTL_EXIT_BUSY:
		return _("wait for the running operation to finish, then try again");
	case CHCTL_EXIT_PERMISSION_DENIED:
		return _("run as root, or use --user for your own VMs");
	case CHCTL_EXIT_NO_DAEMON:
		return _("is chd running? Choose its bus with --system or --user");
	case CHCTL_EXIT_OK:
	case CHCTL_EXIT_FAILURE:
	case CHCTL_EXIT_USAGE:
	case CHCTL_EXIT_INVALID_STATE:
	case CHCTL_EXIT_INVALID_DEFINITION:
	case CHCTL_EXIT_VM_EXISTS:
	case CHCTL_EXIT_NOT_SUPPORTED:
	case _CHCTL_EXIT_MAX:
	case _CHCTL_EXIT_INVALID:
		break;
	}
	return NULL;
}
