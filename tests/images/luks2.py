#!/usr/bin/env python3
"""Write a LUKS2 volume header (no usable key slot) for reader tests.

Layout from cryptsetup's "LUKS2 On-Disk Format Specification": a 4 KiB
big-endian binary header, then the JSON area, both repeated as the
secondary header right after; hdr_size covers binary header + JSON area.
The checksum is SHA-256 over the whole header area with the checksum
field zeroed. The payload segment starts at 16 MiB.

usage: luks2.py FILE [HDR_SIZE] [FILE_SIZE]
"""
import hashlib
import json
import struct
import sys
import uuid

path = sys.argv[1]
hdr_size = int(sys.argv[2], 0) if len(sys.argv) > 2 else 16384
file_size = int(sys.argv[3], 0) if len(sys.argv) > 3 else 16 * 1024 * 1024 + 1024 * 1024
json_size = max(hdr_size - 4096, 0)
vol_uuid = str(uuid.UUID(int=0x1234567890ABCDEF1234567890ABCDEF))

meta = {
    "keyslots": {},
    "tokens": {},
    "segments": {"0": {"type": "crypt", "offset": "16777216", "size": "dynamic",
                       "iv_tweak": "0", "encryption": "aes-xts-plain64",
                       "sector_size": 512}},
    "digests": {},
    "config": {"json_size": str(json_size), "keyslots_size": "16744448"},
}


def header(offset, magic):
    b = bytearray(4096)
    struct.pack_into(">6sHQQ", b, 0, magic, 2, hdr_size, 1)
    struct.pack_into("48s32s", b, 24, b"imgward-test", b"sha256")
    struct.pack_into("40s48sQ", b, 168, vol_uuid.encode(), b"", offset)
    area = bytearray(b) + json.dumps(meta).encode().ljust(json_size, b"\0")
    struct.pack_into("32s", area, 448, hashlib.sha256(area).digest())
    return bytes(area)


with open(path, "wb") as f:
    f.write(header(0, b"LUKS\xba\xbe"))
    f.write(header(hdr_size, b"SKUL\xba\xbe"))
    f.truncate(file_size)
