/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "cli/config.h"
#include "log.h"
#include "memory/guest-memory.h"
#include "vcpu.h"
#include "vm.h"

static const char *const vm_exit_table[_VM_EXIT_MAX] = {
	[VM_EXIT_NONE] = "none",
	[VM_EXIT_POWEROFF] = "poweroff",
	[VM_EXIT_RESET] = "reset",
	[VM_EXIT_STOP] = "stop",
	[VM_EXIT_ERROR] = "error",
};

const char *vm_exit_to_string(enum vm_exit e)
{
	if ((int)e < 0 || e >= _VM_EXIT_MAX)
		return NULL;
	return vm_exit_table[e];
}

enum vm_exit vm_exit_from_string(const char *s)
{
	for (int i = 0; s && i < _VM_EXIT_MAX; i++)
		if (strcmp(vm_exit_table[i], s) == 0)
			return i;
	return _VM_EXIT_INVALID;
}

/* KVM capabilities the VMM cannot work without. */
static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

static int kvm_open(struct vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return log_error_errno(errno, "cannot open /dev/kvm: %m (is the kvm module loaded, and may this user use it?)");

	int version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		return log_error_errno(ENOTSUP, "/dev/kvm speaks API version %d, this VMM needs %d", version,
				       KVM_API_VERSION);
	for (size_t i = 0; i < ELEMENTSOF(required_caps); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return log_error_errno(ENOTSUP, "/dev/kvm lacks %s, which this VMM needs",
					       required_caps[i].name);

	int max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus > 0 && vm->cfg->cpus_max > (unsigned)max_vcpus)
		return log_error_errno(EINVAL, "--cpus: max=%u exceeds what this host's KVM allows (%d)",
				       vm->cfg->cpus_max, max_vcpus);

	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0)
		return log_error_errno(errno, "KVM_GET_VCPU_MMAP_SIZE failed: %m");

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return log_error_errno(errno, "cannot create a KVM VM: %m");
	return 0;
}

static int vm_memory_setup(struct vm *vm)
{
	int r = guest_memory_new(vm->cfg->memory_size, &vm->mem);
	if (r < 0)
		return log_error_errno(r, "cannot allocate %llu MiB of guest memory: %s",
				       (unsigned long long)(vm->cfg->memory_size / MiB), strerror(-r));

	for (unsigned i = 0; i < vm->mem->n_regions; i++) {
		const struct guest_region *g = &vm->mem->regions[i];
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = g->gpa,
			.memory_size = g->size,
			.userspace_addr = (uintptr_t)g->hva,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			return log_error_errno(errno, "KVM_SET_USER_MEMORY_REGION for guest RAM at 0x%llx failed: %m",
					       (unsigned long long)g->gpa);
	}
	return 0;
}

/* In-kernel PIC + IOAPIC + LAPICs and the PIT: interrupt delivery and the timer stay in the kernel,
 * which keeps exits (and latency) down; userspace only raises lines. */
static int vm_irqchip_setup(struct vm *vm)
{
	/* Intel VMX needs these two pages for real-mode emulation; other hosts ignore them. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_TSS_START) < 0)
		log_debug("KVM_SET_TSS_ADDR: %m");
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t addr = LAYOUT_IDENTITY_MAP;
		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			log_debug("KVM_SET_IDENTITY_MAP_ADDR: %m");
	}

	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return log_error_errno(errno, "KVM_CREATE_IRQCHIP failed: %m");

	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return log_error_errno(errno, "KVM_CREATE_PIT2 failed: %m");
	return 0;
}

void vm_irq_set(void *opaque, bool level)
{
	struct vm_irq *irq = opaque;
	struct kvm_irq_level l = { .irq = irq->gsi, .level = level };
	if (ioctl(irq->vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		log_debug("KVM_IRQ_LINE %u: %m", irq->gsi);
}

int vm_new(const struct vmm_config *cfg, int serial_fd, struct chardev *console, struct vm **ret)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return log_error_errno(ENOMEM, "out of memory");
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->exit_fd = -1;
	vm->serial_fd = serial_fd;
	vm->console = console;

	int r = vm_pause_init(vm);
	if (r < 0) {
		free(vm);
		return log_error_errno(r, "cannot set up pausing: %s", strerror(-r));
	}
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_fd < 0) {
		r = log_error_errno(errno, "eventfd: %m");
		goto fail;
	}

	r = kvm_open(vm);
	if (r < 0)
		goto fail;
	r = cpuid_get_supported(vm->kvm_fd, &vm->cpuid);
	if (r < 0) {
		log_error_errno(r, "KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-r));
		goto fail;
	}
	r = vm_memory_setup(vm);
	if (r < 0)
		goto fail;
	r = vm_irqchip_setup(vm);
	if (r < 0)
		goto fail;
	r = vm_devices_setup(vm);
	if (r < 0)
		goto fail;
	r = vm_pci_setup(vm);
	if (r < 0)
		goto fail;

	/* Only the boot vCPUs exist for now; max > boot becomes useful with CPU hot-plug. */
	vm->n_vcpus = cfg->cpus_boot;
	vm->vcpus = calloc(vm->n_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = log_error_errno(ENOMEM, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		r = vcpu_new(vm, i, &vm->vcpus[i]);
		if (r < 0)
			goto fail;
	}

	r = vm_boot_setup(vm);
	if (r < 0)
		goto fail;

	*ret = vm;
	return 0;
fail:
	vm_free(vm);
	return r;
}

int vm_start(struct vm *vm)
{
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		int r = vcpu_start(vm->vcpus[i]);
		if (r < 0)
			return log_error_errno(r, "cannot start vCPU %u: %s", i, strerror(-r));
	}
	return 0;
}

void vm_request_exit(struct vm *vm, enum vm_exit reason)
{
	int expected = VM_EXIT_NONE;
	if (__atomic_compare_exchange_n(&vm->exit_reason, &expected, (int)reason, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST)) {
		uint64_t one = 1;
		(void)!write(vm->exit_fd, &one, sizeof(one));
	}
	vm_pause_wake(vm);
	/* Stop every vCPU now: a reset or power-off must not let the others keep running. */
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i])
			vcpu_kick(vm->vcpus[i]);
}

enum vm_exit vm_stop(struct vm *vm)
{
	vm_request_exit(vm, VM_EXIT_STOP);
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i])
			vcpu_join(vm->vcpus[i]);
	return __atomic_load_n(&vm->exit_reason, __ATOMIC_SEQ_CST);
}

struct vm *vm_free(struct vm *vm)
{
	if (!vm)
		return NULL;
	if (vm->vcpus) {
		vm_stop(vm);
		for (unsigned i = 0; i < vm->n_vcpus; i++)
			vcpu_free(vm->vcpus[i]);
		free(vm->vcpus);
	}
	vm_pci_free(vm);
	vm_devices_free(vm);
	safe_close(vm->vm_fd);
	safe_close(vm->kvm_fd);
	safe_close(vm->exit_fd);
	guest_memory_free(vm->mem);
	free(vm->cpuid);
	vm_pause_done(vm);
	free(vm);
	return NULL;
}
