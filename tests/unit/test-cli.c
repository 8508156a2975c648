/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-worker's Cloud Hypervisor command line: README command lines, defaults, every refusal with
 * its errno and message, the parameter-list splitter, the value readers, --help and --version. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ours before GLib: common/macro.h defines MIN/MAX unconditionally, and gmacros.h #undefs them. */
#include "cli/config.h"
#include "cli/option-list.h"
#include "cli/parse-util.h"

#include <glib.h>

/* Parses "vmm-worker" followed by the NULL-terminated words. */
static int parse_words(struct vmm_config *cfg, char **ret_error, const char *const *words)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	int r;

	g_ptr_array_add(argv, g_strdup("vmm-worker"));
	for (; *words; words++)
		g_ptr_array_add(argv, g_strdup(*words));
	g_ptr_array_add(argv, NULL);

	r = vmm_config_parse(cfg, (int)argv->len - 1, (char **)argv->pdata, ret_error);
	return r;
}

#define PARSE(cfg, err, ...) parse_words((cfg), (err), (const char *const[]){__VA_ARGS__, NULL})

static void assert_empty(const struct vmm_config *cfg)
{
	g_assert_null(cfg->kernel);
	g_assert_null(cfg->initramfs);
	g_assert_null(cfg->cmdline);
	g_assert_null(cfg->firmware);
	g_assert_null(cfg->serial.path);
	g_assert_null(cfg->console.path);
	g_assert_null(cfg->log_file);
	g_assert_null(cfg->control_path);
	g_assert_cmpint(cfg->control_fd, ==, -1);
}

static void test_vsock(void)
{
	struct vmm_config cfg;
	g_autofree char *err = NULL;

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k"), ==, 0);
	g_assert_false(cfg.vsock.enabled);
	vmm_config_done(&cfg);
	/* What chd emits for a <vsock> (Cloud Hypervisor's spelling). */
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--vsock", "cid=42,socket=/run/chd/vms/a/vsock,id=vsock0"), ==, 0);
	g_assert_true(cfg.vsock.enabled);
	g_assert_cmpuint(cfg.vsock.cid, ==, 42);
	g_assert_cmpstr(cfg.vsock.socket, ==, "/run/chd/vms/a/vsock");
	g_assert_cmpstr(cfg.vsock.id, ==, "vsock0");
	vmm_config_done(&cfg);
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--vsock", "socket=/s,cid=4294967294"), ==, 0);
	g_assert_cmpuint(cfg.vsock.cid, ==, 4294967294u);
	g_assert_null(cfg.vsock.id);
	vmm_config_done(&cfg);
}

static void test_control_socket(void)
{
	struct vmm_config cfg;
	g_autofree char *err = NULL;

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k"), ==, 0);
	g_assert_null(cfg.control_path);
	g_assert_cmpint(cfg.control_fd, ==, -1);
	vmm_config_done(&cfg);

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--control-socket", "/run/chd/vms/a/control"), ==, 0);
	g_assert_cmpstr(cfg.control_path, ==, "/run/chd/vms/a/control");
	g_assert_cmpint(cfg.control_fd, ==, -1);
	vmm_config_done(&cfg);

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--control-socket=path=rel/sock"), ==, 0);
	g_assert_cmpstr(cfg.control_path, ==, "rel/sock");
	vmm_config_done(&cfg);

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--control-socket", "fd=3"), ==, 0);
	g_assert_null(cfg.control_path);
	g_assert_cmpint(cfg.control_fd, ==, 3);
	vmm_config_done(&cfg);
	g_assert_null(err);
}

static void test_output_mode_table(void)
{
	for (int i = 0; i < _OUTPUT_MODE_MAX; i++) {
		const char *s = output_mode_to_string((enum output_mode)i);

		g_assert_nonnull(s);
		g_assert_cmpint(output_mode_from_string(s), ==, i);
		for (int j = 0; j < i; j++)
			g_assert_cmpstr(output_mode_to_string((enum output_mode)j), !=, s);
	}
	g_assert_cmpint(_OUTPUT_MODE_MAX, ==, 5);
	g_assert_cmpstr(output_mode_to_string(OUTPUT_MODE_OFF), ==, "off");
	g_assert_cmpstr(output_mode_to_string(OUTPUT_MODE_FILE), ==, "file");
	g_assert_null(output_mode_to_string(_OUTPUT_MODE_MAX));
	g_assert_null(output_mode_to_string(_OUTPUT_MODE_INVALID));
	g_assert_cmpint(output_mode_from_string("socket"), ==, -EINVAL);
	g_assert_cmpint(output_mode_from_string("TTY"), ==, -EINVAL);
	g_assert_cmpint(output_mode_from_string(""), ==, -EINVAL);
	g_assert_cmpint(output_mode_from_string(NULL), ==, -EINVAL);
}

