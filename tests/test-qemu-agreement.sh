#!/bin/bash
# One place that holds imgward to qemu-img, the oracle, on every clean
# image qemu-img can create: the same format, the same virtual size and
# cluster size, and - for qemu-probe - the same pick as qemu's own
# auto-detection (qemu-img info without -f). Each image goes through the
# whole broker + sandboxed helper path.
. "$(dirname "$0")/functions.sh"
requires jq
requires qemu-img

# agree NAME QEMU_FORMAT FILE: imgward and qemu-img agree on FILE
agree() {
	local name=$1 qfmt=$2 file=$3 ok=1 ours theirs auto want_fmt
	ours=$("$IMGWARD" probe --json "$file" 2>"$tmp/err")
	theirs=$(qemu-img info -f "$qfmt" --output=json "$file" 2>/dev/null) || {
		fail "$name: qemu-img info -f $qfmt failed"; return; }
	auto=$(qemu-img info --output=json "$file" 2>/dev/null | jq -r .format)
	want_fmt=$qfmt
	[ "$qfmt" = vpc ] && want_fmt=vhd
	jq_is "$ours" .format "$want_fmt" || ok=0
	jq_is "$ours" '."virtual-size"' "$(jq -r '."virtual-size"' <<<"$theirs")" || ok=0
	if [ "$(jq -r '."cluster-size" // empty' <<<"$theirs")" != "" ]; then
		jq_is "$ours" '."cluster-size"' "$(jq -r '."cluster-size"' <<<"$theirs")" || ok=0
	fi
	jq_is "$ours" '."qemu-probe"' "$auto" || ok=0
	if [ $ok = 1 ]; then pass "$name agrees with qemu-img"; else
		echo "#   ours: $(head -c 600 <<<"$ours")"; fail "$name agrees with qemu-img"; fi
}
# verdict NAME FILE VERDICT
verdict() {
	local out
	out=$("$IMGWARD" probe --json "$2" 2>/dev/null)
	check "$1 is $3" jq_is "$out" .verdict "$3"
}

# a base with data, so conversions produce allocated clusters
dd if=/dev/urandom of="$tmp/base.raw" bs=64K count=40 status=none
truncate -s 70M "$tmp/base.raw"
dd if=/dev/urandom of="$tmp/base.raw" bs=64K count=8 seek=800 conv=notrunc status=none

i=0
mk() { # FORMAT OPTIONS SIZE|- : create (or convert when SIZE is -)
	local fmt=$1 opts=$2 size=$3 f
	i=$((i + 1))
	f=$tmp/img$i.$fmt
	if [ "$size" = - ]; then
		qemu-img convert -q -f raw -O "$fmt" ${opts:+-o "$opts"} "$tmp/base.raw" "$f"
	else
		qemu-img create -q -f "$fmt" ${opts:+-o "$opts"} "$f" "$size"
	fi
	echo "$f"
}

for cs in 512 4096 65536 2M; do
	f=$(mk qcow2 "cluster_size=$cs" -); agree "qcow2 cluster_size=$cs" qcow2 "$f"; verdict "qcow2 cluster_size=$cs" "$f" safe
