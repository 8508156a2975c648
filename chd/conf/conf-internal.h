/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by libchd-conf's files only: translation, enum tables, message helpers. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <glib/gi18n-lib.h>

#include "macro.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

/* Defines name_to_string()/name_from_string() over "static const char *const name_table[]". */
#define DEFINE_STRING_TABLE(name, type, max)                                                                \
	const char *name##_to_string(type v)                                                                \
	{                                                                                                   \
		if ((int)v < 0 || (int)v >= (max))                                                          \
			return NULL;                                                                        \
		return name##_table[v];                                                                     \
	}                                                                                                   \
	type name##_from_string(const char *s)                                                              \
	{                                                                                                   \
		if (!s)                                                                                     \
			return (type)-EINVAL;                                                               \
		for (int i = 0; i < (max); i++)                                                             \
			if (streq(name##_table[i], s))                                                      \
				return (type)i;                                                             \
		return (type)-EINVAL;                                                                       \
	}

/* Sets *ret_error (when not NULL) to the formatted message and returns r (negative). */
int conf_error(char **ret_error, int r, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* "<value>" with libvirt's unit= (b, bytes, KB, k, KiB, MB, M, MiB, ... EiB; absent: KiB) in KiB,
 * rounded up as libvirt does. -EINVAL for a bad unit or number, -ERANGE on overflow. */
int conf_scale_to_kib(const char *value, const char *unit, uint64_t *ret);

struct domain_chr;
struct domain_chr *conf_chr_free(struct domain_chr *chr);
DEFINE_POINTER_CLEANUP(struct domain_chr, conf_chr_free);

/* Parses an unsigned decimal or 0x-prefixed hexadecimal number no larger than max. */
int conf_parse_uint(const char *s, uint64_t max, uint64_t *ret);

/* Paths that the worker's command line must carry: absolute, and free of ',' and '"'. */
bool conf_path_is_absolute(const char *path);
