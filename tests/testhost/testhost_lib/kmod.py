# SPDX-License-Identifier: Apache-2.0
"""Kernel modules of an unpacked kernel: module names, modules.dep, modules.builtin, and the
order in which a set of modules and their dependencies must be loaded."""

import os
import re

from .common import Failure


def module_name(path):
    base = os.path.basename(path)
    base = re.sub(r"\.ko(\.(xz|zst|gz))?$", "", base)
    return base.replace("-", "_")


def read_modules_dep(moddir):
    """modules.dep as {relative path: [relative paths of its dependencies]}."""
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            if ":" not in line:
                continue
            mod, rest = line.split(":", 1)
            deps[mod.strip()] = rest.split()
    return deps


def builtin_modules(moddir):
    path = os.path.join(moddir, "modules.builtin")
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {module_name(line.strip()) for line in f if line.strip()}


def module_closure(moddir, names, optional=frozenset()):
    """The modules NAMES need, dependencies first (the order insmod needs).

    The order comes from a depth-first walk of modules.dep, so it does not matter whether kmod's or
    busybox's depmod wrote the file (they list dependencies in different orders)."""
    deps = read_modules_dep(moddir)
    by_name = {module_name(p): p for p in deps}
    builtin = builtin_modules(moddir)
    order, seen = [], set()

    def visit(path, stack):
        if path in seen:
            return
        if path in stack:
            raise Failure(f"dependency loop in {moddir}/modules.dep through {path}")
        for d in deps.get(path, []):
            visit(d, stack | {path})
        seen.add(path)
        order.append(path)

    for name in names:
        n = name.replace("-", "_")
        if n in by_name:
            visit(by_name[n], frozenset())
        elif n in builtin:
            continue  # built into the kernel: nothing to load
        elif name in optional:
            continue
        else:
            raise Failure(f"module '{name}' is neither in {moddir}/modules.dep nor built in")
    return order
