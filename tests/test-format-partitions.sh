#!/bin/bash
# MBR and GPT content readers: disks partitioned by sfdisk are raw, safe,
# and list exactly the partitions sfdisk wrote; damaged tables make the
# content child invalid (never the raw disk); boot sectors that are not
# MBRs are not reported as MBRs.
. "$(dirname "$0")/functions.sh"
requires sfdisk
requires jq
requires python3
requires qemu-img
patch="python3 $top/tests/images/part-patch.py"

# child JSON FORMAT: the content report for FORMAT
child() { printf '%s' "$1" | jq -c --arg f "$2" '[.children[] | select(.role == "content" and .format == $f)][0]'; }
# parts_of JSON FORMAT: "index:start:size ..." as the reader reports them
parts_of() { child "$1" "$2" | jq -r '[."format-specific".data.partitions[] | "\(.index):\(.start):\(.size)"] | join(" ")'; }
# sfdisk_parts IMG: the same from sfdisk --json (512-byte sectors), without
# the extended container when LOGICAL_ONLY is unset it is kept
sfdisk_parts() {
	sfdisk --json "$1" | jq -r '[.partitiontable.partitions[] | "\(.node | capture("(?<n>[0-9]+)$").n):\(.start * 512):\(.size * 512)"] | join(" ")'
}
child_verdict() { child "$1" "$2" | jq -r .verdict; }
# child_has JSON FORMAT CODE: the content child FORMAT has finding CODE
child_has() {
	printf '%s' "$1" | jq -e --arg f "$2" --arg c "$3" \
		'[.children[] | select(.role == "content" and .format == $f) | .findings[].code] | index($c) != null' >/dev/null
}

# --- clean GPT, four partitions ------------------------------------------
gpt=$tmp/gpt.img
truncate -s 64M "$gpt"
printf 'label: gpt\nsize=8MiB, type=uefi, name="EFI"\nsize=16MiB, type=linux, name="root"\nsize=4MiB, type=swap\ntype=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' |
	sfdisk -q "$gpt"
j=$(sniff "$gpt")
check 'gpt: raw, safe' jq_is "$j" '"\(.format) \(.verdict)"' 'raw safe'
check 'gpt: virtual-size is qemu-img'"'"'s' jq_is "$j" '."virtual-size"' "$(qemu_vsize "$gpt" raw)"
check 'gpt: matches gpt and mbr' jq_is "$j" '.matches | sort | join(",")' 'gpt,mbr'
check 'gpt: no findings on the raw disk' jq_is "$j" '.findings | length' 0
check 'gpt: content child safe' jq_is "$(child "$j" gpt)" .verdict safe
check 'gpt: partitions equal sfdisk'"'"'s' jq_is "$(parts_of "$j" gpt | jq -R .)" . "$(sfdisk_parts "$gpt")"
check 'gpt: type names' jq_is "$(child "$j" gpt)" '[."format-specific".data.partitions[]."type-name"] | join(",")' \
	'EFI System,Linux filesystem,Linux swap,Linux filesystem'
check 'gpt: partition names' jq_is "$(child "$j" gpt)" '[."format-specific".data.partitions[].name] | join(",")' 'EFI,root,,'
check 'gpt: disk GUID' jq_is "$(child "$j" gpt)" '."format-specific".data."disk-guid"' \
	"$(sfdisk --json "$gpt" | jq -r .partitiontable.id)"
check 'gpt: unique GUID of partition 2' jq_is "$(child "$j" gpt)" '."format-specific".data.partitions[1].guid' \
	"$(sfdisk --json "$gpt" | jq -r '.partitiontable.partitions[1].uuid')"
check 'gpt: protective MBR seen by both readers' jq_is "$j" \
	'[(.children[] | select(.format=="gpt") | ."format-specific".data."protective-mbr"), (.children[] | select(.format=="mbr") | ."format-specific".data.protective)] | join(",")' \
	'protective,protective'
check 'gpt: mbr child lists the 0xEE entry from LBA 1' jq_is "$(child "$j" mbr)" \
	'."format-specific".data.partitions | map("\(.type):\(.start):\(.size)") | join(" ")' "0xee:512:$((64 * 1024 * 1024 - 512))"

