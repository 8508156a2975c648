/* SPDX-License-Identifier: Apache-2.0 */
/* enum ↔ string tables (STYLE rule 7): DEFINE_STRING_TABLE(foo, enum foo, table) defines
 * foo_to_string() (NULL when out of range) and foo_from_string() (-EINVAL when unknown). */
#pragma once

#include <errno.h>
#include <string.h>

#include "macro.h"

static inline int string_table_lookup(const char *const *table, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

#define DEFINE_STRING_TABLE(name, type, table)                                                     \
	const char *name##_to_string(type v)                                                       \
	{                                                                                          \
		return (int)v >= 0 && (size_t)v < ELEMENTSOF(table) ? table[v] : NULL;             \
	}                                                                                          \
	type name##_from_string(const char *s)                                                     \
	{                                                                                          \
		return (type)string_table_lookup(table, ELEMENTSOF(table), s);                     \
	}
