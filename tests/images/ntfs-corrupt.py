#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Damage an NTFS volume made by mkntfs (and filled through ntfs-3g) in
one precise way, for the NTFS reader's tests (tests/test-scan-ntfs.sh)
and fuzz seeds.

    ntfs-corrupt.py IMG CASE [RECORD]

IMG is a bare volume (no partition table), changed in place. RECORD is
the MFT record number the case damages (the test finds it with
`ntfs-tool lookup`); cases that need none ignore it. Records are read
and written back with their multi-sector fixups redone, so that only
the field the case names is wrong (the fixup cases excepted).

Cases (and the problem code the reader must report):
  boot-cluster       sectors per cluster 0x90 (no encoding)  ntfs-boot-sector
  boot-mft-record    clusters per MFT record 0x00             ntfs-boot-sector
  boot-size          total sectors past the partition         ntfs-boot-sector
  fixup-stride       RECORD: a stride's last bytes != USN     ntfs-fixup
  usa-count-0        RECORD: update sequence count 0          ntfs-fixup
  usa-ofs-odd        RECORD: update sequence offset odd       ntfs-fixup
  usa-ofs-past       RECORD: update sequence array past 510   ntfs-fixup
  baad               RECORD: magic BAAD                       ntfs-fixup
  attrs-offset       RECORD: attrs_offset past bytes_in_use   ntfs-record
  attr-length-0      RECORD: first attribute's length 0       ntfs-attribute
  attr-length-past   RECORD: first attribute past the record  ntfs-attribute
  resident-value-past RECORD: resident $DATA value past it    ntfs-attribute
  runlist-9byte      RECORD: $DATA run with a 9-byte length   ntfs-runlist
  lcn-past           RECORD: $DATA run past the volume        ntfs-runlist
  lcn-negative       RECORD: $DATA run at a negative LCN      ntfs-runlist
  runs-past-alloc    RECORD: $DATA runs beyond allocated size ntfs-runlist
  encrypted          RECORD: $DATA flagged encrypted          ntfs-unsupported
  index-root-entry-0 RECORD (a directory): first $INDEX_ROOT entry length 0
                                                              ntfs-index
  indx-entry-0       RECORD (a directory): first entry of its first INDX
                     block has length 0                       ntfs-index
  indx-entry-past    ... its length runs past the node        ntfs-index
  indx-loop          RECORD (a directory): the end entry of its first INDX
                     block points to that block itself        ntfs-loop
  mft-truncated      $MFT's $DATA sizes cut to one record     ntfs-mft
  attr-list-self     RECORD (a file with an $ATTRIBUTE_LIST): its first
                     entry lists the attribute list itself     ntfs-loop
