#!/bin/bash
# The broker against a hostile helper (tests/helpers/fake-helper.c, run in
# place of imgward-sniff, inside the real sandbox): every way a helper can
# misbehave ends in the right error code and exit status, with no helper
# process left behind.
. "$(dirname "$0")/functions.sh"
requires jq

fake=$tmp/helpers
mkdir -p "$fake"
cp "$B/tests/fake-helper" "$fake/imgward-sniff"

# run BEHAVIOUR [imgward options...]: prints the JSON, sets $rc
run() {
	local behaviour=$1
	shift
	printf '%s\n' "$behaviour" > "$tmp/img-$behaviour"
	out=$("$IMGWARD" probe --json --helper-dir "$fake" "$@" "$tmp/img-$behaviour" 2>"$tmp/err")
	rc=$?
}

# expect BEHAVIOUR CODE EXIT [imgward options...]
expect() {
	local behaviour=$1 code=$2 want_rc=$3 ok=1
	shift 3
	run "$behaviour" "$@"
	jq_is "$out" .error.code "$code" || ok=0
	[ "$rc" = "$want_rc" ] || { echo "#   exit $rc, want $want_rc"; ok=0; }
	grep -q "\[$code\]" "$tmp/err" || { echo "#   stderr: $(cat "$tmp/err")"; ok=0; }
	if pgrep -x imgward-sniff >/dev/null; then
		echo "#   a helper process is still running"
		ok=0
	fi
	if [ $ok = 1 ]; then pass "$behaviour -> $code"; else fail "$behaviour -> $code"; fi
}

run ok
check "a well-behaved fake helper succeeds" jq_is "$out" .verdict safe
check "... with exit status 0" test "$rc" = 0

expect spin resource-limit 70 --limit cpu-seconds=1
expect spin timeout 70 --deadline 1 --limit cpu-seconds=60
expect block timeout 70 --deadline 1
expect block-before-ready timeout 70 --deadline 1
expect alloc resource-limit 70 --limit address-space=64M
expect crash helper-crash 70
expect abort helper-crash 70
expect sigsys policy-violation 70
expect oversize protocol-violation 70
expect longline protocol-violation 70
expect garbage protocol-violation 70
expect deep protocol-violation 70
expect badutf8 protocol-violation 70
expect trailing protocol-violation 70
expect not-object protocol-violation 70
expect two-results protocol-violation 70
expect unknown-type protocol-violation 70
expect no-ready protocol-violation 70
expect no-result helper-crash 70
expect exit1 helper-crash 70
expect result-then-crash helper-crash 70
expect unterminated protocol-violation 70
expect bad-schema protocol-violation 70
expect unknown-key protocol-violation 70
expect lying-verdict protocol-violation 70
expect unknown-finding protocol-violation 70
expect io-error input-error 66
expect error-before-ready sandbox-unavailable 69
# the real policy forbids sendmsg, so an fd-sending helper dies of it...
expect sendfd-sandboxed policy-violation 70
# ...and without a filter the broker itself refuses the fd
expect sendfd protocol-violation 70 --require no-new-privs

# Terminal escapes from a helper never reach the terminal.
run escape-codes
check "escape-codes: JSON keeps the text, escaped" jq_is "$out" '.references[0].name | test("\u001b")' true
human=$("$IMGWARD" probe --helper-dir "$fake" "$tmp/img-escape-codes" 2>&1)
if printf '%s' "$human" | grep -q $'\x1b'; then
	fail "escape-codes: the human summary prints no ESC byte"
else
	pass "escape-codes: the human summary prints no ESC byte"
fi

# The helper sees exactly fds 0-4.
run fds
check "the helper inherits only fds 0-4" jq_is "$out" '."format-specific".data.fds' "0,1,2,3,4"

finish
