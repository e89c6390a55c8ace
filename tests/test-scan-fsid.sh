#!/bin/bash
# Filesystem identification (lib/scan/fsid.c) through tests/tools/fsid-tool,
# with blkid as the oracle: every type made by its real tool (mkfs.vfat
# -F 12/16/32, mkntfs, mkfs.exfat, mkfs.ext2/3/4, mkfs.xfs, mkfs.btrfs,
# mkswap, cryptsetup luksFormat luks1/luks2, pvcreate on a loop device)
# or, where Linux has no tool, written by tests/images/fs-corrupt.py as
# libblkid reads it (BitLocker Vista/Win7/To Go, ReFS, an LVM2 label);
# TYPE, VERSION, LABEL, UUID (and LUKS2's SUBSYSTEM) must be blkid's, for
# whole files and for the same volumes as partitions of a GPT disk
# (`fsid-tool IMG OFFSET SIZE` against `blkid -p -O OFFSET -S SIZE`).
# Non-ASCII and longest labels. Then corruptions (each: that type,
# INVALID=1, filesystem-invalid), truncated volumes, stale signatures,
# and no false positives on random data or partition-table sectors.
# Finally the tool built with ASan/UBSan over every fixture.
. "$(dirname "$0")/functions.sh"
requires blkid
requires python3
requires sfdisk

T=$B/tests/fsid-tool
PY="python3 $top/tests/images/fs-corrupt.py"
[ -x "$T" ] || skip "$T is not built"
MiB=1048576
export LC_ALL=C.UTF-8
have() { command -v "$1" >/dev/null 2>&1; }