# --- clean MBR: 2 primaries, an extended partition with 3 logicals ---------
mbr=$tmp/mbr.img
truncate -s 64M "$mbr"
printf 'label: dos\nlabel-id: 0x12345678\nsize=8MiB, type=83, bootable\nsize=8MiB, type=82\ntype=5\nsize=4MiB, type=83\nsize=6MiB, type=7\nsize=5MiB, type=83\n' |
	sfdisk -q "$mbr"
j=$(sniff "$mbr")
check 'mbr: raw, safe, matches only mbr' jq_is "$j" '"\(.format) \(.verdict) \(.matches | join(","))"' 'raw safe mbr'
check 'mbr: content child safe' jq_is "$(child "$j" mbr)" .verdict safe
check 'mbr: partitions equal sfdisk'"'"'s (extended container and logicals)' \
	jq_is "$(parts_of "$j" mbr | jq -R .)" . "$(sfdisk_parts "$mbr")"
check 'mbr: indexes, types, flags' jq_is "$(child "$j" mbr)" \
	'."format-specific".data.partitions | map("\(.index)/\(.type)/\(.bootable)/\(.logical)") | join(" ")' \
	'1/0x83/true/false 2/0x82/false/false 3/0x05/false/false 5/0x83/false/true 6/0x07/false/true 7/0x83/false/true'
check 'mbr: disk signature' jq_is "$(child "$j" mbr)" '."format-specific".data."disk-signature"' 0x12345678

# --- hybrid MBR: 0xEE plus two entries mirroring GPT partitions -----------
hyb=$tmp/hybrid.img
cp "$gpt" "$hyb"
$patch mbr-entry "$hyb" 2 0x80 0xef 2048 16384
$patch mbr-entry "$hyb" 3 0x00 0x83 18432 32768
j=$(sniff "$hyb")
check 'hybrid mbr: raw safe, both children safe' jq_is "$j" \
	'"\(.verdict) \([.children[].verdict] | join(","))"' 'safe safe,safe'
check 'hybrid mbr: reported as hybrid by both readers' jq_is "$j" \
	'[.children[] | ."format-specific".data | (."protective-mbr" // .protective)] | join(",")' 'hybrid,hybrid'
check 'hybrid mbr: the mirrored entries are listed' jq_is "$(child "$j" mbr)" \
	'."format-specific".data.partitions | map("\(.index):\(.type):\(.start)") | join(" ")' \
	"1:0xee:512 2:0xef:1048576 3:0x83:9437184"

# --- 4Kn GPT (4096-byte sectors: header at 4096) --------------------------
g4k=$tmp/gpt4k.img
$patch gpt-4k "$g4k"
j=$(sniff "$g4k")
check '4Kn gpt: safe child, sector size 4096' jq_is "$(child "$j" gpt)" \
	'"\(.verdict) \(."format-specific".data."sector-size")"' 'safe 4096'
check '4Kn gpt: partitions in bytes' jq_is "$(parts_of "$j" gpt | jq -R .)" . \
	"1:1048576:1048576 2:2097152:2097152"
check '4Kn gpt: the MBR counts 4096-byte sectors' jq_is "$(child "$j" mbr)" \
	'"\(.verdict) \(."format-specific".data.partitions[0].start)"' 'safe 4096'

# --- GPT damage ------------------------------------------------------------
# primary header CRC: flip a byte of the disk GUID
bad=$tmp/gpt-hdr-crc.img
cp "$gpt" "$bad"
printf '\x01' | dd of="$bad" bs=1 seek=$((512 + 56)) conv=notrunc status=none
j=$(sniff "$bad")
check 'gpt header CRC: raw disk still safe' jq_is "$j" .verdict safe
check 'gpt header CRC: child invalid, bad-checksum' child_has "$j" gpt bad-checksum
check 'gpt header CRC: child verdict invalid' jq_is "$(child "$j" gpt)" .verdict invalid
check 'gpt header CRC: partitions listed from the backup' jq_is "$(child "$j" gpt)" \
	'"\(."format-specific".data."from-backup") \(."format-specific".data.partitions | length)"' 'true 4'

