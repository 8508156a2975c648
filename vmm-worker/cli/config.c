/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"

#include "arch/x86/layout.h"
#include "cli/config.h"
#include "cli/i18n.h"
#include "cli/option-list.h"
#include "cli/parse-util.h"

#define CPUS_SYNTAX "boot=<1-254>[,max=<1-254>]"
#define MEMORY_SYNTAX "size=<n>[K|M|G]"
#define OUTPUT_SYNTAX "off|null|pty[,log=<path>]|tty|file=<path>"
#define CONTROL_SOCKET_SYNTAX "<path>|path=<path>|fd=<n>"
#define RNG_SYNTAX "src=<entropy_source_path>"

static const char *const output_mode_table[_OUTPUT_MODE_MAX] = {
    [OUTPUT_MODE_OFF] = "off", [OUTPUT_MODE_NULL] = "null", [OUTPUT_MODE_TTY] = "tty",
    [OUTPUT_MODE_PTY] = "pty", [OUTPUT_MODE_FILE] = "file",
};

const char *output_mode_to_string(enum output_mode m)
{
	if (m < 0 || m >= _OUTPUT_MODE_MAX)
		return NULL;
	return output_mode_table[m];
}

enum output_mode output_mode_from_string(const char *s)
{
	if (!s)
		return _OUTPUT_MODE_INVALID;
	for (int i = 0; i < _OUTPUT_MODE_MAX; i++)
		if (strcmp(output_mode_table[i], s) == 0)
			return (enum output_mode)i;
	return _OUTPUT_MODE_INVALID;
}

void vmm_config_init(struct vmm_config *cfg)
{
	*cfg = (struct vmm_config){
	    .cpus_boot = VMM_CPUS_DEFAULT,
	    .cpus_max = VMM_CPUS_DEFAULT,
	    .memory_size = VMM_MEMORY_DEFAULT,
	    .serial = {.mode = OUTPUT_MODE_NULL},
	    .console = {.mode = OUTPUT_MODE_TTY},
	    .control_fd = -1,
	    .rng = {.enabled = true},
	};
}

void vmm_config_done(struct vmm_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->kernel);
	free(cfg->initramfs);
	free(cfg->cmdline);
	free(cfg->firmware);
	free(cfg->serial.path);
	free(cfg->serial.log);
	free(cfg->console.path);
	free(cfg->console.log);
	free(cfg->rng.src);
	free(cfg->log_file);
	free(cfg->control_path);
	for (size_t i = 0; i < cfg->n_disks; i++)
		disk_config_done(&cfg->disks[i]);
	free(cfg->disks);
	for (size_t i = 0; i < cfg->n_nets; i++)
		net_config_done(&cfg->nets[i]);
	free(cfg->nets);
	vsock_config_done(&cfg->vsock);
	*cfg = (struct vmm_config){.control_fd = -1};
}

enum log_level vmm_config_log_level(const struct vmm_config *cfg)
{
	if (cfg->verbosity >= 2)
		return LOG_LEVEL_DEBUG;
	if (cfg->verbosity == 1)
		return LOG_LEVEL_INFO;
	return LOG_LEVEL_WARNING;
}

/* --cpus */

enum { CPUS_BOOT, CPUS_MAX };
static const struct option_key cpus_keys[] = {
    [CPUS_BOOT] = {"boot"},
    [CPUS_MAX] = {"max"},
    {"topology", .unsupported = true},
    {"kvm_hyperv", .unsupported = true},
    {"max_phys_bits", .unsupported = true},
    {"affinity", .unsupported = true},
    {"features", .unsupported = true},
    {"nested", .unsupported = true},
};

static int parse_cpu_count(const char *key, const char *value, unsigned *ret, char **ret_error)
{
	int r;

	r = parse_unsigned(value, 1, VMM_CPUS_MAX, ret);
	if (r < 0)
		return cli_error(ret_error, r, _("--cpus: invalid value '%s=%s': expected %s"), key, value,
				 CPUS_SYNTAX);
	return 0;
}

int vmm_config_parse_cpus(struct vmm_config *cfg, const char *s, char **ret_error)
{
	char *v[ELEMENTSOF(cpus_keys)];
	unsigned boot = VMM_CPUS_DEFAULT, max;
	int r;

	r = option_list_parse("--cpus", CPUS_SYNTAX, s, cpus_keys, ELEMENTSOF(cpus_keys), v, ret_error);
	if (r < 0)
		return r;

	if (v[CPUS_BOOT])
		r = parse_cpu_count("boot", v[CPUS_BOOT], &boot, ret_error);
	max = boot; /* as Cloud Hypervisor: max defaults to boot */
	if (r >= 0 && v[CPUS_MAX])
		r = parse_cpu_count("max", v[CPUS_MAX], &max, ret_error);
	if (r >= 0 && max < boot)
		r = cli_error(ret_error, -EINVAL,
			      _("--cpus: max=%u is lower than boot=%u: max must be at least boot"), max,
			      boot);

	option_values_free(v, ELEMENTSOF(cpus_keys));
	if (r < 0)
		return r;

	cfg->cpus_boot = boot;
	cfg->cpus_max = max;
	return 0;
}

