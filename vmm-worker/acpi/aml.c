/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml-internal.h"
#include "acpi/aml.h"
#include "macro.h"

/* Opcodes, ACPI 6.5 section 20.3 */
#define OP_ZERO 0x00
#define OP_ONE 0x01
#define OP_NAME 0x08
#define OP_BYTE_PREFIX 0x0a
#define OP_WORD_PREFIX 0x0b
#define OP_DWORD_PREFIX 0x0c
#define OP_STRING_PREFIX 0x0d
#define OP_QWORD_PREFIX 0x0e
#define OP_SCOPE 0x10
#define OP_BUFFER 0x11
#define OP_PACKAGE 0x12
#define OP_METHOD 0x14
#define OP_DUAL_NAME_PREFIX 0x2e
#define OP_MULTI_NAME_PREFIX 0x2f
#define OP_EXT_PREFIX 0x5b
#define OP_ROOT_CHAR 0x5c
#define OP_PARENT_PREFIX 0x5e
#define OP_LOCAL0 0x60
#define OP_ARG0 0x68
#define OP_STORE 0x70
#define OP_ADD 0x72
#define OP_SUBTRACT 0x74
#define OP_INCREMENT 0x75
#define OP_DECREMENT 0x76
#define OP_SHIFT_LEFT 0x79
#define OP_SHIFT_RIGHT 0x7a
#define OP_AND 0x7b
#define OP_OR 0x7d
#define OP_NOTIFY 0x86
#define OP_LAND 0x90
#define OP_LOR 0x91
#define OP_LNOT 0x92
#define OP_LEQUAL 0x93
#define OP_LGREATER 0x94
#define OP_LLESS 0x95
#define OP_IF 0xa0
#define OP_ELSE 0xa1
#define OP_WHILE 0xa2
#define OP_RETURN 0xa4
/* after OP_EXT_PREFIX */
#define EXT_MUTEX 0x01
#define EXT_ACQUIRE 0x23
#define EXT_RELEASE 0x27
#define EXT_OP_REGION 0x80
#define EXT_FIELD 0x81
#define EXT_DEVICE 0x82

/* Small resource item 0x0f, 1 byte: closes a ResourceTemplate (ACPI 6.5 6.4.2.9) */
#define RES_END_TAG 0x79

#define PKGLENGTH_MAX 0x0fffffffu
#define AML_MAX_DEPTH 32

/* What aml_end() has to insert in front of an open object's body. */
#define FRAME_PKG 0	 /* PkgLength */
#define FRAME_BUFFER 1	 /* PkgLength BufferSize */
#define FRAME_TEMPLATE 2 /* as FRAME_BUFFER, after appending the EndTag */
#define FRAME_FIELD 3	 /* PkgLength, body is a FieldList */

struct aml_frame {
	size_t start;
	unsigned kind;
};

struct aml {
	uint8_t *data;
	size_t len;
	size_t allocated;
	int error;
	unsigned depth;
	struct aml_frame frames[AML_MAX_DEPTH];
};

int aml_new(struct aml **ret)
{
	struct aml *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	*ret = a;
	return 0;
}

struct aml *aml_free(struct aml *a)
{
	if (a) {
		free(a->data);
		free(a);
	}
	return NULL;
}

int aml_fail(struct aml *a, int r)
{
	if (!a->error)
		a->error = r;
	return a->error;
}

int aml_error(const struct aml *a)
{
	return a->error;
}

int aml_get(const struct aml *a, const uint8_t **ret_data, size_t *ret_size)
{
	if (a->error)
		return a->error;
	if (a->depth > 0)
		return -EBUSY;
	*ret_data = a->data;
	*ret_size = a->len;
	return 0;
}

static int reserve(struct aml *a, size_t n)
{
	if (a->error)
		return a->error;
	if (n > SIZE_MAX - a->len)
		return aml_fail(a, -ENOMEM);
	if (a->len + n <= a->allocated)
		return 0;
	size_t want = MAX(a->len + n, MAX(a->allocated * 2, (size_t)256));
	uint8_t *p = realloc(a->data, want);
	if (!p)
		return aml_fail(a, -ENOMEM);
	a->data = p;
	a->allocated = want;
	return 0;
}

int aml_append_raw(struct aml *a, const void *data, size_t len)
{
	int r = reserve(a, len);
	if (r < 0)
		return r;
	if (len > 0)
		memcpy(a->data + a->len, data, len);
	a->len += len;
	return 0;
}

