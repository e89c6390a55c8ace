#!/usr/bin/env python3
# Turn a dynamic VHD made by `qemu-img create -f vpc` into a differencing
# VHD whose parent is PARENT (qemu-img cannot create differencing VHDs).
#   vhd-make-differencing.py CHILD PARENT [PARENT_UUID_HEX]
# VHD spec (Microsoft "Virtual Hard Disk Image Format Specification" 1.0):
#   footer (512 bytes, at 0 and at EOF-512 for dynamic disks):
#     data offset BE64 @16, disk type BE32 @60 (3 dynamic, 4 differencing),
#     checksum BE32 @64, unique id @68 (16 bytes)
#   dynamic header (1024 bytes at data offset): "cxsparse",
#     checksum BE32 @36, parent unique id @40 (16), parent timestamp @56
# Checksums are the one's complement of the byte sum with the field zeroed.
import struct
import sys


def checksum(buf, off):
    b = bytearray(buf)
    b[off:off + 4] = b"\0\0\0\0"
    return (~sum(b)) & 0xffffffff


def fix_footer(f):
    f = bytearray(f)
    struct.pack_into(">I", f, 60, 4)
    struct.pack_into(">I", f, 64, checksum(f, 64))
    return bytes(f)


child, parent = sys.argv[1], sys.argv[2]
with open(parent, "rb") as p:
    pfooter = p.read(512)
    if pfooter[:8] != b"conectix":
        # a fixed VHD keeps its footer only at the end
        p.seek(-512, 2)
        pfooter = p.read(512)
assert pfooter[:8] == b"conectix", "parent is not a VHD"
parent_uuid = pfooter[68:84]
if len(sys.argv) > 3:
    parent_uuid = bytes.fromhex(sys.argv[3])
ptimestamp = pfooter[24:28]

with open(child, "r+b") as c:
    data = bytearray(c.read())
    assert data[:8] == b"conectix", "child is not a dynamic VHD"
    footer = fix_footer(data[:512])
    data[:512] = footer
    data[-512:] = footer
    dyn_off = struct.unpack_from(">Q", data, 16)[0]
    dyn = bytearray(data[dyn_off:dyn_off + 1024])
    assert dyn[:8] == b"cxsparse"
    dyn[40:56] = parent_uuid
    dyn[56:60] = ptimestamp
    struct.pack_into(">I", dyn, 36, checksum(dyn, 36))
    data[dyn_off:dyn_off + 1024] = dyn
    c.seek(0)
    c.write(data)
