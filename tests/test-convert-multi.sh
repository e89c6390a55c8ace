#!/bin/bash
# Multi-file inputs through the whole path (broker, sniffer, converter in
# its sandbox): a VHD chain given with --chain, an OVA member given with
# --member, a multi-file VMDK given with --extents. Only listed files are
# read; every file is judged; links are checked; a refusal leaves nothing
# at DST.
. "$(dirname "$0")/functions.sh"
requires jq
requires qemu-img
requires python3

GEN="python3 $top/tests/images/vhd-chain.py"
conv() {
	"$IMGWARD" convert "$@" 2>"$tmp/err" >"$tmp/stdout"
	rc=$?
}
# chain_args NAME: --chain BASE,...,LEAF for a chain vhd-chain.py made
chain_args() {
	tac "$tmp/$1.files" | paste -sd, -
}

# ---- VHD chains -----------------------------------------------------------
for sc in dyn1 fixed2 partial smaller-parent layers32; do
	$GEN "$tmp" "$sc"
	conv --chain "$(chain_args "$sc")" "$tmp/$sc.out"
	check "--chain $sc converts" test "$rc" = 0
	check "... to the disk the model computes" cmp -s "$tmp/$sc.out" "$tmp/$sc.raw"
done
$GEN "$tmp" dyn1
conv --json --chain "$(chain_args dyn1)" "$tmp/j.out"
check "--json: the result counts the files" jq_is "$(cat "$tmp/stdout")" '.files' 2
check "--json: the converter kept its sandbox" \
	jq_is "$(cat "$tmp/stdout")" '.sandbox.seccomp + " " + .sandbox.capabilities' "filter none"
conv --chain "$(head -1 "$tmp/dyn1.files"),$(tail -1 "$tmp/dyn1.files" | tr -d '\n')" -f vpc "$tmp/ff.out"
check "a chain listed leaf first is refused (status 1)" test "$rc" = 1
check "... saying to list the base first" grep -q "list the base first" "$tmp/err"
check "... and nothing is at DST" test ! -e "$tmp/ff.out"
conv --chain "$(chain_args dyn1)" -f qcow2 "$tmp/ff.out"
check "-f naming another format refuses the chain" test "$rc" = 1
conv --chain "$(head -1 "$tmp/dyn1.files")" "$tmp/ff.out"
check "a differencing disk without its parent is refused" test "$rc" = 1
check "... saying its parent is not listed" grep -q "parent is not listed" "$tmp/err"
$GEN "$tmp" wrong-uuid
conv --chain "$(chain_args wrong-uuid)" "$tmp/ff.out"
check "a chain whose parent UUID does not match is refused" test "$rc" = 1
check "... as chain-broken" grep -q "chain-broken" "$tmp/err"
check "... and nothing is at DST" test ! -e "$tmp/ff.out"
$GEN "$tmp" diff-base
conv --chain "$(chain_args diff-base)" "$tmp/ff.out"
check "a chain whose base is differencing is refused" test "$rc" = 1
$GEN "$tmp" bitmap-past-eof
conv --json --chain "$(chain_args bitmap-past-eof)" "$tmp/ff.out"
check "a chain whose layer is broken is refused" test "$rc" != 0
check "... and nothing is at DST" test ! -e "$tmp/ff.out"
conv --chain "$(chain_args dyn1)" "$tmp/extra" "$tmp/ff.out"
check "--chain takes DST only (status 64)" test "$rc" = 64
conv --chain "$(chain_args dyn1)" --member x "$tmp/ff.out"
check "--chain and --member do not mix (status 64)" test "$rc" = 64
conv --chain "$(chain_args dyn1),$tmp/missing.vhd" "$tmp/ff.out"
check "a listed file that does not exist: status 66" test "$rc" = 66
conv --chain "$(chain_args dyn1)" "$(head -1 "$tmp/dyn1.files")"
check "DST that is one of the listed files is refused (status 64)" test "$rc" = 64

