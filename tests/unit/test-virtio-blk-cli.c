/* SPDX-License-Identifier: Apache-2.0 */
/* --disk: Cloud Hypervisor's grammar (repeatable, and several values after one --disk, as chd
 * writes them), defaults, and every refusal with its message. */
#include <errno.h>
#include <string.h>

#include "cli/config.h"

#include <glib.h>

static int parse(struct vmm_config *cfg, char **ret_error, const char *const *words)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(argv, g_strdup("vmm-worker"));
	for (; *words; words++)
		g_ptr_array_add(argv, g_strdup(*words));
	g_ptr_array_add(argv, NULL);
	return vmm_config_parse(cfg, (int)argv->len - 1, (char **)argv->pdata, ret_error);
}

#define PARSE(cfg, err, ...) parse((cfg), (err), (const char *const[]){__VA_ARGS__, NULL})

static void test_good(void)
{
	struct vmm_config cfg;
	g_autofree char *err = NULL;

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--disk", "path=/a.img"), ==, 0);
	g_assert_cmpuint(cfg.n_disks, ==, 1);
	g_assert_cmpstr(cfg.disks[0].path, ==, "/a.img");
	g_assert_false(cfg.disks[0].readonly);
	g_assert_false(cfg.disks[0].direct);
	g_assert_cmpuint(cfg.disks[0].num_queues, ==, 1);
	g_assert_cmpuint(cfg.disks[0].queue_size, ==, VMM_DISK_QUEUE_SIZE_DEFAULT);
	g_assert_null(cfg.disks[0].serial);
	g_assert_null(cfg.disks[0].id);
	vmm_config_done(&cfg);
	g_assert_null(cfg.disks);
	g_assert_cmpuint(cfg.n_disks, ==, 0);

	/* What chd writes: several values after one --disk, then more options. */
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--disk",
			      "path=/srv/web1/root.img,direct=on,serial=web1-root,id=vda",
			      "path=/dev/vg0/web1-data,readonly=on,id=vdb", "--disk",
			      "path=/c.img,num_queues=4,queue_size=256,readonly=off,direct=off", "--cpus",
			      "boot=2"),
			==, 0);
	g_assert_null(err);
	g_assert_cmpuint(cfg.n_disks, ==, 3);
	g_assert_cmpuint(cfg.cpus_boot, ==, 2);
	g_assert_cmpstr(cfg.disks[0].path, ==, "/srv/web1/root.img");
	g_assert_true(cfg.disks[0].direct);
	g_assert_cmpstr(cfg.disks[0].serial, ==, "web1-root");
	g_assert_cmpstr(cfg.disks[0].id, ==, "vda");
	g_assert_true(cfg.disks[1].readonly);
	g_assert_cmpstr(cfg.disks[1].id, ==, "vdb");
	g_assert_cmpuint(cfg.disks[2].num_queues, ==, 4);
	g_assert_cmpuint(cfg.disks[2].queue_size, ==, 256);
	g_assert_false(cfg.disks[2].readonly);
	vmm_config_done(&cfg);

	/* A serial of exactly 20 characters, the largest queue. */
	g_assert_cmpint(
	    PARSE(&cfg, &err, "--kernel", "k", "--disk=path=x,serial=ABCDEFGHIJKLMNOPQRST,queue_size=4096"),
	    ==, 0);
	g_assert_cmpstr(cfg.disks[0].serial, ==, "ABCDEFGHIJKLMNOPQRST");
	vmm_config_done(&cfg);
}

static const struct {
	const char *const words[8];
	int error;
	const char *message;
} bad[] = {
    {{"--kernel", "k", "--disk"}, -EINVAL, "--disk: missing value: expected --disk <disk>"},
    {{"--kernel", "k", "--disk", ""}, -EINVAL, "--disk: empty value"},
    {{"--kernel", "k", "--disk", "readonly=on"},
     -EINVAL,
     "--disk: no path=<disk_image_path>: expected path="},
    {{"--kernel", "k", "--disk", "/a.img"},
     -EINVAL,
     "--disk: unknown parameter '/a.img' (known: path, readonly"},
    {{"--kernel", "k", "--disk", "path=a,readonly=maybe"},
     -EINVAL,
     "--disk: invalid value 'readonly=maybe': expected on or off"},
    {{"--kernel", "k", "--disk", "path=a,direct=1"}, -EINVAL, "invalid value 'direct=1'"},
    {{"--kernel", "k", "--disk", "path=a,num_queues=0"}, -ERANGE, "'num_queues=0': expected 1 to 64"},
    {{"--kernel", "k", "--disk", "path=a,num_queues=65"}, -ERANGE, "'num_queues=65'"},
    {{"--kernel", "k", "--disk", "path=a,num_queues=-1"}, -ERANGE, "'num_queues=-1'"},
    {{"--kernel", "k", "--disk", "path=a,queue_size=100"},
     -ERANGE,
     "'queue_size=100': expected a power of two from 2 to 4096"},
    {{"--kernel", "k", "--disk", "path=a,queue_size=8192"}, -ERANGE, "'queue_size=8192'"},
    {{"--kernel", "k", "--disk", "path=a,queue_size=1"}, -ERANGE, "'queue_size=1'"},
    {{"--kernel", "k", "--disk", "path=a,serial=ABCDEFGHIJKLMNOPQRSTU"},
     -EINVAL,
     "'serial=ABCDEFGHIJKLMNOPQRSTU': expected at most 20 printable ASCII"},
    {{"--kernel", "k", "--disk", "path=a,serial=a b"}, -EINVAL, "invalid value 'serial=a b'"},
    {{"--kernel", "k", "--disk", "path=a,serial=\xc3\xa9"}, -EINVAL, "invalid value 'serial="},
    {{"--kernel", "k", "--disk", "path=a,path=b"}, -EINVAL, "parameter 'path' given more than once"},
    {{"--kernel", "k", "--disk", "path=a,vhost_user=on"},
     -EOPNOTSUPP,
     "--disk: parameter 'vhost_user' is not supported by vmm-worker yet"},
    {{"--kernel", "k", "--disk", "path=a,iommu=on"}, -EOPNOTSUPP, "parameter 'iommu' is not supported"},
    {{"--kernel", "k", "--disk", "path=a,id=x", "path=b,id=x"}, -EINVAL, "--disk: id=x names two disks"},
    {{"--kernel", "k", "--disk", "path=a", "stray"}, -EINVAL, "--disk: unknown parameter 'stray'"},
};

static void test_bad(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct vmm_config cfg;
		g_autofree char *err = NULL;
		int r = parse(&cfg, &err, bad[i].words);

		if (r != bad[i].error || !err || !strstr(err, bad[i].message))
			g_error("case %zu: got %d '%s', expected %d '%s'", i, r, err, bad[i].error,
				bad[i].message);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cli-disk/good", test_good);
	g_test_add_func("/cli-disk/bad", test_bad);
	return g_test_run();
}
