/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "backends/mac.h"

static int hex_digit(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *p = c ? strchr(digits, tolower((unsigned char)c)) : NULL;
	return p ? (int)(p - digits) : -1;
}

int mac_parse(const char *s, uint8_t ret[MAC_LEN])
{
	uint8_t mac[MAC_LEN];

	if (!s || strlen(s) != MAC_STRING_MAX - 1)
		return -EINVAL;
	for (int i = 0; i < MAC_LEN; i++) {
		const char *p = s + 3 * i;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
		if (hi < 0 || lo < 0 || (i < MAC_LEN - 1 && p[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(ret, mac, MAC_LEN);
	return 0;
}

char *mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STRING_MAX])
{
	snprintf(buf, MAC_STRING_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}

int mac_generate(uint8_t ret[MAC_LEN])
{
	uint8_t r[3];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return errno ? -errno : -EIO;
	ret[0] = 0x52;
	ret[1] = 0x54;
	ret[2] = 0x00;
	memcpy(ret + 3, r, sizeof(r));
	return 0;
}

bool mac_is_unicast(const uint8_t mac[MAC_LEN])
{
	static const uint8_t zero[MAC_LEN];
	return !(mac[0] & 0x01) && memcmp(mac, zero, MAC_LEN) != 0;
}