# partition array CRC: change a partition name in the primary array
bad=$tmp/gpt-array-crc.img
cp "$gpt" "$bad"
printf 'X' | dd of="$bad" bs=1 seek=$((1024 + 56)) conv=notrunc status=none
j=$(sniff "$bad")
check 'gpt array CRC: bad-checksum in the child only' jq_is "$j" \
	'"\(.verdict) \((.children[] | select(.format=="gpt")) as $g | $g.verdict) \([.children[] | select(.format=="gpt") | .findings[].code] | join(","))"' \
	'safe invalid bad-checksum'
check 'gpt array CRC: names come from the intact backup' jq_is "$(child "$j" gpt)" \
	'."format-specific".data.partitions[0].name' EFI

# a partition past the end of the disk (CRCs kept right)
bad=$tmp/gpt-past-end.img
cp "$gpt" "$bad"
$patch gpt-entry "$bad" 4 59392 400000
j=$(sniff "$bad")
check 'gpt partition past the end: entry-out-of-range' child_has "$j" gpt entry-out-of-range
check 'gpt partition past the end: no checksum complaint' \
	bash -c '! grep -q bad-checksum <<<"$1"' _ "$(child "$j" gpt)"
check 'gpt partition past the end: raw disk safe' jq_is "$j" .verdict safe

# two overlapping GPT partitions
bad=$tmp/gpt-overlap.img
cp "$gpt" "$bad"
$patch gpt-entry "$bad" 3 20000 60000
j=$(sniff "$bad")
check 'gpt overlap: table-overlap' child_has "$j" gpt table-overlap

# entry count 2^31 (header CRC recomputed)
bad=$tmp/gpt-count.img
cp "$gpt" "$bad"
$patch gpt-field "$bad" n_entries 0x80000000
j=$(sniff "$bad")
check 'gpt 2^31 entries: table-too-large, no partitions read' jq_is "$(child "$j" gpt)" \
	'"\(.verdict) \([.findings[].code] | index("table-too-large") != null)"' 'invalid true'
# entry size that is not 128 * 2^n
bad=$tmp/gpt-esize.img
cp "$gpt" "$bad"
$patch gpt-field "$bad" entry_size 200
check 'gpt entry size 200: bad-field' child_has "$(sniff "$bad")" gpt bad-field
# header size beyond the sector
bad=$tmp/gpt-hsize.img
cp "$gpt" "$bad"
$patch gpt-field "$bad" header_size 4096 --keep-crc
check 'gpt header size 4096 on 512-byte sectors: bad-field' child_has "$(sniff "$bad")" gpt bad-field

# truncated disk: the backup header and the last partition are gone
bad=$tmp/gpt-cut.img
cp "$gpt" "$bad"
truncate -s 32M "$bad"
j=$(sniff "$bad")
check 'gpt cut short: raw safe, virtual-size = file size' jq_is "$j" \
	'"\(.verdict) \(."virtual-size")"' "safe $((32 * 1024 * 1024))"
check 'gpt cut short: backup missing (inconsistent-header)' child_has "$j" gpt inconsistent-header
check 'gpt cut short: entries past the end (entry-out-of-range)' child_has "$j" gpt entry-out-of-range

# a disk grown after partitioning: the backup is no longer at the end
grown=$tmp/gpt-grown.img
cp "$gpt" "$grown"
truncate -s 96M "$grown"
j=$(sniff "$grown")
check 'gpt grown disk: child safe, trailing-data noted' jq_is "$(child "$j" gpt)" \
	'"\(.verdict) \([.findings[].code] | join(","))"' 'safe trailing-data'

# GPT without a protective MBR
bad=$tmp/gpt-nopmbr.img
cp "$gpt" "$bad"
dd if=/dev/zero of="$bad" bs=1 seek=446 count=66 conv=notrunc status=none
j=$(sniff "$bad")
check 'gpt without protective MBR: bad-field, and no mbr match' jq_is "$j" \
	'"\(.matches | join(",")) \((.children[] | select(.format=="gpt")).verdict)"' 'gpt invalid'

