/* SPDX-License-Identifier: Apache-2.0 */
/* The report a user needs when a guest dies: what happened, where (RIP, mode), and the bytes of
 * the instruction, so an emulation failure can be matched to its instruction at a glance. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "memory/guest-memory.h"
#include "vcpu.h"
#include "vm.h"

#define INSN_MAX_BYTES 15

static int read_insn(struct vcpu *v, const struct kvm_regs *regs, const struct kvm_sregs *sregs,
		     uint8_t *buf, size_t *ret_len)
{
	uint64_t linear = sregs->cs.base + regs->rip;
	size_t n = 0;
	/* Translate page by page: the instruction may straddle a page boundary. */
	while (n < INSN_MAX_BYTES) {
		struct kvm_translation t = { .linear_address = linear + n };
		if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
			break;
		size_t chunk = MIN((size_t)INSN_MAX_BYTES - n, 4096 - ((linear + n) & 4095));
		if (guest_memory_read(v->vm->mem, t.physical_address, buf + n, chunk) < 0)
			break;
		n += chunk;
	}
	*ret_len = n;
	return n > 0 ? 0 : -EFAULT;
}

static const char *cpu_mode(const struct kvm_sregs *s)
{
	if (!(s->cr0 & 1))
		return "real mode";
	if (s->efer & (1 << 10))
		return s->cs.l ? "64-bit mode" : "compatibility mode";
	return "protected mode";
}

void vcpu_report(struct vcpu *v, enum log_level level, const char *what)
{
	if (log_get_level() < level)
		return;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		log_full_errno(level, 0, "vCPU %u: %s (registers unavailable: %m)", v->index, what);
		return;
	}

	char bytes[INSN_MAX_BYTES * 3 + 1] = "unreadable";
	uint8_t insn[INSN_MAX_BYTES];
	size_t len;
	if (read_insn(v, &regs, &sregs, insn, &len) >= 0)
		for (size_t i = 0, n = 0; i < len; i++)
			n += snprintf(bytes + n, sizeof(bytes) - n, "%s%02x", i ? " " : "", insn[i]);

	log_full_errno(level, 0, "vCPU %u: %s at RIP 0x%llx (%s, CS base 0x%llx); instruction bytes: %s", v->index, what,
		  (unsigned long long)regs.rip, cpu_mode(&sregs), (unsigned long long)sregs.cs.base, bytes);
	log_full_errno(level, 0, "vCPU %u: RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx RSP=%016llx RFLAGS=%08llx "
		  "CR0=%llx CR3=%llx CR4=%llx EFER=%llx",
		  v->index, (unsigned long long)regs.rax, (unsigned long long)regs.rbx,
		  (unsigned long long)regs.rcx, (unsigned long long)regs.rdx, (unsigned long long)regs.rsp,
		  (unsigned long long)regs.rflags, (unsigned long long)sregs.cr0, (unsigned long long)sregs.cr3,
		  (unsigned long long)sregs.cr4, (unsigned long long)sregs.efer);
}

void vcpu_report_fatal(struct vcpu *v, const char *what)
{
	vcpu_report(v, LOG_LEVEL_ERROR, what);
}
