# SPDX-License-Identifier: Apache-2.0
"""The guest kit: Debian's cloud kernel (bzImage and PVH vmlinux), the virtio modules a guest may
need with a modules.dep of just those, and a static busybox; its cache entry, and its items as
`testhost kit` prints them."""

import os
import shutil

from .cache import cache_entry, recipe_hash
from .common import Failure
from .kmod import module_closure, read_modules_dep
from .packages import fetch_kernel
from .vmlinux import extract_pvh_vmlinux

GUEST_META = "linux-image-cloud-amd64"  # small, boots fast, virtio drivers are modules

# What a guest may need; tests pick from these with `guest-initramfs --modules`.
KIT_MODULES = ["virtio_pci", "virtio_blk", "virtio_net", "virtio_console", "virtio_rng",
               "vmw_vsock_virtio_transport", "virtio_balloon", "virtio_mem", "button", "evdev"]
# Built in on some kernels; then there is nothing to copy. evdev gives the power button its
# /dev/input/event* node, so a guest can wait for KEY_POWER.
KIT_OPTIONAL = {"button", "evdev"}

KIT_ITEMS = {
    "bzimage": "bzImage",
    "vmlinux": "vmlinux",
    "modules-dir": "modules",
    "busybox": "busybox",
    "kernel-release": None,  # printed as text, not a path
    "dir": "",
}


def kit_recipe():
    return recipe_hash(" ".join(KIT_MODULES))


def build_kit(out, scratch, kpkg, kver, bbver):
    """Fill the kit cache entry OUT (see cache.build_entry)."""
    busybox, tree, rel, moddir = fetch_kernel(out, scratch, kpkg, kver, bbver)
    mods = module_closure(moddir, KIT_MODULES, KIT_OPTIONAL)
    deps = read_modules_dep(moddir)
    kitmods = os.path.join(out, "modules")
    for m in mods:
        os.makedirs(os.path.dirname(os.path.join(kitmods, m)), exist_ok=True)
        shutil.copy(os.path.join(moddir, m), os.path.join(kitmods, m))
    # A modules.dep of just what we copied, so guest-initramfs (and tests) can resolve it.
    with open(os.path.join(kitmods, "modules.dep"), "w") as f:
        for m in mods:
            f.write(f"{m}: {' '.join(deps[m])}\n")
    shutil.copy(os.path.join(moddir, "modules.builtin"), kitmods)
    bz = os.path.join(out, "bzImage")
    shutil.copy(os.path.join(tree, f"boot/vmlinuz-{rel}"), bz)
    entry = extract_pvh_vmlinux(bz, os.path.join(out, "vmlinux"))
    with open(os.path.join(out, "kernel-release"), "w") as f:
        f.write(rel + "\n")
    with open(os.path.join(out, "pvh-entry"), "w") as f:
        f.write(f"{entry:#x}\n")


def kit_entry():
    """The kit folder: $CHD_TESTHOST_KIT, or the cache entry."""
    env = os.environ.get("CHD_TESTHOST_KIT")
    if env:
        return env
    return cache_entry("kit", GUEST_META, kit_recipe(), build_kit)


def kit_item(kit, item):
    """The value `testhost kit ITEM` prints: a path that exists, or the kernel release."""
    if item == "kernel-release":
        with open(os.path.join(kit, "kernel-release")) as f:
            return f.read().strip()
    value = os.path.join(kit, KIT_ITEMS[item]).rstrip("/")
    if not os.path.exists(value):
        raise Failure(f"kit item '{item}' is missing: {value}")
    return value


def cmd_kit(args):
    kit = kit_entry()
    items = [args.item] if args.item else list(KIT_ITEMS)
    for item in items:
        value = kit_item(kit, item)
        print(value if args.item else f"{item} {value}")
    return 0
