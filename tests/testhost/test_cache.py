# SPDX-License-Identifier: Apache-2.0
"""Unit tests: cache entry and pointer names, recipe hashes, building an entry, the pointer
shortcut, and what `cache --prune` removes (testhost_lib.cache), on real folders."""

import contextlib
import io
import os
import tempfile
import unittest
from unittest import mock

from testhost_lib import cache, kit, l1
from testhost_lib.common import Failure


class Names(unittest.TestCase):
    def test_entry_name(self):
        # The layout other tools and people see in /var/cache/chd-testhost.
        self.assertEqual(
            cache.entry_name("l1", "linux-image-6.1.0-56-amd64", "6.1.192-2",
                             "1:1.35.0-4+deb12u1+b1", "c10937e5bf"),
            "l1-linux-image-6.1.0-56-amd64_6.1.192-2+bb1_1.35.0-4+deb12u1+b1-rc10937e5bf")
        self.assertEqual(
            cache.entry_name("kit", "linux-image-6.1.0-56-cloud-amd64", "6.1.192-2",
                             "1:1.35.0-4+deb12u1+b1", "30ac4c5774"),
            "kit-linux-image-6.1.0-56-cloud-amd64_6.1.192-2+bb1_1.35.0-4+deb12u1+b1-r30ac4c5774")

    def test_unsafe_characters(self):
        self.assertEqual(cache.safe("a/b c:d~e"), "a_b_c_d_e")
        self.assertEqual(cache.safe("6.1.0+x_y-z"), "6.1.0+x_y-z")
        self.assertNotIn("/", cache.entry_name("l1", "../p", "1/2", "3", "r"))

    def test_pointer_name(self):
        self.assertEqual(cache.pointer_name("kit", "30ac4c5774"), "kit-r30ac4c5774.current")
        self.assertEqual(cache.pointer_name("l1", "c10937e5bf"), "l1-rc10937e5bf.current")

    def test_recipe_hash(self):
        h = cache.recipe_hash("a", "b")
        self.assertRegex(h, r"^[0-9a-f]{10}$")
        self.assertEqual(h, cache.recipe_hash("a", "b"))
        self.assertNotEqual(h, cache.recipe_hash("a", "c"))
        self.assertNotEqual(cache.recipe_hash("ab", "c"), cache.recipe_hash("a", "bc"))
        with mock.patch.object(cache, "RECIPE", "0"):
            self.assertNotEqual(h, cache.recipe_hash("a", "b"))

    def test_recipes_cover_what_goes_into_the_entries(self):
        r1, rk = l1.l1_recipe(), kit.kit_recipe()
        self.assertNotEqual(r1, rk)
        with mock.patch.object(l1, "L1_INIT", l1.L1_INIT + "\n"):
            self.assertNotEqual(l1.l1_recipe(), r1)
        with mock.patch.object(l1, "L1_MODULES", l1.L1_MODULES + ["vfat"]):
            self.assertNotEqual(l1.l1_recipe(), r1)
        with mock.patch.object(kit, "KIT_MODULES", kit.KIT_MODULES[:-1]):
            self.assertNotEqual(kit.kit_recipe(), rk)


