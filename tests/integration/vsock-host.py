#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The host side of tests/integration/virtio-vsock.sh, next to a running vmm-worker --vsock.

    vsock-host.py SOCKET LISTEN_PORT GUEST_PORT MIB TIMEOUT

- Listens on SOCKET_<LISTEN_PORT> (what a guest connecting to host port LISTEN_PORT reaches),
  answers the first connection with "CHD-HOST-REPLY:" + what it read until EOF.
- Connects to SOCKET, "CONNECT <GUEST_PORT>\\n" until the guest's listener answers "OK <port>",
  then sends MIB MiB of pseudo-random bytes while reading the echo, and compares.
Prints key=value lines: listener=, reply_bytes=, ok_line=, sent=, echoed=, match=, mib_per_s=.
"""
import hashlib
import os
import socket
import sys
import threading
import time


def serve(path, deadline, results):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    srv.settimeout(max(1.0, deadline - time.monotonic()))
    try:
        c, _ = srv.accept()
    except OSError as e:
        results["listener"] = "no-connection:" + type(e).__name__
        return
    c.settimeout(max(1.0, deadline - time.monotonic()))
    data = b""
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        c.sendall(b"CHD-HOST-REPLY:" + data)
        c.shutdown(socket.SHUT_WR)
        results["listener"] = "got:" + data.decode(errors="replace")
    except OSError as e:
        results["listener"] = "error:" + type(e).__name__
    c.close()


def connect_guest(path, port, deadline):
    while time.monotonic() < deadline:
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            try:
                s.connect(path)
                s.sendall(b"CONNECT %d\n" % port)
                line = b""
                while not line.endswith(b"\n"):
                    b = s.recv(1)
                    if not b:
                        break
                    line += b
                if line.startswith(b"OK "):
                    return s, line.decode().strip()
            except OSError:
                pass
            s.close()
        time.sleep(0.5)
    return None, ""


def main():
    path, listen_port, guest_port, mib, timeout = sys.argv[1:6]
    deadline = time.monotonic() + float(timeout)
    results = {}
    t = threading.Thread(target=serve, args=(f"{path}_{listen_port}", deadline, results), daemon=True)
    t.start()

    s, ok = connect_guest(path, int(guest_port), deadline)
    results["ok_line"] = ok.replace(" ", "_") or "none"
    if s:
        payload = hashlib.shake_256(b"chd-vsock").digest(int(mib) << 20)
        echoed = bytearray()
        s.settimeout(max(1.0, deadline - time.monotonic()))

        def reader():
            try:
                while True:
                    b = s.recv(262144)
                    if not b:
                        break
                    echoed.extend(b)
            except OSError:
                pass

        r = threading.Thread(target=reader, daemon=True)
        t0 = time.monotonic()
        r.start()
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            results["send_error"] = type(e).__name__
        r.join(max(1.0, deadline - time.monotonic()))
        secs = time.monotonic() - t0
        results["sent"] = len(payload)
        results["echoed"] = len(echoed)
        results["match"] = "yes" if bytes(echoed) == payload else "no"
        results["mib_per_s"] = "%.2f" % (len(echoed) / 1048576 / secs if secs > 0 else 0)
        s.close()
    t.join(max(0.0, deadline - time.monotonic()))
    results.setdefault("listener", "none")
    for k, v in results.items():
        print(f"{k}={v}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
