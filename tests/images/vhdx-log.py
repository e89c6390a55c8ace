#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Dirty VHDX images for tests/test-convert-vhdx-log.sh ([MS-VHDX] 2.3).

  vhdx-log.py FILE VARIANT

FILE is a clean VHDX that qemu-img made. The script writes a log
sequence into its log region and sets LogGuid in both headers (CRC-32C
recomputed) WITHOUT applying the journalled writes: the image before and
after a replay differ. Valid variants (replayed by `qemu-img check -r
all`, and by imgward in memory):

  payload   one entry: three data sectors into an allocated block (first
            sector, a middle one, the last) and a 64 KiB zero run
  bat       one entry: a BAT sector rewritten, an allocated block made
            ZERO (state 2)
  grow      one entry: an unallocated block made present at the end of
            the file, two of its sectors written (the last one grows the
            file), LastFileOffset a multiple of 1 MiB
  grow-odd  the same with one sector in the middle of the new block and an
            unaligned LastFileOffset (qemu rounds it up to 1 MiB)
  multi     three entries (the last wraps round the end of the log) that
            overwrite each other (data over zero, zero over data), plus an
            older sequence of two valid entries that must not be replayed
  nomatch   entries whose LogGuid is not the header's: nothing to replay
  torn      the only entry has a bad CRC: nothing to replay

