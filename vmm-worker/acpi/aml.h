/* SPDX-License-Identifier: Apache-2.0 */
/* A small AML (ACPI Machine Language) writer. AML is a prefix encoding, so the builder is a
 * stream: operators emit their opcode and the caller emits the operands right after, in the order
 * of the ASL argument list (including the Target, aml_null_target() for none). Objects with a
 * PkgLength (Scope, Device, Method, If, Package, Buffer, Field, ResourceTemplate) are opened with
 * a *_begin() call and closed with aml_end(), which back-patches the length.
 *
 * The first error sticks: later calls do nothing and return it, and aml_get() reports it, so a
 * device can emit its whole fragment and check once. Devices supply their own AML either by
 * writing into the DSDT's builder from a callback (see struct acpi_aml_source) or by building a
 * fragment of their own and handing it over with aml_append_aml(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml;

/* OperationRegion spaces (ACPI 6.5, 19.6.100) */
#define AML_REGION_SYSTEM_MEMORY 0x00
#define AML_REGION_SYSTEM_IO 0x01
#define AML_REGION_PCI_CONFIG 0x02

/* FieldFlags (ACPI 6.5, 20.2.5.2): access type | lock rule | update rule */
#define AML_FIELD_ANY_ACC 0x00
#define AML_FIELD_BYTE_ACC 0x01
#define AML_FIELD_WORD_ACC 0x02
#define AML_FIELD_DWORD_ACC 0x03
#define AML_FIELD_QWORD_ACC 0x04
#define AML_FIELD_LOCK 0x10
#define AML_FIELD_PRESERVE 0x00
#define AML_FIELD_WRITE_AS_ONES 0x20
#define AML_FIELD_WRITE_AS_ZEROS 0x40

/* Extended Interrupt descriptor flags (ACPI 6.5, 6.4.3.6) */
#define AML_IRQ_CONSUMER 0x01
#define AML_IRQ_EDGE 0x02
#define AML_IRQ_ACTIVE_LOW 0x04
#define AML_IRQ_SHARED 0x08
#define AML_IRQ_WAKE 0x10

/* Address space descriptors (ACPI 6.5, 6.4.3.5): resource type, general and type-specific flags */
#define AML_ADDR_MEMORY 0
#define AML_ADDR_IO 1
#define AML_ADDR_BUS_NUMBER 2
#define AML_ADDR_CONSUMER 0x01 /* clear: the device produces the range for its children */
#define AML_ADDR_SUB_DECODE 0x02
#define AML_ADDR_MIN_FIXED 0x04
#define AML_ADDR_MAX_FIXED 0x08
#define AML_ADDR_MEM_RW 0x01
#define AML_ADDR_MEM_CACHEABLE 0x02
#define AML_ADDR_MEM_WRITE_COMBINING 0x04
#define AML_ADDR_MEM_PREFETCHABLE 0x06
#define AML_ADDR_IO_ENTIRE_RANGE 0x03

struct aml_addr_space {
	uint8_t type;	       /* AML_ADDR_MEMORY, _IO or _BUS_NUMBER */
	uint8_t general_flags; /* AML_ADDR_CONSUMER | AML_ADDR_MIN_FIXED | ... */
	uint8_t type_flags;    /* AML_ADDR_MEM_* or AML_ADDR_IO_* */
	uint64_t granularity;
	uint64_t min;
	uint64_t max;
	uint64_t translation;
	uint64_t length;
};

int aml_new(struct aml **ret);
struct aml *aml_free(struct aml *a);
static inline void aml_freep(struct aml **a)
{
	if (*a)
		*a = aml_free(*a);
}

/* The encoded bytes; fails with the sticky error, or -EBUSY while an object is still open. The
 * pointer stays valid until the next call that appends. */
int aml_get(const struct aml *a, const uint8_t **ret_data, size_t *ret_size);
int aml_error(const struct aml *a);

int aml_append_raw(struct aml *a, const void *data, size_t len);
int aml_append_aml(struct aml *a, const struct aml *fragment);

