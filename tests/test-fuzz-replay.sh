#!/bin/bash
# Every fuzz harness, built without libFuzzer (fuzz/replay-main.c), replays
# the committed reproducers (fuzz/regressions/<harness>/) and a seed set
# made here, through the same entry points the fuzzers use. A fixed crash
# stays fixed: a regression that crashes again fails this test.
. "$(dirname "$0")/functions.sh"
requires qemu-img

seeds=$tmp/seeds
mkdir -p "$seeds/probe" "$seeds/helper-result"
for f in qcow2 qcow qed vmdk vpc vdi parallels; do
	qemu-img create -q -f "$f" "$seeds/probe/s.$f" 1M 2>/dev/null
done
qemu-img create -q -f qcow2 -F raw -b /etc/passwd "$seeds/probe/bk.qcow2" 1M
printf 'version=1\ncreateType="monolithicFlat"\nRW 2 FLAT "/etc/passwd" 0\n' > "$seeds/probe/flat.vmdk"
gzip -c "$seeds/probe/bk.qcow2" > "$seeds/probe/bk.qcow2.gz"
for f in "$seeds"/probe/*; do
	"$IMGWARD" probe --json "$f" 2>/dev/null |
		jq -c '{type: "result", report: del(.filename, .sandbox, ."expected-format")}' \
		> "$seeds/helper-result/$(basename "$f").json"
done

for h in "$B"/tests/fuzz-replay-*; do
	name=${h##*/fuzz-replay-}
	out=$("$h" "$top/fuzz/regressions/$name" "$seeds/$name" 2>&1)
	rc=$?
	n=$(grep -c '^ok' <<<"$out")
	if [ $rc = 0 ] && [ "$n" -gt 0 ]; then
		pass "$name: $n inputs replayed"
	else
		echo "$out" | tail -5 | sed 's/^/#   /'
		fail "$name: replay (exit $rc)"
	fi
done
finish
