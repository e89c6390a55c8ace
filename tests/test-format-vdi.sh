#!/bin/bash
# VDI reader: clean images made by qemu-img are safe with qemu's virtual
# size; differencing, broken and hostile headers and block maps get the
# right verdict and finding codes.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq

. "$top/tests/images/poke.sh"
# header field offsets (qemu block/vdi.c VdiHeader)
OFF_VERSION=0x44
OFF_HEADER_SIZE=0x48
OFF_TYPE=0x4c
OFF_BMAP=0x154
OFF_DATA=0x158
OFF_SECTOR_SIZE=0x168
OFF_DISK_SIZE=0x170
OFF_BLOCK_SIZE=0x178
OFF_BLOCK_EXTRA=0x17c
OFF_BLOCKS=0x180
OFF_ALLOCATED=0x184
OFF_UUID_LINK=0x1a8
OFF_UUID_PARENT=0x1b8

# clean_vdi 'description' FILE: safe, format vdi, qemu's virtual and
# cluster size
clean_vdi() {
	local what=$1 f=$2 j q ok=1
	j=$(sniff "$f")
	q=$(qemu-img info -f vdi --output=json "$f")
	jq_is "$j" .verdict safe || ok=0
	jq_is "$j" .format vdi || ok=0
	jq_is "$j" '."virtual-size"' "$(printf '%s' "$q" | jq -r '."virtual-size"')" || ok=0
	jq_is "$j" '."cluster-size"' "$(printf '%s' "$q" | jq -r '."cluster-size"')" || ok=0
	jq_is "$j" '.findings | length' 0 || ok=0
	if [ $ok = 1 ]; then pass "$what"; else echo "#   $j"; fail "$what"; fi
}

qemu-img create -q -f vdi "$tmp/dynamic.vdi" 100M
qemu-img create -q -f vdi -o static=on "$tmp/static.vdi" 10M
# 5.5 MiB of raw data in four of the six 1 MiB blocks
truncate -s 5767168 "$tmp/data.raw"
for off in 0 $((1048576 + 4096)) $((3 * 1048576)) $((5767168 - 512)); do
	poke_str "$tmp/data.raw" $off "imgward test data $off"
done
qemu-img convert -f raw -O vdi "$tmp/data.raw" "$tmp/data.vdi"

clean_vdi 'dynamic VDI (qemu-img create) is safe' "$tmp/dynamic.vdi"
clean_vdi 'static VDI (qemu-img create -o static=on) is safe' "$tmp/static.vdi"
clean_vdi 'VDI with data (qemu-img convert) is safe' "$tmp/data.vdi"
j=$(sniff "$tmp/data.vdi")
check 'format-specific of the converted VDI' \
	jq_is "$j" '[."format-specific".data | ."image-type", .version, ."block-size", ."blocks-in-image", ."blocks-allocated", ."blocks-mapped", ."parent-uuid"] | join(",")' \
	'dynamic,1.1,1048576,6,4,4,00000000-0000-0000-0000-000000000000'
j=$(sniff "$tmp/static.vdi")
check 'static VDI reports image-type static' jq_is "$j" '."format-specific".data."image-type"' static

# VBoxManage convertfromraw writes odd disk sizes; qemu rounds them up
cp "$tmp/dynamic.vdi" "$tmp/odd.vdi"
poke "$tmp/odd.vdi" $OFF_DISK_SIZE 8 104857000
clean_vdi 'odd disk size is rounded up as qemu does' "$tmp/odd.vdi"

# --- differencing disks: a parent outside the file ---------------------
cp "$tmp/dynamic.vdi" "$tmp/parent.vdi"
poke_hex "$tmp/parent.vdi" $OFF_UUID_PARENT 0123456789abcdef0123456789abcdef
expect_sniff 'non-zero parent UUID is unsafe' "$tmp/parent.vdi" unsafe parent-reference
j=$(sniff "$tmp/parent.vdi")
check 'parent UUID is reported in format-specific' \
	jq_is "$j" '."format-specific".data."parent-uuid"' 67452301-ab89-efcd-0123-456789abcdef
check 'parent UUID is reported as a reference' \
	jq_is "$j" '.references[0].type' parent-uuid

cp "$tmp/dynamic.vdi" "$tmp/link.vdi"
poke_hex "$tmp/link.vdi" $OFF_UUID_LINK 00000000000000000000000000000001
expect_sniff 'non-zero link UUID is unsafe' "$tmp/link.vdi" unsafe parent-reference

cp "$tmp/dynamic.vdi" "$tmp/diff.vdi"
poke "$tmp/diff.vdi" $OFF_TYPE 4 4
expect_sniff 'image type 4 (diff) is unsafe' "$tmp/diff.vdi" unsafe parent-reference unsupported-subformat

cp "$tmp/dynamic.vdi" "$tmp/type9.vdi"
poke "$tmp/type9.vdi" $OFF_TYPE 4 9
expect_sniff 'unknown image type is invalid' "$tmp/type9.vdi" invalid bad-field

# --- header fields qemu refuses or that cannot be --------------------
cp "$tmp/dynamic.vdi" "$tmp/v10.vdi"
poke "$tmp/v10.vdi" $OFF_VERSION 4 0x00010000
expect_sniff 'version 1.0 is unsupported' "$tmp/v10.vdi" unsupported unsupported-version

cp "$tmp/dynamic.vdi" "$tmp/bs4m.vdi"
poke "$tmp/bs4m.vdi" $OFF_BLOCK_SIZE 4 4194304
expect_sniff 'block size 4 MiB is unsupported (qemu reads 1 MiB only)' "$tmp/bs4m.vdi" unsupported unsupported-feature

