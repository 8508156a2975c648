# SPDX-License-Identifier: Apache-2.0
"""Unit tests: how `testhost run` turns the end of an L1 boot into its exit status (outcome,
supervise), main()'s exit statuses, the job folder, and the entry script called through a
symlink from another folder.

supervise() is run here with a shell command in QEMU's place that prints what L1 prints (the
markers on stdout, a soft lockup on the console log): this checks testhost's side of the
protocol in a second; the real L1 is checked by `testhost selftest` and the integration tests."""

import contextlib
import io
import os
import shlex
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

from testhost_lib import cli, run
from testhost_lib.common import EXIT_INFRA, EXIT_TIMEOUT, Failure
from testhost_lib.job import forwarded_env, run_script, share_list
from testhost_lib.options import parse_args
from testhost_lib.streams import TapOutput

HERE = os.path.dirname(os.path.abspath(__file__))
NONCE = "00112233aabbccdd"


class Outcome(unittest.TestCase):
    def setUp(self):
        self.job = self.enterContext(tempfile.TemporaryDirectory())

    def status_file(self, text):
        with open(os.path.join(self.job, "status"), "w") as f:
            f.write(text)

    def test_table(self):
        j = self.job
        self.assertEqual(run.outcome(False, None, 0, j), ("done", 0, False))
        self.assertEqual(run.outcome(False, None, 3, j), ("done", 3, False))
        self.assertEqual(run.outcome(True, None, None, j), ("timeout", EXIT_TIMEOUT, False))
        self.assertEqual(run.outcome(True, "stuck", None, j), ("timeout", EXIT_TIMEOUT, False))
        self.assertEqual(run.outcome(False, "stuck", None, j), ("l1-froze", EXIT_INFRA, True))
        # The status came before the lockup: the command's result stands.
        self.assertEqual(run.outcome(False, "stuck", 1, j), ("done", 1, False))
        self.assertEqual(run.outcome(False, None, None, j), ("no-status", EXIT_INFRA, True))

    def test_status_file_fallback(self):
        self.status_file("7\n")
        self.assertEqual(run.outcome(False, None, None, self.job), ("done", 7, False))
        self.status_file("garbage")
        self.assertEqual(run.outcome(False, None, None, self.job), ("no-status", EXIT_INFRA, True))


class Supervise(unittest.TestCase):
    """supervise() with `sh -c SCRIPT` standing in for QEMU."""

    def setUp(self):
        self.job = self.enterContext(tempfile.TemporaryDirectory())
        self.console = os.path.join(self.job, "console.log")
        open(self.console, "w").close()

    def supervise(self, script, timeout=20, quiet=True):
        argv = ["run", "--console-log", self.console, "--timeout", str(timeout)]
        args = parse_args(argv + (["-q"] if quiet else []) + ["--", "the-command"])
        raw, err = io.BytesIO(), io.StringIO()
        script = script.replace("START", f"@@CHD-TESTHOST-{NONCE}-START@@\\n")
        script = script.replace("EXIT", f"@@CHD-TESTHOST-{NONCE}-EXIT=")
        t0 = time.monotonic()
        with contextlib.redirect_stderr(err):
            result = run.supervise(["sh", "-c", script], args, NONCE, self.job, self.console,
                                   TapOutput(raw), t0 + timeout)
        self.took = time.monotonic() - t0
        return result, raw.getvalue().decode(), err.getvalue()

    def test_status(self):
        r, out, err = self.supervise("printf 'START1..1\\nok 1\\nEXIT3@@\\n'", quiet=False)
        self.assertEqual((r, out), ((3, False), "1..1\nok 1\n"))
        self.assertRegex(err, r"^testhost: L1 up in \d+\.\d s, command ran \d+\.\d s, "
                              r"exit status 3\n$")

    def test_quiet(self):
        r, out, err = self.supervise("printf 'STARTEXIT0@@\\n'")
        self.assertEqual((r, out, err), ((0, False), "", ""))

    def test_no_status(self):
        r, out, err = self.supervise("printf 'START partial'; exit 1")
        self.assertEqual(r, (EXIT_INFRA, True))
        self.assertEqual(out, " partial")
        self.assertIn("L1 stopped without reporting the command's exit status (QEMU status 1",
                      err)
        self.assertIn(f"testhost: whole L1 console: {self.console}", err)

    def test_status_from_job_folder(self):
        r, _, _ = self.supervise(f"printf START; echo 4 > {shlex.quote(self.job)}/status")
        self.assertEqual(r, (4, False))

    def test_timeout(self):
        r, out, err = self.supervise("printf 'STARTworking\\n'; exec sleep 30", timeout=2)
        self.assertEqual((r, out), ((EXIT_TIMEOUT, False), "working\n"))
        self.assertLess(self.took, 10)
        self.assertIn("testhost: timeout: 'the-command' did not finish within 2 s", err)

    def test_lockup(self):
        lockup = "watchdog: BUG: soft lockup - CPU#1 stuck for 64s! [qemu:99]"
        r, _, err = self.supervise(f"printf START; echo '{lockup}' >> {self.console}; "
                                   "exec sleep 30")
        self.assertEqual(r, (EXIT_INFRA, True))
        self.assertLess(self.took, 10)
        self.assertIn(f"L1 stopped making progress ({lockup}): a failure of the test host", err)

    def test_short_lockup_is_not_fatal(self):
        r, _, _ = self.supervise(f"echo 'soft lockup - CPU#0 stuck for 23s!' >> {self.console};"
                                 " sleep 1; printf 'STARTEXIT0@@\\n'")
        self.assertEqual(r, (0, False))

    def test_slow_poweroff(self):
        with mock.patch.object(run, "POWEROFF_GRACE_S", 0.5):
            r, _, err = self.supervise("printf 'STARTEXIT5@@\\n'; exec sleep 30")
        self.assertEqual(r, (5, False))
        self.assertLess(self.took, 10)
        self.assertIn("warning: L1 did not power off", err)


