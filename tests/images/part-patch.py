#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Byte patches for partition-table test images (MBR, EBR, GPT).

The clean disks come from sfdisk; this script damages or extends them in
exactly one way each, keeping every other checksum right so a test proves
the one check it is named for.

  part-patch.py mbr-entry IMG N BOOT TYPE START SECTORS   primary entry N (1-4)
  part-patch.py ebr-link IMG EBR_LBA REL_START SECTORS     link entry of an EBR
  part-patch.py gpt-field IMG FIELD VALUE [--keep-crc]     primary header field
  part-patch.py gpt-entry IMG N FIRST LAST                 entry N, both copies
  part-patch.py gpt-4k OUT                                 a 4Kn GPT disk (16 MiB)
  part-patch.py fat-vbr OUT                                a FAT16 boot sector
  part-patch.py ntfs-vbr OUT                               an NTFS boot sector
"""
import struct
import sys
import zlib

SECTOR = 512

# offset, struct format of the GPT header fields (UEFI 2.10 table 5.5)
GPT_FIELDS = {
    "revision": (8, "<I"),
    "header_size": (12, "<I"),
    "crc": (16, "<I"),
    "my_lba": (24, "<Q"),
    "alternate_lba": (32, "<Q"),
    "first_usable": (40, "<Q"),
    "last_usable": (48, "<Q"),
    "entries_lba": (72, "<Q"),
    "n_entries": (80, "<I"),
    "entry_size": (84, "<I"),
    "entries_crc": (88, "<I"),
}


def rd(f, off, n):
    f.seek(off)
    return bytearray(f.read(n))


def wr(f, off, data):
    f.seek(off)
    f.write(bytes(data))


def fix_header_crc(hdr):
    size = struct.unpack_from("<I", hdr, 12)[0]
    struct.pack_into("<I", hdr, 16, 0)
    struct.pack_into("<I", hdr, 16, zlib.crc32(bytes(hdr[:size])))


def mbr_entry(img, n, boot, typ, start, sectors):
    with open(img, "r+b") as f:
        wr(f, 446 + 16 * (int(n) - 1),
           struct.pack("<B3sB3sII", int(boot, 0), b"\xfe\xff\xff",
                       int(typ, 0), b"\xfe\xff\xff", int(start, 0),
                       int(sectors, 0)))
        wr(f, 510, b"\x55\xaa")


def ebr_link(img, ebr_lba, rel_start, sectors):
    with open(img, "r+b") as f:
        wr(f, int(ebr_lba) * SECTOR + 446 + 16,
           struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 5, b"\xfe\xff\xff",
                       int(rel_start, 0), int(sectors, 0)))


def gpt_field(img, field, value, keep_crc=False):
    off, fmt = GPT_FIELDS[field]
    with open(img, "r+b") as f:
        hdr = rd(f, SECTOR, SECTOR)
        struct.pack_into(fmt, hdr, off, int(value, 0))
        if not keep_crc:
            fix_header_crc(hdr)
        wr(f, SECTOR, hdr)


def gpt_entry(img, n, first, last):
    with open(img, "r+b") as f:
        primary = rd(f, SECTOR, SECTOR)
        alt = struct.unpack_from("<Q", primary, 32)[0]
        for hlba in (1, alt):
            hdr = rd(f, hlba * SECTOR, SECTOR)
            elba, count, esize = struct.unpack_from("<QII", hdr, 72)
            array = rd(f, elba * SECTOR, count * esize)
            struct.pack_into("<QQ", array, (int(n) - 1) * esize + 32,
                             int(first, 0), int(last, 0))
            wr(f, elba * SECTOR, array)
            struct.pack_into("<I", hdr, 88, zlib.crc32(bytes(array)))
            fix_header_crc(hdr)
            wr(f, hlba * SECTOR, hdr)


def gpt_4k(out):
    """sfdisk cannot write 4096-byte-sector labels to a file: build one.
    Two partitions: LBA 256-511 (EFI System) and 512-1023 (Linux)."""
    ss, sectors = 4096, 4096
    types = [
        bytes.fromhex("28732ac11ff8d211ba4b00a0c93ec93b"),  # EFI System
        bytes.fromhex("af3dc60f838472478e793d69d8477de4"),  # Linux fs
    ]
    array = bytearray(128 * 128)
    for i, (first, last) in enumerate([(256, 511), (512, 1023)]):
        struct.pack_into("<16s16sQQQ", array, i * 128, types[i],
                         bytes([i + 1] * 16), first, last, 0)
        name = ("part%d" % (i + 1)).encode("utf-16-le")
        array[i * 128 + 56:i * 128 + 56 + len(name)] = name
    array_sectors = len(array) // ss
    disk = bytearray(ss * sectors)

    def header(my, alt, elba):
        h = bytearray(ss)
        struct.pack_into("<8sIIIIQQQQ16sQIII", h, 0, b"EFI PART", 0x10000,
                         92, 0, 0, my, alt, 2 + array_sectors,
                         sectors - 2 - array_sectors, bytes(range(16)),
                         elba, 128, 128, zlib.crc32(bytes(array)))
        fix_header_crc(h)
        return h

    last = sectors - 1
    disk[ss:2 * ss] = header(1, last, 2)
    disk[2 * ss:2 * ss + len(array)] = array
    belba = last - array_sectors
    disk[belba * ss:belba * ss + len(array)] = array
    disk[last * ss:] = header(last, 1, belba)
    # protective MBR, in 4096-byte units
    struct.pack_into("<B3sB3sII", disk, 446, 0, b"\x00\x02\x00", 0xee,
                     b"\xff\xff\xff", 1, sectors - 1)
    disk[510:512] = b"\x55\xaa"
    with open(out, "wb") as f:
        f.write(disk)


def fat_vbr(out):
    s = bytearray(SECTOR)
    s[0:3] = b"\xeb\x3c\x90"
    s[3:11] = b"MSDOS5.0"
    # BPB: 512 bytes/sector, 4 sectors/cluster, 1 reserved, 2 FATs,
    # 512 root entries, 65535 sectors, media 0xF8, 64 sectors/FAT
    struct.pack_into("<HBHBHHBH", s, 11, 512, 4, 1, 2, 512, 0xffff, 0xf8, 64)
    s[0x26] = 0x29
    s[0x2B:0x36] = b"NO NAME    "
    s[0x36:0x3E] = b"FAT16   "
    s[510:512] = b"\x55\xaa"
    with open(out, "wb") as f:
        f.write(s + bytes(SECTOR * 2047))


def ntfs_vbr(out):
    s = bytearray(SECTOR)
    s[0:3] = b"\xeb\x52\x90"
    s[3:11] = b"NTFS    "
    struct.pack_into("<HB", s, 11, 512, 8)
    s[0x15] = 0xf8
    s[510:512] = b"\x55\xaa"
    with open(out, "wb") as f:
        f.write(s + bytes(SECTOR * 2047))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "mbr-entry":
        mbr_entry(*args)
    elif cmd == "ebr-link":
        ebr_link(*args)
    elif cmd == "gpt-field":
        keep = "--keep-crc" in args
        gpt_field(*[a for a in args if a != "--keep-crc"], keep_crc=keep)
    elif cmd == "gpt-entry":
        gpt_entry(*args)
    elif cmd == "gpt-4k":
        gpt_4k(*args)
    elif cmd == "fat-vbr":
        fat_vbr(*args)
    elif cmd == "ntfs-vbr":
        ntfs_vbr(*args)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
