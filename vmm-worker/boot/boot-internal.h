/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the loaders in vmm-worker/boot/ and nothing else. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

struct guest_memory;
struct kernel_image;

/* Formats a reason into this thread's reason buffer, stores it in *ret_reason when that is non-NULL
 * and returns r, so a check and its failure read as one statement. */
int boot_failf(const char **ret_reason, int r, const char *fmt, ...) _printf_(3, 4);

/* Reads exactly len bytes at offset; -EIO when the file ends early (it shrank under us). */
int boot_read_at(int fd, void *buf, size_t len, uint64_t offset);

/* Opens a regular, non-empty file for reading; "what" names it in reasons ("kernel", "initramfs"). */
int boot_file_open(const char *path, const char *what, int *ret_fd, uint64_t *ret_size,
		   const char **ret_reason);

/* Checks the command line against the kernel's and the layout's limits and writes it, with its NUL,
 * at LAYOUT_CMDLINE. */
int boot_cmdline_write(struct guest_memory *mem, const struct kernel_image *k, const char *cmdline,
		       const char **ret_reason);

/* Format-specific loaders behind kernel_load(). head holds the first head_len bytes of the file. */
int bzimage_load(int fd, uint64_t size, const uint8_t *head, size_t head_len, struct guest_memory *mem,
		 struct kernel_image *ret, const char **ret_reason);
int pvh_elf_load(int fd, uint64_t size, const uint8_t *head, size_t head_len, struct guest_memory *mem,
		 struct kernel_image *ret, const char **ret_reason);
