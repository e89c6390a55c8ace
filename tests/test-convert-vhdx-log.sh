#!/bin/bash
# VHDX dirty logs (lib/formats/vhdx-log.c): a log that qemu would need
# `qemu-img check -r all` for is replayed in memory; the probe says safe
# with `dirty`, and the converter's raw output equals what qemu-img gives
# after replaying the log on a copy. Malformed logs are refused with a
# clear finding and nothing crashes. Images: tests/images/vhdx-log.py.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3
requires jq

CONVERT=$B/tests/convert-file
[ -x "$CONVERT" ] || skip "build/tests/convert-file is not built"
py=$(python3 -c 'import sys; print(sys.executable)')
GEN="$py $top/tests/images/vhdx-log.py"

# random, zero and patterned extents, and 24 MiB of zeros at the end
# (unallocated blocks for the file-growing entries)
$py "$top/tests/images/vxmap.py" base "$tmp/base.raw" $((64 << 20)) 1
$py - "$tmp/base.raw" <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(40 << 20)
    f.write(bytes(24 << 20))
EOF
qemu-img convert -f raw -O vhdx "$tmp/base.raw" "$tmp/def.vhdx"
qemu-img convert -f raw -O vhdx -o block_size=1M "$tmp/base.raw" "$tmp/b1m.vhdx"

# qemu's answer: replay the log on a copy, then convert
oracle() {
	cp "$1" "$tmp/q.vhdx"
	qemu-img check -q -r all -f vhdx "$tmp/q.vhdx" >/dev/null 2>&1 || return 1
	qemu-img convert -f vhdx -O raw "$tmp/q.vhdx" "$2"
}

# ---- valid logs: replayed, byte-identical to qemu-img after its replay --
for base in def b1m; do
	for v in payload bat grow grow-odd multi nomatch torn; do
		img=$tmp/$base-$v.vhdx
		cp "$tmp/$base.vhdx" "$img"
		$GEN "$img" "$v" || { fail "$base/$v: generator"; continue; }
		if ! oracle "$img" "$tmp/ref.raw"; then
			fail "$base/$v: qemu-img check -r all / convert"
			continue
		fi
		case $v in
		nomatch | torn)
			check "$base/$v: nothing to replay (qemu's result is the clean image)" \
				cmp -s "$tmp/ref.raw" "$tmp/base.raw" ;;
		*)
			check "$base/$v: the replay changes the disk" \
				bash -c '! cmp -s "$1" "$2"' _ "$tmp/ref.raw" "$tmp/base.raw" ;;
		esac
		if "$CONVERT" vhdx "$img" "$tmp/out.raw" 2>"$tmp/err" &&
			cmp -s "$tmp/out.raw" "$tmp/ref.raw"; then
			pass "$base/$v: convert-file equals qemu-img after check -r all"
		else
			echo "#   $(head -c 600 "$tmp/err")"
			fail "$base/$v: convert-file equals qemu-img after check -r all"
		fi
		# the sandboxed path: not in a sanitizer build (functions.sh)
		sanitized && continue
		j=$("$IMGWARD" probe --json "$img" 2>/dev/null)
		check "$base/$v: probe says safe, dirty" \
			jq_is "$j" '[.verdict, (.findings | map(.code) | index("dirty") != null)] | map(tostring) | join(",")' 'safe,true'
		case $v in
		nomatch | torn) n=0 ;;
		multi) n=3 ;;
		*) n=1 ;;
		esac
		check "$base/$v: log-entries $n" \
			jq_is "$j" '."format-specific".data."log-entries"' "$n"
		rm -f "$tmp/out2.raw"
		if "$IMGWARD" convert "$img" "$tmp/out2.raw" >/dev/null 2>"$tmp/err" &&
			cmp -s "$tmp/out2.raw" "$tmp/ref.raw"; then
			pass "$base/$v: imgward convert (sandboxed) equals qemu-img"
		else
			echo "#   $(head -c 600 "$tmp/err")"
			fail "$base/$v: imgward convert (sandboxed) equals qemu-img"
		fi
	done
done

# ---- malformed logs: refused with a finding, by the probe and the map --
# refused VARIANT VERDICT CODE
refused() {
	local v=$1 verdict=$2 code=$3 img=$tmp/bad-$1.vhdx
	cp "$tmp/b1m.vhdx" "$img"
	$GEN "$img" "$v" || { fail "$v: generator"; return; }
	expect_sniff "$v: $verdict, $code" "$img" "$verdict" "$code"
	if "$CONVERT" vhdx "$img" "$tmp/out.raw" 2>"$tmp/err"; then
		fail "$v: convert-file refuses it (it converted)"
	elif [ $? -ne 1 ] || ! grep -q "\"$code\"" "$tmp/err"; then
		echo "#   $(head -c 600 "$tmp/err")"
		fail "$v: convert-file refuses it with $code"
	else
		pass "$v: convert-file refuses it with $code"
	fi
}
refused wrap-split invalid bad-field       # qemu: replays the newer half
refused torn-middle invalid bad-field      # qemu: replays the entry after a torn one
refused gap invalid bad-field              # qemu: accepts any second number
refused gap-after invalid bad-field
refused fill invalid bad-field             # one entry as long as the log
refused hdr-target invalid entry-out-of-range
refused hdr-target-64k invalid entry-out-of-range
refused log-target invalid table-overlap
refused past invalid entry-out-of-range
refused overflow invalid entry-out-of-range  # qemu writes zeros for ever
refused desc-cap invalid table-too-large
refused data-seq invalid bad-field
refused data-sig invalid bad-field
refused desc-misaligned invalid bad-field
refused flushed invalid truncated
refused lastbig invalid bad-field
refused count-mismatch invalid bad-field

# a log GUID over a log whose fields are broken: not searched
cp "$tmp/b1m.vhdx" "$tmp/logver.vhdx"
$GEN "$tmp/logver.vhdx" payload
$py "$top/tests/images/vhdx.py" header "$tmp/logver.vhdx" which=both log_version=1
expect_sniff 'dirty log, log version 1' "$tmp/logver.vhdx" unsupported log-replay-needed

# ---- under valgrind: a replay and a refusal, no error, no leak ----------
# vg CMD...: no valgrind error (exit 99) and no report line; the command's
# own exit status (1 for a refusal) does not matter
vg() {
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$@" >/dev/null 2>"$tmp/vg.err"
	[ $? -ne 99 ] && ! grep -q '^==[0-9]*==' "$tmp/vg.err" && return 0
	echo "#   $(head -c 800 "$tmp/vg.err")"
	return 1
}
# (not for a sanitizer build: ASan and valgrind do not mix)
if command -v valgrind >/dev/null 2>&1 && ! ldd "$CONVERT" 2>/dev/null | grep -q libasan; then
	for v in b1m-multi def-grow bad-gap bad-desc-cap bad-overflow; do
		check "valgrind: convert-file $v" \
			vg "$CONVERT" vhdx "$tmp/$v.vhdx" "$tmp/vg.raw"
		check "valgrind: sniff-file $v" vg "$SNIFF_FILE" "$tmp/$v.vhdx"
	done
fi

finish
