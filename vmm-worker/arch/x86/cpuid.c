/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/cpuid.h"
#include "macro.h"

#define CPUID_MAX_ENTRIES 256
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_6_ECX_EPB (1u << 3) /* energy bias MSR, which we do not emulate */
#define CPUID_TOPO_LEVEL_SMT 1
#define CPUID_TOPO_LEVEL_CORE 2

int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **ret)
{
	size_t size = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	_cleanup_free_ struct kvm_cpuid2 *c = calloc(1, size);
	if (!c)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0)
		return -errno;
	*ret = TAKE_PTR(c);
	return 0;
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_patch(struct kvm_cpuid2 *cpuid, uint32_t apic_id, unsigned n_cpus)
{
	/* One package, one thread per core, n_cpus cores: the simplest topology Linux accepts. */
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		switch (e->function) {
		case 0x1:
			e->ebx = (e->ebx & 0x0000ffffu) | ((uint32_t)MIN(n_cpus, 255u) << 16) | (apic_id << 24);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (n_cpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			break;
		case 0x4:
			/* Cache leaves: bits 31..26 are "cores per package - 1", 25..14 the sharing. */
			e->eax &= 0x3fff;
			e->eax |= (uint32_t)(MIN(n_cpus, 64u) - 1) << 26;
			break;
		case 0x6:
			e->ecx &= ~CPUID_6_ECX_EPB;
			break;
		case 0xb:
		case 0x1f:
			e->edx = apic_id;
			if (e->index == 0) {
				e->eax = 0; /* one thread per core: no SMT bits in the APIC ID */
				e->ebx = 1;
				e->ecx = (CPUID_TOPO_LEVEL_SMT << 8) | e->index;
			} else if (e->index == 1) {
				e->eax = bits_for(n_cpus);
				e->ebx = n_cpus;
				e->ecx = (CPUID_TOPO_LEVEL_CORE << 8) | e->index;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:
			/* AMD: NC (cores - 1) and the APIC ID size used for them. */
			e->ecx = (e->ecx & ~0xf0ffu) | (MIN(n_cpus, 256u) - 1) | (bits_for(n_cpus) << 12);
			break;
		default:
			break;
		}
	}
}

int cpuid_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported, uint32_t apic_id, unsigned n_cpus)
{
	size_t size = sizeof(struct kvm_cpuid2) + supported->nent * sizeof(struct kvm_cpuid_entry2);
	_cleanup_free_ struct kvm_cpuid2 *c = malloc(size);
	if (!c)
		return -ENOMEM;
	memcpy(c, supported, size);
	cpuid_patch(c, apic_id, n_cpus);
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		return -errno;
	return 0;
}
