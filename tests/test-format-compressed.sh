#!/bin/bash
# Compressed wrappers (gzip, xz, zstd, bzip2): the wrapper is always
# `compressed` (unsupported), the image inside is sniffed from a bounded
# decompressed head and an unsafe inner image makes the wrapper unsafe;
# truncated and corrupt streams are bad-archive; bombs stop at the cap.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires gzip
requires xz
requires zstd
requires bzip2

# compress TOOL IN OUT
compress() {
	case $1 in
	gzip) gzip -c "$2" >"$3" ;;
	xz) xz -c "$2" >"$3" ;;
	zstd) zstd -q -c "$2" >"$3" ;;
	bzip2) bzip2 -c "$2" >"$3" ;;
	esac
}

qemu-img create -q -f qcow2 "$tmp/clean.qcow2" 1G
qemu-img create -q -f qcow2 -u -b /etc/passwd -F raw "$tmp/backing.qcow2" 1G
cat >"$tmp/flat.vmdk" <<'EOF'
# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="monolithicFlat"

# Extent description
RW 2048 FLAT "/etc/passwd" 0

ddb.virtualHWVersion = "4"
EOF
vsize=$(qemu_vsize "$tmp/clean.qcow2" qcow2)

for c in gzip xz zstd bzip2; do
	compress $c "$tmp/clean.qcow2" "$tmp/clean.$c"
	j=$(sniff "$tmp/clean.$c")
	check "$c of a clean qcow2: unsupported $c wrapper around a safe qcow2" \
		jq_is "$j" '[.format, .verdict, .children[0].role,
			.children[0].format, .children[0].verdict,
			.children[0]."virtual-size",
			."format-specific".data."decompressed-size"] | @tsv' \
		"$c	unsupported	inner	qcow2	safe	$vsize	$(stat -c %s "$tmp/clean.qcow2")"
	check "$c of a clean qcow2: compressed, nothing else above info" \
		jq_is "$j" '[.findings[].code | select(. != "qemu-probe-differs")] | join(",")' \
		compressed

	compress $c "$tmp/backing.qcow2" "$tmp/backing.$c"
	expect_sniff "$c of a qcow2 with backing file /etc/passwd: unsafe" \
		"$tmp/backing.$c" unsafe compressed nested-unsafe backing-file
	compress $c "$tmp/flat.vmdk" "$tmp/flat.$c"
	expect_sniff "$c of a VMDK flat descriptor naming /etc/passwd: unsafe" \
		"$tmp/flat.$c" unsafe compressed nested-unsafe

	# cut the stream in the middle
	size=$(stat -c %s "$tmp/clean.$c")
	head -c $((size / 2)) "$tmp/clean.$c" >"$tmp/trunc.$c"
	expect_sniff "$c truncated in the middle: bad-archive" \
		"$tmp/trunc.$c" invalid compressed bad-archive
done

# corrupt streams: flip bytes inside the compressed data
head -c 300000 /dev/urandom >"$tmp/random"
for c in gzip xz zstd bzip2; do
	compress $c "$tmp/random" "$tmp/random.$c"
	cp "$tmp/random.$c" "$tmp/corrupt.$c"
	printf '\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa' |
		dd of="$tmp/corrupt.$c" bs=1 seek=150000 conv=notrunc status=none
	expect_sniff "$c with corrupted data: bad-archive" \
		"$tmp/corrupt.$c" invalid compressed bad-archive
done

# compression bombs: 1 GiB of zeros (16 concatenated streams of 64 MiB,
# which decode as one) stops at the 16 MiB head quickly
for c in gzip xz zstd bzip2; do
	case $c in
	gzip) head -c 64M /dev/zero | gzip -1 >"$tmp/bomb1" ;;
	xz) head -c 64M /dev/zero | xz -0 -T1 >"$tmp/bomb1" ;;
	zstd) head -c 64M /dev/zero | zstd -q -3 >"$tmp/bomb1" ;;
	bzip2) head -c 64M /dev/zero | bzip2 -1 >"$tmp/bomb1" ;;
	esac
	for i in $(seq 16); do cat "$tmp/bomb1"; done >"$tmp/bomb.$c"
	start=$(date +%s%N)
	j=$(sniff "$tmp/bomb.$c")
	ms=$((($(date +%s%N) - start) / 1000000))
	# the inner raw head claims no virtual size: 16 MiB of a 1 GiB
	# stream says nothing about the disk's size
	check "$c bomb (1 GiB of zeros): head capped at 16 MiB, inspection-incomplete" \
		jq_is "$j" '[.verdict, ."format-specific".data."inspected-bytes",
			(.findings | map(.code) | index("inspection-incomplete") != null),
			(.children[0] | has("virtual-size"))] | @tsv' \
		"unsupported	16777216	true	false"
	check "$c bomb stops quickly (${ms} ms < 2000 ms)" test "$ms" -lt 2000
done

