#!/bin/bash
# The compiled seccomp policies hold: under each policy every probe of
# build/tests/seccomp-probe (tests/helpers/seccomp-probe.c) gets exactly
# the outcome listed here. Each probe also runs with no filter ("none"),
# the control that proves its arguments reach the kernel harmlessly, so a
# SIGSYS or EPERM under the policy can only have come from the filter
# (bubblewrap's try-syscall method).
. "$(dirname "$0")/functions.sh"

PROBE=$B/tests/seccomp-probe
[ -x "$PROBE" ] || skip "$PROBE not built (make build/tests/seccomp-probe)"
COMPILE=$B/tools/policy-compile
[ -x "$COMPILE" ] || skip "$COMPILE not built"
[ "$(uname -m)" = x86_64 ] || skip "probe expectations are written for x86_64"
requires jq

SIGSYS_RC=$((128 + 31))

# run_probe PROBE POLICY [FILE]: prints the outcome word
run_probe() {
	local rc
	"$PROBE" "$@" >/dev/null 2>"$tmp/probe.err"
	rc=$?
	case $rc in
	0) echo reached ;;
	10) echo eperm ;;
	11) echo enosys ;;
	5) echo broken ;;
	$SIGSYS_RC) echo killed ;;
	$((128 + 6))) echo aborted ;;
	*) echo "exit-$rc($(head -c 200 "$tmp/probe.err"))" ;;
	esac
}

# expect POLICY PROBE OUTCOME [CONTROL]: CONTROL is the outcome with no
# filter (default "reached")
expect() {
	local policy=$1 probe=$2 want=$3 control=${4:-reached} got
	got=$(run_probe "$probe" none)
	if ! [[ "$got" =~ ^($control)$ ]]; then
		fail "$probe: control run without a filter: got $got, want $control"
		return
	fi
	got=$(run_probe "$probe" "$policy")
	if [ "$got" = "$want" ]; then
		pass "$policy: $probe -> $want"
	else
		fail "$policy: $probe: got $got, want $want"
	fi
}

# filter_is_policy NAME: the filter the probe loads names exactly the
# syscalls of policy/seccomp/NAME.policy
filter_is_policy() {
	local pfc in_filter in_policy
	pfc=$("$PROBE" --pfc "$1") || fail "--pfc $1"
	in_filter=$(sed -n 's/.*filter for syscall "\([a-z0-9_]*\)".*/\1/p' <<<"$pfc" | sort)
	in_policy=$("$COMPILE" --list "$top/policy/seccomp/$1.policy" | sort)
	if [ "$in_filter" = "$in_policy" ]; then
		pass "$1: the loaded filter names exactly the policy's syscalls"
	else
		fail "$1: filter and policy differ: $(diff <(echo "$in_filter") <(echo "$in_policy") | tr '\n' ' ')"
	fi
}

# ---- sniff: what the sniffer does after its filter works ------------
for p in pread64 read write close brk mmap-rw mmap-none malloc-large \
	madvise-dontneed getrandom-nonblock clock-monotonic json; do
	expect sniff "$p" reached
done

# A crash must look like a crash (SIGABRT), not like a policy violation:
# glibc's abort path (libc.inc) works, and only on the process itself.
for p in getpid writev-stderr tgkill-self-abrt; do
	expect sniff "$p" reached
done
expect sniff abort aborted aborted
expect sniff fortify aborted aborted
for p in writev-other tgkill-other-abrt; do
	expect sniff "$p" killed
done

# ---- sniff: everything else is killed -------------------------------
# Paths, fds and processes: the helper opens nothing, talks to nobody,
# starts nothing, and cannot pass or take an fd (sendmsg/recvmsg).
for p in openat open newfstatat fstat lseek socket socketpair \
	connect sendmsg recvmsg ptrace process_vm_readv execve execveat \
	fork vfork clone-process clone-thread clone3 kill-parent kill-self \
	tgkill; do
	expect sniff "$p" killed
done
# Privilege and namespace changes, kernel interfaces. Without privileges
# the kernel may refuse some of these (EPERM) before it looks at the
# harmless arguments; under the filter they must still die of SIGSYS,
# which only the filter produces.
control=reached
[ "$(id -u)" = 0 ] || control="reached|eperm"
for p in mount umount2 pivot_root chroot unshare setns setuid setresuid \
	setgroups capset prctl bpf perf_event_open keyctl memfd_create; do
	expect sniff "$p" killed "$control"
done
# Argument filters: W^X, anonymous private memory only, getrandom and
# clocks only in their allowed forms, ioctl (TIOCSTI, CVE-2017-5226) and
# its high-bits variant (CVE-2019-10063).
for p in mmap-exec mmap-wx mmap-prot-high mmap-file mmap-shared \
	mprotect-exec pkey_mprotect-exec madvise-other mremap-fixed \
	ioctl-tiocsti ioctl-tiocsti-high getrandom-blocking clock-cputime; do
	expect sniff "$p" killed
done
# Numbers the policy never names and other architectures' entry points:
# without a filter the kernel answers ENOSYS itself.
expect sniff invalid-syscall killed enosys
expect sniff x32 killed enosys
ctl=$(run_probe int80 none)
if [ "$ctl" = reached ]; then
	expect sniff int80 killed
else
	echo "# int 0x80 without a filter gave '$ctl' (ia32 emulation off?): skipping int80"
fi

# ---- the loader refuses to run without NO_NEW_PRIVS -----------------
check "iw_seccomp_apply refuses without PR_SET_NO_NEW_PRIVS (-EPERM)" \
	test "$(run_probe nnp-required sniff)" = reached

