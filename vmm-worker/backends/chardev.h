/* SPDX-License-Identifier: Apache-2.0 */
/* Character backends for --console and --serial: tty (our stdin/stdout, raw while the VM runs),
 * pty (a new pseudo-terminal whose path is reported), file=PATH (output only), null (output
 * discarded). Writes never block: a device keeps what was not taken and waits for POLLOUT on
 * chardev_output_fd(); input arrives on chardev_input_fd(), non-blocking, for an I/O thread. The
 * caller's stdin/stdout keep their flags: the backend reopens them as descriptions of its own. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/config.h"

struct chardev;

/* mode is one of enum output_mode but OFF (no device: nothing to open, -EINVAL); path is for
 * OUTPUT_MODE_FILE only (created or truncated, as Cloud Hypervisor does). */
int chardev_new(enum output_mode mode, const char *path, struct chardev **ret);
/* The tty mode on given descriptors (chardev_new() passes stdin and stdout); not owned. A
 * terminal on in_fd is put in raw mode, and restored by chardev_free(). */
int chardev_new_stdio(int in_fd, int out_fd, struct chardev **ret);

struct chardev *chardev_free(struct chardev *c);
static inline void chardev_freep(struct chardev **p)
{
	if (*p)
		*p = chardev_free(*p);
}

enum output_mode chardev_mode(const struct chardev *c);
/* "/dev/pts/N" in pty mode (what a user opens, e.g. with screen), else NULL. */
const char *chardev_pty_path(const struct chardev *c);
/* -1 when the mode has no input (file, null) or no output (null). */
int chardev_input_fd(const struct chardev *c);
int chardev_output_fd(const struct chardev *c);

/* Bytes taken (null mode: all), 0 when the other end is full, or -errno. In pty mode output is
 * kept in the terminal's buffer until a client opens it, and dropped (0) once that is full. */
ssize_t chardev_write(struct chardev *c, const void *buf, size_t len);
/* Bytes read; -EAGAIN when nothing waits; 0 at end of input or when the mode has none. */
ssize_t chardev_read(struct chardev *c, void *buf, size_t len);

/* The console log (`pty,log=PATH`, chd's <log file=...>): a copy of everything the guest writes,
 * whatever the pty takes. "/dev/fd/N" adopts a duplicate of the inherited fd N (chd opened the
 * file); another path is opened for appending (created 0640). Replaces an earlier log. */
int chardev_open_log(struct chardev *c, const char *path);
/* Appends guest output to the log, if any: call it once per byte the guest produced, before
 * chardev_write() (which a device may repeat for the same bytes). Never blocks and never fails:
 * what a full, slow or failing log does not take is counted as dropped. */
void chardev_log(struct chardev *c, const void *buf, size_t len);

struct chardev_log_stats {
	uint64_t written; /* bytes appended to the log */
	uint64_t dropped; /* bytes the log did not take */
};
/* False when the chardev has no log. */
bool chardev_get_log_stats(const struct chardev *c, struct chardev_log_stats *ret);
