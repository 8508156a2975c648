# SPDX-License-Identifier: Apache-2.0
"""initramfs (cpio "newc") writer: written here rather than with cpio(1) so that device nodes
can be made without root and the archive is byte-for-byte reproducible."""

import gzip
import os
import stat

from .common import run_tool


class Cpio:
    def __init__(self):
        self.entries = {}  # path -> (mode, data, rdev)

    def _parents(self, path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in self.entries:
                self.entries[p] = (stat.S_IFDIR | 0o755, b"", (0, 0))

    def dir(self, path, mode=0o755):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFDIR | mode, b"", (0, 0))

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFREG | mode, data, (0, 0))

    def copy(self, path, src, mode=None):
        with open(src, "rb") as f:
            data = f.read()
        self.file(path, data, mode if mode is not None else (os.stat(src).st_mode & 0o777))

    def symlink(self, path, target):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFLNK | 0o777, target.encode(), (0, 0))

    def chardev(self, path, major, minor, mode=0o600):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFCHR | mode, b"", (major, minor))

    def busybox(self, busybox_path):
        """busybox at /bin/busybox and a symlink per applet, so scripts run without --install."""
        self.copy("bin/busybox", busybox_path, 0o755)
        applets = run_tool([busybox_path, "--list"], "cannot list busybox applets").decode().split()
        for a in applets:
            if a != "busybox":
                self.symlink("bin/" + a, "busybox")
        for d in ("sbin", "usr/bin", "usr/sbin"):
            self.symlink(d, "/bin")

    @staticmethod
    def _record(blob, ino, mode, nlink, name, data, major=0, minor=0):
        name = name.encode() + b"\0"
        # ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, major, minor, len(name), 0)
        blob += b"070701" + b"".join(b"%08X" % v for v in fields) + name
        blob += b"\0" * (-len(blob) % 4) + data
        blob += b"\0" * (-len(blob) % 4)

    def write_gz(self, out):
        blob = bytearray()
        for ino, path in enumerate(sorted(self.entries), start=1):
            mode, data, (major, minor) = self.entries[path]
            nlink = 2 if stat.S_ISDIR(mode) else 1
            self._record(blob, ino, mode, nlink, path, data, major, minor)
        self._record(blob, 0, 0, 1, "TRAILER!!!", b"")
        blob += b"\0" * (-len(blob) % 512)
        tmp = out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(gzip.compress(bytes(blob), compresslevel=6, mtime=0))
        os.replace(tmp, out)
