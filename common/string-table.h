/* SPDX-License-Identifier: Apache-2.0 */
/* Enum <-> string tables (STYLE rule 7) without writing the two lookups again for each enum:
 *
 *   static const char *const color_table[_COLOR_MAX] = { [COLOR_RED] = "red", ... };
 *   DEFINE_STRING_TABLE_LOOKUP(color, enum color, _COLOR_MAX, _COLOR_INVALID)
 *
 * defines color_to_string() (NULL when out of range) and color_from_string() (the invalid value
 * for NULL or unknown strings). */
#pragma once

#include <stddef.h>
#include <string.h>

static inline int string_table_lookup(const char *const *table, int n, const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return i;
	return -1;
}

#define DEFINE_STRING_TABLE_LOOKUP(name, type, max, invalid)                                                \
	const char *name##_to_string(type v)                                                                \
	{                                                                                                   \
		if ((int)v < 0 || (int)v >= (max))                                                          \
			return NULL;                                                                        \
		return name##_table[v];                                                                     \
	}                                                                                                   \
	type name##_from_string(const char *s)                                                              \
	{                                                                                                   \
		int i = string_table_lookup(name##_table, (max), s);                                        \
		return i < 0 ? (invalid) : (type)i;                                                         \
	}
