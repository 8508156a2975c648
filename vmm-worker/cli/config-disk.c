/* SPDX-License-Identifier: Apache-2.0 */
/* --disk path=,readonly=,direct=,num_queues=,queue_size=,serial=,id= as Cloud Hypervisor reads it;
 * several values after one --disk (argv.c) each add a disk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#include "cli/config.h"
#include "cli/i18n.h"
#include "cli/option-list.h"
#include "cli/parse-util.h"

#define DISK_SYNTAX                                                                                         \
	"path=<disk_image_path>[,readonly=on|off][,direct=on|off][,num_queues=<n>][,queue_size=<n>]"        \
	"[,serial=<serial_number>][,id=<device_id>]"

void disk_config_done(struct disk_config *d)
{
	free(d->path);
	free(d->serial);
	free(d->id);
	*d = (struct disk_config){};
}

enum { DISK_PATH, DISK_READONLY, DISK_DIRECT, DISK_NUM_QUEUES, DISK_QUEUE_SIZE, DISK_SERIAL, DISK_ID };
static const struct option_key disk_keys[] = {
    [DISK_PATH] = {"path"},
    [DISK_READONLY] = {"readonly"},
    [DISK_DIRECT] = {"direct"},
    [DISK_NUM_QUEUES] = {"num_queues"},
    [DISK_QUEUE_SIZE] = {"queue_size"},
    [DISK_SERIAL] = {"serial"},
    [DISK_ID] = {"id"},
    {"iommu", .unsupported = true},
    {"vhost_user", .unsupported = true},
    {"socket", .unsupported = true},
    {"bw_size", .unsupported = true},
    {"bw_one_time_burst", .unsupported = true},
    {"bw_refill_time", .unsupported = true},
    {"ops_size", .unsupported = true},
    {"ops_one_time_burst", .unsupported = true},
    {"ops_refill_time", .unsupported = true},
    {"pci_segment", .unsupported = true},
    {"rate_limit_group", .unsupported = true},
    {"queue_affinity", .unsupported = true},
    {"image_type", .unsupported = true},
    {"backing_files", .unsupported = true},
    {"sparse", .unsupported = true},
};

static int disk_toggle(const char *key, const char *value, bool *ret, char **ret_error)
{
	if (parse_toggle(value, ret) < 0)
		return cli_error(ret_error, -EINVAL, _("--disk: invalid value '%s=%s': expected on or off"),
				 key, value);
	return 0;
}

static int disk_values(char **v, struct disk_config *d, char **ret_error)
{
	int r = 0;

	if (!v[DISK_PATH])
		return cli_error(ret_error, -EINVAL, _("--disk: no path=<disk_image_path>: expected %s"),
				 DISK_SYNTAX);
	if (v[DISK_READONLY])
		r = disk_toggle("readonly", v[DISK_READONLY], &d->readonly, ret_error);
	if (r >= 0 && v[DISK_DIRECT])
		r = disk_toggle("direct", v[DISK_DIRECT], &d->direct, ret_error);
	if (r >= 0 && v[DISK_NUM_QUEUES] &&
	    parse_unsigned(v[DISK_NUM_QUEUES], 1, VMM_DISK_QUEUES_MAX, &d->num_queues) < 0)
		r = cli_error(ret_error, -ERANGE,
			      _("--disk: invalid value 'num_queues=%s': expected 1 to %u"),
			      v[DISK_NUM_QUEUES], VMM_DISK_QUEUES_MAX);
	if (r >= 0 && v[DISK_QUEUE_SIZE] &&
	    (parse_unsigned(v[DISK_QUEUE_SIZE], 2, VMM_DISK_QUEUE_SIZE_MAX, &d->queue_size) < 0 ||
	     (d->queue_size & (d->queue_size - 1))))
		r = cli_error(
		    ret_error, -ERANGE,
		    _("--disk: invalid value 'queue_size=%s': expected a power of two from 2 to %u"),
		    v[DISK_QUEUE_SIZE], VMM_DISK_QUEUE_SIZE_MAX);
	if (r >= 0 && v[DISK_SERIAL]) {
		const char *p = v[DISK_SERIAL];
		bool ok = strlen(p) <= VMM_DISK_SERIAL_MAX;
		for (; ok && *p; p++)
			ok = *p > 0x20 && *p < 0x7f;
		if (!ok)
			r = cli_error(
			    ret_error, -EINVAL,
			    _("--disk: invalid value 'serial=%s': expected at most %u printable ASCII "
			      "characters without blanks"),
			    v[DISK_SERIAL], VMM_DISK_SERIAL_MAX);
	}
	return r;
}

int vmm_config_parse_disk(struct vmm_config *cfg, const char *s, char **ret_error)
{
	char *v[ELEMENTSOF(disk_keys)];
	struct disk_config d = {.num_queues = 1, .queue_size = VMM_DISK_QUEUE_SIZE_DEFAULT};
	struct disk_config *disks;
	int r;

	r = option_list_parse("--disk", DISK_SYNTAX, s, disk_keys, ELEMENTSOF(disk_keys), v, ret_error);
	if (r < 0)
		return r;
	r = disk_values(v, &d, ret_error);
	if (r >= 0) {
		disks = realloc(cfg->disks, (cfg->n_disks + 1) * sizeof(*disks));
		if (!disks)
			r = -ENOMEM;
	}
	if (r < 0) {
		option_values_free(v, ELEMENTSOF(disk_keys));
		return r;
	}
	d.path = TAKE_PTR(v[DISK_PATH]);
	d.serial = TAKE_PTR(v[DISK_SERIAL]);
	d.id = TAKE_PTR(v[DISK_ID]);
	option_values_free(v, ELEMENTSOF(disk_keys));
	cfg->disks = disks;
	cfg->disks[cfg->n_disks++] = d;
	return 0;
}