static void test_defaults(void)
{
	struct vmm_config cfg;
	g_autofree char *err = NULL;

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "vmlinux"), ==, 0);
	g_assert_null(err);
	g_assert_cmpstr(cfg.kernel, ==, "vmlinux");
	g_assert_null(cfg.initramfs);
	g_assert_null(cfg.cmdline);
	g_assert_null(cfg.firmware);
	g_assert_cmpuint(cfg.cpus_boot, ==, 1);
	g_assert_cmpuint(cfg.cpus_max, ==, 1);
	g_assert_cmpuint(cfg.memory_size, ==, 512ULL << 20);
	g_assert_cmpint(cfg.serial.mode, ==, OUTPUT_MODE_NULL);
	g_assert_null(cfg.serial.path);
	g_assert_cmpint(cfg.console.mode, ==, OUTPUT_MODE_TTY);
	g_assert_null(cfg.console.path);
	g_assert_cmpuint(cfg.verbosity, ==, 0);
	g_assert_cmpint(vmm_config_log_level(&cfg), ==, LOG_LEVEL_WARNING);
	g_assert_null(cfg.log_file);
	/* As Cloud Hypervisor: a virtio-rng on /dev/urandom unless told otherwise. */
	g_assert_true(cfg.rng.enabled);
	g_assert_cmpstr(vmm_config_rng_src(&cfg), ==, "/dev/urandom");
	vmm_config_done(&cfg);
	assert_empty(&cfg);
	vmm_config_done(&cfg); /* twice is harmless */

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--rng", "src=\"/srv/entropy,1\""), ==, 0);
	g_assert_cmpstr(vmm_config_rng_src(&cfg), ==, "/srv/entropy,1");
	vmm_config_done(&cfg);
	g_assert_null(cfg.rng.src);

	vmm_config_init(&cfg);
	g_assert_cmpuint(cfg.cpus_boot, ==, VMM_CPUS_DEFAULT);
	g_assert_cmpuint(cfg.memory_size, ==, VMM_MEMORY_DEFAULT);
	g_assert_cmpint(cfg.console.mode, ==, OUTPUT_MODE_TTY);
	vmm_config_done(&cfg);
}

/* The commands of Cloud Hypervisor's README, minus the devices not implemented yet. */
static void test_readme(void)
{
	struct vmm_config cfg;
	g_autofree char *err = NULL;

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "./vmlinux", "--cmdline",
			      "console=hvc0 root=/dev/vda1 rw", "--cpus", "boot=4", "--memory", "size=1024M",
			      "--serial", "tty", "--console", "off"),
			==, 0);
	g_assert_null(err);
	g_assert_cmpstr(cfg.kernel, ==, "./vmlinux");
	g_assert_cmpstr(cfg.cmdline, ==, "console=hvc0 root=/dev/vda1 rw");
	g_assert_cmpuint(cfg.cpus_boot, ==, 4);
	g_assert_cmpuint(cfg.cpus_max, ==, 4);
	g_assert_cmpuint(cfg.memory_size, ==, 1024ULL << 20);
	g_assert_cmpint(cfg.serial.mode, ==, OUTPUT_MODE_TTY);
	g_assert_cmpint(cfg.console.mode, ==, OUTPUT_MODE_OFF);
	vmm_config_done(&cfg);

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel",
			      "./linux-cloud-hypervisor/arch/x86/boot/compressed/vmlinux.bin", "--console",
			      "off", "--serial", "tty", "--cmdline", "console=ttyS0 root=/dev/vda1 rw",
			      "--cpus", "boot=4", "--memory", "size=1024M"),
			==, 0);
	g_assert_cmpstr(cfg.kernel, ==, "./linux-cloud-hypervisor/arch/x86/boot/compressed/vmlinux.bin");
	g_assert_cmpstr(cfg.cmdline, ==, "console=ttyS0 root=/dev/vda1 rw");
	vmm_config_done(&cfg);

	/* Firmware boot (the README's CLOUDHV.fd example without its --disk). */
	g_assert_cmpint(
	    PARSE(&cfg, &err, "--firmware", "./CLOUDHV.fd", "--cpus", "boot=4", "--memory", "size=1024M"),
	    ==, 0);
	g_assert_cmpstr(cfg.firmware, ==, "./CLOUDHV.fd");
	g_assert_null(cfg.kernel);
	vmm_config_done(&cfg);

	/* As Cloud Hypervisor, --cmdline and --initramfs are dropped with a warning under --firmware. */
	g_assert_cmpint(PARSE(&cfg, &err, "--firmware", "fw", "--cmdline", "x", "--initramfs", "i"), ==, 0);
	g_assert_null(cfg.cmdline);
	g_assert_null(cfg.initramfs);
	vmm_config_done(&cfg);
}

