/* SPDX-License-Identifier: Apache-2.0 */
/* Typed readers for command-line values, with the syntax Cloud Hypervisor accepts. All return 0 on
 * success, -EINVAL when the text is not of the expected form and -ERANGE when it is but does not fit
 * (overflow, or outside [min, max]); *ret is only written on success. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Plain decimal digits, nothing else: no sign, no spaces, no "0x". */
int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *ret);

/* Byte count: decimal digits with an optional K, M or G suffix (powers of 1024), as Cloud
 * Hypervisor's ByteSized. "512M" = 536870912. */
int parse_size(const char *s, uint64_t *ret);

/* on|off|true|false, any case, as Cloud Hypervisor's Toggle (which also reads "" as off; we do
 * not: an empty value is refused earlier, by option_list_parse()). */
int parse_toggle(const char *s, bool *ret);

/* Stores a formatted message in *ret_error (malloc'd, caller frees; nothing when ret_error is NULL) and
 * returns r, or -ENOMEM when the message cannot be built. Lets a parser write
 * "return cli_error(ret_error, -EINVAL, ...)". */
int cli_error(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
