#!/bin/bash
# Every shipped seccomp policy passes tools/policy-compile's lint and its
# generated C compiles; and the lint can fail: each rule is shown to catch
# a small bad policy, with a file:line message (docs/policy.md).
. "$(dirname "$0")/functions.sh"

COMPILE=$B/tools/policy-compile
[ -x "$COMPILE" ] || skip "$COMPILE not built (make build/tools/policy-compile)"
CC=${CC:-cc}
requires "$CC"
requires pkg-config
SECCOMP_CFLAGS=$(pkg-config --cflags libseccomp) || skip "libseccomp pkg-config file missing"

# compile_c FILE.c: the generated C through the C compiler, as the build does
compile_c() {
	"$CC" -std=gnu11 -Wall -Werror -D_GNU_SOURCE $SECCOMP_CFLAGS \
		-I"$top/lib" -fsyntax-only "$1"
}

# ---- the shipped policies -------------------------------------------
n=0
for p in "$top"/policy/seccomp/*.policy; do
	[ -f "$p" ] || continue
	n=$((n + 1))
	name=$(basename "$p" .policy)
	check "lint: $name.policy" "$COMPILE" --lint "$p"
	if "$COMPILE" "$p" "$name" >"$tmp/policy-$name.c" 2>"$tmp/err"; then
		check "generated C for $name.policy compiles" compile_c "$tmp/policy-$name.c"
	else
		fail "policy-compile $name.policy: $(head -c 300 "$tmp/err")"
	fi
done
check "at least one policy is shipped" test "$n" -gt 0
for inc in "$top"/policy/seccomp/*.inc; do
	[ -f "$inc" ] || continue
	i=$(basename "$inc")
	check "lint: $i on its own" "$COMPILE" --lint "$inc"
	check "$i is included by a policy" \
		grep -qx "@include $i" "$top"/policy/seccomp/*.policy
done

# ---- the lint can fail ----------------------------------------------
mkdir -p "$tmp/p"
cd "$tmp/p" || exit 1

# lint_fails 'description' FILE LINE REGEX [POLICY]: --lint POLICY
# (default FILE) exits 1 and says "FILE:LINE: error: ..." matching REGEX
lint_fails() {
	local what=$1 file=$2 line=$3 re=$4 policy=${5:-$2} rc
	"$COMPILE" --lint "$policy" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc != 1 ]; then
		fail "$what: lint exit $rc, want 1 ($(head -c 200 "$tmp/err"))"
	elif ! grep -Eq "^$file:$line: error: .*$re" "$tmp/err"; then
		fail "$what: no '$file:$line: error: ...$re' in: $(head -c 300 "$tmp/err")"
	else
		pass "$what ($(grep -E "^$file:$line:" "$tmp/err" | head -1))"
	fi
}
lint_passes() {
	local what=$1 file=$2
	if "$COMPILE" --lint "$file" 2>"$tmp/err"; then
		pass "$what"
	else
		fail "$what: $(head -c 300 "$tmp/err")"
	fi
}
# compile_fails 'description' FILE LINE REGEX: lint passes, but the
# generated C fails to compile with an error at FILE:LINE (#line)
compile_fails() {
	local what=$1 file=$2 line=$3 re=$4
	if ! "$COMPILE" "$file" bad >bad.c 2>"$tmp/err"; then
		fail "$what: policy-compile failed: $(head -c 200 "$tmp/err")"
	elif compile_c bad.c 2>"$tmp/err"; then
		fail "$what: the generated C compiled"
	elif ! grep -Eq "^$file:$line:.*$re" "$tmp/err"; then
		fail "$what: no '$file:$line: ...$re' in: $(head -c 400 "$tmp/err")"
	else
		pass "$what"
	fi
}

cat >good.policy <<'EOF'
# header comment, not a group (a blank line follows)

@include good.inc

# why: reading
pread64: allow
read: allow

# why: a thread-only clone, a W^X mmap, a full-width ioctl compare
clone: arg0 & (CLONE_THREAD|CLONE_SIGHAND|CLONE_VM) == (CLONE_THREAD|CLONE_SIGHAND|CLONE_VM)
ioctl: arg1 & 0xffffffff == TIOCGWINSZ || arg1 == FIONREAD
mmap: arg2 & ~(PROT_READ|PROT_WRITE) == 0
mprotect: arg2 == PROT_READ

# why: denied politely, and a justified dangerous one
# reason: the test needs one unconditioned dangerous syscall
kill: allow
openat: return EPERM
EOF
cat >good.inc <<'EOF'
# why: leaving
exit_group: allow
EOF
lint_passes "a policy using every form passes the lint" good.policy
"$COMPILE" good.policy good >good.c 2>"$tmp/err" &&
	check "its generated C compiles" compile_c good.c ||
	fail "policy-compile good.policy: $(cat "$tmp/err")"

printf '# why\nwrite: allow\nread: allow\n' >unsorted.policy
lint_fails "unsorted group" unsorted.policy 3 "'read' is not sorted"

printf '# why\nexecve: allow\n' >dangerous.policy
lint_fails "dangerous syscall without condition" dangerous.policy 2 "dangerous syscall 'execve'"
printf '# why\n# reason: not directly above\n# another comment\nexecve: allow\n' >reason-far.policy
lint_fails "a '# reason:' must be directly above" reason-far.policy 4 "dangerous syscall 'execve'"
printf '# why\nsocket: allow\n' >socket.policy
lint_fails "socket without condition" socket.policy 2 "dangerous syscall 'socket'"

printf '# why\nfrobnicate: allow\n' >unknown.policy
lint_fails "unknown syscall" unknown.policy 2 "unknown syscall 'frobnicate'"
printf '# why\nsocketcall: allow\n' >i386.policy
lint_fails "syscall that x86_64 lacks (i386 socketcall)" i386.policy 2 "not an x86_64 syscall"

printf '# why\nread: allow\n\nwrite: allow\n' >nowhy.policy
lint_fails "group without a why-comment" nowhy.policy 4 "no why-comment"

printf '# why\nread: allow\n\n# why again\nread: allow\n' >dup.policy
lint_fails "duplicate syscall" dup.policy 5 "duplicate syscall 'read' \\(first at dup.policy:2\\)"
printf '# why\nexit_group: allow\n' >dupinc.inc
printf '@include dupinc.inc\n\n# why\nexit_group: allow\n' >dupinc.policy
lint_fails "duplicate across an include" dupinc.policy 4 "duplicate syscall 'exit_group' \\(first at dupinc.inc:2\\)"

printf '@include inner.inc\n\n# why\nread: allow\n' >outer.inc
printf '# why\nwrite: allow\n' >inner.inc
printf '@include outer.inc\n' >nested.policy
lint_fails "nested @include" outer.inc 1 "nested too deep" nested.policy
printf '@include ../etc.inc\n' >path.policy
lint_fails "@include with a path" path.policy 1 "plain NAME.inc"
printf '@include missing.inc\n' >missing.policy
if "$COMPILE" --lint missing.policy 2>"$tmp/err"; then
	fail "missing include passes"
else
	pass "missing include fails ($(head -1 "$tmp/err"))"
fi

printf '# why\nread: return EFOOBAR\n' >errno.policy
lint_fails "unknown errno name" errno.policy 2 "not an errno name"
printf '# why\nread: arg9 == 1\n' >arg.policy
lint_fails "argument index out of range" arg.policy 2 "arg0..arg5"
printf '# why\nread: arg0 =! 1\n' >op.policy
lint_fails "unknown operator" op.policy 2 "expected ==, !="
printf '# why\nread: arg0 == 1; system("x")\n' >inject.policy
lint_fails "value that is not a constant expression" inject.policy 2 "not a constant expression"
printf '# why\nread: arg0 == 1 && arg0 == 2\n' >twice.policy
lint_fails "one argument compared twice in one alternative" twice.policy 2 "arg0 compared twice"
printf '# why\nread: maybe\n' >action.policy
lint_fails "unknown action" action.policy 2 "expected 'allow', 'return ERRNO'"
printf '# why\n@default allow\n' >directive.policy
lint_fails "unknown directive" directive.policy 2 "unknown directive"
printf '# why\nioctl: arg1 != TIOCSTI\n' >ioctl-ne.policy
lint_fails "ioctl denylist compare (CVE-2019-10063 shape)" ioctl-ne.policy 2 "compare arg1 with =="
printf '# why\nmmap: arg3 == MAP_PRIVATE\n' >mmap-noprot.policy
lint_fails "mmap condition that ignores prot" mmap-noprot.policy 2 "compare arg2 with =="

# ---- what only the C compiler can check: constants -------------------
printf '# why\n# (W^X test)\nmmap: arg2 == PROT_READ|PROT_EXEC\n' >wx.policy
compile_fails "W^X: mmap allowing PROT_EXEC is a compile error at its line" wx.policy 3 "PROT_EXEC"
printf '# why\nmprotect: arg2 & PROT_WRITE == 0\n' >wx2.policy
compile_fails "W^X: a mask that ignores PROT_EXEC is a compile error" wx2.policy 2 "PROT_EXEC"
printf '# why\nioctl: arg1 & 0xffff == TIOCGWINSZ\n' >ioctl16.policy
compile_fails "ioctl mask narrower than 32 bits is a compile error" ioctl16.policy 2 "CVE-2019-10063"
printf '# why\nclone: arg0 & CLONE_VM == CLONE_VM\n' >fork.policy
compile_fails "clone without CLONE_THREAD is a compile error" fork.policy 2 "CLONE_THREAD"
printf '# why\n# more why\nread: arg2 == PROT_REED\n' >const.policy
compile_fails "a misspelt constant is a compile error at the policy line" const.policy 3 "PROT_REED"

finish
