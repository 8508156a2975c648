/* SPDX-License-Identifier: Apache-2.0 */
#include <glib.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpuid.h"

static struct kvm_cpuid2 *table(void)
{
	static const struct kvm_cpuid_entry2 base[] = {
		{ .function = 0x1, .eax = 0x800f12, .ebx = 0xff0a0800, .ecx = 0, .edx = 0 },
		{ .function = 0x4, .index = 0, .eax = 0xfc004121 },
		{ .function = 0xb, .index = 0 },
		{ .function = 0xb, .index = 1 },
		{ .function = 0xb, .index = 2 },
		{ .function = 0x80000008, .ecx = 0x7007 },
	};
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(base));
	c->nent = G_N_ELEMENTS(base);
	memcpy(c->entries, base, sizeof(base));
	return c;
}

static void test_topology(void)
{
	g_autofree struct kvm_cpuid2 *c = table();
	cpuid_patch(c, 3, 4);

	const struct kvm_cpuid_entry2 *e = c->entries;
	g_assert_cmpuint(e[0].ebx >> 24, ==, 3);             /* initial APIC ID */
	g_assert_cmpuint((e[0].ebx >> 16) & 0xff, ==, 4);    /* logical processors */
	g_assert_cmpuint(e[0].ebx & 0xffff, ==, 0x0800);     /* CLFLUSH size, brand kept */
	g_assert_cmpuint(e[0].ecx >> 31, ==, 1);             /* hypervisor present */
	g_assert_cmpuint((e[0].edx >> 28) & 1, ==, 1);       /* HTT with more than one CPU */
	g_assert_cmpuint(e[1].eax >> 26, ==, 3);             /* cores per package - 1 */
	g_assert_cmpuint(e[1].eax & 0x3fff, ==, 0x0121);     /* cache type/level kept */
	g_assert_cmpuint(e[2].ebx, ==, 1);
	g_assert_cmpuint(e[2].edx, ==, 3);
	g_assert_cmpuint(e[3].eax, ==, 2);                   /* 4 cores need 2 APIC ID bits */
	g_assert_cmpuint(e[3].ebx, ==, 4);
	g_assert_cmpuint((e[3].ecx >> 8) & 0xff, ==, 2);     /* level type: core */
	g_assert_cmpuint(e[4].ebx, ==, 0);                   /* no further levels */
	g_assert_cmpuint(e[5].ecx & 0xff, ==, 3);
}

static void test_single(void)
{
	g_autofree struct kvm_cpuid2 *c = table();
	cpuid_patch(c, 0, 1);
	g_assert_cmpuint((c->entries[0].edx >> 28) & 1, ==, 0);
	g_assert_cmpuint(c->entries[1].eax >> 26, ==, 0);
	g_assert_cmpuint(c->entries[3].eax, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cpuid/topology", test_topology);
	g_test_add_func("/cpuid/single", test_single);
	return g_test_run();
}
