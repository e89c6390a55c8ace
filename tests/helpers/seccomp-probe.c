/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seccomp-probe: apply one compiled seccomp policy, attempt one system
 * call, report by exit status. tests/test-policy-seccomp.sh runs every
 * probe against every policy it knows the answer for; the broker tests can
 * run it as a fake helper inside the real sandbox.
 *
 *   seccomp-probe PROBE POLICY [FILE]   POLICY "none" = no filter (control)
 *   seccomp-probe --list                probe names, one a line
 *   seccomp-probe --pfc POLICY          the filter as libseccomp PFC text
 *
 * Exit status: 0 the call reached the kernel (for a "functional" probe:
 * and did its job), 10 it failed with EPERM, 11 with ENOSYS, 5 a
 * functional probe failed otherwise, 2 usage, 3 setup failed before the
 * filter, 4 the policy did not load; death by SIGSYS = killed by the
 * filter.
 *
 * bubblewrap's try-syscall trick: a denied probe passes arguments that make
 * the call fail harmlessly (EBADF, EFAULT, EINVAL) or do nothing lasting if
 * the kernel ever sees it, and never ones the kernel itself would answer
 * with EPERM or ENOSYS, so 10, 11 or SIGSYS can only come from the filter.
 * The "none" control run proves that for each probe on this machine.
 *
 * After the filter only raw system calls and pure library code run here:
 * no stdio (its first write calls fstat), no getpid() (not in the policy);
 * everything a probe needs is prepared before iw_seccomp_apply().
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "report.h"
#include "seccomp-policy.h"
#include "view-fd.h"

enum {
	EXIT_REACHED = 0,
	EXIT_USAGE = 2,
	EXIT_SETUP = 3,
	EXIT_LOAD = 4,
	EXIT_BROKEN = 5,
	EXIT_EPERM = 10,
	EXIT_ENOSYS = 11,
};

/* Every compiled policy (build/gen/policy-*.c): add new helpers here. */
static const struct {
	const char *name;
	const struct iw_seccomp_policy *policy;
} policies[] = {
	{ "sniff", &iw_policy_sniff },
	{ "convert", &iw_policy_convert },
	{ "ntfs", &iw_policy_ntfs },
	{ "inject", &iw_policy_inject },
};

/* What the probes need, prepared before the filter goes on. */
static struct {
	int file_fd;		/* this executable, read-only */
	int pipe_r, pipe_w;	/* a pipe holding one byte */
	int spare_fd;		/* a dup of file_fd, for close */
	pid_t pid, ppid;
	void *page;		/* one RW anonymous page */
	const char *image;	/* FILE argument */
	int image_fd;
	uint64_t image_size;
	struct iw_report report;
} ctx = { .file_fd = -1, .image_fd = -1 };

/* ---- probes: return the call's result, -1 with errno on failure ------ */

static long probe_pread64(void)
{
	unsigned char b[4];
	ssize_t n = pread(ctx.file_fd, b, sizeof(b), 0);

	if (n != 4)
		return n < 0 ? -1 : (errno = EIO, -1);
	if (memcmp(b, "\177ELF", 4) != 0)
		return errno = EIO, -1;
	return 0;
}

static long probe_read(void)
{
	char c;

	return read(ctx.pipe_r, &c, 1) == 1 ? 0 : -1;
}

static long probe_write(void)
{
	return write(ctx.pipe_w, "x", 1) == 1 ? 0 : -1;
}

static long probe_close(void)
{
	return close(ctx.spare_fd);
}

static long probe_brk(void)
{
	return syscall(SYS_brk, 0) > 0 ? 0 : (errno = EIO, -1);
}

static long probe_mmap_rw(void)
{
	void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	memset(p, 1, 65536);
	return munmap(p, 65536);
}

static long probe_mmap_none(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? -1 : 0;
}

/* malloc/realloc/free big enough to take the mmap, mremap and munmap
 * paths of glibc's allocator. */
static long probe_malloc_large(void)
{
	char *p = malloc(1 << 20), *q;

	if (!p)
		return -1;
	memset(p, 1, 1 << 20);
	q = realloc(p, 8 << 20);
	if (!q)
		return free(p), -1;
	memset(q, 2, 8 << 20);
	free(q);
	return 0;
}

static long probe_madvise_dontneed(void)
{
	return madvise(ctx.page, 4096, MADV_DONTNEED);
}

static long probe_getrandom_nonblock(void)
{
	char b[8];

	return getrandom(b, sizeof(b), GRND_NONBLOCK) == 8 ? 0 : -1;
}

