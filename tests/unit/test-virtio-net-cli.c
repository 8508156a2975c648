/* SPDX-License-Identifier: Apache-2.0 */
/* --net as Cloud Hypervisor spells it: several values per option and repeated options, tap= and
 * fd= forms, defaults (one pair, 256, offloads on, a random local MAC), and every refusal naming
 * the option and what was expected. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* Ours before GLib: common/macro.h defines MIN/MAX unconditionally, and gmacros.h #undefs them. */
#include "backends/mac.h"
#include "cli/config.h"

#include <glib.h>

/* Parses "vmm-worker --kernel k WORDS..." into cfg. */
static int parse(struct vmm_config *cfg, char **err, const char *const *words)
{
	GPtrArray *argv = g_ptr_array_new();
	int r;

	g_ptr_array_add(argv, (char *)"vmm-worker");
	g_ptr_array_add(argv, (char *)"--kernel");
	g_ptr_array_add(argv, (char *)"k");
	for (; *words; words++)
		g_ptr_array_add(argv, (char *)*words);
	g_ptr_array_add(argv, NULL);
	r = vmm_config_parse(cfg, (int)argv->len - 1, (char **)argv->pdata, err);
	g_ptr_array_free(argv, TRUE);
	return r;
}
#define NET(cfg, err, ...) parse((cfg), (err), (const char *const[]){__VA_ARGS__, NULL})

static void test_good(void)
{
	struct vmm_config cfg;
	char *err = NULL;
	char mac[MAC_STRING_MAX];

	g_assert_cmpint(NET(&cfg, &err, "--net",
			    "tap=t0,mac=52:54:00:01:02:03,ip=10.1.0.1,mask=255.255.0.0,num_queues=4,queue_size=512,id=a",
			    "tap=t1,offload_tso=off", "--net", "fd=[3,4]", "fd=5,id=b", "--cpus", "boot=2"),
			==, 0);
	g_assert_null(err);
	g_assert_cmpuint(cfg.cpus_boot, ==, 2);
	g_assert_cmpuint(cfg.n_nets, ==, 4);

	const struct net_config *n = &cfg.nets[0];
	g_assert_cmpstr(n->tap, ==, "t0");
	g_assert_cmpstr(mac_format(n->mac, mac), ==, "52:54:00:01:02:03");
	g_assert_true(n->ip_set);
	g_assert_cmphex(ntohl(n->ip), ==, 0x0a010001);
	g_assert_cmphex(ntohl(n->mask), ==, 0xffff0000);
	g_assert_cmpuint(n->num_queues, ==, 4);
	g_assert_cmpuint(n->queue_size, ==, 512);
	g_assert_cmpstr(n->id, ==, "a");
	g_assert_true(n->offload_tso && n->offload_csum && n->offload_ufo);

	n = &cfg.nets[1];
	g_assert_false(n->offload_tso);
	g_assert_false(n->ip_set);
	g_assert_cmpuint(n->num_queues, ==, VMM_NET_NUM_QUEUES_DEFAULT);
	g_assert_cmpuint(n->queue_size, ==, VMM_NET_QUEUE_SIZE_DEFAULT);
	/* a MAC of its own, drawn at parse time: local, unicast, under 52:54:00 */
	g_assert_true(mac_is_unicast(n->mac));
	g_assert_cmpmem(n->mac, 3, "\x52\x54\x00", 3);

	n = &cfg.nets[2];
	g_assert_null(n->tap);
	g_assert_cmpuint(n->n_fds, ==, 2);
	g_assert_cmpint(n->fds[0], ==, 3);
	g_assert_cmpint(n->fds[1], ==, 4);
	g_assert_cmpuint(n->num_queues, ==, 4); /* one pair per fd */
	g_assert_cmpuint(cfg.nets[3].n_fds, ==, 1);
	g_assert_cmpuint(cfg.nets[3].num_queues, ==, 2);
	vmm_config_done(&cfg);
	vmm_config_done(&cfg); /* twice is fine */
}

static const struct {
	const char *value;
	int r;
	const char *message;
} bad[] = {
    {"tap=a,fd=3", -EINVAL, "--net: tap= and fd= cannot be combined"},
    {"fd=3,ip=10.0.0.1", -EINVAL, "do not go with fd="},
    {"tap=a,mask=255.0.0.0", -EINVAL, "mask= needs ip="},
    {"num_queues=3", -EINVAL, "invalid value 'num_queues=3': expected an even number from 2 to 62"},
    {"num_queues=64", -ERANGE, "invalid value 'num_queues=64'"},
    {"num_queues=0", -ERANGE, "invalid value 'num_queues=0'"},
    {"queue_size=100", -EINVAL, "invalid value 'queue_size=100': expected a power of two"},
    {"queue_size=65536", -ERANGE, "invalid value 'queue_size=65536'"},
    {"mac=ff:ff:ff:ff:ff:ff", -EINVAL, "invalid value 'mac=ff:ff:ff:ff:ff:ff': expected a unicast MAC"},
    {"mac=52:54:00:12:34", -EINVAL, "invalid value 'mac=52:54:00:12:34'"},
    {"host_mac=01:00:5e:00:00:01", -EINVAL, "invalid value 'host_mac="},
    {"ip=300.1.1.1", -EINVAL, "invalid value 'ip=300.1.1.1': expected an IPv4 address"},
    {"ip=10.0.0.1,mask=255.0.255.0", -EINVAL, "invalid value 'mask=255.0.255.0': expected a netmask"},
    {"fd=2", -EINVAL, "invalid value 'fd=2'"},
    {"fd=[3,x]", -EINVAL, "invalid value 'fd=[3,x]'"},
    {"fd=[]", -EINVAL, "invalid value 'fd=[]'"},
    {"fd=[3,4],num_queues=2", -EINVAL, "num_queues=2 needs 1 tap fds (one per pair), fd= gives 2"},
    {"offload_tso=maybe", -EINVAL, "invalid value 'offload_tso=maybe': expected on|off"},
    {"mtu=9000", -EOPNOTSUPP, "--net: parameter 'mtu' is not supported by vmm-worker yet"},
    {"vhost_user=on", -EOPNOTSUPP, "parameter 'vhost_user' is not supported"},
    {"tapp=x", -EINVAL, "--net: unknown parameter 'tapp'"},
    {"tap=a,tap=b", -EINVAL, "tap"},
};

static void test_bad(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct vmm_config cfg;
		g_autofree char *err = NULL;

		g_test_message("--net %s", bad[i].value);
		g_assert_cmpint(NET(&cfg, &err, "--net", bad[i].value), ==, bad[i].r);
		g_assert_nonnull(err);
		if (!strstr(err, bad[i].message))
			g_error("--net %s: message '%s' lacks '%s'", bad[i].value, err, bad[i].message);
	}

	/* the same id twice, across values and options; nothing left to free on failure */
	struct vmm_config cfg;
	g_autofree char *err = NULL;
	g_assert_cmpint(NET(&cfg, &err, "--net", "tap=a,id=x", "--net", "tap=b,id=x"), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "id=x is given twice"));
	g_assert_cmpuint(cfg.n_nets, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtio-net-cli/good", test_good);
	g_test_add_func("/virtio-net-cli/bad", test_bad);
	return g_test_run();
}
