/* SPDX-License-Identifier: Apache-2.0 */
/* Enum <-> string tables (STYLE rule 7): a table "static const char *const foo_table[_FOO_MAX]" and
 * DEFINE_STRING_TABLE_LOOKUP(foo, enum foo, _FOO_MAX) give foo_to_string() and foo_from_string(),
 * which return NULL and -EINVAL for what is not in the table. */
#pragma once

#include <errno.h>
#include <string.h>

static inline const char *string_table_lookup(const char *const *table, int n, int i)
{
	if (i < 0 || i >= n)
		return NULL;
	return table[i];
}

static inline int string_table_find(const char *const *table, int n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return i;
	return -EINVAL;
}

#define DEFINE_STRING_TABLE_LOOKUP(name, type, max)                                                         \
	const char *name##_to_string(type i)                                                                \
	{                                                                                                   \
		return string_table_lookup(name##_table, (max), (int)i);                                    \
	}                                                                                                   \
	type name##_from_string(const char *s)                                                              \
	{                                                                                                   \
		return (type)string_table_find(name##_table, (max), s);                                     \
	}
