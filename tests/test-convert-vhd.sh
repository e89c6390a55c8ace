#!/bin/bash
# The VHD, VHDX and VDI block mappers (lib/formats/{vhd,vhdx,vdi}-map.c):
# every variant qemu-img writes converts to the same raw bytes as
# `qemu-img convert -O raw` (one thread and the default), and broken
# block tables end in exit 1 with the right finding, never a crash.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3
requires jq

CONVERT=$B/tests/convert-file
[ -x "$CONVERT" ] || skip "build/tests/convert-file is not built"
VX="python3 $top/tests/images/vxmap.py"
VHDPY="python3 $top/tests/images/vhd.py"
VHDXPY="python3 $top/tests/images/vhdx.py"
. "$top/tests/images/poke.sh"

# a 64 MiB disk, and one whose size is no multiple of any block size
$VX base "$tmp/base.raw" $((64 << 20)) 1
$VX base "$tmp/odd.raw" $((37 << 20 | 7 * 512)) 2

# same_as_qemu 'description' QEMU_FMT OUR_FMT IMAGE: our raw equals
# qemu-img's, with one worker thread and with the default
same_as_qemu() {
	local what=$1 qfmt=$2 fmt=$3 img=$4 th ok=1
	qemu-img convert -f "$qfmt" -O raw "$img" "$tmp/ref.raw" || { fail "$what (qemu-img)"; return; }
	for th in 1 ""; do
		if ! "$CONVERT" "$fmt" "$img" "$tmp/out.raw" $th 2>"$tmp/err"; then
			echo "#   threads=${th:-default}: $(head -c 600 "$tmp/err")"
			ok=0
		elif ! cmp -s "$tmp/out.raw" "$tmp/ref.raw"; then
			echo "#   threads=${th:-default}: output differs from qemu-img"
			ok=0
		fi
	done
	if [ $ok = 1 ]; then pass "$what"; else fail "$what"; fi
}

# variant QEMU_FMT OUR_FMT OPTIONS: make it from both bases with qemu-img
variant() {
	local qfmt=$1 fmt=$2 opts=$3 src img
	for src in base odd; do
		img="$tmp/$src.$qfmt"
		if ! qemu-img convert -f raw -O "$qfmt" ${opts:+-o "$opts"} \
			"$tmp/$src.raw" "$img" 2>/dev/null; then
			fail "$qfmt ${opts:-default} from $src: qemu-img cannot make it"
			continue
		fi
		same_as_qemu "$qfmt ${opts:-default} from $src" "$qfmt" "$fmt" "$img"
		rm -f "$img"
	done
}

variant vpc vhd ""
variant vpc vhd subformat=fixed
variant vpc vhd force_size=on
variant vpc vhd subformat=fixed,force_size=on
variant vhdx vhdx ""
variant vhdx vhdx block_size=1M
variant vhdx vhdx block_size=32M
variant vhdx vhdx subformat=fixed
variant vdi vdi ""
variant vdi vdi static=on

# streamed to stdout: the same bytes
qemu-img convert -f raw -O vhdx "$tmp/odd.raw" "$tmp/s.vhdx"
qemu-img convert -f vhdx -O raw "$tmp/s.vhdx" "$tmp/ref.raw"
check "vhdx streamed to stdout" \
	bash -c '"$1" vhdx "$2" - 2>/dev/null | cmp -s - "$3"' _ "$CONVERT" "$tmp/s.vhdx" "$tmp/ref.raw"

# a VDI whose disk size is no multiple of a sector (VBoxManage
# convertfromraw makes them): qemu rounds up
qemu-img convert -f raw -O vdi "$tmp/odd.raw" "$tmp/oddsize.vdi"
poke "$tmp/oddsize.vdi" 0x170 8 $(((37 << 20) + 1000))
same_as_qemu "vdi with an odd disk size" vdi vdi "$tmp/oddsize.vdi"

