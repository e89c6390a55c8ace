#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a minimal, valid PE32/PE32+ executable (no code that does
anything: one .text section holding `ret`), so that file(1), libguestfs'
inspection (which takes a Windows guest's architecture from what file(1)
says of System32\\cmd.exe: "PE32 executable" -> i386, "PE32+ executable"
-> x86_64) and our own tests see the architecture we want.

Usage:
  pe-stub.py OUT ARCH [--subsystem console|gui|native] [--dll]
    ARCH: x86 (i386, PE32), amd64 (x86-64, PE32+), arm64 (PE32+),
          ia64 (PE32+)

Layout (Microsoft PE/COFF specification): DOS header ("MZ", e_lfanew at
0x3c) + a DOS stub, "PE\\0\\0", the COFF file header, the optional header
(magic 0x10b PE32 / 0x20b PE32+, 16 data directories, all empty), one
section header, the section at FileAlignment 0x200.
"""
import struct
import sys

MACHINES = {  # name: (COFF machine, PE32+?)
    "x86": (0x014c, False),
    "amd64": (0x8664, True),
    "arm64": (0xaa64, True),
    "ia64": (0x0200, True),
}
SUBSYSTEMS = {"native": 1, "gui": 2, "console": 3}

FILE_ALIGN = 0x200
SECT_ALIGN = 0x1000
PE_OFFSET = 0x80


def build(arch, subsystem="console", dll=False):
    machine, plus = MACHINES[arch]
    dos = bytearray(PE_OFFSET)
    dos[0:2] = b"MZ"
    struct.pack_into("<H", dos, 2, 0x90)      # bytes on last page
    struct.pack_into("<H", dos, 4, 3)         # pages in file
    struct.pack_into("<H", dos, 8, 4)         # header paragraphs
    struct.pack_into("<H", dos, 0x18, 0x40)   # relocation table offset
    struct.pack_into("<I", dos, 0x3c, PE_OFFSET)
    msg = b"This program cannot be run in DOS mode.\r\r\n$"
    dos[0x40:0x40 + 14] = bytes.fromhex("0e1fba0e00b409cd21b8014ccd21")
    dos[0x4e:0x4e + len(msg)] = msg

    n_dirs = 16
    opt_size = (112 if plus else 96) + 8 * n_dirs
    chars = 0x0002  # IMAGE_FILE_EXECUTABLE_IMAGE
    chars |= 0x0020 if plus else 0x0100  # LARGE_ADDRESS_AWARE / 32BIT_MACHINE
    if dll:
        chars |= 0x2000
    coff = struct.pack("<HHIIIHH", machine, 1, 0x5a000000, 0, 0, opt_size,
                       chars)

    headers_size = PE_OFFSET + 4 + len(coff) + opt_size + 40
    size_of_headers = (headers_size + FILE_ALIGN - 1) // FILE_ALIGN * FILE_ALIGN
    text = b"\xc3" if arch in ("x86", "amd64") else b"\xc0\x03\x5f\xd6"
    text_raw = (len(text) + FILE_ALIGN - 1) // FILE_ALIGN * FILE_ALIGN
    text_rva = SECT_ALIGN
    image_size = text_rva + SECT_ALIGN
    image_base = 0x140000000 if plus else 0x400000
    dll_chars = 0x8160 if plus else 0x8140  # NX, dynamic base, TS aware...

    opt = struct.pack("<HBBIIIII", 0x20b if plus else 0x10b, 14, 0,
                      text_raw, 0, 0, text_rva, text_rva)
    if not plus:
        opt += struct.pack("<I", 0)           # BaseOfData
        opt += struct.pack("<I", image_base)
    else:
        opt += struct.pack("<Q", image_base)
    opt += struct.pack("<IIHHHHHHIIIIHH", SECT_ALIGN, FILE_ALIGN,
                       10, 0, 10, 0, 10, 0, 0, image_size, size_of_headers,
                       0, SUBSYSTEMS[subsystem], dll_chars)
    if plus:
        opt += struct.pack("<QQQQII", 0x100000, 0x1000, 0x100000, 0x1000,
                           0, n_dirs)
    else:
        opt += struct.pack("<IIIIII", 0x100000, 0x1000, 0x100000, 0x1000,
                           0, n_dirs)
    opt += b"\0" * (8 * n_dirs)
    assert len(opt) == opt_size, (len(opt), opt_size)

    section = struct.pack("<8sIIIIIIHHI", b".text", len(text), text_rva,
                          text_raw, size_of_headers, 0, 0, 0, 0,
                          0x60000020)  # code, execute, read
    out = bytearray(dos + b"PE\0\0" + coff + opt + section)
    out += b"\0" * (size_of_headers - len(out))
    out += text + b"\0" * (text_raw - len(text))
    return bytes(out)


def main():
    args = sys.argv[1:]
    if len(args) < 2 or args[1] not in MACHINES:
        sys.exit("usage: pe-stub.py OUT x86|amd64|arm64|ia64 "
                 "[--subsystem console|gui|native] [--dll]")
    out, arch = args[0], args[1]
    subsystem, dll = "console", False
    rest = args[2:]
    while rest:
        if rest[0] == "--subsystem" and len(rest) > 1:
            subsystem = rest[1]
            rest = rest[2:]
        elif rest[0] == "--dll":
            dll = True
            rest = rest[1:]
        else:
            sys.exit(f"pe-stub.py: unknown option {rest[0]}")
    with open(out, "wb") as f:
        f.write(build(arch, subsystem, dll))


if __name__ == "__main__":
    main()