static long probe_clock_monotonic(void)
{
	struct timespec ts;

	/* the syscall itself, not the vDSO */
	return syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
}

/* json-c's first hash-table use after the filter: getrandom backstop. */
static long probe_json(void)
{
	json_object *o = json_object_new_object();
	const char *s;
	long r = -1;

	if (!o)
		return -1;
	if (json_object_object_add(o, "format", json_object_new_string("raw")) == 0) {
		s = json_object_to_json_string(o);
		if (s && write(ctx.pipe_w, s, strlen(s)) > 0)
			r = 0;
	}
	json_object_put(o);
	return r;
}

/* The real workload: the sniffer's core over FILE, JSON to stdout (a pipe
 * in the tests: RLIMIT_FSIZE would kill a helper writing to a file). */
static long probe_sniff_image(void)
{
	struct iw_view v;
	json_object *j;
	const char *s;
	size_t len;
	int r;

	if (ctx.image_fd < 0)
		return errno = EINVAL, -1;
	iw_view_init_fd(&v, ctx.image_fd, ctx.image_size);
	r = iw_probe(&v, &ctx.report);
	if (r < 0)
		return errno = -r, -1;
	j = iw_report_to_json(&ctx.report);
	if (!j)
		return errno = ENOMEM, -1;
	s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	len = strlen(s);
	if (write(STDOUT_FILENO, s, len) != (ssize_t)len ||
	    write(STDOUT_FILENO, "\n", 1) != 1)
		return -1;
	json_object_put(j);
	iw_report_done(&ctx.report);
	return close(ctx.image_fd);
}

static long probe_openat(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
}

static long probe_open(void)
{
	return syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CLOEXEC);
}

static long probe_newfstatat(void)
{
	return syscall(SYS_newfstatat, AT_FDCWD, (void *)1, (void *)1, 0);
}

static long probe_socket(void)
{
	return syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static long probe_socketpair(void)
{
	return syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (void *)1);
}

static long probe_connect(void)
{
	return syscall(SYS_connect, -1, NULL, 0);
}

/* sendmsg is how an fd would be smuggled to the broker (SCM_RIGHTS). */
static long probe_sendmsg(void)
{
	return syscall(SYS_sendmsg, -1, NULL, 0);
}

static long probe_recvmsg(void)
{
	return syscall(SYS_recvmsg, -1, NULL, 0);
}

static long probe_ptrace(void)
{
	return syscall(SYS_ptrace, PTRACE_ATTACH, -1, NULL, NULL);
}

static long probe_process_vm_readv(void)
{
	return syscall(SYS_process_vm_readv, ctx.ppid, NULL, 0, NULL, 0, 0);
}

static long probe_execve(void)
{
	return syscall(SYS_execve, NULL, NULL, NULL);
}

static long probe_execveat(void)
{
	return syscall(SYS_execveat, -1, "", NULL, NULL, AT_EMPTY_PATH);
}

/* A child that leaves at once if the kernel ever creates it. */
static long fork_like(long r)
{
	if (r == 0)
		_exit(0);
	return r < 0 ? -1 : 0;
}

static long probe_fork(void)
{
	return fork_like(syscall(SYS_fork));
}

static long probe_vfork(void)
{
	/* not vfork(): the child would share our stack */
	return fork_like(syscall(SYS_clone, CLONE_VFORK | SIGCHLD, 0, 0, 0, 0));
}