# a VHD with 512-byte blocks: no sector bitmap (qemu's rounding)
$VX vhd-small-blocks "$tmp/small.vhd" 5000 99999
same_as_qemu "vhd with 512-byte blocks" vpc vhd "$tmp/small.vhd"

# ---- broken images: exit 1 with a finding ------------------------------

# refused 'description' FORMAT IMAGE FINDING
refused() {
	local what=$1 fmt=$2 img=$3 code=$4 rc j
	"$CONVERT" "$fmt" "$img" "$tmp/out.raw" 2>"$tmp/err"
	rc=$?
	j=$(sed -n '2,$p' "$tmp/err")
	if [ $rc = 1 ] && has_finding "$j" "$code"; then
		pass "$what"
	else
		echo "#   exit $rc, want 1 with $code: $(head -c 600 "$tmp/err")"
		fail "$what"
	fi
}

qemu-img convert -f raw -O vpc "$tmp/base.raw" "$tmp/dyn.vhd"
size=$(stat -c %s "$tmp/dyn.vhd")
cp "$tmp/dyn.vhd" "$tmp/v1.vhd"; $VHDPY bat "$tmp/v1.vhd" 0 0x7fffff00
refused "vhd: BAT entry past EOF" vhd "$tmp/v1.vhd" entry-out-of-range
# the last block would end inside the footer at EOF
cp "$tmp/dyn.vhd" "$tmp/v2.vhd"; $VHDPY bat "$tmp/v2.vhd" 1 $(((size - 512 - 512 - (2 << 20)) / 512 + 1))
refused "vhd: block reaching into the footer" vhd "$tmp/v2.vhd" entry-out-of-range
cp "$tmp/dyn.vhd" "$tmp/v3.vhd"; $VHDPY bat "$tmp/v3.vhd" 0 0
refused "vhd: block on the footer copy" vhd "$tmp/v3.vhd" table-overlap
cp "$tmp/dyn.vhd" "$tmp/v4.vhd"; $VHDPY bat "$tmp/v4.vhd" 0 3
refused "vhd: block on the BAT" vhd "$tmp/v4.vhd" table-overlap
cp "$tmp/dyn.vhd" "$tmp/v5.vhd"; $VHDPY diff "$tmp/v5.vhd"
refused "vhd: differencing disk" vhd "$tmp/v5.vhd" parent-reference
# a fixed disk whose footer claims more than the file holds (qemu would
# serve the footer and then zeros as guest data)
$VHDPY fixed "$tmp/v6.vhd" $((1 << 20)) "creator=win " current=$((2 << 20))
refused "vhd: fixed disk larger than its data" vhd "$tmp/v6.vhd" truncated
# past the sniffer's 16 Mi-entry BAT scan: only the mapper sees it
$VX vhd-small-blocks "$tmp/v7.vhd" $(((16 << 20) + 64)) $(((16 << 20) + 10))
refused "vhd: bad BAT entry past the sniffer's scan" vhd "$tmp/v7.vhd" entry-out-of-range

