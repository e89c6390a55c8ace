#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz/fuzz-ntfs-index.c: directory index nodes as stored: the
# INDX blocks (fixups in place) and $INDEX_ROOT values of directories of
# an mkntfs volume filled through ntfs-3g (a directory of 300 names:
# several INDX blocks; needs root and FUSE) or, without FUSE, of a bare
# mkntfs volume (the root's). Run by fuzz/make-seeds as
# `ntfs-index.sh OUTDIR CAP`, TOP set.
set -eu
out=$1
cap=$2
py=$(python3 -c 'import sys; print(sys.executable)')
mkdir -p "$out"
command -v mkntfs >/dev/null || { echo "ntfs-index.sh: no mkntfs, no seeds" >&2; exit 0; }
truncate -s 4M ix.img
mkntfs -F -f -q ix.img >/dev/null 2>&1 || exit 0
dirs=5
if [ "$(id -u)" = 0 ] && [ -e /dev/fuse ] && command -v ntfs-3g >/dev/null; then
	mkdir -p mnt
	if ntfs-3g ix.img mnt 2>/dev/null; then
		mkdir -p mnt/Big mnt/Small/Ünï
		for i in $(seq 1 300); do : > "mnt/Big/Entry $i with a long name"; done
		: > mnt/Small/a
		umount mnt
		dirs="5 64 65 66"
	fi
fi
"$py" - "$TOP/tests/images" "$out" ix.img $dirs <<'PYEOF'
import importlib.machinery, struct, sys
lib = importlib.machinery.SourceFileLoader(
    "ntfs_corrupt", sys.argv[1] + "/ntfs-corrupt.py").load_module()
out, img = sys.argv[2], sys.argv[3]
vol = lib.Volume(img)
for n in map(int, sys.argv[4:]):
    try:
        rec = vol.record(n)
        p = lib.find_attr(rec, lib.AT_INDEX_ROOT, "$I30")
    except SystemExit:
        continue
    vofs, = struct.unpack_from("<H", rec, p + 0x14)
    vlen, = struct.unpack_from("<I", rec, p + 0x10)
    open("%s/root-%d" % (out, n), "wb").write(bytes(rec[p + vofs:p + vofs + vlen]))
    try:
        runs, bs = lib.first_indx(vol, rec)
    except SystemExit:
        continue
    total = sum(l for _, _, l in runs) * vol.cs
    for k in range(min(total // bs, 8)):
        blk = vol.read_value(runs, k * bs, bs)
        if blk[:4] == b"INDX":
            open("%s/indx-%d-%d" % (out, n, k), "wb").write(blk)
PYEOF
find "$out" -type f -size +"$cap"c -delete
