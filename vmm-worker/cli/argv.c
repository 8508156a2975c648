/* SPDX-License-Identifier: Apache-2.0 */
/* The command line itself: which options exist, their --help lines, and the getopt loop that
 * hands each value to its parser in config.c. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#include "cli/config.h"
#include "cli/i18n.h"
#include "cli/parse-util.h"

enum {
	ARG_CPUS = 0x100,
	ARG_MEMORY,
	ARG_FIRMWARE,
	ARG_KERNEL,
	ARG_INITRAMFS,
	ARG_CMDLINE,
	ARG_SERIAL,
	ARG_CONSOLE,
	ARG_RNG,
	ARG_LOG_FILE,
	ARG_CONTROL_SOCKET,
	ARG_DISK,
	ARG_NET,
	ARG_VSOCK,
};

struct cli_option {
	const char *name; /* long name, NULL for -v */
	int val;	  /* short letter or ARG_* */
	bool has_arg;
	bool repeatable;
	const char *metavar;
	const char *help; /* N_() */
	const char *default_value;
};

/* In Cloud Hypervisor's --help order. */
static const struct cli_option cli_options[] = {
    {"cpus", ARG_CPUS, true, false, "<cpus>", N_("boot=<boot_vcpus>,max=<max_vcpus> (1-254)"), "boot=1"},
    {"memory", ARG_MEMORY, true, false, "<memory>",
     N_("Memory parameters \"size=<guest_memory_size>\" (bytes, or with a K, M or G suffix)"), "size=512M"},
    {"firmware", ARG_FIRMWARE, true, false, "<firmware>",
     N_("Path to firmware that is loaded in an architectural specific way"), NULL},
    {"kernel", ARG_KERNEL, true, false, "<kernel>",
     N_("Path to kernel to load: an ELF vmlinux with a PVH entry point, or a bzImage"), NULL},
    {"initramfs", ARG_INITRAMFS, true, false, "<initramfs>", N_("Path to initramfs image"), NULL},
    {"cmdline", ARG_CMDLINE, true, false, "<cmdline>", N_("Kernel command line"), NULL},
    {"disk", ARG_DISK, true, true, "<disk>",
     N_("Disk parameters \"path=<disk_image_path>,readonly=on|off,direct=on|off,num_queues=<number_of_queues>,"
        "queue_size=<size_of_each_queue>,serial=<serial_number>,id=<device_id>\"; repeat it, or give several "
        "after one --disk"),
     NULL},
    {"serial", ARG_SERIAL, true, false, "<serial>", N_("Control serial port: off|null|pty|tty|file=<path>"),
     "null"},
    {"console", ARG_CONSOLE, true, false, "<console>",
     N_("Control (virtio) console: off|null|pty|tty|file=<path>"), "tty"},
    {"control-socket", ARG_CONTROL_SOCKET, true, false, "<control-socket>",
     N_("Serve the org.cloudhypervisor.chd1.Worker D-Bus peer interface on a unix socket: "
        "<path>|path=<path>|fd=<listening socket>"),
     NULL},
    {"net", ARG_NET, true, true, "<net>",
     N_("Network parameters \"tap=<if_name>|fd=<fd1,fd2...>,ip=<ip_addr>,mask=<net_mask>,mac=<mac_addr>,"
        "host_mac=<mac_addr>,num_queues=<num_queues>,queue_size=<queue_size>,id=<device_id>,"
        "offload_tso=on|off,offload_ufo=on|off,offload_csum=on|off\" (several values or --net options: one "
        "device each)"),
     NULL},
    {"rng", ARG_RNG, true, false, "<rng>",
     N_("Random number generator parameters \"src=<entropy_source_path>\""), "src=/dev/urandom"},
    {"vsock", ARG_VSOCK, true, false, "<vsock>",
     N_("Virtio VSOCK parameters \"cid=<context_id>,socket=<socket_path>[,id=<device_id>]\""), NULL},
    {NULL, 'v', false, true, NULL, N_("Sets the level of debugging output (repeat for more: -vv)"), NULL},
    {"log-file", ARG_LOG_FILE, true, false, "<log-file>",
     N_("Log file. Standard error is used if not specified"), NULL},
    {"version", 'V', false, false, NULL, N_("Print version"), NULL},
    {"help", 'h', false, false, NULL, N_("Print help"), NULL},
};

/* Cloud Hypervisor options vmm-worker does not implement yet: named as such, not as typos. */
static const char *const cli_unsupported[] = {
    "platform",
    "memory-zone",
    "balloon",
    "fs",
    "pmem",
    "device",
    "user-device",
    "vdpa",
    "pvpanic",
    "numa",
    "watchdog",
    "api-socket",
    "event-monitor",
    "restore",
    "seccomp",
    "tpm",
    "sgx-epc",
    "debug-console",
    "landlock",
    "landlock-rules",
    "igvm",
    "host-data",
    "gdb",
    "fw-cfg-config",
    "generic-vhost-user",
};