/* Encodings of single terms */
int aml_pkglength(struct aml *a, uint32_t value); /* raw PkgLength encoding of value */
int aml_integer(struct aml *a, uint64_t v);	  /* shortest of Zero/One/Byte/Word/DWord/QWord */
int aml_dword(struct aml *a, uint32_t v);	  /* always DWordConst, e.g. for patching */
int aml_qword(struct aml *a, uint64_t v);	  /* always QWordConst */
int aml_string(struct aml *a, const char *s);
/* "PNP0501" compressed into its 32-bit EISA id, as a DWordConst. */
int aml_eisaid(struct aml *a, const char *id);
/* ASL path ("\\_SB.COM1", "^PWRB", "_S5") as a NameString; segments shorter than 4 characters
 * are padded with '_'. "" is the NullName. Also the way to invoke a method or refer to an object. */
int aml_name_string(struct aml *a, const char *path);
int aml_null_target(struct aml *a);
int aml_local(struct aml *a, unsigned n); /* Local0..Local7 */
int aml_arg(struct aml *a, unsigned n);	  /* Arg0..Arg6 */

/* Name(path, <object>): the caller emits the object next, or uses a shorthand. */
int aml_name(struct aml *a, const char *path);
int aml_name_integer(struct aml *a, const char *path, uint64_t v);
int aml_name_str(struct aml *a, const char *path, const char *s);
int aml_name_eisaid(struct aml *a, const char *path, const char *id);
int aml_buffer(struct aml *a, const void *data, size_t len);
int aml_operation_region(struct aml *a, const char *path, uint8_t space, uint64_t offset, uint64_t len);
int aml_mutex(struct aml *a, const char *path, uint8_t sync_level);

/* Objects closed with aml_end() */
int aml_scope_begin(struct aml *a, const char *path);
int aml_device_begin(struct aml *a, const char *path);
int aml_method_begin(struct aml *a, const char *path, unsigned n_args, bool serialized);
int aml_package_begin(struct aml *a, unsigned n_elements);
int aml_buffer_begin(struct aml *a); /* bytes appended with aml_append_raw() until aml_end() */
int aml_field_begin(struct aml *a, const char *region, uint8_t flags);
int aml_if_begin(struct aml *a); /* the predicate comes first, then the body */
int aml_else_begin(struct aml *a);
int aml_while_begin(struct aml *a);
/* Buffer of resource descriptors; aml_end() appends the EndTag with its checksum. */
int aml_resource_template_begin(struct aml *a);
int aml_end(struct aml *a);

/* Inside aml_field_begin(): a named field of bits width, or bits skipped. */
int aml_field_entry(struct aml *a, const char *name, uint32_t bits);
int aml_field_reserved(struct aml *a, uint32_t bits);

/* Operators: opcode only, operands follow (see the top of this file). */
int aml_store(struct aml *a);	   /* Store(Source, Destination) */
int aml_add(struct aml *a);	   /* Add(A, B, Target) */
int aml_subtract(struct aml *a);   /* Subtract(A, B, Target) */
int aml_and(struct aml *a);	   /* And(A, B, Target) */
int aml_or(struct aml *a);	   /* Or(A, B, Target) */
int aml_shift_left(struct aml *a); /* ShiftLeft(A, Count, Target) */
int aml_shift_right(struct aml *a);
int aml_increment(struct aml *a); /* Increment(Name) */
int aml_decrement(struct aml *a);
int aml_land(struct aml *a); /* LAnd(A, B) */
int aml_lor(struct aml *a);
int aml_lnot(struct aml *a); /* LNot(A) */
int aml_lequal(struct aml *a);
int aml_lgreater(struct aml *a);
int aml_lless(struct aml *a);
int aml_notify(struct aml *a); /* Notify(Object, Value) */
int aml_return(struct aml *a); /* Return(Value) */
int aml_acquire(struct aml *a, const char *mutex, uint16_t timeout);
int aml_release(struct aml *a, const char *mutex);

/* Resource descriptors, only inside aml_resource_template_begin() */
int aml_rt_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len); /* Decode16 */
int aml_rt_irq_noflags(struct aml *a, unsigned irq);				      /* ISA 0..15 */
int aml_rt_interrupt(struct aml *a, uint8_t flags, const uint32_t *irqs, unsigned n_irqs);
int aml_rt_memory32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len);
int aml_rt_word_address(struct aml *a, const struct aml_addr_space *s);
int aml_rt_dword_address(struct aml *a, const struct aml_addr_space *s);
int aml_rt_qword_address(struct aml *a, const struct aml_addr_space *s);
