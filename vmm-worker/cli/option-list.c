/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#include "cli/i18n.h"
#include "cli/option-list.h"
#include "cli/parse-util.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims blanks at both ends in place; returns the new start. */
static char *strip(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/* Rewrites buf in place into NUL-separated elements, dropping quote characters; returns the number
 * of elements, or -EINVAL for unbalanced brackets or quotes. */
static int split_elements(char *buf)
{
	bool in_quotes = false;
	int depth = 0, n = 1;
	char *w = buf;

	for (const char *r = buf; *r; r++) {
		switch (*r) {
		case '[':
			depth++;
			*w++ = *r;
			break;
		case ']':
			if (--depth < 0)
				return -EINVAL;
			*w++ = *r;
			break;
		case '"':
			in_quotes = !in_quotes;
			break;
		case ',':
			if (depth > 0 || in_quotes) {
				*w++ = *r;
			} else {
				*w++ = '\0';
				n++;
			}
			break;
		default:
			*w++ = *r;
			break;
		}
	}
	*w = '\0';

	if (depth != 0 || in_quotes)
		return -EINVAL;
	return n;
}

/* "a, b, c" of the supported keys (unsupported ones only confuse a reader who made a typo). */
static char *known_keys_list(const struct option_key *keys, size_t n_keys)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	bool first = true;

	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	for (size_t i = 0; i < n_keys; i++) {
		if (keys[i].unsupported)
			continue;
		fprintf(f, "%s%s", first ? "" : ", ", keys[i].name);
		first = false;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int unknown_key(const char *option, const char *key, const struct option_key *keys, size_t n_keys,
		       bool unsupported, char **ret_error)
{
	_cleanup_free_ char *known = known_keys_list(keys, n_keys);

	if (!known)
		return -ENOMEM;
	if (unsupported)
		return cli_error(ret_error, -EOPNOTSUPP,
				 _("%s: parameter '%s' is not supported by vmm-worker yet (supported: %s)"),
				 option, key, known);
	return cli_error(ret_error, -EINVAL, _("%s: unknown parameter '%s' (known: %s)"), option, key,
			 known);
}

static int parse_element(const char *option, const char *syntax, char *element,
			 const struct option_key *keys, size_t n_keys, char **values, char **ret_error)
{
	const struct option_key *k = NULL;
	char *key, *value = NULL, *eq;
	size_t i;

	eq = strchr(element, '=');
	if (eq) {
		*eq = '\0';
		value = strip(eq + 1);
	}
	key = strip(element);

	if (!*key) {
		if (value)
			return cli_error(ret_error, -EINVAL,
					 _("%s: parameter name missing before '=%s': expected %s"), option,
					 value, syntax);
		return cli_error(ret_error, -EINVAL, _("%s: empty parameter (stray comma?): expected %s"),
				 option, syntax);
	}

	for (i = 0; i < n_keys; i++)
		if (strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			break;
		}
	if (!k)
		return unknown_key(option, key, keys, n_keys, false, ret_error);
	if (k->unsupported)
		return unknown_key(option, key, keys, n_keys, true, ret_error);
	if (values[i])
		return cli_error(ret_error, -EINVAL, _("%s: parameter '%s' given more than once"), option,
				 key);

	if (k->valueless) {
		if (value)
			return cli_error(ret_error, -EINVAL, _("%s: '%s' takes no value: expected %s"),
					 option, key, syntax);
		value = "";
	} else {
		if (!value)
			return cli_error(ret_error, -EINVAL,
					 _("%s: parameter '%s' needs a value: expected %s"), option, key,
					 syntax);
		if (!*value)
			return cli_error(ret_error, -EINVAL,
					 _("%s: parameter '%s' has an empty value: expected %s"), option,
					 key, syntax);
	}

	values[i] = strdup(value);
	if (!values[i])
		return -ENOMEM;
	return 0;
}

int option_list_parse(const char *option, const char *syntax, const char *s, const struct option_key *keys,
		      size_t n_keys, char **values, char **ret_error)
{
	_cleanup_free_ char *buf = NULL;
	char *p;
	int n, r;

	for (size_t i = 0; i < n_keys; i++)
		values[i] = NULL;

	buf = strdup(s ? s : "");
	if (!buf)
		return -ENOMEM;
	p = strip(buf);
	if (!*p)
		return cli_error(ret_error, -EINVAL, _("%s: empty value: expected %s"), option, syntax);

	n = split_elements(p);
	if (n < 0)
		return cli_error(ret_error, -EINVAL,
				 _("%s: unbalanced brackets or quotes in '%s': expected %s"), option, s,
				 syntax);

	for (int i = 0; i < n; i++) {
		char *next = p + strlen(p) + 1; /* before parse_element() cuts p at its '=' */

		r = parse_element(option, syntax, p, keys, n_keys, values, ret_error);
		if (r < 0) {
			option_values_free(values, n_keys);
			return r;
		}
		p = next;
	}

	return 0;
}

void option_values_free(char **values, size_t n_keys)
{
	for (size_t i = 0; i < n_keys; i++) {
		free(values[i]);
		values[i] = NULL;
	}
}
