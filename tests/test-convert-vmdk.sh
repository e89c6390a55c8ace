#!/bin/bash
# VMDK block map (lib/formats/vmdk-map.c): monolithicSparse and
# streamOptimized images made by qemu-img, and a streamOptimized file laid
# out as VMware writes it in one pass (GD at the end, footer), convert to
# raw byte for byte as `qemu-img convert -f vmdk -O raw` does, with one
# thread and with the default; broken tables, grains and markers end in
# exit 1 with a finding, and nothing crashes.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3
requires jq

CF=$B/tests/convert-file
[ -x "$CF" ] || skip "build/tests/convert-file is not built"
gen() { python3 -S "$top/tests/images/vmdk-map.py" "$@"; }
cd "$tmp" || exit 1

# same 'desc' FILE: convert-file's raw equals qemu-img's, 1 and N threads
same() {
	local what=$1 f=$2 t
	rm -f ref.raw out.raw
	if ! qemu-img convert -f vmdk -O raw "$f" ref.raw; then
		fail "$what (qemu-img failed)"
		return
	fi
	for t in 1 ""; do
		rm -f out.raw
		if ! "$CF" vmdk "$f" out.raw $t 2>err.txt; then
			sed 's/^/#   /' err.txt | head -c 2000
			fail "$what (threads ${t:-default}: convert-file failed)"
		elif ! cmp -s ref.raw out.raw; then
			fail "$what (threads ${t:-default}: output differs)"
		else
			pass "$what (threads ${t:-default})"
		fi
	done
}

# refused 'desc' FILE CODE: exit 1 with finding CODE, no crash
refused() {
	local what=$1 f=$2 code=$3 rc
	rm -f out.raw
	"$CF" vmdk "$f" out.raw 2>err.txt
	rc=$?
	if [ $rc -ne 1 ]; then
		sed 's/^/#   /' err.txt | head -c 2000
		fail "$what (exit $rc, want 1)"
	elif ! has_finding "$(sed -n '2,$p' err.txt)" "$code"; then
		sed 's/^/#   /' err.txt | head -c 2000
		fail "$what (no $code finding)"
	else
		pass "$what ($code)"
		sed -n '2,$p' err.txt | jq -r --arg c "$code" \
			'[.findings[] | select(.code == $c) | .detail][0] | "#   " + .'
	fi
}

# ---- valid images ----------------------------------------------------------
gen base base.raw $((64 << 20))
qemu-img convert -q -f raw -O vmdk base.raw sparse.vmdk
qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized base.raw \
	stream.vmdk
same 'monolithicSparse (qemu-img default)' sparse.vmdk
same 'streamOptimized' stream.vmdk
check 'streamOptimized equals the base image' cmp -s base.raw out.raw

# a size that is not a multiple of the 64 KiB grain: the last grain is cut
odd=$(((64 << 20) - 65536 + 3 * 512))
gen base odd.raw $odd
qemu-img convert -q -f raw -O vmdk -o subformat=monolithicSparse odd.raw \
	odd-sparse.vmdk
qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized odd.raw \
	odd-stream.vmdk
same 'monolithicSparse, size not a multiple of the grain' odd-sparse.vmdk
same 'streamOptimized, size not a multiple of the grain' odd-stream.vmdk
check 'odd size: output is the virtual size' \
	test "$(stat -c %s out.raw)" = $odd

# empty and zeroed grains: a fresh image, one written with zero_grain
qemu-img create -q -f vmdk empty.vmdk 100M
same 'empty monolithicSparse' empty.vmdk
qemu-img convert -q -f raw -O vmdk -o zeroed_grain=on base.raw zg.vmdk
qemu-io -f vmdk -c 'write -z 0 8M' -c 'write -z 40M 1M' zg.vmdk >/dev/null
same 'zeroed-grain flag with zeroed grains' zg.vmdk

# VMware's one-pass layout: grain tables between the grains, GD and
# footer at the end; and qemu's stream turned GD_AT_END (vmdk.py)
gen vmware base.raw vmware.vmdk
check 'vmware: qemu-img reads the base image' \
	qemu-img compare -q -f raw -F vmdk base.raw vmware.vmdk
same 'VMware one-pass streamOptimized (GD_AT_END, footer)' vmware.vmdk
gen vmware odd.raw vmware-odd.vmdk
same 'VMware one-pass streamOptimized, odd size' vmware-odd.vmdk
cp stream.vmdk footer.vmdk
python3 -S "$top/tests/images/vmdk.py" footer footer.vmdk
same 'qemu stream with a footer (GD_AT_END)' footer.vmdk

