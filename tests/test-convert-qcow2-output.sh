#!/bin/bash
# The qcow2 output writer (lib/qcow2-writer.c) through
# build/tests/convert-qcow2: for raw and qcow2 (plain and zlib-compressed;
# skipped with a note while the qcow2 mapper is missing)
# sources, cluster sizes 512 B / 64 KiB / 2 MiB, one thread and the
# default: qemu-img check finds no errors and no leaks, the image converts
# back to the same raw bytes, qemu-img info shows the right virtual size
# and qemu's v3 header (compat 1.1, 16-bit refcounts), and the header
# cluster carries exactly what `qemu-img create` puts there.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3

CQ=$B/tests/convert-qcow2
CF=$B/tests/convert-file
[ -x "$CQ" ] || skip "build/tests/convert-qcow2 is not built"

# a disk of random, zero and patterned extents: gen FILE SIZE SEED
gen() {
	python3 - "$1" "$2" "$3" <<'EOF'
import random, sys
path, size, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
with open(path, 'wb') as f:
    f.truncate(size)
    pos = 0
    while pos < size:
        n = min(rnd.choice([512, 4096, 4608, 65536, 300000, 1 << 20, 3 << 20]),
                size - pos)
        k = rnd.random()
        f.seek(pos)
        if k < 0.35:
            f.write(rnd.randbytes(n))
        elif k < 0.6:
            pat = bytes([0xa5, 0x5a, pos & 0xff, 0])
            f.write((pat * (n // 4 + 1))[:n])
        # else: a zero extent (a hole)
        pos += n
EOF
}

gen "$tmp/base.raw" $((64 << 20)) 1
# not a multiple of any cluster size above 512 (but whole sectors)
gen "$tmp/odd.raw" $((37 << 20 | 7 * 512)) 2
# not even whole sectors: qemu counts the last partial sector as a whole
# one, so compare with qemu-img's own raw output of it
gen "$tmp/tail.raw" $(((1 << 20) + 1000)) 3
truncate -s 1G "$tmp/empty.raw"

# qcow2 sources when the qcow2 mapper has landed
qemu-img convert -f raw -O qcow2 "$tmp/base.raw" "$tmp/base.qcow2"
have_qcow2_mapper=1
if ! "$CF" qcow2 "$tmp/base.qcow2" "$tmp/probe.raw" 1 2>"$tmp/probe.err"; then
	if grep -q "Protocol not supported" "$tmp/probe.err"; then
		echo "# qcow2 mapper not there yet (convert-file qcow2: Protocol not supported): qcow2 sources skipped"
		have_qcow2_mapper=0
	fi
fi
rm -f "$tmp/probe.raw"
# zlib-compressed 4 KiB clusters: decompression on every worker thread
[ $have_qcow2_mapper = 1 ] && qemu-img convert -c -f raw -O qcow2 \
	-o cluster_size=4096 "$tmp/base.raw" "$tmp/base-z.qcow2"

# qemu's reference image for the size comparison
qemu-img convert -f raw -O qcow2 "$tmp/base.raw" "$tmp/qemu.qcow2"

# check_image 'what' OUT REF.raw VSIZE CLUSTER
check_image() {
	local what=$1 out=$2 ref=$3 vsize=$4 cs=$5 chk info
	chk=$(qemu-img check -f qcow2 --output=json "$out" 2>&1)
	if printf '%s' "$chk" | jq -e '(."check-errors" // 0) == 0 and
			(.leaks // 0) == 0 and (.corruptions // 0) == 0' >/dev/null; then
		pass "$what: qemu-img check: no errors, no leaks"
	else
		fail "$what: qemu-img check"
		echo "#   $chk" | head -c 2000
		echo
	fi
	info=$(qemu-img info -f qcow2 --output=json "$out")
	if jq_is "$info" '."virtual-size"' "$vsize" &&
		jq_is "$info" '."cluster-size"' "$cs" &&
		jq_is "$info" '."format-specific".data.compat' 1.1 &&
		jq_is "$info" '."format-specific".data."refcount-bits"' 16 &&
		jq_is "$info" '."format-specific".data."compression-type"' zlib; then
		pass "$what: qemu-img info"
	else
		fail "$what: qemu-img info"
	fi
	rm -f "$tmp/back.raw"
	if qemu-img convert -f qcow2 -O raw "$out" "$tmp/back.raw" &&
		cmp "$ref" "$tmp/back.raw"; then
		pass "$what: converts back byte-identical"
	else
		fail "$what: converts back byte-identical"
	fi
}

# convert_case FMT SRC REF.raw CLUSTER THREADS
convert_case() {
	local fmt=$1 src=$2 ref=$3 cs=$4 th=$5 vsize what
	what="$(basename "$src") -> qcow2 cs=$cs threads=$th"
	vsize=$(qemu_vsize "$src" "$fmt")
	if ! "$CQ" "$fmt" "$src" "$tmp/out.qcow2" "$th" "$cs" 2>"$tmp/err"; then
		fail "$what: convert-qcow2"
		sed 's/^/#   /' "$tmp/err" | head -5
		return
	fi
	check_image "$what" "$tmp/out.qcow2" "$ref" "$vsize" "$cs"
}

for cs in 512 65536 2097152; do
	for th in 1 0; do
		convert_case raw "$tmp/base.raw" "$tmp/base.raw" $cs $th
		if [ $have_qcow2_mapper = 1 ]; then
			convert_case qcow2 "$tmp/base.qcow2" "$tmp/base.raw" $cs $th
			convert_case qcow2 "$tmp/base-z.qcow2" "$tmp/base.raw" $cs $th
		fi
	done
	convert_case raw "$tmp/odd.raw" "$tmp/odd.raw" $cs 0
	qemu-img convert -f raw -O raw "$tmp/tail.raw" "$tmp/tail-ref.raw"
	convert_case raw "$tmp/tail.raw" "$tmp/tail-ref.raw" $cs 0
	convert_case raw "$tmp/empty.raw" "$tmp/empty.raw" $cs 0
	# an empty disk takes header, L1 and refcounts only
	size=$(stat -c %s "$tmp/out.qcow2")
	l1=$(( ((1 << 30) / (cs / 8 * cs) * 8 + cs - 1) / cs * cs ))
	check "empty 1 GiB, cs=$cs: only metadata ($size bytes)" \
		test "$size" -le $((l1 + 8 * cs))
done

# A cache of one or two L2 tables: every table is evicted and read back
# while other threads write (512-byte clusters: a table per 32 KiB)
for n in 1 2; do
	for th in 1 0; do
		what="base.raw -> qcow2 cs=512 threads=$th, $n cached L2 table(s)"
		if IMGWARD_QCOW2_L2_CACHE=$n "$CQ" raw "$tmp/base.raw" \
			"$tmp/out.qcow2" $th 512 2>"$tmp/err"; then
			check_image "$what" "$tmp/out.qcow2" "$tmp/base.raw" \
				$((64 << 20)) 512
		else
			fail "$what: convert-qcow2"
		fi
	done
done

# The header cluster: everything but the table offsets and sizes is what
# qemu-img create writes (v3 fields, header_length 112, the feature name
# table above 4 KiB clusters, no other extension)
for cs in 512 4096 65536 2097152; do
	qemu-img create -q -f qcow2 -o cluster_size=$cs "$tmp/ref.qcow2" 64M
	"$CQ" raw "$tmp/base.raw" "$tmp/out.qcow2" 0 $cs 2>/dev/null
	hdr=$((cs < 4096 ? cs : 4096))
	if cmp -n 36 "$tmp/ref.qcow2" "$tmp/out.qcow2" &&
		cmp -i 60 -n $((hdr - 60)) "$tmp/ref.qcow2" "$tmp/out.qcow2"; then
		pass "cs=$cs: header cluster as qemu-img create writes it"
	else
		fail "cs=$cs: header cluster as qemu-img create writes it"
	fi
done

# Bad parameters are refused before anything is written
for cs in 256 1000 4194304; do
	if "$CQ" raw "$tmp/base.raw" "$tmp/out.qcow2" 0 $cs 2>/dev/null; then
		fail "cluster size $cs refused"
	else
		pass "cluster size $cs refused"
	fi
done

# The size of our image against qemu-img's, for the record
"$CQ" raw "$tmp/base.raw" "$tmp/out.qcow2" 0 65536 2>/dev/null
echo "# base.raw (64 MiB) -> qcow2 64 KiB clusters: imgward $(stat -c %s "$tmp/out.qcow2") bytes" \
	"($(du -k "$tmp/out.qcow2" | cut -f1) KiB allocated), qemu-img convert" \
	"$(stat -c %s "$tmp/qemu.qcow2") bytes ($(du -k "$tmp/qemu.qcow2" | cut -f1) KiB allocated)"

finish