done
f=$(mk qcow2 compat=0.10 -);                       agree "qcow2 v2" qcow2 "$f"
f=$(mk qcow2 extended_l2=on,cluster_size=128K -);  agree "qcow2 extended L2" qcow2 "$f"
f=$(mk qcow2 compression_type=zstd 1G);            agree "qcow2 zstd" qcow2 "$f"
f=$(mk qcow2 lazy_refcounts=on 3G);                agree "qcow2 lazy refcounts" qcow2 "$f"
f=$(mk qcow2 preallocation=metadata 100M);         agree "qcow2 preallocated" qcow2 "$f"
f=$(mk qcow2 "" 1023);                             agree "qcow2 odd size" qcow2 "$f"
f=$(mk qcow "" 100M);                              agree "qcow (v1)" qcow "$f"; verdict "qcow (v1)" "$f" unsupported
f=$(mk qed "" 100M);                               agree "qed" qed "$f"; verdict "qed" "$f" unsupported
f=$(mk vmdk "" 1G);                                agree "vmdk monolithicSparse" vmdk "$f"; verdict "vmdk monolithicSparse" "$f" safe
f=$(mk vmdk subformat=streamOptimized -);          agree "vmdk streamOptimized" vmdk "$f"; verdict "vmdk streamOptimized" "$f" safe
f=$(mk vpc "" 1G);                                 agree "vhd dynamic" vpc "$f"; verdict "vhd dynamic" "$f" safe
f=$(mk vpc force_size=on 1000M);                   agree "vhd dynamic force_size" vpc "$f"
f=$(mk vpc subformat=fixed 64M);                   agree "vhd fixed" vpc "$f"; verdict "vhd fixed" "$f" safe
f=$(mk vhdx "" 1G);                                agree "vhdx" vhdx "$f"; verdict "vhdx" "$f" safe
f=$(mk vhdx block_size=1M -);                      agree "vhdx 1M blocks" vhdx "$f"
f=$(mk vdi "" 1G);                                 agree "vdi dynamic" vdi "$f"; verdict "vdi dynamic" "$f" safe
f=$(mk vdi static=on 64M);                         agree "vdi static" vdi "$f"
f=$(mk parallels "" 100M);                         agree "parallels" parallels "$f"; verdict "parallels" "$f" unsupported
f=$(mk raw "" 100M);                               agree "raw" raw "$f"; verdict "raw" "$f" safe
# qemu-img times PBKDF2 with the thread CPU clock, which fails now and then
# on a loaded VM ("Unable to get accurate CPU usage"): retry.
for attempt in 1 2 3 4 5; do
	qemu-img create -q -f luks --object secret,id=s0,data=pw \
		-o key-secret=s0,iter-time=10 "$tmp/l.luks" 64M 2>/dev/null && break
	rm -f "$tmp/l.luks"
done
if [ -s "$tmp/l.luks" ]; then
	ours=$("$IMGWARD" probe --json "$tmp/l.luks")
	check "luks: encrypted and unsupported" jq_is "$ours" .verdict unsupported
	check "luks: virtual size as qemu-img" jq_is "$ours" '."virtual-size"' \
		"$(qemu-img info --object secret,id=s0,data=pw --image-opts --output=json \
			driver=luks,key-secret=s0,file.filename="$tmp/l.luks" | jq -r '."virtual-size"')"
else
	echo "# qemu-img could not create a LUKS image here; test-format-luks.sh covers LUKS"
fi

# qemu's auto-probe on polyglots: the emulation must pick what qemu picks.
# A valid VDI whose first bytes (free text in VDI) are a qcow2 magic: both
# drivers score 100; qemu opens it as whatever its tie rule picks.
qemu-img create -q -f vdi "$tmp/v.vdi" 1M
cp "$tmp/v.vdi" "$tmp/poly.img"
printf 'QFI\xfb\0\0\0\3' | dd of="$tmp/poly.img" bs=1 conv=notrunc status=none
out=$("$IMGWARD" probe --json "$tmp/poly.img")
check "qcow2+vdi polyglot: qemu-probe equals qemu's own pick" \
	jq_is "$out" '."qemu-probe"' "$(qemu-img info --output=json "$tmp/poly.img" | jq -r .format)"
check "qcow2+vdi polyglot: unsafe, multiple-formats" has_finding "$out" multiple-formats
# Text descriptors: qemu skips comment and space-only lines (not empty
# ones) before "version=". Where qemu then fails to open the descriptor,
# its error names the driver it picked.
printf '# comment\n\nversion=1\n' > "$tmp/desc-blank"
out=$("$IMGWARD" probe --json "$tmp/desc-blank")
check "an empty line before version=: qemu probes raw, and so do we" \
	jq_is "$out" '."qemu-probe"' "$(qemu-img info --output=json "$tmp/desc-blank" | jq -r .format)"
printf '   \nversion=2\r\n' > "$tmp/desc-spaces"
out=$("$IMGWARD" probe --json "$tmp/desc-spaces")
check "a space-only line before version=: we say vmdk" jq_is "$out" '."qemu-probe"' vmdk
check "... and qemu opened it as VMDK" sh -c "qemu-img info '$tmp/desc-spaces' 2>&1 | grep -q VMDK"
: > "$tmp/empty"
out=$("$IMGWARD" probe --json "$tmp/empty")
check "an empty file is raw, size 0, like qemu" jq_is "$out" '[.format, ."virtual-size"] | join(" ")' "raw 0"

finish
