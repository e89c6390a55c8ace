#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cmp for large sparse files: exit 0 when A and B have the same size and
bytes, 1 otherwise. Only the data ranges of either file (SEEK_DATA /
SEEK_HOLE) are read: ranges that are holes in both are equal, and reading
gigabytes of holes is what makes plain cmp slow on multi-GiB test disks.

  sparse-cmp.py A B
"""
import os
import sys

CHUNK = 1 << 20


def data_ranges(fd, size):
    pos = 0
    while pos < size:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            return  # ENXIO: a hole to the end
        h = os.lseek(fd, d, os.SEEK_HOLE)
        yield d, min(h, size)
        pos = h


def main():
    fa = os.open(sys.argv[1], os.O_RDONLY)
    fb = os.open(sys.argv[2], os.O_RDONLY)
    size = os.fstat(fa).st_size
    if os.fstat(fb).st_size != size:
        print("sizes differ", file=sys.stderr)
        return 1
    ranges = sorted(list(data_ranges(fa, size)) + list(data_ranges(fb, size)))
    for start, end in ranges:
        pos = start
        while pos < end:
            n = min(CHUNK, end - pos)
            if os.pread(fa, n, pos) != os.pread(fb, n, pos):
                print("differ in [%d, %d)" % (pos, pos + n), file=sys.stderr)
                return 1
            pos += n
    return 0


if __name__ == "__main__":
    sys.exit(main())
