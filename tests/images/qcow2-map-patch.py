#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Patch qcow2 L1/L2 tables in place, for the converter's mapper tests.

    qcow2-map-patch.py FILE EDIT...
    qcow2-map-patch.py --batch < LINES    each line: SRC DST EDIT... (copy
                                          SRC to DST, then edit DST)

Each EDIT is one of
    l1:I=EXPR        set active L1 entry I
    l2:I:J=EXPR      set entry J of the L2 table of L1 entry I (the first
                     8 bytes with extended L2 entries)
    bm:I:J=EXPR      set the subcluster bitmap of that (extended) entry
    sectors:I:J=N    set the additional-sectors field of that compressed
                     entry to N (capped to the field's width)
    garble:I:J       overwrite the first 16 bytes of that compressed
                     cluster's stream with 0xff (an invalid deflate block
                     type, no zstd magic)

EXPR is a Python expression over: L1 (L1 table offset), RT (refcount
table offset), CS (cluster size), EOF (file size), e (the entry's current
value, l2/bm edits), l2(I) (offset of L1 entry I's L2 table), rb(I)
(refcount table entry I), COPIED (bit 63), ZERO (bit 0). The tests say what each edit means.
"""
import shutil
import struct
import sys

COPIED = 1 << 63
ZERO = 1


class Image:
    def __init__(self, f):
        self.f = f
        f.seek(0)
        h = f.read(112)
        self.version, = struct.unpack(">I", h[4:8])
        self.cluster_bits, = struct.unpack(">I", h[20:24])
        self.cs = 1 << self.cluster_bits
        self.l1, = struct.unpack(">Q", h[40:48])
        self.rt, = struct.unpack(">Q", h[48:56])
        incompat = struct.unpack(">Q", h[72:80])[0] if self.version >= 3 else 0
        self.esize = 16 if incompat & 16 else 8
        f.seek(0, 2)
        self.eof = f.tell()

    def get(self, off):
        self.f.seek(off)
        return struct.unpack(">Q", self.f.read(8))[0]

    def put(self, off, value):
        self.f.seek(off)
        self.f.write(struct.pack(">Q", value & (2**64 - 1)))

    def l2(self, i):
        off = self.get(self.l1 + 8 * i) & 0x00fffffffffffe00
        if not off:
            sys.exit("L1 entry %d is unallocated" % i)
        return off

    def entry_off(self, i, j):
        return self.l2(i) + self.esize * j

    def ns(self, e=0):
        return {"L1": self.l1, "RT": self.rt, "CS": self.cs, "EOF": self.eof,
                "e": e, "l2": self.l2, "rb": self.rb, "COPIED": COPIED,
                "ZERO": ZERO}

    def rb(self, i):
        return self.get(self.rt + 8 * i)

    def compressed(self, i, j):
        """(entry offset, entry, shift, mask, host offset)"""
        off = self.entry_off(i, j)
        e = self.get(off)
        if not e & (1 << 62):
            sys.exit("entry %d:%d is not compressed" % (i, j))
        shift = 62 - (self.cluster_bits - 8)
        mask = (1 << (self.cluster_bits - 8)) - 1
        return off, e, shift, mask, e & ((1 << shift) - 1)


def edit(path, edits):
    with open(path, "r+b") as f:
        img = Image(f)
        for ed in edits:
            key, _, val = ed.partition("=")
            parts = key.split(":")
            if parts[0] == "l1":
                off = img.l1 + 8 * int(parts[1], 0)
                img.put(off, eval(val, img.ns(img.get(off))))
            elif parts[0] in ("l2", "bm"):
                off = img.entry_off(int(parts[1], 0), int(parts[2], 0))
                if parts[0] == "bm":
                    if img.esize != 16:
                        sys.exit("no extended L2 entries")
                    off += 8
                img.put(off, eval(val, img.ns(img.get(off))))
            elif parts[0] == "sectors":
                off, e, shift, mask, _ = img.compressed(int(parts[1], 0),
                                                        int(parts[2], 0))
                n = min(int(val, 0), mask)
                img.put(off, (e & ~(mask << shift)) | (n << shift))
            elif parts[0] == "garble":
                _, _, _, _, host = img.compressed(int(parts[1], 0),
                                                  int(parts[2], 0))
                f.seek(host)
                f.write(b"\xff" * 16)
            else:
                sys.exit("unknown edit %r" % ed)


def main():
    if sys.argv[1:] == ["--batch"]:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            shutil.copyfile(words[0], words[1])
            edit(words[1], words[2:])
    elif len(sys.argv) >= 3:
        edit(sys.argv[1], sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