/* --memory */

enum { MEMORY_SIZE };
static const struct option_key memory_keys[] = {
    [MEMORY_SIZE] = {"size"},
    {"file", .unsupported = true},
    {"mergeable", .unsupported = true},
    {"shared", .unsupported = true},
    {"hugepages", .unsupported = true},
    {"hugepage_size", .unsupported = true},
    {"hotplug_method", .unsupported = true},
    {"hotplug_size", .unsupported = true},
    {"hotplugged_size", .unsupported = true},
    {"prefault", .unsupported = true},
    {"thp", .unsupported = true},
};

/* text is the size as the user wrote it, so the message quotes it back. */
static int check_memory_size(uint64_t size, const char *text, char **ret_error)
{
	if (size < VMM_MEMORY_MIN)
		return cli_error(ret_error, -ERANGE, _("--memory: size=%s is too small (at least %lluM)"),
				 text, VMM_MEMORY_MIN >> 20);
	if (size > VMM_MEMORY_MAX)
		return cli_error(ret_error, -ERANGE, _("--memory: size=%s is too large (at most %lluG)"),
				 text, VMM_MEMORY_MAX >> 30);
	if (size % VMM_MEMORY_ALIGN != 0)
		return cli_error(
		    ret_error, -EINVAL,
		    _("--memory: size=%s is not a multiple of 4K, the page size (e.g. size=%lluK)"), text,
		    (unsigned long long)ALIGN_UP(size, VMM_MEMORY_ALIGN) >> 10);
	return 0;
}

int vmm_config_parse_memory(struct vmm_config *cfg, const char *s, char **ret_error)
{
	char *v[ELEMENTSOF(memory_keys)];
	uint64_t size = VMM_MEMORY_DEFAULT;
	int r;

	r = option_list_parse("--memory", MEMORY_SYNTAX, s, memory_keys, ELEMENTSOF(memory_keys), v,
			      ret_error);
	if (r < 0)
		return r;

	if (v[MEMORY_SIZE]) {
		r = parse_size(v[MEMORY_SIZE], &size);
		if (r == -ERANGE) /* overflowed 64 bits */
			r = cli_error(ret_error, r, _("--memory: size=%s is too large (at most %lluG)"),
				      v[MEMORY_SIZE], VMM_MEMORY_MAX >> 30);
		else if (r < 0)
			r = cli_error(ret_error, r, _("--memory: invalid value 'size=%s': expected %s"),
				      v[MEMORY_SIZE], MEMORY_SYNTAX);
		else
			r = check_memory_size(size, v[MEMORY_SIZE], ret_error);
	}

	option_values_free(v, ELEMENTSOF(memory_keys));
	if (r < 0)
		return r;

	cfg->memory_size = size;
	return 0;
}

/* --rng */

enum { RNG_SRC };
static const struct option_key rng_keys[] = {
    [RNG_SRC] = {"src"},
    {"iommu", .unsupported = true},
};

int vmm_config_parse_rng(struct vmm_config *cfg, const char *s, char **ret_error)
{
	char *v[ELEMENTSOF(rng_keys)];
	int r;

	r = option_list_parse("--rng", RNG_SYNTAX, s, rng_keys, ELEMENTSOF(rng_keys), v, ret_error);
	if (r < 0)
		return r;
	if (!v[RNG_SRC]) {
		option_values_free(v, ELEMENTSOF(rng_keys));
		return cli_error(ret_error, -EINVAL, _("--rng: '%s' names no entropy source: expected %s"), s,
				 RNG_SYNTAX);
	}
	free(cfg->rng.src);
	cfg->rng = (struct rng_config){.enabled = true, .src = TAKE_PTR(v[RNG_SRC])};
	option_values_free(v, ELEMENTSOF(rng_keys));
	return 0;
}

const char *vmm_config_rng_src(const struct vmm_config *cfg)
{
	return cfg->rng.src ? cfg->rng.src : VMM_RNG_DEFAULT_SRC;
}

/* --serial, --console */

