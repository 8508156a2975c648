/* SPDX-License-Identifier: Apache-2.0 */
/* chctl edit: the stored definition in the user's editor, then Define; on refusal, say why and
 * offer the same file again so no edit is lost. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bus.h"
#include "domain.h"
#include "i18n.h"
#include "verb-util.h"

typedef struct domain_def DomainDef;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainDef, domain_def_free)

static const char *editor_command(void)
{
	const char *e = getenv("VISUAL");

	if (!e || !*e)
		e = getenv("EDITOR");
	return e && *e ? e : "vi";
}

/* Runs the editor on file, with the terminal; returns 0 or -errno (exit status != 0 is -EIO). */
static int run_editor(const char *file, GError **error)
{
	g_auto(GStrv) argv = NULL;
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();
	g_auto(GStrv) words = NULL;
	int status;

	/* $EDITOR may carry arguments ("code --wait"), as git and virsh allow. */
	if (!g_shell_parse_argv(editor_command(), NULL, &words, error))
		return -EINVAL;
	g_strv_builder_addv(b, (const char **)words);
	g_strv_builder_add(b, file);
	argv = g_strv_builder_end(b);
	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
			  NULL, NULL, &status, error))
		return -ENOENT;
	if (!g_spawn_check_wait_status(status, error))
		return -EIO;
	return 0;
}

/* Asks on the terminal (or whatever stdin is) whether to edit again; EOF means no. */
static bool ask_again(void)
{
	char answer[16];

	fprintf(stderr, _("Edit again? [y/N] "));
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	/* Accept the translated "yes" initial as well as y.
	 * TRANSLATORS: the first letter of "yes" in the answer to "Edit again? [y/N]". */
	return answer[0] == 'y' || answer[0] == 'Y' || g_str_has_prefix(answer, _("y"));
}

/* The checks chd would make (chd/conf), before anything is sent, plus the one only edit needs: the
 * name stays, since a new name would define a second VM. Returns 0, or -EINVAL with *ret_error. A
 * missing schema (chctl run from a build tree without CHD_SCHEMA_DIR) leaves the checks to chd. */
static int check_locally(const char *name, const char *xml, char **ret_error)
{
	g_autoptr(DomainDef) def = NULL;
	g_autofree char *error = NULL;
	int r;

	r = domain_def_parse(xml, strlen(xml), &def, &error);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		*ret_error = g_steal_pointer(&error);
		return r;
	}
	if (g_strcmp0(def->name, name) != 0) {
		*ret_error = g_strdup_printf(
		    _("the name must stay '%s' (edit does not rename; define a copy instead)"), name);
		return -EINVAL;
	}
	return 0;
}

/* Edits tmp until chd accepts it, the user gives up, or nothing changed; returns the exit status. */
static int edit_loop(struct chctl *c, const char *name, const char *tmp, const char *original)
{
	for (;;) {
		g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
		g_autoptr(GError) gerror = NULL;
		g_autofree char *edited = NULL;
		g_autofree char *path = NULL;
		g_autofree char *invalid = NULL;
		int r;

		if (run_editor(tmp, &gerror) < 0) {
			chctl_error(_("cannot edit '%s': editor '%s' failed: %s"), name, editor_command(),
				    gerror->message);
			return CHCTL_EXIT_FAILURE;
		}
		if (!g_file_get_contents(tmp, &edited, NULL, &gerror)) {
			chctl_error(_("cannot read '%s': %s"), tmp, gerror->message);
			return CHCTL_EXIT_FAILURE;
		}
		if (strcmp(edited, original) == 0) {
			printf(_("Definition of '%s' unchanged.\n"), name);
			return CHCTL_EXIT_OK;
		}
		if (check_locally(name, edited, &invalid) < 0) {
			chctl_error(_("the edited definition of '%s' is invalid: %s"), name, invalid);
			r = CHCTL_EXIT_INVALID_DEFINITION;
		} else {
			r = chctl_manager_call(c, "Define", edited, &path, &error);
			if (r >= 0) {
				g_autofree char *message =
				    g_strdup_printf(_("Definition of '%s' updated."), name);

				return chctl_report_done(c, path, name, message);
			}
			r = chctl_failf(&error, r, _("cannot define the edited '%s'"), name);
		}
		/* Only a refused definition is worth another edit; a lost daemon is not. */
		if ((r != CHCTL_EXIT_INVALID_DEFINITION && r != CHCTL_EXIT_VM_EXISTS) || !ask_again())
			return r;
	}
}

int chctl_verb_edit(struct chctl *c, char **args, unsigned n)
{
	g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
	g_autoptr(GError) gerror = NULL;
	g_autofree char *original = NULL;
	g_autofree char *tmp = NULL;
	g_autofree char *safe_name = g_strdup(args[0]);
	g_autofree char *template = NULL;
	const char *name = args[0];
	int fd, r;

	r = chctl_bus(c);
	if (r != CHCTL_EXIT_OK)
		return r;
	r = chctl_get_xml(c, name, true, &original, &error);
	if (r < 0)
		return chctl_failf(&error, r, _("cannot get the definition of '%s'"), name);

	/* The VM's name in the file name tells the user which VM the editor shows. */
	g_strcanon(safe_name, G_CSET_a_2_z G_CSET_A_2_Z G_CSET_DIGITS "-_", '_');
	template = g_strdup_printf("chctl-edit-%s-XXXXXX.xml", safe_name);
	fd = g_file_open_tmp(template, &tmp, &gerror);
	if (fd < 0) {
		chctl_error(_("cannot create a temporary file to edit '%s': %s"), name, gerror->message);
		return CHCTL_EXIT_FAILURE;
	}
	close(fd);
	if (g_file_set_contents(tmp, original, -1, &gerror)) {
		r = edit_loop(c, name, tmp, original);
	} else {
		chctl_error(_("cannot write '%s': %s"), tmp, gerror->message);
		r = CHCTL_EXIT_FAILURE;
	}
	g_unlink(tmp);
	return r;
}