static long probe_clone_process(void)
{
	return fork_like(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
}

/* CLONE_THREAD without CLONE_SIGHAND: EINVAL if it reaches the kernel. */
static long probe_clone_thread(void)
{
	return syscall(SYS_clone, CLONE_THREAD, 0, 0, 0, 0);
}

static long probe_clone3(void)
{
	return syscall(SYS_clone3, NULL, 0);
}

static long probe_kill_parent(void)
{
	return syscall(SYS_kill, ctx.ppid, 0);
}

static long probe_kill_self(void)
{
	return syscall(SYS_kill, ctx.pid, 0);
}

static long probe_tgkill(void)
{
	return syscall(SYS_tgkill, ctx.pid, ctx.pid, 0);
}

/* glibc's abort path (libc.inc): the process must die of SIGABRT. */
static long probe_abort(void)
{
	abort();
}

/* A _FORTIFY_SOURCE failure: writev of the message to stderr, then abort. */
static long probe_fortify(void)
{
	char src[16] = "0123456789abcde", dst[8];
	volatile size_t n = sizeof(src);

	memcpy(dst, src, n);
	return dst[0];
}

/* tgkill SIGABRT to ourselves is allowed: tid -1 makes it EINVAL. */
static long probe_tgkill_self_abrt(void)
{
	return syscall(SYS_tgkill, ctx.pid, -1, SIGABRT);
}

/* ... to any other process it is not (tid -1: harmless in the control). */
static long probe_tgkill_other_abrt(void)
{
	return syscall(SYS_tgkill, ctx.ppid, -1, SIGABRT);
}

static long probe_writev_stderr(void)
{
	static char empty[1];
	struct iovec iov = { .iov_base = empty, .iov_len = 0 };

	return syscall(SYS_writev, STDERR_FILENO, &iov, 1);
}

static long probe_writev_other(void)
{
	static char x[1] = { 'x' };
	struct iovec iov = { .iov_base = x, .iov_len = 1 };

	return syscall(SYS_writev, ctx.pipe_w, &iov, 1);
}

static long probe_mount(void)
{
	return syscall(SYS_mount, (void *)1, (void *)1, (void *)1, 0, NULL);
}

static long probe_umount2(void)
{
	return syscall(SYS_umount2, (void *)1, 0);
}

static long probe_pivot_root(void)
{
	return syscall(SYS_pivot_root, (void *)1, (void *)1);
}

static long probe_chroot(void)
{
	return syscall(SYS_chroot, (void *)1);
}

static long probe_unshare(void)
{
	/* every flag bit: EINVAL from the kernel */
	return syscall(SYS_unshare, -1L);
}

static long probe_setns(void)
{
	return syscall(SYS_setns, -1, 0);
}

/* uid -1 is invalid: EINVAL, whoever we are. */
static long probe_setuid(void)
{
	return syscall(SYS_setuid, -1);
}

static long probe_setresuid(void)
{
	return syscall(SYS_setresuid, -1, -1, -1);
}

static long probe_setgroups(void)
{
	return syscall(SYS_setgroups, -1, NULL);
}

static long probe_capset(void)
{
	return syscall(SYS_capset, NULL, NULL);
}

static long probe_prctl(void)
{
	return syscall(SYS_prctl, PR_CAPBSET_READ, -1L, 0, 0, 0);
}

static long probe_bpf(void)
{
	return syscall(SYS_bpf, -1, NULL, 0);
}

static long probe_perf_event_open(void)
{
	return syscall(SYS_perf_event_open, (void *)1, 0, -1, -1, 0);
}

static long probe_keyctl(void)
{
	return syscall(SYS_keyctl, -1L, 0, 0, 0, 0);
}

static long probe_memfd_create(void)
{
	return syscall(SYS_memfd_create, (void *)1, 0);
}

static long probe_mmap_exec(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0;
}

static long probe_mmap_wx(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0;
}

/* PROT_READ with a bit above 31 set: a 32-bit compare would let it by */
static long probe_mmap_prot_high(void)
{
	long r = syscall(SYS_mmap, NULL, 4096, (1UL << 32) | PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return r == -1 ? -1 : 0;
}

/* mapping a file (the image, the socket) instead of anonymous memory */
static long probe_mmap_file(void)
{
	return mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ctx.file_fd, 0) ==
			       MAP_FAILED ?
		       -1 :
		       0;
}

static long probe_mmap_shared(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0;
}

static long probe_mprotect_exec(void)
{
	return mprotect(ctx.page, 4096, PROT_READ | PROT_EXEC);
}

static long probe_pkey_mprotect_exec(void)
{
	return syscall(SYS_pkey_mprotect, ctx.page, 4096, PROT_READ | PROT_EXEC, -1);
}

static long probe_madvise_other(void)
{
	return madvise(ctx.page, 4096, MADV_DONTFORK);
}

static long probe_mremap_fixed(void)
{
	/* MREMAP_FIXED to address 1: EINVAL from the kernel */
	return syscall(SYS_mremap, ctx.page, 4096, 4096,
		       MREMAP_MAYMOVE | MREMAP_FIXED, (void *)1);
}

/* TIOCSTI pushes input into a terminal (CVE-2017-5226); fd -1 keeps the
 * control run harmless. */
static long probe_ioctl_tiocsti(void)
{
	return syscall(SYS_ioctl, -1, TIOCSTI, "x");
}

/* CVE-2019-10063: the kernel ignores the upper 32 bits of the command, a
 * 64-bit compare does not. */
static long probe_ioctl_tiocsti_high(void)
{
	return syscall(SYS_ioctl, -1, (0x123UL << 32) | TIOCSTI, "x");
}

static long probe_getrandom_blocking(void)
{
	char b[8];

	return getrandom(b, sizeof(b), 0) == 8 ? 0 : -1;
}

static long probe_clock_cputime(void)
{
	struct timespec ts;

	return syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts);
}

