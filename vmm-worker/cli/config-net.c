/* SPDX-License-Identifier: Apache-2.0 */
/* --net tap=<if_name>|fd=<fd>,mac=,ip=,mask=,num_queues=,queue_size=,id=,... as Cloud Hypervisor
 * reads it: num_queues counts RX and TX queues (pairs = num_queues / 2), fd= takes one open tap
 * queue per pair ("fd=3" or "fd=[3,4]"), a missing MAC is drawn at random once, here, so a reboot
 * keeps it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#include "backends/mac.h"
#include "cli/config.h"
#include "cli/i18n.h"
#include "cli/option-list.h"
#include "cli/parse-util.h"

#define NET_SYNTAX                                                                                        \
	"tap=<if_name>|fd=<fd>|fd=[<fd1>,<fd2>...][,mac=<mac>][,host_mac=<mac>][,ip=<ipv4>][,mask=<netmask>]" \
	"[,num_queues=<even number>][,queue_size=<power of two>][,id=<name>][,offload_tso=on|off]"        \
	"[,offload_ufo=on|off][,offload_csum=on|off]"

enum {
	NET_TAP,
	NET_FD,
	NET_MAC,
	NET_HOST_MAC,
	NET_IP,
	NET_MASK,
	NET_NUM_QUEUES,
	NET_QUEUE_SIZE,
	NET_ID,
	NET_OFFLOAD_TSO,
	NET_OFFLOAD_UFO,
	NET_OFFLOAD_CSUM,
};
static const struct option_key net_keys[] = {
    [NET_TAP] = {"tap"},
    [NET_FD] = {"fd"},
    [NET_MAC] = {"mac"},
    [NET_HOST_MAC] = {"host_mac"},
    [NET_IP] = {"ip"},
    [NET_MASK] = {"mask"},
    [NET_NUM_QUEUES] = {"num_queues"},
    [NET_QUEUE_SIZE] = {"queue_size"},
    [NET_ID] = {"id"},
    [NET_OFFLOAD_TSO] = {"offload_tso"},
    [NET_OFFLOAD_UFO] = {"offload_ufo"},
    [NET_OFFLOAD_CSUM] = {"offload_csum"},
    {"mtu", .unsupported = true},
    {"iommu", .unsupported = true},
    {"vhost_user", .unsupported = true},
    {"socket", .unsupported = true},
    {"vhost_mode", .unsupported = true},
    {"bw_size", .unsupported = true},
    {"bw_one_time_burst", .unsupported = true},
    {"bw_refill_time", .unsupported = true},
    {"ops_size", .unsupported = true},
    {"ops_one_time_burst", .unsupported = true},
    {"ops_refill_time", .unsupported = true},
    {"pci_segment", .unsupported = true},
};
#define N_NET_KEYS ELEMENTSOF(net_keys)

void net_config_done(struct net_config *n)
{
	free(n->tap);
	free(n->fds);
	free(n->id);
	*n = (struct net_config){};
}

static int bad_value(char **ret_error, int r, const char *key, const char *value, const char *expected)
{
	return cli_error(ret_error, r, _("--net: invalid value '%s=%s': expected %s"), key, value, expected);
}

/* "3" or "[3,4]": fds from 3 up (0-2 are the standard streams). */
static int parse_fds(const char *s, struct net_config *n, char **ret_error)
{
	_cleanup_free_ char *copy = NULL;
	size_t len = strlen(s);
	char *p, *save = NULL;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		copy = strndup(s + 1, len - 2);
	else
		copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		unsigned fd;
		int *fds;

		if (parse_unsigned(p, 3, INT32_MAX, &fd) < 0 || n->n_fds >= VMM_NET_NUM_QUEUES_MAX / 2)
			return bad_value(ret_error, -EINVAL, "fd", s,
					 _("one open tap fd (3 or more) per queue pair: fd=<fd> or fd=[<fd1>,<fd2>...]"));
		fds = realloc(n->fds, (n->n_fds + 1) * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		n->fds = fds;
		n->fds[n->n_fds++] = (int)fd;
	}
	if (n->n_fds == 0)
		return bad_value(ret_error, -EINVAL, "fd", s, _("fd=<fd> or fd=[<fd1>,<fd2>...]"));
	return 0;
}

static int parse_mac_value(const char *key, const char *s, uint8_t ret[MAC_LEN], char **ret_error)
{
	if (mac_parse(s, ret) < 0 || !mac_is_unicast(ret))
		return bad_value(ret_error, -EINVAL, key, s,
				 _("a unicast MAC address such as 52:54:00:12:34:56"));
	return 0;
}

static int parse_ipv4(const char *key, const char *s, uint32_t *ret, char **ret_error)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return bad_value(ret_error, -EINVAL, key, s, _("an IPv4 address such as 192.168.249.1"));
	*ret = a.s_addr;
	return 0;
}