# ---- the filter built is the policy, nothing more -------------------
pfc=$("$PROBE" --pfc sniff) || fail "--pfc sniff"
check "sniff: default action KILL_PROCESS" \
	grep -q '^  action KILL_PROCESS;$' <<<"$pfc"
[ "$(grep -A1 '^# invalid architecture action' <<<"$pfc" | tail -1)" = "action KILL_PROCESS;" ] &&
	pass "sniff: invalid architecture -> KILL_PROCESS" ||
	fail "sniff: invalid architecture action is not KILL_PROCESS"
check "sniff: one architecture only (x86_64)" \
	test "$(grep -c '^# filter for arch' <<<"$pfc")" = 1
filter_is_policy sniff

# ---- the real workload survives the policy --------------------------
# The sniffer's core (iw_probe + JSON) over real images, including the
# decompressors, under the sniff filter: a syscall the policy forgot
# would kill it, and the report must be the one produced with no filter.
sniff_under_policy() {
	local what=$1 file=$2 out ref rc
	ref=$("$PROBE" sniff-image none "$file" 2>/dev/null)
	out=$("$PROBE" sniff-image sniff "$file" 2>"$tmp/probe.err")
	rc=$?
	if [ $rc != 0 ]; then
		fail "$what: sniff under the policy: exit $rc $(head -c 200 "$tmp/probe.err")"
	elif ! jq -e '.format | strings' >/dev/null <<<"$out"; then
		fail "$what: sniff under the policy: no report: $(head -c 200 <<<"$out")"
	elif [ "$out" != "$ref" ]; then
		fail "$what: the report under the policy differs from the unfiltered one"
	else
		pass "$what: sniffed under the sniff policy ($(jq -r .format <<<"$out"))"
	fi
}
head -c 1048576 /dev/urandom >"$tmp/disk.raw"
sniff_under_policy "raw image" "$tmp/disk.raw"
if command -v qemu-img >/dev/null; then
	qemu-img create -q -f qcow2 "$tmp/disk.qcow2" 1G
	sniff_under_policy "qcow2 image" "$tmp/disk.qcow2"
	qemu-img create -q -f vmdk -o subformat=streamOptimized "$tmp/disk.vmdk" 64M
	sniff_under_policy "streamOptimized vmdk" "$tmp/disk.vmdk"
else
	echo "# qemu-img not installed: qcow2/vmdk workload skipped"
fi
for z in "gzip gz" "xz xz" "zstd zst" "bzip2 bz2"; do
	set -- $z
	if command -v "$1" >/dev/null; then
		"$1" -qc "$tmp/disk.raw" >"$tmp/disk.raw.$2" 2>/dev/null ||
			"$1" -c "$tmp/disk.raw" >"$tmp/disk.raw.$2"
		sniff_under_policy "$1-compressed image" "$tmp/disk.raw.$2"
	else
		echo "# $1 not installed: skipped"
	fi
done

# ---- convert: reads, writes, waits on its workers; starts nothing -------
for p in pread64 read write close brk mmap-rw mmap-none malloc-large \
	madvise-dontneed getrandom-nonblock clock-monotonic json; do
	expect convert "$p" reached
done
# no clone of any kind: the converter's threads exist before its filter
for p in openat open socket connect sendmsg recvmsg ptrace execve \
	execveat fork vfork clone-process clone-thread clone3 kill-parent \
	mount unshare mmap-exec mmap-wx mprotect-exec ioctl-tiocsti \
	ioctl-tiocsti-high; do
	expect convert "$p" killed
done
expect convert invalid-syscall killed enosys
expect convert x32 killed enosys
[ "$ctl" = reached ] && expect convert int80 killed
for p in setuid capset; do
	expect convert "$p" killed "$control"
done

# ---- ntfs: the scanner reads and answers; it does not even close ------
for p in pread64 read write brk mmap-rw mmap-none malloc-large \
	madvise-dontneed getrandom-nonblock json; do
	expect ntfs "$p" reached
done
for p in close clock-monotonic openat open newfstatat fstat lseek socket \
	connect sendmsg recvmsg ptrace execve execveat fork vfork \
	clone-process clone-thread clone3 kill-parent mount unshare mmap-exec \
	mmap-wx mmap-file mmap-shared mprotect-exec ioctl-tiocsti \
	ioctl-tiocsti-high getrandom-blocking; do
	expect ntfs "$p" killed
done
expect ntfs invalid-syscall killed enosys
expect ntfs x32 killed enosys
[ "$ctl" = reached ] && expect ntfs int80 killed
for p in setuid capset memfd_create; do
	expect ntfs "$p" killed "$control"
done
# ---- inject: wide (it runs qemu), but never past its own processes -----
# It opens, maps code, runs programs, threads and forks, talks UNIX
# sockets; it never traces, mounts, changes namespaces or credentials,
# loads BPF, reads keyrings or opens a network socket.
for p in pread64 read write close openat newfstatat fstat lseek mmap-rw \
	mmap-exec mprotect-exec mmap-file mmap-shared malloc-large \
	clone-thread clone3 socketpair memfd_create getrandom-blocking json; do
	expect inject "$p" reached
done
for p in socket ptrace process_vm_readv; do
	expect inject "$p" killed
done
# As for sniff: unprivileged, the kernel may refuse these before the
# arguments matter; under the filter they must still die of SIGSYS.
for p in mount umount2 pivot_root chroot unshare bpf perf_event_open keyctl; do
	expect inject "$p" killed "$control"
done
expect inject invalid-syscall killed enosys
expect inject x32 killed enosys
[ "$ctl" = reached ] && expect inject int80 killed
for p in setuid setresuid setgroups capset setns; do
	expect inject "$p" killed "$control"
done
filter_is_policy inject

filter_is_policy ntfs

finish
