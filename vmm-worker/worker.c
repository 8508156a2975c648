/* SPDX-License-Identifier: Apache-2.0 */
/* One event loop for the worker's whole life: signals, host input for the serial port, the control
 * socket and its connections, and per boot the VM's exit notification. A boot ends when the VM asks
 * to exit; a reset (the guest's, or Reboot) builds a fresh VM and goes on with the same loop, so
 * control connections survive reboots. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "backends/chardev.h"
#include "cli/config.h"
#include "control/control.h"
#include "devices/legacy/ged.h"
#include "devices/legacy/serial.h"
#include "arch/x86/layout.h"
#include "log.h"
#include "worker.h"

uint64_t worker_now(struct worker *w)
{
	uint64_t now = 0;

	if (sd_event_now(w->event, CLOCK_MONOTONIC, &now) < 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	}
	return now;
}

static void worker_set_state(struct worker *w, enum worker_state state, enum worker_reason reason)
{
	uint64_t now = worker_now(w);

	if (w->state == WORKER_STATE_PAUSED && state != WORKER_STATE_PAUSED)
		w->paused_usec += now - w->paused_since_usec;
	if (state == WORKER_STATE_PAUSED && w->state != WORKER_STATE_PAUSED)
		w->paused_since_usec = now;

	log_debug("state %s -> %s (%s)", worker_state_to_string(w->state), worker_state_to_string(state),
		  worker_reason_to_string(reason));
	w->state = state;
	if (w->control)
		control_state_changed(w->control, state, reason);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct worker *w = userdata;

	log_info("received %s, stopping the VM", strsignal(si->ssi_signo));
	if (w->vm) {
		if (w->stop_reason == _WORKER_REASON_INVALID)
			w->stop_reason = WORKER_REASON_SIGNAL;
		vm_request_exit(w->vm, VM_EXIT_STOP);
	}
	return 0;
}

static int on_vm_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct worker *w = userdata;

	w->boot_done = true;
	return sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct worker *w = userdata;
	uint8_t buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		/* EOF or error: the guest simply gets no more input. */
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);
	}
	if (w->vm && w->vm->serial) {
		size_t taken = serial_enqueue_input(w->vm->serial, buf, (size_t)n);
		if (taken < (size_t)n)
			log_debug("serial input FIFO full: dropped %zd bytes", n - (ssize_t)taken);
	}
	return 0;
}

int worker_new(const struct vmm_config *cfg, const struct worker_io *io, struct worker **ret)
{
	_cleanup_(worker_freep) struct worker *w = NULL;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return log_error_errno(ENOMEM, "out of memory");
	w->cfg = cfg;
	w->io = *io;
	w->state = WORKER_STATE_STARTING;
	w->stop_reason = _WORKER_REASON_INVALID;

	r = sd_event_new(&w->event);
	if (r < 0)
		return log_error_errno(r, "cannot create the event loop: %s", strerror(-r));
	const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
		r = sd_event_add_signal(w->event, NULL, signals[i], on_signal, w);
		if (r < 0)
			return log_error_errno(r, "cannot watch signal %d: %s", signals[i], strerror(-r));
	}
	if (io->serial_in_fd >= 0 && cfg->serial.mode != OUTPUT_MODE_OFF) {
		/* Regular files and /dev/null cannot be polled; they give the guest no input anyway. */
		r = sd_event_add_io(w->event, NULL, io->serial_in_fd, EPOLLIN, on_stdin, w);
		if (r < 0)
			log_debug("not forwarding standard input to the serial port: %s", strerror(-r));
	}

	if (cfg->control_path || cfg->control_fd >= 0) {
		r = control_new(w, cfg->control_path, cfg->control_fd, &w->control);
		if (r < 0)
			return r;
	}

	*ret = TAKE_PTR(w);
	return 0;
}

struct worker *worker_free(struct worker *w)
{
	if (!w)
		return NULL;
	w->vm_exit_source = sd_event_source_unref(w->vm_exit_source);
	w->vm = vm_free(w->vm);
	w->control = control_free(w->control);
	sd_event_unref(w->event);
	free(w);
	return NULL;
}

static void serial_log_tee(void *opaque, uint8_t byte)
{
	chardev_log(opaque, &byte, 1);
}

/* Runs one boot until the VM asks to exit; returns why. */
static enum vm_exit worker_boot(struct worker *w, enum worker_reason why)
{
	int r;

	r = vm_new(w->cfg, w->io.serial_fd, w->io.console, &w->vm);
	if (r < 0)
		return VM_EXIT_ERROR;
	if (w->vm->serial && w->io.serial_chr)
		serial_set_tee(w->vm->serial, serial_log_tee, w->io.serial_chr);

	w->boot_done = false;
	w->reboot_requested = false;
	r = sd_event_add_io(w->event, &w->vm_exit_source, w->vm->exit_fd, EPOLLIN, on_vm_exit, w);
	if (r < 0) {
		log_error_errno(r, "cannot watch the VM: %s", strerror(-r));
		w->vm = vm_free(w->vm);
		return VM_EXIT_ERROR;
	}

