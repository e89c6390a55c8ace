#!/bin/bash
# Legacy formats qemu can open but imgward does not accept: parallels,
# bochs, cloop, dmg. Clean images are unsupported (unsupported-format)
# with qemu's virtual size; impossible headers (several past qemu CVEs)
# are invalid.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3

. "$top/tests/images/poke.sh"
gen() { python3 "$top/tests/images/legacy.py" "$@"; }

# legacy_ok 'description' FILE FMT: unsupported, format FMT, only the
# unsupported-format finding (plus qemu-probe-differs for dmg, which
# qemu picks by name), virtual size as qemu-img info -f FMT says
legacy_ok() {
	local what=$1 f=$2 fmt=$3 j ok=1
	j=$(sniff "$f")
	jq_is "$j" .verdict unsupported || ok=0
	jq_is "$j" .format "$fmt" || ok=0
	jq_is "$j" '[.findings[].code | select(. != "qemu-probe-differs")] | join(",")' unsupported-format || ok=0
	jq_is "$j" '."virtual-size"' "$(qemu_vsize "$f" "$fmt" 2>/dev/null)" || ok=0
	if [ $ok = 1 ]; then pass "$what"; else echo "#   $j"; fail "$what"; fi
}
# qemu_refuses 'description' FILE FMT: qemu-img info -f FMT fails too
qemu_refuses() {
	check "$1" eval "! qemu-img info -f '$3' '$2' >/dev/null 2>&1"
}

# --- parallels ------------------------------------------------------------
qemu-img create -q -f parallels "$tmp/p.img" 100M
qemu-img create -q -f parallels -o cluster_size=64K "$tmp/p64k.img" 1000M
legacy_ok 'parallels (qemu-img create) is unsupported' "$tmp/p.img" parallels
legacy_ok 'parallels with 64 KiB clusters is unsupported' "$tmp/p64k.img" parallels

# the old magic keeps a 32-bit sector count: qemu masks the high half
cp "$tmp/p.img" "$tmp/pold.img"
poke_str "$tmp/pold.img" 0 WithoutFreeSpace
poke "$tmp/pold.img" 36 8 0x100032000
legacy_ok 'parallels old magic: 32-bit sector count as qemu' "$tmp/pold.img" parallels

cp "$tmp/p.img" "$tmp/ptracks.img"
poke "$tmp/ptracks.img" 28 4 0
expect_sniff 'parallels tracks=0 is invalid (CVE-2014-0142)' "$tmp/ptracks.img" invalid bad-field unsupported-format
qemu_refuses 'qemu refuses parallels tracks=0' "$tmp/ptracks.img" parallels

cp "$tmp/p.img" "$tmp/pbat.img"
poke "$tmp/pbat.img" 32 4 0x7fffffff
expect_sniff 'parallels huge catalog is invalid (CVE-2014-0143)' "$tmp/pbat.img" invalid table-too-large

cp "$tmp/p.img" "$tmp/pbateof.img"
poke "$tmp/pbateof.img" 32 4 1000000
expect_sniff 'parallels catalog past EOF is invalid' "$tmp/pbateof.img" invalid table-past-eof

cp "$tmp/p.img" "$tmp/pv3.img"
poke "$tmp/pv3.img" 16 4 3
expect_sniff 'parallels version 3 is unsupported' "$tmp/pv3.img" unsupported unsupported-version

cp "$tmp/p.img" "$tmp/pdirty.img"
poke "$tmp/pdirty.img" 44 4 0x746f6e59
expect_sniff 'parallels in-use flag is reported dirty' "$tmp/pdirty.img" unsupported dirty

cp "$tmp/p.img" "$tmp/pext.img"
poke "$tmp/pext.img" 56 8 0x0080000000000000
expect_sniff 'parallels format extension offset overflowing is invalid' "$tmp/pext.img" invalid bad-field

cp "$tmp/p.img" "$tmp/pexteof.img"
poke "$tmp/pexteof.img" 56 8 0x100000
expect_sniff 'parallels format extension past EOF is invalid' "$tmp/pexteof.img" invalid table-past-eof

head -c 40 "$tmp/p.img" > "$tmp/ptrunc.img"
expect_sniff 'truncated parallels header is invalid' "$tmp/ptrunc.img" invalid truncated

# --- bochs ---------------------------------------------------------------
gen bochs "$tmp/b.img"
gen bochs "$tmp/b1.img" 0x10000
legacy_ok 'bochs v2 redolog is unsupported' "$tmp/b.img" bochs
legacy_ok 'bochs v1 redolog is unsupported' "$tmp/b1.img" bochs

cp "$tmp/b.img" "$tmp/bextent.img"
poke "$tmp/bextent.img" 80 4 0
expect_sniff 'bochs extent size 0 is invalid (CVE-2014-0142)' "$tmp/bextent.img" invalid bad-field
qemu_refuses 'qemu refuses bochs extent size 0' "$tmp/bextent.img" bochs

cp "$tmp/b.img" "$tmp/bcatalog.img"
poke "$tmp/bcatalog.img" 72 4 0x200000
expect_sniff 'bochs catalog over 1 Mi entries is invalid' "$tmp/bcatalog.img" invalid table-too-large

cp "$tmp/b.img" "$tmp/bsmall.img"
poke "$tmp/bsmall.img" 72 4 10
expect_sniff 'bochs catalog too small for the disk is invalid' "$tmp/bsmall.img" invalid impossible-size
qemu_refuses 'qemu refuses a bochs catalog too small' "$tmp/bsmall.img" bochs