static long probe_lseek(void)
{
	return syscall(SYS_lseek, ctx.file_fd, 0, SEEK_SET);
}

static long probe_fstat(void)
{
	struct stat st;

	return syscall(SYS_fstat, ctx.file_fd, &st);
}

static long probe_getpid(void)
{
	return syscall(SYS_getpid);
}

static long probe_invalid_syscall(void)
{
	return syscall(1000);
}

/* The x32 ABI enters with bit 30 set in the syscall number; x32 getpid. */
static long probe_x32(void)
{
#ifdef __x86_64__
	return syscall(0x40000000 | SYS_getpid);
#else
	return errno = ENOSYS, -1;
#endif
}

/* A 32-bit system call from a 64-bit process: i386 getpid (20). */
static long probe_int80(void)
{
#ifdef __x86_64__
	long r;

	/* the compat entry may not preserve r8-r15 */
	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "0"(20L)
			 : "memory", "r8", "r9", "r10", "r11", "r12", "r13",
			   "r14", "r15");
	if (r < 0 && r > -4096)
		return errno = (int)-r, -1;
	return 0;
#else
	return errno = ENOSYS, -1;
#endif
}

static const struct probe {
	const char *name;
	long (*fn)(void);
	bool functional;	/* must succeed, not just reach the kernel */
} probes[] = {
	{ "pread64", probe_pread64, true },
	{ "read", probe_read, true },
	{ "write", probe_write, true },
	{ "close", probe_close, true },
	{ "brk", probe_brk, true },
	{ "mmap-rw", probe_mmap_rw, true },
	{ "mmap-none", probe_mmap_none, true },
	{ "malloc-large", probe_malloc_large, true },
	{ "madvise-dontneed", probe_madvise_dontneed, true },
	{ "getrandom-nonblock", probe_getrandom_nonblock, true },
	{ "clock-monotonic", probe_clock_monotonic, true },
	{ "json", probe_json, true },
	{ "sniff-image", probe_sniff_image, true },
	{ "openat", probe_openat, false },
	{ "open", probe_open, false },
	{ "newfstatat", probe_newfstatat, false },
	{ "fstat", probe_fstat, false },
	{ "lseek", probe_lseek, false },
	{ "socket", probe_socket, false },
	{ "socketpair", probe_socketpair, false },
	{ "connect", probe_connect, false },
	{ "sendmsg", probe_sendmsg, false },
	{ "recvmsg", probe_recvmsg, false },
	{ "ptrace", probe_ptrace, false },
	{ "process_vm_readv", probe_process_vm_readv, false },
	{ "execve", probe_execve, false },
	{ "execveat", probe_execveat, false },
	{ "fork", probe_fork, false },
	{ "vfork", probe_vfork, false },
	{ "clone-process", probe_clone_process, false },
	{ "clone-thread", probe_clone_thread, false },
	{ "clone3", probe_clone3, false },
	{ "kill-parent", probe_kill_parent, false },
	{ "kill-self", probe_kill_self, false },
	{ "getpid", probe_getpid, false },
	{ "tgkill", probe_tgkill, false },
	{ "tgkill-self-abrt", probe_tgkill_self_abrt, false },
	{ "tgkill-other-abrt", probe_tgkill_other_abrt, false },
	{ "writev-stderr", probe_writev_stderr, false },
	{ "writev-other", probe_writev_other, false },
	{ "abort", probe_abort, false },
	{ "fortify", probe_fortify, false },
	{ "mount", probe_mount, false },
	{ "umount2", probe_umount2, false },
	{ "pivot_root", probe_pivot_root, false },
	{ "chroot", probe_chroot, false },
	{ "unshare", probe_unshare, false },
	{ "setns", probe_setns, false },
	{ "setuid", probe_setuid, false },
	{ "setresuid", probe_setresuid, false },
	{ "setgroups", probe_setgroups, false },
	{ "capset", probe_capset, false },
	{ "prctl", probe_prctl, false },
	{ "bpf", probe_bpf, false },
	{ "perf_event_open", probe_perf_event_open, false },
	{ "keyctl", probe_keyctl, false },
	{ "memfd_create", probe_memfd_create, false },
	{ "mmap-exec", probe_mmap_exec, false },
	{ "mmap-wx", probe_mmap_wx, false },
	{ "mmap-prot-high", probe_mmap_prot_high, false },
	{ "mmap-file", probe_mmap_file, false },
	{ "mmap-shared", probe_mmap_shared, false },
	{ "mprotect-exec", probe_mprotect_exec, false },
	{ "pkey_mprotect-exec", probe_pkey_mprotect_exec, false },
	{ "madvise-other", probe_madvise_other, false },
	{ "mremap-fixed", probe_mremap_fixed, false },
	{ "ioctl-tiocsti", probe_ioctl_tiocsti, false },
	{ "ioctl-tiocsti-high", probe_ioctl_tiocsti_high, false },
	{ "getrandom-blocking", probe_getrandom_blocking, false },
	{ "clock-cputime", probe_clock_cputime, false },
	{ "invalid-syscall", probe_invalid_syscall, false },
	{ "x32", probe_x32, false },
	{ "int80", probe_int80, false },
};

