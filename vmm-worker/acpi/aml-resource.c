/* SPDX-License-Identifier: Apache-2.0 */
/* Resource descriptors (ACPI 6.5 section 6.4), written inside aml_resource_template_begin(). */
#include <errno.h>

#include "acpi/aml-internal.h"
#include "acpi/aml.h"
#include "macro.h"

/* Small items: tag 0b0nnnnlll (name n, length l); large items: 0x80 | name, then a 16-bit length */
#define RES_IRQ_NOFLAGS 0x22
#define RES_IO 0x47
#define RES_MEMORY32_FIXED 0x86
#define RES_DWORD_ADDRESS 0x87
#define RES_WORD_ADDRESS 0x88
#define RES_EXT_INTERRUPT 0x89
#define RES_QWORD_ADDRESS 0x8a

int aml_rt_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	int r = aml_in_template(a);
	if (r < 0)
		return r;
	if (min > max)
		return aml_fail(a, -EINVAL);
	/* Info bit 0, Decode16: the device decodes all 16 address lines. */
	const uint8_t b[] = {RES_IO, 0x01, min & 0xff, min >> 8, max & 0xff, max >> 8, align, len};
	return aml_append_raw(a, b, sizeof(b));
}

int aml_rt_irq_noflags(struct aml *a, unsigned irq)
{
	int r = aml_in_template(a);
	if (r < 0)
		return r;
	if (irq > 15)
		return aml_fail(a, -EINVAL);
	const uint8_t b[] = {RES_IRQ_NOFLAGS, (uint8_t)(1u << irq), (uint8_t)((1u << irq) >> 8)};
	return aml_append_raw(a, b, sizeof(b));
}

int aml_rt_interrupt(struct aml *a, uint8_t flags, const uint32_t *irqs, unsigned n_irqs)
{
	int r = aml_in_template(a);
	if (r < 0)
		return r;
	if (n_irqs == 0 || n_irqs > UINT8_MAX || (flags & ~0x1f))
		return aml_fail(a, -EINVAL);
	r = aml_emit_byte(a, RES_EXT_INTERRUPT);
	if (r >= 0)
		r = aml_emit_le(a, 2 + 4 * n_irqs, 2);
	if (r >= 0)
		r = aml_emit_byte(a, flags);
	if (r >= 0)
		r = aml_emit_byte(a, (uint8_t)n_irqs);
	for (unsigned i = 0; r >= 0 && i < n_irqs; i++)
		r = aml_emit_le(a, irqs[i], 4);
	return r;
}

int aml_rt_memory32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len)
{
	int r = aml_in_template(a);
	if (r >= 0)
		r = aml_emit_byte(a, RES_MEMORY32_FIXED);
	if (r >= 0)
		r = aml_emit_le(a, 9, 2);
	if (r >= 0)
		r = aml_emit_byte(a, rw ? 1 : 0);
	if (r >= 0)
		r = aml_emit_le(a, base, 4);
	return r < 0 ? r : aml_emit_le(a, len, 4);
}

/* Word, DWord and QWord address space descriptors differ only in tag and field width. */
static int rt_address(struct aml *a, uint8_t tag, unsigned width, const struct aml_addr_space *s)
{
	const uint64_t fields[] = {s->granularity, s->min, s->max, s->translation, s->length};
	uint64_t limit = width == 8 ? UINT64_MAX : (1ULL << (8 * width)) - 1;
	int r = aml_in_template(a);

	if (r < 0)
		return r;
	if (s->type > AML_ADDR_BUS_NUMBER || s->general_flags & ~0x0f)
		return aml_fail(a, -EINVAL);
	for (unsigned i = 0; i < ELEMENTSOF(fields); i++)
		if (fields[i] > limit)
			return aml_fail(a, -ERANGE);
	r = aml_emit_byte(a, tag);
	if (r >= 0)
		r = aml_emit_le(a, 3 + 5 * width, 2);
	if (r >= 0) {
		const uint8_t b[] = {s->type, s->general_flags, s->type_flags};
		r = aml_append_raw(a, b, sizeof(b));
	}
	for (unsigned i = 0; r >= 0 && i < ELEMENTSOF(fields); i++)
		r = aml_emit_le(a, fields[i], width);
	return r;
}

int aml_rt_word_address(struct aml *a, const struct aml_addr_space *s)
{
	return rt_address(a, RES_WORD_ADDRESS, 2, s);
}

int aml_rt_dword_address(struct aml *a, const struct aml_addr_space *s)
{
	return rt_address(a, RES_DWORD_ADDRESS, 4, s);
}

int aml_rt_qword_address(struct aml *a, const struct aml_addr_space *s)
{
	return rt_address(a, RES_QWORD_ADDRESS, 8, s);
}