int aml_emit_byte(struct aml *a, uint8_t b)
{
	return aml_append_raw(a, &b, 1);
}

static int emit_ext(struct aml *a, uint8_t op)
{
	const uint8_t b[] = {OP_EXT_PREFIX, op};
	return aml_append_raw(a, b, sizeof(b));
}

/* Little-endian, n bytes of v. */
int aml_emit_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return aml_append_raw(a, b, n);
}

static int insert(struct aml *a, size_t pos, const uint8_t *b, size_t n)
{
	int r = reserve(a, n);
	if (r < 0)
		return r;
	memmove(a->data + pos + n, a->data + pos, a->len - pos);
	memcpy(a->data + pos, b, n);
	a->len += n;
	return 0;
}

int aml_append_aml(struct aml *a, const struct aml *fragment)
{
	const uint8_t *data = NULL;
	size_t size = 0;
	int r;

	if (a->error)
		return a->error;
	r = aml_get(fragment, &data, &size);
	if (r < 0)
		return aml_fail(a, r);
	return aml_append_raw(a, data, size);
}

/* PkgLength, ACPI 6.5 20.2.4: bits 7-6 of the lead byte count the bytes that follow; with none,
 * bits 5-0 hold the value, otherwise bits 3-0 hold its low nibble and the bytes the rest. */
static int encode_pkglength(uint32_t v, uint8_t out[4])
{
	if (v <= 0x3f) {
		out[0] = (uint8_t)v;
		return 1;
	}
	if (v > PKGLENGTH_MAX)
		return -E2BIG;
	unsigned extra = v <= 0xfff ? 1 : v <= 0xfffff ? 2 : 3;
	out[0] = (uint8_t)((extra << 6) | (v & 0xf));
	for (unsigned i = 0; i < extra; i++)
		out[1 + i] = (uint8_t)(v >> (4 + 8 * i));
	return 1 + (int)extra;
}

/* A PkgLength counts its own bytes: pick the size whose encoding holds body plus itself. */
static int encode_pkglength_for_body(size_t body, uint8_t out[4])
{
	for (unsigned n = 1; n <= 4; n++) {
		if (body > PKGLENGTH_MAX - n)
			return -E2BIG;
		if (encode_pkglength((uint32_t)(body + n), out) == (int)n)
			return (int)n;
	}
	return -E2BIG;
}

int aml_pkglength(struct aml *a, uint32_t value)
{
	uint8_t b[4];
	int n;

	if (a->error)
		return a->error;
	n = encode_pkglength(value, b);
	if (n < 0)
		return aml_fail(a, n);
	return aml_append_raw(a, b, (size_t)n);
}

static unsigned encode_integer(uint64_t v, uint8_t out[9])
{
	unsigned n;

	if (v == 0) {
		out[0] = OP_ZERO;
		return 1;
	}
	if (v == 1) {
		out[0] = OP_ONE;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = OP_BYTE_PREFIX;
		n = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = OP_WORD_PREFIX;
		n = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = OP_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = OP_QWORD_PREFIX;
		n = 8;
	}
	for (unsigned i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

int aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[9];
	return aml_append_raw(a, b, encode_integer(v, b));
}

int aml_dword(struct aml *a, uint32_t v)
{
	int r = aml_emit_byte(a, OP_DWORD_PREFIX);
	return r < 0 ? r : aml_emit_le(a, v, 4);
}

int aml_qword(struct aml *a, uint64_t v)
{
	int r = aml_emit_byte(a, OP_QWORD_PREFIX);
	return r < 0 ? r : aml_emit_le(a, v, 8);
}

int aml_string(struct aml *a, const char *s)
{
	int r;

	if (a->error)
		return a->error;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p > 0x7f)
			return aml_fail(a, -EINVAL);
	r = aml_emit_byte(a, OP_STRING_PREFIX);
	if (r < 0)
		return r;
	return aml_append_raw(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -EINVAL;
}

/* Three letters of five bits each ('A' = 1) and four hex digits, stored big-endian. */
int aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (a->error)
		return a->error;
	if (strlen(id) != 7)
		return aml_fail(a, -EINVAL);
	for (unsigned i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return aml_fail(a, -EINVAL);
		v = (v << 5) | (uint32_t)(id[i] - '@');
	}
	for (unsigned i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);
		if (d < 0)
			return aml_fail(a, d);
		v = (v << 4) | (uint32_t)d;
	}
	return aml_dword(a, __builtin_bswap32(v));
}

