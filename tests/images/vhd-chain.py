#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Build VHD differencing chains and the raw disk they should read as.

  vhd-chain.py DIR SCENARIO

writes DIR/SCENARIO.files (the chain's file names, leaf first, one a
line), the files themselves, and for valid chains DIR/SCENARIO.raw: the
expected guest disk. qemu-img cannot make differencing VHDs (`create -f
vpc -b` says "Backing file not supported"), so everything is written here
from the spec (Microsoft "Virtual Hard Disk Image Format Specification"
1.0; big-endian fields; checksums are the one's complement of the byte
sum with the field counted as zero).

The expected disk is computed without any lookup logic: start from the
base's contents (a fixed disk's data; a dynamic disk's allocated blocks
whole, bitmap or not, as qemu reads one), then for each layer up to the
leaf cut or zero-extend the disk to the layer's size and apply the
sectors whose bitmap bit the layer sets.
"""
import os
import random
import struct
import sys
import uuid

SECTOR = 512
FOOTER = 512
DYN = 1024


def checksum(buf, off):
    return (~(sum(buf[:off]) + sum(buf[off + 4:]))) & 0xffffffff


def bitmap_size(block):
    # one bit per sector, padded to a sector (spec; qemu's rounding)
    return ((block // 4096) + 511) & ~511


class Layer:
    """One VHD file: kind 'fixed', 'dynamic' or 'diff'."""

    def __init__(self, kind, size, block=2 << 20, creator=b'tap\0'):
        self.kind = kind
        self.size = size          # the virtual size (current_size)
        self.block = block
        self.creator = creator
        self.uuid = uuid.uuid4().bytes
        self.parent_uuid = bytes(16)
        self.sectors = {}         # sector -> 512 bytes (bitmap bit set)
        self.hidden = {}          # sector -> bytes stored, bit clear
        self.alloc_empty = set()  # blocks allocated with no sector set
        self.bat_patch = {}       # index -> raw BAT value (corruptions)

    def write(self, sector, data):
        assert len(data) == SECTOR and sector * SECTOR < self.size
        self.sectors[sector] = data

    def write_hidden(self, sector, data):
        """Bytes in an allocated block whose bitmap bit stays clear: a
        differencing layer must not serve them."""
        self.hidden[sector] = data

    def footer(self, data_offset):
        f = bytearray(FOOTER)
        f[0:8] = b'conectix'
        dtype = {'fixed': 2, 'dynamic': 3, 'diff': 4}[self.kind]
        # 65535/16/255 geometry: qemu and ours then take current_size,
        # whatever the creator
        struct.pack_into('>IIQI4sHH4sQQHBBI', f, 8, 2, 0x00010000,
                         data_offset, 0, self.creator, 1, 0, b'Wi2k',
                         self.size, self.size, 65535, 16, 255, dtype)
        f[68:84] = self.uuid
        struct.pack_into('>I', f, 64, checksum(f, 64))
        return f

    def save(self, path):
        if self.kind == 'fixed':
            with open(path, 'wb') as fh:
                fh.truncate(self.size)
                for s, d in self.sectors.items():
                    fh.seek(s * SECTOR)
                    fh.write(d)
                fh.seek(self.size)
                fh.write(self.footer(0xffffffffffffffff))
            return
        spb = self.block // SECTOR
        entries = (self.size + self.block - 1) // self.block
        bat_off = FOOTER + DYN
        bat_len = (entries * 4 + 511) & ~511
        bms = bitmap_size(self.block)
        blocks = sorted({s // spb for s in list(self.sectors) +
                         list(self.hidden)} | self.alloc_empty)
        pos = bat_off + bat_len
        bat = bytearray(b'\xff' * (entries * 4))
        body = bytearray()
        for b in blocks:
            struct.pack_into('>I', bat, 4 * b, pos // SECTOR)
            bm = bytearray(bms)
            data = bytearray(self.block)
            for s in range(b * spb, (b + 1) * spb):
                i = s - b * spb
                if s in self.sectors:
                    if bms:  # (blocks under 4 KiB: no bitmap)
                        bm[i // 8] |= 0x80 >> (i % 8)   # MSB first
                    data[i * SECTOR:(i + 1) * SECTOR] = self.sectors[s]
                elif s in self.hidden:
                    data[i * SECTOR:(i + 1) * SECTOR] = self.hidden[s]
            body += bm + data
            pos += bms + self.block
        for i, v in self.bat_patch.items():
            struct.pack_into('>I', bat, 4 * i, v)
        dyn = bytearray(DYN)
        dyn[0:8] = b'cxsparse'
        struct.pack_into('>QQIII', dyn, 8, 0xffffffffffffffff, bat_off,
                         0x00010000, entries, self.block)
        dyn[40:56] = self.parent_uuid
        struct.pack_into('>I', dyn, 36, checksum(dyn, 36))
        foot = self.footer(FOOTER)
        with open(path, 'wb') as fh:
            fh.write(foot)
            fh.write(dyn)
            fh.write(bat)
            fh.write(bytes(bat_len - entries * 4))
            fh.write(body)
            fh.write(foot)

    def contents(self):
        """What this layer alone holds: (size, {sector: bytes})."""
        if self.kind == 'diff':
            return dict(self.sectors)
        if self.kind == 'fixed':
            return dict(self.sectors)
        # a dynamic base: every sector of an allocated block, bitmap or
        # not (hidden bytes included), as qemu reads a dynamic disk
        out = dict(self.hidden)
        out.update(self.sectors)
        return out


def expected(chain):
    """chain: leaf first. The guest disk, built base up."""
    disk = bytearray(chain[-1].size)
    for layer in reversed(chain):
        if len(disk) > layer.size:
            del disk[layer.size:]
        else:
            disk += bytes(layer.size - len(disk))
        for s, d in layer.contents().items():
            disk[s * SECTOR:(s + 1) * SECTOR] = d
    return bytes(disk)


def link(chain):
    for child, parent in zip(chain, chain[1:]):
        child.parent_uuid = parent.uuid


rng = random.Random(int(os.environ.get('VHD_CHAIN_SEED', '1')))


def rnd():
    return rng.randbytes(SECTOR)


def pattern(n):
    return bytes([n & 0xff]) * SECTOR


def scatter(layer, count, lo=0, hi=None, fill=None):
    hi = hi if hi is not None else layer.size // SECTOR
    for _ in range(count):
        s = rng.randrange(lo, hi)
        run = rng.randrange(1, 40)
        for k in range(s, min(s + run, hi)):
            layer.write(k, fill(k) if fill else rnd())


MiB = 1 << 20


def sc_dyn1():
    """dynamic base + 1 child; the child also stores bytes under clear
    bits and allocates a block with no bit set"""
    base = Layer('dynamic', 16 * MiB)
    scatter(base, 60)
    child = Layer('diff', 16 * MiB)
    scatter(child, 60)
    for s in range(4096 * 3 + 10, 4096 * 3 + 30):
        if s not in child.sectors:
            child.write_hidden(s, pattern(0xee))
    child.alloc_empty.add(5)
    return [child, base]


def sc_fixed2():
    """fixed base + 2 children, different block sizes"""
    base = Layer('fixed', 12 * MiB)
    scatter(base, 40, fill=lambda k: pattern(k))
    mid = Layer('diff', 12 * MiB, block=512 * 1024)
    scatter(mid, 40)
    leaf = Layer('diff', 12 * MiB, block=4096)
    scatter(leaf, 80)
    return [leaf, mid, base]


def sc_partial():
    """a child overriding part of a parent block: every other sector,
    single sectors, bitmap bytes 0x0f/0xf0"""
    base = Layer('dynamic', 8 * MiB)
    for s in range(0, 8 * MiB // SECTOR, 3):
        base.write(s, rnd())
    child = Layer('diff', 8 * MiB)
    for s in range(0, 4096, 2):
        child.write(s, pattern(0x11))
    for s in range(4096 + 4, 4096 + 8):
        child.write(s, pattern(0x22))
    for s in range(4096 + 8 + 8, 4096 + 8 + 12):
        child.write(s, pattern(0x33))
    child.write(4096 * 2 + 4095, pattern(0x44))
    child.write(4096 * 3, pattern(0x55))
    for s in range(4096 * 3 + 1, 4096 * 3 + 300):
        child.write_hidden(s, pattern(0xee))
    return [child, base]


def sc_smaller_parent():
    """parent smaller than child (zeros past its end, even where the base
    under it is larger), and a larger parent cut by the leaf"""
    base = Layer('dynamic', 20 * MiB)
    scatter(base, 80)
    mid = Layer('diff', 6 * MiB + 3 * SECTOR)
    scatter(mid, 30)
    leaf = Layer('diff', 10 * MiB)
    scatter(leaf, 30)
    return [leaf, mid, base]


def sc_big():
    """64 MiB, 2 MiB blocks, three layers, extents across 4 MiB chunks"""
    base = Layer('dynamic', 64 * MiB)
    scatter(base, 400)
    mid = Layer('diff', 64 * MiB)
    scatter(mid, 300)
    leaf = Layer('diff', 64 * MiB)
    scatter(leaf, 300)
    # whole blocks and runs across block boundaries
    for s in range(4096 * 5 - 100, 4096 * 7 + 100):
        leaf.write(s, pattern(s))
    return [leaf, mid, base]


def sc_layers(n):
    chain = []
    base = Layer('dynamic', 1 * MiB, block=64 * 1024)
    scatter(base, 5)
    for i in range(n - 1):
        layer = Layer('diff', 1 * MiB, block=64 * 1024)
        scatter(layer, 2)
        chain.append(layer)
    return chain + [base]


def sc_wrong_uuid():
    chain = sc_dyn1()
    link(chain)
    chain[0].parent_uuid = uuid.uuid4().bytes
    return chain


def sc_diff_base():
    base = Layer('dynamic', 4 * MiB)
    mid = Layer('diff', 4 * MiB)
    leaf = Layer('diff', 4 * MiB)
    scatter(leaf, 5)
    link([leaf, mid, base])
    return [leaf, mid]       # the base left out


def sc_dynamic_leaf():
    base = Layer('dynamic', 4 * MiB)
    leaf = Layer('dynamic', 4 * MiB)
    scatter(leaf, 5)
    link([leaf, base])
    return [leaf, base]


def sc_fixed_middle():
    base = Layer('dynamic', 4 * MiB)
    mid = Layer('fixed', 4 * MiB)
    leaf = Layer('diff', 4 * MiB)
    link([leaf, mid, base])
    return [leaf, mid, base]


def sc_bitmap_past_eof():
    chain = sc_dyn1()
    # entry 1 points far past the end of the file
    chain[0].bat_patch[1] = 0x00100000
    return chain


def sc_bitmap_in_bat():
    chain = sc_dyn1()
    # a block on top of the dynamic header and BAT
    chain[0].bat_patch[1] = 2
    return chain


def sc_small_blocks():
    base = Layer('dynamic', 1 * MiB)
    leaf = Layer('diff', 1 * MiB, block=1024)
    scatter(leaf, 3)
    return [leaf, base]


def sc_past_scan():
    """a bad BAT entry past the sniffer's 16 Mi-entry scan: only the
    mapper sees it (64 GiB of 4 KiB blocks; the files stay small)"""
    entries = (16 << 20) + 64
    base = Layer('dynamic', entries * 4096)
    leaf = Layer('diff', entries * 4096, block=4096)
    leaf.write(3, rnd())
    leaf.bat_patch[(16 << 20) + 10] = 0x7fffff00
    return [leaf, base]


def sc_reversed():
    chain = sc_dyn1()
    link(chain)
    return list(reversed(chain))


SCENARIOS = {
    'dyn1': (sc_dyn1, True),
    'fixed2': (sc_fixed2, True),
    'partial': (sc_partial, True),
    'smaller-parent': (sc_smaller_parent, True),
    'big': (sc_big, True),
    'layers32': (lambda: sc_layers(32), True),
    'layers40': (lambda: sc_layers(40), False),
    'wrong-uuid': (sc_wrong_uuid, False),
    'diff-base': (sc_diff_base, False),
    'dynamic-leaf': (sc_dynamic_leaf, False),
    'fixed-middle': (sc_fixed_middle, False),
    'bitmap-past-eof': (sc_bitmap_past_eof, False),
    'bitmap-in-bat': (sc_bitmap_in_bat, False),
    'small-blocks': (sc_small_blocks, False),
    'reversed': (sc_reversed, False),
    'past-scan': (sc_past_scan, False),
}


def main():
    d, name = sys.argv[1], sys.argv[2]
    make, valid = SCENARIOS[name]
    chain = make()
    if valid or name in ('layers40', 'bitmap-past-eof', 'bitmap-in-bat',
                         'small-blocks', 'past-scan'):
        link(chain)
    names = []
    for i, layer in enumerate(chain):
        p = os.path.join(d, '%s-%d.vhd' % (name, i))
        layer.save(p)
        names.append(p)
    with open(os.path.join(d, name + '.files'), 'w') as fh:
        fh.write('\n'.join(names) + '\n')
    if valid:
        with open(os.path.join(d, name + '.raw'), 'wb') as fh:
            fh.write(expected(chain))


main()
