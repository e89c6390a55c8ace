#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz-fsid (fsid_probe over one volume): every filesystem the
# identifier knows, made by its real tool (or, for BitLocker, ReFS and an
# LVM label, by tests/images/fs-corrupt.py), cut to the part that holds
# what fsid reads (boot sector, superblock, root directory, $MFT's first
# records), each at most CAP bytes. Run by fuzz/make-seeds in a scratch
# directory: fuzz/seeds.d/fsid.sh OUTDIR CAP (TOP = the source tree).
# Missing tools cost only their seeds.
set -u
out=$1
cap=$2
mkdir -p "$out" || exit 1
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
py() { python3 "$top/tests/images/fs-corrupt.py" "$@"; }
have() { command -v "$1" >/dev/null 2>&1; }
MiB=1048576

# mk NAME SIZE_MIB KEEP_BYTES COMMAND...: make it, keep its head
mk() {
	local name=$1 size=$2 keep=$3
	shift 3
	have "$1" || return 0
	rm -f "$name.fs"
	truncate -s $((size * MiB)) "$name.fs"
	"$@" "$name.fs" >/dev/null 2>&1 || return 0
	[ "$keep" -le "$cap" ] || keep=$cap
	head -c "$keep" "$name.fs" >"$out/$name"
}
mk fat12 1 $((256 * 1024)) mkfs.vfat -F 12 -n FAT12
mk fat16 16 $((256 * 1024)) mkfs.vfat -F 16 -n "FAT 16" -i 1234abcd
mk fat32 34 $MiB mkfs.vfat -F 32 -n FAT32LABEL
mk ntfs 2 $MiB mkntfs -q -F -Q -L "Seed NTFS"
mk exfat 4 $((1152 * 1024)) mkfs.exfat -L "Seed exFAT"
mk ext2 1 $((64 * 1024)) mkfs.ext2 -q -F -L ext2
mk ext3 2 $((64 * 1024)) mkfs.ext3 -q -F -L ext3
mk ext4 2 $((64 * 1024)) mkfs.ext4 -q -F -L ext4
mk xfs 300 $((64 * 1024)) mkfs.xfs -q -f -L xfs
mk btrfs 110 $((1088 * 1024)) mkfs.btrfs -q -L btrfs
mk swap 1 $((64 * 1024)) mkswap -q -L swap
if have cryptsetup; then
	printf 'seed' >pw
	mk luks1 4 $((8 * 1024)) cryptsetup luksFormat -q --type luks1 \
		--pbkdf-force-iterations 1000 --key-file pw
	mk luks2 20 $((32 * 1024)) cryptsetup luksFormat -q --type luks2 \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file pw \
		--label seed --subsystem seed
fi
if have python3; then
	truncate -s $((128 * 1024)) lvm.fs && py lvm lvm.fs 0123456789abcdefghijklmnopqrstuv &&
		cp lvm.fs "$out/lvm"
	for k in vista win7 togo; do
		truncate -s $((68 * 1024)) bl-$k.fs && py bitlocker bl-$k.fs $k 7 &&
			cp bl-$k.fs "$out/bitlocker-$k"
	done
	truncate -s 8192 refs.fs && py refs refs.fs && cp refs.fs "$out/refs"
fi
# and no filesystem: a partition table
if have sfdisk; then
	truncate -s $MiB mbr.fs
	printf 'label: dos\nstart=64, size=1024, type=7\n' |
		sfdisk -q mbr.fs >/dev/null 2>&1 && head -c 4096 mbr.fs >"$out/mbr"
fi
exit 0