qemu-img convert -f raw -O vhdx "$tmp/base.raw" "$tmp/x.vhdx"
cp "$tmp/x.vhdx" "$tmp/x1.vhdx"; $VHDXPY bat "$tmp/x1.vhdx" 0 $(((4 << 20) | 7))
refused "vhdx: partially present block" vhdx "$tmp/x1.vhdx" bad-field
cp "$tmp/x.vhdx" "$tmp/x2.vhdx"; $VHDXPY bat "$tmp/x2.vhdx" 0 $(((1 << 40) | 6))
refused "vhdx: BAT entry past EOF" vhdx "$tmp/x2.vhdx" entry-out-of-range
cp "$tmp/x.vhdx" "$tmp/x3.vhdx"; $VHDXPY bat "$tmp/x3.vhdx" 0 6
refused "vhdx: block in the header section" vhdx "$tmp/x3.vhdx" entry-out-of-range
# qemu-img puts the log at 1 MiB
cp "$tmp/x.vhdx" "$tmp/x4.vhdx"; $VHDXPY bat "$tmp/x4.vhdx" 0 $(((1 << 20) | 6))
refused "vhdx: block on the log" vhdx "$tmp/x4.vhdx" table-overlap
cp "$tmp/x.vhdx" "$tmp/x5.vhdx"; $VHDXPY bat "$tmp/x5.vhdx" 0 4
refused "vhdx: invalid block state" vhdx "$tmp/x5.vhdx" bad-field
cp "$tmp/x.vhdx" "$tmp/x6.vhdx"; $VHDXPY header "$tmp/x6.vhdx" which=both log_guid=random
# a log GUID over a log with no valid entry: nothing to replay, qemu opens
# it as it is (dirty logs: tests/test-convert-vhdx-log.sh)
same_as_qemu "vhdx: log GUID set, no valid log entry" vhdx vhdx "$tmp/x6.vhdx"
cp "$tmp/x.vhdx" "$tmp/x7.vhdx"; $VHDXPY parent "$tmp/x7.vhdx"
refused "vhdx: differencing disk" vhdx "$tmp/x7.vhdx" parent-reference
cp "$tmp/x.vhdx" "$tmp/x8.vhdx"; $VHDXPY meta "$tmp/x8.vhdx" logical value=4096
refused "vhdx: 4096-byte logical sectors" vhdx "$tmp/x8.vhdx" unsupported-feature

qemu-img convert -f raw -O vdi "$tmp/base.raw" "$tmp/d.vdi"
bmap=$(od -An -tu4 -j $((0x154)) -N4 "$tmp/d.vdi" | tr -d ' ')
allocated=$(od -An -tu4 -j $((0x184)) -N4 "$tmp/d.vdi" | tr -d ' ')
cp "$tmp/d.vdi" "$tmp/d1.vdi"; poke "$tmp/d1.vdi" "$bmap" 4 "$allocated"
refused "vdi: block map entry >= blocks allocated" vdi "$tmp/d1.vdi" entry-out-of-range
cp "$tmp/d.vdi" "$tmp/d2.vdi"; truncate -s -$((512 << 10)) "$tmp/d2.vdi"
refused "vdi: data past EOF" vdi "$tmp/d2.vdi" entry-out-of-range
cp "$tmp/d.vdi" "$tmp/d3.vdi"; poke "$tmp/d3.vdi" 0x4c 4 4
refused "vdi: differencing type" vdi "$tmp/d3.vdi" unsupported-subformat
cp "$tmp/d.vdi" "$tmp/d4.vdi"; poke_hex "$tmp/d4.vdi" 0x1b8 0123456789abcdef0123456789abcdef
refused "vdi: parent UUID" vdi "$tmp/d4.vdi" parent-reference
cp "$tmp/d.vdi" "$tmp/d5.vdi"; poke "$tmp/d5.vdi" 0x17c 4 512
refused "vdi: block extra data" vdi "$tmp/d5.vdi" unsupported-feature
cp "$tmp/d.vdi" "$tmp/d6.vdi"; poke "$tmp/d6.vdi" 0x154 4 0
refused "vdi: block map on the header" vdi "$tmp/d6.vdi" table-overlap

# ---- memory: a 4 GiB disk stays far below the helper's 64 MiB ----------
if [ -x /usr/bin/time ]; then
	truncate -s 4G "$tmp/big.raw"
	dd if="$tmp/base.raw" of="$tmp/big.raw" bs=1M seek=3000 conv=notrunc status=none
	qemu-img convert -f raw -O vhdx -o block_size=1M "$tmp/big.raw" "$tmp/big.vhdx"
	rm -f "$tmp/big.raw"
	/usr/bin/time -f %M -o "$tmp/rss" "$CONVERT" vhdx "$tmp/big.vhdx" "$tmp/out.raw" 2>/dev/null
	rss=$(tail -n 1 "$tmp/rss")
	echo "# peak RSS converting a 4 GiB-virtual VHDX: ${rss} KiB"
	check "4 GiB VHDX converts in under 64 MiB of RSS" [ "$rss" -lt 65536 ]
fi

finish
