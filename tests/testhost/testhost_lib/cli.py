# SPDX-License-Identifier: Apache-2.0
"""main(): parse the command line, run the subcommand, and turn a Failure into one line on
stderr and exit status 125.  Also the two subcommands that span both cache entries: `fetch` and
`cache [--prune]`."""

import os

from .cache import cache_dir, list_or_prune
from .common import EXIT_INFRA, Failure, info
from .initramfs import cmd_guest_initramfs
from .kit import cmd_kit, kit_entry
from .l1 import l1_entry
from .options import parse_args
from .run import cmd_run
from .selftest import cmd_selftest


def cmd_fetch(args):
    print(l1_entry())
    print(kit_entry())
    return 0


def cmd_cache(args):
    cache = cache_dir()
    keep = None
    if args.prune:
        keep = {os.path.basename(l1_entry()), os.path.basename(kit_entry())}
    list_or_prune(cache, keep)
    return 0


def main(argv=None, entry=None):
    """Run testhost with ARGV; ENTRY is the absolute path of the testhost script (selftest runs
    it again inside L1).  Returns the exit status."""
    args = parse_args(argv)
    handlers = {"fetch": cmd_fetch, "kit": cmd_kit, "guest-initramfs": cmd_guest_initramfs,
                "run": cmd_run, "selftest": lambda a: cmd_selftest(a, entry), "cache": cmd_cache}
    try:
        return handlers[args.cmd](args)
    except Failure as e:
        info(f"error: {e}")
        return EXIT_INFRA
