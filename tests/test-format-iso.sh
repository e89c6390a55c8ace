#!/bin/bash
# ISO 9660 and UDF content readers: images from genisoimage and xorriso
# (plain, Joliet, UDF bridge, El Torito with hybrid MBR/GPT) are raw and
# safe with their content reported; damaged descriptor sets make the
# content child invalid; a qcow2 header in the system area is unsafe.
. "$(dirname "$0")/functions.sh"
requires genisoimage
requires xorriso
requires jq
requires qemu-img
requires python3

child() { printf '%s' "$1" | jq -c --arg f "$2" '[.children[] | select(.role == "content" and .format == $f)][0]'; }
# child_has JSON FORMAT CODE: the content child FORMAT has finding CODE
child_has() {
	printf '%s' "$1" | jq -e --arg f "$2" --arg c "$3" \
		'[.children[] | select(.role == "content" and .format == $f) | .findings[].code] | index($c) != null' >/dev/null
}
fs() { child "$1" "$2" | jq -r ".\"format-specific\".data.$3"; }
# poke FILE OFFSET HEXBYTES
poke() { printf "$(printf '%s' "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

src=$tmp/src
mkdir -p "$src/dir"
echo hello >"$src/a.txt"
echo world >"$src/dir/b.txt"
dd if=/dev/zero of="$tmp/efi.img" bs=1k count=1440 status=none
cp "$tmp/efi.img" "$src/efi.img"

# --- plain ISO 9660 --------------------------------------------------------
iso=$tmp/plain.iso
genisoimage -quiet -o "$iso" -V MYLABEL "$src"
size=$(stat -c %s "$iso")
j=$(sniff "$iso")
check 'iso: raw, safe, matches iso9660 only' jq_is "$j" '"\(.format) \(.verdict) \(.matches | join(","))"' 'raw safe iso9660'
check 'iso: virtual-size is qemu-img'"'"'s' jq_is "$j" '."virtual-size"' "$(qemu_vsize "$iso" raw)"
check 'iso: no findings' jq_is "$j" '[.. | objects | .findings? // empty | .[]] | length' 0
check 'iso: volume id, system id' jq_is "$(child "$j" iso9660)" \
	'."format-specific".data | "\(."volume-id") \(."system-id")"' 'MYLABEL LINUX'
check 'iso: volume size is the file size, 2048-byte blocks' jq_is "$(child "$j" iso9660)" \
	'."format-specific".data | "\(."volume-size") \(."block-size")"' "$size 2048"
check 'iso: no Joliet, no El Torito' jq_is "$(child "$j" iso9660)" \
	'."format-specific".data | "\(.joliet) \(."el-torito")"' 'false false'

# --- Joliet ------------------------------------------------------------------
jol=$tmp/joliet.iso
genisoimage -quiet -o "$jol" -V JLABEL -J "$src"
j=$(sniff "$jol")
check 'joliet: safe, joliet true' jq_is "$(child "$j" iso9660)" '"\(.verdict) \(."format-specific".data.joliet)"' 'safe true'

# --- UDF bridge --------------------------------------------------------------
udf=$tmp/udf.iso
genisoimage -quiet -o "$udf" -V ULABEL -udf "$src"
j=$(sniff "$udf")
check 'udf bridge: raw safe, matches iso9660 and udf' jq_is "$j" \
	'"\(.verdict) \(.matches | sort | join(",")) \([.children[].verdict] | join(","))"' 'safe iso9660,udf safe,safe'
check 'udf bridge: NSR02, UDF 1.02, 2048-byte blocks, volume id' jq_is "$(child "$j" udf)" \
	'."format-specific".data | "\(.nsr) \(."udf-revision") \(."block-size") \(."volume-id")"' 'NSR02 1.02 2048 ULABEL'
check 'udf bridge: no multiple-formats' jq_is "$j" '[.findings[].code] | index("multiple-formats")' null

# --- xorriso: El Torito (EFI) with an appended EFI partition in a GPT --------
hyb=$tmp/hybrid-gpt.iso
xorriso -as mkisofs -quiet -o "$hyb" -V HYB -J -e efi.img -no-emul-boot \
	-append_partition 2 0xef "$tmp/efi.img" -appended_part_as_gpt "$src" 2>/dev/null
j=$(sniff "$hyb")
check 'hybrid gpt iso: raw safe, iso9660+gpt+mbr, all children safe' jq_is "$j" \
	'"\(.format) \(.verdict) \(.matches | sort | join(",")) \([.children[].verdict] | join(","))"' \
	'raw safe gpt,iso9660,mbr safe,safe,safe'
check 'hybrid gpt iso: no multiple-formats' jq_is "$j" '[.findings[].code] | index("multiple-formats")' null
check 'hybrid gpt iso: El Torito, EFI platform, bootable' jq_is "$(child "$j" iso9660)" \
	'."format-specific".data | "\(."el-torito") \(."el-torito-platform") \(."el-torito-bootable") \(.joliet)"' 'true 239 true true'
check 'hybrid gpt iso: the appended EFI partition is listed' jq_is "$(child "$j" gpt)" \
	'."format-specific".data.partitions[] | select(."type-name" == "EFI System") | "\(.start) \(.size)"' \
	"$(sfdisk --json "$hyb" | jq -r '.partitiontable.partitions[] | select(.type | startswith("C12A7328")) | "\(.start * 512) \(.size * 512)"')"

# --- xorriso -isohybrid-gpt-basdat: MBR partition 1 at sector 0 spans it all
mbrcode=$tmp/mbrcode.bin
python3 -c 'import sys; sys.stdout.buffer.write(b"\x33\xed\xfa" + bytes(429))' >"$mbrcode"
basdat=$tmp/basdat.iso
xorriso -as mkisofs -quiet -o "$basdat" -V BASDAT -isohybrid-mbr "$mbrcode" \
	-b efi.img -no-emul-boot -boot-load-size 4 -eltorito-alt-boot -e efi.img \
	-no-emul-boot -isohybrid-gpt-basdat "$src" 2>/dev/null
j=$(sniff "$basdat")
check 'isohybrid gpt-basdat: safe everywhere, isohybrid noted' jq_is "$j" \
	'"\(.verdict) \([.children[].verdict] | join(",")) \([.children[] | ."format-specific".data.isohybrid // empty] | join(","))"' \
	'safe safe,safe,safe true,true'
check 'isohybrid gpt-basdat: MBR partitions equal sfdisk'"'"'s' jq_is "$(child "$j" mbr)" \
	'."format-specific".data.partitions | map("\(.start):\(.size)") | join(" ")' \
	"$(sfdisk --json "$basdat" | jq -r '[.partitiontable.partitions[] | "\(.start * 512):\(.size * 512)"] | join(" ")')"

# --- damage ----------------------------------------------------------------
# truncated inside the descriptor set (in the middle of the terminator)
bad=$tmp/cut.iso
head -c $((32768 + 2048 + 100)) "$iso" >"$bad"
j=$(sniff "$bad")
check 'iso cut in the descriptor set: raw safe, child invalid truncated' jq_is "$j" \
	'"\(.verdict) \((.children[] | select(.format=="iso9660")).verdict)"' 'safe invalid'
check 'iso cut in the descriptor set: truncated' child_has "$j" iso9660 truncated

# cut after the descriptors: the volume ends past the end of the file
bad=$tmp/short.iso
head -c $((32768 + 4 * 2048)) "$iso" >"$bad"
check 'iso shorter than its volume: truncated' child_has "$(sniff "$bad")" iso9660 truncated

# both-endian volume space size disagreeing
bad=$tmp/endian.iso
cp "$iso" "$bad"
poke "$bad" $((32768 + 84)) 00001000
j=$(sniff "$bad")
check 'iso both-endian sizes disagree: inconsistent-header' child_has "$j" iso9660 inconsistent-header
check 'iso both-endian sizes disagree: child invalid, raw safe' jq_is "$j" \
	'"\(.verdict) \((.children[] | select(.format=="iso9660")).verdict)"' 'safe invalid'

# impossible logical block size, consistently recorded
bad=$tmp/blocksize.iso
cp "$iso" "$bad"
poke "$bad" $((32768 + 128)) b80b0bb8
check 'iso block size 3000: bad-field' child_has "$(sniff "$bad")" iso9660 bad-field

# the set does not terminate: the terminator is overwritten
bad=$tmp/noterm.iso
cp "$iso" "$bad"
poke "$bad" $((32768 + 2048)) 00585858585801
check 'iso without terminator: bad-field' child_has "$(sniff "$bad")" iso9660 bad-field

# a set of 100 primary descriptors and no terminator
bad=$tmp/endless.iso
python3 - "$iso" "$bad" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
pvd = d[32768:32768 + 2048]
for i in range(100):
    off = 32768 + i * 2048
    d[off:off + 2048] = pvd
open(sys.argv[2], "wb").write(d)
EOF
j=$(timeout 10 "$SNIFF_FILE" "$bad")
check 'iso with 100 descriptors: table-too-large' child_has "$j" iso9660 table-too-large

# El Torito validation entry checksum
bad=$tmp/eltorito.iso
cp "$hyb" "$bad"
cat=$(child "$(sniff "$hyb")" iso9660 >/dev/null; python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
for i in range(16, 32):
    s = d[i * 2048:(i + 1) * 2048]
    if s[0] == 0 and s[7:30] == b"EL TORITO SPECIFICATION":
        print(struct.unpack_from("<I", s, 0x47)[0]); break' "$hyb")
poke "$bad" $((cat * 2048 + 4)) 41
check 'El Torito validation checksum: bad-checksum' child_has "$(sniff "$bad")" iso9660 bad-checksum

# UDF: anchor tag checksum broken at 256 (the copy at the end is used),
# then at both places
bad=$tmp/udf-anchor.iso
cp "$udf" "$bad"
poke "$bad" $((256 * 2048 + 4)) 00
j=$(sniff "$bad")
check 'udf anchor at 256 broken: bad-checksum, volume still read' jq_is "$(child "$j" udf)" \
	'"\(.verdict) \([.findings[].code] | join(",")) \(."format-specific".data."volume-id")"' 'invalid bad-checksum ULABEL'
udfsize=$(stat -c %s "$udf")
poke "$bad" $((udfsize - 2048 + 4)) 00
j=$(sniff "$bad")
check 'udf both anchors broken: udf child bad-field, iso child safe' jq_is "$j" \
	'"\((.children[] | select(.format=="udf")).verdict) \((.children[] | select(.format=="iso9660")).verdict)"' 'invalid safe'
check 'udf both anchors broken: bad-field' child_has "$j" udf bad-field
bad=$tmp/udf-crc.iso
cp "$udf" "$bad"
vds=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); print(struct.unpack_from("<I", d, 256*2048+20)[0])' "$udf")
poke "$bad" $((vds * 2048 + 100)) 5a
check 'udf volume descriptor CRC: bad-checksum' child_has "$(sniff "$bad")" udf bad-checksum
# UDF recognition sequence without TEA01
bad=$tmp/udf-notea.iso
cp "$udf" "$bad"
python3 - "$bad" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    d = f.read(65536)
    i = d.find(b"\x00TEA01\x01")
    f.seek(i + 1)
    f.write(b"XXXXX")
EOF
check 'udf without TEA01: bad-field' child_has "$(sniff "$bad")" udf bad-field

# --- OpenStack's ISO with a qcow2 header in its 32 KiB system area ---------
qc=$tmp/x.qcow2
qemu-img create -q -f qcow2 "$qc" 1M
bad=$tmp/qcow2-in-iso.iso
cp "$iso" "$bad"
dd if="$qc" of="$bad" bs=32K count=1 conv=notrunc status=none
j=$(sniff "$bad")
check 'qcow2 header in the system area: unsafe multiple-formats' \
	jq_is "$j" '"\(.verdict) \([.findings[].code] | index("multiple-formats") != null)"' 'unsafe true'
check 'qcow2 header in the system area: iso9660 still matches' \
	jq_is "$j" '.matches | index("iso9660") != null' true

finish
