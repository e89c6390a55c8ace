#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the VHD/VHDX/VDI mapper tests (tests/test-convert-vhd.sh).

  vxmap.py base FILE SIZE [SEED]
        a raw disk of SIZE bytes: random, zero and patterned extents with
        holes between them (deterministic for a seed)
  vxmap.py vhd-small-blocks FILE ENTRIES BAD_INDEX
        a dynamic VHD with 512-byte blocks (no sector bitmap, qemu's
        rounding) and ENTRIES BAT entries, all unallocated but the first
        (a block of data) and BAD_INDEX (a sector past the end of the
        file; none if BAD_INDEX >= ENTRIES): with ENTRIES above the sniffer's 16 Mi scan cap the bad
        entry is seen by the mapper only
"""
import random
import struct
import sys
import uuid

sys.path.insert(0, __import__('os').path.dirname(__file__))
import vhd  # noqa: E402  (tests/images/vhd.py: footer and checksums)


def cmd_base(path, size, seed='1'):
    size = int(size, 0)
    rnd = random.Random(int(seed, 0))
    with open(path, 'wb') as f:
        f.truncate(size)
        off, i = 0, 0
        while off < size:
            ln = min(size - off, rnd.choice([4096, 65536, 1536, 1 << 20,
                                             3 << 20, 700000]))
            kind = i % 3
            if kind == 0:
                f.seek(off)
                f.write(rnd.randbytes(ln))
            elif kind == 2:
                pat = bytes([(off >> 9) & 0xff, 0xa5, 0x5a, i & 0xff]) * 128
                f.seek(off)
                f.write((pat * (ln // len(pat) + 1))[:ln])
            # kind 1: zeros written as a hole
            off += ln + rnd.choice([0, 512, 1 << 20, 5 << 20])
            i += 1


def cmd_vhd_small_blocks(path, entries, bad_index):
    entries, bad_index = int(entries, 0), int(bad_index, 0)
    block = 512
    bat_off = 512 + 1024
    bat_len = (entries * 4 + 511) // 512 * 512
    data_off = bat_off + bat_len
    size = entries * block
    footer = vhd.new_footer(size, b'qem2', chs=(65535, 16, 255),
                            current=size, dtype=3, data_offset=512)
    dyn = bytearray(1024)
    dyn[0:8] = b'cxsparse'
    struct.pack_into('>QQIII', dyn, 8, 0xffffffffffffffff, bat_off,
                     0x00010000, entries, block)
    dyn[40:56] = uuid.uuid4().bytes
    vhd.fix_dyn(dyn)
    with open(path, 'wb') as f:
        f.write(footer)
        f.write(dyn)
        chunk = b'\xff' * (1 << 20)
        left = bat_len
        while left:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
        f.seek(bat_off)
        f.write(struct.pack('>I', data_off // 512))
        if bad_index < entries:
            f.seek(bat_off + 4 * bad_index)
            f.write(struct.pack('>I', 0x7fffff00))
        f.seek(data_off)
        f.write(bytes(range(256)) * 2)
        f.write(footer)


CMDS = {'base': cmd_base, 'vhd-small-blocks': cmd_vhd_small_blocks}

if __name__ == '__main__':
    if len(sys.argv) < 3 or sys.argv[1] not in CMDS:
        sys.exit(__doc__)
    CMDS[sys.argv[1]](*sys.argv[2:])
