/* SPDX-License-Identifier: Apache-2.0 */
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "bus-error.h"
#include "log.h"
#include "manager.h"

#define POLKIT_FLAG_ALLOW_USER_INTERACTION 1u

struct authz_query {
	struct manager *manager;
	sd_bus_message *msg;
	authz_continuation cont;
	char *action;
};

static void authz_query_free(void *p)
{
	struct authz_query *q = p;

	sd_bus_message_unref(q->msg);
	g_free(q->action);
	g_free(q);
}

/* Runs the continuation and sends its error, if any, as the reply. */
static int authz_continue(struct authz_query *q)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = q->cont(q->manager, q->msg, &error);
	if (r < 0) {
		if (!sd_bus_error_is_set(&error))
			sd_bus_error_set_errno(&error, r);
		r = sd_bus_reply_method_error(q->msg, &error);
	}
	sd_bus_error_free(&error);
	return r;
}

static int deny(sd_bus_message *msg, const char *action, const char *why, sd_bus_error *error)
{
	return sd_bus_error_setf(error, CHD_ERROR_ACCESS_DENIED,
				 _("%s.%s is not allowed: %s (polkit action %s)"),
				 sd_bus_message_get_interface(msg), sd_bus_message_get_member(msg), why, action);
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct authz_query *q = userdata;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int authorized = 0, challenge = 0;
	int r;

	if (sd_bus_message_is_method_error(reply, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(reply);

		log_warning("chd: polkit check for %s failed: %s", q->action, e->message);
		deny(q->msg, q->action, _("polkit could not be asked"), &error);
		goto reply;
	}
	r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r >= 0)
		r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	if (r < 0) {
		deny(q->msg, q->action, _("polkit sent a malformed answer"), &error);
		goto reply;
	}
	if (authorized) {
		authz_continue(q);
		return 0;
	}
	deny(q->msg, q->action,
	     challenge ? _("authentication is required (call with interactive authorization allowed)")
		       : _("polkit refused"),
	     &error);
reply:
	sd_bus_reply_method_error(q->msg, &error);
	sd_bus_error_free(&error);
	return 0;
}

static int polkit_query(struct manager *m, sd_bus_message *msg, const char *action,
			authz_continuation cont)
{
	sd_bus_message *call = NULL;
	sd_bus_slot *slot = NULL;
	struct authz_query *q;
	int r;

	r = sd_bus_message_new_method_call(m->bus, &call, "org.freedesktop.PolicyKit1",
					   "/org/freedesktop/PolicyKit1/Authority",
					   "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
	if (r < 0)
		return r;
	r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s",
				  sd_bus_message_get_sender(msg), action);
	if (r >= 0)
		r = sd_bus_message_append(call, "a{ss}u", 0,
					  sd_bus_message_get_allow_interactive_authorization(msg)
					      ? POLKIT_FLAG_ALLOW_USER_INTERACTION
					      : 0u);
	if (r >= 0)
		r = sd_bus_message_append(call, "s", "");
	if (r < 0) {
		sd_bus_message_unref(call);
		return r;
	}

	q = g_new0(struct authz_query, 1);
	q->manager = m;
	q->msg = sd_bus_message_ref(msg);
	q->cont = cont;
	q->action = g_strdup(action);
	/* An interactive check waits for a person: give it minutes, not the default 25 s. */
	r = sd_bus_call_async(m->bus, &slot, call, on_polkit_reply, q, 5 * 60 * 1000000ULL);
	sd_bus_message_unref(call);
	if (r < 0) {
		authz_query_free(q);
		return r;
	}
	sd_bus_slot_set_destroy_callback(slot, authz_query_free);
	sd_bus_slot_set_floating(slot, 1);
	sd_bus_slot_unref(slot);
	return 1;
}

int authz_check(struct manager *m, sd_bus_message *msg, const char *action, authz_continuation cont,
		sd_bus_error *error)
{
	sd_bus_creds *creds = NULL;
	uid_t uid;
	int r;

	r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
	if (r >= 0)
		r = sd_bus_creds_get_euid(creds, &uid);
	sd_bus_creds_unref(creds);
	if (r < 0)
		return deny(msg, action, _("the caller's uid is unknown"), error);

	/* root, and the user chd runs as, own every VM anyway. */
	if (uid == 0 || uid == geteuid()) {
		struct authz_query q = {.manager = m, .msg = msg, .cont = cont, .action = (char *)action};

		return authz_continue(&q);
	}

	switch (m->config.authz) {
	case AUTHZ_MODE_POLKIT:
		r = polkit_query(m, msg, action, cont);
		if (r < 0)
			return deny(msg, action, _("polkit could not be asked"), error);
		return 1;
	case AUTHZ_MODE_UID:
		return deny(msg, action, _("only the owner of this chd may change VMs"), error);
	case _AUTHZ_MODE_MAX:
	case _AUTHZ_MODE_INVALID:
		break;
	}
	return deny(msg, action, _("no authorization method"), error);
}
