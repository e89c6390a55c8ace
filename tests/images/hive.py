#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write Windows registry hives (regf) for the scanner's tests.

A small, readable writer, not a registry editor: it lays out a whole hive
from a description in one go. Layout follows the REGF format as libyal
documents it and as hivex reads it (base block, 4 KiB-multiple hbins,
cells whose size is a negative multiple of 8 when allocated).

Usage:
  hive.py OUT.hive SPEC.json      (SPEC "-" reads stdin)
  import hive; data = hive.build(spec); hive.write('OUT', spec)

SPEC is the root key, as JSON:

  {"name": "ROOT",                  root key name (optional, "ROOT")
   "minor": 5,                      base block minor version (optional, 5;
                                    big data "db" cells need >= 4)
   "file-name": "SOFTWARE",         base block file name (optional)
   "bin-size": 65536,               bins at least this big (a multiple of
                                    4096; default 4096): cells then sit
                                    pages away from their bin's header
   "values": {NAME: VALUE, ...},    "" is the key's default value
   "keys":   {NAME: KEY, ...}}      KEY has the same shape (no minor/file-name)

  KEY may also carry:
   "subkey-list": "lh" | "lf" | "li" | "ri"
          how its subkeys are listed (default "lh"; Windows writes lh)
   "ri-chunk": N      with "ri": subkeys per leaf list (default 500)
   "ri-leaf": "li" | "lh"   with "ri": the leaf list kind (default "li")
   "utf16-name": true  store the key's own name as UTF-16LE even when it
          fits in Latin-1 (a name outside Latin-1 always is UTF-16LE;
          otherwise names are "compressed", flag 0x20)

  VALUE is {"type": T, "data": D} (plus optional "utf16-name": true,
  "inline": false to keep data <= 4 bytes out of the offset field,
  "big-data": false to keep data > 16344 bytes in one cell instead of a
  db list). T and D:
   "sz", "expand_sz", "link"   D a string: written UTF-16LE + NUL
   "multi_sz"        D a list of strings: each + NUL, then a final NUL
   "dword", "dword_be"  D an integer        "qword"  D an integer
   "binary", "none"  D hex ("01ff"), or {"size": N, "pattern": "hex"}
                     (the pattern repeated to N bytes; default "00")
   an integer T      any type number; D as for "binary"
  and for any T, "raw": hex or {"size":, "pattern":} gives the exact data
  bytes instead of encoding D (odd-length strings, wrong-size dwords).

Values of more than 16344 bytes go into "db" big-data cells (segments of
16344 bytes) when minor >= 4, as Windows writes them. Keys share one "sk"
security cell. Subkeys are sorted by upper-cased name, as Windows keeps
them. The base block checksum is the XOR of its first 127 dwords.

