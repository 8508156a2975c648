/* SPDX-License-Identifier: Apache-2.0 */
/* RelaxNG validation against schemas/domain.rng: the schema is the contract users read in
 * docs/chd-domain.5, so every definition passes it as well as the C readers. */
#include <errno.h>

#include <libxml/relaxng.h>

#include "conf-internal.h"
#include "domain-parse.h"
#include "domain.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGParserCtxt, xmlRelaxNGFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNG, xmlRelaxNGFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGValidCtxt, xmlRelaxNGFreeValidCtxt)

static void first_error(void *userdata, xmlError *e)
{
	char **msg = userdata;
	g_autofree char *text = NULL;

	if (*msg || !e)
		return;
	text = g_strstrip(g_strdup(e->message ? e->message : ""));
	*msg = g_strdup_printf(_("line %d: %s"), e->line, text);
}

int domain_schema_validate(xmlDoc *doc, char **ret_error)
{
	g_autofree char *path = g_build_filename(domain_schema_dir(), "domain.rng", NULL);
	g_autoptr(xmlRelaxNGParserCtxt) pctxt = NULL;
	g_autoptr(xmlRelaxNG) schema = NULL;
	g_autoptr(xmlRelaxNGValidCtxt) vctxt = NULL;
	g_autofree char *msg = NULL;
	int r;

	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return conf_error(ret_error, -ENOENT, _("schema '%s' is missing (set CHD_SCHEMA_DIR?)"),
				  path);
	pctxt = xmlRelaxNGNewParserCtxt(path);
	if (!pctxt)
		return -ENOMEM;
	xmlRelaxNGSetParserStructuredErrors(pctxt, first_error, &msg);
	schema = xmlRelaxNGParse(pctxt);
	if (!schema)
		return conf_error(ret_error, -EINVAL, _("schema '%s' is broken: %s"), path, msg ? msg : "");
	vctxt = xmlRelaxNGNewValidCtxt(schema);
	if (!vctxt)
		return -ENOMEM;
	xmlRelaxNGSetValidStructuredErrors(vctxt, first_error, &msg);
	r = xmlRelaxNGValidateDoc(vctxt, doc);
	if (r != 0)
		return conf_error(ret_error, -EINVAL, _("%s (the definition does not match %s)"),
				  msg ? msg : _("invalid definition"), path);
	return 0;
}
