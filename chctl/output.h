/* SPDX-License-Identifier: Apache-2.0 */
/* Human tables and JSON. A table is built row by row and formatted with aligned columns; JSON goes
 * through json-glib so strings are always escaped right. */
#pragma once

#include <stdio.h>

#include <glib.h>
#include <json-glib/json-glib.h>

struct table;

/* headers: n_columns translated column titles. */
struct table *table_new(unsigned n_columns, const char *const *headers);
struct table *table_free(struct table *t);
typedef struct table Table;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Table, table_free)

/* Appends one cell; rows fill left to right, then the next row starts. */
void table_add(struct table *t, const char *cell);
unsigned table_rows(const struct table *t);
/* The table as text: header, then one line per row, columns separated by two spaces, no trailing
 * blanks. Widths count characters, not bytes, so translated headers line up. */
char *table_format(const struct table *t, gboolean header);

/* Key/value lines ("Name:        web1") for one object, keys translated and aligned. */
char *format_fields(const char *const *keys, const char *const *values, unsigned n);

/* Serialises node: pretty with two-space indent, or compact on one line (JSON Lines). */
char *json_format(JsonNode *node, gboolean pretty);
/* Prints node and a newline to stdout; returns 0 or -errno. */
int json_print(JsonNode *node, gboolean pretty);
