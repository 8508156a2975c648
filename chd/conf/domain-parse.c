/* SPDX-License-Identifier: Apache-2.0 */
/* Reads domain XML into struct domain_def. Every element and attribute is looked up in a table of
 * what we support, so anything else is refused with its name and line instead of being dropped;
 * the RelaxNG schema (domain-schema.c) then checks values, and the device files check meaning. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf-internal.h"
#include "domain-parse.h"
#include "domain.h"

/* Bigger than any real definition, small enough that a client cannot make chd chew on gigabytes. */
#define DOMAIN_XML_MAX (1u << 20)

int parse_fail(struct parser *p, xmlNode *node, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	if (p->error) /* keep the first error: later ones are usually its consequences */
		return -EINVAL;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	p->error = g_strdup_printf(_("line %ld: %s"), node ? xmlGetLineNo(node) : 0L, msg);
	return -EINVAL;
}

static bool name_in(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (streq(name, *list))
			return true;
	return false;
}

int parse_check_node(struct parser *p, xmlNode *node, const char *const *attrs, const char *const *children)
{
	for (xmlAttr *a = node->properties; a; a = a->next) {
		if (a->ns) /* namespaced attributes (xmlns:foo, foo:bar) are not ours either */
			return parse_fail(p, node, _("attribute '%s:%s' of element '%s' is not supported"),
					  (const char *)a->ns->prefix, (const char *)a->name,
					  (const char *)node->name);
		if (!name_in((const char *)a->name, attrs))
			return parse_fail(p, node, _("attribute '%s' of element '%s' is not supported"),
					  (const char *)a->name, (const char *)node->name);
	}
	for (xmlNode *c = node->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!name_in((const char *)c->name, children))
			return parse_fail(p, c, _("element '%s' is not supported"), (const char *)c->name);
	}
	return 0;
}

/* The element's text, trimmed; an empty string when it has none. */
char *parse_text(xmlNode *node)
{
	g_autofree char *raw = (char *)xmlNodeGetContent(node);

	return g_strstrip(g_strdup(raw ? raw : ""));
}

char *parse_attr(xmlNode *node, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	char *r;

	if (!v)
		return NULL;
	r = g_strdup((const char *)v);
	xmlFree(v);
	return r;
}

int parse_attr_required(struct parser *p, xmlNode *node, const char *name, char **ret)
{
	char *v = parse_attr(node, name);

	if (!v)
		return parse_fail(p, node, _("element '%s' needs the attribute '%s'"),
				  (const char *)node->name, name);
	*ret = v;
	return 0;
}

int parse_fail_attr(struct parser *p, xmlNode *node, const char *name, const char *value)
{
	if (!value)
		return parse_fail(p, node, _("element '%s' needs the attribute '%s'"),
				  (const char *)node->name, name);
	return parse_fail(p, node, _("%s='%s' of element '%s' is not supported"), name, value,
			  (const char *)node->name);
}

/* Only the value given, or nothing: attributes libvirt has and we accept with one meaning. */
int parse_fixed_attr(struct parser *p, xmlNode *node, const char *name, const char *value)
{
	g_autofree char *v = parse_attr(node, name);

	if (v && !streq(v, value))
		return parse_fail(p, node, _("%s='%s' of element '%s' is not supported (only '%s')"), name,
				  v, (const char *)node->name, value);
	return 0;
}

int parse_yes_no(struct parser *p, xmlNode *node, const char *name, bool def, bool *ret)
{
	g_autofree char *v = parse_attr(node, name);

	if (!v)
		*ret = def;
	else if (streq(v, "yes"))
		*ret = true;
	else if (streq(v, "no"))
		*ret = false;
	else
		return parse_fail(p, node, _("%s='%s' of element '%s' must be 'yes' or 'no'"), name, v,
				  (const char *)node->name);
	return 0;
}