static int parse_values(char **v, struct net_config *n, char **ret_error)
{
	static const struct {
		unsigned key;
		size_t field;
	} toggles[] = {
	    {NET_OFFLOAD_TSO, offsetof(struct net_config, offload_tso)},
	    {NET_OFFLOAD_UFO, offsetof(struct net_config, offload_ufo)},
	    {NET_OFFLOAD_CSUM, offsetof(struct net_config, offload_csum)},
	};
	int r;

	if (v[NET_TAP] && v[NET_FD])
		return cli_error(ret_error, -EINVAL,
				 _("--net: tap= and fd= cannot be combined: name a tap, or pass open tap fds"));
	if (v[NET_FD] && (v[NET_IP] || v[NET_MASK] || v[NET_HOST_MAC]))
		return cli_error(ret_error, -EINVAL,
				 _("--net: ip=, mask= and host_mac= configure a tap vmm-worker opens: they do "
				   "not go with fd= (configure that tap where it is opened)"));
	if (v[NET_MASK] && !v[NET_IP])
		return cli_error(ret_error, -EINVAL, _("--net: mask= needs ip=: give the host-side address too"));
	if (v[NET_FD] && (r = parse_fds(v[NET_FD], n, ret_error)) < 0)
		return r;
	if (v[NET_MAC])
		r = parse_mac_value("mac", v[NET_MAC], n->mac, ret_error);
	else
		r = mac_generate(n->mac);
	if (r < 0)
		return r;
	if (v[NET_HOST_MAC] && (r = parse_mac_value("host_mac", v[NET_HOST_MAC], n->host_mac, ret_error)) < 0)
		return r;
	n->host_mac_set = v[NET_HOST_MAC];
	if (v[NET_IP]) {
		n->ip_set = true;
		n->mask = htonl(0xffffff00u);
		if ((r = parse_ipv4("ip", v[NET_IP], &n->ip, ret_error)) < 0)
			return r;
		if (v[NET_MASK] && (r = parse_ipv4("mask", v[NET_MASK], &n->mask, ret_error)) < 0)
			return r;
		uint32_t m = ntohl(n->mask);
		if (m & (~m >> 1))
			return bad_value(ret_error, -EINVAL, "mask", v[NET_MASK],
					 _("a netmask of contiguous ones such as 255.255.255.0"));
	}

	n->num_queues = n->n_fds ? 2 * (unsigned)n->n_fds : VMM_NET_NUM_QUEUES_DEFAULT;
	if (v[NET_NUM_QUEUES]) {
		unsigned q;

		r = parse_unsigned(v[NET_NUM_QUEUES], 2, VMM_NET_NUM_QUEUES_MAX, &q);
		if (r < 0 || q % 2)
			return bad_value(ret_error, r < 0 ? r : -EINVAL, "num_queues", v[NET_NUM_QUEUES],
					 _("an even number from 2 to 62 (RX and TX queues: two per pair)"));
		if (n->n_fds && q != n->num_queues)
			return cli_error(ret_error, -EINVAL,
					 _("--net: num_queues=%u needs %u tap fds (one per pair), fd= gives %zu"), q,
					 q / 2, n->n_fds);
		n->num_queues = q;
	}
	n->queue_size = VMM_NET_QUEUE_SIZE_DEFAULT;
	if (v[NET_QUEUE_SIZE]) {
		r = parse_unsigned(v[NET_QUEUE_SIZE], 2, VMM_NET_QUEUE_SIZE_MAX, &n->queue_size);
		if (r < 0 || (n->queue_size & (n->queue_size - 1)))
			return bad_value(ret_error, r < 0 ? r : -EINVAL, "queue_size", v[NET_QUEUE_SIZE],
					 _("a power of two from 2 to 32768"));
	}
	for (size_t i = 0; i < ELEMENTSOF(toggles); i++) {
		bool *b = (bool *)((uint8_t *)n + toggles[i].field);

		*b = true;
		if (v[toggles[i].key] && parse_toggle(v[toggles[i].key], b) < 0)
			return bad_value(ret_error, -EINVAL, net_keys[toggles[i].key].name, v[toggles[i].key],
					 "on|off");
	}
	n->tap = TAKE_PTR(v[NET_TAP]);
	n->id = TAKE_PTR(v[NET_ID]);
	return 0;
}

int vmm_config_parse_net(struct vmm_config *cfg, const char *s, char **ret_error)
{
	char *v[N_NET_KEYS];
	struct net_config n = {};
	struct net_config *nets;
	int r;

	r = option_list_parse("--net", NET_SYNTAX, s, net_keys, N_NET_KEYS, v, ret_error);
	if (r < 0)
		return r;
	r = parse_values(v, &n, ret_error);
	option_values_free(v, N_NET_KEYS);
	for (size_t i = 0; r >= 0 && n.id && i < cfg->n_nets; i++)
		if (cfg->nets[i].id && strcmp(cfg->nets[i].id, n.id) == 0)
			r = cli_error(ret_error, -EINVAL, _("--net: id=%s is given twice: each device needs its own"),
				      n.id);
	if (r >= 0 && !(nets = realloc(cfg->nets, (cfg->n_nets + 1) * sizeof(*nets))))
		r = -ENOMEM;
	if (r < 0) {
		net_config_done(&n);
		return r;
	}
	cfg->nets = nets;
	cfg->nets[cfg->n_nets++] = n;
	return 0;
}
