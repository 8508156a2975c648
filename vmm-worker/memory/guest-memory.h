/* SPDX-License-Identifier: Apache-2.0 */
/* Guest RAM: anonymous host mappings placed around the 32-bit MMIO gap (see layout.h). Every
 * access from device or boot code goes through guest_memory_ptr() so a guest-chosen address can
 * never reach outside guest RAM. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEMORY_MAX_REGIONS 8

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_memory {
	struct guest_region regions[GUEST_MEMORY_MAX_REGIONS];
	unsigned n_regions;
	uint64_t ram_size; /* total bytes of RAM, all regions */
};

/* Maps ram_size bytes: below LAYOUT_MMIO_GAP_START first, the rest from LAYOUT_RAM_64BIT_START. */
int guest_memory_new(uint64_t ram_size, struct guest_memory **ret);
struct guest_memory *guest_memory_free(struct guest_memory *m);

/* Host pointer for [gpa, gpa+len) if it lies wholly inside one region, else NULL. */
void *guest_memory_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len);
int guest_memory_read(const struct guest_memory *m, uint64_t gpa, void *buf, uint64_t len);
int guest_memory_write(const struct guest_memory *m, uint64_t gpa, const void *buf, uint64_t len);
/* Highest address + 1 of RAM below 4 GiB. */
uint64_t guest_memory_low_end(const struct guest_memory *m);