Broken variants (refused): wrap-split (qemu would replay only the
entries after the log's end), torn-middle, gap, gap-after, hdr-target,
hdr-target-64k, log-target, past, desc-cap, data-seq, data-sig,
desc-misaligned, overflow, flushed, lastbig, count-mismatch, fill.
"""
import os
import struct
import sys
import uuid

KiB, MiB = 1024, 1 << 20
SECTOR = 4096


# one CRC-32C for both generators (vhdx.py guards its main)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vhdx import crc32c  # noqa: E402


def ms_guid(text):
    return uuid.UUID(text).bytes_le


BAT_GUID = ms_guid('2dc27766-f623-4200-9d64-115e9bfd4a08')
METADATA_GUID = ms_guid('8b7ca206-4790-4b9a-b8fe-575f050f886e')
PARAMS = ms_guid('caa16737-fa36-4d43-b3b6-33f0aa44e76b')
SIZE = ms_guid('2fa54224-cd1b-4876-b211-5dbed83bf4b8')


class Image:
    def __init__(self, f):
        self.f = f
        f.seek(0, 2)
        self.size = f.tell()
        hdrs = []
        for off in (64 * KiB, 128 * KiB):
            h = self.read(off, SECTOR)
            seq = struct.unpack_from('<Q', h, 8)[0]
            hdrs.append((seq, off, h))
        _, _, h = max(hdrs)
        self.log_length, self.log_offset = struct.unpack_from('<IQ', h, 68)
        rt = self.read(192 * KiB, 64 * KiB)
        for i in range(struct.unpack_from('<I', rt, 8)[0]):
            g, off, ln = struct.unpack_from('<16sQI', rt, 16 + 32 * i)
            if g == BAT_GUID:
                self.bat_offset, self.bat_length = off, ln
            elif g == METADATA_GUID:
                self.md_offset = off
        md = self.read(self.md_offset, 64 * KiB)
        for i in range(struct.unpack_from('<H', md, 10)[0]):
            g, off, ln = struct.unpack_from('<16sII', md, 32 + 32 * i)
            if g == PARAMS:
                self.block_size = struct.unpack(
                    '<I', self.read(self.md_offset + off, 4))[0]
            elif g == SIZE:
                self.disk_size = struct.unpack(
                    '<Q', self.read(self.md_offset + off, 8))[0]
        self.chunk_ratio = (1 << 23) * 512 // self.block_size
        self.blocks = -(-self.disk_size // self.block_size)

    def read(self, off, n):
        self.f.seek(off)
        return bytearray(self.f.read(n).ljust(n, b'\0'))

    def write(self, off, data):
        self.f.seek(off)
        self.f.write(data)

    def bat_index(self, block):
        return block + block // self.chunk_ratio

    def bat(self, block):
        return struct.unpack('<Q', self.read(
            self.bat_offset + 8 * self.bat_index(block), 8))[0]

    def block_with_state(self, state, nth=0):
        for b in range(self.blocks):
            if self.bat(b) & 7 in state:
                if nth == 0:
                    return b
                nth -= 1
        sys.exit('no block in state %s' % (state,))

    def bat_sector(self, block, new_entry):
        """(file offset, new bytes) of the BAT sector holding block's
        entry, with that entry replaced"""
        pos = self.bat_offset + 8 * self.bat_index(block)
        sec = pos // SECTOR * SECTOR
        buf = self.read(sec, SECTOR)
        struct.pack_into('<Q', buf, pos - sec, new_entry)
        return sec, bytes(buf)

    def set_log_guid(self, guid):
        for off in (64 * KiB, 128 * KiB):
            h = self.read(off, SECTOR)
            h[48:64] = guid
            h[4:8] = b'\0\0\0\0'
            struct.pack_into('<I', h, 4, crc32c(h))
            self.write(off, h)

    def put_log(self, pos, data):
        """data at log offset pos, round the circle"""
        for i in range(0, len(data), SECTOR):
            p = (pos + i) % self.log_length
            self.write(self.log_offset + p, data[i:i + SECTOR])


def pattern(tag):
    return bytes((tag * 37 + i * 7) & 0xff for i in range(SECTOR))


def entry(seq, guid, descs, flushed, last, tail, extra_sectors=0,
          fix=None):
    """descs: ('data', target, 4096 bytes) or ('zero', target, length)"""
    n = len(descs)
    dsec = (n + 2 + 127) // 128
    data = [d for d in descs if d[0] == 'data']
    total = dsec + len(data) + extra_sectors
    buf = bytearray(total * SECTOR)
    struct.pack_into('<4sIIIQII16sQQ', buf, 0, b'loge', 0, total * SECTOR,
                     tail, seq, n, 0, guid, flushed, last)
    j = 0
    for i, d in enumerate(descs):
        at = 64 + 32 * i
        if d[0] == 'zero':
            struct.pack_into('<4sIQQQ', buf, at, b'zero', 0, d[2], d[1], seq)
            continue
        b = d[2]
        struct.pack_into('<4s4s8sQQ', buf, at, b'desc', b[4092:], b[:8],
                         d[1], seq)
        s = (dsec + j) * SECTOR
        buf[s:s + SECTOR] = (b'data' + struct.pack('<I', seq >> 32) +
                             b[8:4092] + struct.pack('<I', seq & 0xffffffff))
        j += 1
    if fix:
        fix(buf, dsec)
    struct.pack_into('<I', buf, 4, crc32c(buf))
    return bytes(buf)


def make(path, variant):
    with open(path, 'r+b') as f:
        img = Image(f)
        guid = uuid.uuid4().bytes_le
        other = uuid.uuid4().bytes_le
        size = img.size
        present = img.block_with_state((6,))
        boff = img.bat(present) & ~(MiB - 1)
        L = img.log_length
        entries = []  # (log offset, bytes)

        def one(descs, seq=10, pos=0, **kw):
            kw.setdefault('flushed', size)
            kw.setdefault('last', size)
            kw.setdefault('tail', pos)
            entries.append((pos, entry(seq, kw.pop('guid', guid), descs,
                                       **kw)))

        if variant == 'payload':
            one([('data', boff, pattern(1)),
                 ('data', boff + 5 * SECTOR, pattern(2)),
                 ('zero', boff + MiB // 2, 64 * KiB),
                 ('data', boff + img.block_size - SECTOR, pattern(3))])
        elif variant == 'bat':
            one([('data',) + img.bat_sector(present, 2)])
        elif variant in ('grow', 'grow-odd'):
            new = img.block_with_state((0, 2), nth=1)
            at = (size + MiB - 1) // MiB * MiB
            end = at + img.block_size
            if variant == 'grow':
                descs = [('data', at, pattern(4)),
                         ('data', end - SECTOR, pattern(5))]
                last = end
            else:
                descs = [('data', at + 3 * SECTOR, pattern(6))]
                last = end - 1000
            descs.append(('data',) + img.bat_sector(new, at | 6))
            one(descs, last=last)
        elif variant in ('multi', 'wrap-split'):
            s1 = boff + 2 * SECTOR
            z = boff + 16 * SECTOR
            # 3 + 3 + 2 sectors: 'multi' wraps inside its last entry;
            # 'wrap-split' starts a later entry past the log's end, where
            # qemu's search (from log offset 0) starts the sequence
            p = L - 7 * SECTOR if variant == 'multi' else L - 4 * SECTOR
            e1 = entry(20, guid, [('data', s1, pattern(7)),
                                  ('zero', z, 8 * SECTOR),
                                  ('data', boff, pattern(8))],
                       size, size, p)
            e2 = entry(21, guid, [('data', s1, pattern(9)),
                                  ('data', z + SECTOR, pattern(10))],
                       size, size, p)
            e3 = entry(22, guid, [('zero', boff, SECTOR),
                                  ('data', z + 3 * SECTOR, pattern(11))],
                       size, size, p)
            for e in (e1, e2, e3):
                entries.append((p, e))
                p = (p + len(e)) % L
            # an older sequence, already applied: never replayed
            q = 64 * SECTOR
            for seq in (3, 4):
                e = entry(seq, guid, [('data', boff + SECTOR, pattern(12)),
                                      ('zero', boff + 8 * SECTOR, SECTOR)],
                          size, size, 64 * SECTOR)
                entries.append((q, e))
                q += len(e)
        elif variant == 'nomatch':
            one([('data', boff, pattern(1))], guid=other)
        elif variant in ('torn', 'torn-middle'):
            e = bytearray(entry(10, guid, [('data', boff, pattern(1))],
                                size, size, 0))
            e[200] ^= 0xff
            if variant == 'torn':
                entries.append((0, bytes(e)))
            else:
                a = entry(9, guid, [('data', boff, pattern(2))], size, size,
                          0)
                c = entry(11, guid, [('data', boff, pattern(3))], size,
                          size, 0)
                entries += [(0, a), (len(a), bytes(e)),
                            (len(a) + len(e), c)]
        elif variant in ('gap', 'gap-after'):
            seqs = (10, 12) if variant == 'gap' else (10, 11, 15)
            p = 0
            for s in seqs:
                e = entry(s, guid, [('data', boff, pattern(s))], size, size,
                          0)
                entries.append((p, e))
                p += len(e)
        elif variant == 'hdr-target':
            one([('data', 0, pattern(1))])
        elif variant == 'hdr-target-64k':
            one([('data', 64 * KiB, pattern(1))])
        elif variant == 'log-target':
            one([('data', img.log_offset + 8 * SECTOR, pattern(1))])
        elif variant == 'past':
            one([('data', (size + 8 * MiB) // SECTOR * SECTOR, pattern(1))])
        elif variant == 'desc-cap':
            one([('zero', boff, SECTOR)] * 16385)
        elif variant in ('data-seq', 'data-sig'):
            def fix(buf, dsec):
                s = dsec * SECTOR
                if variant == 'data-seq':
                    struct.pack_into('<I', buf, s + 4092, 11)
                else:
                    buf[s:s + 4] = b'DATA'
            one([('data', boff, pattern(1))], fix=fix)
        elif variant == 'desc-misaligned':
            one([('data', boff + 512, pattern(1))])
        elif variant == 'overflow':
            one([('zero', 2 * MiB, 2 ** 64 - SECTOR)])
        elif variant == 'flushed':
            one([('data', boff, pattern(1))], flushed=size + MiB)
        elif variant == 'lastbig':
            one([('data', boff, pattern(1))], last=1 << 60)
        elif variant == 'count-mismatch':
            one([('data', boff, pattern(1))], extra_sectors=1)
        elif variant == 'fill':
            one([('data', boff, pattern(1))],
                extra_sectors=L // SECTOR - 2)
        else:
            sys.exit('unknown variant ' + variant)
        for pos, e in entries:
            img.put_log(pos, e)
        img.set_log_guid(guid)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    make(sys.argv[1], sys.argv[2])
