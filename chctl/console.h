/* SPDX-License-Identifier: Apache-2.0 */
/* The console relay: the user's terminal on one side, the VM's console (a pty or unix socket that
 * chd names in VM.ConsolePath, or only the console log file) on the other. Ctrl-] leaves. */
#pragma once

#include <stdbool.h>

struct chctl;

#define CONSOLE_ESCAPE 0x1d /* Ctrl-] */

struct console {
	int in_fd;   /* the user's input */
	int out_fd;  /* the user's output */
	int rd_fd;   /* what the guest writes */
	int wr_fd;   /* where the user's keys go; -1: read-only */
	bool follow; /* rd_fd is a growing file: wait for it to grow at its end */
};

/* Relays until the user types Ctrl-] (returns 0), the console closes (returns 1), or a failure
 * (-errno). Leaves the file descriptors open. */
int console_run(const struct console *con);

/* Attaches the terminal to the console of the VM called name; returns the exit status. */
int chctl_console_attach(struct chctl *c, const char *name);