# --- MBR damage ------------------------------------------------------------
# EBR chain that loops back to the first EBR: must terminate
bad=$tmp/mbr-loop.img
cp "$mbr" "$bad"
ebrs=$(sfdisk --json "$mbr" | jq -r '.partitiontable.partitions[] | select(.node | test("[567]$")) | .start')
ext_start=$(sfdisk --json "$mbr" | jq -r '.partitiontable.partitions[2].start')
last_ebr=$(( $(echo "$ebrs" | tail -1) - 2048 ))
$patch ebr-link "$bad" "$last_ebr" 0 100
j=$(timeout 10 "$SNIFF_FILE" "$bad")
check 'EBR loop: terminates, bad-field in the mbr child' child_has "$j" mbr bad-field
check 'EBR loop: the three logicals are still listed once' jq_is "$(child "$j" mbr)" \
	'[."format-specific".data.partitions[] | select(.logical)] | length' 3
check 'EBR loop: raw disk safe' jq_is "$j" .verdict safe
# an EBR link pointing outside the extended partition
bad=$tmp/mbr-ebr-out.img
cp "$mbr" "$bad"
$patch ebr-link "$bad" "$ext_start" 0x7fffff00 100
check 'EBR outside its extended partition: entry-out-of-range' child_has "$(sniff "$bad")" mbr entry-out-of-range

# a primary partition past the end of the disk
bad=$tmp/mbr-past-end.img
cp "$mbr" "$bad"
$patch mbr-entry "$bad" 4 0x00 0x83 200000 50000
j=$(sniff "$bad")
check 'mbr partition past the end: entry-out-of-range, raw safe' jq_is "$j" \
	'"\(.verdict) \((.children[] | select(.format=="mbr")).verdict)"' 'safe invalid'
check 'mbr partition past the end: finding code' child_has "$j" mbr entry-out-of-range

# overlapping primaries
bad=$tmp/mbr-overlap.img
cp "$mbr" "$bad"
$patch mbr-entry "$bad" 2 0x00 0x82 4096 16384
check 'mbr overlapping primaries: table-overlap' child_has "$(sniff "$bad")" mbr table-overlap

# protective entry not at LBA 1
bad=$tmp/pmbr-start.img
cp "$gpt" "$bad"
$patch mbr-entry "$bad" 1 0x00 0xee 2 131070
check 'protective entry at LBA 2: bad-field' child_has "$(sniff "$bad")" mbr bad-field
# protective MBR with no GPT behind it
bad=$tmp/pmbr-nogpt.img
truncate -s 8M "$bad"
$patch mbr-entry "$bad" 1 0x00 0xee 1 16383
j=$(sniff "$bad")
check 'protective MBR without GPT: mbr child bad-field, no gpt match' jq_is "$j" \
	'"\(.matches | join(",")) \(.children[0].verdict)"' 'mbr invalid'

# --- not MBRs --------------------------------------------------------------
bad=$tmp/bootflag.img
cp "$mbr" "$bad"
printf '\x12' | dd of="$bad" bs=1 seek=446 conv=notrunc status=none
expect_sniff 'boot flag 0x12: not an MBR, raw safe' "$bad" safe
check 'boot flag 0x12: nothing matched' jq_is "$(sniff "$bad")" '.matches | length' 0

fat=$tmp/fat.img
$patch fat-vbr "$fat"
j=$(sniff "$fat")
check 'FAT boot sector: not an mbr' jq_is "$j" '"\(.format) \(.verdict) \(.matches | length)"' 'raw safe 0'
ntfs=$tmp/ntfs.img
$patch ntfs-vbr "$ntfs"
check 'NTFS boot sector: not an mbr' jq_is "$(sniff "$ntfs")" '.matches | length' 0

# 0x55AA on data whose "boot flags" are arbitrary bytes
junk=$tmp/junk.img
python3 -c 'import sys; s = bytearray(b"\x41" * 512); s[510:] = b"\x55\xaa"; sys.stdout.buffer.write(s * 64)' >"$junk"
check '0x55AA alone is not an MBR' jq_is "$(sniff "$junk")" '.matches | length' 0

# an empty MBR (label only) is an MBR without partitions
empty=$tmp/empty-label.img
truncate -s 8M "$empty"
printf 'label: dos\nlabel-id: 0xcafe0001\n' | sfdisk -q "$empty"
check 'empty dos label: safe mbr child, no partitions' jq_is "$(child "$(sniff "$empty")" mbr)" \
	'"\(.verdict) \(."format-specific".data.partitions | length)"' 'safe 0'

# Random damage to these tables is the job of tests/unit/test-part-fuzz.c
# (in memory, thousands of mutations a second).

finish