/* An absolute path from an attribute or (name NULL) the text, for elements that need one. */
int parse_path(struct parser *p, xmlNode *node, const char *name, char **ret)
{
	g_autofree char *v = name ? parse_attr(node, name) : parse_text(node);

	if (!v || !*v) {
		if (name)
			return parse_fail(p, node, _("element '%s' needs the attribute '%s'"),
					  (const char *)node->name, name);
		return parse_fail(p, node, _("element '%s' is empty; it needs a path"),
				  (const char *)node->name);
	}
	if (!conf_path_is_absolute(v))
		return parse_fail(p, node, _("path '%s' in element '%s' is not absolute"), v,
				  (const char *)node->name);
	*ret = TAKE_PTR(v);
	return 0;
}

/* Refuses a second <name> or <memory>: libxml2 would let the last one win silently. */
static int check_once(struct parser *p, xmlNode *node, xmlNode **seen)
{
	if (*seen)
		return parse_fail(p, node, _("element '%s' appears more than once (first on line %ld)"),
				  (const char *)node->name, xmlGetLineNo(*seen));
	*seen = node;
	return 0;
}

static int parse_memory(struct parser *p, xmlNode *node, uint64_t *ret)
{
	static const char *const attrs[] = {"unit", "slots", NULL};
	g_autofree char *unit = parse_attr(node, "unit");
	g_autofree char *text = parse_text(node);
	int r;

	r = parse_check_node(p, node, attrs, NULL);
	if (r < 0)
		return r;
	r = conf_scale_to_kib(text, unit, ret);
	if (r == -ERANGE)
		return parse_fail(p, node, _("element '%s': %s %s is too large"), (const char *)node->name,
				  text, unit ? unit : "KiB");
	if (r < 0 && unit && conf_scale_to_kib("1", unit, &(uint64_t){0}) < 0)
		return parse_fail(p, node,
				  _("element '%s': unit '%s' is not known (use KiB, MiB, GiB, ...)"),
				  (const char *)node->name, unit);
	if (r < 0)
		return parse_fail(p, node, _("element '%s': '%s' is not a size"), (const char *)node->name,
				  text);
	return 0;
}

static int parse_vcpu(struct parser *p, xmlNode *node, struct domain_def *def)
{
	static const char *const attrs[] = {"placement", "current", NULL};
	g_autofree char *text = parse_text(node);
	g_autofree char *current = parse_attr(node, "current");
	uint64_t v;
	int r;

	r = parse_check_node(p, node, attrs, NULL);
	if (r >= 0)
		r = parse_fixed_attr(p, node, "placement", "static");
	if (r < 0)
		return r;
	if (conf_parse_uint(text, DOMAIN_VCPUS_MAX, &v) < 0 || v == 0)
		return parse_fail(p, node, _("element 'vcpu': '%s' is not a vCPU count from 1 to %u"), text,
				  DOMAIN_VCPUS_MAX);
	def->vcpus = (unsigned)v;
	if (current) {
		if (conf_parse_uint(current, def->vcpus, &v) < 0 || v == 0)
			return parse_fail(p, node,
					  _("element 'vcpu': current='%s' is not a count from 1 to %u"),
					  current, def->vcpus);
		def->vcpus_current = (unsigned)v;
	}
	return 0;
}

