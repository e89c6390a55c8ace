#!/usr/bin/env python3
"""Write small bochs, cloop and dmg images for reader tests.

Layouts as qemu 7.2 reads them (block/bochs.c, block/cloop.c,
block/dmg.c); qemu-img info -f <fmt> opens each one.

usage: legacy.py bochs FILE [VERSION]
       legacy.py cloop FILE
       legacy.py dmg FILE
"""
import struct
import sys
import zlib


def bochs(path, version=0x20000):
    disk = 10 * 1024 * 1024
    extent = 64 * 1024
    catalog = disk // extent
    h = bytearray(512)
    struct.pack_into("32s16s16s", h, 0, b"Bochs Virtual HD Image",
                     b"Redolog", b"Growing")
    struct.pack_into("<IIIII", h, 64, version, 512, catalog, 512, extent)
    if version == 0x10000:
        struct.pack_into("<Q", h, 84, disk)
    else:
        struct.pack_into("<IQ", h, 84, 0, disk)
    with open(path, "wb") as f:
        f.write(h)
        f.write(b"\xff" * (4 * catalog))  # every extent unallocated


def cloop(path):
    block_size = 64 * 1024
    preamble = (b"#!/bin/sh\n#V2.0 Format\n"
                b"modprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n")
    blocks = [zlib.compress(bytes([i]) * block_size) for i in range(3)]
    offsets = [128 + 8 + 8 * (len(blocks) + 1)]
    for b in blocks:
        offsets.append(offsets[-1] + len(b))
    with open(path, "wb") as f:
        f.write(preamble.ljust(128, b"\0"))
        f.write(struct.pack(">II", block_size, len(blocks)))
        f.write(struct.pack(">%dQ" % len(offsets), *offsets))
        for b in blocks:
            f.write(b)


def dmg(path):
    data = bytes(4096)
    # no <data> mish blocks: qemu opens it with no chunks at all
    plist = (b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">'
             b"<dict><key>resource-fork</key><dict></dict></dict></plist>\n")
    t = bytearray(512)
    struct.pack_into(">4sIII", t, 0, b"koly", 4, 512, 1)
    struct.pack_into(">QQQQQ", t, 0x10, 0, 0, len(data), 0, 0)
    struct.pack_into(">QQ", t, 0xD8, len(data), len(plist))
    struct.pack_into(">Q", t, 0x1EC, 2048)  # 1 MiB
    with open(path, "wb") as f:
        f.write(data)
        f.write(plist)
        f.write(t)


kind, path = sys.argv[1], sys.argv[2]
if kind == "bochs":
    bochs(path, int(sys.argv[3], 0) if len(sys.argv) > 3 else 0x20000)
elif kind == "cloop":
    cloop(path)
elif kind == "dmg":
    dmg(path)
else:
    sys.exit("unknown kind " + kind)