/* Besides "log", the supported keys are exactly the output modes. */
static const struct option_key serial_keys[] = {
    {"off", .valueless = true},
    {"null", .valueless = true},
    {"tty", .valueless = true},
    {"pty", .valueless = true},
    {"file"},
    {"log"},
    {"socket", .unsupported = true},
};

static const struct option_key console_keys[] = {
    {"off", .valueless = true},
    {"null", .valueless = true},
    {"tty", .valueless = true},
    {"pty", .valueless = true},
    {"file"},
    {"log"},
    {"iommu", .unsupported = true},
    {"id", .unsupported = true},
    {"pci_segment", .unsupported = true},
    {"pci_device_id", .unsupported = true},
};

#define OUTPUT_KEYS_MAX MAX(ELEMENTSOF(serial_keys), ELEMENTSOF(console_keys))

static int output_config_parse(struct output_config *out, const char *option, const struct option_key *keys,
			       size_t n_keys, const char *s, char **ret_error)
{
	char *v[OUTPUT_KEYS_MAX];
	enum output_mode mode = _OUTPUT_MODE_INVALID;
	size_t which = 0, log = 0;
	unsigned n_modes = 0;
	int r;

	r = option_list_parse(option, OUTPUT_SYNTAX, s, keys, n_keys, v, ret_error);
	if (r < 0)
		return r;

	/* The modes are spelt as output_mode_to_string() does. */
	for (size_t i = 0; i < n_keys; i++) {
		enum output_mode m = output_mode_from_string(keys[i].name);

		if (strcmp(keys[i].name, "log") == 0)
			log = i;
		if (m < 0 || !v[i])
			continue;
		mode = m;
		which = i;
		n_modes++;
	}

	if (n_modes != 1)
		r = cli_error(ret_error, -EINVAL, _("%s: '%s' names %s output mode: expected one of %s"),
			      option, s, n_modes == 0 ? _("no") : _("more than one"), OUTPUT_SYNTAX);
	else if (v[log] && mode != OUTPUT_MODE_PTY)
		r = cli_error(ret_error, -EINVAL,
			      _("%s: log=<path> goes with pty only, not with %s: expected pty,log=<path>"),
			      option, output_mode_to_string(mode));
	else
		*out = (struct output_config){
		    .mode = mode,
		    .path = mode == OUTPUT_MODE_FILE ? TAKE_PTR(v[which]) : NULL,
		    .log = TAKE_PTR(v[log]),
		};

	option_values_free(v, n_keys);
	return r;
}

int output_config_parse_serial(struct output_config *out, const char *s, char **ret_error)
{
	return output_config_parse(out, "--serial", serial_keys, ELEMENTSOF(serial_keys), s, ret_error);
}

int output_config_parse_console(struct output_config *out, const char *s, char **ret_error)
{
	return output_config_parse(out, "--console", console_keys, ELEMENTSOF(console_keys), s, ret_error);
}

/* --control-socket */

enum { CONTROL_PATH, CONTROL_FD };
static const struct option_key control_keys[] = {
    [CONTROL_PATH] = {"path"},
    [CONTROL_FD] = {"fd"},
};

int vmm_config_parse_control_socket(struct vmm_config *cfg, const char *s, char **ret_error)
{
	char *v[ELEMENTSOF(control_keys)];
	unsigned fd = 0;
	char *path = NULL;
	int r;

	/* A bare path, as the short form of path=<path>. */
	if (!strchr(s, '=')) {
		if (!*s)
			return cli_error(ret_error, -EINVAL, _("--control-socket: empty value: expected %s"),
					 CONTROL_SOCKET_SYNTAX);
		path = strdup(s);
		if (!path)
			return -ENOMEM;
		free(cfg->control_path);
		cfg->control_path = path;
		cfg->control_fd = -1;
		return 0;
	}

	r = option_list_parse("--control-socket", CONTROL_SOCKET_SYNTAX, s, control_keys,
			      ELEMENTSOF(control_keys), v, ret_error);
	if (r < 0)
		return r;

	if (!!v[CONTROL_PATH] == !!v[CONTROL_FD])
		r = cli_error(ret_error, -EINVAL, _("--control-socket: '%s': give either path= or fd=, expected %s"),
			      s, CONTROL_SOCKET_SYNTAX);
	else if (v[CONTROL_FD]) {
		/* 0-2 are standard input, output and error; systemd and chd pass sockets from 3 on. */
		r = parse_unsigned(v[CONTROL_FD], 3, INT32_MAX, &fd);
		if (r < 0)
			r = cli_error(ret_error, r,
				      _("--control-socket: invalid value 'fd=%s': expected the number (3 or more) of "
					"an inherited listening socket"),
				      v[CONTROL_FD]);
	} else
		path = TAKE_PTR(v[CONTROL_PATH]);

	option_values_free(v, ELEMENTSOF(control_keys));
	if (r < 0)
		return r;

	free(cfg->control_path);
	cfg->control_path = path;
	cfg->control_fd = path ? -1 : (int)fd;
	return 0;
}