static const struct cli_option *cli_option_by_val(int val)
{
	for (size_t i = 0; i < ELEMENTSOF(cli_options); i++)
		if (cli_options[i].val == val)
			return &cli_options[i];
	return NULL;
}

static const struct cli_option *cli_option_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(cli_options); i++)
		if (cli_options[i].name && strlen(cli_options[i].name) == len &&
		    strncmp(cli_options[i].name, name, len) == 0)
			return &cli_options[i];
	return NULL;
}

/* "--kernel" or "-v", for messages. */
static const char *cli_option_spelling(const struct cli_option *o, char buf[static 64])
{
	if (o->name)
		snprintf(buf, 64, "--%s", o->name);
	else
		snprintf(buf, 64, "-%c", o->val);
	return buf;
}

int vmm_config_help(FILE *f)
{
	fputs(_("Usage: vmm-worker [OPTIONS]\n\n"
		"Run one virtual machine. The options follow Cloud Hypervisor's, so its command lines work "
		"unchanged.\n\n"
		"Options:\n"),
	      f);

	for (size_t i = 0; i < ELEMENTSOF(cli_options); i++) {
		const struct cli_option *o = &cli_options[i];
		char left[64];

		if (o->name && o->val < 0x100)
			snprintf(left, sizeof(left), "-%c, --%s", o->val, o->name);
		else if (o->name)
			snprintf(left, sizeof(left), "    --%s %s", o->name, o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "-%c%s", o->val, o->repeatable ? "..." : "");

		fprintf(f, "  %-29s %s", left, _(o->help));
		if (o->default_value)
			fprintf(f, " [%s: %s]", _("default"), o->default_value);
		fputc('\n', f);
	}

	return fflush(f) == 0 ? 0 : -errno;
}

static int set_string(char **target, const char *option, const char *value, bool allow_empty,
		      char **ret_error)
{
	char *copy;

	if (!allow_empty && !*value)
		return cli_error(ret_error, -EINVAL, _("%s: empty value: expected a path"), option);

	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	free(*target);
	*target = copy;
	return 0;
}

static int handle_option(struct vmm_config *cfg, int c, const char *option, const char *arg,
			 char **ret_error)
{
	switch (c) {
	case ARG_CPUS:
		return vmm_config_parse_cpus(cfg, arg, ret_error);
	case ARG_MEMORY:
		return vmm_config_parse_memory(cfg, arg, ret_error);
	case ARG_FIRMWARE:
		return set_string(&cfg->firmware, option, arg, false, ret_error);
	case ARG_KERNEL:
		return set_string(&cfg->kernel, option, arg, false, ret_error);
	case ARG_INITRAMFS:
		return set_string(&cfg->initramfs, option, arg, false, ret_error);
	case ARG_CMDLINE: /* an empty kernel command line is legitimate */
		return set_string(&cfg->cmdline, option, arg, true, ret_error);
	case ARG_SERIAL:
		free(cfg->serial.path);
		free(cfg->serial.log);
		cfg->serial.path = cfg->serial.log = NULL;
		return output_config_parse_serial(&cfg->serial, arg, ret_error);
	case ARG_CONSOLE:
		free(cfg->console.path);
		free(cfg->console.log);
		cfg->console.path = cfg->console.log = NULL;
		return output_config_parse_console(&cfg->console, arg, ret_error);
	case ARG_RNG:
		return vmm_config_parse_rng(cfg, arg, ret_error);
	case ARG_VSOCK:
		return vmm_config_parse_vsock(cfg, arg, ret_error);
	case ARG_LOG_FILE:
		return set_string(&cfg->log_file, option, arg, false, ret_error);
	case ARG_CONTROL_SOCKET:
		return vmm_config_parse_control_socket(cfg, arg, ret_error);
	case ARG_DISK:
		return vmm_config_parse_disk(cfg, arg, ret_error);
	case ARG_NET:
		return vmm_config_parse_net(cfg, arg, ret_error);
	case 'v':
		cfg->verbosity++;
		return 0;
	case 'V':
		printf("vmm-worker %s\n", PACKAGE_VERSION);
		return 1;
	case 'h':
		vmm_config_help(stdout);
		return 1;
	default:
		return cli_error(ret_error, -EINVAL, _("internal error: option %d has no handler"), c);
	}
}

/* getopt_long() says '?' for an unknown option, a long option given a value it does not take, and
 * an ambiguous abbreviation; tell the user which. */
