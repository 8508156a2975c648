/* SPDX-License-Identifier: Apache-2.0 */
/* Pause and resume. The main thread raises vm->pause.requested and kicks every vCPU out of KVM_RUN;
 * each vCPU thread, before entering KVM_RUN again, parks on a condition variable until the pause is
 * lifted or the VM exits. Nothing runs guest code while parked, so the VM's state is quiescent.
 *
 * Guest time: like QEMU, we read the kvmclock (KVM_GET_CLOCK) once every vCPU is parked and write
 * it back (KVM_SET_CLOCK) on resume, so a paused guest does not see its clock leap forward by the
 * paused time, and each vCPU tells the guest it was stopped (KVM_KVMCLOCK_CTRL), which keeps the
 * guest's soft-lockup watchdog from reporting the gap. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "log.h"
#include "vcpu.h"
#include "vm.h"

/* Long enough for a vCPU busy in a device (a serial write waits up to a short while); short
 * enough that a stuck vCPU does not hold a client for long. */
#define VM_PAUSE_TIMEOUT_SEC 5

static bool vm_exiting(struct vm *vm)
{
	return __atomic_load_n(&vm->exit_reason, __ATOMIC_SEQ_CST) != VM_EXIT_NONE;
}

int vm_pause_init(struct vm *vm)
{
	pthread_condattr_t attr;
	int r;

	r = pthread_mutex_init(&vm->pause.lock, NULL);
	if (r != 0)
		return -r;
	r = pthread_condattr_init(&attr);
	if (r == 0) {
		r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		if (r == 0)
			r = pthread_cond_init(&vm->pause.cond, &attr);
		pthread_condattr_destroy(&attr);
	}
	if (r != 0) {
		pthread_mutex_destroy(&vm->pause.lock);
		return -r;
	}
	return 0;
}

void vm_pause_done(struct vm *vm)
{
	pthread_cond_destroy(&vm->pause.cond);
	pthread_mutex_destroy(&vm->pause.lock);
}

void vm_pause_wake(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

bool vm_pause_requested(struct vm *vm)
{
	return __atomic_load_n(&vm->pause.requested, __ATOMIC_SEQ_CST);
}

void vm_pause_park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	/* Sets PVCLOCK_GUEST_STOPPED for the guest; EINVAL when the guest uses no kvmclock. */
	if (ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
		log_debug("vCPU %u: KVM_KVMCLOCK_CTRL: %m", v->index);

	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.parked++;
	pthread_cond_broadcast(&vm->pause.cond);
	while (vm->pause.requested && !vm_exiting(vm))
		pthread_cond_wait(&vm->pause.cond, &vm->pause.lock);
	vm->pause.parked--;
	pthread_mutex_unlock(&vm->pause.lock);
}

static unsigned vm_running_vcpus(struct vm *vm)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i] && vm->vcpus[i]->thread_started)
			n++;
	return n;
}

int vm_pause(struct vm *vm)
{
	unsigned want = vm_running_vcpus(vm);
	struct timespec deadline;
	int r = 0;

	pthread_mutex_lock(&vm->pause.lock);
	if (vm->pause.requested)
		r = -EALREADY;
	else if (vm_exiting(vm))
		r = -ESHUTDOWN;
	else
		__atomic_store_n(&vm->pause.requested, true, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&vm->pause.lock);
	if (r < 0)
		return r;

	/* The flag is set before the kick: a vCPU either sees it before KVM_RUN or is kicked out. */
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i])
			vcpu_kick(vm->vcpus[i]);

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += VM_PAUSE_TIMEOUT_SEC;

	pthread_mutex_lock(&vm->pause.lock);
	while (vm->pause.parked < want && !vm_exiting(vm) && r == 0)
		r = -pthread_cond_timedwait(&vm->pause.cond, &vm->pause.lock, &deadline);
	if (r == 0 && vm_exiting(vm))
		r = -ESHUTDOWN;
	if (r < 0) {
		log_debug("pause: %u of %u vCPUs parked: %s", vm->pause.parked, want, strerror(-r));
		__atomic_store_n(&vm->pause.requested, false, __ATOMIC_SEQ_CST);
		pthread_cond_broadcast(&vm->pause.cond);
	}
	pthread_mutex_unlock(&vm->pause.lock);
	if (r < 0)
		return r;

	struct kvm_clock_data clock = {};
	vm->pause.clock_saved = ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) >= 0;
	if (vm->pause.clock_saved)
		vm->pause.clock = clock.clock;
	else
		log_debug("pause: KVM_GET_CLOCK: %m; guest time will include the pause");
	return 0;
}

int vm_resume(struct vm *vm)
{
	int r = 0;

	pthread_mutex_lock(&vm->pause.lock);
	if (!vm->pause.requested)
		r = -EALREADY;
	else {
		if (vm->pause.clock_saved) {
			struct kvm_clock_data clock = { .clock = vm->pause.clock };

			if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
				log_debug("resume: KVM_SET_CLOCK: %m; guest time will include the pause");
			vm->pause.clock_saved = false;
		}
		__atomic_store_n(&vm->pause.requested, false, __ATOMIC_SEQ_CST);
		pthread_cond_broadcast(&vm->pause.cond);
	}
	pthread_mutex_unlock(&vm->pause.lock);
	return r;
}
