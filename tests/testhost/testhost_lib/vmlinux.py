# SPDX-License-Identifier: Apache-2.0
"""The PVH vmlinux inside a bzImage: taking the compressed payload out of the setup header's
offsets, decompressing it (LZ4 legacy frames or XZ), and finding the Xen PVH entry note."""

import lzma
import os
import struct

from .common import Failure, run_tool

LZ4_LEGACY_MAGIC = b"\x02\x21\x4c\x18"
XZ_MAGIC = b"\xfd7zXZ\x00"
XEN_ELFNOTE_PHYS32_ENTRY = 18


def extract_pvh_vmlinux(bzimage, out):
    """Decompress the payload of BZIMAGE into OUT and check it is an ELF with a PVH entry.

    The setup header gives the payload's offset and length (boot protocol >= 2.08); the payload
    is the compressed vmlinux followed by its 4-byte uncompressed size, which we use as a check.
    Debian's cloud kernel uses LZ4 ("legacy" frames, bytes 02 21 4c 18), the generic one XZ."""
    with open(bzimage, "rb") as f:
        img = f.read()
    if img[0x202:0x206] != b"HdrS":
        raise Failure(f"{bzimage} is not a bzImage (no HdrS setup header)")
    setup_sects = img[0x1f1] or 4
    payload_offset, payload_length = struct.unpack_from("<II", img, 0x248)
    start = (setup_sects + 1) * 512 + payload_offset
    payload = img[start:start + payload_length]
    expect_size = struct.unpack("<I", payload[-4:])[0]
    if payload[:4] == LZ4_LEGACY_MAGIC:
        run_tool(["lz4", "-d", "-q", "-f", "-", out],
                 f"cannot decompress the payload of {bzimage} (apt-get install lz4)",
                 input_bytes=payload[:-4])
    elif payload[:6] == XZ_MAGIC:
        try:
            data = lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(payload[:-4])
        except lzma.LZMAError as e:
            raise Failure(f"cannot decompress the XZ payload of {bzimage}: {e}") from None
        with open(out, "wb") as f:
            f.write(data)
    else:
        raise Failure(f"payload of {bzimage} at {start:#x} starts with {payload[:6].hex()}: "
                      f"neither LZ4 ({LZ4_LEGACY_MAGIC.hex()}) nor XZ; cannot extract vmlinux")
    size = os.path.getsize(out)
    if size != expect_size:
        raise Failure(f"decompressed vmlinux is {size} bytes, the bzImage says {expect_size}")
    entry = pvh_entry(out)
    if entry is None:
        raise Failure(f"{out} has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)")
    return entry


def pvh_entry(path):
    """The 32-bit PVH entry address from the ELF's Xen notes, or None."""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise Failure(f"{path} is not a 64-bit ELF file")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf,
                                                                 phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz]
            desc_at = pos + 12 + ((namesz + 3) & ~3)
            if name.rstrip(b"\0") == b"Xen" and ntype == XEN_ELFNOTE_PHYS32_ENTRY:
                width = "<I" if descsz == 4 else "<Q"
                return struct.unpack_from(width, elf, desc_at)[0]
            pos = desc_at + ((descsz + 3) & ~3)
    return None
