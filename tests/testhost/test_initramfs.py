# SPDX-License-Identifier: Apache-2.0
"""Unit tests: the cpio writer, module load order (testhost_lib.kmod), and the guest and L1
initramfs contents, built for real and read back with cpio(1)."""

import gzip
import os
import shutil
import subprocess
import tempfile
import unittest

from testhost_lib.common import Failure
from testhost_lib.cpio import Cpio
from testhost_lib.initramfs import GUEST_INIT, guest_initramfs
from testhost_lib.kmod import module_closure, module_name
from testhost_lib.l1 import L1_INIT, l1_initramfs

BUSYBOX = shutil.which("busybox") or "/bin/busybox"  # busybox-static (tools/setup-host)

# A small modules.dep in the shape depmod writes: paths relative to the modules folder, each
# module's dependencies after the colon.
V, N = "kernel/drivers/virtio/", "kernel/drivers/net/"
MODULES = {
    V + "virtio.ko": [],
    V + "virtio_ring.ko": [],
    V + "virtio_pci_modern_dev.ko": [],
    V + "virtio_pci.ko": [V + "virtio_pci_modern_dev.ko", V + "virtio_ring.ko", V + "virtio.ko"],
    "kernel/drivers/block/virtio_blk.ko": [V + "virtio_ring.ko", V + "virtio.ko"],
    "kernel/net/core/failover.ko": [],
    N + "net_failover.ko": ["kernel/net/core/failover.ko"],
    N + "virtio_net.ko.xz": [N + "net_failover.ko", V + "virtio_ring.ko", V + "virtio.ko"],
    "kernel/drivers/char/hw_random/virtio-rng.ko": [V + "virtio_ring.ko", V + "virtio.ko"],
    "kernel/test/loop_a.ko": ["kernel/test/loop_b.ko"],
    "kernel/test/loop_b.ko": ["kernel/test/loop_a.ko"],
}
MODULES_DEP = "".join(f"{m}: {' '.join(d)}\n" for m, d in MODULES.items())
MODULES_BUILTIN = "kernel/drivers/acpi/button.ko\nkernel/fs/ext4/ext4.ko\n"


def make_moddir(root):
    """A modules folder with MODULES_DEP, its .ko files (their path as content), builtins."""
    moddir = os.path.join(root, "modules")
    os.makedirs(moddir)
    with open(os.path.join(moddir, "modules.dep"), "w") as f:
        f.write(MODULES_DEP)
    with open(os.path.join(moddir, "modules.builtin"), "w") as f:
        f.write(MODULES_BUILTIN)
    for path in MODULES:
        os.makedirs(os.path.dirname(os.path.join(moddir, path)), exist_ok=True)
        with open(os.path.join(moddir, path), "w") as f:
            f.write(path)
    return moddir


def cpio_list(archive, verbose=False):
    """What cpio(1) lists in a gzip'd archive: names, or `ls -l`-like lines."""
    with open(archive, "rb") as f:
        data = gzip.decompress(f.read())
    opts = ["-itv"] if verbose else ["-it"]
    p = subprocess.run(["cpio", "--quiet"] + opts, input=data, capture_output=True, check=True)
    return p.stdout.decode().splitlines()


def cpio_read(archive, name):
    """A file's content, extracted by cpio(1)."""
    with open(archive, "rb") as f:
        data = gzip.decompress(f.read())
    p = subprocess.run(["cpio", "--quiet", "-i", "--to-stdout", name], input=data,
                       capture_output=True, check=True)
    return p.stdout.decode()


class TmpDir(unittest.TestCase):
    def setUp(self):
        self.dir = self.enterContext(tempfile.TemporaryDirectory())