class MainExitStatus(unittest.TestCase):
    def main(self, argv, **env):
        err, out = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, env), contextlib.redirect_stderr(err), \
                contextlib.redirect_stdout(out):
            status = cli.main(argv, entry="/nowhere/testhost")
        return status, out.getvalue(), err.getvalue()

    def test_failures_are_125(self):
        self.assertEqual(self.main(["run"], CHD_TESTHOST="0"),
                         (125, "", "testhost: error: nothing to run: give the command after "
                                   "'--'\n"))
        self.assertEqual(self.main(["run", "--", "true"], CHD_TESTHOST="1")[::2],
                         (125, "testhost: error: already inside the test host: run the command "
                               "directly\n"))
        with tempfile.TemporaryDirectory() as kit:
            status, _, err = self.main(["kit", "bzimage"], CHD_TESTHOST_KIT=kit)
            self.assertEqual((status, err), (125, f"testhost: error: kit item 'bzimage' is "
                                                  f"missing: {kit}/bzImage\n"))

    def test_success(self):
        with tempfile.TemporaryDirectory() as kit:
            with open(os.path.join(kit, "kernel-release"), "w") as f:
                f.write("6.1.0-99-cloud-amd64\n")
            self.assertEqual(self.main(["kit", "kernel-release"], CHD_TESTHOST_KIT=kit),
                             (0, "6.1.0-99-cloud-amd64\n", ""))
            self.assertEqual(self.main(["kit", "dir"], CHD_TESTHOST_KIT=kit), (0, kit + "\n", ""))

    def test_usage_is_2(self):
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as e:
            cli.main(["run", "--timeout"])
        self.assertEqual(e.exception.code, 2)


class Job(unittest.TestCase):
    def test_run_script(self):
        s = run_script({"B": "two words", "A": "it's"}, "/src/my dir", ["echo", "a b", "$x"])
        self.assertEqual(s.splitlines(), [
            "# generated by testhost: the command to run inside L1",
            "export A='it'\"'\"'s'",
            "export B='two words'",
            "cd '/src/my dir' || { echo \"testhost: cannot enter /src/my dir inside L1\" >&2;"
            " exit 125; }",
            "exec echo 'a b' '$x'"])

    def test_environment(self):
        args = parse_args(["run", "--env", "FOO", "--env", "BAR=1=2", "--env", "UNSET", "--",
                           "x"])
        with mock.patch.dict(os.environ, {"FOO": "foo", "CHD_X": "y", "HOME": "/home/me"}):
            os.environ.pop("UNSET", None)
            env = forwarded_env(args, "/kit")
        self.assertEqual((env["FOO"], env["BAR"], env["CHD_X"]), ("foo", "1=2", "y"))
        self.assertNotIn("UNSET", env)
        self.assertEqual((env["HOME"], env["LANG"], env["TERM"]), ("/root", "C.UTF-8", "dumb"))
        self.assertEqual((env["CHD_TESTHOST"], env["CHD_TESTHOST_KIT"], env["CHD_TESTHOST_JOB"]),
                         ("1", "/kit", "/run/chd-testhost"))
        with self.assertRaisesRegex(Failure, "invalid environment variable name 'A-B'"):
            forwarded_env(parse_args(["run", "--env", "A-B=1", "--", "x"]), "/kit")

    def test_shares(self):
        with tempfile.TemporaryDirectory() as d:
            link = d + ".link"
            os.symlink(d, link)
            try:
                self.assertEqual(share_list([link, d]), [("chdshare0", os.path.realpath(d)),
                                                         ("chdshare1", os.path.realpath(d))])
            finally:
                os.remove(link)
            with self.assertRaisesRegex(Failure, "not a folder"):
                share_list([os.path.join(d, "nope")])
        with self.assertRaisesRegex(Failure, "cannot share this folder"):
            share_list(["/"])
        self.assertEqual(share_list(None), [])


class EntryScript(unittest.TestCase):
    def pyc_files(self):
        return {os.path.join(r, f) for r, _, fs in os.walk(HERE) for f in fs
                if f.endswith(".pyc")}

    def test_through_a_symlink(self):
        before = self.pyc_files()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        with tempfile.TemporaryDirectory() as d:
            link = os.path.join(d, "th")
            os.symlink(os.path.join(HERE, "testhost"), link)
            p = subprocess.run([link, "run", "--", "true"], cwd="/", capture_output=True,
                               text=True, env=dict(env, CHD_TESTHOST="1"))
            self.assertEqual((p.returncode, p.stdout, p.stderr),
                             (125, "", "testhost: error: already inside the test host: run "
                                       "the command directly\n"))
            p = subprocess.run([sys.executable, os.path.relpath(link, d), "kit", "dir"], cwd=d,
                               capture_output=True, text=True, env=dict(env, CHD_TESTHOST_KIT=d))
            self.assertEqual((p.returncode, p.stdout, p.stderr), (0, d + "\n", ""))
        self.assertEqual(self.pyc_files(), before, "the entry script wrote bytecode")


if __name__ == "__main__":
    unittest.main()
