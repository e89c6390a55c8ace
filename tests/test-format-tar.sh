#!/bin/bash
# tar, OVA and XenServer VHD chains: an archive is `archive` (unsupported);
# names that escape the extraction directory, links, devices, duplicates
# and unsafe members make it unsafe; malformed headers are bad-archive;
# a XenServer chain whose links check out is not unsafe, one with a gap
# or a wrong parent is.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3
requires gzip

gen() { python3 "$top/tests/images/tar-gen.py" "$@"; }
mkdiff() { python3 "$top/tests/images/vhd-make-differencing.py" "$@"; }

# ---- plain archives --------------------------------------------------
gen ustar "$tmp/plain.tar"
j=$(sniff "$tmp/plain.tar")
check "ustar archive of a text file: unsupported, archive only" \
	jq_is "$j" '[.format, .verdict, ([.findings[].code | select(. != "qemu-probe-differs")] | join(","))] | @tsv' \
	"tar	unsupported	archive"
check "the member list has name, type, size, offset" \
	jq_is "$j" '."format-specific".data.members[0] | [.name, .type, .size, .offset] | @tsv' \
	"readme.txt	file	1200	512"

qemu-img create -q -f qcow2 "$tmp/clean.qcow2" 64M
gen files "$tmp/qcow2.tar" "$tmp/clean.qcow2"
j=$(sniff "$tmp/qcow2.tar")
check "tar of a clean qcow2: member sniffed as qcow2 with qemu's size" \
	jq_is "$j" '[.verdict, .children[0].role, .children[0].name, .children[0].format,
		.children[0].verdict, .children[0]."virtual-size"] | @tsv' \
	"unsupported	member	clean.qcow2	qcow2	safe	$(qemu_vsize "$tmp/clean.qcow2" qcow2)"

qemu-img create -q -f qcow2 -u -b /etc/passwd -F raw "$tmp/backing.qcow2" 64M
gen files "$tmp/backing.tar" "$tmp/backing.qcow2"
expect_sniff "tar of a qcow2 with backing file /etc/passwd: unsafe" \
	"$tmp/backing.tar" unsafe archive nested-unsafe backing-file

# ---- hostile names and member types ---------------------------------
gen traversal "$tmp/traversal.tar"
expect_sniff "member ../../etc/passwd: archive-traversal" \
	"$tmp/traversal.tar" unsafe archive archive-traversal
gen absolute "$tmp/absolute.tar"
expect_sniff "absolute member name: archive-traversal" \
	"$tmp/absolute.tar" unsafe archive-traversal
gen pax-traversal "$tmp/pax-traversal.tar"
j=$(sniff "$tmp/pax-traversal.tar")
check "pax path with ..: archive-traversal on the pax name, not the ustar one" \
	jq_is "$j" '[.verdict, ."format-specific".data.members[0].name,
		(.findings | map(.code) | index("archive-traversal") != null)] | @tsv' \
	"unsafe	vm/../../../root/.ssh/authorized_keys	true"
gen empty-name "$tmp/empty-name.tar"
expect_sniff "empty member name: archive-traversal" \
	"$tmp/empty-name.tar" unsafe archive-traversal
gen symlink "$tmp/symlink.tar"
j=$(sniff "$tmp/symlink.tar")
check "symlink member: archive-link, target reported as link-target" \
	jq_is "$j" '[.verdict, (.findings | map(.code) | index("archive-link") != null),
		.references[0].type, .references[0].name] | @tsv' \
	"unsafe	true	link-target	/etc/shadow"
gen hardlink "$tmp/hardlink.tar"
expect_sniff "hard link member: archive-link" \
	"$tmp/hardlink.tar" unsafe archive-link
gen device "$tmp/device.tar"
expect_sniff "block and char device members: archive-special" \
	"$tmp/device.tar" unsafe archive-special
gen fifo "$tmp/fifo.tar"
expect_sniff "FIFO member: archive-special" "$tmp/fifo.tar" unsafe archive-special
gen duplicate "$tmp/duplicate.tar"
expect_sniff "disk.img and ./disk.img: archive-duplicate" \
	"$tmp/duplicate.tar" unsafe archive-duplicate
gen link-size "$tmp/link-size.tar"
expect_sniff "hard link header with a size (tools disagree on data): bad-archive" \
	"$tmp/link-size.tar" unsafe archive-link bad-archive

# ---- header encodings -------------------------------------------------
gen gnu-long "$tmp/gnu-long.tar"
j=$(sniff "$tmp/gnu-long.tar")
check "GNU long name ('L'): the full name is the member's, archive is clean" \
	jq_is "$j" '[.verdict, (."format-specific".data.members[0].name | length),
		(. | tostring | test("long-name.img"))] | @tsv' \
	"unsupported	213	true"
gen base256 "$tmp/base256.tar"
j=$(sniff "$tmp/base256.tar")
check "GNU base-256 size field: parsed, next member found" \
	jq_is "$j" '[.verdict, (."format-specific".data.members | map(.name + ":" + (.size | tostring)) | join(" "))] | @tsv' \
	"unsupported	big.img:1000 after:1"
