/* SPDX-License-Identifier: Apache-2.0 */
/* The hybrid vsock handshake on the host's unix socket (Firecracker's and Cloud Hypervisor's): a
 * host client writes "CONNECT <port>\n" and, once the guest accepts, reads "OK <host port>\n".
 * Everything a client sends is hostile input; these functions never read past len. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The longest line accepted, '\n' included: "CONNECT 4294967295\r\n" with room for blanks. */
#define VSOCK_LINE_MAX 64

/* One line without its '\n': "CONNECT", blanks, a decimal port (no sign, at most 10 digits, up to
 * UINT32_MAX), optional trailing blanks and '\r'. 0 and *ret_port, or -EINVAL (ret untouched). */
int vsock_parse_connect(const char *line, size_t len, uint32_t *ret_port);

/* Writes "OK <port>\n" to buf (at least VSOCK_LINE_MAX bytes); returns its length. */
size_t vsock_format_ok(char *buf, uint32_t port);
