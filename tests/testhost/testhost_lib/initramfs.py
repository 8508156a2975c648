# SPDX-License-Identifier: Apache-2.0
"""Guest (L2) initramfs images, `testhost guest-initramfs`: busybox with a link per applet,
/dev/console, kit modules with their dependencies, an /init that loads them in order and runs
the test's script.  Built with the cpio writer, so no root is needed and the archive is
reproducible."""

import os

from .common import Failure
from .cpio import Cpio
from .kit import KIT_MODULES, KIT_OPTIONAL, kit_entry
from .kmod import module_closure

GUEST_INIT = """#!/bin/sh
# Guest init written by testhost guest-initramfs: API file systems, modules, then the test's script.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
    insmod "/lib/modules/$m" || echo "guest-init: cannot load $m"
done </etc/modules.order
/bin/sh /test-init
echo "guest-init: the test script returned $? without powering off; powering off"
poweroff -f
"""


def guest_initramfs(kit, init, modules="", files=()):
    """The archive for an L2 guest from the kit folder KIT: INIT is the test's script, MODULES
    the kit modules to load ("NAME ..." or "all"), FILES "SRC[:DEST]" specs to add."""
    moddir = os.path.join(kit, "modules")
    names = modules.split() if modules else []
    if names == ["all"]:
        names = KIT_MODULES
    mods = module_closure(moddir, names, KIT_OPTIONAL if modules == "all" else frozenset())
    cpio = Cpio()
    cpio.busybox(os.path.join(kit, "busybox"))
    for d in ("proc", "sys", "dev", "run", "tmp", "etc", "root"):
        cpio.dir(d)
    cpio.dir("tmp", 0o1777)
    # The kernel opens /dev/console for init before anything is mounted: it must be in the archive.
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)
    for m in mods:
        cpio.copy("lib/modules/" + m, os.path.join(moddir, m), 0o644)
    cpio.file("etc/modules.order", "".join(m + "\n" for m in mods).encode())
    cpio.file("init", GUEST_INIT.encode(), 0o755)
    try:
        cpio.copy("test-init", init, 0o755)
        for spec in files:
            src, _, dst = spec.partition(":")
            cpio.copy(dst or os.path.basename(src), src)
    except OSError as e:
        raise Failure(f"cannot read {e.filename}: {e.strerror}") from None
    return cpio


def cmd_guest_initramfs(args):
    cpio = guest_initramfs(kit_entry(), args.init, args.modules, args.file or [])
    cpio.write_gz(args.output)
    return 0