python3 - "$tmp/base256.tar" "$tmp/negative.tar" <<'EOF'
import sys
buf = bytearray(open(sys.argv[1], "rb").read())
buf[124:136] = b"\xff" * 12          # a negative base-256 number
b = bytearray(buf[:512]); b[148:156] = b" " * 8
buf[148:156] = b"%06o\0 " % sum(b)
open(sys.argv[2], "wb").write(buf)
EOF
expect_sniff "negative base-256 size: bad-archive" "$tmp/negative.tar" invalid bad-archive
gen pax-size "$tmp/pax-size.tar"
j=$(sniff "$tmp/pax-size.tar")
check "pax size record: used for the member, next member found" \
	jq_is "$j" '[.verdict, (."format-specific".data.members | map(.name) | join(" "))] | @tsv' \
	"unsupported	small after"

# ---- broken archives --------------------------------------------------
gen bad-checksum "$tmp/bad-checksum.tar"
expect_sniff "header checksum mismatch: bad-archive" \
	"$tmp/bad-checksum.tar" invalid bad-archive
head -c 1M /dev/urandom >"$tmp/random.bin"
gen files "$tmp/big.tar" "$tmp/random.bin"
head -c 600000 "$tmp/big.tar" >"$tmp/truncated.tar"
expect_sniff "member data cut short: truncated" "$tmp/truncated.tar" invalid truncated
head -c $((512 + 1048576)) "$tmp/big.tar" >"$tmp/no-end.tar"
expect_sniff "no end-of-archive marker: truncated" "$tmp/no-end.tar" invalid truncated
head -c 700 "$tmp/plain.tar" >"$tmp/half-header.tar"
head -c 1536 "$tmp/plain.tar" >"$tmp/half-header.tar"
head -c 2300 "$tmp/plain.tar" >"$tmp/half-header.tar"
expect_sniff "archive ends inside a header: truncated" "$tmp/half-header.tar" invalid truncated
gen hidden-member "$tmp/hidden.tar"
expect_sniff "member after the end-of-archive marker: bad-archive" \
	"$tmp/hidden.tar" invalid bad-archive
cp "$tmp/plain.tar" "$tmp/trailing.tar"
printf 'junk' >>"$tmp/trailing.tar"
expect_sniff "non-zero bytes after the archive: trailing-data" \
	"$tmp/trailing.tar" unsupported trailing-data

# ---- OVA --------------------------------------------------------------
qemu-img convert -O vmdk -o subformat=streamOptimized "$tmp/clean.qcow2" "$tmp/disk.vmdk"
gen ova "$tmp/clean.ova" "$tmp/disk.vmdk"
j=$(sniff "$tmp/clean.ova")
check "clean OVA: ova true, href reported, vmdk member with qemu's size" \
	jq_is "$j" '[.verdict, ."format-specific".data.ova, .references[0].type,
		.references[0].name, (.children[] | select(.name == "disk.vmdk") |
		.format, .verdict, ."virtual-size")] | @tsv' \
	"unsupported	true	ovf-href	disk.vmdk	vmdk	safe	$(qemu_vsize "$tmp/disk.vmdk" vmdk)"
check "clean OVA: nothing above the archive finding" \
	jq_is "$j" '[.. | objects | .findings? // empty | .[].code |
		select(. != "qemu-probe-differs" and . != "archive")] | join(",")' ""
gen ova-bad-href "$tmp/bad-href.ova" "$tmp/disk.vmdk"
expect_sniff "OVA href ../../etc/passwd and /etc/shadow: archive-traversal" \
	"$tmp/bad-href.ova" unsafe archive-traversal
gen ova-missing "$tmp/missing.ova" "$tmp/disk.vmdk"
expect_sniff "OVA href naming no member: bad-archive" \
	"$tmp/missing.ova" invalid bad-archive
cat >"$tmp/flat.vmdk" <<'EOF'
# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="monolithicFlat"

RW 2048 FLAT "/etc/passwd" 0
EOF
gen ova-flat "$tmp/flat.ova" "$tmp/flat.vmdk"
expect_sniff "OVA with a VMDK flat descriptor naming /etc/passwd: unsafe" \
	"$tmp/flat.ova" unsafe archive nested-unsafe

# ---- XenServer VHD chains ------------------------------------------------
# 2.vhd (dynamic base) <- 1.vhd <- 0.vhd (leaf), each differencing onto
# the next; packed as the nova/os-xenapi tgz
for i in 0 1 2; do
	qemu-img create -q -f vpc -o subformat=dynamic "$tmp/v$i.vhd" 64M