static int parse_os(struct parser *p, xmlNode *node, struct domain_def *def)
{
	static const char *const children[] = {"type", "kernel", "initrd", "cmdline", "loader", NULL};
	static const char *const type_attrs[] = {"arch", NULL};
	xmlNode *type = NULL, *kernel = NULL, *initrd = NULL, *cmdline = NULL, *loader = NULL;
	int r;

	r = parse_check_node(p, node, NULL, children);
	if (r < 0)
		return r;
	for (xmlNode *c = node->children; c; c = c->next) {
		const char *n = (const char *)c->name;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (streq(n, "type"))
			r = check_once(p, c, &type);
		else if (streq(n, "kernel"))
			r = check_once(p, c, &kernel);
		else if (streq(n, "initrd"))
			r = check_once(p, c, &initrd);
		else if (streq(n, "cmdline"))
			r = check_once(p, c, &cmdline);
		else
			r = check_once(p, c, &loader);
		if (r < 0)
			return r;
	}
	if (!type)
		return parse_fail(p, node, _("element 'os' needs <type>hvm</type>"));
	r = parse_check_node(p, type, type_attrs, NULL);
	if (r >= 0)
		r = parse_fixed_attr(p, type, "arch", "x86_64");
	if (r < 0)
		return r;
	{
		g_autofree char *t = parse_text(type);
		if (!streq(t, "hvm"))
			return parse_fail(p, type, _("OS type '%s' is not supported (only 'hvm')"), t);
	}
	xmlNode *const leaves[] = {kernel, initrd, cmdline, loader};
	for (size_t i = 0; i < G_N_ELEMENTS(leaves); i++) {
		r = leaves[i] ? parse_check_node(p, leaves[i], NULL, NULL) : 0;
		if (r < 0)
			return r;
	}
	if (kernel && (r = parse_path(p, kernel, NULL, &def->os_kernel)) < 0)
		return r;
	if (initrd && (r = parse_path(p, initrd, NULL, &def->os_initrd)) < 0)
		return r;
	if (loader && (r = parse_path(p, loader, NULL, &def->os_loader)) < 0)
		return r;
	if (cmdline)
		def->os_cmdline = parse_text(cmdline);
	if (!kernel && !loader)
		return parse_fail(p, node,
				  _("element 'os' needs a <kernel> (or a <loader> for firmware boot)"));
	if (kernel && loader)
		return parse_fail(p, loader,
				  _("element 'os' has both <kernel> and <loader>; vmm-worker boots one"));
	if (!kernel && (initrd || cmdline))
		return parse_fail(p, initrd ? initrd : cmdline, _("element '%s' needs a <kernel>"),
				  initrd ? "initrd" : "cmdline");
	return 0;
}

static int parse_features(struct parser *p, xmlNode *node, struct domain_def *def)
{
	static const char *const children[] = {"acpi", "apic", NULL};
	int r;

	r = parse_check_node(p, node, NULL, children);
	if (r < 0)
		return r;
	for (xmlNode *c = node->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		/* <apic/> changes nothing (every vCPU has a local APIC) but is kept as written. */
		r = parse_check_node(p, c, NULL, NULL);
		if (r < 0)
			return r;
		if (streq((const char *)c->name, "acpi"))
			def->acpi = true;
		else
			def->apic = true;
	}
	return 0;
}

static int parse_lifecycle(struct parser *p, xmlNode *node, enum domain_lifecycle_action *ret)
{
	g_autofree char *t = parse_text(node);
	int r;

	r = parse_check_node(p, node, NULL, NULL);
	if (r < 0)
		return r;
	r = domain_lifecycle_action_from_string(t);
	if (r < 0)
		return parse_fail(p, node,
				  _("element '%s': action '%s' is not supported (use destroy or restart)"),
				  (const char *)node->name, t);
	*ret = r;
	return 0;
}

/* Every remaining semantic check that spans elements. */
static int check_def(struct parser *p, struct domain_def *def, xmlNode *memory, xmlNode *current,
		     xmlNode *max)
{
	if (def->memory_kib < DOMAIN_MEMORY_MIN_KIB)
		return parse_fail(p, memory,
				  _("element 'memory': %" PRIu64 " KiB is below the minimum of %llu KiB"),
				  def->memory_kib, DOMAIN_MEMORY_MIN_KIB);
	if (def->memory_kib % 4)
		return parse_fail(p, memory,
				  _("element 'memory': %" PRIu64 " KiB is not a multiple of 4 KiB"),
				  def->memory_kib);
	if (current && def->current_memory_kib > def->memory_kib)
		return parse_fail(p, current, _("element 'currentMemory' is larger than 'memory'"));
	if (current && def->current_memory_kib % 4)
		return parse_fail(p, current, _("element 'currentMemory' is not a multiple of 4 KiB"));
	if (current && def->current_memory_kib < def->memory_kib &&
	    (!def->memballoon || def->memballoon->model != DOMAIN_DEVICE_MODEL_VIRTIO))
		return parse_fail(
		    p, current,
		    _("element 'currentMemory' below 'memory' needs <memballoon model='virtio'/>"));
	if (max && def->max_memory_kib < def->memory_kib)
		return parse_fail(p, max, _("element 'maxMemory' is smaller than 'memory'"));
	if (max && def->max_memory_kib % 4)
		return parse_fail(p, max, _("element 'maxMemory' is not a multiple of 4 KiB"));
	return 0;
}

