#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a VMM whose --console or --serial is a pty, as a user with a terminal program would.

    pty-drive.py OPTION READY INPUT DONE LOG PTYLOG TIMEOUT -- VMM ARGS...

Starts the VMM (stdout and stderr into LOG), finds the pty path it announces on stderr
("vmm-worker: OPTION pty: /dev/pts/N"), opens it raw, and copies what arrives to PTYLOG. Once READY
has arrived it writes INPUT plus a newline; it keeps reading until DONE has arrived and the VMM
has exited, or TIMEOUT seconds passed (then the VMM is killed). Exit status: the VMM's, or 124.
"""
import os
import re
import select
import subprocess
import sys
import threading
import time
import tty


def main():
    option, ready, text, done, log_path, pty_log, timeout = sys.argv[1:8]
    assert sys.argv[8] == "--"
    cmd = sys.argv[9:]
    deadline = time.monotonic() + float(timeout)
    log = open(log_path, "wb")
    vmm = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.PIPE,
                           start_new_session=True)
    found = threading.Event()
    path = []

    def copy_stderr():
        for line in vmm.stderr:
            log.write(line)
            log.flush()
            m = re.match(rb"vmm-worker: " + re.escape(option.encode()) + rb" pty: (\S+)", line)
            if m and not found.is_set():
                path.append(m.group(1).decode())
                found.set()
        found.set()

    threading.Thread(target=copy_stderr, daemon=True).start()
    found.wait(max(0.0, deadline - time.monotonic()))
    seen = b""
    with open(pty_log, "wb") as out:
        if path:
            fd = os.open(path[0], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            tty.setraw(fd)
            sent = False
            while time.monotonic() < deadline:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        data = os.read(fd, 4096)
                    except OSError:
                        data = b""
                    out.write(data)
                    out.flush()
                    seen += data
                if not sent and ready.encode() in seen:
                    os.write(fd, text.encode() + b"\n")
                    sent = True
                if done.encode() in seen and vmm.poll() is not None:
                    break
                if vmm.poll() is not None and not r:
                    break
            os.close(fd)
    try:
        status = vmm.wait(max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(vmm.pid, 9)
        vmm.wait()
        status = 124
    sys.exit(status)


if __name__ == "__main__":
    main()
