#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Byte patches on VMDK sparse extents made by qemu-img (test fixtures).

  vmdk.py set FILE FIELD=VALUE...   patch header fields (names below)
  vmdk.py desc FILE < TEXT          replace the embedded descriptor text
  vmdk.py gd FILE INDEX VALUE       set grain directory entry INDEX
  vmdk.py batch < COMMANDS          one "set"/"gd"/"footer" command a line
                                    (saves interpreter start-ups)
  vmdk.py footer FILE [FIELD=VALUE...|eos=bad]
        turn a stream-optimized file into the one-pass layout VMware
        writes: header gdOffset = GD_AT_END and a footer (footer marker,
        copy of the header with the real gdOffset, end-of-stream marker)
        appended; FIELD=VALUE patches the footer's copy only.
"""
import struct
import sys

# VMDK 5.0 SparseExtentHeader: name -> (offset, struct format)
FIELDS = {
    "version": (4, "<I"),
    "flags": (8, "<I"),
    "capacity": (12, "<Q"),
    "grain_size": (20, "<Q"),
    "desc_offset": (28, "<Q"),
    "desc_size": (36, "<Q"),
    "num_gtes": (44, "<I"),
    "rgd_offset": (48, "<Q"),
    "gd_offset": (56, "<Q"),
    "overhead": (64, "<Q"),
    "unclean": (72, "<B"),
    "compress": (77, "<H"),
}
GD_AT_END = 0xFFFFFFFFFFFFFFFF


def patch(buf, base, assignments):
    for a in assignments:
        name, value = a.split("=", 1)
        if name == "nl_check":
            buf[base + 73:base + 77] = value.encode().ljust(4, b"\0")[:4]
            continue
        off, fmt = FIELDS[name]
        struct.pack_into(fmt, buf, base + off, int(value, 0))


def main():
    if sys.argv[1] == "batch":
        for line in sys.stdin:
            if line.strip():
                run(line.split())
    else:
        run(sys.argv[1:])


def run(argv):
    cmd, path = argv[0], argv[1]
    args = argv[2:]
    with open(path, "rb") as f:
        d = bytearray(f.read())
    if cmd == "set":
        patch(d, 0, args)
    elif cmd == "desc":
        off = struct.unpack_from("<Q", d, 28)[0] * 512
        size = struct.unpack_from("<Q", d, 36)[0] * 512
        text = sys.stdin.buffer.read()  # not in batch mode
        assert len(text) <= size, "descriptor does not fit"
        d[off:off + size] = text + b"\0" * (size - len(text))
    elif cmd == "gd":
        gd = struct.unpack_from("<Q", d, 56)[0] * 512
        struct.pack_into("<I", d, gd + 4 * int(args[0]), int(args[1], 0))
    elif cmd == "footer":
        header = bytearray(d[0:512])
        marker = bytearray(512)
        struct.pack_into("<QII", marker, 0, 1, 0, 3)  # 1 sector, footer
        eos = bytearray(512)
        patch(header, 0, [a for a in args if not a.startswith("eos=")])
        if "eos=bad" in args:
            struct.pack_into("<I", eos, 12, 2)  # a GD marker, not EOS
        struct.pack_into("<Q", d, 56, GD_AT_END)
        d += marker + header + eos
    else:
        sys.exit("unknown command " + cmd)
    with open(path, "wb") as f:
        f.write(d)


if __name__ == "__main__":
    main()