static void test_good(void)
{
	struct vmm_config cfg;
	g_autofree char *err = NULL;

	/* "--opt=value" as well as "--opt value". */
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel=vmlinux", "--initramfs=initrd.img",
			      "--cpus=boot=2,max=8", "--memory=size=2G",
			      "--cmdline=", "--serial=file=/tmp/serial.log", "--console=pty"),
			==, 0);
	g_assert_null(err);
	g_assert_cmpstr(cfg.kernel, ==, "vmlinux");
	g_assert_cmpstr(cfg.initramfs, ==, "initrd.img");
	g_assert_cmpstr(cfg.cmdline, ==, "");
	g_assert_cmpuint(cfg.cpus_boot, ==, 2);
	g_assert_cmpuint(cfg.cpus_max, ==, 8);
	g_assert_cmpuint(cfg.memory_size, ==, 2ULL << 30);
	g_assert_cmpint(cfg.serial.mode, ==, OUTPUT_MODE_FILE);
	g_assert_cmpstr(cfg.serial.path, ==, "/tmp/serial.log");
	g_assert_cmpint(cfg.console.mode, ==, OUTPUT_MODE_PTY);
	g_assert_null(cfg.console.path);
	vmm_config_done(&cfg);

	/* Quoted commas stay in the value; quotes go. Blanks around keys and values go. */
	g_assert_cmpint(
	    PARSE(&cfg, &err, "--kernel", "k", "--serial", "off", "--console", "file=\"/tmp/a,b.log\""), ==,
	    0);
	g_assert_cmpint(cfg.serial.mode, ==, OUTPUT_MODE_OFF);
	g_assert_cmpint(cfg.console.mode, ==, OUTPUT_MODE_FILE);
	g_assert_cmpstr(cfg.console.path, ==, "/tmp/a,b.log");
	vmm_config_done(&cfg);

	g_assert_cmpint(
	    PARSE(&cfg, &err, "--kernel", "k", "--cpus", " boot = 3 , max=5 ", "--console", "null"), ==, 0);
	g_assert_cmpuint(cfg.cpus_boot, ==, 3);
	g_assert_cmpuint(cfg.cpus_max, ==, 5);
	g_assert_cmpint(cfg.console.mode, ==, OUTPUT_MODE_NULL);
	vmm_config_done(&cfg);

	/* The console log of a pty (chd's extension), in either order. */
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--serial", "pty,log=/dev/fd/4", "--console",
			      "log=/var/log/chd/a.log,pty"),
			==, 0);
	g_assert_cmpint(cfg.serial.mode, ==, OUTPUT_MODE_PTY);
	g_assert_cmpstr(cfg.serial.log, ==, "/dev/fd/4");
	g_assert_cmpint(cfg.console.mode, ==, OUTPUT_MODE_PTY);
	g_assert_cmpstr(cfg.console.log, ==, "/var/log/chd/a.log");
	vmm_config_done(&cfg);
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--console", "pty"), ==, 0);
	g_assert_null(cfg.console.log);
	vmm_config_done(&cfg);

	/* Limits, exactly. */
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--cpus", "boot=254", "--memory", "size=16M"), ==,
			0);
	g_assert_cmpuint(cfg.cpus_boot, ==, 254);
	g_assert_cmpuint(cfg.cpus_max, ==, 254);
	g_assert_cmpuint(cfg.memory_size, ==, 16ULL << 20);
	vmm_config_done(&cfg);

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--cpus", "max=254", "--memory", "size=65536G"),
			==, 0);
	g_assert_cmpuint(cfg.cpus_boot, ==, 1);
	g_assert_cmpuint(cfg.cpus_max, ==, 254);
	g_assert_cmpuint(cfg.memory_size, ==, 1ULL << 46);
	vmm_config_done(&cfg);

	/* Plain bytes and K. */
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--memory", "size=4294967296"), ==, 0);
	g_assert_cmpuint(cfg.memory_size, ==, 4ULL << 30);
	vmm_config_done(&cfg);
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--memory", "size=20484K"), ==, 0);
	g_assert_cmpuint(cfg.memory_size, ==, 20484ULL << 10);
	vmm_config_done(&cfg);

	/* Verbosity and log file. */
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "-v"), ==, 0);
	g_assert_cmpuint(cfg.verbosity, ==, 1);
	g_assert_cmpint(vmm_config_log_level(&cfg), ==, LOG_LEVEL_INFO);
	vmm_config_done(&cfg);
	g_assert_cmpint(PARSE(&cfg, &err, "-vv", "--kernel", "k", "-v", "--log-file", "/tmp/vmm.log"), ==,
			0);
	g_assert_cmpuint(cfg.verbosity, ==, 3);
	g_assert_cmpint(vmm_config_log_level(&cfg), ==, LOG_LEVEL_DEBUG);
	g_assert_cmpstr(cfg.log_file, ==, "/tmp/vmm.log");
	vmm_config_done(&cfg);

	/* A value may start with '-' when attached with '='. */
	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--cmdline=-b quiet"), ==, 0);
	g_assert_cmpstr(cfg.cmdline, ==, "-b quiet");
	vmm_config_done(&cfg);

	/* Passing a NULL ret_error is allowed. */
	g_assert_cmpint(PARSE(&cfg, NULL, "--kernel", "k"), ==, 0);
	vmm_config_done(&cfg);
	g_assert_cmpint(PARSE(&cfg, NULL, "--foo"), ==, -EINVAL);
}

struct bad_case {
	const char *const words[12];
	int error;
	const char *message; /* substring, or the whole message when it starts with '=' */
};

