# SPDX-License-Identifier: Apache-2.0
"""What every testhost module shares: the program name, the exit statuses of `run` besides the
command's own, the Failure exception that main() turns into exit status 125, the one-line message
printer, and running a helper program with an error that names the step."""

import shlex
import subprocess
import sys

PROG = "testhost"

DEFAULT_TIMEOUT = 600

# Exit statuses of `run` besides the command's own, after GNU timeout(1).
EXIT_TIMEOUT = 124
EXIT_INFRA = 125


class Failure(Exception):
    """An error worth one clear line to the user; main() prints it and exits EXIT_INFRA."""


def info(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def run_tool(cmd, what, cwd=None, input_bytes=None):
    """Run a helper program; on failure raise Failure naming the step and the tool's own words."""
    try:
        p = subprocess.run(cmd, cwd=cwd, input=input_bytes, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise Failure(f"{what}: '{cmd[0]}' is not installed") from None
    if p.returncode != 0:
        err = (p.stderr or p.stdout).decode(errors="replace").strip()
        raise Failure(f"{what}: '{shlex.join(cmd)}' failed (status {p.returncode}): {err}")
    return p.stdout
