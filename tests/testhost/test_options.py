# SPDX-License-Identifier: Apache-2.0
"""Unit tests: testhost's command line (testhost_lib.options) and how selftest builds the `run`
that re-invokes testhost inside L1."""

import argparse
import contextlib
import io
import unittest

from testhost_lib.options import parse_args
from testhost_lib.selftest import selftest_run_args


def usage_error(argv):
    """The exit status argparse gives ARGV (its message on stderr is swallowed)."""
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            parse_args(argv)
        except SystemExit as e:
            return e.code
    return None


class RunOptions(unittest.TestCase):
    def test_defaults(self):
        a = parse_args(["run", "--", "uname", "-r"])
        self.assertEqual(a.cmd, "run")
        self.assertEqual(a.command, ["uname", "-r"])
        self.assertEqual((a.timeout, a.mem, a.smp, a.retries), (600, 4096, 2, 0))
        self.assertFalse(a.systemd or a.verbose or a.quiet or a.keep_job)
        self.assertIsNone(a.share)
        self.assertIsNone(a.env)
        self.assertIsNone(a.console_log)
        self.assertIsNone(a.l1_append)

    def test_options_before_the_separator(self):
        a = parse_args(["run", "--systemd", "--timeout", "900", "--retries", "2", "--mem", "2048",
                        "--smp", "4", "--share", "/a", "--share", "/b", "--env", "X=1", "--env",
                        "Y", "--console-log", "c.log", "--keep-job", "--l1-append",
                        "kvm_amd.npt=1", "-v", "-q", "--", "busctl", "list"])
        self.assertTrue(a.systemd and a.verbose and a.quiet and a.keep_job)
        self.assertEqual((a.timeout, a.retries, a.mem, a.smp), (900, 2, 2048, 4))
        self.assertEqual(a.share, ["/a", "/b"])
        self.assertEqual(a.env, ["X=1", "Y"])
        self.assertEqual(a.console_log, "c.log")
        self.assertEqual(a.l1_append, "kvm_amd.npt=1")
        self.assertEqual(a.command, ["busctl", "list"])

    def test_command_options_stay_the_commands(self):
        a = parse_args(["run", "--", "ls", "-v", "--timeout", "3"])
        self.assertFalse(a.verbose)
        self.assertEqual(a.timeout, 600)
        self.assertEqual(a.command, ["ls", "-v", "--timeout", "3"])

    def test_only_the_first_separator_goes(self):
        self.assertEqual(parse_args(["run", "--", "--", "x"]).command, ["--", "x"])

    def test_without_separator(self):
        self.assertEqual(parse_args(["run", "uname", "-a"]).command, ["uname", "-a"])

    def test_no_command_parses_to_empty(self):
        # cmd_run turns this into a clear error (exit status 125), not argparse.
        self.assertEqual(parse_args(["run"]).command, [])
        self.assertEqual(parse_args(["run", "--"]).command, [])

    def test_bad_numbers(self):
        self.assertEqual(usage_error(["run", "--timeout", "soon", "--", "true"]), 2)
        self.assertEqual(usage_error(["run", "--retries", "x", "--", "true"]), 2)


class OtherSubcommands(unittest.TestCase):
    def test_subcommand_required(self):
        self.assertEqual(usage_error([]), 2)
        self.assertEqual(usage_error(["bogus"]), 2)

    def test_kit_items(self):
        self.assertIsNone(parse_args(["kit"]).item)
        for item in ("bzimage", "vmlinux", "modules-dir", "busybox", "kernel-release", "dir"):
            self.assertEqual(parse_args(["kit", item]).item, item)
        self.assertEqual(usage_error(["kit", "initrd"]), 2)

    def test_guest_initramfs(self):
        a = parse_args(["guest-initramfs", "--init", "i.sh", "-o", "g.cpio.gz", "--modules",
                        "virtio_blk virtio-net", "--file", "a", "--file", "b:etc/b"])
        self.assertEqual((a.init, a.output, a.modules), ("i.sh", "g.cpio.gz",
                                                          "virtio_blk virtio-net"))
        self.assertEqual(a.file, ["a", "b:etc/b"])
        self.assertEqual(parse_args(["guest-initramfs", "--init", "i", "--output", "o"]).modules,
                         "")
        self.assertEqual(usage_error(["guest-initramfs", "-o", "g.cpio.gz"]), 2)
        self.assertEqual(usage_error(["guest-initramfs", "--init", "i.sh"]), 2)

    def test_cache_and_fetch(self):
        self.assertFalse(parse_args(["cache"]).prune)
        self.assertTrue(parse_args(["cache", "--prune"]).prune)
        self.assertEqual(parse_args(["fetch"]).cmd, "fetch")

    def test_selftest(self):
        a = parse_args(["selftest"])
        self.assertEqual((a.systemd, a.timeout, a.verbose), (False, 300, False))


class SelftestReinvocation(unittest.TestCase):
    def test_plain(self):
        args = argparse.Namespace(systemd=False, timeout=300, verbose=False)
        r = selftest_run_args("/src/tests/testhost/testhost", args)
        self.assertEqual(r.cmd, "run")
        self.assertEqual(r.command, ["/src/tests/testhost/testhost", "selftest"])
        self.assertEqual((r.timeout, r.mem, r.smp, r.retries), (300, 4096, 2, 0))
        self.assertFalse(r.systemd or r.verbose or r.quiet)

    def test_systemd_verbose(self):
        args = argparse.Namespace(systemd=True, timeout=77, verbose=True)
        r = selftest_run_args("/x/testhost", args)
        self.assertTrue(r.systemd and r.verbose)
        self.assertEqual(r.timeout, 77)
        # -v shows L1's console on the host; the run inside L1 gets only --systemd.
        self.assertEqual(r.command, ["/x/testhost", "selftest", "--systemd"])


if __name__ == "__main__":
    unittest.main()