build_layout(spec) returns (bytes, offsets): offsets maps a key path
("" root, "Microsoft\\\\Windows NT") to {"nk", "subkeys", "values",
"ri-leaves": [...], "vk": {name: off}, "data": {name: off}, "db": {name:
off}, "segments": {name: [offs]}} (hive-data offsets, i.e. file offset
- 4096, pointing at the cell's size field), for tests that corrupt one
structure; fix_checksum(buf) re-seals a patched base block.
"""
import json
import struct
import sys

BASE_BLOCK = 4096
HBIN_HEADER = 32
BIN_UNIT = 4096
BIG_DATA_SEGMENT = 16344  # CM_KEY_VALUE_BIG: largest data in one cell

TYPES = {"none": 0, "sz": 1, "expand_sz": 2, "binary": 3, "dword": 4,
         "dword_be": 5, "link": 6, "multi_sz": 7, "qword": 11}

KEY_HIVE_ENTRY = 0x0004
KEY_NO_DELETE = 0x0008
KEY_COMP_NAME = 0x0020
VALUE_COMP_NAME = 0x0001
NONE = 0xffffffff


def _pattern(d):
    if isinstance(d, str):
        return bytes.fromhex(d)
    pat = bytes.fromhex(d.get("pattern", "00")) or b"\0"
    n = int(d["size"])
    return (pat * (n // len(pat) + 1))[:n]


def encode_data(v):
    """A value spec's data bytes and type number."""
    t = v.get("type", "binary")
    tn = TYPES[t] if isinstance(t, str) else int(t)
    if "raw" in v:
        return tn, _pattern(v["raw"])
    d = v.get("data")
    if t in ("sz", "expand_sz", "link"):
        return tn, (d + "\0").encode("utf-16-le")
    if t == "multi_sz":
        return tn, "".join(s + "\0" for s in d).encode("utf-16-le") + b"\0\0"
    if t == "dword":
        return tn, struct.pack("<I", d & 0xffffffff)
    if t == "dword_be":
        return tn, struct.pack(">I", d & 0xffffffff)
    if t == "qword":
        return tn, struct.pack("<Q", d & 0xffffffffffffffff)
    return tn, _pattern(d if d is not None else "")


def encode_name(name, force_utf16=False):
    """(bytes, compressed?): Latin-1 "compressed" names unless told."""
    if not force_utf16:
        try:
            return name.encode("latin-1"), True
        except UnicodeEncodeError:
            pass
    return name.encode("utf-16-le"), False


def upcase_unit(u):
    """One UTF-16 unit upper-cased, as RtlUpcaseUnicodeChar (units whose
    upper case is not one BMP unit stay as they are)."""
    c = chr(u).upper() if not 0xd800 <= u <= 0xdfff else chr(u)
    return ord(c) if len(c) == 1 and ord(c) < 0x10000 else u


def lh_hash(name):
    """lh hint: h = h * 37 + upcase(u) over the name's UTF-16 units."""
    h = 0
    b = name.encode("utf-16-le", "surrogatepass")
    for (u,) in struct.iter_unpack("<H", b):
        h = (h * 37 + upcase_unit(u)) & 0xffffffff
    return h


def sort_key(name):
    b = name.encode("utf-16-le", "surrogatepass")
    return [upcase_unit(u) for (u,) in struct.iter_unpack("<H", b)]


def fix_checksum(buf):
    """XOR of the base block's first 127 dwords, stored at 0x1fc."""
    s = 0
    for (d,) in struct.iter_unpack("<I", bytes(buf[:0x1fc])):
        s ^= d
    buf[0x1fc:0x200] = struct.pack("<I", s)
    return s


class _Cell:
    def __init__(self, size):
        self.size = size   # content bytes (the size field excluded)
        self.off = None
        self.data = None   # content, filled once every offset is known


class _Allocator:
    """Cells in allocation order, packed into 4 KiB bins (bigger bins for
    bigger cells); the tail of a bin is one free cell."""

    def __init__(self, bin_size=BIN_UNIT):
        assert bin_size % BIN_UNIT == 0 and bin_size > 0
        self.bin_size = bin_size
        self.cells = []

    def new(self, size):
        c = _Cell(size)
        self.cells.append(c)
        return c

    def layout(self):
        bins = []  # [start, size]
        pos = 0    # next free hive-data offset
        end = 0    # end of the current bin
        for c in self.cells:
            need = (c.size + 4 + 7) & ~7
            if pos + need > end:
                start = end
                size = max(self.bin_size,
                           (HBIN_HEADER + need + BIN_UNIT - 1) // BIN_UNIT * BIN_UNIT)
                bins.append([start, size])
                pos = start + HBIN_HEADER
                end = start + size
            c.off = pos
            c.alloc = need
            pos += need
        if not bins:
            bins.append([0, BIN_UNIT])
        return bins

    def render(self, bins):
        total = bins[-1][0] + bins[-1][1]
        out = bytearray(total)
        for i, (start, size) in enumerate(bins):
            out[start:start + HBIN_HEADER] = struct.pack(
                "<4sIIQQI", b"hbin", start, size, 0,
                0x01d0000000000000 if i == 0 else 0, 0)
        used = {}
        for c in self.cells:
            assert c.data is not None and len(c.data) <= c.size, c.size
            out[c.off:c.off + 4] = struct.pack("<i", -c.alloc)
            out[c.off + 4:c.off + 4 + len(c.data)] = c.data
            used[c.off] = c.alloc
        # free space: one free (positive-size) cell per gap
        for start, size in bins:
            p = start + HBIN_HEADER
            while p < start + size:
                if p in used:
                    p += used[p]
                    continue
                q = p
                while q < start + size and q not in used:
                    q += 8
                out[p:p + 4] = struct.pack("<i", q - p)
                p = q
        return out


class _Builder:
    """One pass allocates every cell (sizes never depend on offsets) and
    queues a closure per cell that names offsets; the closures run once
    the cells are laid out in bins."""

    def __init__(self, spec):
        self.spec = spec
        self.minor = int(spec.get("minor", 5))
        self.a = _Allocator(int(spec.get("bin-size", BIN_UNIT)))
        self.late = []
        self.offsets = {}
        self.nkeys = 0

    def key(self, name, spec, path, parent):
        self.nkeys += 1
        nbytes, comp = encode_name(name, spec.get("utf16-name", False))
        nk = self.a.new(76 + len(nbytes))
        info = {"nk": nk, "vk": {}, "data": {}, "db": {}, "segments": {}}
        self.offsets[path] = info
        values = spec.get("values", {})
        vl = self.a.new(4 * len(values)) if values else None
        info["values"] = vl
        vks = [self.value(vname, v, info) for vname, v in values.items()]
        max_vname = max([2 * len(n) for n in values], default=0)
        max_vdata = max([len(encode_data(v)[1]) for v in values.values()],
                        default=0)
        keys = spec.get("keys", {})
        names = sorted(keys, key=sort_key)
        lists = self.subkey_lists(names, spec.get("subkey-list", "lh"),
                                  spec, info)
        children = [self.key(n, keys[n], n if not path else path + "\\" + n,
                             nk) for n in names]
        flags = KEY_COMP_NAME if comp else 0
        if parent is None:
            flags |= KEY_HIVE_ENTRY | KEY_NO_DELETE
        max_sub = max([2 * len(n) for n in names], default=0)

        def fill():
            if vl:
                vl.data = b"".join(struct.pack("<I", c.off) for c in vks)
            lists(children)
            nk.data = struct.pack(
                "<2sHQIIIIIIIIIIIIIIIHH", b"nk", flags, 0x01d0000000000000,
                0, parent.off if parent else NONE, len(names), 0,
                info["subkeys"].off if names else NONE, NONE,
                len(values), vl.off if vl else NONE, self.sk.off, NONE,
                max_sub, 0, max_vname, max_vdata, 0,
                len(nbytes), 0) + nbytes
        self.late.append(fill)
        return nk

    def subkey_lists(self, names, kind, spec, info):
        """Allocate the list cells now; the returned function fills them
        once the children's nk cells have offsets."""
        info["ri-leaves"] = []
        if not names:
            info["subkeys"] = None
            return lambda children: None
        if kind != "ri":
            width = 8 if kind in ("lh", "lf") else 4
            cell = self.a.new(4 + width * len(names))
            info["subkeys"] = cell

            def fill(children):
                cell.data = self.leaf(kind, names, children)
            return fill
        chunk = int(spec.get("ri-chunk", 500))
        leaf_kind = spec.get("ri-leaf", "li")
        lw = 8 if leaf_kind in ("lh", "lf") else 4
        groups = [list(range(i, min(i + chunk, len(names))))
                  for i in range(0, len(names), chunk)]
        ri = self.a.new(4 + 4 * len(groups))
        info["subkeys"] = ri
        leaves = [self.a.new(4 + lw * len(g)) for g in groups]
        info["ri-leaves"] = leaves

        def fill_ri(children):
            for g, leaf in zip(groups, leaves):
                leaf.data = self.leaf(leaf_kind, [names[i] for i in g],
                                      [children[i] for i in g])
            ri.data = struct.pack("<2sH", b"ri", len(leaves)) + b"".join(
                struct.pack("<I", c.off) for c in leaves)
        return fill_ri

    @staticmethod
    def leaf(kind, names, children):
        out = struct.pack("<2sH", kind.encode(), len(names))
        for n, c in zip(names, children):
            if kind == "lh":
                out += struct.pack("<II", c.off, lh_hash(n))
            elif kind == "lf":
                out += struct.pack("<I", c.off) + \
                    n.encode("latin-1", "replace")[:4].ljust(4, b"\0")
            else:
                out += struct.pack("<I", c.off)
        return out

    def value(self, vname, v, info):
        nbytes, comp = encode_name(vname, v.get("utf16-name", False))
        tn, data = encode_data(v)
        vk = self.a.new(20 + len(nbytes))
        info["vk"][vname] = vk
        size = len(data)
        target = None   # the cell the offset field names, if any
        inline = 0
        if size <= 4 and v.get("inline", True):
            # data in the offset field itself (top bit of the length)
            inline = struct.unpack("<I", data.ljust(4, b"\0"))[0]
            size |= 0x80000000
        elif (size > BIG_DATA_SEGMENT and self.minor >= 4
              and v.get("big-data", True)):
            segs = [data[i:i + BIG_DATA_SEGMENT]
                    for i in range(0, size, BIG_DATA_SEGMENT)]
            db = self.a.new(8)
            seglist = self.a.new(4 * len(segs))
            cells = []
            for s in segs:
                c = self.a.new(len(s))
                c.data = s
                cells.append(c)
            info["db"][vname] = db
            info["data"][vname] = seglist
            info["segments"][vname] = cells

            def fill_db():
                db.data = struct.pack("<2sHI", b"db", len(cells), seglist.off)
                seglist.data = b"".join(struct.pack("<I", c.off)
                                        for c in cells)
            self.late.append(fill_db)
            target = db
        else:
            c = self.a.new(max(size, 1))
            c.data = data
            info["data"][vname] = c
            target = c

        def fill_vk():
            vk.data = struct.pack(
                "<2sHIIIHH", b"vk", len(nbytes), size,
                target.off if target else inline, tn,
                VALUE_COMP_NAME if comp else 0, 0) + nbytes
        self.late.append(fill_vk)
        return vk


def build_layout(spec):
    b = _Builder(spec)
    b.sk = b.a.new(40)
    b.key(spec.get("name", "ROOT"), spec, "", None)
    bins = b.a.layout()
    for f in b.late:
        f()
    sk = b.sk
    # one security descriptor (self-relative, no owner/ACLs) for all keys
    sk.data = struct.pack("<2sHIIII", b"sk", 0, sk.off, sk.off, b.nkeys,
                          20) + struct.pack("<BBHIIII", 1, 0, 0x8000,
                                            0, 0, 0, 0)
    data = b.a.render(bins)
    root = b.offsets[""]["nk"].off
    head = bytearray(BASE_BLOCK)
    fname = spec.get("file-name", "")[-31:].encode("utf-16-le")
    # regf, sequence numbers (equal: clean), timestamp, major 1, minor,
    # type 0 (primary), format 1, root cell, hive bins data size,
    # clustering factor 1
    struct.pack_into("<4sIIQIIIIIII", head, 0, b"regf", 1, 1,
                     0x01d0000000000000, 1, b.minor, 0, 1, root, len(data),
                     1)
    head[0x30:0x30 + len(fname)] = fname
    fix_checksum(head)
    offs = {}
    for path, info in b.offsets.items():
        o = {}
        for k, v in info.items():
            if isinstance(v, _Cell):
                o[k] = v.off
            elif v is None:
                o[k] = None
            elif isinstance(v, list):
                o[k] = [c.off for c in v]
            else:
                o[k] = {n: (c.off if isinstance(c, _Cell)
                            else [x.off for x in c]) for n, c in v.items()}
        offs[path] = o
    return bytes(head + data), offs


def build(spec):
    return build_layout(spec)[0]


def write(path, spec):
    with open(path, "wb") as f:
        f.write(build(spec))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 64
    src = sys.stdin if argv[2] == "-" else open(argv[2])
    with src:
        spec = json.load(src)
    write(argv[1], spec)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
