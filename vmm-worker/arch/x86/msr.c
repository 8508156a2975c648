/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/msr.h"
#include "macro.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define MISC_ENABLE_FAST_STRING (1ULL << 0)
#define MTRR_ENABLE (1ULL << 11)
#define MTRR_TYPE_WRBACK 6ULL

static const struct {
	uint32_t index;
	uint64_t value;
} boot_msrs[] = {
	{ MSR_IA32_SYSENTER_CS, 0 },
	{ MSR_IA32_SYSENTER_ESP, 0 },
	{ MSR_IA32_SYSENTER_EIP, 0 },
	{ MSR_STAR, 0 },
	{ MSR_CSTAR, 0 },
	{ MSR_KERNEL_GS_BASE, 0 },
	{ MSR_SYSCALL_MASK, 0 },
	{ MSR_LSTAR, 0 },
	{ MSR_IA32_TSC, 0 },
	{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
	{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRBACK },
};

int msr_setup_vcpu(int vcpu_fd)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[ELEMENTSOF(boot_msrs)];
	} msrs;
	memset(&msrs, 0, sizeof(msrs));

	for (size_t i = 0; i < ELEMENTSOF(boot_msrs); i++) {
		msrs.entries[i].index = boot_msrs[i].index;
		msrs.entries[i].data = boot_msrs[i].value;
	}
	msrs.hdr.nmsrs = ELEMENTSOF(boot_msrs);

	/* KVM_SET_MSRS returns how many it set; a host may refuse one (e.g. MISC_ENABLE on AMD): set
	 * the rest one by one rather than failing the boot. */
	int n = ioctl(vcpu_fd, KVM_SET_MSRS, &msrs);
	if (n < 0)
		return -errno;
	for (size_t i = (size_t)n + 1; i < ELEMENTSOF(boot_msrs); i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry entry;
		} one = { .hdr.nmsrs = 1, .entry = msrs.entries[i] };
		(void)ioctl(vcpu_fd, KVM_SET_MSRS, &one);
	}
	return 0;
}
