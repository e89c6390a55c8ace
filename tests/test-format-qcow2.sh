#!/bin/bash
# qcow2 reader: clean v2/v3 images made by qemu-img are safe and agree with
# qemu-img info (virtual size, cluster size, format-specific fields);
# external references, impossible headers, broken tables and unknown
# features get the right verdict and finding codes.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3

. "$top/tests/images/qcow-lib.sh"

# like_qemu 'description' FILE VERDICT [FINDING...]: format qcow2, the
# verdict, exactly these findings, and virtual size, cluster size and
# format-specific data equal to qemu-img's (our "snapshots" list aside)
like_qemu() {
	local what=$1 f=$2 verdict=$3 got want
	shift 3
	got=$(sniff "$f" | jq -c '[.verdict, .format, ."virtual-size", ."cluster-size",
		(."format-specific".data | del(.snapshots)), [.findings[].code]]')
	want=$(qemu-img info -f qcow2 --output=json "$f" | jq -c --arg v "$verdict" --args \
		'[$v, "qcow2", ."virtual-size", ."cluster-size", ."format-specific".data,
		  $ARGS.positional]' "$@")
	if [ "$got" = "$want" ]; then pass "$what"; else
		echo "#   got  $got"; echo "#   want $want"; fail "$what"; fi
}
# clean_qcow2 'description' FILE [FINDING...]: like_qemu, verdict safe
clean_qcow2() { like_qemu "$1" "$2" safe "${@:3}"; }

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

# persistent dirty bitmaps: listed like qemu-img
cp "$tmp/v3.qcow2" "$tmp/bitmaps.qcow2"
qemu-img bitmap --add "$tmp/bitmaps.qcow2" b0
qemu-img bitmap --add -g 1M --disable "$tmp/bitmaps.qcow2" second
clean_qcow2 'persistent bitmaps are safe and listed like qemu-img' "$tmp/bitmaps.qcow2"

# encryption as qemu-img reports it (AES: no header needed to describe it)
cp "$tmp/zstd.qcow2" "$tmp/aes.qcow2"
patch "$tmp/aes.qcow2" crypt_method=1
like_qemu 'AES encryption is unsupported, fields as qemu-img' "$tmp/aes.qcow2" \
	unsupported encrypted
cp "$tmp/v2.qcow2" "$tmp/aes2.qcow2"
patch "$tmp/aes2.qcow2" crypt_method=1
like_qemu 'AES encryption on v2, fields as qemu-img' "$tmp/aes2.qcow2" \
	unsupported encrypted

# dirty bit: INFO only, still safe
cp "$tmp/v3.qcow2" "$tmp/dirty.qcow2"
patch "$tmp/dirty.qcow2" incompatible_features=1
clean_qcow2 'dirty bit is INFO only, still safe' "$tmp/dirty.qcow2" dirty

# ---- external references ---------------------------------------------------
qemu-img create -q -f qcow2 -u -b /etc/passwd -F raw "$tmp/back.qcow2" 1M
expect 'backing file /etc/passwd is unsafe' "$tmp/back.qcow2" unsafe backing-file
j=$(sniff "$tmp/back.qcow2")
check 'backing-filename and format reported as qemu-img does' \
	jq_is "$j" '."backing-filename" + "|" + ."backing-filename-format"' '/etc/passwd|raw'
check 'backing file listed in references' \
	jq_is "$j" '.references[0].type + ":" + .references[0].name' 'backing-file:/etc/passwd'
check 'virtual size still agrees with qemu-img' \
	jq_is "$j" '."virtual-size"' "$(qemu_vsize "$tmp/back.qcow2" qcow2)"

qemu-img create -q -f qcow2 -u -F raw \
	-b 'json:{"file":{"driver":"file","filename":"/etc/shadow"}}' "$tmp/json.qcow2" 1M
expect 'json: backing file is unsafe (protocol)' "$tmp/json.qcow2" unsafe \
	backing-file protocol-reference
qemu-img create -q -f qcow2 -u -F raw -b 'nbd://x' "$tmp/nbd.qcow2" 1M
expect 'nbd:// backing file is unsafe (protocol)' "$tmp/nbd.qcow2" unsafe \
	backing-file protocol-reference

# CVE-2024-32498: creating the image writes to the data file, so create it
# with a same-length placeholder and patch the name in afterwards
(cd "$tmp" && qemu-img create -q -f qcow2 \
	-o data_file=placeholder,data_file_raw=on datafile.qcow2 1M)
like_qemu 'data file: fields as qemu-img shows them' "$tmp/datafile.qcow2" unsafe data-file
patch "$tmp/datafile.qcow2" replace:placeholder=/etc/passwd
expect 'external data file is unsafe' "$tmp/datafile.qcow2" unsafe data-file
j=$(sniff "$tmp/datafile.qcow2")
check 'data file named in references and format-specific' \
	jq_is "$j" '.references[0].name + "|" + ."format-specific".data."data-file" + "|" + (."format-specific".data."data-file-raw" | tostring)' \
	'/etc/passwd|/etc/passwd|true'