class CpioWriter(TmpDir):
    def build(self):
        c = Cpio()
        c.dir("proc")
        c.dir("tmp", 0o1777)
        c.file("etc/deep/conf", b"hello\n", 0o640)
        c.symlink("bin/sh", "busybox")
        c.chardev("dev/console", 5, 1)
        c.chardev("dev/null", 1, 3, 0o666)
        return c

    def test_listing(self):
        out = os.path.join(self.dir, "a.cpio.gz")
        self.build().write_gz(out)
        self.assertEqual(cpio_list(out), sorted(["bin", "bin/sh", "dev", "dev/console",
                                                 "dev/null", "etc", "etc/deep", "etc/deep/conf",
                                                 "proc", "tmp"]))
        lines = {line.split()[-1] if "->" not in line else line.split()[-3]: line
                 for line in cpio_list(out, verbose=True)}
        self.assertTrue(lines["dev/console"].startswith("crw-------"))
        self.assertRegex(lines["dev/console"], r"\b5,\s+1\b")
        self.assertTrue(lines["dev/null"].startswith("crw-rw-rw-"))
        self.assertTrue(lines["tmp"].startswith("drwxrwxrwt"))
        self.assertTrue(lines["etc/deep"].startswith("drwxr-xr-x"))  # parents made
        self.assertTrue(lines["etc/deep/conf"].startswith("-rw-r-----"))
        self.assertTrue(lines["bin/sh"].startswith("lrwxrwxrwx"))
        self.assertIn("-> busybox", lines["bin/sh"])
        self.assertEqual(cpio_read(out, "etc/deep/conf"), "hello\n")

    def test_reproducible(self):
        a, b = os.path.join(self.dir, "a.gz"), os.path.join(self.dir, "b.gz")
        self.build().write_gz(a)
        self.build().write_gz(b)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())
        self.assertFalse(os.path.exists(a + ".tmp"))


class ModuleOrder(TmpDir):
    def test_names(self):
        self.assertEqual(module_name("kernel/drivers/char/hw_random/virtio-rng.ko"),
                         "virtio_rng")
        self.assertEqual(module_name("a/virtio_net.ko.xz"), "virtio_net")
        self.assertEqual(module_name("a/b.ko.zst"), "b")

    def test_dependencies_first(self):
        moddir = make_moddir(self.dir)
        order = module_closure(moddir, ["virtio_net", "virtio-pci", "virtio_blk"])
        names = [module_name(m) for m in order]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(set(names), {"virtio", "virtio_ring", "virtio_pci_modern_dev",
                                      "virtio_pci", "virtio_blk", "failover", "net_failover",
                                      "virtio_net"})
        for mod, dep in (("virtio_net", "net_failover"), ("net_failover", "failover"),
                         ("virtio_net", "virtio"), ("virtio_pci", "virtio_pci_modern_dev"),
                         ("virtio_blk", "virtio_ring")):
            self.assertLess(names.index(dep), names.index(mod), f"{dep} before {mod}")

    def test_builtin_optional_unknown_loop(self):
        moddir = make_moddir(self.dir)
        self.assertEqual(module_closure(moddir, ["button", "ext4"]), [])
        self.assertEqual(module_closure(moddir, ["nosuch"], {"nosuch"}), [])
        with self.assertRaisesRegex(Failure, "module 'nosuch' is neither in"):
            module_closure(moddir, ["nosuch"])
        with self.assertRaisesRegex(Failure, "dependency loop"):
            module_closure(moddir, ["loop_a"])