static int parse_root(struct parser *p, xmlNode *root, struct domain_def *def)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const children[] = {"name",	   "uuid",	    "title",	   "description",
					       "memory",   "currentMemory", "maxMemory",   "vcpu",
					       "os",	   "features",	    "on_poweroff", "on_reboot",
					       "on_crash", "devices",	    NULL};
	xmlNode *seen[G_N_ELEMENTS(children)] = {};
	int r;

	if (!streq((const char *)root->name, "domain") || root->ns)
		return parse_fail(p, root, _("the root element is '%s', not 'domain'"),
				  (const char *)root->name);
	r = parse_check_node(p, root, attrs, children);
	if (r < 0)
		return r;
	{
		g_autofree char *type = parse_attr(root, "type");
		if (!type || !streq(type, "kvm"))
			return parse_fail(p, root,
					  _("domain type '%s' is not supported (use <domain type='kvm'>)"),
					  type ? type : "");
	}
	for (xmlNode *c = root->children; c; c = c->next) {
		size_t i;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (i = 0; !streq(children[i], (const char *)c->name); i++)
			;
		r = check_once(p, c, &seen[i]);
		if (r < 0)
			return r;
	}
	def->on_poweroff = DOMAIN_LIFECYCLE_ACTION_DESTROY;
	def->on_reboot = DOMAIN_LIFECYCLE_ACTION_RESTART;
	def->on_crash = DOMAIN_LIFECYCLE_ACTION_DESTROY;

	for (xmlNode *c = root->children; c; c = c->next) {
		const char *n = (const char *)c->name;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (streq(n, "name") || streq(n, "uuid") || streq(n, "title") || streq(n, "description")) {
			r = parse_check_node(p, c, NULL, NULL);
			if (r < 0)
				return r;
		}
		if (streq(n, "name")) {
			g_autofree char *err = NULL;
			def->name = parse_text(c);
			if (domain_name_validate(def->name, &err) < 0)
				return parse_fail(p, c, "%s", err);
		} else if (streq(n, "uuid")) {
			g_autofree char *t = parse_text(c);
			if (domain_uuid_parse(t, def->uuid) < 0)
				return parse_fail(p, c, _("'%s' is not a UUID"), t);
			def->uuid_set = true;
		} else if (streq(n, "title")) {
			def->title = parse_text(c);
			if (strchr(def->title, '\n'))
				return parse_fail(p, c, _("element 'title' must be a single line"));
		} else if (streq(n, "description")) {
			g_autofree char *raw = (char *)xmlNodeGetContent(c);
			def->description = g_strdup(raw ? raw : "");
		} else if (streq(n, "memory"))
			r = parse_memory(p, c, &def->memory_kib);
		else if (streq(n, "currentMemory"))
			r = parse_memory(p, c, &def->current_memory_kib);
		else if (streq(n, "maxMemory")) {
			g_autofree char *slots = NULL;
			uint64_t v;
			r = parse_memory(p, c, &def->max_memory_kib);
			if (r >= 0)
				r = parse_attr_required(p, c, "slots", &slots);
			if (r >= 0 && (conf_parse_uint(slots, 255, &v) < 0 || v == 0))
				r = parse_fail(
				    p, c, _("element 'maxMemory': slots='%s' is not a count from 1 to 255"),
				    slots);
			if (r >= 0)
				def->max_memory_slots = (unsigned)v;
		} else if (streq(n, "vcpu"))
			r = parse_vcpu(p, c, def);
		else if (streq(n, "os"))
			r = parse_os(p, c, def);
		else if (streq(n, "features"))
			r = parse_features(p, c, def);
		else if (streq(n, "on_poweroff"))
			r = parse_lifecycle(p, c, &def->on_poweroff);
		else if (streq(n, "on_reboot"))
			r = parse_lifecycle(p, c, &def->on_reboot);
		else if (streq(n, "on_crash"))
			r = parse_lifecycle(p, c, &def->on_crash);
		else if (streq(n, "devices"))
			r = parse_devices(p, c, def);
		if (r < 0)
			return r;
	}
	if (!seen[0])
		return parse_fail(p, root, _("element 'domain' needs a <name>"));
	if (!seen[4])
		return parse_fail(p, root, _("element 'domain' needs a <memory>"));
	if (!seen[8])
		return parse_fail(p, root, _("element 'domain' needs an <os> with a <kernel>"));
	if (!seen[7])
		def->vcpus = 1;
	return check_def(p, def, seen[4], seen[5], seen[6]);
}

