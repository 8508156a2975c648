/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "output.h"

struct table {
	unsigned n_columns;
	GPtrArray *cells; /* headers first, then rows, row-major */
};

struct table *table_new(unsigned n_columns, const char *const *headers)
{
	struct table *t = g_new0(struct table, 1);

	g_assert(n_columns > 0);
	t->n_columns = n_columns;
	t->cells = g_ptr_array_new_with_free_func(g_free);
	for (unsigned i = 0; i < n_columns; i++)
		g_ptr_array_add(t->cells, g_strdup(headers[i]));
	return t;
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	g_ptr_array_unref(t->cells);
	g_free(t);
	return NULL;
}

void table_add(struct table *t, const char *cell)
{
	g_ptr_array_add(t->cells, g_strdup(cell ? cell : ""));
}

unsigned table_rows(const struct table *t)
{
	return t->cells->len / t->n_columns - 1;
}

static void append_padded(GString *out, const char *cell, size_t width, gboolean last)
{
	g_string_append(out, cell);
	if (last)
		return;
	for (size_t n = g_utf8_strlen(cell, -1); n < width + 2; n++)
		g_string_append_c(out, ' ');
}

char *table_format(const struct table *t, gboolean header)
{
	g_autofree size_t *width = g_new0(size_t, t->n_columns);
	GString *out = g_string_new(NULL);
	unsigned first = header ? 0 : t->n_columns;

	for (unsigned i = first; i < t->cells->len; i++)
		width[i % t->n_columns] =
		    MAX(width[i % t->n_columns], (size_t)g_utf8_strlen(t->cells->pdata[i], -1));
	/* A partial last row is printed as far as it goes. */
	for (unsigned i = first; i < t->cells->len; i++) {
		unsigned col = i % t->n_columns;
		gboolean last = col == t->n_columns - 1 || i == t->cells->len - 1;

		append_padded(out, t->cells->pdata[i], width[col], last);
		if (last)
			g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

char *format_fields(const char *const *keys, const char *const *values, unsigned n)
{
	GString *out = g_string_new(NULL);
	size_t width = 0;

	for (unsigned i = 0; i < n; i++)
		width = MAX(width, (size_t)g_utf8_strlen(keys[i], -1) + 1);
	for (unsigned i = 0; i < n; i++) {
		g_string_append_printf(out, "%s:", keys[i]);
		for (size_t w = g_utf8_strlen(keys[i], -1) + 1; w < width + 1; w++)
			g_string_append_c(out, ' ');
		g_string_append_printf(out, "%s\n", values[i] ? values[i] : "");
	}
	return g_string_free(out, FALSE);
}

char *json_format(JsonNode *node, gboolean pretty)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();

	json_generator_set_root(gen, node);
	json_generator_set_pretty(gen, pretty);
	json_generator_set_indent(gen, 2);
	return json_generator_to_data(gen, NULL);
}

int json_print(JsonNode *node, gboolean pretty)
{
	g_autofree char *text = json_format(node, pretty);

	if (printf("%s\n", text) < 0 || fflush(stdout) != 0)
		return -errno;
	return 0;
}
