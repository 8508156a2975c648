/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the hybrid vsock CONNECT line parser: the input is what a hostile host
 * client writes, cut into lines as the backend cuts it. A line that parses must mean the same
 * port when written back canonically. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vsock-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) : size;
		/* An exact-size copy, so a read past len is caught by ASan. */
		char *line = malloc(len ? len : 1);
		uint32_t port;

		if (!line)
			return 0;
		memcpy(line, data, len);
		if (vsock_parse_connect(line, len, &port) == 0) {
			char again[VSOCK_LINE_MAX];
			uint32_t port2;
			int n = snprintf(again, sizeof(again), "CONNECT %u", port);
			if (len >= VSOCK_LINE_MAX || vsock_parse_connect(again, (size_t)n, &port2) != 0 ||
			    port2 != port)
				abort();
		}
		free(line);
		data += nl ? len + 1 : len;
		size -= nl ? len + 1 : len;
	}
	return 0;
}
