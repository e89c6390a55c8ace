#!/bin/bash
# VMDK: clean monolithicSparse and streamOptimized images (qemu's layout
# and VMware's one-pass layout with a footer) are safe with qemu's
# virtual size; every descriptor that names another file is unsafe
# (OSSA-2023-002 / CVE-2022-47951, OSSA-2024-002), including the ones
# hidden in a sparse file; broken headers, tables and footers are invalid.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3

gen() { python3 -S "$top/tests/images/vmdk.py" "$@"; }
j() { sniff "$1"; }
# same_vsize 'desc' FILE: our virtual-size equals qemu-img's
same_vsize() {
	local want got
	want=$(qemu_vsize "$2" vmdk) || { fail "$1 (qemu-img info failed)"; return; }
	got=$(j "$2" | jq -r '."virtual-size"')
	if [ "$got" = "$want" ]; then pass "$1 ($got)"; else
		echo "#   got $got, qemu-img says $want"; fail "$1"; fi
}
# leaks FILE: qemu-img convert -f vmdk copies the host secret into raw
leaks() {
	rm -f "$tmp/leak.raw"
	qemu-img convert -f vmdk -O raw "$1" "$tmp/leak.raw" 2>/dev/null &&
		grep -q HOSTSECRET "$tmp/leak.raw"
}
desc() { # desc FILE: a text descriptor from stdin
	cat >"$1"
}

cd "$tmp" || exit 1
# a harmless "host file" that must never appear in an output
for i in $(seq 1 200); do printf 'HOSTSECRET-%04d\n' "$i"; done >secret.bin
head -c 3M /dev/urandom >data.raw
head -c 1M /dev/zero >>data.raw

# ---- clean images -------------------------------------------------------
qemu-img create -q -f vmdk sparse.vmdk 1G
qemu-img convert -f raw -O vmdk data.raw data-sparse.vmdk
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized data.raw stream.vmdk
cp stream.vmdk vmware-stream.vmdk
gen footer vmware-stream.vmdk

for f in sparse data-sparse stream vmware-stream; do
	expect_sniff "clean $f is safe" $f.vmdk safe
	same_vsize "clean $f virtual-size equals qemu-img" $f.vmdk
done
check 'sparse: cluster-size and create-type as qemu-img' \
	jq_is "$(j sparse.vmdk)" \
	'[."cluster-size", ."format-specific".data."create-type", ."format-specific".data.cid]|join(",")' \
	"$(qemu-img info -f vmdk --output=json sparse.vmdk | jq -r '[."cluster-size", ."format-specific".data."create-type", ."format-specific".data.cid]|join(",")')"
check 'stream: create-type streamOptimized, extent compressed' \
	jq_is "$(j stream.vmdk)" \
	'[."format-specific".data."create-type", ."format-specific".data.extents[0].compressed]|join(",")' \
	'streamOptimized,true'
check 'vmware-stream: qemu-img reads the same data as from the original' \
	qemu-img compare -f vmdk -F vmdk stream.vmdk vmware-stream.vmdk

# ---- text descriptors naming host files ------------------------------------
flat_desc() { # flat_desc CREATETYPE EXTENT-LINE...
	local ct=$1
	shift
	printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="%s"\n\n# Extent description\n' "$ct"
	printf '%s\n' "$@"
	printf '\nddb.virtualHWVersion = "4"\n'
}
flat_desc monolithicFlat 'RW 2 FLAT "/etc/passwd" 0' >abs.vmdk
flat_desc monolithicFlat 'RW 2 FLAT "secret.bin" 0' >rel.vmdk
flat_desc monolithicFlat 'RW 2 FLAT "../../etc/shadow" 0' >dotdot.vmdk
flat_desc monolithicFlat 'RW 2 FLAT "json:{\"driver\":\"file\",\"filename\":\"/etc/passwd\"}" 0' >json.vmdk
expect_sniff 'descriptor with absolute FLAT extent is unsafe' abs.vmdk unsafe external-extent unsupported-subformat
expect_sniff 'descriptor with relative FLAT extent is unsafe' rel.vmdk unsafe external-extent
expect_sniff 'descriptor with ../ extent is unsafe' dotdot.vmdk unsafe external-extent
expect_sniff 'descriptor with json: extent is unsafe' json.vmdk unsafe external-extent protocol-reference
check 'the relative extent really leaks through qemu-img convert' leaks rel.vmdk
same_vsize 'relative FLAT descriptor virtual-size equals qemu-img' rel.vmdk
check 'extent names are reported as references' \
	jq_is "$(j abs.vmdk)" '[.references[]|select(.type=="extent")|.name]|join(",")' /etc/passwd
