#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the VMDK block-map tests (tests/test-convert-vmdk.sh).

  vmdk-map.py base FILE SIZE         a raw disk of random, zero and
                                     patterned extents (SIZE bytes)
  vmdk-map.py vmware RAW OUT         a streamOptimized VMDK laid out as
                                     VMware writes it in one pass: grains
                                     with markers, each grain table after
                                     its grains (with a GT marker), the GD
                                     at the end, footer and end-of-stream
  vmdk-map.py gte FILE GRAIN VALUE   set the grain table entry of guest
                                     grain GRAIN (GD from the footer when
                                     gdOffset is GD_AT_END)
  vmdk-map.py gd FILE INDEX VALUE    set grain directory entry INDEX
  vmdk-map.py marker FILE GRAIN lba=N|size=N|size=+N
                                     patch the marker of a compressed grain
  vmdk-map.py zcorrupt FILE GRAIN    garble the zlib stream of a grain
  vmdk-map.py gdsector FILE          print the GD's sector
  vmdk-map.py gtsector FILE INDEX    print GD entry INDEX (a GT's sector)
"""
import os
import random
import struct
import sys
import zlib

GD_AT_END = 0xFFFFFFFFFFFFFFFF
SECTOR = 512


def base(path, size):
    rnd = random.Random(size)
    d = bytearray(size)
    pos = 0
    while pos < size:
        # extents of 4 KiB .. 3 MiB, not aligned to grains
        n = min(size - pos, rnd.randrange(4096, 3 << 20) // 512 * 512 + 512)
        kind = rnd.randrange(4)
        if kind == 0:
            d[pos:pos + n] = os.urandom(n)
        elif kind == 1:
            pat = struct.pack("<Q", pos) * 64
            d[pos:pos + n] = (pat * (n // len(pat) + 1))[:n]
        elif kind == 2:
            d[pos:pos + n] = bytes([rnd.randrange(1, 256)]) * n
        # kind 3: zeros
        pos += n
    # the first MiB is data (tests patch its grains' markers), and so is
    # the very last sector (the partial last grain)
    d[0:1 << 20] = os.urandom(1 << 20)
    d[size - 100:size] = b"\xa5" * 100
    with open(path, "wb") as f:
        f.write(d)


def header(capacity, gd_offset, overhead, desc_size):
    h = bytearray(SECTOR)
    struct.pack_into("<4sIIQQQQIQQQB4sH", h, 0, b"KDMV", 3,
                     0x30001, capacity, 128, 1, desc_size, 512, 0,
                     gd_offset, overhead, 0, b"\n \r\n", 1)
    return h


def vmware(raw, out):
    with open(raw, "rb") as f:
        data = f.read()
    cap = (len(data) + SECTOR - 1) // SECTOR
    data += b"\0" * (cap * SECTOR - len(data))
    grain = 128 * SECTOR
    grains = (len(data) + grain - 1) // grain
    gts = (grains + 511) // 512
    desc = ('# Disk DescriptorFile\nversion=1\nCID=1234abcd\n'
            'parentCID=ffffffff\ncreateType="streamOptimized"\n\n'
            '# Extent description\nRW %d SPARSE "%s"\n\n'
            '# The Disk Data Base\n#DDB\n\n'
            'ddb.virtualHWVersion = "4"\nddb.adapterType = "ide"\n'
            % (cap, os.path.basename(out))).encode()
    desc_size = 20
    overhead = 128
    o = bytearray(header(cap, GD_AT_END, overhead, desc_size))
    o += desc + b"\0" * (desc_size * SECTOR - len(desc))
    o += b"\0" * (overhead * SECTOR - len(o))

    def pad():
        o.extend(b"\0" * (-len(o) % SECTOR))

    gd = [0] * gts
    for t in range(gts):
        gt = [0] * 512
        for s in range(512):
            g = t * 512 + s
            if g >= grains:
                break
            chunk = data[g * grain:(g + 1) * grain]
            if not any(chunk):
                continue
            z = zlib.compress(chunk)
            gt[s] = len(o) // SECTOR
            o += struct.pack("<QI", g * 128, len(z)) + z
            pad()
        if any(gt):
            o += struct.pack("<QII", 4, 0, 1) + b"\0" * (SECTOR - 16)
            gd[t] = len(o) // SECTOR
            o += struct.pack("<512I", *gt)
    gd_sectors = (gts * 4 + SECTOR - 1) // SECTOR
    o += struct.pack("<QII", gd_sectors, 0, 2) + b"\0" * (SECTOR - 16)
    gd_off = len(o) // SECTOR
    o += struct.pack("<%dI" % gts, *gd)
    pad()
    o += struct.pack("<QII", 1, 0, 3) + b"\0" * (SECTOR - 16)
    o += header(cap, gd_off, overhead, desc_size)
    o += struct.pack("<QII", 0, 0, 0) + b"\0" * (SECTOR - 16)
    with open(out, "wb") as f:
        f.write(o)


def gd_sector(d):
    gd = struct.unpack_from("<Q", d, 56)[0]
    if gd == GD_AT_END:
        end = (len(d) + SECTOR - 1) // SECTOR * SECTOR
        gd = struct.unpack_from("<Q", d, end - 1024 + 56)[0]
    return gd


def gte_offset(d, g):
    grain = struct.unpack_from("<Q", d, 20)[0]
    del grain  # grains per GT is fixed: 512
    gt = struct.unpack_from("<I", d, gd_sector(d) * SECTOR + 4 * (g // 512))[0]
    assert gt, "grain table not allocated"
    return gt * SECTOR + 4 * (g % 512)


def grain_offset(d, g):
    e = struct.unpack_from("<I", d, gte_offset(d, g))[0]
    assert e > 1, "grain not allocated"
    return e * SECTOR


def main():
    cmd = sys.argv[1]
    if cmd == "base":
        return base(sys.argv[2], int(sys.argv[3], 0))
    if cmd == "vmware":
        return vmware(sys.argv[2], sys.argv[3])
    path = sys.argv[2]
    with open(path, "rb") as f:
        d = bytearray(f.read())
    if cmd == "gdsector":
        print(gd_sector(d))
        return
    if cmd == "gtsector":
        print(struct.unpack_from("<I", d, gd_sector(d) * SECTOR +
                                 4 * int(sys.argv[3], 0))[0])
        return
    if cmd == "gte":
        struct.pack_into("<I", d, gte_offset(d, int(sys.argv[3], 0)),
                         int(sys.argv[4], 0))
    elif cmd == "gd":
        struct.pack_into("<I", d, gd_sector(d) * SECTOR +
                         4 * int(sys.argv[3], 0), int(sys.argv[4], 0))
    elif cmd == "marker":
        off = grain_offset(d, int(sys.argv[3], 0))
        name, value = sys.argv[4].split("=")
        if value.startswith("+"):
            value = str(struct.unpack_from("<I", d, off + 8)[0] +
                        int(value[1:], 0))
        if name == "lba":
            struct.pack_into("<Q", d, off, int(value, 0))
        else:
            struct.pack_into("<I", d, off + 8, int(value, 0))
    elif cmd == "zcorrupt":
        off = grain_offset(d, int(sys.argv[3], 0))
        size = struct.unpack_from("<I", d, off + 8)[0]
        for i in range(off + 12 + 2, off + 12 + size - 4, 7):
            d[i] ^= 0x5A
    else:
        sys.exit("unknown command " + cmd)
    with open(path, "wb") as f:
        f.write(d)


if __name__ == "__main__":
    main()