class CacheFolder(unittest.TestCase):
    def setUp(self):
        self.cache = self.enterContext(tempfile.TemporaryDirectory())

    def entry(self, name, size=0, mtime=None):
        path = os.path.join(self.cache, name)
        os.makedirs(path)
        with open(os.path.join(path, "data"), "wb") as f:
            f.write(b"x" * size)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def pointer(self, name, target, mtime=None):
        path = os.path.join(self.cache, name)
        with open(path, "w") as f:
            f.write(target + "\n")
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def test_cache_dir_from_environment(self):
        d = os.path.join(self.cache, "new", "cache")
        with mock.patch.dict(os.environ, {"CHD_TESTHOST_CACHE": d}):
            self.assertEqual(cache.cache_dir(), d)
        self.assertTrue(os.path.isdir(d))

    def test_cache_dir_not_writable(self):
        blocker = os.path.join(self.cache, "file")
        open(blocker, "w").close()
        with mock.patch.dict(os.environ, {"CHD_TESTHOST_CACHE": blocker + "/cache"}):
            with self.assertRaisesRegex(Failure, "set CHD_TESTHOST_CACHE"):
                cache.cache_dir()

    def test_build_entry(self):
        self.entry(".tmp-left-by-a-dead-builder")
        seen = []

        def builder(out, scratch, kpkg, kver, bbver):
            self.assertTrue(os.path.isdir(scratch))
            self.assertTrue(os.path.basename(out).startswith(".tmp-e-"))
            seen.append((kpkg, kver, bbver))
            with open(os.path.join(out, "vmlinux"), "w") as f:
                f.write("elf")

        with contextlib.redirect_stderr(io.StringIO()):
            cache.build_entry(self.cache, "e", "r1", builder, "pkg", "1.0", "1:2")
            cache.build_entry(self.cache, "e", "r1", builder, "pkg", "1.0", "1:2")  # exists
        self.assertEqual(seen, [("pkg", "1.0", "1:2")])
        self.assertEqual(sorted(os.listdir(self.cache)), [".lock", "e"])
        self.assertEqual(sorted(os.listdir(os.path.join(self.cache, "e"))),
                         ["manifest", "vmlinux"])
        with open(os.path.join(self.cache, "e", "manifest")) as f:
            self.assertEqual(f.read(), "kernel-package pkg 1.0\nbusybox busybox-static 1:2\n"
                                       "recipe r1\n")

    def test_failed_build_leaves_nothing(self):
        def builder(out, scratch, kpkg, kver, bbver):
            raise Failure("no network")

        with contextlib.redirect_stderr(io.StringIO()):
            with self.assertRaisesRegex(Failure, "no network"):
                cache.build_entry(self.cache, "e", "r1", builder, "pkg", "1.0", "2")
        self.assertEqual(os.listdir(self.cache), [".lock"])

    def test_fresh_pointer_skips_apt(self):
        name = "kit-pkg_1+bb2-rabc"
        self.entry(name)
        apt_lists = self.entry("apt-lists", mtime=1000)
        self.pointer(cache.pointer_name("kit", "abc"), name, mtime=2000)

        def builder(*_):
            self.fail("an entry the pointer names must not be built again")

        with mock.patch.dict(os.environ, {"CHD_TESTHOST_CACHE": self.cache}), \
                mock.patch.object(cache, "APT_LISTS", apt_lists):
            self.assertEqual(cache.cache_entry("kit", "no-such-meta", "abc", builder),
                             os.path.join(self.cache, name))

    def test_newest_entry(self):
        self.entry("l1-a-rabc", mtime=3000)
        self.entry("l1-b-rabc", mtime=1000)
        self.entry("l1-c-rother", mtime=5000)
        self.entry("kit-d-rabc", mtime=9000)
        self.assertEqual(cache.newest_entry(self.cache, "l1", "abc"), "l1-a-rabc")
        self.assertEqual(cache.newest_entry(self.cache, "kit", "abc"), "kit-d-rabc")
        self.assertIsNone(cache.newest_entry(self.cache, "kit", "zzz"))

    def prune_setup(self):
        self.entry("l1-new-r1", size=3 << 20)
        self.entry("l1-old-r1", size=1 << 20)
        self.entry("kit-new-r2")
        self.entry("kit-old-r0")
        self.entry(".tmp-l1-building-r1")
        self.pointer("l1-r1.current", "l1-new-r1")
        self.pointer("kit-r2.current", "kit-new-r2")
        self.pointer("kit-r0.current", "kit-old-r0")
        self.pointer("l1-rgone.current", "l1-gone-r9")
        return {"l1-new-r1", "kit-new-r2"}

    def run_list(self, keep):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            cache.list_or_prune(self.cache, keep)
        return out.getvalue().splitlines()

    def test_stale_pointers(self):
        keep = self.prune_setup()
        self.assertEqual(cache.stale_pointers(self.cache, keep),
                         ["kit-r0.current", "l1-rgone.current"])

    def test_list(self):
        self.prune_setup()
        before = sorted(os.listdir(self.cache))
        lines = self.run_list(None)
        self.assertEqual(sorted(os.listdir(self.cache)), before)
        self.assertEqual(lines, [f"{0:6d} MiB  {self.cache}/kit-new-r2",
                                 f"{0:6d} MiB  {self.cache}/kit-old-r0",
                                 f"{3:6d} MiB  {self.cache}/l1-new-r1",
                                 f"{1:6d} MiB  {self.cache}/l1-old-r1"])

    def test_prune(self):
        keep = self.prune_setup()
        lines = self.run_list(keep)
        self.assertEqual(lines, [f"{0:6d} MiB  {self.cache}/kit-new-r2",
                                 "removed  kit-old-r0 (0 MiB)",
                                 f"{3:6d} MiB  {self.cache}/l1-new-r1",
                                 "removed  l1-old-r1 (1 MiB)"])
        # A builder's temporary folder is not an entry: the next builder cleans it up.
        self.assertEqual(sorted(os.listdir(self.cache)),
                         [".lock", ".tmp-l1-building-r1", "kit-new-r2", "kit-r2.current",
                          "l1-new-r1", "l1-r1.current"])


if __name__ == "__main__":
    unittest.main()
