#!/bin/bash
# Escape attempts from inside the real helper sandbox (broker pre-exec
# layers + Landlock + the sniff seccomp policy), in the spirit of
# bubblewrap's try-syscall: tests/helpers/contain-probe.c runs as
# imgward-sniff and tries real attacks - host paths, a TCP port on the host,
# the test's own shell process, privilege changes. Each must be denied,
# by an errno or by SIGSYS (policy-violation).
#
# A second pass turns seccomp off (and tells the broker not to require
# it) to show what the other layers hold on their own.
. "$(dirname "$0")/functions.sh"
requires jq
requires python3

fake=$tmp/helpers
mkdir -p "$fake"
cp "$B/tests/contain-probe" "$fake/imgward-sniff"

# a TCP listener on the host, so a connect() that got through would succeed
port_file=$tmp/port
python3 - "$port_file" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(120)
EOF
listener=$!
cleanup_fn "kill $listener"
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file")
outside=$$

# attempt 'ATTACK [ARG]' [imgward options...]: sets $outcome to
# "policy-violation", an errno name, "succeeded", or "error:<code>"
attempt() {
	local line=$1 out code
	shift
	printf '%s\n' "$line" > "$tmp/attack"
	out=$("$IMGWARD" probe --json --helper-dir "$fake" "$@" "$tmp/attack" 2>/dev/null)
	code=$(jq -r '.error.code // empty' <<<"$out")
	if [ "$code" = policy-violation ]; then
		outcome=policy-violation
	elif [ -n "$code" ]; then
		outcome="error:$code"
	else
		outcome=$(jq -r '."format-specific".data.result' <<<"$out")
	fi
}

attacks=(
	open-host-file open-proc-status create-file openat-relative write-image
	execve "tcp-connect $port" unix-socket "kill-outside $outside" kill-all
	"ptrace-outside $outside" fork mount unshare-user setuid-root capset
	mmap-exec ioctl-tiocsti int80
)

# ---- the full sandbox: nothing gets through ----------------------------
for a in "${attacks[@]}"; do
	attempt "$a"
	case $outcome in
	succeeded | error:* | null | "")
		fail "sandboxed: ${a%% *} is denied (got: $outcome)" ;;
	*)
		pass "sandboxed: ${a%% *} is denied ($outcome)" ;;
	esac
done

# ---- without seccomp: what the other layers stop on their own ---------
# (attacks only seccomp stops - creating an AF_UNIX socket, a user
# namespace, an executable mapping, a 32-bit syscall - are left out)
nofilter=(--require no-new-privs,no-capabilities,unprivileged)
for a in open-host-file open-proc-status create-file openat-relative \
	write-image execve "kill-outside $outside" kill-all \
	"ptrace-outside $outside" fork mount setuid-root capset; do
	attempt "nofilter $a" "${nofilter[@]}"
	case $outcome in
	succeeded | error:* | null | "" | policy-violation)
		fail "no seccomp: ${a%% *} is still denied (got: $outcome)" ;;
	*)
		pass "no seccomp: ${a%% *} is still denied ($outcome)" ;;
	esac
done
# TCP is Landlock's (ABI >= 4): without a network namespace and without
# seccomp, only Landlock stands between the helper and a host port.
printf 'write-image\n' > "$tmp/attack"
landlock_abi=$("$IMGWARD" probe --json --helper-dir "$fake" "$tmp/attack" 2>/dev/null | jq -r '.sandbox.landlock.abi')
attempt "nofilter tcp-connect $port" "${nofilter[@]}"
if [ "$landlock_abi" -ge 4 ] 2>/dev/null; then
	check "no seccomp: TCP connect to a host port is denied by Landlock ($outcome)" \
		test "$outcome" = EACCES
else
	echo "# Landlock ABI $landlock_abi here (< 4): TCP without seccomp relies on seccomp alone"
fi

# ---- Landlock alone: no seccomp, no namespaces (so the host's root is
# there to be named), only Landlock and the lost privileges -------------
if [ "$landlock_abi" -ge 1 ] 2>/dev/null; then
	# without namespaces an unprivileged broker cannot empty the
	# capability bounding set (nothing is effective either way)
	alone=(--require no-new-privs --namespaces none)
	for a in open-host-file create-file execve; do
		attempt "nofilter $a" "${alone[@]}"
		check "Landlock alone: ${a%% *} is denied ($outcome)" test "$outcome" = EACCES
	done
	if [ "$landlock_abi" -ge 6 ]; then
		attempt "nofilter kill-outside $outside" "${alone[@]}"
		check "Landlock alone: signalling a host process is denied ($outcome)" test "$outcome" = EPERM
	fi
else
	echo "# no Landlock here: the Landlock-only checks do not apply"
fi

# ---- the kernel's view of the helper (checked by the broker) ----------
printf 'write-image\n' > "$tmp/attack"
out=$("$IMGWARD" probe --json --helper-dir "$fake" "$tmp/attack" 2>/dev/null)
check "the broker saw Seccomp: 2" jq_is "$out" .sandbox.seccomp filter
check "the broker saw NoNewPrivs: 1" jq_is "$out" '.sandbox."no-new-privs"' true
check "the broker saw every capability set empty" jq_is "$out" .sandbox.capabilities none
check "the broker saw a non-root uid" test "$(jq -r .sandbox.uid <<<"$out")" != 0
check "no helper process is left behind" sh -c '! pgrep -x imgward-sniff'
finish
