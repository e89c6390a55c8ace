#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the filesystem identification tests (test-scan-fsid.sh):
volume headers no Linux tool makes, written by the layouts libblkid
checks, and precise corruptions of real filesystems.

  fs-corrupt.py bitlocker FILE vista|win7|togo [SERIAL]
        a BitLocker volume header at 0 (and the FVE metadata block at
        64 KiB for win7/togo, version 2), as libblkid's bitlocker.c reads
  fs-corrupt.py refs FILE
        a ReFS 3.4 volume header ("FSRS" recognition structure, 512-byte
        sectors, 4 KiB clusters), as libfsrefs documents it
  fs-corrupt.py lvm FILE UUID32 [SECTOR]
        an LVM2 PV label ("LABELONE", "LVM2 001", CRC) in SECTOR (1)
  fs-corrupt.py fat-label FILE HEX
        rewrite a FAT12/16 volume's root-directory label entry (the
        first volume-label entry) with 11 raw bytes (HEX, padded with
        spaces): mkfs.fat 4.2 refuses non-ASCII labels
  fs-corrupt.py poke FILE OFFSET FORMAT VALUE
        struct.pack(FORMAT, VALUE) written at OFFSET (ints in any base)
  fs-corrupt.py bytes FILE OFFSET HEX
        raw bytes written at OFFSET
  fs-corrupt.py btrfs-csum FILE
        recompute the btrfs primary superblock's crc32c (after a poke)
"""
import struct
import sys


def rw(path):
    return open(path, "r+b")


def put(path, off, data):
    with rw(path) as f:
        f.seek(off)
        f.write(data)


def bitlocker(path, kind, serial=0):
    sec = bytearray(512)
    fve_off = 0x10000
    if kind == "vista":
        sec[0:11] = b"\xeb\x52\x90-FVE-FS-"
    elif kind == "win7":
        sec[0:11] = b"\xeb\x58\x90-FVE-FS-"
        struct.pack_into("<I", sec, 67, serial)
        sec[71:82] = b"NO NAME    "
        struct.pack_into("<Q", sec, 176, fve_off)
    elif kind == "togo":
        sec[0:11] = b"\xeb\x58\x90MSWIN4.1"
        struct.pack_into("<Q", sec, 440, fve_off)
    else:
        raise SystemExit("bitlocker: vista, win7 or togo")
    struct.pack_into("<H", sec, 11, 512)
    sec[13] = 8
    sec[21] = 0xf8
    sec[510:512] = b"\x55\xaa"
    put(path, 0, bytes(sec))
    if kind != "vista":
        fve = bytearray(64)
        fve[0:8] = b"-FVE-FS-"
        struct.pack_into("<HH", fve, 8, 64, 2)
        put(path, fve_off, bytes(fve))


def refs(path):
    sec = bytearray(512)
    sec[3:11] = b"ReFS\0\0\0\0"
    sec[16:20] = b"FSRS"
    struct.pack_into("<HH", sec, 20, 0x200, 0)
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
    struct.pack_into("<QIIBB", sec, 24, size // 512, 512, 8, 3, 4)
    struct.pack_into("<Q", sec, 56, 0x1122334455667788)
    put(path, 0, bytes(sec))


def lvm_crc(data):
    crc = 0xF597A6CF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc


def lvm(path, uuid, sector=1):
    if len(uuid) != 32:
        raise SystemExit("lvm: the PV UUID is 32 characters")
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
    lab = bytearray(512)
    lab[0:8] = b"LABELONE"
    struct.pack_into("<Q", lab, 8, sector)
    struct.pack_into("<I", lab, 20, 32)
    lab[24:32] = b"LVM2 001"
    lab[32:64] = uuid.encode()
    struct.pack_into("<Q", lab, 64, size)
    struct.pack_into("<I", lab, 16, lvm_crc(lab[20:]))
    put(path, sector * 512, bytes(lab))


def fat_label(path, hexbytes):
    name = bytes.fromhex(hexbytes).ljust(11, b" ")[:11]
    with open(path, "rb") as f:
        bs = f.read(512)
        ss, spc, res, nfats, ents = struct.unpack_from("<HBHBH", bs, 11)
        fatlen = struct.unpack_from("<H", bs, 22)[0]
        root = (res + nfats * fatlen) * ss
        f.seek(root)
        d = f.read(ents * 32)
    for i in range(0, len(d), 32):
        if d[i + 11] & 0x18 == 0x08 and d[i + 11] & 0x3F != 0x0F:
            put(path, root + i, name)
            put(path, 0x2B, name)
            return
    raise SystemExit("fat-label: no volume-label entry")


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def btrfs_csum(path):
    with open(path, "rb") as f:
        f.seek(0x10000)
        sb = f.read(4096)
    put(path, 0x10000, struct.pack("<I", crc32c(sb[32:])))


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    cmd, path = argv[1], argv[2]
    if cmd == "bitlocker":
        bitlocker(path, argv[3], int(argv[4], 0) if len(argv) > 4 else 0)
    elif cmd == "refs":
        refs(path)
    elif cmd == "lvm":
        lvm(path, argv[3], int(argv[4]) if len(argv) > 4 else 1)
    elif cmd == "fat-label":
        fat_label(path, argv[3])
    elif cmd == "poke":
        put(path, int(argv[3], 0), struct.pack(argv[4], int(argv[5], 0)))
    elif cmd == "bytes":
        put(path, int(argv[3], 0), bytes.fromhex(argv[4]))
    elif cmd == "btrfs-csum":
        btrfs_csum(path)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
