/* SPDX-License-Identifier: Apache-2.0 */
/* Definition -> vmm-worker command line beyond the golden files: fds the daemon substitutes for
 * taps and images, values the Cloud Hypervisor grammar cannot carry, and definitions used before
 * canonicalisation. */
#include <errno.h>
#include <string.h>

#include "domain.h"

#include <glib.h>

#define HEAD "<domain type='kvm'><name>vm</name><memory unit='MiB'>512</memory>"
#define KERNEL "<os><type>hvm</type><kernel>/boot/vmlinuz</kernel></os>"

static struct domain_def *parse(const char *xml)
{
	struct domain_def *def = NULL;
	g_autofree char *err = NULL;

	g_assert_cmpint(domain_def_parse(xml, strlen(xml), &def, &err), ==, 0);
	return def;
}

/* The command line as one string, words joined by spaces. */
static char *argv_of(const struct domain_def *def, const struct domain_argv_options *o, int expect,
		     char **ret_error)
{
	g_auto(GStrv) argv = NULL;

	g_assert_cmpint(domain_def_to_argv(def, o, &argv, ret_error), ==, expect);
	return argv ? g_strjoinv(" ", argv) : NULL;
}

static void test_fds(void)
{
	_cleanup_(domain_def_freep) struct domain_def *def = parse(
	    HEAD KERNEL
	    "<devices>"
	    "<disk type='file'><source file='/srv/a.img'/><target dev='vda'/></disk>"
	    "<disk type='file'><source file='/srv/b.img'/><target dev='vdb'/><readonly/></disk>"
	    "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><target dev='tap0'/></interface>"
	    "<interface type='ethernet'><mac address='52:54:00:00:00:02'/><target dev='tap1'/></interface>"
	    "</devices></domain>");
	const int net[] = {7, -1}, disk[] = {-1, 9};
	struct domain_argv_options o = {.program = "/usr/libexec/vmm-worker",
					.net_fds = net,
					.n_net_fds = 2,
					.disk_fds = disk,
					.n_disk_fds = 2};
	g_autofree char *plain = argv_of(def, NULL, 0, NULL);
	g_autofree char *with_fds = argv_of(def, &o, 0, NULL);

	g_assert_cmpstr(
	    plain, ==,
	    "vmm-worker --kernel /boot/vmlinuz --cpus boot=1,max=1 --memory size=524288K "
	    "--disk path=/srv/a.img,id=vda path=/srv/b.img,readonly=on,id=vdb "
	    "--net tap=tap0,mac=52:54:00:00:00:01,id=net0 tap=tap1,mac=52:54:00:00:00:02,id=net1 "
	    "--serial off --console off");
	g_assert_cmpstr(
	    with_fds, ==,
	    "/usr/libexec/vmm-worker --kernel /boot/vmlinuz --cpus boot=1,max=1 --memory size=524288K "
	    "--disk path=/srv/a.img,id=vda path=/dev/fd/9,readonly=on,id=vdb "
	    "--net fd=7,mac=52:54:00:00:00:01,id=net0 tap=tap1,mac=52:54:00:00:00:02,id=net1 "
	    "--serial off --console off");

	/* Fewer fds than devices: the rest keep their names. */
	o.n_net_fds = 1;
	o.n_disk_fds = 1;
	g_free(with_fds);
	with_fds = argv_of(def, &o, 0, NULL);
	g_assert_nonnull(strstr(with_fds, "path=/srv/b.img,readonly=on"));
	g_assert_nonnull(strstr(with_fds, "fd=7,mac"));
}

static void test_unrepresentable(void)
{
	_cleanup_(domain_def_freep) struct domain_def *disk = parse(
	    HEAD KERNEL "<devices><disk type='file'><source file='/srv/a,b.img'/><target dev='vda'/></disk>"
			"</devices></domain>");
	_cleanup_(domain_def_freep) struct domain_def *vsock =
	    parse(HEAD KERNEL "<devices><vsock><cid auto='no' address='5'/></vsock></devices></domain>");
	const int fd[] = {4};
	struct domain_argv_options o = {.disk_fds = fd, .n_disk_fds = 1};
	g_autofree char *err = NULL, *err2 = NULL, *err3 = NULL, *ok = NULL, *s = NULL;

	g_assert_null(argv_of(disk, NULL, -EINVAL, &err));
	g_assert_cmpstr(
	    err, ==,
	    "disk image '/srv/a,b.img' contains ',', '\"' or a newline, which vmm-worker's command line "
	    "cannot carry; rename it");
	/* An open fd does not care what the file is called. */
	ok = argv_of(disk, &o, 0, NULL);
	g_assert_nonnull(strstr(ok, "--disk path=/dev/fd/4,id=vda"));

	g_assert_null(argv_of(vsock, NULL, -EINVAL, &err2));
	g_assert_cmpstr(err2, ==, "VM 'vm' has a <vsock>, but no host socket was given for it");
	o = (struct domain_argv_options){.vsock_socket = "/run/x,y"};
	g_assert_null(argv_of(vsock, &o, -EINVAL, &err3));
	o.vsock_socket = "/run/chd/vms/vm/vsock";
	s = argv_of(vsock, &o, 0, NULL);
	g_assert_nonnull(strstr(s, "--vsock cid=5,socket=/run/chd/vms/vm/vsock,id=vsock0"));
}