check 'format-specific extents as qemu-img' \
	jq_is "$(j rel.vmdk)" '."format-specific".data.extents[0]|[.filename,.format,."virtual-size"]|join(",")' 'secret.bin,FLAT,1024'

qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentFlat twogb.vmdk 10M
expect_sniff 'twoGbMaxExtentFlat descriptor is unsafe' twogb.vmdk unsafe external-extent unsupported-subformat
same_vsize 'twoGbMaxExtentFlat virtual-size equals qemu-img' twogb.vmdk

# OSSA-2024-002: a "raw" disk whose sector 0 is a short descriptor padded
# with NULs (oslo's inspector calls it raw); qemu's probe picks vmdk
printf 'version=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2 FLAT "secret.bin" 0\n' >sector0.vmdk
truncate -s 512 sector0.vmdk
head -c 1M /dev/urandom >>sector0.vmdk
expect_sniff 'raw disk with a descriptor in sector 0 is unsafe' sector0.vmdk unsafe external-extent
check 'sector-0 descriptor: format vmdk, as qemu probes it' \
	jq_is "$(j sector0.vmdk)" '[.format, ."qemu-probe" // "vmdk"]|join(",")' 'vmdk,vmdk'
check 'sector-0 descriptor leaks through qemu-img convert without -f' \
	sh -c 'qemu-img convert -O raw sector0.vmdk s0.raw 2>/dev/null && grep -q HOSTSECRET s0.raw'

# "# Disk DescriptorFile" + createType, no version line: qemu's probe says
# raw, but -f vmdk opens it
printf '# Disk DescriptorFile\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2 FLAT "secret.bin" 0\n' >noversion.vmdk
expect_sniff 'descriptor without version= still matches vmdk' noversion.vmdk unsafe external-extent bad-descriptor

# an extent line split over lines: the grammar rejects it, qemu's sscanf
# reads it (whitespace includes newlines) and opens the file
printf 'version=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW\n2 FLAT\n"secret.bin" 0\n' >split.vmdk
expect_sniff 'extent split over lines is unsafe and a bad descriptor' split.vmdk unsafe external-extent bad-descriptor
check 'the split extent line does leak through qemu' leaks split.vmdk

# ---- descriptors hidden in sparse files --------------------------------------
# capacity != 0: qemu ignores the embedded extent lines (checked), VMware
# does not: an extra FLAT extent is still unsafe
qemu-img create -q -f vmdk inject.vmdk 1M
printf '# Disk DescriptorFile\nversion=1\nCID=569cb394\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW 2048 SPARSE "inject.vmdk"\nRW 2 FLAT "/etc/passwd" 0\nRW 2 FLAT "secret.bin" 0\n' | gen desc inject.vmdk
expect_sniff 'sparse file with an injected FLAT extent is unsafe' inject.vmdk unsafe external-extent
check 'qemu 7.2 ignores the injected extent (no leak)' sh -c '! { qemu-img convert -f vmdk -O raw inject.vmdk inj.raw && grep -q HOSTSECRET inj.raw; }'
same_vsize 'injected-extent file virtual-size equals qemu-img' inject.vmdk

# capacity 0: qemu reads the embedded descriptor as a descriptor file and
# opens its extents, even when auto-probing
qemu-img create -q -f vmdk cap0.vmdk 1M
printf '# Disk DescriptorFile\nversion=1\nCID=569cb394\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2 FLAT "secret.bin" 0\n' | gen desc cap0.vmdk
gen set cap0.vmdk capacity=0
expect_sniff 'zero-capacity sparse file with a FLAT descriptor is unsafe' cap0.vmdk unsafe external-extent create-type-mismatch
check 'the zero-capacity trick leaks through qemu-img convert without -f' \
	sh -c 'qemu-img convert -O raw cap0.vmdk c0.raw 2>/dev/null && grep -q HOSTSECRET c0.raw'
same_vsize 'zero-capacity trick virtual-size equals qemu-img' cap0.vmdk
# the same with a descriptor offset that wraps around to sector 1 in
# qemu's unchecked `offset << 9`
cp cap0.vmdk cap0-wrap.vmdk
echo "set cap0-wrap.vmdk desc_offset=0x80000000000001" | gen batch
expect_sniff 'zero-capacity trick with a wrapping descriptor offset' cap0-wrap.vmdk unsafe external-extent bad-field
check 'the wrapping offset leaks through qemu-img convert' leaks cap0-wrap.vmdk

