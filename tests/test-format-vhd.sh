#!/bin/bash
# VHD (qemu "vpc") reader: clean images from qemu-img agree with
# `qemu-img info -f vpc`; broken and hostile ones get the right verdict
# and finding codes, and are never taken for raw.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3
requires jq
# the interpreter itself: a version manager's shim costs 0.1 s a call
py=$(python3 -c 'import sys; print(sys.executable)')
gen="$py $top/tests/images/vhd.py"

# data.raw: a 10 MiB disk with data at the start, middle and end
$py - "$tmp/data.raw" <<'EOF'
import sys
with open(sys.argv[1], 'wb') as f:
    f.truncate(10 << 20)
    f.write(b'\x55' * 4096)
    f.seek(4 << 20); f.write(bytes(range(256)) * 4096)
    f.seek((10 << 20) - 512); f.write(b'E' * 512)
EOF

# same_as_qemu 'desc' FILE: virtual-size (and cluster-size) equal qemu's
same_as_qemu() {
	local j q ok=1
	j=$(sniff "$2")
	q=$(qemu-img info -f vpc --output=json "$2")
	jq_is "$j" '."virtual-size"' "$(jq -r '."virtual-size"' <<<"$q")" || ok=0
	jq_is "$j" '."cluster-size"' "$(jq -r '."cluster-size"' <<<"$q")" || ok=0
	jq_is "$j" .format vhd || ok=0
	if [ $ok = 1 ]; then pass "$1"; else fail "$1"; fi
}

# ---- clean images --------------------------------------------------------
for sub in dynamic fixed; do
	for force in off on; do
		f=$tmp/$sub-$force.vhd
		qemu-img convert -f raw -O vpc -o subformat=$sub,force_size=$force \
			"$tmp/data.raw" "$f"
		expect_sniff "clean $sub VHD (force_size=$force) is safe" "$f" safe
		same_as_qemu "clean $sub VHD (force_size=$force): sizes equal qemu's" "$f"
	done
done
j=$(sniff "$tmp/dynamic-off.vhd")
check 'dynamic VHD: format-specific data' \
	jq_is "$j" '."format-specific".data | [."disk-type", ."creator-app", ."block-size", .geometry.heads] | join(",")' \
	'dynamic,qemu,2097152,4'
check 'dynamic VHD: unique-id is a UUID string' \
	jq_is "$j" '."format-specific".data."unique-id" | test("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")' true
j=$(sniff "$tmp/fixed-off.vhd")
check 'fixed VHD: disk-type fixed, no cluster-size' \
	jq_is "$j" '[."format-specific".data."disk-type", ."cluster-size"] | join(",")' 'fixed,'
check 'fixed VHD: qemu auto-probe (raw) difference reported' \
	has_finding "$j" qemu-probe-differs

# Every patched variant, made by one generator process (see
# tests/images/vhd.py): OUT BASE COMMAND ARGS...
$gen batch "$tmp" <<'EOF'
chs.vhd         -           fixed 52428800 'creator=vpc ' chs=100/16/63 current=52428800
app-win.vhd     -           fixed 52428800 'creator=win ' chs=100/16/63 current=52428800
app-d2v.vhd     -           fixed 52428800 'creator=d2v ' chs=100/16/63 current=52428800
app-CTXS.vhd    -           fixed 52428800 creator=CTXS chs=100/16/63 current=52428800
app-qem2.vhd    -           fixed 52428800 creator=qem2 chs=100/16/63 current=52428800
app-tap.vhd     -           fixed 52428800 'creator=tap\0' chs=100/16/63 current=52428800
maxchs.vhd      -           fixed 161061273600 'creator=vpc ' chs=65535/16/255
huge.vhd        -           fixed 1048576 'creator=win ' current=4398046511104
short-fixed.vhd -           fixed 1048576 'creator=win ' current=2097152
diff.vhd        dynamic-off.vhd diff
badsum.vhd      dynamic-off.vhd footer checksum=bad
badsum-fixed.vhd fixed-off.vhd footer where=tail checksum=bad
split.vhd       dynamic-off.vhd footer where=tail uuid=12345678-1234-1234-1234-123456789abc
type7.vhd       dynamic-off.vhd footer type=7
type7-fixed.vhd fixed-off.vhd footer where=tail type=7
fixed-says-dyn.vhd fixed-off.vhd footer where=tail type=3
version.vhd     dynamic-off.vhd footer version=0x00020000
old.vhd         fixed-off.vhd old-footer
dynsum.vhd      dynamic-off.vhd dyn checksum=bad
batpast.vhd     dynamic-off.vhd dyn table_offset=0x100000000
entry.vhd       dynamic-off.vhd bat 3 0x7fffff00
entry-meta.vhd  dynamic-off.vhd bat 3 1
bs0.vhd         dynamic-off.vhd dyn block_size=0
bs3000.vhd      dynamic-off.vhd dyn block_size=3000
bs256.vhd       dynamic-off.vhd dyn block_size=256
mte.vhd         dynamic-off.vhd dyn max_table_entries=0xfffffff0
mte2.vhd        dynamic-off.vhd dyn max_table_entries=0x10000000
mte3.vhd        dynamic-off.vhd dyn max_table_entries=3
EOF