KEYS='^(TYPE|VERSION|LABEL|UUID|SUBSYSTEM)='
# blkid's values, unescaped (-d keeps bytes as they are; export mode
# still puts a backslash before spaces and quotes)
oracle() { # FILE [OFFSET SIZE]
	local a=(-p -d -o export)
	[ $# -gt 1 ] && a+=(-O "$2" -S "$3")
	blkid "${a[@]}" "$1" 2>/dev/null | grep -a -E "$KEYS" |
		sed 's/\\\(.\)/\1/g' | LC_ALL=C sort
}
ours() { "$T" "$@" | grep -a -E "$KEYS" | LC_ALL=C sort; }

# like_blkid WHAT FILE [OFFSET SIZE]: the same keys and values as blkid,
# and something at all
like_blkid() {
	local what=$1 want got
	shift
	want=$(oracle "$@")
	got=$(ours "$@")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		pass "$what: $(echo "$want" | grep ^TYPE) as blkid"
	else
		echo "#   blkid: $(echo "$want" | tr '\n' ' ')"
		echo "#   ours:  $(echo "$got" | tr '\n' ' ')"
		fail "$what: as blkid"
	fi
}

# expect WHAT 'KEY=VALUE...' FSID-TOOL-ARGS...: every line is printed
expect() {
	local what=$1 lines=$2 out l ok=1
	shift 2
	out=$("$T" "$@")
	while IFS= read -r l; do
		[ -z "$l" ] && continue
		grep -a -q -x -F -- "$l" <<<"$out" || { echo "#   missing: $l"; ok=0; }
	done <<<"$lines"
	if [ $ok = 1 ]; then pass "$what"; else echo "#   got: $(echo "$out" | tr '\n' ' ')"; fail "$what"; fi
}

# invalid WHAT TYPE FILE [OFFSET SIZE]: TYPE, INVALID=1, filesystem-invalid
invalid() {
	local what=$1 type=$2 out
	shift 2
	out=$("$T" "$@")
	if grep -q -x "TYPE=$type" <<<"$out" && grep -q -x 'INVALID=1' <<<"$out" &&
		grep -q '^PROBLEM=filesystem-invalid: ' <<<"$out" &&
		[ "$(grep -c '^TYPE=' <<<"$out")" = 1 ] &&
		! grep -q -E '^(LABEL|UUID)=' <<<"$out"; then
		pass "$what: $type, invalid ($(grep '^PROBLEM=' <<<"$out" | cut -d' ' -f2-))"
	else
		echo "#   got: $(echo "$out" | tr '\n' ' ')"
		fail "$what: $type, invalid"
	fi
}

# nothing WHAT FSID-TOOL-ARGS...: exit 1, no output
nothing() {
	local what=$1 out rc
	shift
	out=$("$T" "$@")
	rc=$?
	if [ $rc = 1 ] && [ -z "$out" ]; then pass "$what: nothing"; else
		echo "#   exit $rc: $(echo "$out" | tr '\n' ' ')"
		fail "$what: nothing"
	fi
}

# ---- every type, made by its own tool --------------------------------
# mk NAME SIZE_MIB COMMAND...: $tmp/NAME.img of that size, then COMMAND
# on it; a missing tool costs only its checks
made=()
mk() {
	local name=$1 size=$2
	shift 2
	have "$1" || { echo "# $1 not installed: no $name"; return 1; }
	rm -f "$tmp/$name.img"
	truncate -s $((size * MiB)) "$tmp/$name.img"
	"$@" "$tmp/$name.img" >/dev/null 2>&1 || { fail "$name: $1 failed"; return 1; }
	made+=("$name")
}
UUID=0e5f3a1c-9d2b-4c8e-a7f6-1b2c3d4e5f60
mk fat12 4 mkfs.vfat -F 12 -n FAT12LABELX -i 12ab34cd
mk fat16 16 mkfs.vfat -F 16 -n "DATA DISK" -i 0000beef
mk fat32 40 mkfs.vfat -F 32 -n ESP
mk fat32-nolabel 40 mkfs.vfat -F 32
mk ntfs 8 mkntfs -q -F -Q -L "Windows Data ÄÖÜ 日本"
mk ntfs-longlabel 8 mkntfs -q -F -Q -L "$(printf 'L%.0s' {1..120})é"
mk exfat 8 mkfs.exfat -L "Ünïcødé 12"
mk exfat-nolabel 8 mkfs.exfat
mk ext2 4 mkfs.ext2 -q -F -L ext2label -U $UUID
mk ext3 8 mkfs.ext3 -q -F -L ext3label -U $UUID
mk ext4 8 mkfs.ext4 -q -F -L "sixteen-chars-ok" -U $UUID
mk ext4-utf8 8 mkfs.ext4 -q -F -L "grüße" -U $UUID
mk xfs 300 mkfs.xfs -q -f -L twelve_chars
mk btrfs 110 mkfs.btrfs -q -L "$(printf 'b%.0s' {1..255})"
mk swap 1 mkswap -q -L swap-label-16chr -U 11111111-2222-3333-4444-555555555555
mk swap-nolabel 1 mkswap -q
mk swap-64k 2 mkswap -q -p 65536 -L "64 KiB pages"
if have cryptsetup; then
	printf 'throw-away' >"$tmp/pw"
	mk luks1 4 cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
		--key-file "$tmp/pw" --uuid 01234567-89ab-cdef-0123-456789abcdef
	mk luks2 20 cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --key-file "$tmp/pw" \
		--label "crypt label" --subsystem "owner sub"
fi
# LVM: pvcreate needs a block device (a loop device, as root); the label
# is also written by fs-corrupt.py following LVM's format
truncate -s $((4 * MiB)) "$tmp/lvm-py.img"
$PY lvm "$tmp/lvm-py.img" aBcDeFgHiJkLmNoPqRsTuVwXyZ012345 && made+=(lvm-py)
if have pvcreate && [ "$(id -u)" = 0 ] &&
	truncate -s $((8 * MiB)) "$tmp/lvm.img" &&
	loop=$(losetup -f --show "$tmp/lvm.img" 2>/dev/null); then
	pvcreate -q -ff -y "$loop" >/dev/null 2>&1 && made+=(lvm)
	losetup -d "$loop"
else
	echo "# no loop device: LVM only from fs-corrupt.py"
fi
for k in vista win7 togo; do
	truncate -s $((1 * MiB)) "$tmp/bitlocker-$k.img"
	$PY bitlocker "$tmp/bitlocker-$k.img" $k 0x2a && made+=(bitlocker-$k)
done
truncate -s $((4 * MiB)) "$tmp/refs.img"
$PY refs "$tmp/refs.img" && made+=(refs)

for n in "${made[@]}"; do
	like_blkid "$n" "$tmp/$n.img"
done

# FAT labels are OEM code page bytes (mkfs.fat 4.2 refuses non-ASCII
# ones, so the label entry is rewritten); fsid gives them as UTF-8 from
# code page 850, blkid as the raw bytes
if [ -f "$tmp/fat16.img" ]; then
	cp "$tmp/fat16.img" "$tmp/fat-cp850.img"
	$PY fat-label "$tmp/fat-cp850.img" \
		"$(printf 'ÄÖÜ éñ' | iconv -f UTF-8 -t CP850 | od -An -tx1 | tr -d ' \n')"
	want=$(oracle "$tmp/fat-cp850.img" | grep -a ^LABEL= | iconv -f CP850 -t UTF-8)
	check "FAT label in code page 850 as blkid's bytes (${want#LABEL=})" \
		[ "$want" = "LABEL=ÄÖÜ éñ" ] && [ "$(ours "$tmp/fat-cp850.img" | grep ^LABEL=)" = "$want" ]
	# the boot sector's label is not blkid's LABEL: only the root
	# directory's entry counts
	expect "FAT: no root-directory label, no LABEL" "TYPE=vfat" "$tmp/fat32-nolabel.img"
	check "FAT without a label entry has no LABEL" \
		[ -z "$(ours "$tmp/fat32-nolabel.img" | grep ^LABEL=)" ]
fi

# sizes the superblocks state
[ -f "$tmp/ext4.img" ] && expect "ext4 size and block size" \
	"FSSIZE=$((8 * MiB))
FSBLOCKSIZE=1024" "$tmp/ext4.img"
[ -f "$tmp/xfs.img" ] && expect "xfs size and block size" \
	"FSSIZE=$((300 * MiB))
FSBLOCKSIZE=4096" "$tmp/xfs.img"
[ -f "$tmp/fat16.img" ] && expect "FAT16 size" "FSSIZE=$((16 * MiB))" "$tmp/fat16.img"
[ -f "$tmp/swap.img" ] && expect "swap size and page size" \
	"FSSIZE=$((1 * MiB))
FSBLOCKSIZE=4096" "$tmp/swap.img"
[ -f "$tmp/ntfs.img" ] && expect "NTFS size and cluster" \
	"FSSIZE=$((8 * MiB - 512))
FSBLOCKSIZE=4096" "$tmp/ntfs.img"

# ---- the same volumes inside a partitioned disk ----------------------
disk=$tmp/disk.img
parts=(fat12 fat32 ntfs exfat ext3 ext4 xfs btrfs swap luks2 lvm-py bitlocker-win7 refs)
script="label: gpt"
start=2048
offs=()
for n in "${parts[@]}"; do
	[ -f "$tmp/$n.img" ] || continue
	sz=$(($(stat -c %s "$tmp/$n.img") / 512))
	script+=$'\n'"start=$start, size=$sz"
	offs+=("$n:$start:$sz")
	start=$(((start + sz + 2047) / 2048 * 2048))
done
truncate -s $(((start + 2048) * 512)) "$disk"
echo "$script" | sfdisk -q "$disk" >/dev/null
for e in "${offs[@]}"; do
	IFS=: read -r n s z <<<"$e"
	dd if="$tmp/$n.img" of="$disk" bs=1M seek=$((s * 512)) oflag=seek_bytes \
		conv=sparse,notrunc status=none
done
for e in "${offs[@]}"; do
	IFS=: read -r n s z <<<"$e"
	like_blkid "partition $n" "$disk" $((s * 512)) $((z * 512))
done
nothing "the GPT disk itself (protective MBR at 0)" "$disk"

# ---- corruptions: that type, invalid, filesystem-invalid -------------
corrupt() { # corrupt NAME SRC: a copy of SRC.img to poke at
	cp --sparse=always "$tmp/$2.img" "$tmp/$1.img"
}
if [ -f "$tmp/fat16.img" ]; then
	corrupt bad-fat-spc fat16 && $PY poke "$tmp/bad-fat-spc.img" 0x0d '<B' 0
	invalid "FAT16 with 0 sectors per cluster" vfat "$tmp/bad-fat-spc.img"
	corrupt bad-fat-ss fat16 && $PY poke "$tmp/bad-fat-ss.img" 0x0b '<H' 3
	invalid "FAT16 with 3-byte sectors" vfat "$tmp/bad-fat-ss.img"
	corrupt bad-fat-count fat16 && $PY poke "$tmp/bad-fat-count.img" 0x13 '<H' 8
	invalid "FAT16 with fewer sectors than its FATs" vfat "$tmp/bad-fat-count.img"
	# a FAT boot sector with an NTFS OEM name is reported once, as vfat
	corrupt fat-ntfs-oem fat16 && $PY bytes "$tmp/fat-ntfs-oem.img" 3 4e54465320202020
	like_blkid "FAT with OEM name NTFS" "$tmp/fat-ntfs-oem.img"
	# an LVM label over a stale FAT boot sector: the container wins
	corrupt lvm-over-fat fat16 && $PY lvm "$tmp/lvm-over-fat.img" aBcDeFgHiJkLmNoPqRsTuVwXyZ012345
	like_blkid "LVM2 label over a stale FAT boot sector" "$tmp/lvm-over-fat.img"
fi
if [ -f "$tmp/fat32.img" ]; then
	corrupt bad-fsinfo fat32 && $PY bytes "$tmp/bad-fsinfo.img" 512 58585858
	invalid "FAT32 with a broken FSInfo sector" vfat "$tmp/bad-fsinfo.img"
	# a FAT32 cut short: the boot sector and FSInfo fit, the root
	# directory does not (no label, no out-of-range read)
	expect "FAT32 in a 4 KiB window" "TYPE=vfat
VERSION=FAT32" "$tmp/fat32.img" 0 4096
fi
if [ -f "$tmp/ext4.img" ]; then
	corrupt bad-ext4-bs ext4 && $PY poke "$tmp/bad-ext4-bs.img" $((1024 + 0x18)) '<I' 20
	invalid "ext4 with block size shift 20" ext4 "$tmp/bad-ext4-bs.img"
	corrupt bad-ext4-blocks ext4 && $PY poke "$tmp/bad-ext4-blocks.img" $((1024 + 4)) '<I' 0
	invalid "ext4 with 0 blocks" ext4 "$tmp/bad-ext4-blocks.img"
	nothing "ext4 in a 1200-byte window (superblock cut)" "$tmp/ext4.img" 0 1200
fi
if [ -f "$tmp/ext2.img" ]; then
	corrupt bad-ext2-bs ext2 && $PY poke "$tmp/bad-ext2-bs.img" $((1024 + 0x18)) '<I' 7
	invalid "ext2 with a 128 KiB block" ext2 "$tmp/bad-ext2-bs.img"
fi
if [ -f "$tmp/xfs.img" ]; then
	corrupt bad-xfs-bs xfs && $PY poke "$tmp/bad-xfs-bs.img" 4 '>I' 0
	invalid "XFS with block size 0" xfs "$tmp/bad-xfs-bs.img"
	corrupt bad-xfs-ag xfs && $PY poke "$tmp/bad-xfs-ag.img" 88 '>I' 0
	invalid "XFS with no allocation groups" xfs "$tmp/bad-xfs-ag.img"
	nothing "XFS in a 1 KiB window (blkid's minimum)" "$tmp/xfs.img" 0 1024
fi
if [ -f "$tmp/ntfs.img" ]; then
	corrupt bad-ntfs-ss ntfs && $PY poke "$tmp/bad-ntfs-ss.img" 0x0b '<H' 3
	invalid "NTFS with 3-byte sectors" ntfs "$tmp/bad-ntfs-ss.img"
	corrupt bad-ntfs-mft ntfs && $PY poke "$tmp/bad-ntfs-mft.img" 0x30 '<Q' 0xffffffffffff
	invalid "NTFS with \$MFT past the volume" ntfs "$tmp/bad-ntfs-mft.img"
	corrupt bad-ntfs-rec ntfs && $PY poke "$tmp/bad-ntfs-rec.img" 0x40 '<b' 20
	invalid "NTFS with 20 clusters per MFT record" ntfs "$tmp/bad-ntfs-rec.img"
	# a window that ends where $MFT starts (cluster number at 0x30)
	mft=$(od -An -tu8 -j 48 -N 8 "$tmp/ntfs.img" | tr -d ' ')
	invalid "NTFS cut before its \$MFT" ntfs "$tmp/ntfs.img" 0 $((mft * 4096))
fi
if [ -f "$tmp/exfat.img" ]; then
	corrupt bad-exfat-shift exfat && $PY poke "$tmp/bad-exfat-shift.img" 108 '<B' 20
	invalid "exFAT with a 1 MiB sector" exfat "$tmp/bad-exfat-shift.img"
	corrupt bad-exfat-root exfat && $PY poke "$tmp/bad-exfat-root.img" 96 '<I' 0
	invalid "exFAT with root directory cluster 0" exfat "$tmp/bad-exfat-root.img"
fi
if [ -f "$tmp/btrfs.img" ]; then
	corrupt bad-btrfs-csum btrfs && $PY bytes "$tmp/bad-btrfs-csum.img" $((0x10000 + 0x12b)) 58
	invalid "btrfs with a bad superblock checksum" btrfs "$tmp/bad-btrfs-csum.img"
	corrupt bad-btrfs-node btrfs && $PY poke "$tmp/bad-btrfs-node.img" $((0x10000 + 148)) '<I' 3 &&
		$PY btrfs-csum "$tmp/bad-btrfs-node.img"
	invalid "btrfs with node size 3 (checksum right)" btrfs "$tmp/bad-btrfs-node.img"
fi
if [ -f "$tmp/swap.img" ]; then
	corrupt bad-swap-ver swap && $PY poke "$tmp/bad-swap-ver.img" 1024 '<I' 2
	invalid "swap header version 2" swap "$tmp/bad-swap-ver.img"
	# the old format (signature SWAP-SPACE): version 0, no label
	corrupt swap-v0 swap && $PY bytes "$tmp/swap-v0.img" 0xff6 "$(printf SWAP-SPACE | od -An -tx1 | tr -d ' \n')"
	like_blkid "swap version 0" "$tmp/swap-v0.img"
	corrupt bad-swap-pages swap && $PY poke "$tmp/bad-swap-pages.img" 1028 '<I' 0
	invalid "swap with no pages" swap "$tmp/bad-swap-pages.img"
fi
corrupt bad-lvm-crc lvm-py && $PY poke "$tmp/bad-lvm-crc.img" $((512 + 16)) '<I' 0
invalid "LVM2 label with a bad CRC" LVM2_member "$tmp/bad-lvm-crc.img"
if [ -f "$tmp/luks2.img" ]; then
	corrupt bad-luks2 luks2 && $PY poke "$tmp/bad-luks2.img" 8 '>Q' 12345
	invalid "LUKS2 with a 12345-byte header" crypto_LUKS "$tmp/bad-luks2.img"
fi
if [ -f "$tmp/luks1.img" ]; then
	corrupt bad-luks-ver luks1 && $PY poke "$tmp/bad-luks-ver.img" 6 '>H' 7
	invalid "LUKS version 7" crypto_LUKS "$tmp/bad-luks-ver.img"
fi
corrupt bad-bitlocker bitlocker-win7 && $PY poke "$tmp/bad-bitlocker.img" 176 '<Q' 0
invalid "BitLocker without FVE metadata" BitLocker "$tmp/bad-bitlocker.img"
# To Go's OEM id is any Windows FAT32's: without FVE metadata it is not
# BitLocker (and this header's BPB is no FAT)
corrupt bad-togo bitlocker-togo && $PY poke "$tmp/bad-togo.img" 440 '<Q' 0
nothing "To Go header without FVE metadata" "$tmp/bad-togo.img"
corrupt bad-refs refs && $PY poke "$tmp/bad-refs.img" 32 '<I' 3
invalid "ReFS with 3-byte sectors" ReFS "$tmp/bad-refs.img"

# ---- no false positives ----------------------------------------------
fp=0
for i in $(seq 1 40); do
	head -c 65536 /dev/urandom >"$tmp/random.img"
	out=$("$T" "$tmp/random.img")
	[ $? = 1 ] && [ -z "$out" ] || { echo "#   random input $i: $out"; fp=1; cp "$tmp/random.img" "$tmp/random-fp-$i.img"; }
done
check "40 random 64 KiB inputs: nothing" [ $fp = 0 ]
head -c $((2 * MiB)) /dev/zero >"$tmp/zero.img"
nothing "zeros" "$tmp/zero.img"
truncate -s $((8 * MiB)) "$tmp/mbr.img"
printf 'label: dos\nstart=2048, size=4096, type=83\n' | sfdisk -q "$tmp/mbr.img" >/dev/null
nothing "an MBR partition table" "$tmp/mbr.img"
# an MBR whose boot code happens to carry a jump and a FAT type string
# is a partition table, not a broken FAT
cp "$tmp/mbr.img" "$tmp/mbr-fatlike.img"
$PY bytes "$tmp/mbr-fatlike.img" 0 eb3c90
$PY bytes "$tmp/mbr-fatlike.img" 0x36 4641543136202020
nothing "an MBR with FAT-like boot code" "$tmp/mbr-fatlike.img"
check "blkid agrees: no filesystem there" [ -z "$(oracle "$tmp/mbr-fatlike.img")" ]

# ---- MBR type names: fdisk's -----------------------------------------
sfdisk -T --label dos 2>/dev/null | sed -n 's/^ *\([0-9a-f][0-9a-f]*\)  \(.*\)$/\1  \2/p' |
	LC_ALL=C sort >"$tmp/names.want"
"$T" --mbr-names | sed 's/^ *//' | LC_ALL=C sort >"$tmp/names.got"
if [ -s "$tmp/names.want" ] && cmp -s "$tmp/names.want" "$tmp/names.got"; then
	pass "MBR type names: the $(wc -l <"$tmp/names.got") of sfdisk -T"
else
	diff "$tmp/names.want" "$tmp/names.got" | head -10 | sed 's/^/#   /'
	fail "MBR type names as sfdisk -T"
fi

# ---- the tool under ASan/UBSan -----------------------------------------
if have gcc && [ "${IMGWARD_SKIP_ASAN:-0}" != 1 ]; then
	asan=$tmp/fsid-asan
	# shellcheck disable=SC2046
	if gcc -std=gnu11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
		-I"$top/lib" -o "$asan" "$top/tests/tools/fsid-tool.c" \
		"$top/lib/scan/fsid.c" "$B/libimgward.a" \
		$(pkg-config --libs json-c zlib liblzma libzstd) -lbz2 2>"$tmp/asan.log"; then
		bad=0
		for f in "$tmp"/*.img; do
			ASAN_OPTIONS=detect_leaks=1 "$asan" "$f" >/dev/null 2>"$tmp/asan.err"
			rc=$?
			if [ $rc -gt 1 ] || [ -s "$tmp/asan.err" ]; then
				echo "#   $f: exit $rc"; head -5 "$tmp/asan.err" | sed 's/^/#   /'; bad=1
			fi
		done
		# cut short, and seen from a sector further on
		for w in "fat32.img 0 4096" "ntfs.img 0 20480" "btrfs.img 0 69632" \
			"exfat.img 512 $((2 * MiB))" "disk.img 512 $((3 * MiB))"; do
			set -- $w
			[ -f "$tmp/$1" ] || continue
			"$asan" "$tmp/$1" "$2" "$3" >/dev/null 2>"$tmp/asan.err"
			rc=$?
			if [ $rc -gt 1 ] || [ -s "$tmp/asan.err" ]; then
				echo "#   $w: exit $rc"; head -5 "$tmp/asan.err" | sed 's/^/#   /'; bad=1
			fi
		done
		check "ASan/UBSan: every fixture, and windows of some" [ $bad = 0 ]
	else
		sed 's/^/#   /' "$tmp/asan.log" | head -20
		fail "fsid-tool builds with -fsanitize=address,undefined"
	fi
fi

finish
