#!/bin/bash
# The VHD differencing chain mapper (lib/formats/vhd-chain-map.c) with the
# engine reading several fds: chains built by tests/images/vhd-chain.py
# (qemu-img cannot make differencing VHDs) convert to the disk a separate
# Python model computes; chains whose base or empty children qemu-img made
# agree with `qemu-img convert`; broken links and tables are refused with
# the right finding, never a crash.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3
requires jq

CHAIN=$B/tests/convert-chain
[ -x "$CHAIN" ] || skip "build/tests/convert-chain is not built"
GEN="python3 $top/tests/images/vhd-chain.py"
MKDIFF="python3 $top/tests/images/vhd-make-differencing.py"
VX="python3 $top/tests/images/vxmap.py"

# run_chain OUT FILE...: convert, findings on $tmp/err
run_chain() { "$CHAIN" "$@" 2>"$tmp/err"; }

# converts 'description' EXPECTED FILE...: our raw equals EXPECTED, with
# one worker thread, the default, and streamed to stdout
converts() {
	local what=$1 want=$2 th ok=1
	shift 2
	for th in 1 ""; do
		if ! IMGWARD_THREADS=$th run_chain "$tmp/out.raw" "$@"; then
			echo "#   threads=${th:-default}: $(head -c 600 "$tmp/err")"
			ok=0
		elif ! cmp -s "$tmp/out.raw" "$want"; then
			echo "#   threads=${th:-default}: output differs: $(cmp "$tmp/out.raw" "$want" 2>&1 | head -c 200)"
			ok=0
		fi
	done
	if ! "$CHAIN" - "$@" 2>/dev/null | cmp -s - "$want"; then
		echo "#   streamed: output differs"
		ok=0
	fi
	if [ $ok = 1 ]; then pass "$what"; else fail "$what"; fi
}

# refused 'description' FINDING FILE...: exit 1 with FINDING
refused() {
	local what=$1 code=$2 rc j
	shift 2
	run_chain "$tmp/out.raw" "$@"
	rc=$?
	j=$(sed -n '2,$p' "$tmp/err")
	if [ $rc = 1 ] && has_finding "$j" "$code"; then
		pass "$what"
	else
		echo "#   exit $rc, want 1 with $code: $(head -c 600 "$tmp/err")"
		fail "$what"
	fi
}

# scenario NAME: generate it; its files in $files (leaf first)
scenario() {
	$GEN "$tmp" "$1" || return 1
	mapfile -t files <"$tmp/$1.files"
}

# ---- valid chains against the Python model ----------------------------
for s in dyn1:"dynamic base + 1 child (bytes under clear bits ignored)" \
	fixed2:"fixed base + 2 children, 512 KiB and 4 KiB blocks" \
	partial:"child overriding parts of parent blocks (partial bitmaps)" \
	smaller-parent:"parent smaller than its child, larger base cut" \
	big:"64 MiB, 3 layers, runs across blocks and chunks" \
	layers32:"32 layers (the cap)"; do
	name=${s%%:*}
	if scenario "$name"; then
		converts "${s#*:}" "$tmp/$name.raw" "${files[@]}"
	else
		fail "${s#*:} (generator)"
	fi
	rm -f "$tmp/$name"*
done

# ---- against qemu-img: bases it made, children that change nothing or
# whose blocks it wrote (qemu sets a block's whole bitmap) ---------------
$VX base "$tmp/base.raw" $((24 << 20)) 3
$VX base "$tmp/top.raw" $((24 << 20)) 4
for sub in dynamic fixed; do
	qemu-img convert -f raw -O vpc -o subformat=$sub "$tmp/base.raw" "$tmp/b.vhd"
	qemu-img convert -f vpc -O raw "$tmp/b.vhd" "$tmp/ref.raw"
	converts "$sub base alone, made by qemu-img" "$tmp/ref.raw" "$tmp/b.vhd"
	# an empty child of the same geometry
	qemu-img create -q -f vpc "$tmp/c.vhd" $((24 << 20))
	$MKDIFF "$tmp/c.vhd" "$tmp/b.vhd"
	converts "empty child over a qemu-img $sub base" "$tmp/ref.raw" "$tmp/c.vhd" "$tmp/b.vhd"
	# a child with data: where qemu-img map says it holds data, its
	# bytes; elsewhere the base's
	qemu-img convert -f raw -O vpc "$tmp/top.raw" "$tmp/c.vhd"
	qemu-img map -f vpc --output=json "$tmp/c.vhd" >"$tmp/map.json"
	qemu-img convert -f vpc -O raw "$tmp/c.vhd" "$tmp/top-ref.raw"
	python3 - "$tmp/map.json" "$tmp/ref.raw" "$tmp/top-ref.raw" "$tmp/want.raw" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
