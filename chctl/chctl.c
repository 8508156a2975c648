/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line parsing: global options, then the verb and its own options (global options are
 * accepted after the verb too, so "chctl list --json" and "chctl --json list" mean the same). */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "chctl.h"
#include "i18n.h"

struct global_options {
	gboolean system;
	gboolean user;
	gboolean json;
	gboolean version;
	char *connect;
};

static void global_entries(struct global_options *o, GOptionEntry entries[6])
{
	GOptionEntry e[6] = {
	    {"system", 0, 0, G_OPTION_ARG_NONE, &o->system, N_("Talk to the system chd (default for root)"),
	     NULL},
	    {"user", 0, 0, G_OPTION_ARG_NONE, &o->user,
	     N_("Talk to your own chd on the session bus (default for other users)"), NULL},
	    {"connect", 'c', 0, G_OPTION_ARG_STRING, &o->connect,
	     N_("Talk to chd on the bus at ADDRESS (also $CHCTL_BUS_ADDRESS)"), N_("ADDRESS")},
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &o->json, N_("Print JSON instead of tables and text"), NULL},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &o->version, N_("Print the version and exit"), NULL},
	    {NULL},
	};

	memcpy(entries, e, sizeof(e));
}

static const char *group_title(enum chctl_verb_group g)
{
	switch (g) {
	case CHCTL_GROUP_LIFECYCLE:
		return _("Lifecycle:");
	case CHCTL_GROUP_DEFINITIONS:
		return _("Definitions:");
	case CHCTL_GROUP_INFO:
		return _("Information:");
	case CHCTL_GROUP_CONSOLE:
		return _("Console:");
	case CHCTL_GROUP_EVENTS:
		return _("Events:");
	case _CHCTL_GROUP_MAX:
	case _CHCTL_GROUP_INVALID:
		break;
	}
	return "";
}

struct verb_list {
	GString *out;
	int group; /* of the last verb listed, -1 before the first */
};

static bool append_verb_line(const struct chctl_verb *v, void *userdata)
{
	struct verb_list *l = userdata;
	g_autofree char *usage = g_strjoin(" ", v->name, v->args, NULL);

	if ((int)v->group != l->group)
		g_string_append_printf(l->out, "%s%s\n", l->group < 0 ? "" : "\n", group_title(v->group));
	l->group = (int)v->group;
	g_string_append_printf(l->out, "  %-28s %s\n", usage, _(v->summary));
	return true;
}

/* The verbs by group and the exit statuses, for "chctl --help". */
static char *verbs_description(void)
{
	struct verb_list l = {.out = g_string_new(NULL), .group = -1};

	chctl_verb_foreach(append_verb_line, &l);
	g_string_append_printf(l.out, "\n%s\n\n%s\n",
			       _("'chctl help VERB' or 'chctl VERB --help' describes one verb."),
			       _("Exit status:"));
	for (int e = 0; e < _CHCTL_EXIT_MAX; e++)
		g_string_append_printf(l.out, "  %2d  %s\n", e, chctl_exit_description((enum chctl_exit)e));
	return g_string_free(l.out, FALSE);
}

static GOptionContext *main_context(struct global_options *o, GOptionEntry entries[6])
{
	GOptionContext *ctx = g_option_context_new(_("VERB [ARGUMENT…]"));
	g_autofree char *description = verbs_description();

	g_option_context_set_summary(ctx, _("Manage chd's virtual machines."));
	g_option_context_set_description(ctx, description);
	global_entries(o, entries);
	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	/* Stop at the verb: what follows it belongs to the verb's own parser. */
	g_option_context_set_strict_posix(ctx, TRUE);
	return ctx;
}

static GOptionContext *verb_context(const struct chctl_verb *v, struct global_options *o,
				    GOptionEntry entries[6])
{
	g_autofree char *usage = g_strjoin(" ", v->name, v->args, NULL);
	GOptionContext *ctx = g_option_context_new(usage);

	g_option_context_set_summary(ctx, _(v->summary));
	if (v->description)
		g_option_context_set_description(ctx, _(v->description));
	if (v->options)
		g_option_context_add_main_entries(ctx, v->options, GETTEXT_PACKAGE);
	global_entries(o, entries);
	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	return ctx;
}

static int usage_error(const char *verb, const char *message)
{
	fprintf(stderr, "chctl: %s\n", message);
	if (verb)
		fprintf(stderr, _("Try 'chctl %s --help'.\n"), verb);
	else
		fprintf(stderr, _("Try 'chctl --help'.\n"));
	return CHCTL_EXIT_USAGE;
}