cp "$tmp/b.img" "$tmp/bcateof.img"
poke "$tmp/bcateof.img" 68 4 0x100000
expect_sniff 'bochs catalog past EOF is invalid' "$tmp/bcateof.img" invalid table-past-eof

cp "$tmp/b.img" "$tmp/bundo.img"
poke_hex "$tmp/bundo.img" 48 "$(printf 'Undoable' | od -An -tx1 | tr -d ' \n')00"
expect_sniff 'bochs undoable redolog is unsupported' "$tmp/bundo.img" unsupported unsupported-subformat

head -c 100 "$tmp/b.img" > "$tmp/btrunc.img"
expect_sniff 'truncated bochs header is invalid' "$tmp/btrunc.img" invalid truncated

# --- cloop ---------------------------------------------------------------
gen cloop "$tmp/c.img"
legacy_ok 'cloop V2.0 is unsupported' "$tmp/c.img" cloop

cp "$tmp/c.img" "$tmp/chuge.img"
poke "$tmp/chuge.img" 132 4 0x20000000 be
expect_sniff 'cloop huge n_blocks is invalid (CVE-2014-0144)' "$tmp/chuge.img" invalid table-too-large
qemu_refuses 'qemu refuses cloop huge n_blocks' "$tmp/chuge.img" cloop

cp "$tmp/c.img" "$tmp/cbs.img"
poke "$tmp/cbs.img" 128 4 1000 be
expect_sniff 'cloop block size not a multiple of 512 is invalid' "$tmp/cbs.img" invalid bad-field

cp "$tmp/c.img" "$tmp/corder.img"
poke "$tmp/corder.img" $((136 + 16)) 8 1 be
expect_sniff 'cloop offsets going backwards are invalid' "$tmp/corder.img" invalid bad-field
qemu_refuses 'qemu refuses cloop offsets going backwards' "$tmp/corder.img" cloop

cp "$tmp/c.img" "$tmp/cbig.img"
poke "$tmp/cbig.img" $((136 + 16)) 8 0x10000000 be
poke "$tmp/cbig.img" $((136 + 24)) 8 0x10000010 be
expect_sniff 'cloop compressed block over 128 MiB is invalid' "$tmp/cbig.img" invalid bad-field
qemu_refuses 'qemu refuses a cloop compressed block over 128 MiB' "$tmp/cbig.img" cloop

cp "$tmp/c.img" "$tmp/clast.img"
poke "$tmp/clast.img" $((136 + 24)) 8 0x100000 be
expect_sniff 'cloop block past EOF is invalid' "$tmp/clast.img" invalid entry-out-of-range

cp "$tmp/c.img" "$tmp/ctable.img"
poke "$tmp/ctable.img" 132 4 100000 be
expect_sniff 'cloop offsets table past EOF is invalid' "$tmp/ctable.img" invalid table-past-eof

head -c 130 "$tmp/c.img" > "$tmp/ctrunc.img"
expect_sniff 'truncated cloop header is invalid' "$tmp/ctrunc.img" invalid truncated

# --- dmg -------------------------------------------------------------------
gen dmg "$tmp/d.img"
legacy_ok 'dmg with a koly trailer is unsupported' "$tmp/d.img" dmg
size=$(stat -c %s "$tmp/d.img")
koly=$((size - 512))

cp "$tmp/d.img" "$tmp/ddata.img"
poke "$tmp/ddata.img" $((koly + 0x18)) 8 $((size * 2)) be
expect_sniff 'dmg data fork past the trailer is invalid' "$tmp/ddata.img" invalid entry-out-of-range
qemu_refuses 'qemu refuses dmg data fork past the trailer' "$tmp/ddata.img" dmg

cp "$tmp/d.img" "$tmp/dxml.img"
poke "$tmp/dxml.img" $((koly + 0xe0)) 8 0x7fffffffffffffff be
expect_sniff 'dmg property list past the trailer is invalid' "$tmp/dxml.img" invalid entry-out-of-range

cp "$tmp/d.img" "$tmp/dsectors.img"
poke "$tmp/dsectors.img" $((koly + 0x1ec)) 8 0x8000000000000000 be
expect_sniff 'dmg negative sector count is invalid' "$tmp/dsectors.img" invalid impossible-size
qemu_refuses 'qemu refuses dmg negative sector count' "$tmp/dsectors.img" dmg

cp "$tmp/d.img" "$tmp/dnone.img"
poke "$tmp/dnone.img" $((koly + 0xe0)) 8 0 be
expect_sniff 'dmg without block tables is invalid' "$tmp/dnone.img" invalid bad-field

# lib/qemu-probe.c must pick what qemu-img's own auto-detection picks
for f in p pold b b1 c d bundo; do
	check "qemu-probe of $f.img agrees with qemu-img" \
		jq_is "$(sniff "$tmp/$f.img")" '."qemu-probe"' \
		"$(qemu-img info --output=json "$tmp/$f.img" 2>/dev/null | jq -r .format)"
done

# a raw disk ending in anything but a trailer is not dmg
head -c "$koly" "$tmp/d.img" > "$tmp/dcut.img"
check 'file without koly trailer is not dmg' jq_is "$(sniff "$tmp/dcut.img")" .format raw

finish