static bool name_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_lead_char(c) || (c >= '0' && c <= '9');
}

/* Length of the segment at s (up to '.' or the end), or -EINVAL when it is not a NameSeg. */
static int name_segment_len(const char *s)
{
	int n = 0;

	while (s[n] && s[n] != '.') {
		if (n >= 4 || !(n == 0 ? name_lead_char(s[n]) : name_char(s[n])))
			return -EINVAL;
		n++;
	}
	return n == 0 ? -EINVAL : n;
}

static int emit_name_segment(struct aml *a, const char *s, int n)
{
	char seg[4] = {'_', '_', '_', '_'};
	memcpy(seg, s, (size_t)n);
	return aml_append_raw(a, seg, 4);
}

int aml_name_string(struct aml *a, const char *path)
{
	const char *p = path, *segs;
	unsigned n_segs = 0;
	int r;

	if (a->error)
		return a->error;
	if (*p == '\\')
		p++;
	else
		while (*p == '^')
			p++;

	/* Validate everything before emitting anything. */
	segs = p;
	while (*p) {
		int n = name_segment_len(p);
		if (n < 0)
			return aml_fail(a, n);
		p += n;
		if (*p == '.' && *++p == '\0')
			return aml_fail(a, -EINVAL);
		n_segs++;
	}
	if (n_segs > UINT8_MAX)
		return aml_fail(a, -EINVAL);

	r = aml_append_raw(a, path, (size_t)(segs - path)); /* RootChar or ParentPrefixChars */
	if (r < 0)
		return r;
	if (n_segs == 0)
		return aml_emit_byte(a, OP_ZERO); /* NullName */
	if (n_segs == 2)
		r = aml_emit_byte(a, OP_DUAL_NAME_PREFIX);
	else if (n_segs > 2) {
		const uint8_t b[] = {OP_MULTI_NAME_PREFIX, (uint8_t)n_segs};
		r = aml_append_raw(a, b, sizeof(b));
	}
	if (r < 0)
		return r;
	for (p = segs; *p;) {
		int n = name_segment_len(p);
		r = emit_name_segment(a, p, n);
		if (r < 0)
			return r;
		p += n;
		if (*p == '.')
			p++;
	}
	return 0;
}

int aml_null_target(struct aml *a)
{
	return aml_emit_byte(a, OP_ZERO);
}

int aml_local(struct aml *a, unsigned n)
{
	if (a->error)
		return a->error;
	if (n > 7)
		return aml_fail(a, -EINVAL);
	return aml_emit_byte(a, (uint8_t)(OP_LOCAL0 + n));
}

int aml_arg(struct aml *a, unsigned n)
{
	if (a->error)
		return a->error;
	if (n > 6)
		return aml_fail(a, -EINVAL);
	return aml_emit_byte(a, (uint8_t)(OP_ARG0 + n));
}

int aml_name(struct aml *a, const char *path)
{
	int r = aml_emit_byte(a, OP_NAME);
	return r < 0 ? r : aml_name_string(a, path);
}

int aml_name_integer(struct aml *a, const char *path, uint64_t v)
{
	int r = aml_name(a, path);
	return r < 0 ? r : aml_integer(a, v);
}

int aml_name_str(struct aml *a, const char *path, const char *s)
{
	int r = aml_name(a, path);
	return r < 0 ? r : aml_string(a, s);
}

int aml_name_eisaid(struct aml *a, const char *path, const char *id)
{
	int r = aml_name(a, path);
	return r < 0 ? r : aml_eisaid(a, id);
}

int aml_operation_region(struct aml *a, const char *path, uint8_t space, uint64_t offset, uint64_t len)
{
	int r = emit_ext(a, EXT_OP_REGION);
	if (r >= 0)
		r = aml_name_string(a, path);
	if (r >= 0)
		r = aml_emit_byte(a, space);
	if (r >= 0)
		r = aml_integer(a, offset);
	return r < 0 ? r : aml_integer(a, len);
}

int aml_mutex(struct aml *a, const char *path, uint8_t sync_level)
{
	int r;

	if (a->error)
		return a->error;
	if (sync_level > 15)
		return aml_fail(a, -EINVAL);
	r = emit_ext(a, EXT_MUTEX);
	if (r >= 0)
		r = aml_name_string(a, path);
	return r < 0 ? r : aml_emit_byte(a, sync_level);
}