static int unknown_option(int argc, char **argv, char **ret_error)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (strncmp(arg, "--", 2) == 0) {
		const char *name = arg + 2;
		size_t len = strcspn(name, "=");
		const struct cli_option *o = cli_option_by_name(name, len);

		if (o && !o->has_arg && optopt == o->val)
			return cli_error(ret_error, -EINVAL, _("option '--%s' takes no value"), o->name);

		if (optopt == 0) {
			for (size_t i = 0; i < ELEMENTSOF(cli_unsupported); i++)
				if (strlen(cli_unsupported[i]) == len &&
				    strncmp(cli_unsupported[i], name, len) == 0)
					return cli_error(
					    ret_error, -EOPNOTSUPP,
					    _("option '--%s' is not supported by vmm-worker yet"),
					    cli_unsupported[i]);
			return cli_error(ret_error, -EINVAL,
					 _("unknown option '--%.*s' (see vmm-worker --help)"), (int)len,
					 name);
		}
	}

	return cli_error(ret_error, -EINVAL, _("unknown option '-%c' (see vmm-worker --help)"), optopt);
}

static int parse_argv(struct vmm_config *cfg, int argc, char **argv, char **ret_error)
{
	struct option longopts[ELEMENTSOF(cli_options) + 1] = {};
	bool seen[ELEMENTSOF(cli_options)] = {};
	size_t n = 0;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(cli_options); i++)
		if (cli_options[i].name)
			longopts[n++] = (struct option){
			    .name = cli_options[i].name,
			    .has_arg = cli_options[i].has_arg ? required_argument : no_argument,
			    .val = cli_options[i].val,
			};

	/* '+': stop at the first non-option instead of reordering argv, so stray words are reported.
	 * ':': report a missing value as ':' rather than printing getopt's own message. */
	optind = 0;
	opterr = 0;
	for (;;) {
		const struct cli_option *o;
		int c, longindex = -1;
		char spelling[64];
		const char *typed;
		bool separate;

		c = getopt_long(argc, argv, "+:hvV", longopts, &longindex);
		if (c < 0)
			break;

		if (c == '?')
			return unknown_option(argc, argv, ret_error);

		if (c == ':') {
			o = cli_option_by_val(optopt);
			if (!o)
				return cli_error(ret_error, -EINVAL,
						 _("missing value for option (see vmm-worker --help)"));
			return cli_error(ret_error, -EINVAL, _("%s: missing value: expected %s %s"),
					 cli_option_spelling(o, spelling), cli_option_spelling(o, spelling),
					 o->metavar);
		}

		o = cli_option_by_val(c);
		if (!o)
			return cli_error(ret_error, -EINVAL, _("internal error: unexpected option %d"), c);
		cli_option_spelling(o, spelling);

		/* The value came as its own word ("--kernel vmlinux") rather than "--kernel=vmlinux". */
		separate = optarg && optind >= 2 && optarg == argv[optind - 1];

		if (longindex >= 0) {
			/* glibc accepts unambiguous abbreviations ("--kern"); Cloud Hypervisor does not, and
			 * a new option could make an abbreviation that works today ambiguous tomorrow. */
			typed = argv[optind - (separate ? 2 : 1)] + 2;
			if (strncmp(typed, o->name, strlen(o->name)) != 0 ||
			    (typed[strlen(o->name)] != '\0' && typed[strlen(o->name)] != '=')) {
				size_t len = strcspn(typed, "=");

				return cli_error(ret_error, -EINVAL,
						 _("unknown option '--%.*s' (did you mean '--%s'?)"),
						 (int)len, typed, o->name);
			}
		}

		/* "--kernel --cmdline x" would take "--cmdline" as the kernel's path; Cloud Hypervisor
		 * refuses values that look like options, and so do we (write --opt=-value to mean it). */
		if (separate && optarg[0] == '-' && optarg[1] != '\0')
			return cli_error(ret_error, -EINVAL,
					 _("%s: missing value before '%s': expected %s %s"), spelling,
					 optarg, spelling, o->metavar);

		if (!o->repeatable) {
			if (seen[o - cli_options])
				return cli_error(ret_error, -EINVAL, _("%s: given more than once"),
						 spelling);
			seen[o - cli_options] = true;
		}

		/* Multi-value options (Cloud Hypervisor's "--disk path=a path=b"): the repeatable ones
		 * with a value also consume the words that follow, up to the next one starting with '-'. */
		r = handle_option(cfg, c, spelling, optarg, ret_error);
		while (r == 0 && o->repeatable && o->has_arg && optind < argc && argv[optind][0] != '-')
			r = handle_option(cfg, c, spelling, argv[optind++], ret_error);
		if (r != 0)
			return r;
	}

	if (optind < argc)
		return cli_error(ret_error, -EINVAL, _("unexpected argument '%s' (see vmm-worker --help)"),
				 argv[optind]);

	return 0;
}

int vmm_config_parse(struct vmm_config *cfg, int argc, char **argv, char **ret_error)
{
	int r;

	if (ret_error)
		*ret_error = NULL;

	vmm_config_init(cfg);

	r = parse_argv(cfg, argc, argv, ret_error);
	if (r == 0)
		r = vmm_config_validate(cfg, ret_error);
	if (r != 0)
		vmm_config_done(cfg);
	return r;
}
