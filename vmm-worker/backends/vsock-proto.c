/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backends/vsock-proto.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int vsock_parse_connect(const char *line, size_t len, uint32_t *ret_port)
{
	static const char verb[] = "CONNECT";
	size_t i = sizeof(verb) - 1, digits = 0;
	uint64_t port = 0;

	if (!line || len >= VSOCK_LINE_MAX || len <= i || memcmp(line, verb, i) != 0 || !is_blank(line[i]))
		return -EINVAL;
	while (i < len && is_blank(line[i]))
		i++;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++, digits++) {
		port = port * 10 + (uint64_t)(line[i] - '0');
		if (digits >= 10 || port > UINT32_MAX)
			return -EINVAL;
	}
	if (digits == 0)
		return -EINVAL;
	while (i < len && is_blank(line[i]))
		i++;
	if (i < len && line[i] == '\r')
		i++;
	if (i != len)
		return -EINVAL;
	*ret_port = (uint32_t)port;
	return 0;
}

size_t vsock_format_ok(char *buf, uint32_t port)
{
	return (size_t)snprintf(buf, VSOCK_LINE_MAX, "OK %u\n", port);
}
