/* SPDX-License-Identifier: Apache-2.0 */
/* ELF64 vmlinux entered through the Xen PVH protocol: PT_LOAD segments go to their physical address
 * and the 32-bit entry point comes from the XEN_ELFNOTE_PHYS32_ENTRY note. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot-internal.h"
#include "kernel.h"
#include "macro.h"
#include "memory/guest-memory.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
/* Real kernels have a few KiB of notes; anything far larger is not a kernel. */
#define PVH_NOTE_SEGMENT_MAX (1 * MiB)

/* Walks one PT_NOTE segment. Returns 1 and the entry when found, 0 when absent, -EBADMSG. */
static int pvh_find_entry_note(const uint8_t *notes, uint64_t len, uint64_t *ret_entry,
			       const char **ret_reason)
{
	uint64_t off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr n;
		memcpy(&n, notes + off, sizeof(n));
		uint64_t name_off = off + sizeof(n);
		uint64_t desc_off = name_off + ALIGN_UP((uint64_t)n.n_namesz, 4);
		uint64_t next = desc_off + ALIGN_UP((uint64_t)n.n_descsz, 4);
		if (desc_off > len || next > len)
			return boot_failf(
			    ret_reason, -EBADMSG,
			    "malformed ELF note at offset %" PRIu64 " of a PT_NOTE segment: name (%" PRIu32
			    " bytes) and description (%" PRIu32 " bytes) run past its end (%" PRIu64 ")",
			    off, n.n_namesz, n.n_descsz, len);

		if (n.n_type == XEN_ELFNOTE_PHYS32_ENTRY && n.n_namesz == 4 &&
		    memcmp(notes + name_off, "Xen", 4) == 0) {
			/* Linux emits it with _ASM_PTR (8 bytes on x86-64); the Xen ABI says 32 bits. */
			uint64_t entry = 0;
			if (n.n_descsz != 4 && n.n_descsz != 8)
				return boot_failf(ret_reason, -EBADMSG,
						  "Xen PVH entry note has a %" PRIu32
						  "-byte value, expected 4 or 8",
						  n.n_descsz);
			memcpy(&entry, notes + desc_off, n.n_descsz);
			if (entry == 0 || entry >= 4 * GiB)
				return boot_failf(ret_reason, -EBADMSG,
						  "Xen PVH entry point 0x%" PRIx64
						  " is not a 32-bit physical address",
						  entry);
			*ret_entry = entry;
			return 1;
		}
		off = next;
	}
	return 0;
}

static int pvh_check_header(const Elf64_Ehdr *e, uint64_t size, const char **ret_reason)
{
	if (e->e_ident[EI_CLASS] != ELFCLASS64)
		return boot_failf(ret_reason, -ENOEXEC,
				  "ELF file is not 64-bit (class %u); use an x86-64 kernel",
				  e->e_ident[EI_CLASS]);
	if (e->e_ident[EI_DATA] != ELFDATA2LSB)
		return boot_failf(ret_reason, -ENOEXEC, "ELF file is not little-endian");
	if (e->e_machine != EM_X86_64)
		return boot_failf(ret_reason, -ENOEXEC, "ELF file is for machine %u, not x86-64 (%u)",
				  e->e_machine, EM_X86_64);
	if (e->e_type != ET_EXEC)
		return boot_failf(ret_reason, -ENOEXEC, "ELF file is not an executable (type %u)",
				  e->e_type);
	if (e->e_phnum == 0 || e->e_phnum == PN_XNUM)
		return boot_failf(ret_reason, -ENOEXEC,
				  "ELF file has no usable program headers (e_phnum %u)", e->e_phnum);
	if (e->e_phentsize != sizeof(Elf64_Phdr))
		return boot_failf(ret_reason, -EBADMSG, "ELF program header size is %u, expected %zu",
				  e->e_phentsize, sizeof(Elf64_Phdr));
	uint64_t ph_len = (uint64_t)e->e_phnum * sizeof(Elf64_Phdr);
	if (e->e_phoff > size || ph_len > size - e->e_phoff)
		return boot_failf(ret_reason, -EBADMSG,
				  "file is truncated: %u program headers at offset %" PRIu64
				  " run past the end of the %" PRIu64 "-byte file",
				  e->e_phnum, (uint64_t)e->e_phoff, size);
	return 0;
}

static int pvh_check_load(const Elf64_Phdr *p, unsigned i, uint64_t size, uint64_t low_end,
			  const char **ret_reason)
{
	if (p->p_filesz > p->p_memsz)
		return boot_failf(ret_reason, -EBADMSG,
				  "PT_LOAD segment %u has more file data (0x%" PRIx64
				  ") than memory (0x%" PRIx64 ")",
				  i, (uint64_t)p->p_filesz, (uint64_t)p->p_memsz);
	if (p->p_offset > size || p->p_filesz > size - p->p_offset)
		return boot_failf(ret_reason, -EBADMSG,
				  "file is truncated: PT_LOAD segment %u claims 0x%" PRIx64
				  " bytes at offset 0x%" PRIx64 " but the file has only %" PRIu64 " bytes",
				  i, (uint64_t)p->p_filesz, (uint64_t)p->p_offset, size);
	/* Below 1 MiB live the zero page, start info, page tables, command line and ACPI tables. */
	if (p->p_paddr < LAYOUT_KERNEL_START)
		return boot_failf(ret_reason, -ERANGE,
				  "PT_LOAD segment %u at 0x%" PRIx64
				  " is below 1 MiB, where the VMM keeps its boot data",
				  i, (uint64_t)p->p_paddr);
	/* PVH enters with paging off, so the whole kernel must sit in RAM below 4 GiB. */
	if (p->p_paddr >= low_end || p->p_memsz > low_end - p->p_paddr)
		return boot_failf(ret_reason, -ERANGE,
				  "PT_LOAD segment %u at [0x%" PRIx64 ", +0x%" PRIx64
				  ") lies outside guest RAM below "
				  "4 GiB, which ends at 0x%" PRIx64 "; give the VM more memory",
				  i, (uint64_t)p->p_paddr, (uint64_t)p->p_memsz, low_end);
	return 0;
}