static int push(struct aml *a, unsigned kind)
{
	if (a->error)
		return a->error;
	if (a->depth >= AML_MAX_DEPTH)
		return aml_fail(a, -E2BIG);
	a->frames[a->depth++] = (struct aml_frame){.start = a->len, .kind = kind};
	return 0;
}

static unsigned top_kind(const struct aml *a)
{
	return a->depth > 0 ? a->frames[a->depth - 1].kind : FRAME_PKG;
}

/* Opcode, then an open PkgLength, then the object's name when it has one. */
static int begin(struct aml *a, const uint8_t *op, size_t op_len, unsigned kind, const char *path)
{
	int r = aml_append_raw(a, op, op_len);
	if (r >= 0)
		r = push(a, kind);
	if (r >= 0 && path)
		r = aml_name_string(a, path);
	return r;
}

int aml_scope_begin(struct aml *a, const char *path)
{
	const uint8_t op[] = {OP_SCOPE};
	return begin(a, op, sizeof(op), FRAME_PKG, path);
}

int aml_device_begin(struct aml *a, const char *path)
{
	const uint8_t op[] = {OP_EXT_PREFIX, EXT_DEVICE};
	return begin(a, op, sizeof(op), FRAME_PKG, path);
}

int aml_method_begin(struct aml *a, const char *path, unsigned n_args, bool serialized)
{
	const uint8_t op[] = {OP_METHOD};
	int r;

	if (a->error)
		return a->error;
	if (n_args > 7)
		return aml_fail(a, -EINVAL);
	r = begin(a, op, sizeof(op), FRAME_PKG, path);
	return r < 0 ? r : aml_emit_byte(a, (uint8_t)(n_args | (serialized ? 0x08 : 0)));
}

int aml_package_begin(struct aml *a, unsigned n_elements)
{
	const uint8_t op[] = {OP_PACKAGE};
	int r;

	if (a->error)
		return a->error;
	if (n_elements > UINT8_MAX)
		return aml_fail(a, -EINVAL);
	r = begin(a, op, sizeof(op), FRAME_PKG, NULL);
	return r < 0 ? r : aml_emit_byte(a, (uint8_t)n_elements);
}

int aml_buffer_begin(struct aml *a)
{
	const uint8_t op[] = {OP_BUFFER};
	return begin(a, op, sizeof(op), FRAME_BUFFER, NULL);
}

int aml_buffer(struct aml *a, const void *data, size_t len)
{
	int r = aml_buffer_begin(a);
	if (r >= 0)
		r = aml_append_raw(a, data, len);
	return r < 0 ? r : aml_end(a);
}

int aml_resource_template_begin(struct aml *a)
{
	const uint8_t op[] = {OP_BUFFER};
	return begin(a, op, sizeof(op), FRAME_TEMPLATE, NULL);
}

int aml_field_begin(struct aml *a, const char *region, uint8_t flags)
{
	const uint8_t op[] = {OP_EXT_PREFIX, EXT_FIELD};
	int r;

	if (a->error)
		return a->error;
	if (flags & 0x80)
		return aml_fail(a, -EINVAL);
	r = begin(a, op, sizeof(op), FRAME_FIELD, region);
	return r < 0 ? r : aml_emit_byte(a, flags);
}

int aml_if_begin(struct aml *a)
{
	const uint8_t op[] = {OP_IF};
	return begin(a, op, sizeof(op), FRAME_PKG, NULL);
}

int aml_else_begin(struct aml *a)
{
	const uint8_t op[] = {OP_ELSE};
	return begin(a, op, sizeof(op), FRAME_PKG, NULL);
}

int aml_while_begin(struct aml *a)
{
	const uint8_t op[] = {OP_WHILE};
	return begin(a, op, sizeof(op), FRAME_PKG, NULL);
}

/* The EndTag's checksum makes the descriptors, tag and checksum included, sum to zero. */
static int end_template(struct aml *a, size_t start)
{
	uint8_t sum = RES_END_TAG;
	int r;

	for (size_t i = start; i < a->len; i++)
		sum = (uint8_t)(sum + a->data[i]);
	r = aml_emit_byte(a, RES_END_TAG);
	return r < 0 ? r : aml_emit_byte(a, (uint8_t)-sum);
}

