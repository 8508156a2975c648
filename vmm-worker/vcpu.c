/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "cli/config.h"
#include "log.h"
#include "memory/guest-memory.h"
#include "vcpu.h"
#include "vm.h"

/* Sent to a vCPU thread to interrupt KVM_RUN; its handler does nothing, the EINTR is the point. */
#define VCPU_KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
}

int vcpu_signals_init(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int vcpu_new(struct vm *vm, unsigned index, struct vcpu **ret)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return log_error_errno(ENOMEM, "out of memory");
	v->vm = vm;
	v->index = index;
	v->run = MAP_FAILED;

	int r;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		r = log_error_errno(errno, "cannot create vCPU %u: %m", index);
		goto fail;
	}
	v->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = log_error_errno(errno, "cannot map vCPU %u's kvm_run page: %m", index);
		goto fail;
	}
	r = cpuid_setup_vcpu(v->fd, vm->cpuid, index, vm->cfg->cpus_boot);
	if (r < 0) {
		log_error_errno(r, "KVM_SET_CPUID2 for vCPU %u failed: %s", index, strerror(-r));
		goto fail;
	}
	r = msr_setup_vcpu(v->fd);
	if (r < 0) {
		log_error_errno(r, "KVM_SET_MSRS for vCPU %u failed: %s", index, strerror(-r));
		goto fail;
	}
	r = regs_setup_fpu(v->fd);
	if (r >= 0)
		r = regs_setup_lapic(v->fd);
	if (r < 0) {
		log_error_errno(r, "cannot set up vCPU %u's FPU or local APIC: %s", index, strerror(-r));
		goto fail;
	}
	*ret = v;
	return 0;
fail:
	vcpu_free(v);
	return r;
}

struct vcpu *vcpu_free(struct vcpu *v)
{
	if (!v)
		return NULL;
	if (v->run != MAP_FAILED)
		munmap(v->run, v->vm->vcpu_mmap_size);
	safe_close(v->fd);
	free(v);
	return NULL;
}

static bool vcpu_should_stop(struct vcpu *v)
{
	return __atomic_load_n(&v->vm->exit_reason, __ATOMIC_SEQ_CST) != VM_EXIT_NONE;
}

#define VCPU_COUNT(v, field) __atomic_fetch_add(&(v)->stats.field, 1, __ATOMIC_RELAXED)

void vcpu_get_stats(struct vcpu *v, struct vcpu_stats *ret)
{
	*ret = (struct vcpu_stats){
		.exits = __atomic_load_n(&v->stats.exits, __ATOMIC_RELAXED),
		.exits_io = __atomic_load_n(&v->stats.exits_io, __ATOMIC_RELAXED),
		.exits_mmio = __atomic_load_n(&v->stats.exits_mmio, __ATOMIC_RELAXED),
		.exits_intr = __atomic_load_n(&v->stats.exits_intr, __ATOMIC_RELAXED),
	};
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	/* "count" > 1 comes from string instructions (rep outsb/insb). */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&v->vm->pio, run->io.port, data, run->io.size);
		else
			bus_read(&v->vm->pio, run->io.port, data, run->io.size);
	}
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t len = MIN(run->mmio.len, (uint32_t)sizeof(run->mmio.data));
	if (run->mmio.is_write)
		bus_write(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

static const char *system_event_name(uint32_t type)
{
	switch (type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return "shutdown";
	case KVM_SYSTEM_EVENT_RESET:
		return "reset";
	case KVM_SYSTEM_EVENT_CRASH:
		return "crash";
	default:
		return "unknown";
	}
}

/* Handles one exit; returns the reason to stop the VM, or VM_EXIT_NONE to keep running. */
static enum vm_exit vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char what[256];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		VCPU_COUNT(v, exits_io);
		vcpu_handle_io(v);
		return VM_EXIT_NONE;
	case KVM_EXIT_MMIO:
		VCPU_COUNT(v, exits_mmio);
		vcpu_handle_mmio(v);
		return VM_EXIT_NONE;
	case KVM_EXIT_INTR:
		VCPU_COUNT(v, exits_intr);
		return VM_EXIT_NONE;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; ours has one, so this is a halted guest forever. */
		vcpu_report_fatal(v, "vCPU halted with no interrupt controller to wake it");
		return VM_EXIT_ERROR;
	case KVM_EXIT_SHUTDOWN:
		vcpu_report_fatal(v, "guest triple fault (KVM_EXIT_SHUTDOWN)");
		return VM_EXIT_ERROR;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			return VM_EXIT_POWEROFF;
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			return VM_EXIT_RESET;
		snprintf(what, sizeof(what), "KVM system event '%s' (%u)",
			 system_event_name(run->system_event.type), run->system_event.type);
		vcpu_report_fatal(v, what);
		return VM_EXIT_ERROR;
	case KVM_EXIT_INTERNAL_ERROR: {
		int n = snprintf(what, sizeof(what), "KVM internal error, suberror %u%s", run->internal.suberror,
				 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (instruction emulation failed)" : "");
		for (uint32_t i = 0; i < run->internal.ndata && i < 16 && n < (int)sizeof(what); i++)
			n += snprintf(what + n, sizeof(what) - n, "%s0x%llx", i == 0 ? ", data " : " ",
				      (unsigned long long)run->internal.data[i]);
		vcpu_report_fatal(v, what);
		return VM_EXIT_ERROR;
	}
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "KVM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_report_fatal(v, what);
		return VM_EXIT_ERROR;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
		vcpu_report_fatal(v, what);
		return VM_EXIT_ERROR;
	}
}

static void *vcpu_thread(void *userdata)
{
	struct vcpu *v = userdata;
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!vcpu_should_stop(v)) {
		if (vm_pause_requested(v->vm)) {
			vm_pause_park(v);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				VCPU_COUNT(v, exits_intr);
				v->run->immediate_exit = 0;
				continue;
			}
			char what[128];
			snprintf(what, sizeof(what), "KVM_RUN failed: %s", strerror(errno));
			vcpu_report_fatal(v, what);
			vm_request_exit(v->vm, VM_EXIT_ERROR);
			break;
		}
		VCPU_COUNT(v, exits);
		enum vm_exit e = vcpu_handle_exit(v);
		if (e != VM_EXIT_NONE)
			vm_request_exit(v->vm, e);
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	/* vCPU threads inherit the main thread's mask (everything blocked for sd-event) and unblock
	 * only the kick signal themselves. */
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (r != 0)
		return -r;
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (!pthread_equal(pthread_self(), v->thread))
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	if (!pthread_equal(pthread_self(), v->thread))
		pthread_join(v->thread, NULL);
	v->thread_started = false;
}