int pvh_elf_load(int fd, uint64_t size, const uint8_t *head, size_t head_len, struct guest_memory *mem,
		 struct kernel_image *ret, const char **ret_reason)
{
	_cleanup_free_ Elf64_Phdr *ph = NULL;
	_cleanup_free_ uint8_t *notes = NULL;
	uint64_t low_end = guest_memory_low_end(mem), entry = 0, start = UINT64_MAX, end = 0;
	bool found = false;
	Elf64_Ehdr e;
	int r;

	if (head_len < sizeof(e))
		return boot_failf(ret_reason, -EBADMSG,
				  "file is truncated: %" PRIu64
				  " bytes is less than an ELF64 header (%zu bytes)",
				  size, sizeof(e));
	memcpy(&e, head, sizeof(e));
	r = pvh_check_header(&e, size, ret_reason);
	if (r < 0)
		return r;

	ph = calloc(e.e_phnum, sizeof(Elf64_Phdr));
	if (!ph)
		return boot_failf(ret_reason, -ENOMEM, "out of memory");
	r = boot_read_at(fd, ph, (size_t)e.e_phnum * sizeof(Elf64_Phdr), e.e_phoff);
	if (r < 0)
		return boot_failf(ret_reason, r, "cannot read the ELF program headers: %s", strerror(-r));

	for (unsigned i = 0; i < e.e_phnum && !found; i++) {
		if (ph[i].p_type != PT_NOTE)
			continue;
		if (ph[i].p_offset > size || ph[i].p_filesz > size - ph[i].p_offset)
			return boot_failf(ret_reason, -EBADMSG,
					  "file is truncated: PT_NOTE segment %u claims 0x%" PRIx64
					  " bytes at offset 0x%" PRIx64 " but the file has only %" PRIu64
					  " bytes",
					  i, (uint64_t)ph[i].p_filesz, (uint64_t)ph[i].p_offset, size);
		if (ph[i].p_filesz > PVH_NOTE_SEGMENT_MAX)
			return boot_failf(ret_reason, -EBADMSG,
					  "PT_NOTE segment %u is implausibly large (%" PRIu64 " bytes)", i,
					  (uint64_t)ph[i].p_filesz);
		free(notes);
		notes = malloc(ph[i].p_filesz ?: 1);
		if (!notes)
			return boot_failf(ret_reason, -ENOMEM, "out of memory");
		r = boot_read_at(fd, notes, ph[i].p_filesz, ph[i].p_offset);
		if (r < 0)
			return boot_failf(ret_reason, r, "cannot read the ELF notes: %s", strerror(-r));
		r = pvh_find_entry_note(notes, ph[i].p_filesz, &entry, ret_reason);
		if (r < 0)
			return r;
		found = r > 0;
	}
	if (!found)
		return boot_failf(
		    ret_reason, -ENOEXEC,
		    "ELF kernel has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); use a bzImage or a "
		    "kernel built with CONFIG_PVH");

	/* Check every segment before writing any, so a bad file leaves guest RAM untouched. */
	for (unsigned i = 0; i < e.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		r = pvh_check_load(&ph[i], i, size, low_end, ret_reason);
		if (r < 0)
			return r;
		start = MIN(start, (uint64_t)ph[i].p_paddr);
		end = MAX(end, (uint64_t)(ph[i].p_paddr + ph[i].p_memsz));
	}
	if (end == 0)
		return boot_failf(ret_reason, -ENOEXEC, "ELF file has no loadable segments");
	if (entry < start || entry >= end)
		return boot_failf(ret_reason, -EBADMSG,
				  "Xen PVH entry point 0x%" PRIx64
				  " lies outside the loaded kernel [0x%" PRIx64 ", 0x%" PRIx64 ")",
				  entry, start, end);

	for (unsigned i = 0; i < e.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		uint8_t *dst = guest_memory_ptr(mem, ph[i].p_paddr, ph[i].p_memsz);
		if (!dst)
			return boot_failf(ret_reason, -ERANGE,
					  "PT_LOAD segment %u does not fit in guest RAM", i);
		r = boot_read_at(fd, dst, ph[i].p_filesz, ph[i].p_offset);
		if (r < 0)
			return boot_failf(ret_reason, r, "cannot read the kernel file: %s",
					  r == -EIO ? "it became shorter while being read" : strerror(-r));
		memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
	}

	*ret = (struct kernel_image){
	    .protocol = BOOT_PROTOCOL_PVH,
	    .entry = entry,
	    .load_start = start,
	    .load_end = end,
	    .initrd_addr_max = 4 * GiB - 1,
	    .cmdline_size = LAYOUT_CMDLINE_MAX - 1,
	};
	return 0;
}
