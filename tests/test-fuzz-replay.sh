#!/bin/bash
# Every fuzz harness, built without libFuzzer (fuzz/replay-main.c), replays
# the committed reproducers (fuzz/regressions/<harness>/) and the seed
# corpus fuzz/make-seeds generates (the same one `make fuzz` starts from),
# through the same entry points the fuzzers use. A fixed crash stays
# fixed: a regression that crashes again fails this test. A tool
# make-seeds lacks (xorriso, genisoimage, ...) only costs its seeds.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3

seeds=$tmp/seeds
IMGWARD_BUILD=$B SNIFF_FILE=$SNIFF_FILE "$top/fuzz/make-seeds" "$seeds" 2>"$tmp/seeds.log" ||
	fail "fuzz/make-seeds (exit $?)"
sed 's/^/# /' "$tmp/seeds.log"

for h in "$B"/tests/fuzz-replay-*; do
	name=${h##*/fuzz-replay-}
	dirs=()
	for d in "$top/fuzz/regressions/$name" "$seeds/$name"; do
		[ -d "$d" ] && dirs+=("$d")
	done
	out=$("$h" "${dirs[@]}" 2>&1)
	rc=$?
	n=$(grep -c '^ok' <<<"$out")
	if [ $rc = 0 ] && [ "$n" -gt 0 ]; then
		pass "$name: $n inputs replayed"
	else
		echo "$out" | tail -5 | sed 's/^/#   /'
		fail "$name: replay (exit $rc, $n inputs)"
	fi
done
finish