done
mkdiff "$tmp/v1.vhd" "$tmp/v2.vhd"
mkdiff "$tmp/v0.vhd" "$tmp/v1.vhd"
gen chain "$tmp/chain.tar" 0.vhd="$tmp/v0.vhd" 1.vhd="$tmp/v1.vhd" 2.vhd="$tmp/v2.vhd"
gzip -c "$tmp/chain.tar" >"$tmp/chain.tgz"
j=$(sniff "$tmp/chain.tgz")
check "XenServer tgz chain of 3: gzip > tar, chain linked, not unsafe" \
	jq_is "$j" '[.verdict, .children[0].format, .children[0].verdict,
		(.children[0]."format-specific".data."xenserver-chain" |
		.length, (.order | join(",")), .linked, (.links | length))] | @tsv' \
	"unsupported	tar	unsupported	3	0.vhd,1.vhd,2.vhd	true	2"
check "chain members: role chain-member, parent-reference resolved" \
	jq_is "$j" '[.children[0].children[] | .role + ":" + .name + ":" + .verdict] | join(" ")' \
	"chain-member:0.vhd:safe chain-member:1.vhd:safe chain-member:2.vhd:safe"
check "XenServer chain: only archive and compressed findings" \
	jq_is "$j" '[.. | objects | .findings? // empty | .[].code |
		select(. != "qemu-probe-differs")] | unique | join(",")' "archive,compressed"

# a lone differencing VHD in a tar is still unsafe (its parent is nowhere)
gen chain "$tmp/lone.tar" 0.vhd="$tmp/v0.vhd"
expect_sniff "tar with only a differencing 0.vhd: chain-broken, unsafe" \
	"$tmp/lone.tar" unsafe chain-broken nested-unsafe parent-reference

gen chain "$tmp/gap.tar" 0.vhd="$tmp/v0.vhd" 2.vhd="$tmp/v2.vhd"
gzip -c "$tmp/gap.tar" >"$tmp/gap.tgz"
expect_sniff "chain 0.vhd, 2.vhd: chain-gap (and the leaf's parent stays unresolved)" \
	"$tmp/gap.tgz" unsafe chain-gap nested-unsafe
gen chain "$tmp/dup.tar" 0.vhd="$tmp/v1.vhd" 00.vhd="$tmp/v1.vhd" 1.vhd="$tmp/v2.vhd"
expect_sniff "chain with 0.vhd and 00.vhd: chain-gap" "$tmp/dup.tar" unsafe chain-gap

cp "$tmp/v0.vhd" "$tmp/wrong.vhd"
mkdiff "$tmp/wrong.vhd" "$tmp/v1.vhd" 0123456789abcdef0123456789abcdef
gen chain "$tmp/wrong.tar" 0.vhd="$tmp/wrong.vhd" 1.vhd="$tmp/v1.vhd" 2.vhd="$tmp/v2.vhd"
j=$(sniff "$tmp/wrong.tar")
check "chain with a wrong parent UUID: chain-broken, unsafe, only that link fails" \
	jq_is "$j" '[.verdict, (.findings | map(.code) | index("chain-broken") != null),
		."format-specific".data."xenserver-chain".linked,
		([.children[] | .role + ":" + .name] | join(" "))] | @tsv' \
	"unsafe	true	false	member:0.vhd chain-member:1.vhd chain-member:2.vhd"

gen chain "$tmp/base-diff.tar" 0.vhd="$tmp/v0.vhd" 1.vhd="$tmp/v1.vhd"
expect_sniff "chain whose base is differencing: chain-broken" \
	"$tmp/base-diff.tar" unsafe chain-broken
gen chain "$tmp/not-diff.tar" 0.vhd="$tmp/v2.vhd" 1.vhd="$tmp/v2.vhd"
expect_sniff "chain whose leaf is not differencing: chain-broken" \
	"$tmp/not-diff.tar" unsafe chain-broken

qemu-img create -q -f vpc -o subformat=dynamic "$tmp/small.vhd" 16M
mkdiff "$tmp/small.vhd" "$tmp/v2.vhd"
gen chain "$tmp/shrunk.tar" 0.vhd="$tmp/small.vhd" 1.vhd="$tmp/v2.vhd"
expect_sniff "child smaller than its parent: chain-broken" \
	"$tmp/shrunk.tar" unsafe chain-broken

gen chain "$tmp/legacy.tar" snap.vhd="$tmp/v0.vhd" image.vhd="$tmp/v1.vhd" base.vhd="$tmp/v2.vhd" swap.vhd="$tmp/v2.vhd"
j=$(sniff "$tmp/legacy.tar")
check "legacy snap/image/base.vhd chain with swap.vhd: linked" \
	jq_is "$j" '[.verdict, (."format-specific".data."xenserver-chain" |
		(.order | join(",")), .swap, .linked)] | @tsv' \
	"unsupported	snap.vhd,image.vhd,base.vhd	true	true"
gen chain "$tmp/mixed.tar" 0.vhd="$tmp/v1.vhd" base.vhd="$tmp/v2.vhd"
expect_sniff "numbered and legacy names mixed: chain-gap" "$tmp/mixed.tar" unsafe chain-gap

finish