# ---- OVA members -----------------------------------------------------------
python3 - "$tmp/disk.raw" <<'EOF'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.truncate(24 * 2**20)
    f.seek(0); f.write(os.urandom(2**20 + 512))
    f.seek(9 * 2**20); f.write(bytes([0xa5]) * 300000)
EOF
qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized "$tmp/disk.raw" "$tmp/disk.vmdk"
python3 "$top/tests/images/tar-gen.py" ova "$tmp/vm.ova" "$tmp/disk.vmdk"
conv --member disk.vmdk "$tmp/vm.ova" "$tmp/m.out"
check "--member converts an OVA's disk" test "$rc" = 0
check "... byte for byte" cmp -s "$tmp/m.out" "$tmp/disk.raw"
conv --member disk.vmdk -f vmdk "$tmp/vm.ova" "$tmp/m2.out"
check "-f names the member's format" test "$rc" = 0
conv --member disk.vmdk -f qcow2 "$tmp/vm.ova" "$tmp/m3.out"
check "-f naming another format refuses the member" test "$rc" = 1
check "... and nothing is at DST" test ! -e "$tmp/m3.out"
conv --member other.vmdk "$tmp/vm.ova" "$tmp/m3.out"
check "a member that is not there is refused" test "$rc" != 0
check "... saying so" grep -q "no such member" "$tmp/err"
conv "$tmp/vm.ova" "$tmp/m3.out"
check "an OVA without --member is refused (unsupported: status 3)" test "$rc" = 3
qemu-img convert -q -f raw -O qcow2 "$tmp/disk.raw" "$tmp/disk.qcow2"
python3 "$top/tests/images/tar-gen.py" chain "$tmp/two.tar" "a.qcow2=$tmp/disk.qcow2" "b.img=$tmp/disk.raw"
conv --member a.qcow2 "$tmp/two.tar" "$tmp/t.out"
check "--member converts a qcow2 member of a plain tar" test "$rc" = 0
check "... byte for byte" cmp -s "$tmp/t.out" "$tmp/disk.raw"
conv --member b.img "$tmp/two.tar" - >/dev/null
check "... and a raw member, streamed" cmp -s "$tmp/stdout" "$tmp/disk.raw"
python3 "$top/tests/images/tar-gen.py" traversal "$tmp/bad.tar"
conv --member ok.txt "$tmp/bad.tar" "$tmp/t2.out"
check "an archive with an unsafe member is refused whole" test "$rc" = 1
check "... and nothing is at DST" test ! -e "$tmp/t2.out"
printf 'not a tar' > "$tmp/plain"
conv --member x "$tmp/plain" "$tmp/t3.out"
check "--member on a file that is no archive is refused" test "$rc" != 0