# ---- lying createType ----------------------------------------------------------
flat_desc monolithicSparse 'RW 2 SPARSE "secret.bin"' >text-sparse.vmdk
expect_sniff 'text descriptor claiming monolithicSparse' text-sparse.vmdk unsafe create-type-mismatch external-extent
cp sparse.vmdk ct-flat.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2097152 SPARSE "ct-flat.vmdk"\n' | gen desc ct-flat.vmdk
expect_sniff 'sparse file claiming monolithicFlat' ct-flat.vmdk unsafe create-type-mismatch
cp sparse.vmdk ct-stream.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="streamOptimized"\nRW 2097152 SPARSE "ct-stream.vmdk"\n' | gen desc ct-stream.vmdk
expect_sniff 'uncompressed sparse file claiming streamOptimized' ct-stream.vmdk unsafe create-type-mismatch
cp stream.vmdk ct-mono.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW 8192 SPARSE "ct-mono.vmdk"\n' | gen desc ct-mono.vmdk
expect_sniff 'compressed stream file claiming monolithicSparse' ct-mono.vmdk unsafe create-type-mismatch
# qemu's strstr() takes the first "createType" even in a comment
printf '# createType="monolithicFlat"\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="vmfs"\nRW 2 VMFS "secret.bin"\n' >ct-comment.vmdk
expect_sniff 'createType in a comment that qemu reads instead' ct-comment.vmdk unsafe create-type-mismatch external-extent

# ---- parents -------------------------------------------------------------------
cp sparse.vmdk parent.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=12345678\ncreateType="monolithicSparse"\nparentFileNameHint="/srv/base.vmdk"\nRW 2097152 SPARSE "parent.vmdk"\n' | gen desc parent.vmdk
expect_sniff 'parentCID and parentFileNameHint' parent.vmdk unsafe parent-reference backing-file
check 'backing-filename as qemu-img reports it' \
	jq_is "$(j parent.vmdk)" '."backing-filename"' \
	"$(qemu-img info -f vmdk --output=json parent.vmdk | jq -r '."backing-filename"')"
check 'parent-cid as qemu-img reports it' \
	jq_is "$(j parent.vmdk)" '."format-specific".data."parent-cid"' 305419896
cp sparse.vmdk hint-comment.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW 2097152 SPARSE "hint-comment.vmdk"\n# parentFileNameHint="json:{}"\n' | gen desc hint-comment.vmdk
expect_sniff 'parentFileNameHint in a comment (qemu still opens it)' hint-comment.vmdk unsafe backing-file protocol-reference

# ---- broken headers and tables ----------------------------------------------------
head -c 100 sparse.vmdk >trunc.vmdk
expect_sniff 'KDMV truncated to 100 bytes is invalid' trunc.vmdk invalid truncated
check 'truncated KDMV is still reported as vmdk' jq_is "$(j trunc.vmdk)" .format vmdk

header_cases=(
	"desc_offset=100000 desc-past-eof table-past-eof"
	"desc_size=4096 desc-too-large table-too-large"
	"desc_offset=2 desc-elsewhere bad-field"
	"grain_size=0 grain-zero bad-field"
	"grain_size=100 grain-not-pow2 bad-field"
	"grain_size=0x400000 grain-huge bad-field"
	"num_gtes=4096 gtes-too-many bad-field"
	"capacity=0x4000000000000 capacity-huge table-too-large"
	"capacity=0x4000000000000000 capacity-impossible impossible-size"
	"gd_offset=0x100000 gd-past-eof table-past-eof"
	"overhead=0x100000 overhead-past-eof truncated"
	"version=4 version-4 unsupported-version"
	"flags=0x80000003 unknown-flag unsupported-feature"
	"nl_check=XXXX nl-corrupt bad-field"
	"compress=1 compress-without-flag bad-field"
)
for p in "${header_cases[@]}"; do
	set -- $p
	cp sparse.vmdk "$2.vmdk"
	echo "set $2.vmdk $1"
done | gen batch
for p in "${header_cases[@]}"; do
	set -- $p
	want=invalid
	case $3 in unsupported-*) want=unsupported ;; esac
	# compressAlgorithm=1 makes qemu call it streamOptimized while the
	# descriptor says monolithicSparse
	[ "$2" = compress-without-flag ] && want=unsafe
	expect_sniff "header $1 → $3" "$2.vmdk" "$want" "$3"
done
# grain-not-pow2: qemu opens it, the sizes must still agree
same_vsize 'non-power-of-2 grain virtual-size equals qemu-img' grain-not-pow2.vmdk

