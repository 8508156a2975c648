/* SPDX-License-Identifier: Apache-2.0 */
/* Ethernet MAC addresses as the command line and the definitions spell them ("52:54:00:12:34:56"),
 * and fresh ones for guests that name none. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define MAC_LEN 6
/* "xx:xx:xx:xx:xx:xx" and its NUL */
#define MAC_STRING_MAX 18

/* Exactly six two-digit hex groups separated by ':' (either case); -EINVAL otherwise, and ret is
 * left alone. */
int mac_parse(const char *s, uint8_t ret[MAC_LEN]);
/* Lower-case, colon-separated; returns buf. */
char *mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STRING_MAX]);
/* A random address under 52:54:00 (locally administered, unicast: what libvirt and QEMU hand
 * out), from getrandom(). */
int mac_generate(uint8_t ret[MAC_LEN]);
/* Usable as a NIC's own address: not multicast/broadcast, not all zeroes. */
bool mac_is_unicast(const uint8_t mac[MAC_LEN]);
