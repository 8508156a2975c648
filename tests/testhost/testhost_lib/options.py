# SPDX-License-Identifier: Apache-2.0
"""testhost's command line: the subcommands and their options (argparse), and the `--` that
separates `run`'s options from the command."""

import argparse

from .common import DEFAULT_TIMEOUT, EXIT_TIMEOUT, PROG
from .kit import KIT_ITEMS


def build_parser():
    ap = argparse.ArgumentParser(prog=PROG, description="chd's nested test host (see README.md)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    sub.add_parser("fetch", help="fill the cache; print the L1 and kit folders")

    p = sub.add_parser("kit", help="print the path of a guest-kit item")
    p.add_argument("item", nargs="?", choices=list(KIT_ITEMS))

    p = sub.add_parser("guest-initramfs", help="build a busybox initramfs for an L2 guest")
    p.add_argument("--init", required=True, metavar="SCRIPT",
                   help="shell script the guest runs after loading the modules")
    p.add_argument("-o", "--output", required=True, metavar="OUT.cpio.gz")
    p.add_argument("--modules", default="", metavar="'NAME ...'|all",
                   help="kit modules to load (dependencies are added)")
    p.add_argument("--file", action="append", metavar="SRC[:DEST]",
                   help="add a file to the archive (default DEST: its base name at /)")

    p = sub.add_parser("run", help="run a command inside L1")
    p.add_argument("--systemd", action="store_true", help="boot systemd as PID 1 in L1")
    p.add_argument("--mem", type=int, default=4096, metavar="MiB")
    p.add_argument("--smp", type=int, default=2, metavar="N")
    p.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"kill L1 and exit {EXIT_TIMEOUT} after S seconds")
    p.add_argument("--retries", type=int, default=0, metavar="N",
                   help="when L1 itself fails (QEMU's emulation hangs it), run the command "
                        "again in a fresh L1, up to N times; TAP test points are not repeated")
    p.add_argument("--share", action="append", metavar="DIR",
                   help="make host folder DIR writable inside L1, at the same path")
    p.add_argument("--env", action="append", metavar="NAME[=VALUE]",
                   help="pass an environment variable (CHD_* variables pass anyway)")
    p.add_argument("--console-log", metavar="FILE", help="keep L1's kernel console in FILE")
    p.add_argument("--keep-job", action="store_true", help="keep the job folder (debugging)")
    p.add_argument("--l1-append", metavar="ARGS", help="more L1 kernel parameters (debugging)")
    p.add_argument("-v", "--verbose", action="store_true", help="show L1's console on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")
    p.add_argument("command", nargs=argparse.REMAINDER)

    p = sub.add_parser("selftest", help="check L1, /dev/kvm in L1, and an L2 boot")
    p.add_argument("--systemd", action="store_true")
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("-v", "--verbose", action="store_true")

    p = sub.add_parser("cache", help="list the cache entries")
    p.add_argument("--prune", action="store_true", help="remove all but the current entries")
    return ap


def parse_args(argv=None):
    """Parse ARGV (default: sys.argv[1:]); argparse exits with status 2 on a usage error."""
    args = build_parser().parse_args(argv)
    if args.cmd == "run" and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    return args