base, top = open(sys.argv[2], 'rb').read(), open(sys.argv[3], 'rb').read()
out = bytearray(base[:len(top)].ljust(len(top), b'\0'))
for e in m:
    if e['data']:
        out[e['start']:e['start'] + e['length']] = top[e['start']:e['start'] + e['length']]
open(sys.argv[4], 'wb').write(out)
EOF
	$MKDIFF "$tmp/c.vhd" "$tmp/b.vhd"
	converts "qemu-img-written child over a qemu-img $sub base" "$tmp/want.raw" "$tmp/c.vhd" "$tmp/b.vhd"
done

# ---- refusals --------------------------------------------------------------
# wrong_parent: a parent UUID that is not the next layer's
$MKDIFF "$tmp/c.vhd" "$tmp/b.vhd" 00112233445566778899aabbccddeeff
refused "wrong parent UUID (qemu-img child)" chain-broken "$tmp/c.vhd" "$tmp/b.vhd"
$MKDIFF "$tmp/c.vhd" "$tmp/b.vhd"
refused "a differencing disk alone" chain-broken "$tmp/c.vhd"
refused "the same file twice" chain-broken "$tmp/c.vhd" "$tmp/c.vhd" "$tmp/b.vhd"
refused "an empty chain" chain-broken
cp "$tmp/c.vhd" "$tmp/t.vhd"; truncate -s -4096 "$tmp/t.vhd"
refused "a truncated child" truncated "$tmp/t.vhd" "$tmp/b.vhd"

for s in layers40:unsupported-feature:"40 layers (over the cap)" \
	wrong-uuid:chain-broken:"wrong parent UUID" \
	diff-base:chain-broken:"differencing base" \
	dynamic-leaf:chain-broken:"dynamic (not differencing) leaf" \
	fixed-middle:chain-broken:"fixed disk in the middle" \
	reversed:chain-broken:"chain listed base first" \
	bitmap-past-eof:entry-out-of-range:"block and bitmap past EOF" \
	bitmap-in-bat:table-overlap:"block and bitmap on the BAT" \
	small-blocks:unsupported-feature:"differencing disk with 1 KiB blocks" \
	past-scan:entry-out-of-range:"bad entry past the sniffer's BAT scan"; do
	name=${s%%:*}
	rest=${s#*:}
	if scenario "$name"; then
		refused "${rest#*:}" "${rest%%:*}" "${files[@]}"
	else
		fail "${rest#*:} (generator)"
	fi
	rm -f "$tmp/$name"* "$tmp/out.raw"
done

# ---- random damage to the leaf's BAT and bitmaps: converts or refuses,
# never crashes ------------------------------------------------------------
scenario partial
ok=1
for i in $(seq 1 40); do
	cp "${files[0]}" "$tmp/d.vhd"
	python3 - "$tmp/d.vhd" "$i" <<'EOF'
import random, sys
p, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
b = bytearray(open(p, 'rb').read())
# past the footer copy and dynamic header: BAT, bitmaps, data
for _ in range(r.randrange(1, 8)):
    off = r.randrange(1536, len(b) - 512)
    if r.random() < 0.5:
        off = 1536 + r.randrange(0, 64)          # the BAT
    b[off] = r.randrange(256)
open(p, 'wb').write(b)
EOF
	run_chain "$tmp/out.raw" "$tmp/d.vhd" "${files[1]}"
	rc=$?
	if [ $rc -gt 1 ]; then
		echo "#   damage $i: exit $rc: $(head -c 300 "$tmp/err")"
		ok=0
	fi
done
check "40 damaged leaves: converted or refused, no crash" [ $ok = 1 ]

# ---- memory: far below the helper's 64 MiB -----------------------------
if [ -x /usr/bin/time ]; then
	scenario big
	/usr/bin/time -f %M -o "$tmp/rss" "$CHAIN" "$tmp/out.raw" "${files[@]}" 2>/dev/null
	rss=$(tail -n 1 "$tmp/rss")
	echo "# peak RSS converting a 3-layer 64 MiB chain: ${rss} KiB"
	check "a 3-layer chain converts in under 64 MiB of RSS" [ "$rss" -lt 65536 ]
fi

finish