# Virtual size rule (vpc_open): CHS product unless the creator sizes by
# current_size or the geometry is maxed out.
expect_sniff 'creator "vpc ", CHS below current_size: safe' "$tmp/chs.vhd" safe
same_as_qemu 'creator "vpc ": size from CHS (100*16*63 sectors)' "$tmp/chs.vhd"
check 'creator "vpc ": virtual size is the CHS product' \
	jq_is "$(sniff "$tmp/chs.vhd")" '."virtual-size"' $((100 * 16 * 63 * 512))
for app in win d2v CTXS qem2 tap; do
	same_as_qemu "creator $app: size from current_size" "$tmp/app-$app.vhd"
	check "creator $app: virtual size is current_size" \
		jq_is "$(sniff "$tmp/app-$app.vhd")" '."virtual-size"' 52428800
done
same_as_qemu 'maximum CHS geometry: size from current_size' "$tmp/maxchs.vhd"
check 'maximum CHS geometry: 150 GiB' \
	jq_is "$(sniff "$tmp/maxchs.vhd")" '."virtual-size"' $((150 << 30))

# A fixed VHD of a partitioned disk: the MBR at offset 0 is the guest's.
cp "$tmp/data.raw" "$tmp/mbr.raw"
$py - "$tmp/mbr.raw" <<'EOF'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(446)
    f.write(struct.pack('<B3sB3sII', 0x80, b'\0\x02\0', 0x83, b'\xff\xff\xff',
                        2048, (10 << 20) // 512 - 2048))
    f.seek(510); f.write(b'\x55\xaa')
EOF
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$tmp/mbr.raw" "$tmp/mbr.vhd"
expect_sniff 'fixed VHD of an MBR disk is safe' "$tmp/mbr.vhd" safe
check 'fixed VHD of an MBR disk: no multiple-formats' \
	bash -c '! jq -e "[.findings[].code] | index(\"multiple-formats\")" <<<"$1" >/dev/null' _ "$(sniff "$tmp/mbr.vhd")"

# ---- differencing disk: parent names are reported, never followed --------
expect_sniff 'differencing VHD is unsafe' "$tmp/diff.vhd" unsafe parent-reference
j=$(sniff "$tmp/diff.vhd")
for name in 'C:\secret.vhd' '.\secret.vhd' 'file:///etc/passwd' '/etc/passwd'; do
	check "differencing VHD: reference $name reported" \
		jq -e --arg n "$name" '[.references[].name] | index($n) != null' <<<"$j" >/dev/null
done
check 'differencing VHD: locators typed parent-locator, name parent-name' \
	jq_is "$j" '[.references[].type] | sort | join(",")' \
	'parent-locator,parent-locator,parent-locator,parent-name'
check 'differencing VHD: disk-type and parent-uuid' \
	jq_is "$j" '."format-specific".data | (."disk-type" + "," + (."parent-uuid" != "00000000-0000-0000-0000-000000000000" | tostring))' \
	'differencing,true'
same_as_qemu 'differencing VHD: sizes equal qemu (which ignores the parent)' "$tmp/diff.vhd"

# ---- broken footers ------------------------------------------------------
expect_sniff 'bad footer checksum' "$tmp/badsum.vhd" invalid bad-checksum
check 'bad footer checksum: qemu refuses it too' \
	bash -c '! qemu-img info -f vpc "$1" >/dev/null 2>&1' _ "$tmp/badsum.vhd"
expect_sniff 'bad fixed footer checksum: invalid, not raw' "$tmp/badsum-fixed.vhd" invalid bad-checksum
check 'bad fixed footer checksum: format vhd' jq_is "$(sniff "$tmp/badsum-fixed.vhd")" .format vhd
expect_sniff 'footer copy differs from the footer at EOF' "$tmp/split.vhd" invalid inconsistent-header
expect_sniff 'dynamic disk type 7' "$tmp/type7.vhd" invalid bad-field
expect_sniff 'footer at EOF with disk type 7' "$tmp/type7-fixed.vhd" invalid bad-field
expect_sniff 'footer at EOF says dynamic, no copy at 0' "$tmp/fixed-says-dyn.vhd" invalid inconsistent-header
expect_sniff 'footer version 2.0' "$tmp/version.vhd" unsupported unsupported-version
expect_sniff 'current_size 4 TiB: above qemu limit' "$tmp/huge.vhd" invalid impossible-size truncated
expect_sniff 'fixed VHD whose data is shorter than its size' "$tmp/short-fixed.vhd" invalid truncated
expect_sniff '511-byte footer: recognised, not accepted' "$tmp/old.vhd" unsupported unsupported-subformat
check '511-byte footer: format vhd, not raw' jq_is "$(sniff "$tmp/old.vhd")" .format vhd

# ---- broken dynamic header and BAT ---------------------------------------
expect_sniff 'bad dynamic header checksum' "$tmp/dynsum.vhd" invalid bad-checksum
expect_sniff 'BAT past EOF' "$tmp/batpast.vhd" invalid table-past-eof
check 'BAT past EOF: qemu refuses it too' \
	bash -c '! qemu-img info -f vpc "$1" >/dev/null 2>&1' _ "$tmp/batpast.vhd"
expect_sniff 'BAT entry past EOF' "$tmp/entry.vhd" invalid entry-out-of-range
check 'BAT entry past EOF: qemu refuses it too' \
	bash -c '! qemu-img info -f vpc "$1" >/dev/null 2>&1' _ "$tmp/entry.vhd"
expect_sniff 'BAT entry over the dynamic header' "$tmp/entry-meta.vhd" invalid table-overlap
for bs in 0 3000 256; do
	expect_sniff "block size $bs" "$tmp/bs$bs.vhd" invalid bad-field
done
expect_sniff 'max_table_entries 0xfffffff0' "$tmp/mte.vhd" invalid table-too-large
expect_sniff 'max_table_entries 2^28 (1 GiB BAT) past EOF' "$tmp/mte2.vhd" invalid table-past-eof
expect_sniff 'BAT too small for the virtual size' "$tmp/mte3.vhd" invalid bad-field

# ---- truncations: invalid, never raw ------------------------------------
size=$(stat -c %s "$tmp/dynamic-off.vhd")
for cut in 100 600 1000 4000 $((size - 512)) $((size - 2 * 1024 * 1024))
do
	head -c $cut "$tmp/dynamic-off.vhd" >"$tmp/cut.vhd"
	expect_sniff "dynamic VHD cut to $cut bytes" "$tmp/cut.vhd" invalid truncated
	check "dynamic VHD cut to $cut bytes: format vhd" jq_is "$(sniff "$tmp/cut.vhd")" .format vhd
done

# ---- garbage after a cookie: nothing crashes ----------------------------
for i in 1 2 3 4 5; do
	{ printf conectix; head -c $((i * 777)) /dev/urandom; } >"$tmp/junk.vhd"
	expect_sniff "random bytes after a cookie ($i)" "$tmp/junk.vhd" invalid
done

finish
