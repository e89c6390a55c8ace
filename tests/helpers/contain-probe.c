/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * contain-probe: an escape attempt run as a helper, inside the real
 * sandbox, for tests/test-sandbox-containment.sh.
 *
 * The test copies this binary into a directory as "imgward-sniff" and
 * runs `imgward probe --helper-dir DIR FILE`, where FILE's first line is
 *     ATTACK [ARG]            full sandbox: Landlock + the sniff policy
 *     nofilter ATTACK [ARG]   every layer but seccomp (the broker is told
 *                             not to require it), to show what the other
 *                             layers hold on their own
 * Unlike seccomp-probe, the attacks here are real: they name real host
 * paths, real processes and real ports, so a success is an escape.
 *
 * The outcome comes back as a report whose format-specific data is
 *     {"attack": NAME, "result": "succeeded" | "<errno name>"}
 * or, when the filter kills the helper, as the broker's policy-violation.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

static long arg_number;

static long attack_open_host_file(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
}

static long attack_open_proc_status(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY);
}

static long attack_create_file(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/tmp/imgward-escape",
		       O_WRONLY | O_CREAT | O_EXCL, 0600);
}

/* The image fd is the one open file; ".." from it must lead nowhere. */
static long attack_openat_relative(void)
{
	return syscall(SYS_openat, IW_FD_INPUT, "../../etc/passwd", O_RDONLY);
}

static long attack_write_image(void)
{
	return syscall(SYS_write, IW_FD_INPUT, "x", 1);
}

static long attack_execve(void)
{
	char *const argv[] = { (char *)(uintptr_t) "sh", NULL };

	return syscall(SYS_execve, "/bin/sh", argv, NULL);
}

static long attack_tcp_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)arg_number),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return fd;
	return syscall(SYS_connect, fd, &sa, sizeof(sa));
}

static long attack_unix_socket(void)
{
	return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
}

/* another process of the host: the test's shell */
static long attack_kill_outside(void)
{
	return syscall(SYS_kill, (pid_t)arg_number, 0);
}

static long attack_kill_all(void)
{
	return syscall(SYS_kill, -1, 0);
}

static long attack_ptrace_outside(void)
{
	return syscall(SYS_ptrace, PTRACE_ATTACH, (pid_t)arg_number, 0, 0);
}

static long attack_fork(void)
{
	long r = syscall(SYS_fork);

	if (r == 0)
		_exit(0);
	return r;
}

static long attack_mount(void)
{
	return syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL);
}

static long attack_unshare_user(void)
{
	return syscall(SYS_unshare, CLONE_NEWUSER);
}

static long attack_setuid_root(void)
{
	return syscall(SYS_setuid, 0);
}

static long attack_capset(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	d[0].effective = d[0].permitted = 1u << CAP_SYS_ADMIN;
	return syscall(SYS_capset, &h, d);
}

static long attack_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? -1 : 0;
}

static long attack_ioctl_tiocsti(void)
{
	/* the high bits are what defeated EQ compares (CVE-2019-10063) */
	return syscall(SYS_ioctl, 0, (0x123UL << 32) | 0x5412 /* TIOCSTI */,
		       "x");
}

static long attack_int80(void)
{
	long r;

	/* 32-bit getpid (20) through the x86 compat entry */
	__asm__ volatile("int $0x80" : "=a"(r) : "0"(20L) : "memory");
	return r < 0 ? (errno = (int)-r, -1) : r;
}

static const struct {
	const char *name;
	long (*fn)(void);
} attacks[] = {
	{ "open-host-file", attack_open_host_file },
	{ "open-proc-status", attack_open_proc_status },
	{ "create-file", attack_create_file },
	{ "openat-relative", attack_openat_relative },
	{ "write-image", attack_write_image },
	{ "execve", attack_execve },
	{ "tcp-connect", attack_tcp_connect },
	{ "unix-socket", attack_unix_socket },
	{ "kill-outside", attack_kill_outside },
	{ "kill-all", attack_kill_all },
	{ "ptrace-outside", attack_ptrace_outside },
	{ "fork", attack_fork },
	{ "mount", attack_mount },
	{ "unshare-user", attack_unshare_user },
	{ "setuid-root", attack_setuid_root },
	{ "capset", attack_capset },
	{ "mmap-exec", attack_mmap_exec },
	{ "ioctl-tiocsti", attack_ioctl_tiocsti },
	{ "int80", attack_int80 },
};

static void report(const char *attack, const char *result)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"type\":\"result\",\"report\":{\"format\":\"raw\","
		 "\"verdict\":\"safe\",\"format-specific\":{\"type\":\"raw\","
		 "\"data\":{\"attack\":\"%s\",\"result\":\"%s\"}},"
		 "\"references\":[],\"findings\":[],\"matches\":[]}}\n",
		 attack, result);
	(void)!write(IW_FD_CONTROL, buf, strlen(buf));
}

int main(void)
{
	struct iw_helper h = { .name = "sniff" };
	char line[128] = "", *name;
	bool filter = true;
	long (*fn)(void) = NULL;
	ssize_t n;
	long r;
	int e;

	n = pread(IW_FD_INPUT, line, sizeof(line) - 1, 0);
	if (n <= 0)
		iw_helper_fail("internal", "no attack named");
	line[strcspn(line, "\n")] = '\0';
	name = line;
	if (strncmp(name, "nofilter ", 9) == 0) {
		filter = false;
		name += 9;
	}
	if (strchr(name, ' ')) {
		arg_number = strtol(strchr(name, ' ') + 1, NULL, 10);
		*strchr(name, ' ') = '\0';
	}
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++)
		if (strcmp(attacks[i].name, name) == 0)
			fn = attacks[i].fn;
	if (!fn)
		iw_helper_fail("internal", "unknown attack");

	iw_helper_warm_up();
	if (filter) {
		if (iw_helper_enter_sandbox(&h, &iw_policy_sniff) < 0)
			iw_helper_fail("sandbox-failed", "sandbox");
	} else if (iw_landlock_deny_all(&h.landlock) < 0) {
		iw_helper_fail("sandbox-failed", "landlock");
	}
	if (iw_helper_ready(&h) < 0)
		_exit(1);

	errno = 0;
	r = fn();
	e = errno;
	if (r >= 0)
		report(name, "succeeded");
	else
		report(name, strerrorname_np(e) ? strerrorname_np(e) : "?");
	return 0;
}