(cd "$tmp" && qemu-img create -q -f qcow2 -o data_file=placeholder "$tmp/dfnoname.qcow2" 1M)
patch "$tmp/dfnoname.qcow2" ext:0x44415441.len=0
expect 'data file bit without a name is still unsafe' "$tmp/dfnoname.qcow2" unsafe data-file

# ---- hostile and broken variants ------------------------------------------------
v3=$tmp/v3.qcow2

# truncations: invalid, never raw
bad 'truncated to 100 bytes is invalid, not raw' invalid "$v3" truncate=100 truncated
bad 'truncated to 300 bytes is invalid, not raw' invalid "$v3" truncate=300 truncated
bad 'truncated to one cluster: tables past EOF' invalid "$v3" truncate=65536 table-past-eof
bad 'truncated to 8 bytes (magic and version)' invalid "$v3" truncate=8 truncated

# impossible header fields (CVE-2014-0143..0147 shapes)
bad 'cluster_bits=31 is invalid' invalid "$v3" cluster_bits=31 bad-field
bad 'cluster_bits=8 is invalid' invalid "$v3" cluster_bits=8 bad-field
bad 'l1_size=0x7fffffff is too large' invalid "$v3" l1_size=0x7fffffff table-too-large
bad 'nb_snapshots=0xffffffff is too large' invalid "$v3" nb_snapshots=0xffffffff table-too-large
bad 'size=2^62 is impossible' invalid "$v3" size=0x4000000000000000 impossible-size
bad 'size=2^64-1 is impossible' invalid "$v3" size=0xffffffffffffffff impossible-size
bad 'L1 too small for the size' invalid "$v3" size=0x100000000000 bad-field
bad 'refcount_order=7 is invalid' invalid "$v3" refcount_order=7 bad-field
bad 'L1 table past EOF' invalid "$v3" l1_table_offset=0x10000000 table-past-eof
bad 'L1 table offset unaligned' invalid "$v3" l1_table_offset=0x30008 bad-field
bad 'L1 table overlapping the header' invalid "$v3" l1_table_offset=0 table-overlap
bad 'L1 table overlapping the refcount table' invalid "$v3" l1_table_offset=0x10000 table-overlap
bad 'refcount table past EOF' invalid "$v3" refcount_table_offset=0x7fff0000 table-past-eof
bad 'refcount table of 0 clusters' invalid "$v3" refcount_table_clusters=0 bad-field
bad 'refcount table over 8 MiB' invalid "$v3" refcount_table_clusters=129 table-too-large
bad 'refcount table unaligned' invalid "$v3" refcount_table_offset=0x10200 bad-field
bad 'snapshot table past EOF' invalid "$v3" 'nb_snapshots=3 snapshots_offset=0x100000' table-past-eof
bad 'snapshot table offset unaligned' invalid "$v3" snapshots_offset=0x100 bad-field
bad 'header extension running past the cluster' invalid "$v3" ext:0x6803f857.len=0x10000 bad-extension
bad 'header_length not a multiple of 8' invalid "$v3" header_length=108 bad-field
bad 'header_length below 104' invalid "$v3" header_length=72 bad-field
bad 'header_length beyond the cluster' invalid "$v3" header_length=0x20000 bad-field
bad 'backing file offset beyond the first cluster' unsafe "$v3" \
	'backing_file_offset=0x20000 backing_file_size=4' bad-field backing-file
bad 'backing file name of 2000 bytes' unsafe "$v3" \
	'backing_file_offset=0x1000 backing_file_size=2000' bad-field backing-file
bad 'backing format name of 16 bytes' invalid "$v3" \
	addext:0xe2792aca=71636f77327171717171717171717171 bad-extension
bad 'compression type 2 is invalid' invalid "$v3" \
	'incompatible_features=8 compression_type=2' bad-field
bad 'zstd without its feature bit is invalid' invalid "$v3" compression_type=1 bad-field
bad 'data-file-raw without a data file is invalid' invalid "$v3" autoclear_features=2 bad-field
bad 'extended L2 needs 16 KiB clusters' invalid "$tmp/c512.qcow2" incompatible_features=0x10 bad-field
bad 'bitmaps extension with 0 bitmaps' invalid "$v3" \
	"autoclear_features=1 addext:0x23852875=$(printf '%048x' 0)" bad-extension
bad 'bitmap directory holding fewer bitmaps than the extension says' invalid \
	"$tmp/bitmaps.qcow2" ext:0x23852875+0:be32=3 bad-extension
