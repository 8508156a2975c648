/* SPDX-License-Identifier: Apache-2.0 */
/* The VM context object: one KVM VM, its guest memory, buses, devices and vCPUs. Every subsystem
 * receives it explicitly. A VM lives for one guest boot: a guest reset tears it down and main()
 * builds a fresh one from the same configuration. */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

struct vmm_config;
struct guest_memory;
struct kvm_cpuid2;
struct vcpu;
struct serial;
struct i8042;
struct cmos;
struct debug_port;
struct acpi_pm;
struct ged;
struct pci_bus;
struct msi_routes;
struct msix_kvm;
struct virtio_pci;
struct virtio_device;
struct chardev;

#define VM_MAX_VIRTIO 16

/* Why a VM stopped; the first reason reported wins. */
enum vm_exit {
	VM_EXIT_NONE,
	VM_EXIT_POWEROFF, /* guest ACPI S5 */
	VM_EXIT_RESET,    /* guest reboot: rebuild and boot again */
	VM_EXIT_STOP,     /* host asked (SIGTERM, SIGINT) */
	VM_EXIT_ERROR,    /* triple fault, KVM internal error, host failure */
	_VM_EXIT_MAX,
	_VM_EXIT_INVALID = -EINVAL,
};

const char *vm_exit_to_string(enum vm_exit e);
enum vm_exit vm_exit_from_string(const char *s);

/* Pausing: the main thread asks, every vCPU thread parks itself outside KVM_RUN (vm-pause.c). */
struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* parked changed, the pause was lifted, or the VM is exiting */
	bool requested;
	unsigned parked;
	bool clock_saved; /* clock holds the kvmclock read when the last vCPU parked */
	uint64_t clock;
};

/* Context for one interrupt line: devices get a callback plus this as opaque. */
struct vm_irq {
	struct vm *vm;
	uint32_t gsi;
};

struct vm {
	const struct vmm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct kvm_cpuid2 *cpuid;
	struct guest_memory *mem;

	struct bus pio;
	struct bus mmio;

	int serial_fd; /* not owned: -1 discards output */
	struct chardev *console; /* not owned: the virtio-console's backend, NULL for none */
	struct vm_irq irq_serial;
	struct vm_irq irq_ged;
	struct serial *serial;
	struct i8042 *i8042;
	struct cmos *cmos;
	struct debug_port *debug_port;
	struct acpi_pm *acpi_pm;
	struct ged *ged;

	struct pci_bus *pci;
	struct msi_routes *msi;
	struct virtio_pci *virtio[VM_MAX_VIRTIO];
	struct msix_kvm *virtio_msix[VM_MAX_VIRTIO];
	unsigned n_virtio;

	struct vcpu **vcpus;
	unsigned n_vcpus;

	int exit_fd;   /* eventfd: becomes readable once exit_reason is set */
	int exit_reason; /* enum vm_exit, written once with a compare-and-swap */

	struct vm_pause pause;
};

/* Creates the VM, loads kernel and initramfs, builds ACPI tables and the vCPUs (not yet running).
 * serial_fd and console are the host ends of the serial port and the virtio console; they outlive
 * the VM (a pty keeps its path across reboots). Logs the reason of a failure itself. */
int vm_new(const struct vmm_config *cfg, int serial_fd, struct chardev *console, struct vm **ret);
struct vm *vm_free(struct vm *vm);

int vm_start(struct vm *vm);
/* Records the reason (first caller wins) and wakes the main loop; safe from any thread. */
void vm_request_exit(struct vm *vm, enum vm_exit reason);
/* Stops and joins every vCPU thread; returns the recorded exit reason. */
enum vm_exit vm_stop(struct vm *vm);

void vm_irq_set(void *opaque, bool level);

/* Pause and resume (vm-pause.c), called from the main thread. vm_pause() returns once every vCPU
 * is parked outside KVM_RUN (the guest's kvmclock is then saved), -EALREADY when already paused,
 * -ESHUTDOWN when the VM is exiting, -ETIMEDOUT when a vCPU did not park within a few seconds (the
 * pause is then undone). vm_resume() restores the kvmclock, so guest time does not jump by the
 * paused time, and releases the vCPUs; -EALREADY when not paused. */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
/* For vCPU threads: whether to park, and the parking itself (returns when resumed or exiting). */
bool vm_pause_requested(struct vm *vm);
void vm_pause_park(struct vcpu *v);
/* Setup and teardown of vm->pause; vm_pause_wake() releases parked vCPUs when the VM exits. */
int vm_pause_init(struct vm *vm);
void vm_pause_done(struct vm *vm);
void vm_pause_wake(struct vm *vm);

/* Internal pieces of vm_new(), one file each. */
int vm_devices_setup(struct vm *vm);
void vm_devices_free(struct vm *vm);
int vm_boot_setup(struct vm *vm);
/* vm-pci.c: the PCI bus, its config mechanisms and windows, MSI routing, the virtio devices of the
 * configuration. */
int vm_pci_setup(struct vm *vm);
void vm_pci_free(struct vm *vm);
/* Puts vdev (owned from here on, also on failure) on the PCI bus behind a virtio-pci transport
 * with MSI-X through KVM. Logs failures. */
int vm_add_virtio(struct vm *vm, struct virtio_device *vdev);
