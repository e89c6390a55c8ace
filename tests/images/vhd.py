#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Build and patch VHD test images (Microsoft VHD spec 1.0; big-endian).

Start from an image qemu-img made, then patch it:

  vhd.py fixed FILE SIZE [creator=vpc ] [chs=C/H/S] [current=N] [type=N]
        write a sparse fixed VHD from scratch (SIZE data bytes + footer)
  vhd.py footer FILE [where=both|head|tail] FIELD=VALUE...
        set footer fields (cookie, type, creator, current, chs, uuid,
        version, checksum=bad) and recompute the checksum unless told
  vhd.py dyn FILE FIELD=VALUE...
        set dynamic header fields (block_size, max_table_entries,
        table_offset, version, checksum=bad); checksum recomputed
  vhd.py bat FILE INDEX VALUE      set one BAT entry
  vhd.py diff FILE                 turn a dynamic disk into a differencing
        one whose parent name and locators name files of the host
  vhd.py old-footer FILE           rewrite a fixed VHD's footer as the
        pre-2004 511-byte variant
  vhd.py batch DIR < LINES
        one process for many variants: each line "OUT BASE CMD ARGS..."
        copies DIR/BASE to DIR/OUT (BASE "-": none) and runs CMD on it
"""
import os
import shlex
import struct
import sys
import uuid

FOOTER = 512


def checksum(buf, off):
    s = sum(buf[:off]) + sum(buf[off + 4:])
    return (~s) & 0xffffffff


def fix_footer(buf):
    buf[64:68] = struct.pack('>I', checksum(buf, 64))


def fix_dyn(buf):
    buf[36:40] = struct.pack('>I', checksum(buf, 36))


def chs_for(size):
    """The spec's (and qemu's calculate_geometry) CHS algorithm."""
    sectors = size // 512
    sectors = min(sectors, 65535 * 16 * 255)
    if sectors >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = sectors // spt
    else:
        spt = 17
        cth = sectors // spt
        heads = max((cth + 1023) // 1024, 4)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = sectors // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = sectors // spt
    return cth // heads, heads, spt


def new_footer(size, creator=b'vpc ', chs=None, current=None, dtype=2,
               data_offset=0xffffffffffffffff):
    c, h, s = chs or chs_for(size)
    cur = size if current is None else current
    f = bytearray(FOOTER)
    f[0:8] = b'conectix'
    struct.pack_into('>IIQI4sHH4sQQHBBI', f, 8, 2, 0x00010000, data_offset,
                     0, creator, 1, 0, b'Wi2k', cur, cur, c, h, s, dtype)
    f[68:84] = uuid.uuid4().bytes
    fix_footer(f)
    return f


def parse_kv(args):
    out = {}
    for a in args:
        k, _, v = a.partition('=')
        out[k] = v
    return out


def num(v):
    return int(v, 0)


def patch_footer(f, kv):
    bad = kv.pop('checksum', None) == 'bad'
    for k, v in kv.items():
        if k == 'cookie':
            f[0:8] = v.encode().ljust(8, b'\0')[:8]
        elif k == 'type':
            struct.pack_into('>I', f, 60, num(v))
        elif k == 'creator':
            f[28:32] = v.encode().replace(b'\\0', b'\0').ljust(4, b'\0')[:4]
        elif k == 'current':
            struct.pack_into('>Q', f, 48, num(v))
        elif k == 'version':
            struct.pack_into('>I', f, 12, num(v))
        elif k == 'chs':
            c, h, s = (int(x) for x in v.split('/'))
            struct.pack_into('>HBB', f, 56, c, h, s)
        elif k == 'uuid':
            f[68:84] = uuid.UUID(v).bytes
        else:
            sys.exit('unknown footer field ' + k)
    fix_footer(f)
    if bad:
        f[64] ^= 0xff


def cmd_fixed(path, size, *args):
    kv = parse_kv(args)
    size = num(size)
    chs = tuple(int(x) for x in kv['chs'].split('/')) if 'chs' in kv else None
    creator = kv.get('creator', 'vpc ').encode().replace(b'\\0', b'\0')
    f = new_footer(size, creator.ljust(4, b'\0')[:4],
                   chs, num(kv['current']) if 'current' in kv else None,
                   num(kv.get('type', '2')))
    with open(path, 'wb') as fh:
        fh.truncate(size)
        fh.seek(size)
        fh.write(f)


def cmd_footer(path, *args):
    kv = parse_kv(args)
    where = kv.pop('where', 'both')
    with open(path, 'r+b') as fh:
        size = os.fstat(fh.fileno()).st_size
        offs = {'head': [0], 'tail': [size - FOOTER],
                'both': [0, size - FOOTER]}[where]
        for off in offs:
            fh.seek(off)
            f = bytearray(fh.read(FOOTER))
            patch_footer(f, dict(kv))
            fh.seek(off)
            fh.write(f)


def read_dyn(fh):
    fh.seek(0)
    f = fh.read(FOOTER)
    off = struct.unpack_from('>Q', f, 16)[0]
    fh.seek(off)
    return off, bytearray(fh.read(1024))


def cmd_dyn(path, *args):
    kv = parse_kv(args)
    bad = kv.pop('checksum', None) == 'bad'
    fields = {'table_offset': (16, '>Q'), 'version': (24, '>I'),
              'max_table_entries': (28, '>I'), 'block_size': (32, '>I')}
    with open(path, 'r+b') as fh:
        off, d = read_dyn(fh)
        for k, v in kv.items():
            pos, fmt = fields[k]
            struct.pack_into(fmt, d, pos, num(v))
        fix_dyn(d)
        if bad:
            d[36] ^= 0xff
        fh.seek(off)
        fh.write(d)


def cmd_bat(path, index, value):
    with open(path, 'r+b') as fh:
        _, d = read_dyn(fh)
        table = struct.unpack_from('>Q', d, 16)[0]
        fh.seek(table + 4 * num(index))
        fh.write(struct.pack('>I', num(value)))


def cmd_diff(path):
    """Differencing disk: parent name, W2ku/W2ru/MacX locators. The
    locator data goes where the footer was, and the footer after it."""
    locators = [
        (b'W2ku', 'C:\\secret.vhd'.encode('utf-16-le')),
        (b'W2ru', '.\\secret.vhd'.encode('utf-16-le')),
        (b'MacX', b'file:///etc/passwd'),
    ]
    with open(path, 'r+b') as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(0)
        footer = bytearray(fh.read(FOOTER))
        patch_footer(footer, {'type': '4'})
        dyn_off, d = read_dyn(fh)
        d[40:56] = uuid.uuid4().bytes          # parent unique id
        struct.pack_into('>I', d, 56, 12345)   # parent timestamp
        d[64:576] = '/etc/passwd'.encode('utf-16-be').ljust(512, b'\0')
        pos = size - FOOTER
        fh.truncate(pos)
        for i, (code, data) in enumerate(locators):
            struct.pack_into('>4sIIIQ', d, 576 + 24 * i, code, 1,
                             len(data), 0, pos)
            fh.seek(pos)
            fh.write(data.ljust(512, b'\0'))
            pos += 512
        fix_dyn(d)
        fh.seek(dyn_off)
        fh.write(d)
        fh.seek(0)
        fh.write(footer)
        fh.seek(pos)
        fh.write(footer)


def cmd_old_footer(path):
    with open(path, 'r+b') as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(size - FOOTER)
        f = bytearray(fh.read(FOOTER))[:511]
        f[64:68] = b'\0\0\0\0'
        f[64:68] = struct.pack('>I', (~sum(f)) & 0xffffffff)
        fh.truncate(size - FOOTER)
        fh.seek(size - FOOTER)
        fh.write(f)


CMDS = {'fixed': cmd_fixed, 'footer': cmd_footer, 'dyn': cmd_dyn,
        'bat': cmd_bat, 'diff': cmd_diff, 'old-footer': cmd_old_footer}


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
        out, base, cmd, args = (os.path.join(directory, words[0]), words[1],
                                words[2], words[3:])
        if base != '-':
            sparse_copy(os.path.join(directory, base), out)
        CMDS[cmd](out, *args)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'batch':
        cmd_batch(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] in CMDS:
        CMDS[sys.argv[1]](*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