# ---- refused ---------------------------------------------------------------
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "base.raw" 0\n' \
	>desc.vmdk
refused 'a descriptor file' desc.vmdk unsupported-subformat
printf 'COWD' | cat - /dev/zero | head -c 4096 >cowd.vmdk
refused 'a COWD extent' cowd.vmdk unsupported-subformat

cp sparse.vmdk bad.vmdk
gen gd bad.vmdk 1 0x7fffff00
refused 'GD entry past EOF' bad.vmdk entry-out-of-range
cp sparse.vmdk bad.vmdk
gen gte bad.vmdk 3 0x7fffff00
refused 'GT entry past EOF' bad.vmdk entry-out-of-range
cp sparse.vmdk bad.vmdk
gen gte bad.vmdk 5 1
refused 'grain pointing at the descriptor (GTE 1 without zeroed grains)' \
	bad.vmdk table-overlap
cp sparse.vmdk bad.vmdk
gen gte bad.vmdk 3 "$(gen gdsector bad.vmdk)"
refused 'grain pointing into the grain directory' bad.vmdk table-overlap
cp sparse.vmdk bad.vmdk
gen gte bad.vmdk 3 0
same 'a grain table entry set to 0 reads as zeros' bad.vmdk
cp vmware.vmdk bad.vmdk
gen gte bad.vmdk 2 "$(gen gtsector bad.vmdk 1)"
refused 'VMware layout: grain pointing at a grain table' bad.vmdk \
	table-overlap
cp vmware.vmdk bad.vmdk
gen gd bad.vmdk 1 "$(gen gtsector bad.vmdk 0)"
refused 'two GD entries naming one grain table' bad.vmdk table-overlap
cp sparse.vmdk bad.vmdk
gen gd bad.vmdk 0 0
same 'a grain directory entry set to 0 reads as zeros' bad.vmdk

cp stream.vmdk bad.vmdk
gen zcorrupt bad.vmdk 10
refused 'compressed grain with a corrupt zlib stream' bad.vmdk bad-field
cp stream.vmdk bad.vmdk
gen marker bad.vmdk 10 lba=0
refused 'grain marker with a wrong lba' bad.vmdk bad-field
cp stream.vmdk bad.vmdk
gen marker bad.vmdk 10 size=0xffffffff
refused 'grain marker size huge' bad.vmdk bad-field
cp stream.vmdk bad.vmdk
gen marker bad.vmdk 10 size=0
refused 'grain marker size 0' bad.vmdk bad-field
cp stream.vmdk bad.vmdk
gen marker bad.vmdk 1023 size=131060
refused 'last grain: marker size past the end of the file' bad.vmdk \
	entry-out-of-range
cp vmware.vmdk bad.vmdk
gen marker bad.vmdk 1023 size=+1536
refused 'VMware layout: compressed grain running into its grain table' \
	bad.vmdk table-overlap
cp stream.vmdk bad.vmdk
gen gte bad.vmdk 10 1
refused 'compressed grain pointing at the descriptor' bad.vmdk \
	table-overlap
cp vmware.vmdk bad.vmdk
truncate -s -1536 bad.vmdk
refused 'GD_AT_END without a footer' bad.vmdk bad-field
cp sparse.vmdk bad.vmdk
python3 -S "$top/tests/images/vmdk.py" set bad.vmdk flags=0x1000003
refused 'unknown header flags' bad.vmdk unsupported-feature
cp sparse.vmdk bad.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=12345678\nparentFileNameHint="/etc/passwd"\ncreateType="monolithicSparse"\nRW %s SPARSE "bad.vmdk"\n' \
	$(($(stat -c %s base.raw) / 512)) |
	python3 -S "$top/tests/images/vmdk.py" desc bad.vmdk
refused 'a parent link' bad.vmdk backing-file
cp sparse.vmdk bad.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW %s SPARSE "bad.vmdk"\nRW 2048 FLAT "/etc/passwd" 0\n' \
	$(($(stat -c %s base.raw) / 512)) |
	python3 -S "$top/tests/images/vmdk.py" desc bad.vmdk
refused 'a second extent in the descriptor' bad.vmdk external-extent
head -c 100 sparse.vmdk >bad.vmdk
refused 'a truncated header' bad.vmdk truncated
head -c $((32 << 10)) sparse.vmdk >bad.vmdk
refused 'truncated before the grains' bad.vmdk truncated

finish
