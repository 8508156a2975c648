/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/layout.h"
#include "guest-memory.h"
#include "macro.h"

static int region_add(struct guest_memory *m, uint64_t gpa, uint64_t size)
{
	if (m->n_regions >= GUEST_MEMORY_MAX_REGIONS)
		return -E2BIG;
	void *hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hva == MAP_FAILED)
		return -errno;
	/* Guest RAM is large and sparse: let the host back it with huge pages where it can, and keep
	 * it out of core dumps. */
	(void)madvise(hva, size, MADV_HUGEPAGE);
	(void)madvise(hva, size, MADV_DONTDUMP);
	m->regions[m->n_regions++] = (struct guest_region){ .gpa = gpa, .size = size, .hva = hva };
	m->ram_size += size;
	return 0;
}

int guest_memory_new(uint64_t ram_size, struct guest_memory **ret)
{
	if (ram_size < 16 * MiB || ram_size % (4 * KiB) != 0)
		return -EINVAL;

	struct guest_memory *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;

	uint64_t low = MIN(ram_size, LAYOUT_MMIO_GAP_START);
	int r = region_add(m, 0, low);
	if (r >= 0 && ram_size > low)
		r = region_add(m, LAYOUT_RAM_64BIT_START, ram_size - low);
	if (r < 0) {
		guest_memory_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct guest_memory *guest_memory_free(struct guest_memory *m)
{
	if (!m)
		return NULL;
	for (unsigned i = 0; i < m->n_regions; i++)
		munmap(m->regions[i].hva, m->regions[i].size);
	free(m);
	return NULL;
}

void *guest_memory_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->n_regions; i++) {
		const struct guest_region *g = &m->regions[i];
		/* Written to avoid overflow for any gpa/len a guest can produce. */
		if (gpa >= g->gpa && gpa - g->gpa <= g->size && len <= g->size - (gpa - g->gpa))
			return g->hva + (gpa - g->gpa);
	}
	return NULL;
}

int guest_memory_read(const struct guest_memory *m, uint64_t gpa, void *buf, uint64_t len)
{
	void *p = guest_memory_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_memory_write(const struct guest_memory *m, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p = guest_memory_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

uint64_t guest_memory_low_end(const struct guest_memory *m)
{
	uint64_t end = 0;
	for (unsigned i = 0; i < m->n_regions; i++)
		if (m->regions[i].gpa < LAYOUT_MMIO_GAP_START)
			end = MAX(end, m->regions[i].gpa + m->regions[i].size);
	return end;
}
