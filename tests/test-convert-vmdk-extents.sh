#!/bin/bash
# Multi-file VMDK block map (lib/formats/vmdk-extents-map.c): a text
# descriptor plus the extent files the caller lists. Disks made by qemu-img
# (monolithicFlat, twoGbMaxExtentFlat, twoGbMaxExtentSparse over 5 GiB so
# there are several extents, data across the 2 GiB boundaries) and
# hand-written descriptors (vmfs, FLAT at an offset mixed with SPARSE and
# streamOptimized extents) convert to raw byte for byte as
# `qemu-img convert -f vmdk -O raw` does; broken linkage, sizes, tables,
# names and unsupported variants end in exit 1 with a finding.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires qemu-io
requires python3
requires jq

CX=$B/tests/convert-vmdk-extents
[ -x "$CX" ] || skip "build/tests/convert-vmdk-extents is not built"
gen() { python3 -S "$top/tests/images/vmdk-map.py" "$@"; }
# cmp that reads only the data ranges (plain cmp reads GiBs of holes)
scmp() { python3 -S "$top/tests/images/sparse-cmp.py" "$@"; }
cd "$tmp" || exit 1

# the extent files a descriptor names, in order (the test's "caller")
extents_of() { sed -n 's/^RW [0-9]* [A-Z]* "\([^"]*\)".*/\1/p' "$1"; }

# same 'desc' DESCRIPTOR [EXTENT...]: our raw equals qemu-img's, 1 and N
# threads, and to a stream
same() {
	local what=$1 t
	shift
	rm -f ref.raw out.raw
	if ! qemu-img convert -f vmdk -O raw "$1" ref.raw 2>err.txt; then
		sed 's/^/#   /' err.txt
		fail "$what (qemu-img failed)"
		return
	fi
	for t in 1 ""; do
		rm -f out.raw
		if ! IMGWARD_THREADS=$t "$CX" out.raw "$@" 2>err.txt; then
			sed 's/^/#   /' err.txt | head -c 2000
			fail "$what (threads ${t:-default}: failed)"
		elif ! scmp ref.raw out.raw; then
			fail "$what (threads ${t:-default}: output differs)"
		else
			pass "$what (threads ${t:-default})"
		fi
	done
}