static const struct iw_seccomp_policy *find_policy(const char *name)
{
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcmp(policies[i].name, name) == 0)
			return policies[i].policy;
	return NULL;
}

static int setup(void)
{
	int p[2];
	struct stat st;

	ctx.pid = getpid();
	ctx.ppid = getppid();
	ctx.file_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (ctx.file_fd < 0)
		return -1;
	ctx.spare_fd = fcntl(ctx.file_fd, F_DUPFD_CLOEXEC, 3);
	if (ctx.spare_fd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	ctx.pipe_r = p[0];
	ctx.pipe_w = p[1];
	if (write(ctx.pipe_w, "g", 1) != 1)
		return -1;
	ctx.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ctx.page == MAP_FAILED)
		return -1;
	if (ctx.image) {
		ctx.image_fd = open(ctx.image, O_RDONLY | O_CLOEXEC);
		if (ctx.image_fd < 0 || fstat(ctx.image_fd, &st) < 0)
			return -1;
		ctx.image_size = (uint64_t)st.st_size;
	}
	/* done by the helper before its filter too (lib/helper.h) */
	if (iw_report_init(&ctx.report) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const struct iw_seccomp_policy *policy = NULL;
	const struct probe *probe = NULL;
	long r;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			printf("%s\n", probes[i].name);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--pfc") == 0) {
		policy = find_policy(argv[2]);
		if (!policy)
			return EXIT_USAGE;
		fflush(stdout);
		r = iw_seccomp_export_pfc(policy, STDOUT_FILENO);
		if (r < 0)
			fprintf(stderr, "export: %s\n", strerror((int)-r));
		return r < 0 ? EXIT_LOAD : 0;
	}
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s PROBE POLICY|none [FILE]\n"
				"       %s --list | --pfc POLICY\n",
			argv[0], argv[0]);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (strcmp(probes[i].name, argv[1]) == 0)
			probe = &probes[i];
	if (strcmp(argv[2], "none") != 0) {
		policy = find_policy(argv[2]);
		if (!policy) {
			fprintf(stderr, "unknown policy %s\n", argv[2]);
			return EXIT_USAGE;
		}
	}
	/* "nnp-required": the loader must refuse when the broker forgot
	 * PR_SET_NO_NEW_PRIVS (exit 0 when it returns -EPERM). */
	if (strcmp(argv[1], "nnp-required") == 0) {
		if (!policy)
			return EXIT_USAGE;
		r = iw_seccomp_apply(policy);
		return r == -EPERM ? EXIT_REACHED : EXIT_BROKEN;
	}
	if (!probe) {
		fprintf(stderr, "unknown probe %s (--list)\n", argv[1]);
		return EXIT_USAGE;
	}
	ctx.image = argc == 4 ? argv[3] : NULL;
	if (setup() < 0) {
		fprintf(stderr, "setup: %s\n", strerror(errno));
		return EXIT_SETUP;
	}
	/* as the broker does before exec (design.md, layer 5) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("PR_SET_NO_NEW_PRIVS");
		return EXIT_SETUP;
	}
	fflush(NULL);
	if (policy) {
		r = iw_seccomp_apply(policy);
		if (r < 0) {
			fprintf(stderr, "iw_seccomp_apply(%s): %s\n", policy->name,
				strerror((int)-r));
			return EXIT_LOAD;
		}
	}

	/* From here on: raw system calls only (see the top comment). */
	errno = 0;
	r = probe->fn();
	if (r == -1 && errno == EPERM)
		_exit(EXIT_EPERM);
	if (r == -1 && errno == ENOSYS)
		_exit(EXIT_ENOSYS);
	if (probe->functional && r == -1)
		_exit(EXIT_BROKEN);
	_exit(EXIT_REACHED);
}