# ---- multi-file VMDK --------------------------------------------------------
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse "$tmp/split.vmdk" 3G
qemu-io -f vmdk -c 'write -P 0x33 100M 3M' -c 'write -P 0x44 2047M 2M' "$tmp/split.vmdk" >/dev/null
qemu-img convert -f vmdk -O raw "$tmp/split.vmdk" "$tmp/split.ref"
conv --extents "$tmp/split-s001.vmdk,$tmp/split-s002.vmdk" "$tmp/split.vmdk" "$tmp/split.out"
check "--extents converts a twoGbMaxExtentSparse VMDK" test "$rc" = 0
check "... as qemu-img does" cmp -s "$tmp/split.out" "$tmp/split.ref"
conv --extents "$tmp/split-s002.vmdk" --extents "$tmp/split-s001.vmdk" "$tmp/split.vmdk" "$tmp/split2.out"
check "extents in the wrong order are refused" test "$rc" = 65
check "... naming the extent line and the file" grep -q 'chain-broken: extent 1: line .* names "split-s001.vmdk"' "$tmp/err"
check "... and nothing is at DST" test ! -e "$tmp/split2.out"
conv --extents "$tmp/split-s001.vmdk" "$tmp/split.vmdk" "$tmp/split2.out"
check "a missing extent is refused" test "$rc" = 65
conv "$tmp/split.vmdk" "$tmp/split2.out"
check "a descriptor without --extents is refused as unsafe (status 1)" test "$rc" = 1
check "... for its external-extent" grep -q "external-extent" "$tmp/err"
qemu-img create -q -f vmdk -o subformat=monolithicFlat "$tmp/flat.vmdk" 64M
qemu-io -f vmdk -c 'write -P 0x55 1M 3M' "$tmp/flat.vmdk" >/dev/null
qemu-img convert -f vmdk -O raw "$tmp/flat.vmdk" "$tmp/flat.ref"
conv -O qcow2 --extents "$tmp/flat-flat.vmdk" -f vmdk "$tmp/flat.vmdk" "$tmp/flat.qcow2"
check "--extents with a monolithicFlat VMDK, to qcow2" test "$rc" = 0
qemu-img convert -f qcow2 -O raw "$tmp/flat.qcow2" "$tmp/flat.back"
check "... converts back to what qemu-img reads" cmp -s "$tmp/flat.back" "$tmp/flat.ref"
# many extents: one helper argument per name, one fd each
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentFlat "$tmp/wide.vmdk" 20G
qemu-io -f vmdk -c 'write -P 0x61 1M 1M' -c 'write -P 0x62 19455M 1M' "$tmp/wide.vmdk" >/dev/null
qemu-img convert -f vmdk -O raw "$tmp/wide.vmdk" "$tmp/wide.ref"
exts=$(ls "$tmp"/wide-f0*.vmdk | sort | paste -sd, -)
conv --progress=json --extents "$exts" "$tmp/wide.vmdk" "$tmp/wide.out"
check "--extents with $(echo "$exts" | tr , '\n' | wc -l) extent files converts" test "$rc" = 0
check "... as qemu-img does" python3 "$top/tests/images/sparse-cmp.py" "$tmp/wide.out" "$tmp/wide.ref"
check "... with progress lines" grep -q '"progress": 1.0000.*"phase": "convert"' "$tmp/err"
rm -f "$tmp"/wide*

# ---- XenServer / OpenStack chain archives (--xenserver) -------------------
# xs_archive NAME OUT [tar flags]: the chain NAME as 0.vhd (leaf) ... N-1.vhd
xs_archive() {
	local name=$1 out=$2 i=0 f
	shift 2
	rm -rf "$tmp/xs" && mkdir "$tmp/xs"
	while read -r f; do
		cp "$f" "$tmp/xs/$i.vhd"
		i=$((i + 1))
	done < "$tmp/$name.files"
	(cd "$tmp/xs" && tar "$@" -cf "$out" $(ls "$tmp/xs" | sort -n))
}
$GEN "$tmp" partial
xs_archive partial "$tmp/p.tgz" -z
conv --progress=json --xenserver "$tmp/p.tgz" "$tmp/p.out"
check "--xenserver converts a .tgz chain" test "$rc" = 0
check "... saying when it unpacks" grep -q '"phase": "unpack"' "$tmp/err"
check "... to the disk the model computes" cmp -s "$tmp/p.out" "$tmp/partial.raw"
check "... and leaves no scratch file next to DST" sh -c "! ls -A '$tmp' | grep -q imgward-scratch"
xs_archive partial "$tmp/p.tar"
conv --xenserver -f vpc "$tmp/p.tar" - 
check "--xenserver converts a plain tar chain, streamed" cmp -s "$tmp/stdout" "$tmp/partial.raw"
rm -rf "$tmp/lg" && mkdir "$tmp/lg"
cp "$(sed -n 1p "$tmp/partial.files")" "$tmp/lg/snap.vhd"
cp "$(sed -n 2p "$tmp/partial.files")" "$tmp/lg/image.vhd"
(cd "$tmp/lg" && tar -czf "$tmp/lg.tgz" ./snap.vhd ./image.vhd)
conv --xenserver "$tmp/lg.tgz" "$tmp/lg.out"
check "--xenserver takes legacy snap/image.vhd names (and ./ prefixes)" cmp -s "$tmp/lg.out" "$tmp/partial.raw"
# bigger than the sniffer's 16 MiB head: the broker sees only the leaf,
# the converter checks every link once it has unpacked the archive
$GEN "$tmp" big
xs_archive big "$tmp/big.tgz" -z
conv --xenserver "$tmp/big.tgz" "$tmp/big.out"
check "--xenserver converts a .tgz chain larger than the sniffer's head" test "$rc" = 0
check "... to the disk the model computes" cmp -s "$tmp/big.out" "$tmp/big.raw"
# probe on it: the links past the head are "not inspected", not broken
big_probe=$("$SNIFF_FILE" "$tmp/big.tgz")
tar_rep=$(printf '%s' "$big_probe" | jq '.children[0]')
check "probe of that .tgz: no chain-broken or chain-gap" \
	jq_is "$tar_rep" '[.findings[].code | select(. == "chain-broken" or . == "chain-gap")] | length' 0