static const struct bad_case bad_cases[] = {
    /* the command line itself */
    {{"--kernel", "k", "--foo"}, -EINVAL, "=unknown option '--foo' (see vmm-worker --help)"},
    {{"--foo=bar", "--kernel", "k"}, -EINVAL, "=unknown option '--foo' (see vmm-worker --help)"},
    {{"-x"}, -EINVAL, "=unknown option '-x' (see vmm-worker --help)"},
    {{"-vx"}, -EINVAL, "unknown option '-x'"},
    {{"--kernel", "k", "--balloon", "size=1G"},
     -EOPNOTSUPP,
     "=option '--balloon' is not supported by vmm-worker yet"},
    {{"--api-socket=/tmp/s"}, -EOPNOTSUPP, "option '--api-socket' is not supported"},
    {{"--kern", "vmlinux"}, -EINVAL, "unknown option '--kern' (did you mean '--kernel'?)"},
    {{"--kern=vmlinux"}, -EINVAL, "unknown option '--kern' (did you mean '--kernel'?)"},
    {{"--c", "x"}, -EINVAL, "unknown option '--c'"},
    {{"--kernel"}, -EINVAL, "=--kernel: missing value: expected --kernel <kernel>"},
    {{"--kernel", "k", "--cpus"}, -EINVAL, "--cpus: missing value: expected --cpus <cpus>"},
    {{"--kernel", "--cmdline", "x"}, -EINVAL, "--kernel: missing value before '--cmdline'"},
    {{"--kernel", ""}, -EINVAL, "--kernel: empty value"},
    {{"--kernel="}, -EINVAL, "--kernel: empty value"},
    {{"--kernel", "k", "--initramfs", ""}, -EINVAL, "--initramfs: empty value"},
    {{"--kernel", "k", "--log-file", ""}, -EINVAL, "--log-file: empty value"},
    {{"--kernel", "k", "--help=x"}, -EINVAL, "option '--help' takes no value"},
    {{"--kernel", "k", "extra"}, -EINVAL, "=unexpected argument 'extra' (see vmm-worker --help)"},
    {{"--kernel", "k", "--", "extra"}, -EINVAL, "unexpected argument 'extra'"},
    {{"--kernel", "a", "--kernel", "b"}, -EINVAL, "=--kernel: given more than once"},
    {{"--kernel", "k", "--cpus", "boot=2", "--cpus", "boot=3"}, -EINVAL, "--cpus: given more than once"},
    /* payload */
    {{"--cpus", "boot=2"}, -EINVAL, "--kernel is required"},
    {{""}, -EINVAL, "unexpected argument ''"},
    {{"--kernel", "k", "--firmware", "f"}, -EINVAL, "--kernel and --firmware cannot be combined"},
    /* --cpus */
    {{"--kernel", "k", "--cpus", "boot=x"},
     -EINVAL,
     "=--cpus: invalid value 'boot=x': expected boot=<1-254>[,max=<1-254>]"},
    {{"--kernel", "k", "--cpus", "boot=0"}, -ERANGE, "--cpus: invalid value 'boot=0'"},
    {{"--kernel", "k", "--cpus", "boot=255"}, -ERANGE, "--cpus: invalid value 'boot=255'"},
    {{"--kernel", "k", "--cpus", "boot=-1"}, -EINVAL, "--cpus: invalid value 'boot=-1'"},
    {{"--kernel", "k", "--cpus", "boot=+2"}, -EINVAL, "--cpus: invalid value 'boot=+2'"},
    {{"--kernel", "k", "--cpus", "boot=0x2"}, -EINVAL, "--cpus: invalid value 'boot=0x2'"},
    {{"--kernel", "k", "--cpus", "boot=99999999999999999999999"}, -ERANGE, "invalid value 'boot=9999"},
    {{"--kernel", "k", "--cpus", "max=0"}, -ERANGE, "--cpus: invalid value 'max=0'"},
    {{"--kernel", "k", "--cpus", "boot=4,max=2"},
     -EINVAL,
     "=--cpus: max=2 is lower than boot=4: max must be at least boot"},
    {{"--kernel", "k", "--cpus", "boot=2,boot=3"},
     -EINVAL,
     "=--cpus: parameter 'boot' given more than once"},
    {{"--kernel", "k", "--cpus", "boot="}, -EINVAL, "--cpus: parameter 'boot' has an empty value"},
    {{"--kernel", "k", "--cpus", "boot"}, -EINVAL, "--cpus: parameter 'boot' needs a value"},
    {{"--kernel", "k", "--cpus", ""}, -EINVAL, "--cpus: empty value"},
    {{"--kernel", "k", "--cpus", "  "}, -EINVAL, "--cpus: empty value"},
    {{"--kernel", "k", "--cpus", "boot=2,"}, -EINVAL, "--cpus: empty parameter"},
    {{"--kernel", "k", "--cpus", "=2"}, -EINVAL, "--cpus: parameter name missing before '=2'"},
    {{"--kernel", "k", "--cpus", "bot=2"}, -EINVAL, "=--cpus: unknown parameter 'bot' (known: boot, max)"},
    {{"--kernel", "k", "--cpus", "boot=2,topology=1:2:1:1"},
     -EOPNOTSUPP,
     "=--cpus: parameter 'topology' is not supported by vmm-worker yet (supported: boot, max)"},
    /* --memory */
    {{"--kernel", "k", "--memory", "sise=1G"}, -EINVAL, "=--memory: unknown parameter 'sise' (known: size)"},
    {{"--kernel", "k", "--memory", "size=99999999999G"},
     -ERANGE,
     "--memory: size=99999999999G is too large"},
    {{"--kernel", "k", "--memory", "size=18446744073709551616"}, -ERANGE, "is too large"},
    {{"--kernel", "k", "--memory", "size=65537G"},
     -ERANGE,
     "--memory: size=65537G is too large (at most 65536G)"},
    {{"--kernel", "k", "--memory", "size=1M"}, -ERANGE, "--memory: size=1M is too small (at least 16M)"},
    {{"--kernel", "k", "--memory", "size=0"}, -ERANGE, "too small"},
    {{"--kernel", "k", "--memory", "size=100000000"}, -EINVAL, "is not a multiple of 4K"},
    {{"--kernel", "k", "--memory", "size=1T"},
     -EINVAL,
     "=--memory: invalid value 'size=1T': expected size=<n>[K|M|G]"},
    {{"--kernel", "k", "--memory", "size=1g"}, -EINVAL, "invalid value 'size=1g'"},
    {{"--kernel", "k", "--memory", "size=G"}, -EINVAL, "invalid value 'size=G'"},
    {{"--kernel", "k", "--memory", "size=1.5G"}, -EINVAL, "invalid value 'size=1.5G'"},
    {{"--kernel", "k", "--memory", "size=1G,size=2G"}, -EINVAL, "parameter 'size' given more than once"},
    {{"--kernel", "k", "--memory", "size=1G,shared=on"}, -EOPNOTSUPP, "parameter 'shared' is not supported"},
    {{"--kernel", "k", "--memory", "hugepages=on"}, -EOPNOTSUPP, "parameter 'hugepages' is not supported"},
    {{"--kernel", "k", "--memory", "hotplug_size=1G"}, -EOPNOTSUPP, "'hotplug_size' is not supported"},
    /* --vsock */
    {{"--kernel", "k", "--vsock", "cid=3"}, -EINVAL, "--vsock: 'cid=3' lacks socket="},
    {{"--kernel", "k", "--vsock", "socket=/s"}, -EINVAL, "--vsock: 'socket=/s' lacks cid="},
    {{"--kernel", "k", "--vsock", "cid=2,socket=/s"}, -ERANGE, "--vsock: invalid value 'cid=2': expected a number from 3"},
    {{"--kernel", "k", "--vsock", "cid=4294967295,socket=/s"}, -ERANGE, "invalid value 'cid=4294967295'"},
    {{"--kernel", "k", "--vsock", "cid=x,socket=/s"}, -EINVAL, "invalid value 'cid=x'"},
    {{"--kernel", "k", "--vsock", "cid=3,socket=/s,iommu=on"}, -EOPNOTSUPP, "--vsock: parameter 'iommu' is not supported"},
    {{"--kernel", "k", "--vsock",
      "cid=3,socket=/a/very/long/path/that/does/not/fit/into/a/unix/socket/address/once/the/port/is/appended/xxxxxxxxxxxxxxxxxxxx"},
     -ENAMETOOLONG,
     "--vsock: socket=/a/very/long"},
    {{"--kernel", "k", "--vsock", "cid=3,socket=/s", "--vsock", "cid=4,socket=/t"}, -EINVAL, "--vsock: given more than once"},
    /* --serial, --console */
    {{"--kernel", "k", "--serial", "tty"},
     -EINVAL,
     "--serial tty and --console tty cannot share the terminal"},
    {{"--kernel", "k", "--serial", "bogus"},
     -EINVAL,
     "=--serial: unknown parameter 'bogus' (known: off, null, tty, pty, file, log)"},
    {{"--kernel", "k", "--serial", "file="}, -EINVAL, "--serial: parameter 'file' has an empty value"},
    {{"--kernel", "k", "--serial", "file"}, -EINVAL, "--serial: parameter 'file' needs a value"},
    {{"--kernel", "k", "--serial", "tty=1"}, -EINVAL, "--serial: 'tty' takes no value"},
    {{"--kernel", "k", "--serial", "null,tty"},
     -EINVAL,
     "--serial: 'null,tty' names more than one output mode"},
    {{"--kernel", "k", "--serial", "null,null"}, -EINVAL, "parameter 'null' given more than once"},
    {{"--kernel", "k", "--serial", ""}, -EINVAL, "--serial: empty value"},
    {{"--kernel", "k", "--serial", "file=/tmp/s,log=/tmp/l"},
     -EINVAL,
     "=--serial: log=<path> goes with pty only, not with file: expected pty,log=<path>"},
    {{"--kernel", "k", "--console", "null,log=/tmp/l"}, -EINVAL, "--console: log=<path> goes with pty only"},
    {{"--kernel", "k", "--console", "log=/tmp/l"}, -EINVAL, "names no output mode"},
    {{"--kernel", "k", "--serial", "pty,log="}, -EINVAL, "--serial: parameter 'log' has an empty value"},
    {{"--kernel", "k", "--serial", "socket=/tmp/s"},
     -EOPNOTSUPP,
     "--serial: parameter 'socket' is not supported"},
    {{"--kernel", "k", "--serial", "iommu=on"}, -EINVAL, "--serial: unknown parameter 'iommu'"},
    {{"--kernel", "k", "--console", "off,iommu=on"},
     -EOPNOTSUPP,
     "--console: parameter 'iommu' is not supported"},
    {{"--kernel", "k", "--console", "file=\"/tmp/x"}, -EINVAL, "--console: unbalanced brackets or quotes"},
    {{"--kernel", "k", "--console", "file=/tmp/]x"}, -EINVAL, "--console: unbalanced brackets or quotes"},
    /* --control-socket */
    {{"--kernel", "k", "--control-socket", ""}, -EINVAL, "--control-socket: empty value"},
    {{"--kernel", "k", "--control-socket", "fd=2"}, -ERANGE, "invalid value 'fd=2': expected the number (3 or more)"},
    {{"--kernel", "k", "--control-socket", "fd=x"}, -EINVAL, "invalid value 'fd=x'"},
    {{"--kernel", "k", "--control-socket", "path=/a,fd=3"}, -EINVAL, "give either path= or fd="},
    {{"--kernel", "k", "--control-socket", "socket=/a"}, -EINVAL, "unknown parameter 'socket' (known: path, fd)"},
    {{"--kernel", "k", "--control-socket", "/a", "--control-socket", "/b"}, -EINVAL, "given more than once"},
    /* --rng */
    {{"--kernel", "k", "--rng", "/dev/urandom"},
     -EINVAL,
     "--rng: unknown parameter '/dev/urandom' (known: src)"},
    {{"--kernel", "k", "--rng", "src="}, -EINVAL, "--rng: parameter 'src' has an empty value"},
    {{"--kernel", "k", "--rng", "src=/dev/urandom,iommu=on"}, -EOPNOTSUPP, "--rng: parameter 'iommu' is not supported"},
    {{"--kernel", "k", "--rng", "src=a,src=b"}, -EINVAL, "parameter 'src' given more than once"},
    {{"--kernel", "k", "--rng", "src=/dev/random", "--rng", "src=/dev/urandom"}, -EINVAL, "--rng: given more than once"},
};

