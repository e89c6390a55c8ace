#!/bin/bash
# imgward probe as a user meets it: inputs it must refuse, usage errors,
# exit statuses, --expect-format, --json error objects, the sandbox report.
. "$(dirname "$0")/functions.sh"
requires jq
requires qemu-img

# probe_rc ARGS...: run imgward probe --json, set $out and $rc
probe_rc() {
	out=$("$IMGWARD" probe --json "$@" 2>"$tmp/err")
	rc=$?
}
# expect_error 'description' CODE EXIT ARGS...
expect_error() {
	local what=$1 code=$2 want=$3 ok=1
	shift 3
	probe_rc "$@"
	jq_is "$out" .error.code "$code" || ok=0
	[ "$rc" = "$want" ] || { echo "#   exit $rc, want $want"; ok=0; }
	grep -q "\[$code\]" "$tmp/err" || { echo "#   stderr: $(cat "$tmp/err")"; ok=0; }
	if [ $ok = 1 ]; then pass "$what"; else fail "$what"; fi
}

qemu-img create -q -f qcow2 "$tmp/clean.qcow2" 64M
qemu-img create -q -f qcow2 -F raw -b /etc/passwd "$tmp/backing.qcow2" 64M
truncate -s 1M "$tmp/raw.img"
printf 'QFI\xfb\0\0\0\3' > "$tmp/truncated.qcow2"
qemu-img create -q -f qed "$tmp/plain.qed" 64M

# ---- inputs that are not images ------------------------------------
expect_error "a missing file is no-such-file" no-such-file 66 "$tmp/nope"
mkdir "$tmp/dir"
expect_error "a directory is not-a-file" not-a-file 66 "$tmp/dir"
mkfifo "$tmp/fifo"
# with no writer, a careless open() would block forever
expect_error "a FIFO is not-a-file (and does not hang)" not-a-file 66 "$tmp/fifo"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$tmp/sock"
expect_error "a socket is not-a-file" not-a-file 66 "$tmp/sock"
expect_error "a character device is not-a-file" not-a-file 66 /dev/null
ln -s "$tmp/clean.qcow2" "$tmp/link.qcow2"
expect_error "a symbolic link is refused" symlink 66 "$tmp/link.qcow2"
check "the error object names the file" jq_is "$out" .filename "$tmp/link.qcow2"

# ---- usage -----------------------------------------------------------
"$IMGWARD" >/dev/null 2>&1
check "no command: exit 64" test $? = 64
"$IMGWARD" frobnicate >/dev/null 2>&1
check "unknown command: exit 64" test $? = 64
"$IMGWARD" probe >/dev/null 2>&1
check "probe without a file: exit 64" test $? = 64
"$IMGWARD" probe "$tmp/raw.img" "$tmp/raw.img" >/dev/null 2>&1
check "probe with two files: exit 64" test $? = 64
"$IMGWARD" probe --bogus "$tmp/raw.img" >/dev/null 2>&1
check "unknown option: exit 64" test $? = 64
expect_error "unknown --expect-format" usage 64 --expect-format floppy "$tmp/raw.img"
expect_error "bad --limit name" usage 64 --limit colour=blue "$tmp/raw.img"
expect_error "bad --limit value" usage 64 --limit cpu-seconds=lots "$tmp/raw.img"
expect_error "--deadline 0" usage 64 --deadline 0 "$tmp/raw.img"
expect_error "unknown layer in --require" usage 64 --require magic "$tmp/raw.img"
expect_error "bad --helper-user" usage 64 --helper-user no-such-user-xyz "$tmp/raw.img"
help=$("$IMGWARD" probe --help)
check "probe --help exits 0 and documents exit statuses" grep -q "protocol-violation" <<<"$help"
check "imgward --version" grep -q '^imgward [0-9]' <<<"$("$IMGWARD" --version)"

