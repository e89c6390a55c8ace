#!/bin/bash
# qcow2 reader: clean v2/v3 images made by qemu-img are safe and agree with
# qemu-img info (virtual size, cluster size, format-specific fields);
# external references, impossible headers, broken tables and unknown
# features get the right verdict and finding codes.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3

patch() { python3 "$top/tests/images/qcow-patch.py" "$@"; }

# clean_qcow2 'description' FILE [FINDING...]: safe, format qcow2, and
# virtual size, cluster size and format-specific data equal to qemu-img's
# (our "snapshots" list aside); only the given INFO findings.
clean_qcow2() {
	local what=$1 f=$2 j q ok=1 c
	shift 2
	j=$(sniff "$f")
	q=$(qemu-img info -f qcow2 --output=json "$f")
	jq_is "$j" .verdict safe || ok=0
	jq_is "$j" .format qcow2 || ok=0
	jq_is "$j" '."virtual-size"' "$(jq -r '."virtual-size"' <<<"$q")" || ok=0
	jq_is "$j" '."cluster-size"' "$(jq -r '."cluster-size"' <<<"$q")" || ok=0
	jq_is "$j" '."format-specific".data | del(.snapshots) | tojson' \
		"$(jq -c '."format-specific".data' <<<"$q")" || ok=0
	jq_is "$j" '[.findings[].code] | join(",")' "$(IFS=,; echo "$*")" || ok=0
	for c in "$@"; do has_finding "$j" "$c" || ok=0; done
	if [ $ok = 1 ]; then pass "$what"; else echo "#   $j"; fail "$what"; fi
}

# ---- clean images --------------------------------------------------------
qemu-img create -q -f qcow2 -o compat=0.10 "$tmp/v2.qcow2" 100M
clean_qcow2 'v2 (compat=0.10) is safe' "$tmp/v2.qcow2"
qemu-img create -q -f qcow2 "$tmp/v3.qcow2" 1G
clean_qcow2 'v3, 64 KiB clusters is safe' "$tmp/v3.qcow2"
qemu-img create -q -f qcow2 -o cluster_size=512 "$tmp/c512.qcow2" 64M
clean_qcow2 'v3, 512-byte clusters is safe' "$tmp/c512.qcow2"
qemu-img create -q -f qcow2 -o cluster_size=2M "$tmp/c2m.qcow2" 10G
clean_qcow2 'v3, 2 MiB clusters is safe' "$tmp/c2m.qcow2"
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 "$tmp/v2c4k.qcow2" 3G
clean_qcow2 'v2, 4 KiB clusters is safe' "$tmp/v2c4k.qcow2"
qemu-img create -q -f qcow2 -o lazy_refcounts=on "$tmp/lazy.qcow2" 1G
clean_qcow2 'lazy refcounts is safe' "$tmp/lazy.qcow2"
qemu-img create -q -f qcow2 -o extended_l2=on "$tmp/extl2.qcow2" 1G
clean_qcow2 'extended L2 entries is safe' "$tmp/extl2.qcow2"
qemu-img create -q -f qcow2 -o compression_type=zstd "$tmp/zstd.qcow2" 1G
clean_qcow2 'zstd compression type is safe' "$tmp/zstd.qcow2"
qemu-img create -q -f qcow2 -o refcount_bits=64 "$tmp/rc64.qcow2" 1G
clean_qcow2 '64-bit refcounts is safe' "$tmp/rc64.qcow2"
qemu-img create -q -f qcow2 -o refcount_bits=1 "$tmp/rc1.qcow2" 1G
clean_qcow2 '1-bit refcounts is safe' "$tmp/rc1.qcow2"
qemu-img create -q -f qcow2 -o preallocation=metadata "$tmp/prealloc.qcow2" 256M
clean_qcow2 'preallocation=metadata is safe' "$tmp/prealloc.qcow2"
qemu-img create -q -f qcow2 -o preallocation=falloc,cluster_size=2M "$tmp/falloc.qcow2" 64M
clean_qcow2 'preallocation=falloc, 2 MiB clusters is safe' "$tmp/falloc.qcow2"
qemu-img create -q -f qcow2 "$tmp/odd.qcow2" 1000001
clean_qcow2 'size not a multiple of 512 is safe, qemu rounding' "$tmp/odd.qcow2"
qemu-img create -q -f qcow2 "$tmp/zero.qcow2" 0
clean_qcow2 'zero-size image is safe' "$tmp/zero.qcow2"

