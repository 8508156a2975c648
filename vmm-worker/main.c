/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-worker: boots one VM. main() parses the command line and sets up the process (terminal,
 * signals, outputs); worker.c runs the event loop, the boot loop and the control socket.
 *
 * Exit status: 0 guest powered off, or stopped by SIGTERM/SIGINT or the Stop control method; 1 the
 * guest or the VMM failed; 2 bad command line. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "backends/chardev.h"
#include "cli/config.h"
#include "log.h"
#include "vcpu.h"
#include "worker.h"

#define EXIT_GUEST_FAILED 1
#define EXIT_USAGE 2

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void)
{
	if (termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

/* Raw input so the guest sees every key (Ctrl-C included), as on a real serial line. */
static void make_terminal_raw(void)
{
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return;
	struct termios raw = saved_termios;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* keep host-side output readable */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
		termios_saved = true;
		atexit(restore_terminal);
	}
}

/* A pty's path on standard error, whatever the log level: the user (or chd, reading the worker's
 * log) opens it to reach the guest, as with Cloud Hypervisor's --console pty. */
static void announce_pty(const char *option, const struct chardev *c)
{
	fprintf(stderr, "vmm-worker: %s pty: %s\n", option, chardev_pty_path(c));
}

/* pty,log=PATH: the console log. */
static int open_log(const char *option, const struct output_config *out, struct chardev *c)
{
	int r;

	if (!out->log)
		return 0;
	r = chardev_open_log(c, out->log);
	if (r < 0)
		return log_error_errno(r, "%s: cannot open the log '%s': %s", option, out->log, strerror(-r));
	return 0;
}

/* The serial port's host end: output fd, input fd and, for pty, the chardev that owns both. */
static int setup_serial(const struct output_config *out, struct worker_io *io, struct chardev **ret_pty)
{
	int r;

	switch (out->mode) {
	case OUTPUT_MODE_OFF:
	case OUTPUT_MODE_NULL:
		return 0;
	case OUTPUT_MODE_TTY:
		io->serial_fd = STDOUT_FILENO;
		io->serial_in_fd = STDIN_FILENO;
		make_terminal_raw();
		return 0;
	case OUTPUT_MODE_FILE: {
		int fd = open(out->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0640);
		if (fd < 0)
			return log_error_errno(errno, "--serial: cannot open '%s' for writing: %m", out->path);
		io->serial_fd = fd;
		return 0;
	}
	case OUTPUT_MODE_PTY:
		r = chardev_new(OUTPUT_MODE_PTY, NULL, ret_pty);
		if (r < 0)
			return log_error_errno(r, "--serial: cannot create a pseudo-terminal: %s", strerror(-r));
		io->serial_fd = chardev_output_fd(*ret_pty);
		io->serial_in_fd = chardev_input_fd(*ret_pty);
		io->serial_pty = chardev_pty_path(*ret_pty);
		io->serial_chr = *ret_pty;
		announce_pty("--serial", *ret_pty);
		return open_log("--serial", out, *ret_pty);
	case _OUTPUT_MODE_MAX:
	case _OUTPUT_MODE_INVALID:
	default:
		break;
	}
	return log_error_errno(EINVAL, "--serial: invalid mode %d", out->mode);
}

/* The virtio console's backend; none for --console off. */
static int setup_console(const struct output_config *out, struct worker_io *io)
{
	int r;

	if (out->mode == OUTPUT_MODE_OFF)
		return 0;
	r = chardev_new(out->mode, out->path, &io->console);
	if (r < 0 && out->mode == OUTPUT_MODE_FILE)
		return log_error_errno(r, "--console: cannot open '%s' for writing: %s", out->path, strerror(-r));
	if (r < 0)
		return log_error_errno(r, "--console: cannot set up %s: %s", output_mode_to_string(out->mode),
				       strerror(-r));
	if (out->mode == OUTPUT_MODE_PTY)
		announce_pty("--console", io->console);
	return open_log("--console", out, io->console);
}

int main(int argc, char **argv)
{
	struct vmm_config cfg;
	char *error = NULL;

	log_set_prefix("vmm-worker: ");
	int r = vmm_config_parse(&cfg, argc, argv, &error);
	if (r < 0) {
		fprintf(stderr, "vmm-worker: %s\n", error ? error : strerror(-r));
		free(error);
		return EXIT_USAGE;
	}
	if (r > 0)
		return EXIT_SUCCESS;

	log_set_level(vmm_config_log_level(&cfg));
	if (cfg.log_file) {
		r = log_open_file(cfg.log_file);
		if (r < 0) {
			fprintf(stderr, "vmm-worker: --log-file: cannot open '%s': %s\n", cfg.log_file, strerror(-r));
			vmm_config_done(&cfg);
			return EXIT_USAGE;
		}
	}

	struct worker_io io = { .serial_fd = -1, .serial_in_fd = -1 };
	_cleanup_(chardev_freep) struct chardev *serial_pty = NULL;
	r = setup_serial(&cfg.serial, &io, &serial_pty);
	if (r >= 0)
		r = setup_console(&cfg.console, &io);
	if (r < 0) {
		if (io.serial_fd > STDERR_FILENO && !serial_pty)
			close(io.serial_fd);
		vmm_config_done(&cfg);
		return EXIT_USAGE;
	}

	/* Block the signals sd-event turns into events before any thread exists, so every vCPU thread
	 * inherits the mask; vCPU threads unblock only their kick signal. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int status = EXIT_GUEST_FAILED;
	struct worker *w = NULL;
	r = vcpu_signals_init();
	if (r < 0)
		log_error_errno(r, "cannot install the vCPU kick handler: %s", strerror(-r));
	else
		r = worker_new(&cfg, &io, &w);
	if (r >= 0) {
		enum vm_exit e = worker_run(w);
		status = (e == VM_EXIT_POWEROFF || e == VM_EXIT_STOP) ? EXIT_SUCCESS : EXIT_GUEST_FAILED;
		worker_free(w);
	}

	if (io.serial_fd > STDERR_FILENO && !serial_pty)
		close(io.serial_fd);
	io.console = chardev_free(io.console); /* restores the terminal of --console tty */
	vmm_config_done(&cfg);
	return status;
}
