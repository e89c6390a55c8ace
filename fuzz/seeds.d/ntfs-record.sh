#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz/fuzz-ntfs-record.c: MFT records as stored (fixups in
# place) from mkntfs volumes (1 KiB and 4 KiB records) and, with root
# and FUSE, from a Windows volume of tests/images/windows-disk.sh
# (directories, non-resident $DATA, hard links): each seed is a
# selector byte (volume size, see the harness) and one record. Run by
# fuzz/make-seeds as `ntfs-record.sh OUTDIR CAP`, TOP set.
set -eu
out=$1
cap=$2
py=$(python3 -c 'import sys; print(sys.executable)')
mkdir -p "$out"
command -v mkntfs >/dev/null || { echo "ntfs-record.sh: no mkntfs, no seeds" >&2; exit 0; }
vols=()
truncate -s 2M r1.img
mkntfs -F -f -q r1.img >/dev/null 2>&1 && vols+=(r1.img)
truncate -s 2M r4.img
mkntfs -F -f -q -s 4096 r4.img >/dev/null 2>&1 && vols+=(r4.img)
"$TOP/tests/images/windows-disk.sh" rw.img --volume-only --ntfs-kib 2048 \
	>/dev/null 2>&1 && vols+=(rw.img)
"$py" - "$TOP/tests/images" "$out" "${vols[@]}" <<'PYEOF'
import importlib.machinery, sys
lib = importlib.machinery.SourceFileLoader(
    "ntfs_corrupt", sys.argv[1] + "/ntfs-corrupt.py").load_module()
out = sys.argv[2]
for v in sys.argv[3:]:
    vol = lib.Volume(v)
    for n in list(range(0, 12)) + list(range(16, 80)):
        try:
            raw = bytes(lib.refix(vol.record(n)))
        except SystemExit:
            break
        if raw[:4] != b"FILE":
            continue
        sel = bytes([n % 4 or 1])
        with open("%s/%s-%03d" % (out, v.split(".")[0], n), "wb") as f:
            f.write(sel + raw)
PYEOF
find "$out" -type f -size +"$cap"c -delete
