#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Patch VHDX test images ([MS-VHDX]; little-endian, CRC-32C).

Start from an image qemu-img made, then:

  vhdx.py header FILE which=1|2|both corrupt
        flip a byte covered by the header CRC (CRC left stale)
  vhdx.py header FILE which=1|2|both FIELD=VALUE...
        set log_guid (hex or "random"), version, log_version, log_offset,
        log_length, sequence; the CRC is recomputed
  vhdx.py region FILE which=1|2|both corrupt
  vhdx.py region FILE which=1|2|both count=N | add-required
        set the entry count / append an unknown region marked required;
        CRC recomputed
  vhdx.py meta FILE ITEM FIELD=VALUE...
        ITEM: params, size, page83, logical, physical; FIELD: offset,
        length, flags (the table entry) or value (the item's first field)
  vhdx.py parent FILE
        set HasParent and add a parent locator item naming host files
  vhdx.py bat FILE INDEX VALUE      set one BAT entry
  vhdx.py batch DIR < LINES
        one process for many variants: each line "OUT BASE CMD ARGS..."
        copies DIR/BASE to DIR/OUT (unless they are the same) and runs
        CMD on it
"""
import os
import shlex
import struct
import sys
import uuid

KiB = 1024
HEADERS = {'1': [64 * KiB], '2': [128 * KiB], 'both': [64 * KiB, 128 * KiB]}
REGIONS = {'1': [192 * KiB], '2': [256 * KiB],
           'both': [192 * KiB, 256 * KiB]}


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82f63b78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC_TABLE = _crc_table()


def crc32c(data):
    c = 0xffffffff
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff


def fix_crc(buf):
    buf[4:8] = b'\0\0\0\0'
    buf[4:8] = struct.pack('<I', crc32c(buf))


def ms_guid(text):
    return uuid.UUID(text).bytes_le


ITEMS = {
    'params': ms_guid('caa16737-fa36-4d43-b3b6-33f0aa44e76b'),
    'size': ms_guid('2fa54224-cd1b-4876-b211-5dbed83bf4b8'),
    'page83': ms_guid('beca12ab-b2e6-4523-93ef-c309e000c746'),
    'logical': ms_guid('8141bf1d-a96f-4709-ba47-f233a8faab5f'),
    'physical': ms_guid('cda348c7-445d-4471-9cc9-e9885251c556'),
    'parent': ms_guid('a8d35f2d-b30b-454d-abf7-d3d84834ab0c'),
}
BAT_GUID = ms_guid('2dc27766-f623-4200-9d64-115e9bfd4a08')
METADATA_GUID = ms_guid('8b7ca206-4790-4b9a-b8fe-575f050f886e')
PARENT_VHDX = ms_guid('b04aefb7-d19e-4a81-b789-25b8e9445913')


def parse_kv(args):
    out = {}
    for a in args:
        k, _, v = a.partition('=')
        out[k] = v
    return out


def num(v):
    return int(v, 0)


def rw_block(fh, off, size, fn):
    fh.seek(off)
    buf = bytearray(fh.read(size))
    fn(buf)
    fh.seek(off)
    fh.write(buf)


def cmd_header(path, *args):
    kv = parse_kv(args)
    which = kv.pop('which', 'both')
    corrupt = 'corrupt' in kv
    kv.pop('corrupt', None)
    fields = {'sequence': (8, '<Q'), 'log_version': (64, '<H'),
              'version': (66, '<H'), 'log_length': (68, '<I'),
              'log_offset': (72, '<Q')}

    def patch(h):
        if corrupt:
            h[200] ^= 0x5a
            return
        for k, v in kv.items():
            if k == 'log_guid':
                h[48:64] = (uuid.uuid4().bytes if v == 'random'
                            else bytes.fromhex(v))
            else:
                pos, fmt = fields[k]
                struct.pack_into(fmt, h, pos, num(v))
        fix_crc(h)

    with open(path, 'r+b') as fh:
        for off in HEADERS[which]:
            rw_block(fh, off, 4 * KiB, patch)


def cmd_region(path, *args):
    kv = parse_kv(args)
    which = kv.pop('which', 'both')
    guid = uuid.uuid4().bytes  # the same in both copies

    def patch(t):
        if 'corrupt' in kv:
            t[100] ^= 0x5a
            return
        if 'count' in kv:
            struct.pack_into('<I', t, 8, num(kv['count']))
        if 'add-required' in kv:
            n = struct.unpack_from('<I', t, 8)[0]
            struct.pack_into("<16sQII", t, 16 + 32 * n, guid,
                             64 << 20, 1 << 20, 1)
            struct.pack_into('<I', t, 8, n + 1)
        fix_crc(t)

    with open(path, 'r+b') as fh:
        for off in REGIONS[which]:
            rw_block(fh, off, 64 * KiB, patch)


def regions(fh):
    fh.seek(192 * KiB)
    t = fh.read(64 * KiB)
    out = {}
    for i in range(struct.unpack_from('<I', t, 8)[0]):
        g, off, length, _ = struct.unpack_from('<16sQII', t, 16 + 32 * i)
        out[g] = (off, length)
    return out


def metadata_entry(fh, md, item):
    fh.seek(md)
    table = fh.read(64 * KiB)
    for i in range(struct.unpack_from('<H', table, 10)[0]):
        pos = 32 + 32 * i
        if table[pos:pos + 16] == ITEMS[item]:
            return pos
    sys.exit('no metadata item ' + item)


def cmd_meta(path, item, *args):
    kv = parse_kv(args)
    with open(path, 'r+b') as fh:
        md = regions(fh)[METADATA_GUID][0]
        pos = metadata_entry(fh, md, item)
        fh.seek(md + pos + 16)
        off, length, flags = struct.unpack('<III', fh.read(12))
        if 'value' in kv:
            fmt = '<Q' if item == 'size' else '<I'
            fh.seek(md + off)
            fh.write(struct.pack(fmt, num(kv['value'])))
        off = num(kv.get('offset', str(off)))
        length = num(kv.get('length', str(length)))
        flags = num(kv.get('flags', str(flags)))
        fh.seek(md + pos + 16)
        fh.write(struct.pack('<III', off, length, flags))


def cmd_parent(path):
    """HasParent plus a parent locator item (at 128 KiB into the metadata
    region) whose paths name files of the host."""
    pairs = [('parent_linkage', '{83ed5ebc-3b5c-4b53-9ac0-8e8e2e9b1f3a}'),
             ('relative_path', '../../../../etc/passwd'),
             ('volume_path', '\\\\?\\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}\\secret.vhdx'),
             ('absolute_win32_path', 'C:\\secret.vhdx')]
    head = bytearray(PARENT_VHDX + struct.pack('<HH', 0, len(pairs)))
    entries = bytearray()
    strings = bytearray()
    base = len(head) + 12 * len(pairs)
    for k, v in pairs:
        kb, vb = k.encode('utf-16-le'), v.encode('utf-16-le')
        ko = base + len(strings)
        strings += kb
        vo = base + len(strings)
        strings += vb
        entries += struct.pack('<IIHH', ko, vo, len(kb), len(vb))
    item = bytes(head + entries + strings)
    with open(path, 'r+b') as fh:
        md = regions(fh)[METADATA_GUID][0]
        pos = metadata_entry(fh, md, 'params')
        fh.seek(md + pos + 16)
        poff = struct.unpack('<I', fh.read(4))[0]
        fh.seek(md + poff + 4)
        flags = struct.unpack('<I', fh.read(4))[0]
        fh.seek(md + poff + 4)
        fh.write(struct.pack('<I', flags | 2))
        fh.seek(md)
        table = bytearray(fh.read(64 * KiB))
        n = struct.unpack_from('<H', table, 10)[0]
        struct.pack_into('<16sIII', table, 32 + 32 * n, ITEMS['parent'],
                         128 * KiB, len(item), 4 | 2)
        struct.pack_into('<H', table, 10, n + 1)
        fh.seek(md)
        fh.write(table)
        fh.seek(md + 128 * KiB)
        fh.write(item)


def cmd_bat(path, index, value):
    with open(path, 'r+b') as fh:
        bat = regions(fh)[BAT_GUID][0]
        fh.seek(bat + 8 * num(index))
        fh.write(struct.pack('<Q', num(value)))


CMDS = {'header': cmd_header, 'region': cmd_region, 'meta': cmd_meta,
        'parent': cmd_parent, 'bat': cmd_bat}


def sparse_copy(src, dst):
    """Copy leaving holes where src has zeros: test images are mostly
    zeros, and a test makes dozens of copies."""
    chunk = 64 * 1024
    zero = bytes(chunk)
    with open(src, 'rb') as fi, open(dst, 'wb') as fo:
        while True:
            b = fi.read(chunk)
            if not b:
                break
            if b == zero[:len(b)]:
                fo.seek(len(b), 1)
            else:
                fo.write(b)
        fo.truncate()


def cmd_batch(directory):
    for line in sys.stdin:
        words = shlex.split(line, comments=True)
        if not words:
            continue
        out = os.path.join(directory, words[0])
        if words[1] != words[0]:
            sparse_copy(os.path.join(directory, words[1]), out)
        CMDS[words[2]](out, *words[3:])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'batch':
        cmd_batch(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] in CMDS:
        CMDS[sys.argv[1]](*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
