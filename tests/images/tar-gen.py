#!/usr/bin/env python3
# Generate tar archives for tests/test-format-tar.sh.
#   tar-gen.py CASE OUT [FILE...]
# Python's tarfile writes every member type without privileges; a few
# cases patch header bytes afterwards (and recompute the checksum unless
# the point is a bad checksum).
import io
import struct
import sys
import tarfile


def add(t, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1700000000
    for k, v in kw.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if data else None)


def add_file(t, name, path):
    with open(path, "rb") as f:
        add(t, name, f.read())


def header_checksum(block):
    b = bytearray(block)
    b[148:156] = b" " * 8
    return sum(b)


def set_checksum(buf, off):
    s = header_checksum(buf[off:off + 512])
    buf[off + 148:off + 156] = b"%06o\0 " % s


def patch(out, fn):
    with open(out, "r+b") as f:
        buf = bytearray(f.read())
        fn(buf)
        f.seek(0)
        f.write(buf)
        f.truncate(len(buf))


def ovf(hrefs):
    files = "\n".join('    <File ovf:href="%s" ovf:id="file%d"/>' % (h, i)
                      for i, h in enumerate(hrefs))
    return ("""<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
%s
  </References>
  <DiskSection><Info>disks</Info></DiskSection>
</Envelope>
""" % files).encode()


def main():
    case, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    fmt = tarfile.GNU_FORMAT if case in ("gnu-long", "base256",
                                         "links") else tarfile.PAX_FORMAT
    if case in ("ustar", "bad-checksum", "traversal", "absolute",
                "duplicate", "truncated", "hidden-member", "empty-name",
                "link-size", "ova", "ova-bad-href", "ova-missing",
                "ova-flat", "files"):
        fmt = tarfile.USTAR_FORMAT
    with tarfile.open(out, "w", format=fmt) as t:
        if case in ("ustar", "files", "truncated", "bad-checksum",
                    "hidden-member"):
            # FILE... as members named by their base name, or a text file
            for p in files:
                add_file(t, p.rsplit("/", 1)[-1], p)
            if not files:
                add(t, "readme.txt", b"hello\n" * 200)
        elif case == "chain":
            # chain NAME=PATH...: members with explicit names
            for spec in files:
                name, path = spec.split("=", 1)
                add_file(t, name, path)
        elif case == "ova":
            add(t, "vm.ovf", ovf(["disk.vmdk"]))
            add_file(t, "disk.vmdk", files[0])
        elif case == "ova-bad-href":
            add(t, "vm.ovf", ovf(["disk.vmdk", "../../etc/passwd",
                                  "/etc/shadow"]))
            add_file(t, "disk.vmdk", files[0])
        elif case == "ova-missing":
            add(t, "vm.ovf", ovf(["disk.vmdk", "other.vmdk"]))
            add_file(t, "disk.vmdk", files[0])
        elif case == "ova-flat":
            add(t, "vm.ovf", ovf(["disk.vmdk"]))
            add_file(t, "disk.vmdk", files[0])
        elif case == "traversal":
            add(t, "ok.txt", b"fine")
            add(t, "../../etc/passwd", b"root::0:0::/root:/bin/sh\n")
        elif case == "absolute":
            add(t, "/etc/cron.d/evil", b"* * * * * root sh\n")
        elif case == "symlink":
            add(t, "disk.img", type=tarfile.SYMTYPE, linkname="/etc/shadow")
        elif case == "hardlink":
            add(t, "disk.img", type=tarfile.LNKTYPE, linkname="/etc/shadow")
        elif case == "device":
            add(t, "sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0)
            add(t, "mem", type=tarfile.CHRTYPE, devmajor=1, devminor=1)
        elif case == "fifo":
            add(t, "pipe", type=tarfile.FIFOTYPE)
        elif case == "duplicate":
            add(t, "disk.img", b"first")
            add(t, "./disk.img", b"second")
        elif case == "pax-traversal":
            add(t, "harmless.img", b"data",
                pax_headers={"path": "vm/../../../root/.ssh/authorized_keys"})
        elif case == "pax-size":
            # the pax size overrides the ustar size field
            add(t, "small", b"x" * 1000, pax_headers={"size": "1000"})
            add(t, "after", b"y")
        elif case == "gnu-long":
            add(t, "very/" * 40 + "long-name.img", b"data")
        elif case == "base256":
            add(t, "big.img", b"z" * 1000)
            add(t, "after", b"y")
        elif case == "empty-name":
            add(t, "placeholder", b"data")
        elif case == "link-size":
            add(t, "dir", type=tarfile.DIRTYPE)
            add(t, "after", b"y")
        elif case == "links":
            add(t, "a", b"data")
            add(t, "b", type=tarfile.LNKTYPE, linkname="a")
        else:
            sys.exit("unknown case " + case)

    # byte patches after writing
    if case == "bad-checksum":
        def fn(buf):
            buf[0] ^= 0x20  # change the name, keep the old checksum
        patch(out, fn)
    elif case == "base256":
        def fn(buf):
            # size 1000 as GNU base-256 (0x80, big-endian in 11 bytes)
            buf[124:136] = b"\x80" + (1000).to_bytes(11, "big")
            set_checksum(buf, 0)
        patch(out, fn)
    elif case == "base256-negative":
        pass
    elif case == "empty-name":
        def fn(buf):
            buf[0:100] = b"\0" * 100
            set_checksum(buf, 0)
        patch(out, fn)
    elif case == "link-size":
        def fn(buf):
            # a hard-link-style header with a size: tools disagree on
            # whether data follows; make the directory a hard link
            buf[156:157] = b"1"
            buf[157:161] = b"dir2"
            buf[124:136] = b"%011o\0" % 512
            set_checksum(buf, 0)
        patch(out, fn)
    elif case == "hidden-member":
        # a member after the end-of-archive marker: tar -i sees it
        with tarfile.open(out) as t:
            t.getmembers()
            end = t.offset + 1024  # past the two zero blocks
        extra = io.BytesIO()
        with tarfile.open(fileobj=extra, mode="w",
                          format=tarfile.USTAR_FORMAT) as t:
            add(t, "hidden.img", b"surprise")
        with open(out, "r+b") as f:
            f.seek(end)
            f.write(extra.getvalue())


main()
