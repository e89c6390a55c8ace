#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz-scan (iw_scan over a raw disk): small disks made with the
# real tools, each at most CAP bytes. Run by fuzz/make-seeds in a scratch
# directory: fuzz/seeds.d/scan.sh OUTDIR CAP. Missing tools cost only
# their seeds.
set -u
out=$1
cap=$2
mkdir -p "$out" || exit 1
have() { command -v "$1" >/dev/null 2>&1; }
keep() { # keep FILE NAME: a seed, if it fits
	[ -f "$1" ] && [ "$(stat -c %s "$1")" -le "$cap" ] && cp "$1" "$out/$2"
}
put() { dd if="$2" of="$1" bs=512 seek="$3" conv=notrunc status=none; }

fs() { # fs NAME SIZE_KIB: a filesystem image of that kind, or nothing
	rm -f "$1.fs"
	truncate -s "${2}K" "$1.fs"
	case $1 in
	ntfs) have mkntfs && mkntfs -q -F -Q -L "Seed NTFS" "$1.fs" ;;
	fat) have mkfs.vfat && mkfs.vfat -n SEEDFAT -i 1234ABCD "$1.fs" ;;
	ext) have mkfs.ext4 && mkfs.ext4 -q -F -L seedext "$1.fs" ;;
	swap) have mkswap && mkswap -L seedswap "$1.fs" ;;
	esac >/dev/null 2>&1 || rm -f "$1.fs"
}

fs ntfs 1536
fs fat 512
fs ext 1024
fs swap 256

# unpartitioned volumes
keep ntfs.fs whole-ntfs.img
keep fat.fs whole-fat.img

if have sfdisk; then
	# GPT: FAT, NTFS
	truncate -s 4M gpt.img
	printf 'label: gpt\nstart=34, size=1024, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ESP", attrs="RequiredPartition"\nstart=2048, size=4096, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="data", attrs="GUID:60,62,63"\n' |
		sfdisk -q gpt.img >/dev/null 2>&1 &&
		{ [ -f fat.fs ] && put gpt.img fat.fs 34; [ -f ntfs.fs ] && put gpt.img ntfs.fs 2048; keep gpt.img gpt-fat-ntfs.img; }
	# MBR: NTFS primary, extended with logical ext4 and swap
	truncate -s 4M mbr.img
	printf 'label: dos\nstart=1, size=4095, type=7, bootable\nstart=4096, size=4096, type=5\nstart=4098, size=2046, type=83\nstart=6146, size=510, type=82\n' |
		sfdisk -q mbr.img >/dev/null 2>&1 &&
		{ [ -f ntfs.fs ] && put mbr.img ntfs.fs 1; [ -f ext.fs ] && head -c $((2046 * 512)) ext.fs > ext-cut.fs && put mbr.img ext-cut.fs 4098; [ -f swap.fs ] && put mbr.img swap.fs 6146; keep mbr.img mbr-logical.img; }
	# a bare GPT, no volumes
	truncate -s 1M empty-gpt.img
	printf 'label: gpt\nstart=40, size=100, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' |
		sfdisk -q empty-gpt.img >/dev/null 2>&1 && keep empty-gpt.img empty-gpt.img
fi
exit 0