/* libxml2 reports through this while we parse and validate; the first error is the one to show. */
static void capture_error(void *userdata, xmlError *e)
{
	struct parser *p = userdata;
	g_autofree char *text = NULL;

	if (p->error || !e)
		return;
	text = g_strstrip(g_strdup(e->message ? e->message : ""));
	p->error = g_strdup_printf(_("line %d: %s"), e->line, text);
}

/* The definition a well-formed document holds: our checks, then the schema. */
static int def_from_doc(xmlDoc *doc, struct domain_def **ret, char **ret_error)
{
	_cleanup_(domain_def_freep) struct domain_def *def = g_new0(struct domain_def, 1);
	struct parser p = {};
	int r;

	r = parse_root(&p, xmlDocGetRootElement(doc), def);
	if (r >= 0)
		r = domain_schema_validate(doc, &p.error);
	if (r < 0) {
		if (ret_error)
			*ret_error = TAKE_PTR(p.error);
		g_free(p.error);
		return r;
	}
	*ret = TAKE_PTR(def);
	return 0;
}

static int domain_def_parse_doc(const char *xml, size_t len, struct domain_def **ret, char **ret_error)
{
	g_autoptr(xmlParserCtxt) ctxt = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	struct parser p = {};
	int r;

	if (len > DOMAIN_XML_MAX)
		return conf_error(ret_error, -EINVAL, _("the definition is larger than %u bytes"),
				  DOMAIN_XML_MAX);
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return -ENOMEM;
	xmlSetStructuredErrorFunc(&p, capture_error);
	/* No network, no entity expansion (billion laughs), no DTD loading; big line numbers. */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOWARNING);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!doc || !ctxt->wellFormed) {
		if (!p.error)
			p.error = g_strdup(_("the definition is not well-formed XML"));
		r = conf_error(ret_error, -EINVAL, _("malformed XML: %s"), p.error);
		g_free(p.error);
		return r;
	}
	if (doc->intSubset || doc->extSubset) {
		g_free(p.error);
		return conf_error(ret_error, -EINVAL, _("a definition must not carry a DOCTYPE"));
	}
	g_clear_pointer(&p.error, g_free);
	return def_from_doc(doc, ret, ret_error);
}

int domain_def_parse(const char *xml, size_t len, struct domain_def **ret, char **ret_error)
{
	if (!xml)
		return conf_error(ret_error, -EINVAL, _("no definition given"));
	return domain_def_parse_doc(xml, len, ret, ret_error);
}

int domain_def_parse_file(const char *path, struct domain_def **ret, char **ret_error)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) gerr = NULL;
	g_autofree char *msg = NULL;
	gsize len;
	int r;

	if (!g_file_get_contents(path, &data, &len, &gerr))
		return conf_error(ret_error,
				  gerr->domain == G_FILE_ERROR && gerr->code == G_FILE_ERROR_NOENT ? -ENOENT
												   : -EIO,
				  _("cannot read '%s': %s"), path, gerr->message);
	r = domain_def_parse(data, len, ret, &msg);
	if (r < 0)
		return conf_error(ret_error, r, "%s: %s", path, msg);
	return 0;
}
