#!/bin/bash
# qcow (v1) reader: images made by qemu-img are recognised with qemu's
# virtual and cluster size and are unsupported; backing files are unsafe;
# impossible headers (CVE-2014-0222/0223 shapes) are invalid.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3
. "$top/tests/images/qcow-lib.sh"

# legacy_qcow 'description' FILE VERDICT [FINDING...]: format qcow, the
# verdict and exactly these findings, qemu-img's virtual and cluster size
legacy_qcow() {
	local what=$1 f=$2 verdict=$3 got want
	shift 3
	got=$(sniff "$f" | jq -c '[.verdict, .format, ."virtual-size", ."cluster-size",
		."backing-filename", [.findings[].code]]')
	want=$(qemu-img info -f qcow --output=json "$f" | jq -c --arg v "$verdict" --args \
		'[$v, "qcow", ."virtual-size", ."cluster-size", ."backing-filename", $ARGS.positional]' "$@")
	if [ "$got" = "$want" ]; then pass "$what"; else
		echo "#   got  $got"; echo "#   want $want"; fail "$what"; fi
}

qemu-img create -q -f qcow "$tmp/plain.qcow" 100M
legacy_qcow 'qcow v1 is unsupported, sizes as qemu-img' "$tmp/plain.qcow" \
	unsupported unsupported-format
qemu-img create -q -f qcow "$tmp/odd.qcow" 1000001
legacy_qcow 'qcow v1 with an odd size, qemu rounding' "$tmp/odd.qcow" \
	unsupported unsupported-format
qemu-img create -q -f qcow -u -b /etc/passwd -F raw "$tmp/back.qcow" 10M
legacy_qcow 'qcow v1 with a backing file is unsafe' "$tmp/back.qcow" \
	unsafe unsupported-format backing-file
qemu-img create -q -f qcow -u -F raw \
	-b 'json:{"file":{"driver":"file","filename":"/etc/shadow"}}' "$tmp/json.qcow" 10M
expect 'qcow v1 with a json: backing file is unsafe' "$tmp/json.qcow" unsafe \
	backing-file protocol-reference

python3 - "$tmp/data.raw" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.truncate(8 << 20)
    for off in (0, 3 << 20, (8 << 20) - 512):
        f.seek(off)
        f.write(b"imgward qcow test data\n" * 8)
PY
qemu-img convert -q -f raw -O qcow "$tmp/data.raw" "$tmp/data.qcow"
legacy_qcow 'qcow v1 with data is unsupported' "$tmp/data.qcow" \
	unsupported unsupported-format
l1=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(48); print(struct.unpack(">Q", d[40:48])[0])' "$tmp/data.qcow")

p=$tmp/plain.qcow
bad 'truncated to 20 bytes is invalid' invalid "$p" truncate=20 unsupported-format truncated
bad 'cluster_bits=17 is invalid' invalid "$p" qcow.cluster_bits=17 bad-field
bad 'cluster_bits=8 is invalid' invalid "$p" qcow.cluster_bits=8 bad-field
bad 'l2_bits=20 is invalid (CVE-2014-0222)' invalid "$p" qcow.l2_bits=20 bad-field
bad 'l2_bits=5 is invalid' invalid "$p" qcow.l2_bits=5 bad-field
bad 'huge size needs a huge L1 (CVE-2014-0223)' invalid "$p" qcow.size=0x7fffffff00000000 impossible-size
bad 'size 2^64-1 is impossible' invalid "$p" qcow.size=0xffffffffffffffff impossible-size
bad 'size 1 is invalid' invalid "$p" qcow.size=1 bad-field
bad 'L1 table past EOF' invalid "$p" qcow.l1_table_offset=0x100000 table-past-eof
bad 'backing file name of 2000 bytes' unsafe "$p" \
	'qcow.backing_file_offset=48 qcow.backing_file_size=2000' bad-field backing-file
bad 'backing file name past EOF' unsafe "$p" \
	'qcow.backing_file_offset=0x100000 qcow.backing_file_size=10' truncated backing-file
bad 'AES encryption is unsupported' unsupported "$p" qcow.crypt_method=1 encrypted unsupported-format
bad 'unknown encryption method is invalid' invalid "$p" qcow.crypt_method=2 bad-field
bad 'L1 entry past EOF' invalid "$tmp/data.qcow" "@$l1:be64=0x100000000" entry-out-of-range
run_bad

finish
