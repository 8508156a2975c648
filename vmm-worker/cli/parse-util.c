/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/parse-util.h"

/* Reads the leading run of decimal digits of s[0..len). */
static int parse_digits(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;

	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}

	*ret = v;
	return 0;
}

int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;

	r = parse_digits(s, strlen(s), &v);
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;

	*ret = v;
	return 0;
}

int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	uint64_t v;
	int r;

	r = parse_uint64(s, min, max, &v);
	if (r < 0)
		return r;

	*ret = (unsigned)v;
	return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
	unsigned shift = 0;
	uint64_t v;
	size_t len;
	int r;

	if (!s)
		return -EINVAL;

	len = strlen(s);
	if (len > 0) {
		switch (s[len - 1]) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		default:
			break;
		}
		if (shift > 0)
			len--;
	}

	r = parse_digits(s, len, &v);
	if (r < 0)
		return r;
	/* Cloud Hypervisor shifts without checking; 99999999999G must not wrap to a small size. */
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;

	*ret = v << shift;
	return 0;
}

int parse_toggle(const char *s, bool *ret)
{
	if (!s)
		return -EINVAL;

	if (strcasecmp(s, "on") == 0 || strcasecmp(s, "true") == 0) {
		*ret = true;
		return 0;
	}
	if (strcasecmp(s, "off") == 0 || strcasecmp(s, "false") == 0) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

int cli_error(char **ret_error, int r, const char *fmt, ...)
{
	va_list ap;
	char *m;
	int n;

	if (!ret_error)
		return r;

	va_start(ap, fmt);
	n = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*ret_error = NULL;
		return -ENOMEM;
	}

	*ret_error = m;
	return r;
}