static void test_bad(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct vmm_config cfg;
		g_autofree char *err = NULL;
		int r;

		r = parse_words(&cfg, &err, c->words);
		if (r != c->error || !err ||
		    (c->message[0] == '=' ? strcmp(err, c->message + 1) != 0 : !strstr(err, c->message)))
			g_error("case %zu (%s ...): got %d '%s', expected %d '%s'", i, c->words[0], r,
				err ? err : "(null)", c->error, c->message);
		assert_empty(&cfg);
	}
}

static void test_cmdline_too_long(void)
{
	g_autofree char *longest = g_strnfill(65535, 'a');
	g_autofree char *too_long = g_strnfill(65536, 'a');
	struct vmm_config cfg;
	g_autofree char *err = NULL;

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--cmdline", longest), ==, 0);
	g_assert_cmpuint(strlen(cfg.cmdline), ==, 65535);
	vmm_config_done(&cfg);

	g_assert_cmpint(PARSE(&cfg, &err, "--kernel", "k", "--cmdline", too_long), ==, -E2BIG);
	g_assert_cmpstr(err, ==, "--cmdline: 65536 bytes is too long (at most 65535)");
}

static void test_validate(void)
{
	struct vmm_config cfg;
	g_autofree char *err = NULL;

	vmm_config_init(&cfg);
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "--kernel is required"));
	g_clear_pointer(&err, g_free);

	cfg.kernel = strdup("k");
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, 0);

	cfg.memory_size = (64ULL << 20) + 1;
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"--memory: size=67108865 is not a multiple of 4K, the page size (e.g. size=65540K)");
	g_clear_pointer(&err, g_free);
	cfg.memory_size = 64ULL << 20;

	cfg.cpus_boot = 0;
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, -ERANGE);
	g_clear_pointer(&err, g_free);
	cfg.cpus_boot = 2;
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, -EINVAL); /* max 1 < boot 2 */
	g_clear_pointer(&err, g_free);
	cfg.cpus_max = 2;

	cfg.console.mode = OUTPUT_MODE_FILE;
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, -EINVAL);
	g_assert_cmpstr(err, ==, "--console: file mode needs a path: expected file=<path>");
	g_clear_pointer(&err, g_free);
	cfg.console.mode = OUTPUT_MODE_NULL;
	cfg.console.path = strdup("/tmp/x");
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, -EINVAL);
	g_clear_pointer(&err, g_free);
	free(cfg.console.path);
	cfg.console.path = NULL;

	cfg.serial.mode = _OUTPUT_MODE_MAX;
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, -EINVAL);
	g_clear_pointer(&err, g_free);
	cfg.serial.mode = OUTPUT_MODE_TTY;
	g_assert_cmpint(vmm_config_validate(&cfg, &err), ==, 0);

	vmm_config_done(&cfg);
}

