#!/bin/bash
# qcow2 block mapper (lib/formats/qcow2-map.c): every variant qemu-img
# writes converts to raw byte-identical to `qemu-img convert -O raw`
# (cluster sizes 512 B..2 MiB, v2, zlib and zstd compression, extended L2
# with subcluster allocation and zero bits, zero clusters, metadata
# preallocation, internal snapshots); one thread and many give the same
# bytes; malformed tables end in exit 1 with a finding, never a crash or
# garbage; peak RSS stays bounded on a 4 GiB disk.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3

CONVERT=$B/tests/convert-file
[ -x "$CONVERT" ] || skip "build/tests/convert-file is not built"
have_qemu_io=0
command -v qemu-io >/dev/null 2>&1 && have_qemu_io=1

# base.raw: random, zero, patterned and text extents in 64 MiB plus a tail
# that is not a multiple of any cluster size (nor of 512: qemu rounds the
# disk down to whole sectors)
python3 - "$tmp/base.raw" $((64 * 1024 * 1024 + 12345 * 512 + 77)) <<'EOF'
import random, sys
rnd = random.Random(3)
size = int(sys.argv[2])
M = 1 << 20
def pattern(n):
    return bytes((i * 7 + 3 + i // 4096) & 0xff for i in range(n))
def text(n):
    return b"".join(b"line %08d of some compressible text\n" % i
                    for i in range(n // 38 + 1))[:n]
with open(sys.argv[1], "wb") as f:
    f.truncate(size)
    for off, n, kind in [(0, 300000, "r"), (M, 65536, "p"), (3 * M, 5 * M, "r"),
                         (10 * M, M, "z"), (20 * M + 4096, 8192, "p"),
                         (33 * M, M, "r"), (40 * M, 3 * M, "p"),
                         (45 * M + 512, 777, "r"), (46 * M, 2 * M, "t"),
                         (50 * M + 123, 1000, "p"), (size - 70000, 70000, "r")]:
        f.seek(off)
        f.write({"r": lambda n: rnd.randbytes(n), "p": pattern, "t": text,
                 "z": lambda n: bytes(n)}[kind](n))
EOF

# same 'description' IMAGE [THREADS]: convert-file's raw equals qemu-img's
same() {
	local what=$1 img=$2
	rm -f "$tmp/ref.raw" "$tmp/out.raw"
	if ! qemu-img convert -f qcow2 -O raw "$img" "$tmp/ref.raw"; then
		fail "$what (qemu-img convert failed)"
		return
	fi
	if ! "$CONVERT" qcow2 "$img" "$tmp/out.raw" ${3:+"$3"} 2>"$tmp/err"; then
		head -c 1000 "$tmp/err" | sed 's/^/#   /'
		fail "$what (convert-file failed)"
		return
	fi
	check "$what" cmp "$tmp/ref.raw" "$tmp/out.raw"
}

# variant 'description' QEMU-IMG-CONVERT-OPTIONS...: base.raw through
# qemu-img convert -O qcow2 OPTIONS, then same
variant() {
	local what=$1
	shift
	qemu-img convert -f raw -O qcow2 "$@" "$tmp/base.raw" "$tmp/v.qcow2" ||
		{ fail "$what (qemu-img convert -O qcow2 failed)"; return; }
	same "$what" "$tmp/v.qcow2"
}

# ---- valid images: byte-identical to qemu-img ------------------------------
variant '512-byte clusters' -o cluster_size=512
variant '4 KiB clusters' -o cluster_size=4k
variant '64 KiB clusters (default)'
variant '2 MiB clusters' -o cluster_size=2M
variant 'v2 (compat=0.10)' -o compat=0.10
variant 'v2, 4 KiB clusters' -o compat=0.10,cluster_size=4k
variant 'zlib compressed, 64 KiB clusters' -c
variant 'zlib compressed, 512-byte clusters' -c -o cluster_size=512
variant 'zlib compressed, 2 MiB clusters' -c -o cluster_size=2M
variant 'zlib compressed, v2' -c -o compat=0.10
variant 'zstd compressed, 64 KiB clusters' -c -o compression_type=zstd
variant 'zstd compressed, 4 KiB clusters' -c -o compression_type=zstd,cluster_size=4k
variant 'zstd compressed, 2 MiB clusters' -c -o compression_type=zstd,cluster_size=2M
variant 'extended L2, 64 KiB clusters' -o extended_l2=on,cluster_size=64k
variant 'extended L2, 128 KiB clusters' -o extended_l2=on,cluster_size=128k
variant 'extended L2, 2 MiB clusters, zstd compressed' -c -o extended_l2=on,cluster_size=2M,compression_type=zstd

# one thread and the default give the same bytes
qemu-img convert -f raw -O qcow2 -c -o cluster_size=4k "$tmp/base.raw" "$tmp/mt.qcow2"
"$CONVERT" qcow2 "$tmp/mt.qcow2" "$tmp/t1.raw" 1 2>/dev/null
"$CONVERT" qcow2 "$tmp/mt.qcow2" "$tmp/tn.raw" 2>/dev/null
check 'THREADS=1 and default give identical output' cmp "$tmp/t1.raw" "$tmp/tn.raw"
"$CONVERT" qcow2 "$tmp/mt.qcow2" - 2>/dev/null >"$tmp/stream.raw"
check 'stream output (stdout) gives identical output' cmp "$tmp/t1.raw" "$tmp/stream.raw"

# zero clusters (v3 zero flag), allocated and not
qemu-img create -q -f qcow2 "$tmp/zero.qcow2" 8M
if [ $have_qemu_io = 1 ]; then
	qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' -c 'write -z 256k 128k' \
		-c 'write -z 4M 1M' -c 'write -z -u 512k 64k' \
		-c 'write -P 0x11 7M 4k' -c 'discard 7M 64k' "$tmp/zero.qcow2" >/dev/null
	same 'zero clusters (allocated, plain, discarded)' "$tmp/zero.qcow2"

	# extended L2: subcluster allocation and reads-as-zero bits
	for cs in 64k 128k; do
		qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=$cs \
			"$tmp/sub.qcow2" 8000000
		qemu-io -f qcow2 -c 'write -P 0x5a 4k 8k' -c 'write -z 64k 64k' \
			-c 'write -P 0x33 200k 100k' -c 'write -z 220k 8k' \
			-c 'write -z -u 256k 2k' -c 'write -P 0x77 7990000 9000' \
			"$tmp/sub.qcow2" >/dev/null
		same "extended L2, $cs clusters, partially written subclusters" "$tmp/sub.qcow2"
	done
	cp "$tmp/sub.qcow2" "$tmp/sub-base.qcow2"
else
	echo "# qemu-io not installed: subcluster and zero-flag images skipped"
fi

# metadata preallocation: every cluster allocated, reads as zeros
qemu-img create -q -f qcow2 -o preallocation=metadata "$tmp/prealloc.qcow2" 20000001
[ $have_qemu_io = 1 ] && qemu-io -f qcow2 -c 'write -P 0x7 1M 100k' "$tmp/prealloc.qcow2" >/dev/null
same 'preallocation=metadata' "$tmp/prealloc.qcow2"
qemu-img create -q -f qcow2 -o preallocation=metadata,cluster_size=512 "$tmp/prealloc512.qcow2" 3000000
same 'preallocation=metadata, 512-byte clusters' "$tmp/prealloc512.qcow2"

# an internal snapshot: only the active L1 table is the disk
qemu-img convert -f raw -O qcow2 "$tmp/base.raw" "$tmp/snap.qcow2"
qemu-img snapshot -c snap1 "$tmp/snap.qcow2"
[ $have_qemu_io = 1 ] && qemu-io -f qcow2 -c 'write -P 0x44 0 2M' -c 'write -z 3M 1M' \
	-c 'discard 33M 1M' "$tmp/snap.qcow2" >/dev/null
same 'internal snapshot, active L1 after further writes' "$tmp/snap.qcow2"

qemu-img create -q -f qcow2 "$tmp/empty.qcow2" 0
same 'zero-size disk' "$tmp/empty.qcow2"
qemu-img create -q -f qcow2 "$tmp/odd.qcow2" 1000001
same 'empty disk, size not a multiple of 512' "$tmp/odd.qcow2"

# ---- refused images ----------------------------------------------------------
# refused 'description' IMAGE FINDING...: exit 1 (not a crash), the
# findings present, and nothing at DST but an empty or partial file
refused() {
	local what=$1 img=$2 rc codes c ok=1
	shift 2
	"$CONVERT" qcow2 "$img" "$tmp/bad.raw" 2>"$tmp/err" >/dev/null
	rc=$?
	if [ $rc != 1 ]; then
		echo "#   exit status $rc, want 1"
		ok=0
	fi
	codes=" $(sed -n '2,$p' "$tmp/err" | jq -r '[.findings[]?.code] | join(" ")' 2>/dev/null) "
	for c in "$@"; do
		case $codes in *" $c "*) ;; *) echo "#   missing finding $c (got:$codes)"; ok=0 ;; esac
	done
	if [ $ok = 1 ]; then pass "$what"; else head -c 1000 "$tmp/err" | sed 's/^/#   /'; fail "$what"; fi
}

qemu-img create -q -f qcow2 -u -b /etc/passwd -F raw "$tmp/back.qcow2" 1M
refused 'backing file is refused, never followed' "$tmp/back.qcow2" backing-file
qemu-img create -q -f qcow2 -o data_file="$tmp/ext.data" "$tmp/datafile.qcow2" 1M
refused 'external data file is refused' "$tmp/datafile.qcow2" data-file
qp() { python3 "$top/tests/images/qcow-patch.py" "$@"; }
qemu-img create -q -f qcow2 "$tmp/v3.qcow2" 1M
cp "$tmp/v3.qcow2" "$tmp/corrupt.qcow2"
qp "$tmp/corrupt.qcow2" incompatible_features=2
refused 'corrupt bit is refused' "$tmp/corrupt.qcow2" corrupt-flag
cp "$tmp/v3.qcow2" "$tmp/unknown.qcow2"
qp "$tmp/unknown.qcow2" incompatible_features=0x100
refused 'unknown incompatible feature is refused' "$tmp/unknown.qcow2" unknown-features
cp "$tmp/v3.qcow2" "$tmp/aes.qcow2"
qp "$tmp/aes.qcow2" crypt_method=1
refused 'AES encryption is refused' "$tmp/aes.qcow2" encrypted
# LUKS as the format test builds it: crypt_method 2 and a crypto header
cp "$tmp/v3.qcow2" "$tmp/luks.qcow2"
qp "$tmp/luks.qcow2" crypt_method=2 truncate=0x50000 \
	"addext:0x0537be77=$(printf '%016x%016x' 0x40000 0x10000)"
refused 'LUKS encryption is refused' "$tmp/luks.qcow2" encrypted

# malformed tables, patched with tests/images/qcow2-map-patch.py; one
# python run builds them all
qemu-img convert -f raw -O qcow2 "$tmp/base.raw" "$tmp/plain.qcow2"
qemu-img convert -f raw -O qcow2 -o compat=0.10 "$tmp/base.raw" "$tmp/plain2.qcow2"
qemu-img convert -f raw -O qcow2 -c "$tmp/base.raw" "$tmp/zlib.qcow2"
qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd "$tmp/base.raw" "$tmp/zstd.qcow2"
qemu-img convert -f raw -O qcow2 -o extended_l2=on "$tmp/base.raw" "$tmp/ext.qcow2"
# in the compressed images, cluster 16 (1 MiB, the pattern) is compressed
specs=(
	"L1 entry past EOF|plain|l1:0=(EOF//CS+16)*CS|entry-out-of-range"
	"L1 entry not cluster aligned|plain|l1:0=e+512|entry-out-of-range"
	"L1 entry pointing at the L1 table (self-reference)|plain|l1:0=L1|table-overlap"
	"L1 entry pointing at the refcount table|plain|l1:0=RT|table-overlap"
	"L2 table that is also a refcount block|plain|l1:0=COPIED|rb(0)|table-overlap"
	"data cluster == a refcount block|plain|l2:0:1=COPIED|rb(0)|table-overlap"
	"L2 entry past EOF|plain|l2:0:0=COPIED|((EOF//CS+16)*CS)|entry-out-of-range"
	"L2 entry not cluster aligned|plain|l2:0:0=e+512|entry-out-of-range"
	"data cluster == the L1 table|plain|l2:0:0=COPIED|L1|table-overlap"
	"data cluster == its own L2 table|plain|l2:0:3=COPIED|l2(0)|table-overlap"
	"data cluster == the refcount table|plain|l2:0:0=RT|table-overlap"
	"zero flag in a v2 image|plain2|l2:0:0=e|ZERO|bad-field"
	"compressed cluster in the header (self-reference)|zlib|l2:0:16=(e&~((1<<54)-1))|0x40|table-overlap"
	"compressed cluster past EOF|zlib|l2:0:16=(e&~((1<<54)-1))|(EOF+4096)|entry-out-of-range"
	"compressed cluster with a huge sector count|zlib|sectors:0:16=255|bad-field"
	"corrupted zlib stream|zlib|garble:0:16|bad-field"
	"corrupted zstd stream|zstd|garble:0:16|bad-field"
	"subcluster both allocated and zero|ext|bm:0:0=0x0000000100000001|bad-field"
	"unallocated extended entry with allocation bits|ext|l2:0:5=0 bm:0:5=1|bad-field"
)
i=0
for s in "${specs[@]}"; do
	# a '|' inside an expression: what and base are the first two
	# fields, the code the last, the edits everything between
	base=${s#*|}
	base=${base%%|*}
	edit=${s#*|*|}
	edit=${edit%|*}
	echo "$tmp/$base.qcow2 $tmp/bad-$i.qcow2 $edit"
	i=$((i + 1))
done | python3 "$top/tests/images/qcow2-map-patch.py" --batch
i=0
for s in "${specs[@]}"; do
	what=${s%%|*}
	code=${s##*|}
	refused "$what" "$tmp/bad-$i.qcow2" "$code"
	i=$((i + 1))
done

# ---- memory: a 4 GiB disk of 512-byte clusters (the largest tables per
# byte) converts within the helper's 64 MiB ------------------------------
if [ -x /usr/bin/time ]; then
	qemu-img create -q -f qcow2 -o cluster_size=512 "$tmp/big.qcow2" 4G
	if [ $have_qemu_io = 1 ]; then
		qemu-io -f qcow2 -c 'write -P 0x61 0 4M' -c 'write -P 0x62 1G 4M' \
			-c 'write -P 0x63 3G 4M' -c 'write -P 0x64 4095M 1M' \
			"$tmp/big.qcow2" >/dev/null
	fi
	/usr/bin/time -f '%M' -o "$tmp/rss" "$CONVERT" qcow2 "$tmp/big.qcow2" "$tmp/big.raw" 2>/dev/null
	rss=$(tail -n 1 "$tmp/rss")
	echo "# peak RSS, 4 GiB disk of 512-byte clusters: ${rss} KiB"
	check 'peak RSS on a 4 GiB disk stays under 64 MiB' [ "$rss" -lt 65536 ]
	if [ $have_qemu_io = 1 ]; then
		qemu-img convert -f qcow2 -O raw "$tmp/big.qcow2" "$tmp/big-ref.raw"
		check '4 GiB disk of 512-byte clusters is identical' cmp "$tmp/big.raw" "$tmp/big-ref.raw"
	fi
	rm -f "$tmp/big.raw" "$tmp/big-ref.raw"
fi

finish
