# SPDX-License-Identifier: Apache-2.0
"""The cache: one folder per entry, built in a hidden temporary folder under an exclusive flock and
renamed into place when complete.  rename(2) is atomic, so a folder with the final name is always
complete and readers need no lock; the lock only keeps two builders from doing the same work twice.

Owns the names (entries, `.current` pointers, recipe hashes), building an entry, and what
`cache --prune` removes.  What goes into an entry is the caller's builder (l1, kit)."""

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import time

from .common import PROG, Failure, info
from .packages import BUSYBOX_PKG, package_version, resolve_kernel_package

# Bump when anything that goes into a cache entry changes, so old entries are not reused.
RECIPE = "5"

DEFAULT_CACHE = "/var/cache/chd-testhost"
APT_LISTS = "/var/lib/apt/lists"
POINTER_SUFFIX = ".current"


def cache_dir():
    d = os.environ.get("CHD_TESTHOST_CACHE", DEFAULT_CACHE)
    try:
        os.makedirs(d, exist_ok=True)
    except OSError as e:
        raise Failure(f"cannot create the cache folder {d}: {e.strerror}; "
                      "set CHD_TESTHOST_CACHE to a writable folder") from None
    return d


@contextlib.contextmanager
def cache_lock(cache):
    fd = os.open(os.path.join(cache, ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info(f"waiting for another {PROG} to finish filling {cache}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def safe(s):
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", s)


def recipe_hash(*parts):
    h = hashlib.sha256(RECIPE.encode())
    for p in parts:
        h.update(b"\0" + p.encode())
    return h.hexdigest()[:10]


def entry_name(kind, kpkg, kver, bbver, recipe):
    """The folder name of an entry: kind, kernel package and version, busybox version, recipe."""
    return f"{kind}-{safe(kpkg)}_{safe(kver)}+bb{safe(bbver)}-r{recipe}"


def pointer_name(kind, recipe):
    """The file that remembers which entry of KIND and RECIPE apt's package lists point to."""
    return f"{kind}-r{recipe}{POINTER_SUFFIX}"


def newest_entry(cache, kind, recipe):
    """The most recently built entry of KIND and RECIPE, or None."""
    suffix = f"-r{recipe}"
    old = sorted((d for d in os.listdir(cache) if d.startswith(kind + "-") and
                  d.endswith(suffix)), key=lambda d: os.stat(os.path.join(cache, d)).st_mtime)
    return old[-1] if old else None


def cache_entry(kind, meta, recipe, builder):
    """Return the folder of a complete cache entry, building it first if needed."""
    cache = cache_dir()
    # Asking apt-cache costs about 2 s; its answer only changes when apt's package lists do.
    pointer = os.path.join(cache, pointer_name(kind, recipe))
    with contextlib.suppress(OSError):
        with open(pointer) as f:
            name = f.read().strip()
        if (os.stat(pointer).st_mtime > os.stat(APT_LISTS).st_mtime and
                os.path.isdir(os.path.join(cache, name))):
            return os.path.join(cache, name)
    try:
        kpkg, kver = resolve_kernel_package(meta)
        bbver = package_version(BUSYBOX_PKG)
    except Failure as e:
        # Offline, or no package lists: the newest entry of this recipe is still good to use.
        old = newest_entry(cache, kind, recipe)
        if not old:
            raise
        info(f"warning: {e}; using the cached {old}")
        return os.path.join(cache, old)
    name = entry_name(kind, kpkg, kver, bbver, recipe)
    final = os.path.join(cache, name)
    if not os.path.isdir(final):
        build_entry(cache, name, recipe, builder, kpkg, kver, bbver)
    with contextlib.suppress(OSError):  # only a shortcut: losing it costs the next run 2 s
        with open(pointer + f".{os.getpid()}", "w") as f:
            f.write(name + "\n")
        os.replace(pointer + f".{os.getpid()}", pointer)
    return final


def build_entry(cache, name, recipe, builder, kpkg, kver, bbver):
    final = os.path.join(cache, name)
    with cache_lock(cache):
        if os.path.isdir(final):  # another run built it while we waited
            return
        for d in os.listdir(cache):
            if d.startswith(".tmp-"):  # left by a builder that died: we hold the lock now
                shutil.rmtree(os.path.join(cache, d), ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=cache)
        try:
            scratch = os.path.join(tmp, ".scratch")
            os.makedirs(scratch)
            info(f"building {name} (first use; later runs reuse it)")
            t0 = time.monotonic()
            builder(tmp, scratch, kpkg, kver, bbver)
            shutil.rmtree(scratch)
            with open(os.path.join(tmp, "manifest"), "w") as f:
                f.write(f"kernel-package {kpkg} {kver}\nbusybox {BUSYBOX_PKG} {bbver}\n"
                        f"recipe {recipe}\n")
            os.chmod(tmp, 0o755)
            os.rename(tmp, final)
            info(f"built {name} in {time.monotonic() - t0:.1f} s")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def stale_pointers(cache, keep):
    """The `.current` pointers (file names) that point to no entry in KEEP."""
    stale = []
    for d in sorted(os.listdir(cache)):
        if not d.endswith(POINTER_SUFFIX):
            continue
        with contextlib.suppress(OSError):
            with open(os.path.join(cache, d)) as f:
                target = f.read().strip()
            if target not in keep:
                stale.append(d)
    return stale


def entries(cache):
    """The complete entries of the cache, sorted: folders whose name has no leading dot."""
    return [d for d in sorted(os.listdir(cache))
            if not d.startswith(".") and os.path.isdir(os.path.join(cache, d))]


def entry_size(path):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def list_or_prune(cache, keep=None):
    """Print one line per entry (size and path); with KEEP, remove the entries not in it, and
    the pointers to entries gone or going, under the builders' lock."""
    prune = keep is not None
    with cache_lock(cache) if prune else contextlib.nullcontext():
        if prune:
            for d in stale_pointers(cache, keep):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(cache, d))
        for d in entries(cache):
            path = os.path.join(cache, d)
            size = entry_size(path)
            if prune and d not in keep:
                shutil.rmtree(path)
                print(f"removed  {d} ({size >> 20} MiB)")
            else:
                print(f"{size >> 20:6d} MiB  {path}")