static void test_value_parsers(void)
{
	struct vmm_config cfg = {.cpus_boot = 7, .cpus_max = 7, .memory_size = 7};
	struct output_config out = {OUTPUT_MODE_OFF, NULL};
	g_autofree char *err = NULL;

	/* The target is untouched on failure. */
	g_assert_cmpint(vmm_config_parse_cpus(&cfg, "boot=2,max=1", &err), ==, -EINVAL);
	g_assert_cmpuint(cfg.cpus_boot, ==, 7);
	g_assert_cmpuint(cfg.cpus_max, ==, 7);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(vmm_config_parse_cpus(&cfg, "max=3", &err), ==, 0);
	g_assert_cmpuint(cfg.cpus_boot, ==, 1);
	g_assert_cmpuint(cfg.cpus_max, ==, 3);

	g_assert_cmpint(vmm_config_parse_memory(&cfg, "size=1", &err), ==, -ERANGE);
	g_assert_cmpuint(cfg.memory_size, ==, 7);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(vmm_config_parse_memory(&cfg, "size=128M", &err), ==, 0);
	g_assert_cmpuint(cfg.memory_size, ==, 128ULL << 20);

	g_assert_cmpint(output_config_parse_serial(&out, "file=/a,tty", &err), ==, -EINVAL);
	g_assert_cmpint(out.mode, ==, OUTPUT_MODE_OFF);
	g_assert_null(out.path);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(output_config_parse_console(&out, "file=/a", &err), ==, 0);
	g_assert_cmpint(out.mode, ==, OUTPUT_MODE_FILE);
	g_assert_cmpstr(out.path, ==, "/a");
	free(out.path);
}

