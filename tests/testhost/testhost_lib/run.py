# SPDX-License-Identifier: Apache-2.0
"""`testhost run`: boot L1 with the job, copy the command's output to stdout while watching L1's
console, and turn how the boot ended into testhost's exit status: the command's own, 124 on the
timeout, 125 when L1 failed (then --retries boots a fresh L1), 128+N on signal N."""

import os
import secrets
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from .common import EXIT_INFRA, EXIT_TIMEOUT, PROG, Failure, info
from .console import console_tail, keep_console, sysrq_dump, watch_console
from .job import write_job
from .kit import kit_entry
from .l1 import l1_cmdline, l1_entry, qemu_command
from .streams import MarkerStream, TapOutput

POWEROFF_GRACE_S = 30  # after the status is in; systemd's shutdown takes a few seconds


class Terminated(Exception):
    pass


def on_signal(signum, frame):
    raise Terminated(signum)


def cmd_run(args):
    if os.environ.get("CHD_TESTHOST") == "1":
        raise Failure("already inside the test host: run the command directly")
    if not args.command:
        raise Failure("nothing to run: give the command after '--'")
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise Failure("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    l1 = l1_entry()
    kit = kit_entry()
    out = TapOutput(sys.stdout.buffer)
    deadline = time.monotonic() + args.timeout  # for all attempts together
    attempts = 1 + args.retries
    try:
        for attempt in range(1, attempts + 1):
            status, l1_failed = run_once(args, qemu, l1, kit, out, deadline, attempt)
            if not l1_failed or attempt == attempts:
                return status
            if deadline - time.monotonic() < 60:
                info("no time left for another attempt")
                return status
            info(f"retrying the command in a fresh L1 (attempt {attempt + 1} of {attempts}); "
                 f"test points already reported are not repeated")
            out.begin_retry()
        return status
    finally:
        out.close()


def run_once(args, qemu, l1, kit, out, deadline, attempt):
    """Boot L1 once and run the command.  Returns (status, whether L1 itself failed)."""
    nonce = secrets.token_hex(8)
    job = tempfile.mkdtemp(prefix="chd-testhost-job-")
    os.chmod(job, 0o755)
    console = os.path.join(job, "console.log")
    if args.console_log:
        console = args.console_log + (f".{attempt}" if attempt > 1 else "")
    try:
        shares = write_job(job, args, kit, nonce, attempt)
        cmdline = l1_cmdline(nonce, "systemd" if args.systemd else "chroot", args.l1_append)
        qemu_cmd = qemu_command(qemu, l1, args.mem, args.smp, cmdline, job, console, shares)
        return supervise(qemu_cmd, args, nonce, job, console, out, deadline)
    finally:
        if args.keep_job:
            info(f"job folder kept: {job}")
        else:
            shutil.rmtree(job, ignore_errors=True)


def read_status_file(job):
    """The status L1 wrote into the job folder, or None."""
    try:
        with open(os.path.join(job, "status")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def outcome(timed_out, lockup, reported, job):
    """How one L1 boot ended, as (how, exit status, whether L1 itself failed).  HOW is 'timeout',
    'l1-froze' (a long soft lockup or no heartbeat before the status came), 'no-status' (L1
    died without a status) or 'done'.  REPORTED is the status from the console marker."""
    if timed_out:
        return "timeout", EXIT_TIMEOUT, False
    if lockup and reported is None:
        return "l1-froze", EXIT_INFRA, True
    if reported is None:
        # The console marker can be lost if L1 died while it was in flight; the job folder
        # copy is written synchronously over 9p.
        reported = read_status_file(job)
        if reported is None:
            return "no-status", EXIT_INFRA, True
    return "done", reported, False


class Boot:
    """One L1 boot being supervised: QEMU, the command's output stream, the console watch."""

    def __init__(self, args, nonce, job, console, out):
        self.args, self.job, self.console = args, job, console
        self.stream = MarkerStream(nonce, out)
        self.t0 = time.monotonic()
        self.console_pos = 0
        self.watch = {"partial": b"", "lockup": None}
        self.timed_out = self.slow_poweroff = False
        self.proc = None

    def watch_console(self):
        """Read the console since last time; True when L1 froze before the status came."""
        self.console_pos, lockup = watch_console(self.console, self.console_pos,
                                                 self.args.verbose, self.watch)
        return lockup and self.stream.status is None

    def sysrq_dump(self):
        sysrq_dump(os.path.join(self.job, "monitor.sock"))

    def pump(self, deadline):
        """Copy the command's output until QEMU ends, the status is in and L1 had its time to
        power off, L1 froze, or the deadline."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            poweroff_deadline = None  # set once the status is in: L1 then has a while to stop
            eof = False
            while not eof or self.proc.poll() is None:
                now = time.monotonic()
                if self.stream.status is not None and poweroff_deadline is None:
                    poweroff_deadline = now + POWEROFF_GRACE_S
                if poweroff_deadline is not None and now >= poweroff_deadline:
                    self.slow_poweroff = True
                    return
                if now >= deadline:
                    self.timed_out = self.stream.status is None
                    if self.timed_out:
                        self.sysrq_dump()
                    return
                wait = min(0.2, deadline - now)
                events = sel.select(timeout=wait) if not eof else time.sleep(wait)
                if self.watch_console():
                    self.sysrq_dump()
                    return
                if events:
                    data = os.read(self.proc.stdout.fileno(), 65536)
                    if data:
                        self.stream.feed(data, time.monotonic())
                    else:
                        eof = True
                        sel.unregister(self.proc.stdout)

    def report(self, how, status):
        """The messages on stderr that go with each way a boot can end."""
        args, console, stream, t0 = self.args, self.console, self.stream, self.t0
        elapsed = time.monotonic() - t0
        boot = f"L1 up in {stream.started - t0:.1f} s, " if stream.started else ""
        if how == "timeout":
            info(f"timeout: '{shlex.join(args.command)}' did not finish within {args.timeout} s "
                 f"({boot}killed QEMU after asking L1 for SysRq dumps of blocked tasks and CPUs). "
                 f"Last lines of the L1 console:\n{console_tail(console, 80)}\n"
                 f"{PROG}: whole L1 console: {keep_console(args, console)}")
            return
        if how == "l1-froze":
            info(f"L1 stopped making progress ({self.watch['lockup']}): a failure of the test "
                 f"host (QEMU's emulation), not of '{shlex.join(args.command)}'; stopped L1 "
                 f"after {elapsed:.0f} s. Last lines of the L1 console:\n{console_tail(console)}\n"
                 f"{PROG}: whole L1 console: {keep_console(args, console)}")
            return
        if self.slow_poweroff:
            info(f"warning: L1 did not power off within {POWEROFF_GRACE_S} s of the command's "
                 "end; killed QEMU")
        if how == "no-status":
            info(f"L1 stopped without reporting the command's exit status (QEMU status "
                 f"{self.proc.returncode}, after {elapsed:.1f} s). Last lines of the L1 console:\n"
                 f"{console_tail(console)}\n"
                 f"{PROG}: whole L1 console: {keep_console(args, console)}")
            return
        if not args.quiet:
            ran = f"command ran {elapsed - (stream.started - t0):.1f} s, " if stream.started else ""
            info(f"{boot}{ran}exit status {status}")


def supervise(qemu_cmd, args, nonce, job, console, out, deadline):
    """Run L1 until the command's status is in.  Returns (status, whether L1 itself failed)."""
    b = Boot(args, nonce, job, console, out)
    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    b.proc = subprocess.Popen(qemu_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        b.pump(deadline)
    except (KeyboardInterrupt, Terminated) as e:
        signum = e.args[0] if isinstance(e, Terminated) else signal.SIGINT
        b.proc.kill()
        b.proc.wait()
        info(f"interrupted by signal {signum}: stopped L1")
        return 128 + signum, False
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if b.proc.poll() is None:
            b.proc.kill()
            b.proc.wait()
        b.proc.stdout.close()
        b.stream.flush()
    b.watch_console()
    how, status, l1_failed = outcome(b.timed_out, b.watch["lockup"], b.stream.status, job)
    b.report(how, status)
    return status, l1_failed