check "... the leaf's parent past the head is inspection-incomplete" \
	jq_is "$tar_rep" '[.findings[] | select(.code == "inspection-incomplete" and (.detail | test("differencing")))] | length' 1
check "... and no member is unsafe for its parent reference" \
	jq_is "$tar_rep" '[.children[]?.findings[]?.code | select(. == "parent-reference")] | length' 0
rm -f "$tmp"/big*
$GEN "$tmp" layers32
xs_archive layers32 "$tmp/l.txz" -J
conv --xenserver "$tmp/l.txz" "$tmp/l.out"
check "--xenserver converts a 32-layer .tar.xz chain" test "$rc" = 0
check "... to the disk the model computes" cmp -s "$tmp/l.out" "$tmp/layers32.raw"
conv --xenserver --scratch-dir "$tmp/nowhere" "$tmp/p.tgz" "$tmp/p2.out"
check "a scratch directory that does not exist: output-error (73)" test "$rc" = 73
conv --xenserver --limit file-size=1M "$tmp/p.tgz" "$tmp/p2.out"
check "an archive that unpacks past the file-size limit is refused" test "$rc" != 0
check "... and nothing is at DST" test ! -e "$tmp/p2.out"
$GEN "$tmp" wrong-uuid
xs_archive wrong-uuid "$tmp/w.tgz" -z
conv --xenserver "$tmp/w.tgz" "$tmp/w.out"
check "a .tgz chain whose links do not match is refused" test "$rc" != 0
check "... as chain-broken (by the broker or, past the sniffer's head, the converter)" grep -q "chain-broken" "$tmp/err"
check "... and nothing is at DST" test ! -e "$tmp/w.out"
$GEN "$tmp" past-scan
xs_archive past-scan "$tmp/ps.tgz" -z
conv --xenserver "$tmp/ps.tgz" "$tmp/ps.out"
check "a .tgz chain of a 64 GiB leaf with a bad BAT entry is refused" test "$rc" != 0
check "... and nothing is at DST" test ! -e "$tmp/ps.out"
cat "$tmp/p.tgz" > "$tmp/junk.tgz"
printf 'trailing junk' >> "$tmp/junk.tgz"
conv --xenserver "$tmp/junk.tgz" "$tmp/junk.out"
check "a .tgz with data after its gzip stream is refused" test "$rc" != 0
check "... and nothing is at DST" test ! -e "$tmp/junk.out"
head -c $(($(stat -c %s "$tmp/p.tgz") / 2)) "$tmp/p.tgz" > "$tmp/cut.tgz"
conv --xenserver "$tmp/cut.tgz" "$tmp/c.out"
check "a truncated .tgz is refused" test "$rc" != 0
check "... and nothing is at DST" test ! -e "$tmp/c.out"
conv --xenserver "$tmp/vm.ova" "$tmp/x.out"
check "--xenserver on an OVA is refused (unsupported: status 3)" test "$rc" = 3
conv --xenserver "$tmp/p.tgz" -f qcow2 "$tmp/x.out"
check "-f naming another format than vhd refuses the archive" test "$rc" = 1

finish