cp "$tmp/dynamic.vdi" "$tmp/bs0.vdi"
poke "$tmp/bs0.vdi" $OFF_BLOCK_SIZE 4 0
expect_sniff 'block size 0 is invalid' "$tmp/bs0.vdi" invalid bad-field

cp "$tmp/dynamic.vdi" "$tmp/extra.vdi"
poke "$tmp/extra.vdi" $OFF_BLOCK_EXTRA 4 512
expect_sniff 'block extra data is unsupported' "$tmp/extra.vdi" unsupported unsupported-feature

cp "$tmp/dynamic.vdi" "$tmp/sector.vdi"
poke "$tmp/sector.vdi" $OFF_SECTOR_SIZE 4 4096
expect_sniff 'sector size 4096 is invalid' "$tmp/sector.vdi" invalid bad-field

cp "$tmp/dynamic.vdi" "$tmp/hsize.vdi"
poke "$tmp/hsize.vdi" $OFF_HEADER_SIZE 4 16
expect_sniff 'header size below v1.1 minimum is invalid' "$tmp/hsize.vdi" invalid bad-field

cp "$tmp/dynamic.vdi" "$tmp/bigdisk.vdi"
poke "$tmp/bigdisk.vdi" $OFF_DISK_SIZE 8 $((101 * 1048576))
expect_sniff 'disk size larger than blocks x block size is invalid' "$tmp/bigdisk.vdi" invalid impossible-size

cp "$tmp/dynamic.vdi" "$tmp/hugedisk.vdi"
poke "$tmp/hugedisk.vdi" $OFF_DISK_SIZE 8 0x7fffffffffffffff
expect_sniff 'disk size beyond qemu maximum is invalid' "$tmp/hugedisk.vdi" invalid impossible-size

cp "$tmp/dynamic.vdi" "$tmp/hugeblocks.vdi"
poke "$tmp/hugeblocks.vdi" $OFF_BLOCKS 4 0xffffffff
expect_sniff 'blocks_in_image 0xffffffff is invalid' "$tmp/hugeblocks.vdi" invalid table-too-large

cp "$tmp/dynamic.vdi" "$tmp/alloc.vdi"
poke "$tmp/alloc.vdi" $OFF_ALLOCATED 4 1000
expect_sniff 'more blocks allocated than in the image is invalid' "$tmp/alloc.vdi" invalid bad-field

cp "$tmp/dynamic.vdi" "$tmp/unaligned.vdi"
poke "$tmp/unaligned.vdi" $OFF_DATA 4 1000
expect_sniff 'unaligned data offset is invalid' "$tmp/unaligned.vdi" invalid bad-field

# --- the block map ------------------------------------------------------
cp "$tmp/dynamic.vdi" "$tmp/mappast.vdi"
poke "$tmp/mappast.vdi" $OFF_BMAP 4 0x100000
poke "$tmp/mappast.vdi" $OFF_DATA 4 0x200000
expect_sniff 'block map past EOF is invalid' "$tmp/mappast.vdi" invalid table-past-eof

cp "$tmp/dynamic.vdi" "$tmp/mapheader.vdi"
poke "$tmp/mapheader.vdi" $OFF_BMAP 4 0
expect_sniff 'block map on top of the header is invalid' "$tmp/mapheader.vdi" invalid table-overlap

cp "$tmp/data.vdi" "$tmp/dataonmap.vdi"
poke "$tmp/dataonmap.vdi" $OFF_DATA 4 512
expect_sniff 'data area on top of the block map is invalid' "$tmp/dataonmap.vdi" invalid table-overlap

# data.vdi's map: 0, 1, unallocated, 2, unallocated, 3
cp "$tmp/data.vdi" "$tmp/entry.vdi"
poke "$tmp/entry.vdi" 0x208 4 4
expect_sniff 'block map entry >= blocks allocated is invalid' "$tmp/entry.vdi" invalid entry-out-of-range

cp "$tmp/data.vdi" "$tmp/dup.vdi"
poke "$tmp/dup.vdi" 0x204 4 0
expect_sniff 'two virtual blocks sharing a physical block is invalid' "$tmp/dup.vdi" invalid table-overlap

cp "$tmp/data.vdi" "$tmp/discarded.vdi"
poke "$tmp/discarded.vdi" 0x208 4 0xfffffffe
clean_vdi 'a discarded block map entry is fine' "$tmp/discarded.vdi"

head -c $((1024 + 3 * 1048576 + 4096)) "$tmp/data.vdi" > "$tmp/shortdata.vdi"
expect_sniff 'allocated data block past EOF is invalid' "$tmp/shortdata.vdi" invalid entry-out-of-range

# lib/qemu-probe.c must pick what qemu-img's own auto-detection picks
check 'qemu-probe of a VDI agrees with qemu-img' \
	jq_is "$(sniff "$tmp/data.vdi")" '."qemu-probe"' \
	"$(qemu-img info --output=json "$tmp/data.vdi" | jq -r .format)"

# --- truncation -----------------------------------------------------------
head -c 300 "$tmp/dynamic.vdi" > "$tmp/trunc.vdi"
expect_sniff 'truncated header is invalid, not raw' "$tmp/trunc.vdi" invalid truncated
check 'truncated header is still reported as vdi' jq_is "$(sniff "$tmp/trunc.vdi")" .format vdi

finish