"""
import struct
import sys

AT_ATTRIBUTE_LIST = 0x20
AT_DATA = 0x80
AT_INDEX_ROOT = 0x90
AT_INDEX_ALLOCATION = 0xA0
AT_END = 0xFFFFFFFF


class Volume:
    def __init__(self, path):
        self.f = open(path, "r+b")
        b = self.read(0, 512)
        self.boot = bytearray(b)
        self.bps = struct.unpack_from("<H", b, 0x0B)[0]
        spc = b[0x0D]
        spc = 1 << (256 - spc) if spc >= 0xF4 else spc
        self.cs = self.bps * spc
        c = struct.unpack_from("<b", b, 0x40)[0]
        self.rs = c * self.cs if c > 0 else 1 << -c
        self.sectors = struct.unpack_from("<q", b, 0x28)[0]
        self.mft_off = struct.unpack_from("<q", b, 0x30)[0] * self.cs
        rec0 = unfix(self.read(self.mft_off, self.rs))
        a = find_attr(rec0, AT_DATA)
        self.mft_runs = decode_runs(rec0, a)

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def write(self, off, data):
        self.f.seek(off)
        self.f.write(data)

    def runs_offsets(self, runs, off, n):
        """(volume offset, length) pieces of [off, off+n) of a value"""
        out = []
        while n:
            for vcn, lcn, length in runs:
                start, end = vcn * self.cs, (vcn + length) * self.cs
                if start <= off < end:
                    k = min(n, end - off)
                    out.append((lcn * self.cs + off - start, k))
                    off += k
                    n -= k
                    break
            else:
                raise SystemExit("offset %d not mapped" % off)
        return out

    def read_value(self, runs, off, n):
        return b"".join(self.read(o, k) for o, k in self.runs_offsets(runs, off, n))

    def write_value(self, runs, off, data):
        p = 0
        for o, k in self.runs_offsets(runs, off, len(data)):
            self.write(o, data[p:p + k])
            p += k

    def record(self, n):
        return unfix(self.read_value(self.mft_runs, n * self.rs, self.rs))

    def put_record(self, n, rec, fix=True):
        self.write_value(self.mft_runs, n * self.rs, refix(rec) if fix else rec)


def unfix(raw):
    rec = bytearray(raw)
    ofs, count = struct.unpack_from("<HH", rec, 4)
    for i in range(1, count):
        rec[i * 512 - 2:i * 512] = rec[ofs + 2 * i:ofs + 2 * i + 2]
    return rec


def refix(rec):
    rec = bytearray(rec)
    ofs, count = struct.unpack_from("<HH", rec, 4)
    usn = rec[ofs:ofs + 2]
    for i in range(1, count):
        rec[ofs + 2 * i:ofs + 2 * i + 2] = rec[i * 512 - 2:i * 512]
        rec[i * 512 - 2:i * 512] = usn
    return rec


def attrs(rec):
    p = struct.unpack_from("<H", rec, 20)[0]
    while True:
        t, length = struct.unpack_from("<II", rec, p)
        if t == AT_END:
            return
        yield p, t, length
        p += length


def find_attr(rec, typ, named=None):
    for p, t, length in attrs(rec):
        nlen = rec[p + 9]
        if t != typ:
            continue
        if named is None and nlen:
            continue
        if named is not None:
            nofs = struct.unpack_from("<H", rec, p + 10)[0]
            if rec[p + nofs:p + nofs + 2 * nlen].decode("utf-16-le") != named:
                continue
        return p
    raise SystemExit("attribute 0x%x not found" % typ)


def decode_runs(rec, p):
    mpo = struct.unpack_from("<H", rec, p + 0x20)[0]
    q = p + mpo
    vcn = struct.unpack_from("<q", rec, p + 0x10)[0]
    lcn = 0
    runs = []
    while rec[q]:
        ls, os_ = rec[q] & 15, rec[q] >> 4
        length = int.from_bytes(rec[q + 1:q + 1 + ls], "little", signed=True)
        if os_:
            lcn += int.from_bytes(rec[q + 1 + ls:q + 1 + ls + os_], "little", signed=True)
            runs.append((vcn, lcn, length))
        vcn += length
        q += 1 + ls + os_
    return runs


def grow_attr(rec, p, extra):
    """Make the attribute at p `extra` bytes longer (8-aligned), moving
    the attributes after it; the record must have the room."""
    extra = (extra + 7) & ~7
    length = struct.unpack_from("<I", rec, p + 4)[0]
    in_use = struct.unpack_from("<I", rec, 24)[0]
    if in_use + extra > len(rec):
        raise SystemExit("no room in the record")
    end = p + length
    rec[end + extra:in_use + extra] = rec[end:in_use]
    rec[end:end + extra] = bytes(extra)
    struct.pack_into("<I", rec, p + 4, length + extra)
    struct.pack_into("<I", rec, 24, in_use + extra)


def set_runlist(rec, p, pairs):
    """Replace the mapping pairs of the attribute at p, growing it if
    they do not fit."""
    mpo = struct.unpack_from("<H", rec, p + 0x20)[0]
    length = struct.unpack_from("<I", rec, p + 4)[0]
    data = bytes(pairs) + b"\0"
    if len(data) > length - mpo:
        grow_attr(rec, p, len(data) - (length - mpo))
        length = struct.unpack_from("<I", rec, p + 4)[0]
    room = length - mpo
    rec[p + mpo:p + length] = data + b"\0" * (room - len(data))


def first_indx(vol, rec):
    p = find_attr(rec, AT_INDEX_ALLOCATION, "$I30")
    runs = decode_runs(rec, p)
    pr = find_attr(rec, AT_INDEX_ROOT, "$I30")
    vofs = struct.unpack_from("<H", rec, pr + 0x14)[0]
    bs = struct.unpack_from("<I", rec, pr + vofs + 8)[0]
    return runs, bs


def main():
    img, case = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else None
    vol = Volume(img)
    b = vol.boot

    if case.startswith("boot-"):
        if case == "boot-cluster":
            b[0x0D] = 0x90
        elif case == "boot-mft-record":
            b[0x40] = 0
        elif case == "boot-size":
            struct.pack_into("<q", b, 0x28, vol.sectors * 4)
        vol.write(0, b)
        return

    if case == "mft-truncated":
        rec = vol.record(0)
        p = find_attr(rec, AT_DATA)
        struct.pack_into("<qq", rec, p + 0x30, vol.rs, vol.rs)
        vol.put_record(0, rec)
        return

    rec = vol.record(n)
    first = struct.unpack_from("<H", rec, 20)[0]
    if case in ("fixup-stride", "usa-count-0", "usa-ofs-odd", "usa-ofs-past", "baad"):
        raw = refix(rec)
        if case == "fixup-stride":
            raw[1022] ^= 0x5A
        elif case == "usa-count-0":
            struct.pack_into("<H", raw, 6, 0)
        elif case == "usa-ofs-odd":
            struct.pack_into("<H", raw, 4, 0x31)
        elif case == "usa-ofs-past":
            struct.pack_into("<H", raw, 4, 0x3F0)
        elif case == "baad":
            raw[0:4] = b"BAAD"
        vol.put_record(n, raw, fix=False)
        return
    if case == "attrs-offset":
        in_use = struct.unpack_from("<I", rec, 24)[0]
        struct.pack_into("<H", rec, 20, in_use + 8)
    elif case == "attr-length-0":
        struct.pack_into("<I", rec, first + 4, 0)
    elif case == "attr-length-past":
        struct.pack_into("<I", rec, first + 4, vol.rs)
    elif case == "resident-value-past":
        p = find_attr(rec, AT_DATA)
        struct.pack_into("<I", rec, p + 0x10, 0x1000)
    elif case in ("runlist-9byte", "lcn-past", "lcn-negative", "runs-past-alloc", "encrypted"):
        p = find_attr(rec, AT_DATA)
        lo, hi = struct.unpack_from("<qq", rec, p + 0x10)
        total = hi + 1 - lo
        if case == "runlist-9byte":
            set_runlist(rec, p, [0x19] + [1] + [0] * 8 + [1])
        elif case == "lcn-past":
            clusters = vol.sectors * vol.bps // vol.cs
            set_runlist(rec, p, [0x84] + list(struct.pack("<I", total)) +
                        list(struct.pack("<I", clusters + 16)))
        elif case == "lcn-negative":
            set_runlist(rec, p, [0x14] + list(struct.pack("<I", total)) + [0xF0])
        elif case == "runs-past-alloc":
            struct.pack_into("<qqq", rec, p + 0x28, vol.cs, vol.cs, vol.cs)
        elif case == "encrypted":
            flags = struct.unpack_from("<H", rec, p + 12)[0]
            struct.pack_into("<H", rec, p + 12, flags | 0x4000)
    elif case == "index-root-entry-0":
        p = find_attr(rec, AT_INDEX_ROOT, "$I30")
        vofs = struct.unpack_from("<H", rec, p + 0x14)[0]
        ih = p + vofs + 16
        e = ih + struct.unpack_from("<I", rec, ih)[0]
        struct.pack_into("<H", rec, e + 8, 0)
    elif case in ("indx-entry-0", "indx-entry-past", "indx-loop"):
        runs, bs = first_indx(vol, rec)
        blk = unfix(vol.read_value(runs, 0, bs))
        if blk[0:4] != b"INDX":
            raise SystemExit("no INDX block at VCN 0")
        ih = 0x18
        eofs, ilen, alloc = struct.unpack_from("<III", blk, ih)
        e = ih + eofs
        if case == "indx-entry-0":
            struct.pack_into("<H", blk, e + 8, 0)
        elif case == "indx-entry-past":
            struct.pack_into("<H", blk, e + 8, 0x2000)
        else:
            # walk to the end entry; make it a node entry whose sub-node
            # is this very block (VCN 0), 8 bytes longer
            while not struct.unpack_from("<H", blk, e + 12)[0] & 2:
                e += struct.unpack_from("<H", blk, e + 8)[0]
            elen = struct.unpack_from("<H", blk, e + 8)[0]
            if ilen + 8 > alloc:
                raise SystemExit("no room in the INDX block")
            struct.pack_into("<HHH", blk, e + 8, elen + 8, 0, 3)
            struct.pack_into("<q", blk, e + elen, 0)
            struct.pack_into("<I", blk, ih + 4, ilen + 8)
        vol.write_value(runs, 0, refix(blk))
        return
    elif case == "attr-list-self":
        p = find_attr(rec, AT_ATTRIBUTE_LIST)
        if rec[p + 8]:
            runs = decode_runs(rec, p)
            lst = bytearray(vol.read_value(runs, 0, vol.cs))
            struct.pack_into("<I", lst, 0, AT_ATTRIBUTE_LIST)
            vol.write_value(runs, 0, lst)
            return
        vofs = struct.unpack_from("<H", rec, p + 0x14)[0]
        struct.pack_into("<I", rec, p + vofs, AT_ATTRIBUTE_LIST)
    else:
        raise SystemExit("unknown case " + case)
    vol.put_record(n, rec)


if __name__ == "__main__":
    main()
