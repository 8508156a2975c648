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

/* --serial pty: a new pseudo-terminal, its name logged as Cloud Hypervisor does and reported
 * by the control socket's Info (SerialPty), where chd reads it. */
static int open_pty(const char *option, struct chardev **ret)
{
	int r = chardev_new(OUTPUT_MODE_PTY, NULL, ret);

	if (r < 0)
		return log_error_errno(r, "%s: cannot create a pseudo-terminal: %s", option, strerror(-r));
	log_info("%s: pseudo-terminal %s", option, chardev_pty_path(*ret));
	return 0;
}

static int open_output(const char *option, const struct output_config *out, int *ret_fd)
{
	switch (out->mode) {
	case OUTPUT_MODE_OFF:
	case OUTPUT_MODE_NULL:
		*ret_fd = -1;
		return 0;
	case OUTPUT_MODE_TTY:
		*ret_fd = STDOUT_FILENO;
		return 0;
	case OUTPUT_MODE_FILE: {
		int fd = open(out->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0640);
		if (fd < 0)
			return log_error_errno(errno, "%s: cannot open '%s' for writing: %m", option, out->path);
		*ret_fd = fd;
		return 0;
	}
	case OUTPUT_MODE_PTY: /* open_pty() */
	case _OUTPUT_MODE_MAX:
	case _OUTPUT_MODE_INVALID:
	default:
		break;
	}
	return log_error_errno(ENOTSUP, "%s: mode '%s' is not supported yet; use tty, pty, file=PATH, null or off",
			       option, output_mode_to_string(out->mode));
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

	struct worker_serial serial = { .out_fd = -1, .in_fd = -1 };
	_cleanup_(chardev_freep) struct chardev *serial_pty = NULL;
	if (cfg.serial.mode == OUTPUT_MODE_PTY) {
		r = open_pty("--serial", &serial_pty);
		if (r >= 0) {
			serial.out_fd = chardev_output_fd(serial_pty);
			serial.in_fd = chardev_input_fd(serial_pty);
			serial.pty_path = chardev_pty_path(serial_pty);
		}
	} else
		r = open_output("--serial", &cfg.serial, &serial.out_fd);
	if (r < 0) {
		vmm_config_done(&cfg);
		return EXIT_USAGE;
	}
	if (cfg.console.mode != OUTPUT_MODE_OFF)
		log_debug("--console: no virtio-console device in this build; the guest console is the serial port");

	/* Block the signals sd-event turns into events before any thread exists, so every vCPU thread
	 * inherits the mask; vCPU threads unblock only their kick signal. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = vcpu_signals_init();
	if (r < 0) {
		log_error_errno(r, "cannot install the vCPU kick handler: %s", strerror(-r));
		return EXIT_GUEST_FAILED;
	}

	if (cfg.serial.mode == OUTPUT_MODE_TTY) {
		serial.in_fd = STDIN_FILENO;
		make_terminal_raw();
	}

	int status = EXIT_GUEST_FAILED;
	struct worker *w = NULL;
	r = worker_new(&cfg, &serial, &w);
	if (r >= 0) {
		enum vm_exit e = worker_run(w);
		status = (e == VM_EXIT_POWEROFF || e == VM_EXIT_STOP) ? EXIT_SUCCESS : EXIT_GUEST_FAILED;
		worker_free(w);
	}

	if (!serial_pty && serial.out_fd > STDERR_FILENO)
		close(serial.out_fd);
	vmm_config_done(&cfg);
	return status;
}