bad 'bitmap directory past EOF' invalid "$tmp/bitmaps.qcow2" \
	ext:0x23852875+16:be64=0x7000000000 table-past-eof
bad 'bitmap with granularity 2^40' invalid "$tmp/bitmaps.qcow2" \
	"@$(python3 -c 'import struct,sys
d=open(sys.argv[1],"rb").read(1<<16)
o=d.find(struct.pack(">I",0x23852875))
print(struct.unpack(">Q", d[o+24:o+32])[0] + 17)' "$tmp/bitmaps.qcow2"):u8=40" bad-extension

# versions, features, encryption
bad 'version 4 is unsupported' unsupported "$v3" version=4 unsupported-version
bad 'version 0x10000 is unsupported' unsupported "$v3" version=0x10000 unsupported-version
bad 'unknown incompatible bit 12 is unsafe' unsafe "$v3" incompatible_features=0x1000 unknown-features
bad 'unknown incompatible bit 63 is unsafe' unsafe "$v3" incompatible_features=0x8000000000000000 unknown-features
bad 'AES encryption is unsupported' unsupported "$v3" crypt_method=1 encrypted
bad 'LUKS encryption is unsupported' unsupported "$v3" \
	"crypt_method=2 truncate=0x50000 addext:0x0537be77=$(printf '%016x%016x' 0x40000 0x10000)" encrypted
bad 'LUKS encryption without its header is invalid' invalid "$v3" crypt_method=2 encrypted bad-extension
bad 'crypto header without LUKS is invalid' invalid "$v3" \
	"truncate=0x50000 addext:0x0537be77=$(printf '%016x%016x' 0x40000 0x10000)" bad-extension
bad 'unknown encryption method is invalid' invalid "$v3" crypt_method=3 bad-field
bad 'corrupt bit is invalid' invalid "$v3" incompatible_features=2 corrupt-flag
# bit 2's feature-table entry renamed to bit 5: the finding names it
bad 'unknown bit 5 named from the feature name table' unsafe "$v3" \
	'incompatible_features=0x20 @0xd9:u8=5' unknown-features

# table entries pointing outside the file
read -r l1 rt < <(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(56); print(*struct.unpack(">QQ", d[40:56]))' "$tmp/data.qcow2")
so=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(72); print(struct.unpack(">Q", d[64:72])[0])' "$tmp/snap.qcow2")
bad 'L1 entry past EOF' invalid "$tmp/data.qcow2" "@$l1:be64=0x8000000100000000" entry-out-of-range
bad 'L1 entry unaligned' invalid "$tmp/data.qcow2" "@$l1:be64=0x8000000000050200" entry-out-of-range
bad 'refcount table entry past EOF' invalid "$tmp/data.qcow2" "@$rt:be64=0x7000000000" entry-out-of-range
bad 'snapshot with too much extra data' invalid "$tmp/snap.qcow2" "@$((so + 36)):be32=0x10000" bad-field
bad 'snapshot L1 table past EOF' invalid "$tmp/snap.qcow2" "@$so:be64=0x7000000000" table-past-eof
bad 'snapshot L1 table too large' invalid "$tmp/snap.qcow2" "@$((so + 8)):be32=0x7fffffff" table-too-large
bad 'L1 table overlapping the snapshot table' invalid "$tmp/snap.qcow2" "l1_table_offset=$so" table-overlap

# a qcow2 header planted in a raw disk (CVE-2008-2004 shape)
qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$tmp/hdr.qcow2" 1M
bad 'qcow2 header with a backing file in a raw disk is unsafe' unsafe \
	"$tmp/hdr.qcow2" truncate=$((64 << 20)) backing-file
run_bad

# details of some of them
n_aes=$(for i in "${!bad_specs[@]}"; do case ${bad_specs[$i]} in AES*) echo "$i";; esac; done)
n_luks=$(for i in "${!bad_specs[@]}"; do case ${bad_specs[$i]} in "LUKS encryption is"*) echo "$i";; esac; done)
n_feat=$(for i in "${!bad_specs[@]}"; do case ${bad_specs[$i]} in "unknown bit 5"*) echo "$i";; esac; done)
check 'AES encryption reported as qemu-img does' \
	jq_is "$(sniff "$tmp/bad-$n_aes.img")" '."format-specific".data.encrypt.format' aes
check 'LUKS encryption reported as qemu-img does' \
	jq_is "$(sniff "$tmp/bad-$n_luks.img")" '."format-specific".data.encrypt.format' luks
check 'unknown feature named from the feature name table' \
	jq_is "$(sniff "$tmp/bad-$n_feat.img")" \
	'[.findings[] | select(.code == "unknown-features") | .detail] | join(",")' \
	'unknown incompatible feature bit 5 ("external data file")'

finish
