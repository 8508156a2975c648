#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes well-formed seed inputs for fuzz-virtq, fuzz-blk-request and fuzz-virtio-pci.

Random bytes almost never make a descriptor chain that the virtqueue parser accepts whole, so a
fuzzer started from them spends its time on the first checks. These seeds are what a correct
driver writes: direct chains, indirect tables, EVENT_IDX, several chains, indices that wrap
around, and every virtio-blk request type. libFuzzer mutates them into the malformed variants.

    tests/fuzz/gen-seeds.py OUTDIR        # writes OUTDIR/<target>/*, target as in corpus/

The input layout is the one in fuzz-queue.h: header bytes, then the first 64 KiB of guest RAM
(descriptor table at 0). See tests/fuzz/README.md for how the seeds become the corpus.
"""
import os
import struct
import sys

WINDOW = 0x10000
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4
USED_BASE = 0x8000


class Queue:
    """A split virtqueue as a driver lays it out in the fuzz window."""

    def __init__(self, log2_size, avail_page=1, used_page=0, event_idx=False, start=0):
        self.size = 1 << log2_size
        self.ram = bytearray(WINDOW)
        self.hdr = bytes([log2_size, avail_page, used_page, 1 if event_idx else 0])
        self.avail = avail_page << 8
        self.used = USED_BASE + (used_page << 8)
        self.idx = start  # the driver's avail->idx
        self.next_free = 0  # next free slot of the descriptor table
        self.set_avail_idx()

    def put(self, addr, data):
        self.ram[addr:addr + len(data)] = data

    def desc(self, table, i, addr, length, flags, nxt=0):
        self.put(table + 16 * i, struct.pack('<QIHH', addr, length, flags, nxt))

    def set_avail_idx(self):
        self.put(self.avail + 2, struct.pack('<H', self.idx & 0xffff))

    def publish(self, head):
        self.put(self.avail + 4 + 2 * (self.idx % self.size), struct.pack('<H', head))
        self.idx += 1
        self.set_avail_idx()

    def chain(self, bufs):
        """bufs: (addr, len, writable); direct descriptors, linked in table order."""
        head = self.next_free
        for n, (addr, length, writable) in enumerate(bufs):
            last = n == len(bufs) - 1
            flags = (F_WRITE if writable else 0) | (0 if last else F_NEXT)
            self.desc(0, self.next_free, addr, length, flags, (self.next_free + 1) % self.size)
            self.next_free = (self.next_free + 1) % self.size
        self.publish(head)

    def indirect(self, table, bufs):
        """One descriptor pointing to an indirect table at table holding bufs."""
        for n, (addr, length, writable) in enumerate(bufs):
            last = n == len(bufs) - 1
            self.desc(table, n, addr, length, (F_WRITE if writable else 0) | (0 if last else F_NEXT), n + 1)
        head = self.next_free
        self.desc(0, head, table, 16 * len(bufs), F_INDIRECT)
        self.next_free = (self.next_free + 1) % self.size
        self.publish(head)

    def used_event(self, value):
        self.put(self.avail + 4 + 2 * self.size, struct.pack('<H', value & 0xffff))

    def no_interrupt(self):
        self.put(self.avail, struct.pack('<H', 1))

    def bytes(self, extra=b''):
        """The input: header, own header bytes, RAM up to its last non-zero byte."""
        ram = bytes(self.ram).rstrip(b'\0')
        return self.hdr + extra + ram


def virtq_seeds():
    """fuzz-virtq: 3 extra header bytes, start index (le16) and unpop mask."""
    seeds = {}

    def extra(q, unpop=0):
        return struct.pack('<HB', q.start, unpop)

    def queue(*args, start=0, **kw):
        q = Queue(*args, start=start, **kw)
        q.start = start
        return q

    q = queue(3)
    q.chain([(0x4000, 16, False), (0x4100, 512, False), (0x4400, 1, True)])
    seeds['direct-chain'] = q.bytes(extra(q))

    q = queue(3)
    q.indirect(0x200, [(0x4000, 16, False), (0x5000, 4096, True), (0x6000, 1, True)])
    seeds['indirect'] = q.bytes(extra(q))

    q = queue(4, event_idx=True)
    q.chain([(0x4000, 64, False)])
    q.chain([(0x4100, 64, True)])
    q.used_event(1)
    seeds['event-idx'] = q.bytes(extra(q))

    q = queue(4)
    q.chain([(0x4000, 16, False), (0x4200, 512, True)])
    q.indirect(0x200, [(0x4400, 16, False), (0x4600, 8, True)])
    q.chain([(0x4800, 32, True)])
    q.indirect(0x300, [(0x4a00, 100, False)])
    q.chain([(0x100000, 0x1000, False), (0xfff000, 0x1000, True)])  # beyond the window, in RAM
    q.no_interrupt()
    seeds['several-chains'] = q.bytes(extra(q))

    # Indices near 65535: avail->idx and the ring position both wrap while chains are popped.
    q = queue(2, event_idx=True, start=0xfffe)
    for n in range(4):
        q.chain([(0x4000 + 0x100 * n, 32, n % 2 == 1)])
    q.used_event(0xffff)
    seeds['wrap-around'] = q.bytes(extra(q))

    q = queue(3, start=5)
    q.chain([(0x4000, 16, False), (0x4100, 16, True)])
    q.chain([(0x4200, 16, True)])
    q.indirect(0x200, [(0x4300, 16, False), (0x4400, 16, True)])
    seeds['unpop'] = q.bytes(extra(q, 0x05))

    # 256 buffers of all 16 MiB of RAM: more than used.len can count (4 GiB), refused.
    q = queue(8, avail_page=0x10)
    q.indirect(0x2000, [(0, 16 << 20, n >= 128) for n in range(256)])
    seeds['four-gib-chain'] = q.bytes(extra(q))

    # A full ring of 256 one-descriptor chains.
    q = queue(8, avail_page=0x10)
    for n in range(256):
        q.chain([(0x6000 + 16 * n, 16, n % 3 == 0)])
    seeds['full-ring'] = q.bytes(extra(q))
    return seeds


def blk_seeds():
    """fuzz-blk-request: 2 extra header bytes, capacity in sectors and the feature bits."""
    seeds = {}
    # capacity = hdr[4] << (hdr[5] >> 4); bit 0 read-only, 1 discard, 2 write zeroes, 3 no limit
    features = 0x02 | 0x04

    def req(q, rtype, sector, data=b'', data_len=0, writable=False, split=False, status=0x7000):
        hdr = 0x200 + 0x20 * q.next_free
        q.put(hdr, struct.pack('<IIQ', rtype, 0, sector))
        bufs = [(hdr, 16, False)]
        if data:
            q.put(0x400, data)
            bufs.append((0x400, len(data), False))
        elif data_len:
            if split:
                bufs += [(0xa000, data_len // 2, writable), (0xb000, data_len - data_len // 2, writable)]
            else:
                bufs.append((0xa000, data_len, writable))
        bufs.append((status, 1, True))
        q.chain(bufs)

    def seg(sector, num, flags):
        return struct.pack('<QII', sector, num, flags)

    def one(name, rtype, capacity=64, feats=features, **kw):
        q = Queue(2)
        req(q, rtype, **kw)
        seeds[name] = q.bytes(bytes([capacity, feats]))

    one('in', 0, sector=8, data_len=4096, writable=True, split=True)
    one('out', 1, sector=0, data_len=1024)
    one('out-last-sector', 1, sector=63, data_len=512)
    one('flush', 4, sector=0)
    one('flush-readonly', 4, sector=0, feats=features | 1)
    one('get-id', 8, sector=0, data_len=20, writable=True)
    one('discard', 11, sector=4, data=seg(4, 8, 0))
    one('write-zeroes', 13, sector=0, data=seg(16, 16, 0))
    one('write-zeroes-unmap', 13, sector=0, data=seg(60, 4, 1), feats=features | 8)
    one('in-readonly', 0, sector=0, data_len=512, writable=True, feats=1)

    # Several requests in one queue, the header and the data sharing a descriptor for one.
    q = Queue(4)
    req(q, 0, sector=1, data_len=512, writable=True)
    req(q, 1, sector=2, data_len=512)
    req(q, 4, sector=0)
    q.put(0x600, struct.pack('<IIQ', 1, 0, 3) + b'\x5a' * 512)
    q.chain([(0x600, 16 + 512, False), (0x7100, 1, True)])
    seeds['mixed'] = q.bytes(bytes([64, features]))
    return seeds


def pci_seeds():
    """fuzz-virtio-pci: a script of 12-byte accesses (kind, le16 offset, length - 1, le64 value)."""
    BAR_READ, BAR_WRITE, CFG_READ, CFG_WRITE, RAM_WRITE = range(5)
    MSIX_CAP, PCI_CFG_CAP = 0x88, 0x74  # where virtio-rng's capabilities land (pci-modern.c)

    def op(kind, off, length, value=0):
        return struct.pack('<BHBQ', kind, off, length - 1, value)

    def ram(addr, data):
        data = data + bytes(-len(data) % 8)
        return b''.join(op(RAM_WRITE, (addr + n) // 8, 8, int.from_bytes(data[n:n + 8], 'little'))
                        for n in range(0, len(data), 8))

    def driver_init(features_lo):
        return b''.join([
            op(CFG_WRITE, 0x04, 2, 0x0006),  # memory decoding, bus master
            op(CFG_WRITE, MSIX_CAP + 2, 2, 0x8000),  # MSI-X enable
            op(BAR_WRITE, 0x14, 1, 0), op(BAR_WRITE, 0x14, 1, 1), op(BAR_WRITE, 0x14, 1, 3),
            op(BAR_WRITE, 0x00, 4, 1), op(BAR_READ, 0x04, 4),
            op(BAR_WRITE, 0x08, 4, 1), op(BAR_WRITE, 0x0c, 4, 1),  # VIRTIO_F_VERSION_1
            op(BAR_WRITE, 0x08, 4, 0), op(BAR_WRITE, 0x0c, 4, features_lo),
            op(BAR_WRITE, 0x14, 1, 0x0b), op(BAR_READ, 0x14, 1),  # FEATURES_OK
            op(BAR_WRITE, 0x16, 2, 0), op(BAR_WRITE, 0x18, 2, 16), op(BAR_WRITE, 0x1a, 2, 0),
            op(BAR_WRITE, 0x20, 8, 0), op(BAR_WRITE, 0x28, 8, 0x1000), op(BAR_WRITE, 0x30, 8, 0x2000),
            op(BAR_WRITE, 0x1c, 2, 1), op(BAR_WRITE, 0x10, 2, 1),
            op(BAR_WRITE, 0x4000, 4, 0xfee00000), op(BAR_WRITE, 0x4008, 4, 0x20), op(BAR_WRITE, 0x400c, 4, 0),
            op(BAR_WRITE, 0x4010, 8, 0xfee00000), op(BAR_WRITE, 0x4018, 4, 0x21),
            op(BAR_WRITE, 0x14, 1, 0x0f),  # DRIVER_OK
        ])

    seeds = {}
    chain = ram(0, struct.pack('<QIHH', 0x4000, 64, F_WRITE, 0)) + ram(0x1000, struct.pack('<HHH', 0, 1, 0))
    seeds['rng-request'] = driver_init(0) + chain + b''.join([
        op(BAR_WRITE, 0x3000, 2, 0), op(BAR_READ, 0x1000, 1), op(BAR_READ, 0x6000, 8),
        op(BAR_READ, 0x4000, 4), op(BAR_READ, 0x0000, 8), op(BAR_READ, 0x2000, 4),
    ])
    seeds['event-idx-reset'] = driver_init((1 << 28) | (1 << 29)) + chain + b''.join([
        op(BAR_WRITE, 0x3000, 2, 0), op(BAR_WRITE, 0x400c, 4, 1),  # mask vector 0
        op(CFG_WRITE, MSIX_CAP + 2, 2, 0xc000),  # mask the function
        op(BAR_WRITE, 0x14, 1, 0), op(BAR_READ, 0x14, 1),  # reset
    ])
    # The PCI_CFG window (4.1.4.9): select a BAR 0 field through config space, read and write it.
    seeds['pci-cfg-window'] = b''.join([
        op(CFG_WRITE, PCI_CFG_CAP + 4, 1, 0), op(CFG_WRITE, PCI_CFG_CAP + 8, 4, 0x14),
        op(CFG_WRITE, PCI_CFG_CAP + 12, 4, 1), op(CFG_WRITE, PCI_CFG_CAP + 16, 4, 1),
        op(CFG_READ, PCI_CFG_CAP + 16, 4), op(CFG_WRITE, PCI_CFG_CAP + 8, 4, 0x4000),
        op(CFG_WRITE, PCI_CFG_CAP + 12, 4, 4), op(CFG_READ, PCI_CFG_CAP + 16, 4),
        op(CFG_WRITE, 0x10, 4, 0xffffffff), op(CFG_READ, 0x10, 4), op(CFG_READ, 0x00, 4),
    ])
    return seeds


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: gen-seeds.py OUTDIR')
    for target, seeds in (('virtq', virtq_seeds()), ('blk-request', blk_seeds()), ('virtio-pci', pci_seeds())):
        folder = os.path.join(sys.argv[1], target)
        os.makedirs(folder, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(folder, name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
