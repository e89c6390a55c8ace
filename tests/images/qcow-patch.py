#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Patch fields of a qcow2 / qcow / QED image in place, for the tests.

    qcow-patch.py FILE EDIT...
    qcow-patch.py --batch < LINES    each line: SRC DST EDIT... (copy SRC
                                     to DST, then edit DST; one python
                                     start for a whole test's images)

Each EDIT is one of
    FIELD=VALUE          a qcow2 header field by name (see QCOW2 below),
                         e.g. version=4 cluster_bits=31 l1_size=0x7fffffff
    qcow.FIELD=VALUE     a qcow (v1) header field (see QCOW)
    qed.FIELD=VALUE      a QED header field (see QED, little-endian)
    @OFFSET:FMT=VALUE    raw: FMT is u8, be16, be32, be64, le32, le64
    replace:OLD=NEW      replace the bytes OLD by NEW (same length) in the
                         first 64 KiB, once, e.g. a placeholder file name
    ext:MAGIC.len=VALUE  set the length of the qcow2 header extension MAGIC
    ext:MAGIC+OFF:FMT=VALUE  write into the data of that extension
    addext:MAGIC=HEX     append a qcow2 header extension (data in hex)
                         before the end-of-extensions marker
    truncate=N           cut the file to N bytes

Numbers accept 0x prefixes. Nothing here knows the images' semantics: the
tests say what each edit means.
"""
import shutil
import struct
import sys

FMTS = {"u8": ">B", "be16": ">H", "be32": ">I", "be64": ">Q",
        "le32": "<I", "le64": "<Q"}

# qcow2.txt "Header"
QCOW2 = {
    "magic": (0, "be32"), "version": (4, "be32"),
    "backing_file_offset": (8, "be64"), "backing_file_size": (16, "be32"),
    "cluster_bits": (20, "be32"), "size": (24, "be64"),
    "crypt_method": (32, "be32"), "l1_size": (36, "be32"),
    "l1_table_offset": (40, "be64"), "refcount_table_offset": (48, "be64"),
    "refcount_table_clusters": (56, "be32"), "nb_snapshots": (60, "be32"),
    "snapshots_offset": (64, "be64"),
    "incompatible_features": (72, "be64"),
    "compatible_features": (80, "be64"), "autoclear_features": (88, "be64"),
    "refcount_order": (96, "be32"), "header_length": (100, "be32"),
    "compression_type": (104, "u8"),
}
# block/qcow.c QCowHeader
QCOW = {
    "version": (4, "be32"), "backing_file_offset": (8, "be64"),
    "backing_file_size": (16, "be32"), "size": (24, "be64"),
    "cluster_bits": (32, "u8"), "l2_bits": (33, "u8"),
    "crypt_method": (36, "be32"), "l1_table_offset": (40, "be64"),
}
# qed_spec.txt header (little-endian)
QED = {
    "cluster_size": (4, "le32"), "table_size": (8, "le32"),
    "header_size": (12, "le32"), "features": (16, "le64"),
    "l1_table_offset": (40, "le64"), "image_size": (48, "le64"),
    "backing_filename_offset": (56, "le32"),
    "backing_filename_size": (60, "le32"),
}


def put(f, off, fmt, value):
    f.seek(off)
    f.write(struct.pack(FMTS[fmt], value))


def find_extension(f, magic):
    """Offset of the length field of qcow2 header extension `magic`."""
    f.seek(0)
    hdr = f.read(112)
    version, = struct.unpack(">I", hdr[4:8])
    off = 72 if version == 2 else struct.unpack(">I", hdr[100:104])[0]
    f.seek(0)
    area = f.read(1 << 16)
    while off + 8 <= len(area):
        m, n = struct.unpack(">II", area[off:off + 8])
        if m == magic:
            return off + 4
        if m == 0:
            break
        off += 8 + ((n + 7) & ~7)
    sys.exit("extension %#x not found" % magic)


def end_of_extensions(f):
    """Offset of the qcow2 end-of-extensions marker."""
    f.seek(0)
    hdr = f.read(112)
    version, = struct.unpack(">I", hdr[4:8])
    off = 72 if version == 2 else struct.unpack(">I", hdr[100:104])[0]
    f.seek(0)
    area = f.read(1 << 16)
    while off + 8 <= len(area):
        m, n = struct.unpack(">II", area[off:off + 8])
        if m == 0:
            return off
        off += 8 + ((n + 7) & ~7)
    sys.exit("no end-of-extensions marker")


def edit(path, edits):
    with open(path, "r+b") as f:
        for e in edits:
            key, _, val = e.partition("=")
            if key == "truncate":
                f.truncate(int(val, 0))
            elif key.startswith("replace:"):
                old, new = key[len("replace:"):].encode(), val.encode()
                assert len(old) == len(new), "replace needs equal lengths"
                f.seek(0)
                head = f.read(1 << 16)
                at = head.find(old)
                assert at >= 0, "%r not found" % old
                f.seek(at)
                f.write(new)
            elif key.startswith("ext:") and "+" in key:
                magic, rest = key[4:].split("+")
                off, fmt = rest.split(":")
                at = find_extension(f, int(magic, 0)) + 4 + int(off, 0)
                put(f, at, fmt, int(val, 0))
            elif key.startswith("ext:"):
                magic = int(key[4:].split(".")[0], 0)
                put(f, find_extension(f, magic), "be32", int(val, 0))
            elif key.startswith("addext:"):
                data = bytes.fromhex(val)
                at = end_of_extensions(f)
                f.seek(at)
                f.write(struct.pack(">II", int(key[7:], 0), len(data)))
                f.write(data + bytes(-len(data) % 8) + bytes(8))
            elif key.startswith("@"):
                off, fmt = key[1:].split(":")
                put(f, int(off, 0), fmt, int(val, 0))
            else:
                table = QCOW2
                if key.startswith("qcow."):
                    table, key = QCOW, key[5:]
                elif key.startswith("qed."):
                    table, key = QED, key[4:]
                off, fmt = table[key]
                put(f, off, fmt, int(val, 0))


def main():
    if sys.argv[1] == "--batch":
        for line in sys.stdin:
            words = line.split()
            if words:
                shutil.copyfile(words[0], words[1])
                edit(words[1], words[2:])
    else:
        edit(sys.argv[1], sys.argv[2:])


if __name__ == "__main__":
    main()