# refused 'desc' CODE DESCRIPTOR [EXTENT...]: exit 1 with finding CODE
refused() {
	local what=$1 code=$2 rc
	shift 2
	rm -f out.raw
	"$CX" out.raw "$@" 2>err.txt
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

# ---- inputs ----------------------------------------------------------------
# a 5 GiB sparse raw disk: 64 MiB of random, zero and patterned extents at
# 0, across the 2 GiB and 4 GiB extent boundaries, and a pattern near the
# end
gen base chunk.raw $((64 << 20))
truncate -s 5G big.raw
for at in 0 $((2048 - 32)) $((4096 - 7)); do
	dd if=chunk.raw of=big.raw bs=1M seek=$at conv=notrunc status=none
done
qemu-io -f raw -c 'write -P 0x5a 5119M 1M' -c 'write -z 1M 1M' big.raw >/dev/null

# ---- qemu-img's subformats -------------------------------------------------
for sf in monolithicFlat twoGbMaxExtentFlat twoGbMaxExtentSparse; do
	qemu-img convert -q -f raw -O vmdk -o subformat=$sf big.raw $sf.vmdk
	# shellcheck disable=SC2046
	same "$sf ($(extents_of $sf.vmdk | wc -l) extents)" $sf.vmdk \
		$(extents_of $sf.vmdk)
done
# made empty and written by qemu-io, the way a guest writes
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse w.vmdk 4500M
qemu-io -f vmdk -c 'write -P 0xab 0 1M' -c 'write -P 0x11 2047M 2M' \
	-c 'write -P 0x22 4499M 64k' -c 'write -z 2048M 64k' w.vmdk >/dev/null
# shellcheck disable=SC2046
same "twoGbMaxExtentSparse written by qemu-io" w.vmdk $(extents_of w.vmdk)

# ---- hand-written descriptors ----------------------------------------------
# vmfs: one VMFS extent (flat at 0)
head -c $((8 << 20)) chunk.raw >v-flat.vmdk
cat >v.vmdk <<EOF
# Disk DescriptorFile
version=1
CID=12345678
parentCID=ffffffff
createType="vmfs"
# Extent description
RW 16384 VMFS "v-flat.vmdk"
EOF
same "vmfs" v.vmdk v-flat.vmdk

# FLAT at an offset into a bigger file, a monolithicSparse extent, a
# streamOptimized extent (qemu layout), a VMFS extent, a second FLAT in
# a sub-directory name
head -c $((24 << 20)) chunk.raw >m-a.raw
dd if=/dev/urandom of=s.raw bs=1M count=9 status=none
qemu-io -f raw -c 'write -z 1M 3M' s.raw >/dev/null
qemu-img convert -q -f raw -O vmdk s.raw m-s.vmdk
qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized s.raw m-z.vmdk
tail -c $((5 << 20)) chunk.raw >m-b.raw
mkdir -p sub
cp m-a.raw sub/m-a.raw
cat >m.vmdk <<EOF
# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="twoGbMaxExtentSparse"

# Extent description
RW 8192 FLAT "m-a.raw" 2049
RW 18432 SPARSE "m-s.vmdk"
RW 18432 SPARSE "m-z.vmdk"
RW 10240 VMFS "m-b.raw"
RW 100 FLAT "sub/m-a.raw" 7
EOF
same "FLAT at offsets, SPARSE, streamOptimized and VMFS extents" \
	m.vmdk m-a.raw m-s.vmdk m-z.vmdk m-b.raw sub/m-a.raw

# ---- linkage ---------------------------------------------------------------
S=twoGbMaxExtentSparse
refused "wrong order" chain-broken $S.vmdk $S-s002.vmdk $S-s001.vmdk $S-s003.vmdk
refused "missing extent" chain-broken $S.vmdk $S-s001.vmdk $S-s002.vmdk
refused "extra file" chain-broken $S.vmdk $S-s001.vmdk $S-s002.vmdk $S-s003.vmdk m-b.raw
cp $S-s002.vmdk renamed.vmdk
refused "renamed file" chain-broken $S.vmdk $S-s001.vmdk renamed.vmdk $S-s003.vmdk
refused "no extent file given" chain-broken $S.vmdk

# ---- sizes -----------------------------------------------------------------
F=twoGbMaxExtentFlat
mkdir -p short
head -c $((1 << 30)) $F-f002.vmdk >short/$F-f002.vmdk
refused "FLAT extent past the end of its file" truncated \
	$F.vmdk $F-f001.vmdk short/$F-f002.vmdk $F-f003.vmdk
sed 's/^RW 8192 FLAT "m-a.raw" 2049/RW 8192 FLAT "m-a.raw" 40961/' m.vmdk >past.vmdk
refused "FLAT offset past the end of its file" truncated \
	past.vmdk m-a.raw m-s.vmdk m-z.vmdk m-b.raw m-a.raw
sed 's/^RW 18432 SPARSE "m-s.vmdk"/RW 18433 SPARSE "m-s.vmdk"/' m.vmdk >cap.vmdk
refused "SPARSE capacity differs from the line" chain-broken \
	cap.vmdk m-a.raw m-s.vmdk m-z.vmdk m-b.raw m-a.raw

# ---- broken sparse extents -------------------------------------------------
mkdir -p gte
cp $S-s002.vmdk gte/
gen gte gte/$S-s002.vmdk 1 0x7fffffff
refused "grain table entry past the extent's end" entry-out-of-range \
	$S.vmdk $S-s001.vmdk gte/$S-s002.vmdk $S-s003.vmdk
if jq -e '[.findings[] | .detail | test("^extent 2 ")] | any' \
	<(sed -n '2,$p' err.txt) >/dev/null; then
	pass "the finding names the extent"
else
	fail "the finding names the extent"
fi
mkdir -p gd
cp $S-s003.vmdk gd/
gen gd gd/$S-s003.vmdk 0 1
refused "grain table over the header" table-overlap \
	$S.vmdk $S-s001.vmdk $S-s002.vmdk gd/$S-s003.vmdk
mkdir -p notkdmv
head -c 1M chunk.raw >notkdmv/$S-s001.vmdk
refused "SPARSE extent that is not a sparse file" bad-field \
	$S.vmdk notkdmv/$S-s001.vmdk $S-s002.vmdk $S-s003.vmdk
# VMware's one-pass stream (GD at the end): qemu reads its footer at the
# descriptor's size
gen vmware s.raw m-w.vmdk
sed 's/"m-z.vmdk"/"m-w.vmdk"/' m.vmdk >w1.vmdk
refused "stream-optimized extent with the GD at the end" unsupported-feature \
	w1.vmdk m-a.raw m-s.vmdk m-w.vmdk m-b.raw m-a.raw

# ---- the descriptor --------------------------------------------------------
sed 's/^parentCID=ffffffff/parentCID=12345678/' $S.vmdk >parent.vmdk
refused "parentCID set (a snapshot)" parent-reference \
	parent.vmdk $S-s001.vmdk $S-s002.vmdk $S-s003.vmdk
{ cat v.vmdk; echo 'parentFileNameHint="base.vmdk"'; } >hint.vmdk
refused "parentFileNameHint" backing-file hint.vmdk v-flat.vmdk
sed 's/^RW 16384 VMFS "v-flat.vmdk"/&\nRW 2048 ZERO/' v.vmdk >zero.vmdk
refused "ZERO extent (qemu skips it)" unsupported-feature zero.vmdk v-flat.vmdk
sed 's/^RW 16384 VMFS/RDONLY 16384 VMFS/' v.vmdk >ro.vmdk
refused "RDONLY extent (qemu skips it)" unsupported-feature ro.vmdk v-flat.vmdk
sed 's/^createType="vmfs"/createType="vmfsSparse"/' v.vmdk >vs.vmdk
refused "createType vmfsSparse" unsupported-subformat vs.vmdk v-flat.vmdk
sed 's/^RW 16384 VMFS "v-flat.vmdk"/RW 16384 VMFSSPARSE "v-flat.vmdk"/' v.vmdk >vss.vmdk
refused "VMFSSPARSE extent" unsupported-feature vss.vmdk v-flat.vmdk
sed 's/^RW 16384 VMFS "v-flat.vmdk"/\n&/' v.vmdk >blank.vmdk
refused "blank line before an extent (qemu reads it twice)" bad-descriptor \
	blank.vmdk v-flat.vmdk
sed 's/^RW 16384 VMFS "v-flat.vmdk"/RW 16384 VMFS "v-flat.vmdk" 0/' v.vmdk >bad.vmdk
refused "extent line qemu rejects" bad-descriptor bad.vmdk v-flat.vmdk
refused "a sparse file as the descriptor" unsupported-subformat m-s.vmdk
{ cat v.vmdk; printf '\0'; head -c 4096 /dev/urandom; } >junk.vmdk
refused "bytes after the descriptor text" bad-descriptor junk.vmdk v-flat.vmdk

for name in /tmp/v-flat.vmdk ../v-flat.vmdk 'sub/../v-flat.vmdk'; do
	sed "s|\"v-flat.vmdk\"|\"$name\"|" v.vmdk >name.vmdk
	refused "extent named $name" external-extent name.vmdk v-flat.vmdk
done
sed 's|"v-flat.vmdk"|"json:{\"file.filename\":\"v-flat.vmdk\"}"|' v.vmdk >name.vmdk
refused "extent named json:{...} with quotes" bad-descriptor name.vmdk v-flat.vmdk
for name in 'json:{file.filename:v-flat.vmdk}' nbd:localhost:10809; do
	sed "s|\"v-flat.vmdk\"|\"$name\"|" v.vmdk >name.vmdk
	refused "extent named ${name%%:*}:..." protocol-reference name.vmdk v-flat.vmdk
done

# 65 extents: more than the mapper takes
{
	printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n'
	printf 'createType="twoGbMaxExtentFlat"\n'
	for i in $(seq 1 65); do echo "RW 8 FLAT \"x$i.raw\" 0"; done
} >many.vmdk
refused "65 extent lines" table-too-large many.vmdk
files=()
for i in $(seq 1 65); do head -c 4096 chunk.raw >x$i.raw; files+=(x$i.raw); done
refused "65 extent files given" table-too-large many.vmdk "${files[@]}"
head -n 69 many.vmdk >sixty4.vmdk
same "64 extents" sixty4.vmdk "${files[@]:0:64}"

# ---- no crash, no leak -----------------------------------------------------
if command -v valgrind >/dev/null 2>&1; then
	vg() {
		local what=$1
		shift
		rm -f out.raw
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$CX" out.raw "$@" \
			2>vg.txt
		if [ $? -eq 99 ]; then
			sed 's/^/#   /' vg.txt | head -40
			fail "valgrind: $what"
		else
			pass "valgrind: $what"
		fi
	}
	vg "mixed extents" m.vmdk m-a.raw m-s.vmdk m-z.vmdk m-b.raw sub/m-a.raw
	vg "grain table entry past the end" $S.vmdk $S-s001.vmdk gte/$S-s002.vmdk $S-s003.vmdk
	vg "wrong order" $S.vmdk $S-s002.vmdk $S-s001.vmdk $S-s003.vmdk
	vg "json: name" name.vmdk v-flat.vmdk
fi

finish
