#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Broken registry hives for the hive reader's tests.

  hive-corrupt.py OUTDIR [--small]   write OUTDIR/<case>.hive for every
                               case (--small: "Many" has 30 subkeys in
                               ri-listed lists of 8, for fuzzing seeds)
  hive-corrupt.py --list       the case names, one a line

Each case is one hive built by hive.py from BASE (below) with one
structure damaged, named after what is wrong. The base: a
Microsoft\\Windows NT\\CurrentVersion key with a string, a DWORD and a
40000-byte (big data) value; a key "Many" with 1200 subkeys listed
through an ri list of li lists; a key "Loop" with one subkey.
OUTDIR/good.hive is the base itself.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hive  # noqa: E402

CV = "Microsoft\\Windows NT\\CurrentVersion"
BASE = {
    "keys": {
        "Microsoft": {"keys": {"Windows NT": {"keys": {"CurrentVersion": {
            "values": {
                "ProductName": {"type": "sz", "data": "Windows 10 Pro"},
                "CurrentMajorVersionNumber": {"type": "dword", "data": 10},
                "Big": {"type": "binary",
                        "data": {"size": 40000, "pattern": "5a"}},
            }}}}}},
        "Many": {"subkey-list": "ri", "ri-chunk": 500,
                 "keys": {"k%04d" % i: {} for i in range(1200)}},  # cases()
        "Loop": {"keys": {"Child": {}}},
    }
}

D = hive.BASE_BLOCK  # file offset of hive-data offset 0


def u32(buf, off, v):
    buf[off:off + 4] = struct.pack("<I", v & 0xffffffff)


def i32(buf, off, v):
    buf[off:off + 4] = struct.pack("<i", v)


def u16(buf, off, v):
    buf[off:off + 2] = struct.pack("<H", v)


def bin_of(buf, cell):
    """(start, size) of the bin holding hive-data offset cell."""
    p = 0
    while True:
        size = struct.unpack_from("<I", buf, D + p + 8)[0]
        if p <= cell < p + size:
            return p, size
        p += size


def cases(small=False):
    base = dict(BASE, keys=dict(BASE["keys"]))
    if small:
        base["keys"]["Many"] = {"subkey-list": "ri", "ri-chunk": 8,
                                "keys": {"k%04d" % i: {} for i in range(30)}}
    data, offs = hive.build_layout(base)
    cv = offs[CV]
    nt = offs["Microsoft\\Windows NT"]
    ms = offs["Microsoft"]
    many = offs["Many"]
    loop = offs["Loop"]
    nk_cv = D + cv["nk"] + 4          # content of CurrentVersion's nk
    vk_pn = D + cv["vk"]["ProductName"] + 4
    vk_big = D + cv["vk"]["Big"] + 4
    db_big = D + cv["db"]["Big"] + 4

    def case(fn):
        buf = bytearray(data)
        fn(buf)
        return bytes(buf)

    def header(fn):
        def f(buf):
            fn(buf)
            hive.fix_checksum(buf)
        return f

    def lh_entry(buf, key, i, child):
        """Point entry i of key's (lh/lf) subkey list at child."""
        u32(buf, D + key["subkeys"] + 4 + 4 + 8 * i, child)

    out = {"good": data}
    # base block
    out["bad-checksum"] = case(lambda b: u32(b, 0x1fc, struct.unpack_from(
        "<I", b, 0x1fc)[0] ^ 1))
    out["bad-signature"] = case(header(lambda b: b.__setitem__(
        slice(0, 4), b"rexf")))
    out["bad-version"] = case(header(lambda b: u32(b, 20, 2)))
    out["root-past-data"] = case(header(lambda b: u32(
        b, 36, len(data) - D + 0x1000)))
    out["data-size-odd"] = case(header(lambda b: u32(
        b, 40, len(data) - D - 8)))
    out["truncated"] = data[:len(data) - 4096]
    # bins
    start, _ = bin_of(data, cv["nk"])
    assert start != 0 or small
    out["hbin-offset"] = case(lambda b: u32(b, D + start + 4, start + 4096))
    out["hbin-size"] = case(lambda b: u32(b, D + start + 8, 0x10000000))
    # cells: CurrentVersion's nk
    out["cell-size-zero"] = case(lambda b: i32(b, D + cv["nk"], 0))
    out["cell-size-huge"] = case(lambda b: i32(b, D + cv["nk"], -0x7ffffff8))
    bstart, bsize = bin_of(data, cv["nk"])
    out["cell-past-bin"] = case(lambda b: i32(
        b, D + cv["nk"], -(bstart + bsize - cv["nk"] + 8)))
    out["cell-free"] = case(lambda b: i32(b, D + cv["nk"], struct.unpack_from(
        "<i", b, D + cv["nk"])[0] * -1))
    out["cell-unaligned"] = case(lambda b: lh_entry(b, nt, 0, cv["nk"] + 4))
    out["nk-name-past-cell"] = case(lambda b: u16(b, nk_cv + 72, 0xffff))
    out["nk-signature"] = case(lambda b: b.__setitem__(
        slice(nk_cv, nk_cv + 2), b"kn"))
    out["nk-too-many-subkeys"] = case(lambda b: u32(b, nk_cv + 20, 70001))
    out["nk-too-many-values"] = case(lambda b: u32(b, nk_cv + 36, 110001))
    # subkey lists
    out["list-self"] = case(lambda b: lh_entry(b, nt, 0, nt["nk"]))
    out["list-ancestor"] = case(lambda b: lh_entry(b, nt, 0, ms["nk"]))
    out["list-parent"] = case(lambda b: lh_entry(
        b, loop, 0, offs[""]["nk"]))
    out["list-count"] = case(lambda b: u32(
        b, D + nt["nk"] + 4 + 20, 2))
    out["list-entries-past-cell"] = case(lambda b: u16(
        b, D + nt["subkeys"] + 4 + 2, 0x4000))
    out["list-signature"] = case(lambda b: b.__setitem__(
        slice(D + nt["subkeys"] + 4, D + nt["subkeys"] + 6), b"xx"))
    ri = D + many["subkeys"] + 4
    out["ri-self"] = case(lambda b: u32(b, ri + 4, many["subkeys"]))
    leaf = D + many["ri-leaves"][0] + 4
    out["ri-nested"] = case(lambda b: b.__setitem__(
        slice(leaf, leaf + 2), b"ri"))
    # values
    out["vk-data-past-cell"] = case(lambda b: u32(b, vk_pn + 4, 0x2000))
    out["vk-inline-too-long"] = case(lambda b: u32(b, vk_pn + 4, 0x80000010))
    out["vk-name-past-cell"] = case(lambda b: u16(b, vk_pn + 2, 0x4000))
    out["vk-9mb"] = case(lambda b: u32(b, vk_big + 4, 9000000))
    out["vk-dword-size"] = case(lambda b: u32(
        b, D + cv["vk"]["CurrentMajorVersionNumber"] + 4 + 4, 0x80000002))
    out["db-too-many-segments"] = case(lambda b: u16(b, db_big + 2, 0xffff))
    out["db-too-few-segments"] = case(lambda b: u16(b, db_big + 2, 1))
    out["db-segment-small"] = case(lambda b: u32(
        b, D + cv["data"]["Big"] + 4, cv["nk"]))
    return out


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(cases()))
        return 0
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--small"):
        sys.stderr.write(__doc__)
        return 64
    os.makedirs(argv[1], exist_ok=True)
    for name, data in cases(len(argv) == 3).items():
        with open(os.path.join(argv[1], name + ".hive"), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
