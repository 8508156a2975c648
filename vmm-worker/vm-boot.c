/* SPDX-License-Identifier: Apache-2.0 */
/* Direct kernel boot: load the kernel and initramfs, build the ACPI tables and the boot protocol's
 * hand-off structure, and put the bootstrap vCPU at the kernel's entry point. The other vCPUs stay
 * in the wait-for-SIPI state KVM gives them until the guest starts them. */
#include <errno.h>
#include <string.h>

#include "acpi/acpi.h"
#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "boot/boot-params.h"
#include "boot/kernel.h"
#include "boot/reset-stub.h"
#include "cli/config.h"
#include "log.h"
#include "memory/guest-memory.h"
#include "pci/pci.h"
#include "vcpu.h"
#include "vm.h"

static int vm_acpi_setup(struct vm *vm, uint64_t *ret_rsdp)
{
	struct acpi_config acfg = {
		.n_cpus_boot = vm->cfg->cpus_boot,
		.n_cpus_max = vm->cfg->cpus_max,
		.serial = vm->serial != NULL,
		.pci = vm->pci != NULL,
	};
	if (vm->pci) {
		acfg.pci_mmio64_start = vm->pci->mmio64.base;
		acfg.pci_mmio64_size = vm->pci->mmio64.size;
	}
	uint8_t *buf = guest_memory_ptr(vm->mem, LAYOUT_ACPI_START, LAYOUT_ACPI_SIZE);
	if (!buf)
		return log_error_errno(EFAULT, "guest RAM does not cover the ACPI area");
	size_t used;
	int r = acpi_build(&acfg, LAYOUT_ACPI_START, buf, LAYOUT_ACPI_SIZE, &used);
	if (r < 0)
		return log_error_errno(r, "cannot build the ACPI tables: %s", strerror(-r));
	log_debug("ACPI tables: %zu bytes at 0x%llx", used, (unsigned long long)LAYOUT_ACPI_START);
	*ret_rsdp = LAYOUT_ACPI_START;
	return 0;
}

int vm_boot_setup(struct vm *vm)
{
	const struct vmm_config *cfg = vm->cfg;
	const char *reason = NULL;
	struct kernel_image k;
	int r;

	if (!cfg->kernel)
		return log_error_errno(EINVAL, "no kernel to boot: pass --kernel PATH");

	r = kernel_load(cfg->kernel, vm->mem, &k, &reason);
	if (r < 0)
		return log_error_errno(r, "cannot load kernel '%s': %s", cfg->kernel, reason ? reason : strerror(-r));
	log_debug("kernel '%s': %s, entry 0x%llx", cfg->kernel, boot_protocol_to_string(k.protocol),
		  (unsigned long long)k.entry);

	struct boot_setup setup = { .cmdline = cfg->cmdline ? cfg->cmdline : "" };
	if (cfg->initramfs) {
		r = initramfs_load(cfg->initramfs, vm->mem, &k, &setup.initrd_gpa, &setup.initrd_size, &reason);
		if (r < 0)
			return log_error_errno(r, "cannot load initramfs '%s': %s", cfg->initramfs,
					       reason ? reason : strerror(-r));
	}

	r = vm_acpi_setup(vm, &setup.rsdp_gpa);
	if (r < 0)
		return r;
	r = reset_stub_write(vm->mem);
	if (r < 0)
		return log_error_errno(r, "cannot write the reset stub: %s", strerror(-r));
	r = regs_write_boot_tables(vm->mem);
	if (r < 0)
		return log_error_errno(r, "cannot write the boot page tables: %s", strerror(-r));

	int bsp = vm->vcpus[0]->fd;
	switch (k.protocol) {
	case BOOT_PROTOCOL_LINUX64:
		r = linux_boot_params_write(vm->mem, &k, &setup, &reason);
		if (r < 0)
			return log_error_errno(r, "cannot boot '%s': %s", cfg->kernel, reason ? reason : strerror(-r));
		r = regs_setup_linux64(bsp, k.entry, LAYOUT_ZERO_PAGE);
		break;
	case BOOT_PROTOCOL_PVH:
		r = pvh_start_info_write(vm->mem, &k, &setup, &reason);
		if (r < 0)
			return log_error_errno(r, "cannot boot '%s': %s", cfg->kernel, reason ? reason : strerror(-r));
		r = regs_setup_pvh(bsp, k.entry, LAYOUT_PVH_INFO);
		break;
	case _BOOT_PROTOCOL_MAX:
	case _BOOT_PROTOCOL_INVALID:
	default:
		return log_error_errno(EINVAL, "kernel loader returned an unknown boot protocol");
	}
	if (r < 0)
		return log_error_errno(r, "cannot set the boot vCPU's registers: %s", strerror(-r));
	return 0;
}
