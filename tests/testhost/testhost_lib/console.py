# SPDX-License-Identifier: Apache-2.0
"""L1's kernel console (ttyS0, a log file): watching it for a kernel that stopped making progress
(a long soft lockup, the heartbeat gone silent), its tail for error messages, keeping the log
after the job folder is gone, and asking L1's kernel for SysRq dumps through QEMU's monitor."""

import contextlib
import os
import re
import shutil
import socket
import sys
import tempfile
import time

from .common import info

# A soft lockup report says how long the CPU has been stuck; past this, L1 does not recover.
LOCKUP_RE = re.compile(rb"soft lockup - CPU#\d+ stuck for (\d+)s")
LOCKUP_FATAL_S = 60
HEARTBEAT = b"@@CHD-TESTHOST-HEARTBEAT@@"
HEARTBEAT_LOST_S = 60  # L1 prints one every 5 s


def console_tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace").replace("\r", "")
    except OSError:
        return "(no console output)"
    tail = [line for line in text.splitlines() if HEARTBEAT.decode() not in line][-lines:]
    return "\n".join("  | " + line for line in tail) or "  | (empty)"


def keep_console(args, console):
    """The console log outlives the job folder: return where it is now."""
    if args.console_log:
        return console
    fd, kept = tempfile.mkstemp(prefix="chd-testhost-console-", suffix=".log")
    os.close(fd)
    with contextlib.suppress(OSError):
        shutil.copy(console, kept)
    return kept


def sysrq_dump(monitor):
    """Ask L1's kernel to log its blocked tasks (w) and every CPU's backtrace (l) on the console
    before it is killed: that tells a hung command from a hung kernel."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(monitor)
            for key in ("w", "l"):
                sock.sendall(f"sendkey alt-sysrq-{key}\n".encode())
                time.sleep(1.5)
    except OSError as e:
        info(f"could not ask L1 for SysRq dumps: {e}")


def watch_console(path, pos, verbose, watch):
    """Read what L1's console (ttyS0) printed since POS: copy it to stderr with --verbose, and
    watch for a kernel that stopped making progress: a long soft lockup, or L1's heartbeat
    going silent.  Returns (new pos, lockup seen)."""
    now = time.monotonic()
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            data = f.read()
    except OSError:
        return pos, False
    lines = (watch["partial"] + data).split(b"\n")
    watch["partial"] = lines.pop()
    for line in lines:
        if HEARTBEAT in line:
            watch["heartbeat"] = now
            continue
        if verbose:
            sys.stderr.buffer.write(line.replace(b"\r", b"") + b"\n")
            sys.stderr.buffer.flush()
        m = LOCKUP_RE.search(line)
        if m and int(m.group(1)) >= LOCKUP_FATAL_S and not watch["lockup"]:
            watch["lockup"] = line.strip().decode(errors="replace")
    beat = watch.get("heartbeat")
    if beat is not None and now - beat > HEARTBEAT_LOST_S and not watch["lockup"]:
        watch["lockup"] = f"no heartbeat for {now - beat:.0f} s: L1 froze"
    return pos + len(data), watch["lockup"] is not None