# ---- verdicts and exit statuses --------------------------------------
probe_rc "$tmp/clean.qcow2"
check "clean qcow2: safe, exit 0" test "$rc" = 0 -a "$(jq -r .verdict <<<"$out")" = safe
probe_rc "$tmp/backing.qcow2"
check "qcow2 with a backing file: unsafe, exit 1" test "$rc" = 1 -a "$(jq -r .verdict <<<"$out")" = unsafe
check "... the backing file is reported" jq_is "$out" '.references[0].name' /etc/passwd
probe_rc "$tmp/truncated.qcow2"
check "truncated qcow2: invalid (not raw), exit 2" test "$rc" = 2 -a "$(jq -r .format <<<"$out")" = qcow2
probe_rc "$tmp/plain.qed"
check "QED: unsupported, exit 3" test "$rc" = 3 -a "$(jq -r .verdict <<<"$out")" = unsupported
probe_rc "$tmp/raw.img"
check "raw: safe, exit 0" test "$rc" = 0 -a "$(jq -r .format <<<"$out")" = raw
check "virtual-size as qemu-img" jq_is "$out" '."virtual-size"' "$(qemu_vsize "$tmp/clean.qcow2" qcow2 >/dev/null; qemu_vsize "$tmp/raw.img" raw)"

# ---- --expect-format ---------------------------------------------------
probe_rc --expect-format raw "$tmp/clean.qcow2"
check "qcow2 claimed as raw: unsafe" jq_is "$out" .verdict unsafe
check "... with format-mismatch" has_finding "$out" format-mismatch
check "... exit 1" test "$rc" = 1
probe_rc --expect-format qcow2 "$tmp/clean.qcow2"
check "qcow2 claimed as qcow2: safe" jq_is "$out" .verdict safe
probe_rc --expect-format qcow2 "$tmp/raw.img"
check "raw claimed as qcow2: unsafe" jq_is "$out" .verdict unsafe
qemu-img create -q -f vpc "$tmp/d.vhd" 64M
probe_rc --expect-format vpc "$tmp/d.vhd"
check "qemu's name vpc is accepted for vhd" jq_is "$out" .verdict safe

# ---- output ------------------------------------------------------------
n=$("$IMGWARD" probe --json "$tmp/clean.qcow2" | wc -l)
check "--json prints exactly one line" test "$n" = 1
human=$("$IMGWARD" probe "$tmp/backing.qcow2")
check "human summary: verdict line" grep -q '^verdict: unsafe' <<<"$human"
check "human summary: the reference, marked not opened" grep -q 'not opened' <<<"$human"

# ---- the sandbox report --------------------------------------------------
probe_rc "$tmp/clean.qcow2"
check "sandbox: seccomp filter in force" jq_is "$out" .sandbox.seccomp filter
check "sandbox: no_new_privs" jq_is "$out" '.sandbox."no-new-privs"' true
check "sandbox: no capabilities" jq_is "$out" .sandbox.capabilities none
check "sandbox: helper is not uid 0" test "$(jq -r .sandbox.uid <<<"$out")" != 0
if [ "$(jq -r '.sandbox.landlock.abi' <<<"$out")" -gt 0 ] 2>/dev/null; then
	check "sandbox: Landlock enforced" jq_is "$out" .sandbox.landlock.enforced true
fi
check "sandbox: empty root" jq_is "$out" '.sandbox."empty-root"' true
expect_error "--require namespaces with --no-namespaces" sandbox-unavailable 69 \
	--no-namespaces --require namespaces "$tmp/raw.img"
expect_error "a helper directory without helpers" spawn-failed 69 --helper-dir "$tmp/dir" "$tmp/raw.img"
if [ "$(id -u)" = 0 ]; then
	probe_rc --helper-user 4242:4343 "$tmp/raw.img"
	check "--helper-user sets the helper's ids" test "$(jq -r '.sandbox.uid, .sandbox.gid' <<<"$out" | tr '\n' ' ')" = "4242 4343 "
	expect_error "a root helper is refused by default" sandbox-unavailable 69 --helper-user 0:0 "$tmp/raw.img"
fi

# ---- block devices are accepted (root, where loop devices work) -------
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
	qemu-img create -q -f qcow2 "$tmp/loop.qcow2" 64M
	truncate -s 1M "$tmp/loop.qcow2"
	if dev=$(losetup -f --show "$tmp/loop.qcow2" 2>/dev/null) && [ -b "$dev" ]; then
		cleanup_fn "losetup -d $dev"
		probe_rc "$dev"
		check "a block device holding a qcow2 is probed" jq_is "$out" .format qcow2
		check "... its actual size is the device size" jq_is "$out" '."actual-size"' 1048576
	else
		echo "# no loop device here: block-device input not exercised"
	fi
fi

check "no helper process is left behind" sh -c '! pgrep -x imgward-sniff'
finish
