#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz/fuzz-nbd.c: NBD client conversations as qemu's client
# has them (doc/proto.md of the NBD project): the fixed-newstyle flags,
# NBD_OPT_STRUCTURED_REPLY and SET_META_CONTEXT (refused), NBD_OPT_GO or
# the old NBD_OPT_EXPORT_NAME, then reads, writes (with FUA), flushes and
# a disconnect; one per export kind (first byte: 0 read-only, 1
# read-write, 2 growable). Run by fuzz/make-seeds as `nbd.sh OUTDIR CAP`.
set -eu
out=$1
mkdir -p "$out"
python3 - "$out" <<'PYEOF'
import struct, sys
out = sys.argv[1]
OPT = 0x49484156454F5054
def opt(o, data=b""):
    return struct.pack(">QII", OPT, o, len(data)) + data
def req(t, off, length, data=b"", flags=0, cookie=1):
    return struct.pack(">IHHQQI", 0x25609513, flags, t, cookie, off, length) + data
go = opt(7, struct.pack(">I", 0) + struct.pack(">H", 0))
hs = struct.pack(">I", 3) + opt(8) + opt(10, struct.pack(">I", 0) + struct.pack(">I", 0)) + go
io = (req(0, 0, 4096) + req(1, 8192, 512, b"\xab" * 512, flags=1, cookie=2)
      + req(3, 0, 0, cookie=3) + req(0, 65536 - 512, 512, cookie=4)
      + req(0, 65536, 512, cookie=5) + req(2, 0, 0, cookie=6))
for kind in (0, 1, 2):
    with open(f"{out}/go-{kind}", "wb") as f:
        f.write(bytes([kind]) + hs + io)
old = struct.pack(">I", 3) + opt(1, b"disk") + io
with open(f"{out}/export-name-1", "wb") as f:
    f.write(b"\x01" + old)
with open(f"{out}/info-abort-0", "wb") as f:
    f.write(b"\x00" + struct.pack(">I", 1) + opt(6, struct.pack(">IH", 0, 0)) + opt(2))
with open(f"{out}/growth-2", "wb") as f:
    f.write(b"\x02" + hs + req(1, 65536, 4096, b"\x01" * 4096, cookie=7)
            + req(0, 65536 + 8000, 8192, cookie=8) + req(2, 0, 0))
PYEOF
