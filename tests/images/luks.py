#!/usr/bin/env python3
"""Write LUKS volume headers (no usable key) for reader tests.

usage: luks.py 1 FILE      LUKS1, as qemu-img create -f luks lays it out
       luks.py 2 FILE      LUKS2

LUKS1 (LUKS On-Disk Format Specification 1.2): a 592-byte big-endian
header, eight key slots of 4000-stripe key material from sector 8 on,
each rounded to 4 KiB, the payload after them. Salts and digests are
fixed bytes: nothing here can be unlocked, and nothing needs to be for
qemu-img info, which reads the header only. The test suite prefers
qemu-img create; this is its fallback where qemu cannot time PBKDF2.

LUKS2 (cryptsetup's "LUKS2 On-Disk Format Specification"): a 4 KiB
binary header, then the JSON area, both repeated as the secondary
header right after; hdr_size covers binary header + JSON area. The
checksum is SHA-256 over the whole header area with the checksum field
zeroed. The payload segment starts at 16 MiB.
"""
import hashlib
import json
import struct
import sys
import uuid

VOL_UUID = str(uuid.UUID(int=0x1234567890ABCDEF1234567890ABCDEF))


def luks1(path, size=8 * 1024 * 1024):
    key_bytes, stripes = 64, 4000
    slot_sectors = -(-key_bytes * stripes // 512)
    slot_sectors = -(-slot_sectors // 8) * 8
    payload = 8 + 8 * slot_sectors
    h = bytearray(592)
    struct.pack_into(">6sH32s32s32sII", h, 0, b"LUKS\xba\xbe", 1, b"aes",
                     b"xts-plain64", b"sha256", payload, key_bytes)
    struct.pack_into(">20s32sI40s", h, 112, b"\x11" * 20, b"\x22" * 32, 1000,
                     VOL_UUID.encode())
    for i in range(8):
        active = 0x00AC71F3 if i == 0 else 0x0000DEAD
        struct.pack_into(">II32sII", h, 208 + 48 * i, active, 1000,
                         b"\x33" * 32, 8 + i * slot_sectors, stripes)
    with open(path, "wb") as f:
        f.write(h)
        f.truncate(payload * 512 + size)


def luks2(path, hdr_size=16384, file_size=17 * 1024 * 1024):
    json_size = hdr_size - 4096
    meta = {
        "keyslots": {},
        "tokens": {},
        "segments": {"0": {"type": "crypt", "offset": "16777216",
                           "size": "dynamic", "iv_tweak": "0",
                           "encryption": "aes-xts-plain64",
                           "sector_size": 512}},
        "digests": {},
        "config": {"json_size": str(json_size),
                   "keyslots_size": "16744448"},
    }

    def header(offset, magic):
        b = bytearray(4096)
        struct.pack_into(">6sHQQ", b, 0, magic, 2, hdr_size, 1)
        struct.pack_into("48s32s", b, 24, b"imgward-test", b"sha256")
        struct.pack_into("40s48sQ", b, 168, VOL_UUID.encode(), b"", offset)
        area = b + json.dumps(meta).encode().ljust(json_size, b"\0")
        struct.pack_into("32s", area, 448, hashlib.sha256(area).digest())
        return bytes(area)

    with open(path, "wb") as f:
        f.write(header(0, b"LUKS\xba\xbe"))
        f.write(header(hdr_size, b"SKUL\xba\xbe"))
        f.truncate(file_size)


if sys.argv[1] == "1":
    luks1(sys.argv[2])
else:
    luks2(sys.argv[2])