int aml_end(struct aml *a)
{
	uint8_t prefix[4 + 9];
	size_t n_prefix = 0, body;
	struct aml_frame f;
	int r;

	if (a->error)
		return a->error;
	if (a->depth == 0)
		return aml_fail(a, -EINVAL);
	f = a->frames[a->depth - 1];

	if (f.kind == FRAME_TEMPLATE) {
		r = end_template(a, f.start);
		if (r < 0)
			return r;
	}
	body = a->len - f.start;
	if (f.kind == FRAME_BUFFER || f.kind == FRAME_TEMPLATE) {
		uint8_t size[9];
		unsigned n_size = encode_integer(body, size);
		r = encode_pkglength_for_body(body + n_size, prefix);
		if (r < 0)
			return aml_fail(a, r);
		memcpy(prefix + r, size, n_size);
		n_prefix = (size_t)r + n_size;
	} else {
		r = encode_pkglength_for_body(body, prefix);
		if (r < 0)
			return aml_fail(a, r);
		n_prefix = (size_t)r;
	}
	r = insert(a, f.start, prefix, n_prefix);
	if (r < 0)
		return r;
	a->depth--;
	return 0;
}

int aml_field_entry(struct aml *a, const char *name, uint32_t bits)
{
	int n, r;

	if (a->error)
		return a->error;
	n = name_segment_len(name);
	if (top_kind(a) != FRAME_FIELD || a->depth == 0 || n < 0 || name[n] != '\0')
		return aml_fail(a, -EINVAL);
	r = emit_name_segment(a, name, n);
	return r < 0 ? r : aml_pkglength(a, bits);
}

int aml_field_reserved(struct aml *a, uint32_t bits)
{
	int r;

	if (a->error)
		return a->error;
	if (top_kind(a) != FRAME_FIELD || a->depth == 0)
		return aml_fail(a, -EINVAL);
	r = aml_emit_byte(a, 0x00);
	return r < 0 ? r : aml_pkglength(a, bits);
}

int aml_store(struct aml *a)
{
	return aml_emit_byte(a, OP_STORE);
}

int aml_add(struct aml *a)
{
	return aml_emit_byte(a, OP_ADD);
}

int aml_subtract(struct aml *a)
{
	return aml_emit_byte(a, OP_SUBTRACT);
}

int aml_and(struct aml *a)
{
	return aml_emit_byte(a, OP_AND);
}

int aml_or(struct aml *a)
{
	return aml_emit_byte(a, OP_OR);
}

int aml_shift_left(struct aml *a)
{
	return aml_emit_byte(a, OP_SHIFT_LEFT);
}

int aml_shift_right(struct aml *a)
{
	return aml_emit_byte(a, OP_SHIFT_RIGHT);
}

int aml_increment(struct aml *a)
{
	return aml_emit_byte(a, OP_INCREMENT);
}

int aml_decrement(struct aml *a)
{
	return aml_emit_byte(a, OP_DECREMENT);
}

int aml_land(struct aml *a)
{
	return aml_emit_byte(a, OP_LAND);
}

int aml_lor(struct aml *a)
{
	return aml_emit_byte(a, OP_LOR);
}

int aml_lnot(struct aml *a)
{
	return aml_emit_byte(a, OP_LNOT);
}

int aml_lequal(struct aml *a)
{
	return aml_emit_byte(a, OP_LEQUAL);
}

int aml_lgreater(struct aml *a)
{
	return aml_emit_byte(a, OP_LGREATER);
}

int aml_lless(struct aml *a)
{
	return aml_emit_byte(a, OP_LLESS);
}

int aml_notify(struct aml *a)
{
	return aml_emit_byte(a, OP_NOTIFY);
}

int aml_return(struct aml *a)
{
	return aml_emit_byte(a, OP_RETURN);
}

int aml_acquire(struct aml *a, const char *mutex, uint16_t timeout)
{
	int r = emit_ext(a, EXT_ACQUIRE);
	if (r >= 0)
		r = aml_name_string(a, mutex);
	return r < 0 ? r : aml_emit_le(a, timeout, 2);
}

int aml_release(struct aml *a, const char *mutex)
{
	int r = emit_ext(a, EXT_RELEASE);
	return r < 0 ? r : aml_name_string(a, mutex);
}

int aml_in_template(struct aml *a)
{
	if (a->error)
		return a->error;
	if (a->depth == 0 || top_kind(a) != FRAME_TEMPLATE)
		return aml_fail(a, -EINVAL);
	return 0;
}
