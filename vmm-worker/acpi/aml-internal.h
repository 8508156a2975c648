/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the AML writer's own files: raw emitters and the sticky-error setter. */
#pragma once

#include <stdint.h>

struct aml;

/* Records r as the builder's error unless one is already set; returns the sticky error. */
int aml_fail(struct aml *a, int r);
int aml_emit_byte(struct aml *a, uint8_t b);
int aml_emit_le(struct aml *a, uint64_t v, unsigned n_bytes);
/* 0 when the innermost open object is a ResourceTemplate, else fails with -EINVAL. */
int aml_in_template(struct aml *a);