# nesting: gzip of gzip of a clean qcow2, and gzip of xz of a bad one
gzip -c "$tmp/clean.gzip" >"$tmp/gz-gz"
j=$(sniff "$tmp/gz-gz")
check "gzip of gzip of qcow2: nested reports" \
	jq_is "$j" '[.format, .verdict, .children[0].format,
		.children[0].children[0].format,
		.children[0].children[0].verdict] | @tsv' \
	"gzip	unsupported	gzip	qcow2	safe"
gzip -c "$tmp/backing.xz" >"$tmp/gz-xz-bad"
expect_sniff "gzip of xz of a qcow2 with a backing file: unsafe through two levels" \
	"$tmp/gz-xz-bad" unsafe nested-unsafe backing-file

# concatenated streams decode as one, like gzip -d / xz -d
printf 'first' >"$tmp/p1"
printf 'second' >"$tmp/p2"
for c in gzip xz zstd bzip2; do
	compress $c "$tmp/p1" "$tmp/p1.$c"
	compress $c "$tmp/p2" "$tmp/p2.$c"
	cat "$tmp/p1.$c" "$tmp/p2.$c" >"$tmp/multi.$c"
	j=$(sniff "$tmp/multi.$c")
	check "$c with two concatenated streams: both decoded" \
		jq_is "$j" '[.verdict, ."format-specific".data.streams,
			."format-specific".data."decompressed-size"] | @tsv' \
		"unsupported	2	11"
	cat "$tmp/p1.$c" >"$tmp/trail.$c"
	printf 'GARBAGE!' >>"$tmp/trail.$c"
	expect_sniff "$c followed by garbage: trailing-data" \
		"$tmp/trail.$c" unsupported compressed trailing-data
done
# xz stream padding between streams is part of the format
{ cat "$tmp/p1.xz"; head -c 8 /dev/zero; cat "$tmp/p2.xz"; } >"$tmp/padded.xz"
j=$(sniff "$tmp/padded.xz")
check "xz with stream padding between streams: both decoded" \
	jq_is "$j" '[.verdict, ."format-specific".data.streams] | @tsv' \
	"unsupported	2"

# gzip header fields: original name (sanitised), mtime, isize
printf 'hello world\n' >"$tmp/name-$(printf 'a\tb')"
gzip -c -N "$tmp/name-$(printf 'a\tb')" >"$tmp/named.gz"
j=$(sniff "$tmp/named.gz")
check "gzip original name is reported sanitised, isize read at EOF" \
	jq_is "$j" '[."format-specific".data."original-name",
		."format-specific".data.isize] | @tsv' \
	"name-a�b	12"
# reserved flag bits: zlib refuses them, so do we
cp "$tmp/named.gz" "$tmp/reserved.gz"
printf '\xe8' | dd of="$tmp/reserved.gz" bs=1 seek=3 conv=notrunc status=none
expect_sniff "gzip with reserved header flags: bad-archive" \
	"$tmp/reserved.gz" invalid bad-archive

# xz: a stream needing more decoder memory than the cap (xz -9: 64 MiB
# dictionary) is reported, not decoded
printf 'x' | xz -9 >"$tmp/big-dict.xz"
expect_sniff "xz -9 (64 MiB dictionary): unsupported-feature, not decoded" \
	"$tmp/big-dict.xz" unsupported unsupported-feature inspection-incomplete
j=$(sniff "$tmp/clean.xz")
check "xz reports the check type and the index's uncompressed size" \
	jq_is "$j" '[."format-specific".data.check,
		."format-specific".data."index-uncompressed-size"] | @tsv' \
	"crc64	$(stat -c %s "$tmp/clean.qcow2")"

# zstd: a leading skippable frame is skipped; the content size is read
python3 -c 'import sys, struct; sys.stdout.buffer.write(struct.pack("<II", 0x184D2A5E, 4) + b"skip")' >"$tmp/skip.zst"
cat "$tmp/clean.zstd" >>"$tmp/skip.zst"
j=$(sniff "$tmp/skip.zst")
check "zstd with a leading skippable frame: content size, inner qcow2" \
	jq_is "$j" '[."format-specific".data."skippable-frames",
		."format-specific".data."content-size", .children[0].format] | @tsv' \
	"1	$(stat -c %s "$tmp/clean.qcow2")	qcow2"

# short files with only a magic
printf '\x1f\x8b\x08' >"$tmp/tiny.gz"
expect_sniff "gzip of 3 bytes: invalid" "$tmp/tiny.gz" invalid
printf 'BZh9\x31\x41\x59\x26\x53\x59' >"$tmp/tiny.bz2"
expect_sniff "bzip2 header only: bad-archive" "$tmp/tiny.bz2" invalid bad-archive
printf '\x28\xb5\x2f\xfd' >"$tmp/tiny.zst"
expect_sniff "zstd magic only: bad-archive" "$tmp/tiny.zst" invalid bad-archive

finish
