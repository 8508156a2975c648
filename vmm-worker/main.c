/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-worker: boots one VM. The main thread runs an sd-event loop (signals, host input for the
 * serial port, the VM's exit notification); each vCPU runs in its own thread. A guest reset
 * rebuilds the VM from the same configuration.
 *
 * Exit status: 0 guest powered off or stopped by SIGTERM/SIGINT, 1 the guest or the VMM failed,
 * 2 bad command line. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <termios.h>
#include <unistd.h>

#include "cli/config.h"
#include "devices/legacy/serial.h"
#include "log.h"
#include "vcpu.h"
#include "vm.h"

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
	case OUTPUT_MODE_PTY:
	case _OUTPUT_MODE_MAX:
	case _OUTPUT_MODE_INVALID:
	default:
		break;
	}
	return log_error_errno(ENOTSUP, "%s: mode '%s' is not supported yet; use tty, file=PATH, null or off",
			       option, output_mode_to_string(out->mode));
}

struct loop_ctx {
	struct vm *vm;
	bool *stop_requested; /* outlives this boot: a SIGTERM must not be lost to a concurrent reset */
};

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct loop_ctx *ctx = userdata;
	log_info("received %s, stopping the VM", strsignal(si->ssi_signo));
	*ctx->stop_requested = true;
	vm_request_exit(ctx->vm, VM_EXIT_STOP);
	return 0;
}

static int on_vm_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct loop_ctx *ctx = userdata;
	uint8_t buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		/* EOF or error: the guest simply gets no more input. */
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);
	}
	if (ctx->vm->serial) {
		size_t taken = serial_enqueue_input(ctx->vm->serial, buf, (size_t)n);
		if (taken < (size_t)n)
			log_debug("serial input FIFO full: dropped %zd bytes", n - (ssize_t)taken);
	}
	return 0;
}

/* Runs one boot of the VM until it exits; returns why. */
static enum vm_exit run_vm(struct vm *vm, bool serial_input, bool *stop_requested)
{
	_cleanup_(sd_event_unrefp) sd_event *event = NULL;
	struct loop_ctx ctx = { .vm = vm, .stop_requested = stop_requested };
	int r;

	r = sd_event_new(&event);
	if (r < 0) {
		log_error_errno(r, "cannot create the event loop: %s", strerror(-r));
		return VM_EXIT_ERROR;
	}
	const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
		r = sd_event_add_signal(event, NULL, signals[i], on_signal, &ctx);
		if (r < 0) {
			log_error_errno(r, "cannot watch signal %d: %s", signals[i], strerror(-r));
			return VM_EXIT_ERROR;
		}
	}
	r = sd_event_add_io(event, NULL, vm->exit_fd, EPOLLIN, on_vm_exit, &ctx);
	if (r < 0) {
		log_error_errno(r, "cannot watch the VM: %s", strerror(-r));
		return VM_EXIT_ERROR;
	}
	if (serial_input && vm->serial) {
		/* Regular files and /dev/null cannot be polled; they give the guest no input anyway. */
		r = sd_event_add_io(event, NULL, STDIN_FILENO, EPOLLIN, on_stdin, &ctx);
		if (r < 0)
			log_debug("not forwarding standard input to the serial port: %s", strerror(-r));
	}

	r = vm_start(vm);
	if (r < 0) {
		vm_stop(vm);
		return VM_EXIT_ERROR;
	}

	r = sd_event_loop(event);
	if (r < 0)
		log_error_errno(r, "event loop failed: %s", strerror(-r));
	return vm_stop(vm);
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

	int serial_fd = -1;
	r = open_output("--serial", &cfg.serial, &serial_fd);
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

	bool serial_input = cfg.serial.mode == OUTPUT_MODE_TTY;
	if (serial_input)
		make_terminal_raw();

	int status = EXIT_GUEST_FAILED;
	bool stop_requested = false;
	for (unsigned boot = 0;; boot++) {
		struct vm *vm = NULL;
		r = vm_new(&cfg, serial_fd, &vm);
		if (r < 0)
			break;
		if (boot > 0)
			log_info("guest reset: booting again (boot %u)", boot + 1);
		enum vm_exit e = run_vm(vm, serial_input, &stop_requested);
		vm_free(vm);
		log_debug("VM stopped: %s", vm_exit_to_string(e));

		/* A guest reset that raced with SIGTERM recorded itself first; the signal still wins. */
		if (e == VM_EXIT_RESET && stop_requested)
			e = VM_EXIT_STOP;
		if (e == VM_EXIT_RESET)
			continue;
		status = (e == VM_EXIT_POWEROFF || e == VM_EXIT_STOP) ? EXIT_SUCCESS : EXIT_GUEST_FAILED;
		break;
	}

	if (serial_fd > STDERR_FILENO)
		close(serial_fd);
	vmm_config_done(&cfg);
	return status;
}
