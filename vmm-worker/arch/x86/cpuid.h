/* SPDX-License-Identifier: Apache-2.0 */
/* Guest CPUID: what KVM supports on this host, with the topology and identity a Linux guest needs
 * (APIC IDs, logical processor counts, the hypervisor bit). */
#pragma once

#include <stdint.h>

struct kvm_cpuid2;

/* Fetches KVM_GET_SUPPORTED_CPUID once per VM; free() the result. */
int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **ret);
/* Patches a copy of the supported table for one vCPU and installs it with KVM_SET_CPUID2. */
int cpuid_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported, uint32_t apic_id, unsigned n_cpus);
/* Applies the per-vCPU changes in place: split out so unit tests can check them without KVM. */
void cpuid_patch(struct kvm_cpuid2 *cpuid, uint32_t apic_id, unsigned n_cpus);
