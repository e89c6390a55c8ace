#!/bin/bash
# QED reader: images made by qemu-img are recognised with qemu's virtual
# and cluster size and are unsupported; backing files are unsafe; broken
# headers and tables are invalid.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3
. "$top/tests/images/qcow-lib.sh"

# legacy_qed 'description' FILE VERDICT [FINDING...]: format qed, the
# verdict and exactly these findings, qemu-img's sizes and backing file
legacy_qed() {
	local what=$1 f=$2 verdict=$3 got want
	shift 3
	got=$(sniff "$f" | jq -c '[.verdict, .format, ."virtual-size", ."cluster-size",
		."backing-filename", ."backing-filename-format", [.findings[].code]]')
	want=$(qemu-img info -f qed --output=json "$f" | jq -c --arg v "$verdict" --args \
		'[$v, "qed", ."virtual-size", ."cluster-size", ."backing-filename",
		  ."backing-filename-format", $ARGS.positional]' "$@")
	if [ "$got" = "$want" ]; then pass "$what"; else
		echo "#   got  $got"; echo "#   want $want"; fail "$what"; fi
}

qemu-img create -q -f qed "$tmp/plain.qed" 1G
legacy_qed 'QED is unsupported, sizes as qemu-img' "$tmp/plain.qed" \
	unsupported unsupported-format
qemu-img create -q -f qed -o cluster_size=4096,table_size=16 "$tmp/small.qed" 100M
legacy_qed 'QED with 4 KiB clusters, 16-cluster tables' "$tmp/small.qed" \
	unsupported unsupported-format
qemu-img create -q -f qed -o cluster_size=1M,table_size=2 "$tmp/big.qed" 10G
legacy_qed 'QED with 1 MiB clusters, 2-cluster tables' "$tmp/big.qed" \
	unsupported unsupported-format
qemu-img create -q -f qed -u -b /etc/passwd -F raw "$tmp/back.qed" 10M
legacy_qed 'QED with a backing file is unsafe' "$tmp/back.qed" \
	unsafe unsupported-format backing-file
qemu-img create -q -f qed -u -b /etc/passwd -F qcow2 "$tmp/backprobe.qed" 10M
legacy_qed 'QED with a probed backing file is unsafe' "$tmp/backprobe.qed" \
	unsafe unsupported-format backing-file
qemu-img create -q -f qed -u -b 'nbd://x' -F raw "$tmp/nbd.qed" 10M
expect 'QED with an nbd:// backing file is unsafe' "$tmp/nbd.qed" unsafe \
	backing-file protocol-reference

python3 - "$tmp/data.raw" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.truncate(8 << 20)
    for off in (0, 3 << 20, (8 << 20) - 512):
        f.seek(off)
        f.write(b"imgward qed test data\n" * 8)
PY
qemu-img convert -q -f raw -O qed "$tmp/data.raw" "$tmp/data.qed"
legacy_qed 'QED with data is unsupported' "$tmp/data.qed" unsupported unsupported-format

p=$tmp/plain.qed
bad 'truncated to 30 bytes is invalid' invalid "$p" truncate=30 unsupported-format truncated
bad 'truncated to one cluster: L1 past EOF' invalid "$p" truncate=65536 table-past-eof
bad 'cluster size 3000 is invalid' invalid "$p" qed.cluster_size=3000 bad-field
bad 'cluster size 128 MiB is invalid' invalid "$p" qed.cluster_size=0x8000000 bad-field
bad 'table size 3 is invalid' invalid "$p" qed.table_size=3 bad-field
bad 'table size 32 is invalid' invalid "$p" qed.table_size=32 bad-field
bad 'image size not a multiple of 512' invalid "$p" qed.image_size=1000 bad-field
bad 'image size beyond the tables' invalid "$p" qed.image_size=0x100000000000000 impossible-size
bad 'image size 2^64-512 is impossible' invalid "$p" qed.image_size=0xfffffffffffffe00 impossible-size
bad 'L1 table past EOF' invalid "$p" qed.l1_table_offset=0x1000000 table-past-eof
bad 'L1 table unaligned' invalid "$p" qed.l1_table_offset=0x10200 bad-field
bad 'L1 table in the header' invalid "$p" qed.l1_table_offset=0 table-overlap
bad 'header of 2^20 clusters is invalid' invalid "$p" qed.header_size=0x100000 bad-field
bad 'unknown feature bit is unsafe' unsafe "$p" qed.features=0x10 unknown-features
bad 'needs-check bit is INFO' unsupported "$p" qed.features=2 dirty unsupported-format
bad 'backing name outside the header' unsafe "$p" \
	'qed.features=1 qed.backing_filename_offset=0xfff0 qed.backing_filename_size=0x20' \
	bad-field backing-file
bad 'L1 entry past EOF' invalid "$tmp/data.qed" '@0x10000:le64=0x100000000' entry-out-of-range
bad 'L1 entry unaligned' invalid "$tmp/data.qed" '@0x10000:le64=0x50200' entry-out-of-range
run_bad

finish