static void test_option_list(void)
{
	static const struct option_key keys[] = {
	    {"cmdline"},
	    {"topology"},
	    {"flag", .valueless = true},
	    {"old", .unsupported = true},
	};
	char *v[G_N_ELEMENTS(keys)];
	g_autofree char *err = NULL;

	/* Cloud Hypervisor's own option_parser cases. */
	g_assert_cmpint(option_list_parse("--x", "S", "cmdline=\"console=ttyS0,9600n8\"", keys,
					  G_N_ELEMENTS(keys), v, &err),
			==, 0);
	g_assert_cmpstr(v[0], ==, "console=ttyS0,9600n8");
	g_assert_null(v[1]);
	g_assert_null(v[2]);
	option_values_free(v, G_N_ELEMENTS(keys));
	g_assert_null(v[0]);

	g_assert_cmpint(option_list_parse("--x", "S", "topology=[[1,2],[3,4]],flag,cmdline=a=b", keys,
					  G_N_ELEMENTS(keys), v, &err),
			==, 0);
	g_assert_cmpstr(v[0], ==, "a=b");
	g_assert_cmpstr(v[1], ==, "[[1,2],[3,4]]");
	g_assert_cmpstr(v[2], ==, "");
	option_values_free(v, G_N_ELEMENTS(keys));

	static const char *const unbalanced[] = {"topology=[", "topology=[[[]]]]", "cmdline=\"",
						 "cmdline=\"\"\""};
	for (size_t i = 0; i < G_N_ELEMENTS(unbalanced); i++) {
		g_assert_cmpint(
		    option_list_parse("--x", "S", unbalanced[i], keys, G_N_ELEMENTS(keys), v, &err), ==,
		    -EINVAL);
		g_assert_nonnull(strstr(err, "unbalanced"));
		g_clear_pointer(&err, g_free);
	}

	/* A failure late in the list frees what earlier elements stored. */
	g_assert_cmpint(
	    option_list_parse("--x", "S", "cmdline=a,topology=b,bogus=c", keys, G_N_ELEMENTS(keys), v, &err),
	    ==, -EINVAL);
	g_assert_cmpstr(err, ==, "--x: unknown parameter 'bogus' (known: cmdline, topology, flag)");
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		g_assert_null(v[i]);
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(option_list_parse("--x", "S", "old=1", keys, G_N_ELEMENTS(keys), v, &err), ==,
			-EOPNOTSUPP);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(option_list_parse("--x", "S", "flag=1", keys, G_N_ELEMENTS(keys), v, &err), ==,
			-EINVAL);
	g_assert_cmpstr(err, ==, "--x: 'flag' takes no value: expected S");
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(option_list_parse("--x", "S", NULL, keys, G_N_ELEMENTS(keys), v, &err), ==, -EINVAL);
	g_assert_cmpstr(err, ==, "--x: empty value: expected S");
}