	r = vm_start(w->vm);
	if (r < 0)
		vm_request_exit(w->vm, VM_EXIT_ERROR);
	else {
		w->stats.boots++;
		w->boot_started_usec = worker_now(w);
		if (w->stats.boots == 1)
			w->started_usec = w->boot_started_usec;
		worker_set_state(w, WORKER_STATE_RUNNING, why);
		if (w->stats.boots == 1)
			(void)sd_notify(false, "READY=1");
	}

	while (!w->boot_done) {
		r = sd_event_run(w->event, UINT64_MAX);
		if (r < 0) {
			log_error_errno(r, "event loop failed: %s", strerror(-r));
			vm_request_exit(w->vm, VM_EXIT_ERROR);
			break;
		}
	}

	enum vm_exit e = vm_stop(w->vm);
	w->vm_exit_source = sd_event_source_unref(w->vm_exit_source);
	w->vm = vm_free(w->vm);
	log_debug("VM stopped: %s", vm_exit_to_string(e));
	return e;
}

enum vm_exit worker_run(struct worker *w)
{
	enum worker_reason why = WORKER_REASON_BOOT;
	enum vm_exit e;

	for (;;) {
		if (w->stats.boots > 0)
			log_info("%s: booting again (boot %llu)",
				 why == WORKER_REASON_REBOOT ? "reboot requested" : "guest reset",
				 (unsigned long long)w->stats.boots + 1);
		e = worker_boot(w, why);
		/* A guest reset that raced with SIGTERM or Stop recorded itself first: the host's
		 * request still wins, or the reboot loop would run on forever. */
		if (e == VM_EXIT_RESET && w->stop_reason != _WORKER_REASON_INVALID)
			e = VM_EXIT_STOP;
		if (e != VM_EXIT_RESET)
			break;
		why = w->reboot_requested ? WORKER_REASON_REBOOT : WORKER_REASON_GUEST_RESET;
	}

	enum worker_reason reason;
	switch (e) {
	case VM_EXIT_POWEROFF:
		reason = WORKER_REASON_GUEST_POWEROFF;
		break;
	case VM_EXIT_STOP:
		reason = w->stop_reason >= 0 ? w->stop_reason : WORKER_REASON_STOP;
		break;
	case VM_EXIT_NONE:
	case VM_EXIT_RESET:
	case VM_EXIT_ERROR:
	case _VM_EXIT_MAX:
	case _VM_EXIT_INVALID:
	default:
		e = VM_EXIT_ERROR;
		reason = WORKER_REASON_ERROR;
		break;
	}
	worker_set_state(w, WORKER_STATE_STOPPED, reason);
	if (w->control)
		control_flush(w->control);
	return e;
}

static int worker_check(struct worker *w, enum worker_command c)
{
	if (!worker_command_allowed(c, w->state))
		return -EBUSY;
	if (!w->vm || __atomic_load_n(&w->vm->exit_reason, __ATOMIC_SEQ_CST) != VM_EXIT_NONE)
		return -ESHUTDOWN;
	return 0;
}

int worker_power_button(struct worker *w)
{
	int r = worker_check(w, WORKER_COMMAND_POWER_BUTTON);
	if (r < 0)
		return r;
	ged_notify(w->vm->ged, GED_EVENT_POWER_BUTTON);
	w->stats.power_button_presses++;
	worker_set_state(w, WORKER_STATE_SHUTTING_DOWN, WORKER_REASON_POWER_BUTTON);
	return 0;
}

int worker_stop(struct worker *w)
{
	int r = worker_check(w, WORKER_COMMAND_STOP);
	if (r < 0)
		return r;
	w->stop_reason = WORKER_REASON_STOP;
	vm_request_exit(w->vm, VM_EXIT_STOP);
	return 0;
}

/* Pause and Resume: the VM operation, then the state it leads to. */
static int worker_pause_resume(struct worker *w, enum worker_command c, int (*op)(struct vm *vm),
			       enum worker_state state, enum worker_reason reason)
{
	int r = worker_check(w, c);
	if (r < 0)
		return r;
	r = op(w->vm);
	if (r == -EALREADY)
		r = -EBUSY;
	if (r < 0)
		return r;
	worker_set_state(w, state, reason);
	return 0;
}

int worker_pause(struct worker *w)
{
	int r = worker_pause_resume(w, WORKER_COMMAND_PAUSE, vm_pause, WORKER_STATE_PAUSED, WORKER_REASON_PAUSE);
	if (r >= 0)
		w->stats.pauses++;
	return r;
}

int worker_resume(struct worker *w)
{
	return worker_pause_resume(w, WORKER_COMMAND_RESUME, vm_resume, WORKER_STATE_RUNNING, WORKER_REASON_RESUME);
}

int worker_reboot(struct worker *w)
{
	int r = worker_check(w, WORKER_COMMAND_REBOOT);
	if (r < 0)
		return r;
	w->reboot_requested = true;
	vm_request_exit(w->vm, VM_EXIT_RESET);
	return 0;
}