static void test_consoles(void)
{
	/* Not canonicalised: a serial-target console alone is the serial port. */
	_cleanup_(domain_def_freep) struct domain_def *a =
	    parse(HEAD KERNEL "<devices><console type='pty'/></devices></domain>");
	_cleanup_(domain_def_freep) struct domain_def *b =
	    parse(HEAD KERNEL "<devices><serial type='file'><source path='/var/log/a.log'/></serial>"
			      "<console type='null'><target type='virtio'/></console></devices></domain>");
	struct domain_argv_options o = {.serial_path = "/var/log/chd/vm.log"};
	g_autofree char *sa = argv_of(a, NULL, 0, NULL), *sb = argv_of(b, NULL, 0, NULL),
			*sc = argv_of(b, &o, 0, NULL);

	g_assert_true(g_str_has_suffix(sa, "--serial pty --console off"));
	g_assert_true(g_str_has_suffix(sb, "--serial file=/var/log/a.log --console null"));
	g_assert_true(g_str_has_suffix(sc, "--serial file=/var/log/chd/vm.log --console null"));
}

/* Console logs: the definition's <log file=...>, or what chd substitutes (its default log, an
 * fd it opened); a log name the command line cannot carry is refused unless an fd stands in. */
static void test_console_logs(void)
{
	_cleanup_(domain_def_freep) struct domain_def *a =
	    parse(HEAD KERNEL "<devices><console type='pty'><log file='/var/log/a.log'/></console>"
			      "</devices></domain>");
	_cleanup_(domain_def_freep) struct domain_def *b =
	    parse(HEAD KERNEL "<devices><serial type='null'/><console type='pty'><target type='virtio'/>"
			      "</console></devices></domain>");
	_cleanup_(domain_def_freep) struct domain_def *c =
	    parse(HEAD KERNEL "<devices><serial type='pty'><log file='/var/log/a,b.log'/></serial>"
			      "</devices></domain>");
	struct domain_argv_options fds = {.serial_log = "/dev/fd/4", .console_log = "/dev/fd/5"};
	struct domain_argv_options dflt = {.console_log = "/var/log/chd/vm.log"};
	g_autofree char *sa = argv_of(a, NULL, 0, NULL), *sa_fd = argv_of(a, &fds, 0, NULL),
			*sb = argv_of(b, &dflt, 0, NULL), *sb_fd = argv_of(b, &fds, 0, NULL), *err = NULL,
			*sc_fd = argv_of(c, &fds, 0, NULL);

	g_assert_true(g_str_has_suffix(sa, "--serial pty,log=/var/log/a.log --console off"));
	g_assert_true(g_str_has_suffix(sa_fd, "--serial pty,log=/dev/fd/4 --console off"));
	/* A null serial keeps no log; the virtio console gets chd's. */
	g_assert_true(g_str_has_suffix(sb, "--serial null --console pty,log=/var/log/chd/vm.log"));
	g_assert_true(g_str_has_suffix(sb_fd, "--serial null --console pty,log=/dev/fd/5"));
	g_assert_null(argv_of(c, NULL, -EINVAL, &err));
	g_assert_cmpstr(err, ==,
			"serial log '/var/log/a,b.log' contains ',', '\"' or a newline, which vmm-worker's "
			"command line cannot carry; rename it");
	g_assert_true(g_str_has_suffix(sc_fd, "--serial pty,log=/dev/fd/4 --console off"));
}

static void test_memory_cpus(void)
{
	_cleanup_(domain_def_freep) struct domain_def *def = parse(
	    "<domain type='kvm'><name>vm</name><memory unit='GiB'>1</memory>"
	    "<currentMemory unit='MiB'>768</currentMemory><maxMemory slots='4' unit='GiB'>3</maxMemory>"
	    "<vcpu current='3'>8</vcpu><os><type>hvm</type><loader>/usr/share/fw.bin</loader></os>"
	    "<devices><memballoon model='virtio'/><watchdog model='i6300esb'/></devices></domain>");
	g_autofree char *s = argv_of(def, NULL, 0, NULL);

	g_assert_cmpstr(s, ==,
			"vmm-worker --firmware /usr/share/fw.bin --cpus boot=3,max=8 "
			"--memory size=1048576K,hotplug_size=2097152K --balloon size=262144K --watchdog "
			"--serial off --console off");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/domain/argv/fds", test_fds);
	g_test_add_func("/domain/argv/unrepresentable", test_unrepresentable);
	g_test_add_func("/domain/argv/consoles", test_consoles);
	g_test_add_func("/domain/argv/console-logs", test_console_logs);
	g_test_add_func("/domain/argv/memory-cpus", test_memory_cpus);
	return g_test_run();
}
