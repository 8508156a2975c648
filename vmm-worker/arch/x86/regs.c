/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "memory/guest-memory.h"

#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PAE (1ULL << 5)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)

#define PTE_PRESENT (1ULL << 0)
#define PTE_WRITE (1ULL << 1)
#define PTE_PS (1ULL << 7)

/* GDT slots. Linux reloads its own GDT at once; these only have to be valid until then. */
enum {
	GDT_NULL,
	GDT_CODE64,
	GDT_CODE32,
	GDT_DATA,
	GDT_TSS,
	_GDT_MAX,
};

/* Packs a segment descriptor from access/flags bits, base and 20-bit limit. */
#define GDT_ENTRY(flags, base, limit)                                                               \
	((((uint64_t)(base) & 0xff000000ULL) << 32) | (((uint64_t)(flags) & 0xf0ffULL) << 40) |     \
	 (((uint64_t)(limit) & 0x000f0000ULL) << 32) | (((uint64_t)(base) & 0x00ffffffULL) << 16) | \
	 ((uint64_t)(limit) & 0x0000ffffULL))

static const uint64_t boot_gdt[_GDT_MAX] = {
	[GDT_NULL] = 0,
	[GDT_CODE64] = GDT_ENTRY(0xa09b, 0, 0xfffff), /* 64-bit code, execute/read */
	[GDT_CODE32] = GDT_ENTRY(0xc09b, 0, 0xfffff), /* 32-bit flat code for PVH */
	[GDT_DATA] = GDT_ENTRY(0xc093, 0, 0xfffff),   /* flat read/write data */
	[GDT_TSS] = GDT_ENTRY(0x808b, 0, 0),          /* busy 32-bit TSS, required by VMX */
};

/* Decodes a GDT descriptor into KVM's segment form so both views stay consistent. */
static struct kvm_segment segment_from_gdt(unsigned index)
{
	uint64_t e = boot_gdt[index];
	return (struct kvm_segment){
		.base = ((e >> 16) & 0xffffff) | (((e >> 56) & 0xff) << 24),
		.limit = (uint32_t)((e & 0xffff) | (((e >> 48) & 0xf) << 16)),
		.selector = (uint16_t)(index * 8),
		.type = (e >> 40) & 0xf,
		.present = (e >> 47) & 1,
		.dpl = (e >> 45) & 3,
		.db = (e >> 54) & 1,
		.s = (e >> 44) & 1,
		.l = (e >> 53) & 1,
		.g = (e >> 55) & 1,
		.avl = (e >> 52) & 1,
	};
}

static void segment_fix_limit(struct kvm_segment *s)
{
	/* KVM wants the byte-granular limit. */
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
}

int regs_write_boot_tables(struct guest_memory *mem)
{
	int r = guest_memory_write(mem, LAYOUT_BOOT_GDT, boot_gdt, sizeof(boot_gdt));
	if (r < 0)
		return r;
	uint64_t idt = 0;
	r = guest_memory_write(mem, LAYOUT_BOOT_IDT, &idt, sizeof(idt));
	if (r < 0)
		return r;

	/* Identity map of the first 4 GiB with 2 MiB pages: covers kernel, zero page, command line
	 * and an initramfs anywhere below 4 GiB, as the 64-bit boot protocol requires. */
	uint64_t pml4 = LAYOUT_PDPT | PTE_PRESENT | PTE_WRITE;
	r = guest_memory_write(mem, LAYOUT_PML4, &pml4, sizeof(pml4));
	if (r < 0)
		return r;
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t pdpte = (LAYOUT_PD + i * 0x1000) | PTE_PRESENT | PTE_WRITE;
		r = guest_memory_write(mem, LAYOUT_PDPT + i * 8, &pdpte, sizeof(pdpte));
		if (r < 0)
			return r;
	}
	for (uint64_t i = 0; i < 4 * 512; i++) {
		uint64_t pde = (i << 21) | PTE_PRESENT | PTE_WRITE | PTE_PS;
		r = guest_memory_write(mem, LAYOUT_PD + i * 8, &pde, sizeof(pde));
		if (r < 0)
			return r;
	}
	return 0;
}

static int setup_sregs(int vcpu_fd, unsigned code_index, bool long_mode)
{
	struct kvm_sregs sregs;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;

	struct kvm_segment code = segment_from_gdt(code_index);
	struct kvm_segment data = segment_from_gdt(GDT_DATA);
	struct kvm_segment tss = segment_from_gdt(GDT_TSS);
	segment_fix_limit(&code);
	segment_fix_limit(&data);
	segment_fix_limit(&tss);

	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = tss;
	sregs.gdt.base = LAYOUT_BOOT_GDT;
	sregs.gdt.limit = sizeof(boot_gdt) - 1;
	sregs.idt.base = LAYOUT_BOOT_IDT;
	sregs.idt.limit = 0;

	sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
	sregs.cr4 = 0;
	sregs.efer = 0;
	sregs.cr3 = 0;
	if (long_mode) {
		sregs.cr3 = LAYOUT_PML4;
		sregs.cr4 |= X86_CR4_PAE;
		sregs.cr0 |= X86_CR0_PG;
		sregs.efer |= X86_EFER_LME | X86_EFER_LMA;
	}
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	return 0;
}

int regs_setup_linux64(int vcpu_fd, uint64_t entry, uint64_t boot_params)
{
	int r = setup_sregs(vcpu_fd, GDT_CODE64, true);
	if (r < 0)
		return r;
	struct kvm_regs regs = {
		.rflags = 0x2, /* bit 1 is reserved and always set */
		.rip = entry,
		.rsp = LAYOUT_BOOT_STACK,
		.rbp = LAYOUT_BOOT_STACK,
		.rsi = boot_params,
	};
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int regs_setup_pvh(int vcpu_fd, uint64_t entry, uint64_t start_info)
{
	int r = setup_sregs(vcpu_fd, GDT_CODE32, false);
	if (r < 0)
		return r;
	struct kvm_regs regs = {
		.rflags = 0x2,
		.rip = entry,
		.rbx = start_info,
	};
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int regs_setup_fpu(int vcpu_fd)
{
	struct kvm_fpu fpu = {
		.fcw = 0x37f,
		.mxcsr = 0x1f80,
	};
	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static uint32_t lapic_get(const struct kvm_lapic_state *s, unsigned reg)
{
	uint32_t v;
	memcpy(&v, s->regs + reg, sizeof(v));
	return v;
}

static void lapic_set(struct kvm_lapic_state *s, unsigned reg, uint32_t v)
{
	memcpy(s->regs + reg, &v, sizeof(v));
}

static uint32_t lvt_set_delivery_mode(uint32_t lvt, uint32_t mode)
{
	return (lvt & ~0x700u) | (mode << 8);
}

int regs_setup_lapic(int vcpu_fd)
{
	struct kvm_lapic_state lapic;
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	lapic_set(&lapic, APIC_LVT0, lvt_set_delivery_mode(lapic_get(&lapic, APIC_LVT0), APIC_MODE_EXTINT));
	lapic_set(&lapic, APIC_LVT1, lvt_set_delivery_mode(lapic_get(&lapic, APIC_LVT1), APIC_MODE_NMI));
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}
