/* SPDX-License-Identifier: Apache-2.0 */
/* Cloud Hypervisor's parameter lists: the "key=value,key=value" text after --cpus, --memory,
 * --serial and later --disk, --net, --rng... Commas inside [brackets] or "double quotes" do not
 * split, and the quote characters are dropped, so cmdline="console=ttyS0,115200" and
 * fds=[3,4] stay one value each. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct option_key {
	const char *name;
	bool valueless;	  /* a bare word such as "tty"; "tty=x" is refused */
	bool unsupported; /* a Cloud Hypervisor parameter vmm-worker does not implement yet */
};

/* Parses s for option (e.g. "--memory"; both it and syntax, the expected form, appear in error
 * messages). On success values[i] holds the value given for keys[i] (malloc'd; "" for a valueless
 * key that is present) or NULL when absent; free with option_values_free(). Stricter than Cloud
 * Hypervisor, which silently keeps the last of duplicate keys and reads "key=" as absent: an empty
 * list, an empty element, an empty value, a missing or surplus value, a duplicate or unknown key
 * all fail with -EINVAL, an unsupported key with -EOPNOTSUPP, each with *ret_error set. On
 * failure values[] is left all NULL. */
int option_list_parse(const char *option, const char *syntax, const char *s, const struct option_key *keys,
		      size_t n_keys, char **values, char **ret_error);
void option_values_free(char **values, size_t n_keys);
