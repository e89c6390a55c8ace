# Shared by every shell test: source it first.
#   . "$(dirname "$0")/functions.sh"
# A test prints TAP lines through check/pass/fail, and exits through
# finish (0 when every check passed). Exit 77 means "skipped", with the
# reason on stdout (requires, skip).
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${IMGWARD_BUILD:-$top/build}
case $B in /*) ;; *) B=$top/$B ;; esac
IMGWARD=$B/imgward
SNIFF_FILE=$B/tests/sniff-file
export IMGWARD_HELPER_DIR=${IMGWARD_HELPER_DIR:-$B}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgward-test.XXXXXX")
chmod 0755 "$tmp"
cleanup_fns=()
cleanup_fn() { cleanup_fns+=("$*"); }
_cleanup() {
	local f
	for f in "${cleanup_fns[@]+"${cleanup_fns[@]}"}"; do eval "$f" || :; done
	rm -rf "$tmp"
}
trap _cleanup EXIT

_n=0
_failed=0
pass() { _n=$((_n + 1)); echo "ok $_n - $*"; }
fail() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
# check 'description' command...: passes when the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
	exit $?
}
skip() { echo "# SKIP $*"; exit 77; }
requires() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}
requires_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
# A slow test (a libguestfs appliance under TCG, minutes of work) runs only
# when asked: IMGWARD_SLOW_TESTS=1 tests/run-tests (`make check-slow`).
requires_slow() {
	[ "${IMGWARD_SLOW_TESTS:-0}" = 1 ] ||
		skip "slow test ($*): run with IMGWARD_SLOW_TESTS=1 or make check-slow"
}

# JSON assertions (jq): jq_is JSON FILTER EXPECTED
jq_is() {
	local got
	got=$(printf '%s' "$1" | jq -r "$2" 2>/dev/null) || got="<jq error>"
	if [ "$got" = "$3" ]; then
		return 0
	fi
	echo "#   $2: got '$got', want '$3'"
	return 1
}
# has_finding JSON CODE: the report (or any nested report) has CODE
has_finding() {
	printf '%s' "$1" | jq -e --arg c "$2" \
		'[.. | objects | .findings? // empty | .[] | .code] | index($c) != null' >/dev/null
}
# sniff FILE: the pure sniffer core's JSON (no sandbox, no broker)
sniff() { "$SNIFF_FILE" "$1"; }

# expect_sniff 'description' FILE VERDICT [FINDING...]: sniff FILE and
# check its verdict and that each FINDING code is present.
expect_sniff() {
	local what=$1 file=$2 verdict=$3 j res c ok=1
	shift 3
	j=$(sniff "$file") || { fail "$what (sniff-file failed)"; return; }
	# one jq run: the verdict, then every finding code in the report tree
	res=$(printf '%s' "$j" | jq -r '[.verdict] + [.. | objects | .findings? // empty | .[] | .code] | join(" ")' 2>/dev/null)
	if [ "${res%% *}" != "$verdict" ]; then
		echo "#   verdict: got '${res%% *}', want '$verdict'"
		ok=0
	fi
	for c in "$@"; do
		case " $res " in *" $c "*) ;; *) echo "#   missing finding $c"; ok=0 ;; esac
	done
	if [ $ok = 1 ]; then pass "$what"; else echo "#   $j" | head -c 2000; echo; fail "$what"; fi
}

# qemu_vsize FILE FMT: qemu-img's virtual size
qemu_vsize() { qemu-img info -f "$2" --output=json "$1" | jq -r '."virtual-size"'; }

# sanitized: this build is instrumented with ASan (make check-sanitize);
# its helpers cannot run in the sandbox's empty root (libasan is shared)
sanitized() {
	ldd "$B/imgward" 2>/dev/null | grep -q libasan
}
