/* SPDX-License-Identifier: Apache-2.0 */
/* --vsock cid=<context_id>,socket=<socket_path>[,id=<device_id>], as Cloud Hypervisor's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cli/config.h"
#include "cli/i18n.h"
#include "cli/option-list.h"
#include "cli/parse-util.h"
#include "macro.h"

enum { VSOCK_CID, VSOCK_SOCKET, VSOCK_ID };
static const struct option_key vsock_keys[] = {
    [VSOCK_CID] = {"cid"},
    [VSOCK_SOCKET] = {"socket"},
    [VSOCK_ID] = {"id"},
    {"iommu", .unsupported = true},
    {"pci_segment", .unsupported = true},
};

void vsock_config_done(struct vsock_config *v)
{
	free(v->socket);
	free(v->id);
	*v = (struct vsock_config){0};
}

int vmm_config_parse_vsock(struct vmm_config *cfg, const char *s, char **ret_error)
{
	char *v[ELEMENTSOF(vsock_keys)];
	unsigned cid = 0;
	int r;

	r = option_list_parse("--vsock", VSOCK_SYNTAX, s, vsock_keys, ELEMENTSOF(vsock_keys), v, ret_error);
	if (r < 0)
		return r;
	if (!v[VSOCK_CID] || !v[VSOCK_SOCKET])
		r = cli_error(ret_error, -EINVAL, _("--vsock: '%s' lacks %s: expected %s"), s,
			      v[VSOCK_CID] ? "socket=" : "cid=", VSOCK_SYNTAX);
	else {
		r = parse_unsigned(v[VSOCK_CID], VMM_VSOCK_CID_MIN, VMM_VSOCK_CID_MAX, &cid);
		if (r < 0)
			r = cli_error(ret_error, r,
				      _("--vsock: invalid value 'cid=%s': expected a number from %u to %u "
					"(0-2 are reserved for the hypervisor, loopback and the host)"),
				      v[VSOCK_CID], VMM_VSOCK_CID_MIN, VMM_VSOCK_CID_MAX);
	}
	/* The backend binds PATH and connects to PATH_<port>: both must fit a unix socket address. */
	if (r >= 0 && strlen(v[VSOCK_SOCKET]) + sizeof("_4294967295") > sizeof(((struct sockaddr_un *)0)->sun_path))
		r = cli_error(ret_error, -ENAMETOOLONG,
			      _("--vsock: socket=%s is too long: a unix socket path has at most %zu bytes, and "
				"the VMM appends _<port> to it"),
			      v[VSOCK_SOCKET], sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof("_4294967295"));
	if (r >= 0) {
		vsock_config_done(&cfg->vsock);
		cfg->vsock = (struct vsock_config){
		    .enabled = true,
		    .cid = cid,
		    .socket = TAKE_PTR(v[VSOCK_SOCKET]),
		    .id = TAKE_PTR(v[VSOCK_ID]),
		};
	}
	option_values_free(v, ELEMENTSOF(vsock_keys));
	return r;
}