cp data-sparse.vmdk gd-entry.vmdk
gen gd gd-entry.vmdk 0 0x7fffffff
expect_sniff 'grain directory entry past EOF' gd-entry.vmdk invalid entry-out-of-range

# ---- stream-optimized footers -----------------------------------------------------------
footer_cases=(
	"capacity=16384 footer-capacity inconsistent-header"
	"desc_offset=2 footer-desc inconsistent-header"
	"gd_offset=0xffffffffffffffff footer-gd-at-end bad-field"
	"eos=bad footer-eos bad-field"
)
for p in "${footer_cases[@]}"; do
	set -- $p
	cp stream.vmdk "$2.vmdk"
	echo "footer $2.vmdk $1"
done | gen batch
for p in "${footer_cases[@]}"; do
	set -- $p
	expect_sniff "stream footer $1 → $3" "$2.vmdk" invalid "$3"
done
cp stream.vmdk no-footer.vmdk
gen set no-footer.vmdk gd_offset=0xffffffffffffffff
expect_sniff 'GD_AT_END without a footer' no-footer.vmdk invalid bad-field

# ---- COWD and grammar -----------------------------------------------------------------
python3 -c '
import struct, sys
h = bytearray(4096)
h[0:4] = b"COWD"
struct.pack_into("<IIIIIII", h, 4, 1, 3, 2048, 16, 4, 1, 8)
sys.stdout.buffer.write(h)' >cowd.vmdk
expect_sniff 'COWD (VMDK3) extent is not accepted' cowd.vmdk invalid unsupported-subformat
check 'COWD virtual-size from disk_sectors' jq_is "$(j cowd.vmdk)" '."virtual-size"' 1048576

flat_desc monolithicFlat 'RW 2 FLAT "a.bin" 0' 'this line is not a descriptor line' >grammar.vmdk
expect_sniff 'a line that breaks the grammar' grammar.vmdk unsafe bad-descriptor
flat_desc monolithicFlat 'rw 2 FLAT "a.bin" 0' >case.vmdk
expect_sniff 'lowercase access word (oslo accepts, qemu skips)' case.vmdk unsafe bad-descriptor external-extent
flat_desc vmfs 'RW 2 VMFS "a.bin" 7' >vmfs-offset.vmdk
expect_sniff 'VMFS extent with an offset (qemu fails the open)' vmfs-offset.vmdk unsafe bad-descriptor
cp sparse.vmdk dup.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\ncreateType="monolithicFlat"\nRW 2097152 SPARSE "dup.vmdk"\n' | gen desc dup.vmdk
expect_sniff 'repeated createType in a sparse file' dup.vmdk invalid bad-descriptor
cp sparse.vmdk nocid.vmdk
printf '# Disk DescriptorFile\nversion=1\ncreateType="monolithicSparse"\nRW 2097152 SPARSE "nocid.vmdk"\n' | gen desc nocid.vmdk
expect_sniff 'no CID/parentCID (qemu cannot open it)' nocid.vmdk invalid bad-descriptor
cp sparse.vmdk size-mismatch.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW 2048 SPARSE "size-mismatch.vmdk"\n' | gen desc size-mismatch.vmdk
expect_sniff 'extent size differs from capacity' size-mismatch.vmdk invalid inconsistent-header

# qemu reads each extent line with sscanf from the line's start, and %s
# skips newlines: after N blank lines, the next extent line is opened N+1
# times (virtual size N+1 times its sectors). A descriptor of 200,000
# blank lines says so, and leading zeros do not change the sector count.
# (It also once made the scan quadratic: minutes for 200 KB. Now linear:
# fuzz/regressions/compressed/timeout-vmdk-blank-run-rescan.gz.)
{
	printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
	printf 'createType="monolithicFlat"\n'
	head -c 200000 /dev/zero | tr '\0' '\n'
	printf 'RW 000000000000000000000000000032768 FLAT "data.bin" 0\n'
} >blank-lines.vmdk
out=$(j blank-lines.vmdk)
check 'blank lines before an extent: qemu opens it once per line' \
	jq_is "$out" '."virtual-size"' $(((200000 + 1) * 32768 * 512))
check 'blank lines before an extent: an external extent' \
	jq_is "$out" '[.findings[].code] | index("external-extent") != null' true

# ---- not VMDK -------------------------------------------------------------------------
printf 'Notes on VMDK\n\nThe descriptor has a createType key.\n' >notes.txt
check 'a text file that only mentions createType is raw' jq_is "$(j notes.txt)" .format raw
printf 'version=4\ncreateType is here\n' >v4.txt
check 'version=4 text is raw' jq_is "$(j v4.txt)" .format raw

finish
