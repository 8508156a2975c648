# SPDX-License-Identifier: Apache-2.0
"""Debian packages from the machine's apt sources: which versioned kernel a metapackage points
to, downloading and unpacking a package without installing it, and running depmod on the
unpacked tree.  Nothing is installed into the machine, nothing comes from elsewhere."""

import os
import re
import shutil

from .common import Failure, run_tool

BUSYBOX_PKG = "busybox-static"


def resolve_kernel_package(meta):
    """The versioned linux-image package that the metapackage depends on, and its version."""
    out = run_tool(["apt-cache", "depends", "--important", meta],
                   f"cannot resolve '{meta}' (run 'apt-get update'?)").decode()
    for line in out.splitlines():
        m = re.match(r"\s*\|?Depends:\s*(linux-image-\S+)", line)
        if m:
            return m.group(1), package_version(m.group(1))
    raise Failure(f"'{meta}' depends on no linux-image package:\n{out}")


def package_version(pkg):
    out = run_tool(["apt-cache", "show", "--no-all-versions", pkg],
                   f"cannot find package '{pkg}' (run 'apt-get update'?)").decode()
    m = re.search(r"^Version:\s*(\S+)", out, re.M)
    if not m:
        raise Failure(f"apt-cache shows no version for '{pkg}'")
    return m.group(1)


def fetch_and_unpack(pkg, version, dest, scratch):
    """apt-get download PKG=VERSION into scratch, dpkg-deb -x into dest."""
    dl = os.path.join(scratch, "download-" + pkg)
    os.makedirs(dl)
    run_tool(["apt-get", "download", f"{pkg}={version}"],
             f"cannot download '{pkg}={version}' (stale package lists? run 'apt-get update')",
             cwd=dl)
    debs = [f for f in os.listdir(dl) if f.endswith(".deb")]
    if len(debs) != 1:
        raise Failure(f"apt-get download of '{pkg}' left {debs!r} in {dl}, expected one .deb")
    os.makedirs(dest, exist_ok=True)
    run_tool(["dpkg-deb", "-x", os.path.join(dl, debs[0]), dest], f"cannot unpack '{debs[0]}'")
    shutil.rmtree(dl)


def kernel_release(tree):
    rels = os.listdir(os.path.join(tree, "lib/modules"))
    if len(rels) != 1:
        raise Failure(f"expected one kernel release in {tree}/lib/modules, found {rels!r}")
    return rels[0]


def run_depmod(tree, release, busybox):
    """Generate modules.dep: kmod's depmod where installed, else the fetched busybox's applet."""
    depmod = shutil.which("depmod") or next(
        (p for p in ("/usr/sbin/depmod", "/sbin/depmod") if os.access(p, os.X_OK)), None)
    cmd = [depmod] if depmod else [busybox, "depmod"]
    run_tool(cmd + ["-b", tree, release], f"cannot generate modules.dep for {release}")


def fetch_busybox(scratch, bbver, dest):
    tree = os.path.join(scratch, "busybox")
    fetch_and_unpack(BUSYBOX_PKG, bbver, tree, scratch)
    shutil.copy(os.path.join(tree, "bin/busybox"), dest)
    os.chmod(dest, 0o755)
    shutil.rmtree(tree)


def fetch_kernel(out, scratch, kpkg, kver, bbver):
    """What a cache entry builder starts with: busybox at OUT/busybox (depmod may need it), the
    kernel package unpacked below SCRATCH with its modules.dep.  Returns (busybox, kernel tree,
    kernel release, modules folder)."""
    busybox = os.path.join(out, "busybox")
    fetch_busybox(scratch, bbver, busybox)
    tree = os.path.join(scratch, "kernel")
    fetch_and_unpack(kpkg, kver, tree, scratch)
    rel = kernel_release(tree)
    run_depmod(tree, rel, busybox)
    return busybox, tree, rel, os.path.join(tree, "lib/modules", rel)
