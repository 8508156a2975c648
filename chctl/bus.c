/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "bus.h"
#include "i18n.h"

int chctl_bus_connect(struct chctl *c)
{
	g_autoptr(sd_bus) bus = NULL;
	int r;

	if (c->bus)
		return 0;
	switch (c->bus_kind) {
	case CHCTL_BUS_SYSTEM:
		r = sd_bus_open_system(&bus);
		break;
	case CHCTL_BUS_USER:
		r = sd_bus_open_user(&bus);
		break;
	case CHCTL_BUS_ADDRESS:
		r = sd_bus_new(&bus);
		if (r < 0)
			return r;
		r = sd_bus_set_address(bus, c->address);
		if (r < 0)
			return r;
		r = sd_bus_set_bus_client(bus, true);
		if (r < 0)
			return r;
		r = sd_bus_start(bus);
		break;
	case _CHCTL_BUS_KIND_MAX:
	case _CHCTL_BUS_KIND_INVALID:
	default:
		return -EINVAL;
	}
	if (r < 0)
		return r;
	/* polkit may ask the person at the terminal for a password, never a script. */
	r = sd_bus_set_allow_interactive_authorization(bus, isatty(STDIN_FILENO));
	if (r < 0)
		return r;
	c->bus = g_steal_pointer(&bus);
	return 0;
}

int chctl_bus(struct chctl *c)
{
	int r = chctl_bus_connect(c);

	if (r >= 0)
		return CHCTL_EXIT_OK;
	switch (c->bus_kind) {
	case CHCTL_BUS_SYSTEM:
		return chctl_failf(NULL, r, _("cannot connect to the system bus"));
	case CHCTL_BUS_USER:
		return chctl_failf(NULL, r, _("cannot connect to the user bus"));
	case CHCTL_BUS_ADDRESS:
	case _CHCTL_BUS_KIND_MAX:
	case _CHCTL_BUS_KIND_INVALID:
	default:
		return chctl_failf(NULL, r, _("cannot connect to the bus at '%s'"), c->address);
	}
}

int chctl_manager_call(struct chctl *c, const char *method, const char *arg, char **ret_path,
		       sd_bus_error *error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	const char *path;
	int r;

	r = chctl_bus_connect(c);
	if (r < 0)
		return sd_bus_error_set_errno(error, r);
	r = sd_bus_call_method(c->bus, CHD_BUS_NAME, CHD_MANAGER_PATH, CHD_MANAGER_INTERFACE, method, error,
			       &reply, "s", arg);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return sd_bus_error_set_errno(error, r);
	*ret_path = g_strdup(path);
	return 0;
}

int chctl_vm_path(struct chctl *c, const char *name, char **ret_path, sd_bus_error *error)
{
	return chctl_manager_call(c, "LookupByName", name, ret_path, error);
}

int chctl_call_vm(struct chctl *c, const char *name, const char *method, sd_bus_error *error,
		  sd_bus_message **ret_reply, char **ret_path, const char *types, ...)
{
	g_autoptr(sd_bus_message) m = NULL;
	g_autofree char *path = NULL;
	va_list ap;
	int r;

	r = chctl_vm_path(c, name, &path, error);
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(c->bus, &m, CHD_BUS_NAME, path, CHD_VM_INTERFACE, method);
	if (r < 0)
		return sd_bus_error_set_errno(error, r);
	va_start(ap, types);
	r = types ? sd_bus_message_appendv(m, types, ap) : 0;
	va_end(ap);
	if (r < 0)
		return sd_bus_error_set_errno(error, r);
	r = sd_bus_call(c->bus, m, 0, error, ret_reply);
	if (r < 0)
		return r;
	if (ret_path)
		*ret_path = g_steal_pointer(&path);
	return 0;
}

static void print_error(const char *what, const char *cause, const char *hint)
{
	if (cause)
		fprintf(stderr, "chctl: %s: %s\n", what, cause);
	else
		fprintf(stderr, "chctl: %s\n", what);
	if (hint)
		fprintf(stderr, "chctl: %s\n", hint);
}

int chctl_fail(const sd_bus_error *error, int r, const char *what)
{
	enum chctl_exit e;
	const char *cause;

	if (sd_bus_error_is_set(error)) {
		e = chctl_exit_from_error_name(error->name);
		cause = error->message ? error->message : error->name;
	} else {
		e = chctl_exit_from_errno(r);
		cause = g_strerror(r < 0 ? -r : r);
	}
	if (e == CHCTL_EXIT_OK)
		e = CHCTL_EXIT_FAILURE;
	print_error(what, cause, chctl_exit_hint(e));
	return e;
}

int chctl_failf(const sd_bus_error *error, int r, const char *format, ...)
{
	g_autofree char *what = NULL;
	va_list ap;

	va_start(ap, format);
	what = g_strdup_vprintf(format, ap);
	va_end(ap);
	return chctl_fail(error, r, what);
}

void chctl_error(const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	print_error(message, NULL, NULL);
}
