#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz/fuzz-ntfs.c: whole small NTFS volumes. mkntfs (2 MiB,
# cluster sizes 512 B - 64 KiB, 4 KiB sectors); a Windows volume from
# tests/images/windows-disk.sh --volume-only (hives, drivers, hiberfil;
# needs root and FUSE, else skipped); and that volume damaged by every
# case of tests/images/ntfs-corrupt.py. Run by fuzz/make-seeds as
# `ntfs.sh OUTDIR CAP` in a scratch directory, TOP set.
set -eu
out=$1
cap=$2
py=$(python3 -c 'import sys; print(sys.executable)')
mkdir -p "$out"
command -v mkntfs >/dev/null || { echo "ntfs.sh: no mkntfs, no seeds" >&2; exit 0; }
for c in 512 1024 4096 16384 65536; do
	truncate -s 2M "mk-c$c.img"
	mkntfs -F -f -q -L "seed$c" -c "$c" "mk-c$c.img" >/dev/null 2>&1 &&
		cp "mk-c$c.img" "$out/mkntfs-c$c"
done
truncate -s 2M mk-s4096.img
mkntfs -F -f -q -s 4096 mk-s4096.img >/dev/null 2>&1 && cp mk-s4096.img "$out/mkntfs-s4096"
if "$TOP/tests/images/windows-disk.sh" win.img --volume-only --ntfs-kib 2048 \
	--virtio --hibernated >/dev/null 2>&1; then
	cp win.img "$out/windows"
	"$TOP/tests/images/windows-disk.sh" win7.img --volume-only --ntfs-kib 2048 \
		--version win7 --arch x86 >/dev/null 2>&1 && cp win7.img "$out/windows7"
	tool="${IMGWARD_BUILD:-$TOP/build}/tests/ntfs-tool"
	rec() { [ -x "$tool" ] && "$tool" lookup win.img "$1" 2>/dev/null || echo 0; }
	r_sw=$(rec /Windows/System32/config/SOFTWARE)
	r_cfg=$(rec /Windows/System32/config)
	r_sys32=$(rec /Windows/System32)
	for c in boot-cluster boot-mft-record boot-size mft-truncated \
		"fixup-stride $r_sw" "usa-count-0 $r_sw" "baad $r_cfg" \
		"attrs-offset $r_sw" "attr-length-0 $r_sw" \
		"runlist-9byte $r_sw" "lcn-past $r_sw" "lcn-negative $r_sw" \
		"runs-past-alloc $r_sw" "encrypted $r_sw" \
		"index-root-entry-0 $r_cfg" "indx-entry-0 $r_sys32" \
		"indx-loop $r_sys32"; do
		set -- $c
		cp win.img bad.img
		"$py" "$TOP/tests/images/ntfs-corrupt.py" bad.img "$@" >/dev/null 2>&1 &&
			cp bad.img "$out/corrupt-$1"
	done
else
	echo "ntfs.sh: windows-disk.sh failed (root and FUSE needed): mkntfs seeds only" >&2
fi
find "$out" -type f -size +"$cap"c -delete