static void test_parse_util(void)
{
	uint64_t u = 42;
	unsigned x = 42;
	bool b = false;

	g_assert_cmpint(parse_uint64("0", 0, UINT64_MAX, &u), ==, 0);
	g_assert_cmpuint(u, ==, 0);
	g_assert_cmpint(parse_uint64("18446744073709551615", 0, UINT64_MAX, &u), ==, 0);
	g_assert_cmpuint(u, ==, UINT64_MAX);
	g_assert_cmpint(parse_uint64("18446744073709551616", 0, UINT64_MAX, &u), ==, -ERANGE);
	g_assert_cmpint(parse_uint64("99999999999999999999", 0, UINT64_MAX, &u), ==, -ERANGE);
	g_assert_cmpuint(u, ==, UINT64_MAX); /* untouched */
	g_assert_cmpint(parse_uint64("", 0, 10, &u), ==, -EINVAL);
	g_assert_cmpint(parse_uint64(NULL, 0, 10, &u), ==, -EINVAL);
	g_assert_cmpint(parse_uint64(" 1", 0, 10, &u), ==, -EINVAL);
	g_assert_cmpint(parse_uint64("1 ", 0, 10, &u), ==, -EINVAL);
	g_assert_cmpint(parse_uint64("-1", 0, 10, &u), ==, -EINVAL);
	g_assert_cmpint(parse_uint64("0x1", 0, 10, &u), ==, -EINVAL);
	g_assert_cmpint(parse_uint64("11", 0, 10, &u), ==, -ERANGE);
	g_assert_cmpint(parse_uint64("4", 5, 10, &u), ==, -ERANGE);
	g_assert_cmpint(parse_unsigned("254", 1, 254, &x), ==, 0);
	g_assert_cmpuint(x, ==, 254);
	g_assert_cmpint(parse_unsigned("4294967296", 0, UINT32_MAX, &x), ==, -ERANGE);

	g_assert_cmpint(parse_size("0", &u), ==, 0);
	g_assert_cmpuint(u, ==, 0);
	g_assert_cmpint(parse_size("1K", &u), ==, 0);
	g_assert_cmpuint(u, ==, 1024);
	g_assert_cmpint(parse_size("512M", &u), ==, 0);
	g_assert_cmpuint(u, ==, 536870912);
	g_assert_cmpint(parse_size("3G", &u), ==, 0);
	g_assert_cmpuint(u, ==, 3ULL << 30);
	g_assert_cmpint(parse_size("17179869183G", &u), ==, 0); /* UINT64_MAX >> 30 */
	g_assert_cmpuint(u, ==, 17179869183ULL << 30);
	g_assert_cmpint(parse_size("17179869184G", &u), ==, -ERANGE);
	g_assert_cmpint(parse_size("99999999999G", &u), ==, -ERANGE);
	g_assert_cmpint(parse_size("18014398509481984K", &u), ==, -ERANGE);
	g_assert_cmpint(parse_size("", &u), ==, -EINVAL);
	g_assert_cmpint(parse_size("K", &u), ==, -EINVAL);
	g_assert_cmpint(parse_size("1KB", &u), ==, -EINVAL);
	g_assert_cmpint(parse_size("1KM", &u), ==, -EINVAL);
	g_assert_cmpint(parse_size("1k", &u), ==, -EINVAL);
	g_assert_cmpint(parse_size("1T", &u), ==, -EINVAL);
	g_assert_cmpint(parse_size("-1G", &u), ==, -EINVAL);

	g_assert_cmpint(parse_toggle("on", &b), ==, 0);
	g_assert_true(b);
	g_assert_cmpint(parse_toggle("OFF", &b), ==, 0);
	g_assert_false(b);
	g_assert_cmpint(parse_toggle("True", &b), ==, 0);
	g_assert_true(b);
	g_assert_cmpint(parse_toggle("false", &b), ==, 0);
	g_assert_false(b);
	g_assert_cmpint(parse_toggle("yes", &b), ==, -EINVAL);
	g_assert_cmpint(parse_toggle("", &b), ==, -EINVAL);
	g_assert_cmpint(parse_toggle(NULL, &b), ==, -EINVAL);
}

static void test_help_text(void)
{
	static const char *const lines[] = {
	    "--cpus <cpus>",
	    "boot=<boot_vcpus>,max=<max_vcpus>",
	    "[default: boot=1]",
	    "--memory <memory>",
	    "[default: size=512M]",
	    "--firmware <firmware>",
	    "--kernel <kernel>",
	    "--initramfs <initramfs>",
	    "--cmdline <cmdline>",
	    "--serial <serial>",
	    "off|null|pty|tty|file=<path> [default: null]",
	    "--console <console>",
	    "off|null|pty|tty|file=<path> [default: tty]",
	    "  -v...",
	    "--log-file <log-file>",
	    "-V, --version",
	    "-h, --help",
	};
	g_autofree char *text = NULL;
	size_t size = 0;
	FILE *f;

	f = open_memstream(&text, &size);
	g_assert_nonnull(f);
	g_assert_cmpint(vmm_config_help(f), ==, 0);
	fclose(f);

	g_assert_true(g_str_has_prefix(text, "Usage: vmm-worker [OPTIONS]\n"));
	for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
		if (!strstr(text, lines[i]))
			g_error("--help lacks '%s':\n%s", lines[i], text);
}

static void test_help_version(void)
{
	static const char *const help_words[][4] = {
	    {"--help"}, {"-h"}, {"--kernel", "k", "--help"}, {"--version"}, {"-V"}, {"-V", "--foo"},
	};

	if (g_test_subprocess()) {
		for (size_t i = 0; i < G_N_ELEMENTS(help_words); i++) {
			struct vmm_config cfg;
			g_autofree char *err = NULL;
			int r = parse_words(&cfg, &err, help_words[i]);

			if (r != 1 || err)
				g_error("case %zu: got %d '%s', expected 1", i, r, err ? err : "");
			assert_empty(&cfg);
		}
		return;
	}

	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("Usage: vmm-worker [OPTIONS]*--kernel <kernel>*Usage: vmm-worker*");
	g_test_trap_assert_stdout("*\nvmm-worker " PACKAGE_VERSION "\nvmm-worker " PACKAGE_VERSION
				  "\nvmm-worker " PACKAGE_VERSION "\n");
	g_test_trap_assert_stderr("");
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/cli/output-mode-table", test_output_mode_table);
	g_test_add_func("/cli/defaults", test_defaults);
	g_test_add_func("/cli/readme", test_readme);
	g_test_add_func("/cli/good", test_good);
	g_test_add_func("/cli/control-socket", test_control_socket);
	g_test_add_func("/cli/vsock", test_vsock);
	g_test_add_func("/cli/bad", test_bad);
	g_test_add_func("/cli/cmdline-too-long", test_cmdline_too_long);
	g_test_add_func("/cli/validate", test_validate);
	g_test_add_func("/cli/value-parsers", test_value_parsers);
	g_test_add_func("/cli/option-list", test_option_list);
	g_test_add_func("/cli/parse-util", test_parse_util);
	g_test_add_func("/cli/help-text", test_help_text);
	g_test_add_func("/cli/help-version", test_help_version);

	return g_test_run();
}