class GuestInitramfs(TmpDir):
    def setUp(self):
        super().setUp()
        self.kit = os.path.join(self.dir, "kit")
        os.makedirs(self.kit)
        make_moddir(self.kit)
        shutil.copy(BUSYBOX, os.path.join(self.kit, "busybox"))
        self.init = os.path.join(self.dir, "init.sh")
        with open(self.init, "w") as f:
            f.write("#!/bin/sh\necho CHD-TEST\npoweroff -f\n")
        self.out = os.path.join(self.dir, "guest.cpio.gz")

    def test_contents(self):
        extra = os.path.join(self.dir, "extra.txt")
        with open(extra, "w") as f:
            f.write("payload\n")
        guest_initramfs(self.kit, self.init, "virtio-blk", [extra, extra + ":etc/x/y"]) \
            .write_gz(self.out)
        names = set(cpio_list(self.out))
        for n in ("init", "test-init", "extra.txt", "etc/x/y", "etc/modules.order",
                  "bin/busybox", "bin/sh", "bin/mount", "bin/insmod", "bin/poweroff", "sbin",
                  "usr/bin", "dev/console", "dev/null", "proc", "sys", "run", "tmp", "root",
                  "lib/modules/kernel/drivers/block/virtio_blk.ko"):
            self.assertIn(n, names)
        self.assertNotIn("lib/modules/kernel/drivers/net/virtio_net.ko.xz", names)
        self.assertEqual(cpio_read(self.out, "init"), GUEST_INIT)
        with open(self.init) as f:
            self.assertEqual(cpio_read(self.out, "test-init"), f.read())
        self.assertEqual(cpio_read(self.out, "etc/x/y"), "payload\n")
        order = cpio_read(self.out, "etc/modules.order").split()
        self.assertEqual(order[-1], "kernel/drivers/block/virtio_blk.ko")
        self.assertEqual(set(order[:-1]), {"kernel/drivers/virtio/virtio.ko",
                                           "kernel/drivers/virtio/virtio_ring.ko"})
        for n in order:
            self.assertEqual(cpio_read(self.out, "lib/modules/" + n), n)
        modes = {line.split()[-1]: line.split()[0] for line in cpio_list(self.out, True)
                 if "->" not in line}
        self.assertEqual(modes["init"], "-rwxr-xr-x")
        self.assertEqual(modes["test-init"], "-rwxr-xr-x")
        self.assertEqual(modes["tmp"], "drwxrwxrwt")

    def test_no_modules(self):
        guest_initramfs(self.kit, self.init).write_gz(self.out)
        self.assertFalse(any(n.startswith("lib/") for n in cpio_list(self.out)))
        self.assertEqual(cpio_read(self.out, "etc/modules.order"), "")

    def test_all_modules(self):
        # "all" is the kit's list; the kit has no virtio_console etc. here, so it fails on the
        # first one missing: only the optional ones may be absent.
        with self.assertRaisesRegex(Failure, "module 'virtio_console'"):
            guest_initramfs(self.kit, self.init, "all")

    def test_errors(self):
        with self.assertRaisesRegex(Failure, "cannot read .*nope.sh: No such file"):
            guest_initramfs(self.kit, os.path.join(self.dir, "nope.sh"))
        with self.assertRaisesRegex(Failure, "cannot read .*missing: No such file"):
            guest_initramfs(self.kit, self.init, "", [os.path.join(self.dir, "missing")])
        with self.assertRaisesRegex(Failure, "module 'virtio_gpu'"):
            guest_initramfs(self.kit, self.init, "virtio_gpu")


class L1Initramfs(TmpDir):
    def test_contents(self):
        moddir = make_moddir(self.dir)
        mods = module_closure(moddir, ["virtio_pci", "virtio_rng"])
        out = os.path.join(self.dir, "l1.cpio.gz")
        l1_initramfs(BUSYBOX, moddir, mods).write_gz(out)
        names = set(cpio_list(out))
        self.assertTrue({"init", "bin/busybox", "bin/switch_root", "bin/chroot", "dev/console",
                         "dev/null", "etc/modules.order", "run", "tmp"} <= names)
        self.assertEqual(cpio_read(out, "init"), L1_INIT)
        self.assertEqual(cpio_read(out, "etc/modules.order").split(), mods)
        self.assertEqual({n for n in names if n.endswith(".ko")},
                         {"lib/modules/" + m for m in mods})


if __name__ == "__main__":
    unittest.main()
