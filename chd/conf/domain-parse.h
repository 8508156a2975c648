/* SPDX-License-Identifier: Apache-2.0 */
/* The XML readers shared by domain-parse.c (domain level) and domain-parse-devices.c (devices).
 * Each returns 0 or -EINVAL after recording "line N: ..." in the parser (first error wins). */
#pragma once

#include <stdbool.h>

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

struct domain_def;
struct domain_pci_address;

/* libxml2 2.9 declares no g_autoptr cleanups of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlNode, xmlFreeNode)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

struct parser {
	char *error; /* the first error, translated, with its line */
};

int parse_fail(struct parser *p, xmlNode *node, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Refuses attributes not in attrs and child elements not in children (NULL-terminated lists). */
int parse_check_node(struct parser *p, xmlNode *node, const char *const *attrs, const char *const *children);
char *parse_text(xmlNode *node);
char *parse_attr(xmlNode *node, const char *name);
int parse_attr_required(struct parser *p, xmlNode *node, const char *name, char **ret);
int parse_fail_attr(struct parser *p, xmlNode *node, const char *name, const char *value);
int parse_fixed_attr(struct parser *p, xmlNode *node, const char *name, const char *value);
int parse_yes_no(struct parser *p, xmlNode *node, const char *name, bool def, bool *ret);
int parse_path(struct parser *p, xmlNode *node, const char *name, char **ret);

/* Reads attribute attr through prefix_from_string() into *ret; def < 0 makes it required. */
#define PARSE_ENUM_ATTR(p, node, attr, prefix, def, ret)                                                    \
	({                                                                                                  \
		g_autofree char *_v = parse_attr((node), (attr));                                           \
		int _r = 0, _e = _v ? (int)prefix##_from_string(_v) : (def);                                \
		if (_e < 0)                                                                                 \
			_r = parse_fail_attr((p), (node), (attr), _v);                                      \
		else                                                                                        \
			*(ret) = _e;                                                                        \
		_r;                                                                                         \
	})

int parse_devices(struct parser *p, xmlNode *node, struct domain_def *def);

/* Validates doc against $schema_dir/domain.rng; -EINVAL with "line N: ..." in *ret_error. */
int domain_schema_validate(xmlDoc *doc, char **ret_error);
