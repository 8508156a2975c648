# SPDX-License-Identifier: Apache-2.0
"""`testhost selftest`: on the host, boot L1 and run the same subcommand inside it; inside L1,
check kvm_amd and /dev/kvm (and systemd + D-Bus with --systemd), then boot the guest kit with
QEMU -accel kvm and look for the guest's userspace line."""

import os
import shutil
import subprocess
import tempfile
import time

from .initramfs import guest_initramfs
from .kit import kit_entry
from .options import parse_args
from .run import cmd_run

SELFTEST_GUEST = """#!/bin/sh
echo "CHD-SELFTEST-GUEST-USERSPACE cpus=$(nproc)"
poweroff -f
"""


def selftest_run_args(entry, args):
    """The `run` arguments that re-invoke ENTRY (the testhost script) as `selftest` inside L1."""
    argv = ["run", "--timeout", str(args.timeout)]
    argv += ["--systemd"] if args.systemd else []
    argv += ["-v"] if args.verbose else []
    argv += ["--", entry, "selftest"] + (["--systemd"] if args.systemd else [])
    return parse_args(argv)


def cmd_selftest(args, entry):
    """ENTRY: the absolute path of the testhost script; L1 sees the host's files at the same
    paths, so it runs there unchanged."""
    if os.environ.get("CHD_TESTHOST") != "1":
        return cmd_run(selftest_run_args(entry, args))
    failures = 0

    def check(ok, what):
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'ok' if ok else 'FAIL'}: {what}", flush=True)

    check(os.path.isdir("/sys/module/kvm_amd"), "kvm_amd is loaded in L1")
    check(os.path.exists("/dev/kvm"), "/dev/kvm exists in L1")
    if args.systemd:
        check(os.path.realpath("/proc/1/exe").endswith("/systemd"), "systemd is PID 1")
        bus = subprocess.run(["busctl", "--system", "--no-pager", "status"],
                             capture_output=True, text=True)
        check(bus.returncode == 0, "the system D-Bus answers (busctl status)")
    work = tempfile.mkdtemp()
    init = os.path.join(work, "init.sh")
    with open(init, "w") as f:
        f.write(SELFTEST_GUEST)
    initrd = os.path.join(work, "guest.cpio.gz")
    kit = kit_entry()
    guest_initramfs(kit, init).write_gz(initrd)
    qemu = ["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-cpu", "host", "-m", "256",
            "-smp", "2", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-serial", "stdio", "-kernel", os.path.join(kit, "bzImage"), "-initrd", initrd,
            "-append", "console=ttyS0 quiet"]
    t0 = time.monotonic()
    try:
        p = subprocess.run(qemu, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        out = p.stdout.decode(errors="replace")
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode(errors="replace"), "timeout"
    took = time.monotonic() - t0
    check(rc == 0, f"qemu -accel kvm exits with status 0 (got {rc}) after {took:.1f} s")
    check("CHD-SELFTEST-GUEST-USERSPACE cpus=2" in out,
          "the L2 guest reached userspace and saw 2 CPUs")
    if failures:
        print("L2 output:\n" + out[-3000:], flush=True)
    shutil.rmtree(work)
    return 1 if failures else 0