# data in it: converted from a raw file, plain and compressed
python3 - "$tmp/data.raw" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.truncate(48 << 20)
    for i, off in enumerate((0, 5 << 20, (17 << 20) + 4096, (48 << 20) - 512)):
        f.seek(off)
        f.write(b"imgward qcow2 test %d\n" % i * 20)
EOF
qemu-img convert -q -f raw -O qcow2 "$tmp/data.raw" "$tmp/data.qcow2"
clean_qcow2 'converted image with data is safe' "$tmp/data.qcow2"
qemu-img convert -q -c -f raw -O qcow2 -o cluster_size=4096 "$tmp/data.raw" "$tmp/comp.qcow2"
clean_qcow2 'compressed clusters, 4 KiB clusters is safe' "$tmp/comp.qcow2"

# internal snapshots: safe, reported as INFO and listed
cp "$tmp/data.qcow2" "$tmp/snap.qcow2"
qemu-img snapshot -c first "$tmp/snap.qcow2"
qemu-img snapshot -c "second one" "$tmp/snap.qcow2"
clean_qcow2 'internal snapshots are safe (INFO)' "$tmp/snap.qcow2" internal-snapshots
j=$(sniff "$tmp/snap.qcow2")
check 'snapshot names are listed like qemu-img' \
	jq_is "$j" '[."format-specific".data.snapshots[] | .id + ":" + .name] | join(",")' \
	"$(qemu-img info -f qcow2 --output=json "$tmp/snap.qcow2" | jq -r '[.snapshots[] | .id + ":" + .name] | join(",")')"

# dirty bit: INFO only, still safe
cp "$tmp/v3.qcow2" "$tmp/dirty.qcow2"
patch "$tmp/dirty.qcow2" incompatible_features=1
clean_qcow2 'dirty bit is INFO only, still safe' "$tmp/dirty.qcow2" dirty

# ---- external references ---------------------------------------------------
qemu-img create -q -f qcow2 -u -b /etc/passwd -F raw "$tmp/back.qcow2" 1M
expect_sniff 'backing file /etc/passwd is unsafe' "$tmp/back.qcow2" unsafe backing-file
j=$(sniff "$tmp/back.qcow2")
check 'backing-filename and format reported as qemu-img does' \
	jq_is "$j" '."backing-filename" + "|" + ."backing-filename-format"' '/etc/passwd|raw'
check 'backing file listed in references' \
	jq_is "$j" '.references[0].type + ":" + .references[0].name' 'backing-file:/etc/passwd'
check 'virtual size still agrees with qemu-img' \
	jq_is "$j" '."virtual-size"' "$(qemu_vsize "$tmp/back.qcow2" qcow2)"

qemu-img create -q -f qcow2 -u -F raw \
	-b 'json:{"file":{"driver":"file","filename":"/etc/shadow"}}' "$tmp/json.qcow2" 1M
expect_sniff 'json: backing file is unsafe (protocol)' "$tmp/json.qcow2" unsafe \
	backing-file protocol-reference
qemu-img create -q -f qcow2 -u -F raw -b 'nbd://x' "$tmp/nbd.qcow2" 1M
expect_sniff 'nbd:// backing file is unsafe (protocol)' "$tmp/nbd.qcow2" unsafe \
	backing-file protocol-reference

# CVE-2024-32498: creating the image writes to the data file, so create it
# with a same-length placeholder and patch the name in afterwards
(cd "$tmp" && qemu-img create -q -f qcow2 \
	-o data_file=placeholder,data_file_raw=on datafile.qcow2 1M)
patch "$tmp/datafile.qcow2" replace:placeholder=/etc/passwd
expect_sniff 'external data file is unsafe' "$tmp/datafile.qcow2" unsafe data-file
j=$(sniff "$tmp/datafile.qcow2")
check 'data file named in references and format-specific' \
	jq_is "$j" '.references[0].name + "|" + ."format-specific".data."data-file" + "|" + (."format-specific".data."data-file-raw" | tostring)' \
	'/etc/passwd|/etc/passwd|true'
(cd "$tmp" && qemu-img create -q -f qcow2 -o data_file=placeholder "$tmp/dfnoname.qcow2" 1M)
patch "$tmp/dfnoname.qcow2" ext:0x44415441.len=0
expect_sniff 'data file bit without a name is still unsafe' "$tmp/dfnoname.qcow2" unsafe data-file