/* Cross-option checks */

static int validate_output(const struct output_config *out, const char *option, char **ret_error)
{
	if (!output_mode_to_string(out->mode))
		return cli_error(ret_error, -EINVAL, _("%s: invalid output mode %d: expected %s"), option,
				 out->mode, OUTPUT_SYNTAX);
	if (out->mode == OUTPUT_MODE_FILE && (!out->path || !*out->path))
		return cli_error(ret_error, -EINVAL, _("%s: file mode needs a path: expected file=<path>"),
				 option);
	if (out->mode != OUTPUT_MODE_FILE && out->path)
		return cli_error(ret_error, -EINVAL, _("%s: a path only goes with file=<path>, not with %s"),
				 option, output_mode_to_string(out->mode));
	if (out->mode != OUTPUT_MODE_PTY && out->log)
		return cli_error(ret_error, -EINVAL, _("%s: log=<path> goes with pty only, not with %s"),
				 option, output_mode_to_string(out->mode));
	return 0;
}

int vmm_config_validate(struct vmm_config *cfg, char **ret_error)
{
	int r;

	if (!cfg->kernel && !cfg->firmware)
		return cli_error(ret_error, -EINVAL,
				 _("--kernel is required (or --firmware): give the kernel to boot, e.g. "
				   "--kernel ./vmlinux"));
	if (cfg->kernel && cfg->firmware)
		return cli_error(
		    ret_error, -EINVAL,
		    _("--kernel and --firmware cannot be combined: boot either a kernel or a firmware"));
	if (cfg->kernel && cfg->cmdline && strlen(cfg->cmdline) >= LAYOUT_CMDLINE_MAX)
		return cli_error(ret_error, -E2BIG, _("--cmdline: %zu bytes is too long (at most %llu)"),
				 strlen(cfg->cmdline), LAYOUT_CMDLINE_MAX - 1);

	if (cfg->cpus_boot < 1 || cfg->cpus_boot > VMM_CPUS_MAX || cfg->cpus_max > VMM_CPUS_MAX)
		return cli_error(ret_error, -ERANGE,
				 _("--cpus: boot=%u,max=%u is out of range: expected %s"), cfg->cpus_boot,
				 cfg->cpus_max, CPUS_SYNTAX);
	if (cfg->cpus_max < cfg->cpus_boot)
		return cli_error(ret_error, -EINVAL,
				 _("--cpus: max=%u is lower than boot=%u: max must be at least boot"),
				 cfg->cpus_max, cfg->cpus_boot);

	if (cfg->memory_size < VMM_MEMORY_MIN || cfg->memory_size > VMM_MEMORY_MAX ||
	    cfg->memory_size % VMM_MEMORY_ALIGN != 0) {
		char text[32];

		snprintf(text, sizeof(text), "%llu", (unsigned long long)cfg->memory_size);
		return check_memory_size(cfg->memory_size, text, ret_error);
	}

	r = validate_output(&cfg->serial, "--serial", ret_error);
	if (r < 0)
		return r;
	r = validate_output(&cfg->console, "--console", ret_error);
	if (r < 0)
		return r;
	if (cfg->serial.mode == OUTPUT_MODE_TTY && cfg->console.mode == OUTPUT_MODE_TTY)
		return cli_error(
		    ret_error, -EINVAL,
		    _("--serial tty and --console tty cannot share the terminal: add --console off "
		      "(or --console null)"));

	for (size_t i = 0; i < cfg->n_disks; i++)
		for (size_t j = 0; j < i; j++)
			if (cfg->disks[i].id && cfg->disks[j].id && strcmp(cfg->disks[i].id, cfg->disks[j].id) == 0)
				return cli_error(ret_error, -EINVAL,
						 _("--disk: id=%s names two disks: give each its own id"),
						 cfg->disks[i].id);

	if (cfg->firmware) {
		/* Cloud Hypervisor ignores them too rather than failing, so its command lines work. */
		if (cfg->cmdline) {
			log_warning(_("--cmdline is ignored when booting --firmware"));
			free(cfg->cmdline);
			cfg->cmdline = NULL;
		}
		if (cfg->initramfs) {
			log_warning(_("--initramfs is ignored when booting --firmware"));
			free(cfg->initramfs);
			cfg->initramfs = NULL;
		}
	}

	return 0;
}