static int print_help(const char *verb_name, struct global_options *o)
{
	GOptionEntry entries[6];
	g_autoptr(GOptionContext) ctx = NULL;
	g_autofree char *text = NULL;

	if (verb_name) {
		const struct chctl_verb *v = chctl_verb_find(verb_name);
		g_autofree char *message = NULL;

		if (!v) {
			message = g_strdup_printf(_("unknown verb '%s'"), verb_name);
			return usage_error(NULL, message);
		}
		ctx = verb_context(v, o, entries);
	} else {
		ctx = main_context(o, entries);
	}
	text = g_option_context_get_help(ctx, TRUE, NULL);
	fputs(text, stdout);
	return CHCTL_EXIT_OK;
}

/* Fills the context from the global options; returns CHCTL_EXIT_OK or CHCTL_EXIT_USAGE. */
static int apply_global_options(struct chctl *c, const struct global_options *o, const char *verb)
{
	const char *env = getenv(CHCTL_ADDRESS_ENV);

	if (o->system + o->user + !!o->connect > 1)
		return usage_error(verb, _("--system, --user and --connect exclude each other"));
	c->json = o->json;
	if (o->connect) {
		c->bus_kind = CHCTL_BUS_ADDRESS;
		c->address = g_strdup(o->connect);
	} else if (o->system) {
		c->bus_kind = CHCTL_BUS_SYSTEM;
	} else if (o->user) {
		c->bus_kind = CHCTL_BUS_USER;
	} else if (env && *env) {
		c->bus_kind = CHCTL_BUS_ADDRESS;
		c->address = g_strdup(env);
	} else {
		c->bus_kind = geteuid() == 0 ? CHCTL_BUS_SYSTEM : CHCTL_BUS_USER;
	}
	return CHCTL_EXIT_OK;
}

static void setup_locale(void)
{
	const char *dir = getenv("CHCTL_LOCALEDIR"); /* the build tree's catalogues, for tests */

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, dir && *dir ? dir : LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
}

void chctl_done(struct chctl *c)
{
	c->bus = sd_bus_flush_close_unref(c->bus);
	g_clear_pointer(&c->address, g_free);
}

int chctl_main(int argc, char **argv)
{
	struct global_options o = {0};
	GOptionEntry entries[6];
	g_autoptr(GOptionContext) ctx = NULL;
	g_autoptr(GOptionContext) vctx = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) args = g_strdupv(argv);
	g_auto(GStrv) vargs = NULL;
	struct chctl c = {0};
	const struct chctl_verb *v;
	unsigned n, nv;
	int r;

	setup_locale();
	ctx = main_context(&o, entries);
	if (!g_option_context_parse_strv(ctx, &args, &error))
		return usage_error(NULL, error->message);
	n = g_strv_length(args);
	if (o.version) {
		printf("chctl %s\n", PACKAGE_VERSION);
		return CHCTL_EXIT_OK;
	}
	if (n < 2)
		return usage_error(NULL, _("no verb given"));
	if (strcmp(args[1], "help") == 0) {
		if (n > 3)
			return usage_error(NULL, _("'help' takes at most one verb"));
		return print_help(n == 3 ? args[2] : NULL, &o);
	}
	v = chctl_verb_find(args[1]);
	if (!v) {
		const char *planned = chctl_verb_planned(args[1]);
		g_autofree char *message = NULL;

		if (planned) {
			fprintf(stderr, _("chctl: '%s' is not supported: %s\n"), args[1], planned);
			return CHCTL_EXIT_NOT_SUPPORTED;
		}
		message = g_strdup_printf(_("unknown verb '%s'"), args[1]);
		return usage_error(NULL, message);
	}

	vctx = verb_context(v, &o, entries);
	vargs = g_strdupv(args + 1);
	if (!g_option_context_parse_strv(vctx, &vargs, &error))
		return usage_error(v->name, error->message);
	nv = g_strv_length(vargs) - 1; /* vargs[0] is the verb */
	if (nv < v->min_args || nv > v->max_args) {
		g_autofree char *message = NULL;

		if (v->max_args == 0)
			message = g_strdup_printf(_("'%s' takes no arguments"), v->name);
		else
			message = g_strdup_printf(_("'%s' expects %s"), v->name, v->args);
		return usage_error(v->name, message);
	}
	r = apply_global_options(&c, &o, v->name);
	if (r == CHCTL_EXIT_OK)
		r = v->run(&c, vargs + 1, nv);
	chctl_done(&c);
	g_free(o.connect);
	return r;
}