# ---- truncated and impossible headers ----------------------------------------
for n in 100:truncated 300:truncated 65536:table-past-eof; do
	code=${n#*:} n=${n%:*}
	cp "$tmp/v3.qcow2" "$tmp/trunc$n.qcow2"
	patch "$tmp/trunc$n.qcow2" truncate=$n
	expect_sniff "qcow2 truncated to $n bytes is invalid ($code), not raw" \
		"$tmp/trunc$n.qcow2" invalid "$code"
	check "qcow2 truncated to $n bytes is still format qcow2" \
		jq_is "$(sniff "$tmp/trunc$n.qcow2")" .format qcow2
done
printf 'QFI\xfb\0\0\0\3' >"$tmp/magic-only.qcow2"
expect_sniff 'magic and version alone are invalid' "$tmp/magic-only.qcow2" invalid truncated

# bad_qcow2 'description' VERDICT EDITS FINDING...: patch a copy of
# v3.qcow2 (or $base) with EDITS (space separated) and expect the verdict
# and findings
base=$tmp/v3.qcow2
bad_qcow2() {
	local what=$1 verdict=$2 edits=$3 f
	shift 3
	f=$tmp/bad-$_n.qcow2
	cp "$base" "$f"
	# shellcheck disable=SC2086
	patch "$f" $edits
	expect_sniff "$what" "$f" "$verdict" "$@"
}
bad_qcow2 'cluster_bits=31 is invalid' invalid cluster_bits=31 bad-field
bad_qcow2 'cluster_bits=8 is invalid' invalid cluster_bits=8 bad-field
bad_qcow2 'l1_size=0x7fffffff is too large' invalid l1_size=0x7fffffff table-too-large
bad_qcow2 'nb_snapshots=0xffffffff is too large' invalid nb_snapshots=0xffffffff table-too-large
bad_qcow2 'size=2^62 is impossible' invalid size=0x4000000000000000 impossible-size
bad_qcow2 'size=2^64-1 is impossible' invalid size=0xffffffffffffffff impossible-size
bad_qcow2 'L1 too small for the size' invalid size=0x100000000000 bad-field
bad_qcow2 'refcount_order=7 is invalid' invalid refcount_order=7 bad-field
bad_qcow2 'L1 table past EOF' invalid l1_table_offset=0x10000000 table-past-eof
bad_qcow2 'L1 table offset unaligned' invalid l1_table_offset=0x30008 bad-field
bad_qcow2 'L1 table overlapping the header' invalid l1_table_offset=0 table-overlap
bad_qcow2 'L1 table overlapping the refcount table' invalid l1_table_offset=0x10000 table-overlap
bad_qcow2 'refcount table past EOF' invalid refcount_table_offset=0x7fff0000 table-past-eof
bad_qcow2 'refcount table of 0 clusters' invalid refcount_table_clusters=0 bad-field
bad_qcow2 'refcount table over 8 MiB' invalid refcount_table_clusters=129 table-too-large
bad_qcow2 'refcount table unaligned' invalid refcount_table_offset=0x10200 bad-field
bad_qcow2 'snapshot table past EOF' invalid 'nb_snapshots=3 snapshots_offset=0x100000' table-past-eof
bad_qcow2 'unknown incompatible bit 12 is unsafe' unsafe incompatible_features=0x1000 unknown-features
bad_qcow2 'unknown incompatible bit 63 is unsafe' unsafe incompatible_features=0x8000000000000000 unknown-features
bad_qcow2 'version 4 is unsupported' unsupported version=4 unsupported-version
bad_qcow2 'version 0x10000 is unsupported' unsupported version=0x10000 unsupported-version
bad_qcow2 'AES encryption is unsupported' unsupported crypt_method=1 encrypted
bad_qcow2 'unknown encryption method is invalid' invalid crypt_method=3 bad-field
bad_qcow2 'corrupt bit is invalid' invalid incompatible_features=2 corrupt-flag
bad_qcow2 'header extension running past the cluster' invalid ext:0x6803f857.len=0x10000 bad-extension
bad_qcow2 'header_length not a multiple of 8' invalid header_length=108 bad-field
bad_qcow2 'header_length below 104' invalid header_length=72 bad-field
bad_qcow2 'header_length beyond the cluster' invalid header_length=0x20000 bad-field
bad_qcow2 'backing file offset beyond the first cluster' unsafe \
	'backing_file_offset=0x20000 backing_file_size=4' bad-field backing-file
bad_qcow2 'backing file name of 2000 bytes' unsafe \
	'backing_file_offset=0x1000 backing_file_size=2000' bad-field backing-file
bad_qcow2 'compression type 2 is invalid' invalid \
	'incompatible_features=8 compression_type=2' bad-field
bad_qcow2 'zstd without its feature bit is invalid' invalid compression_type=1 bad-field
bad_qcow2 'data-file-raw without a data file is invalid' invalid autoclear_features=2 bad-field
base=$tmp/c512.qcow2
bad_qcow2 'extended L2 needs 16 KiB clusters' invalid incompatible_features=0x10 bad-field
base=$tmp/v3.qcow2

f=$tmp/aes.qcow2
cp "$tmp/v3.qcow2" "$f"
patch "$f" crypt_method=1
check 'AES encryption reported as qemu-img does' \
	jq_is "$(sniff "$f")" '."format-specific".data.encrypt.format' aes
f=$tmp/feat.qcow2
cp "$tmp/v3.qcow2" "$f"
patch "$f" incompatible_features=0x20 @0xd9:u8=5
check 'unknown feature named from the feature name table' \
	jq_is "$(sniff "$f")" '[.findings[] | select(.code == "unknown-features") | .detail] | join(",")' \
	'unknown incompatible feature bit 5 ("external data file")'

qemu-img create -q -f qcow2 --object secret,id=sec0,data=imgward \
	-o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10 \
	"$tmp/luks.qcow2" 16M
expect_sniff 'LUKS encryption is unsupported' "$tmp/luks.qcow2" unsupported encrypted
check 'LUKS encryption reported as qemu-img does' \
	jq_is "$(sniff "$tmp/luks.qcow2")" '."format-specific".data.encrypt.format' luks

# ---- tables: entries pointing outside the file --------------------------------
l1=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(48); print(struct.unpack(">Q", d[40:48])[0])' "$tmp/data.qcow2")
rt=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(56); print(struct.unpack(">Q", d[48:56])[0])' "$tmp/data.qcow2")
base=$tmp/data.qcow2
bad_qcow2 'L1 entry past EOF' invalid "@$l1:be64=0x8000000100000000" entry-out-of-range
bad_qcow2 'L1 entry unaligned' invalid "@$l1:be64=0x8000000000050200" entry-out-of-range
bad_qcow2 'refcount table entry past EOF' invalid "@$rt:be64=0x7000000000" entry-out-of-range
base=$tmp/snap.qcow2
so=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(72); print(struct.unpack(">Q", d[64:72])[0])' "$tmp/snap.qcow2")
bad_qcow2 'snapshot with too much extra data' invalid "@$((so + 36)):be32=0x10000" bad-field
bad_qcow2 'snapshot L1 table past EOF' invalid "@$so:be64=0x7000000000" table-past-eof
bad_qcow2 'snapshot L1 table too large' invalid "@$((so + 8)):be32=0x7fffffff" table-too-large
bad_qcow2 'L1 table overlapping the snapshot table' invalid "l1_table_offset=$so" table-overlap
base=$tmp/v3.qcow2

# a qcow2 header planted in a raw disk (CVE-2008-2004 shape): the header
# is qcow2 to qemu, and its tables lie in the "disk"
qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$tmp/hdr.qcow2" 1M
cp "$tmp/hdr.qcow2" "$tmp/planted.raw"
patch "$tmp/planted.raw" truncate=$((64 << 20))
expect_sniff 'qcow2 header with backing file in a raw disk is unsafe' \
	"$tmp/planted.raw" unsafe backing-file

# ---- robustness: random header damage never crashes the reader ---------------
python3 - "$tmp/v3.qcow2" "$tmp/fuzz" <<'EOF'
import os, random, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
rng = random.Random(1234)
os.makedirs(out, exist_ok=True)
for i in range(150):
    b = bytearray(data[: rng.choice((200, 4096, len(data)))])
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(8, min(len(b), 0x200) if rng.random() < 0.8 else len(b))
        b[at] = rng.randrange(256)
    open(os.path.join(out, "%03d.qcow2" % i), "wb").write(b)
EOF
bad=0
for f in "$tmp"/fuzz/*.qcow2; do
	j=$(sniff "$f") || { echo "# sniff failed on $f"; bad=$((bad + 1)); continue; }
	jq -e '.verdict and .format == "qcow2"' >/dev/null <<<"$j" ||
		{ echo "# no verdict for $f"; bad=$((bad + 1)); }
done
check 'random header damage: every file gets a qcow2 report' [ $bad = 0 ]

finish
