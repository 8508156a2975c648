/* SPDX-License-Identifier: Apache-2.0 */
/* One vCPU: its KVM fd, the shared kvm_run page and the thread that runs it. Exits are dispatched
 * to the VM's port-I/O and MMIO buses; fatal exits are reported with enough detail to debug the
 * guest (exit reason, suberror, RIP, instruction bytes) and stop the VM. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_run;

/* Why KVM_RUN returned, counted by the vCPU thread and read by anyone (relaxed atomics). */
struct vcpu_stats {
	uint64_t exits;      /* every return from KVM_RUN */
	uint64_t exits_io;   /* port I/O */
	uint64_t exits_mmio; /* MMIO */
	uint64_t exits_intr; /* a signal interrupted KVM_RUN (kicks: pause, stop) */
};

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	struct vcpu_stats stats;
};

int vcpu_new(struct vm *vm, unsigned index, struct vcpu **ret);
struct vcpu *vcpu_free(struct vcpu *v);

int vcpu_start(struct vcpu *v);
/* Makes a running KVM_RUN return promptly (immediate_exit + signal). */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_get_stats(struct vcpu *v, struct vcpu_stats *ret);

/* Installs the no-op handler for the kick signal; call once per process. */
int vcpu_signals_init(void);
/* Prints the state of a vCPU a fatal exit left behind (registers, instruction bytes). */
void vcpu_report_fatal(struct vcpu *v, const char *what);
