/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pre-exec layers, in design.md's order. Each step's failure is
 * reported to the parent (stage + errno) and ends the child: a helper
 * never starts half-sandboxed. What a layer could not do because the
 * system lacks it (no user namespaces, no AppArmor) is decided by the
 * parent before clone3, never silently here.
 */
#include "sandbox.h"

#include <cap-ng.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/apparmor.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

static const char *const stage_names[] = {
	[STAGE_PARENT_DEATH] = "parent-death signal",
	[STAGE_SIGNALS] = "signal reset",
	[STAGE_USER_NAMESPACE] = "user namespace id maps",
	[STAGE_MOUNT_NAMESPACE] = "empty root in the mount namespace",
	[STAGE_FDS] = "file descriptor setup",
	[STAGE_RLIMITS] = "resource limits",
	[STAGE_IDS] = "switch to the helper uid/gid",
	[STAGE_CAPABILITIES] = "dropping capabilities",
	[STAGE_NO_NEW_PRIVS] = "no_new_privs",
	[STAGE_APPARMOR] = "AppArmor profile change",
	[STAGE_EXEC] = "exec of the helper",
};

const char *sandbox_stage_name(enum sandbox_stage s)
{
	if ((unsigned)s < ARRAY_SIZE(stage_names) && stage_names[s])
		return stage_names[s];
	return "sandbox setup";
}

_noreturn_ static void die_stage(const struct sandbox_child *c, int stage,
				 int err)
{
	struct sandbox_status st = { .stage = stage, .err = err };

	(void)!write(c->status_fd, &st, sizeof(st));
	_exit(127);
}

static int write_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0 || (size_t)n != len) {
		int e = n < 0 ? errno : EIO;
		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

/* Map exactly one id: the broker's own. The helper is that user inside,
 * with no way to become anyone else. */
static int map_ids(const struct sandbox_child *c)
{
	char buf[64];
	int r;

	snprintf(buf, sizeof(buf), "%u %u 1\n", (unsigned)c->outer_uid,
		 (unsigned)c->outer_uid);
	r = write_file("/proc/self/uid_map", buf);
	if (r < 0)
		return r;
	r = write_file("/proc/self/setgroups", "deny");
	if (r < 0 && r != -ENOENT)
		return r;
	snprintf(buf, sizeof(buf), "%u %u 1\n", (unsigned)c->outer_gid,
		 (unsigned)c->outer_gid);
	return write_file("/proc/self/gid_map", buf);
}

/*
 * Replace the root with an empty, read-only tmpfs: after exec the helper
 * can name no file at all (it is statically linked and was opened by fd
 * before we got here). The old root is detached, not just hidden.
 */
static int empty_root(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("imgward", "/tmp", "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2,mode=0555") < 0)
		return -errno;
	if (chdir("/tmp") < 0)
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
			  MS_NOEXEC,
		  NULL) < 0)
		return -errno;
	return 0;
}

/* Move every fd we keep above the target range, then place them at 0-4+
 * and close everything else. dup2() leaves the targets without
 * FD_CLOEXEC, which is what survives exec; the status pipe and the exec
 * fd move up too (they may sit where a target goes) and stay CLOEXEC. */
static int arrange_fds(struct sandbox_child *c)
{
	const int base = 3 + IW_MAX_DATA_FDS + 8;
	int devnull, control, data[IW_MAX_DATA_FDS];

	if (c->n_fds > IW_MAX_DATA_FDS)
		return -EMFILE;
	c->status_fd = fcntl(c->status_fd, F_DUPFD_CLOEXEC, base);
	if (c->status_fd < 0)
		return -errno;
	c->exec_fd = fcntl(c->exec_fd, F_DUPFD_CLOEXEC, base);
	devnull = fcntl(c->devnull_fd, F_DUPFD_CLOEXEC, base);
	control = fcntl(c->control_fd, F_DUPFD_CLOEXEC, base);
	if (c->exec_fd < 0 || devnull < 0 || control < 0)
		return -errno;
	for (size_t i = 0; i < c->n_fds; i++) {
		data[i] = fcntl(c->fds[i], F_DUPFD_CLOEXEC, base);
		if (data[i] < 0)
			return -errno;
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(devnull, fd) < 0)
			return -errno;
	if (dup2(control, IW_FD_CONTROL) < 0)
		return -errno;
	for (size_t i = 0; i < c->n_fds; i++)
		if (dup2(data[i], IW_FD_INPUT + (int)i) < 0)
			return -errno;
	for (int fd = IW_FD_INPUT + (int)c->n_fds; fd < base; fd++)
		close(fd);
	/* everything from base up (our moved copies included) closes at exec */
	if (syscall(SYS_close_range, (unsigned)base, ~0U,
		    CLOSE_RANGE_CLOEXEC) < 0) {
		/* kernels before 5.11 */
		for (int fd = base; fd < 65536; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

static int set_limit(int resource, uint64_t value)
{
	struct rlimit rl = { .rlim_cur = value, .rlim_max = value };

	/* "unlimited": keep what the broker has (raising a limit needs a
	 * privilege the child may already have dropped) */
	if (value == UINT64_MAX)
		return 0;
	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

static int apply_rlimits(const struct iw_limits *l)
{
	int r;

	if ((r = set_limit(RLIMIT_AS, l->address_space)) < 0 ||
	    (r = set_limit(RLIMIT_CPU, l->cpu_seconds)) < 0 ||
	    (r = set_limit(RLIMIT_FSIZE, l->file_size)) < 0 ||
	    (r = set_limit(RLIMIT_NOFILE, l->open_files)) < 0 ||
	    (r = set_limit(RLIMIT_CORE, l->core)) < 0 ||
	    (r = set_limit(RLIMIT_MEMLOCK, 0)) < 0 ||
	    (r = set_limit(RLIMIT_MSGQUEUE, 0)) < 0)
		return r;
	return 0;
}

/*
 * Ids and capabilities (libcap-ng clears every set). Order matters: the
 * bounding set can only shrink while CAP_SETPCAP is held, so it goes
 * first; then the ids (root -> unprivileged clears the permitted and
 * effective sets in the kernel too); then the remaining sets.
 * setgroups/setresgid/setresuid are called directly rather than through
 * capng_change_id(), which would pull NSS (getpwuid) into the broker.
 */
static int drop_privileges(const struct sandbox_child *c, int *ret_stage)
{
	capng_clear(CAPNG_SELECT_ALL);
	*ret_stage = STAGE_CAPABILITIES;
	if (capng_apply(CAPNG_SELECT_BOUNDS) < 0 && c->switch_ids)
		return -EPERM;
	/* an unprivileged broker without a user namespace cannot shrink the
	 * bounding set; nothing is effective anyway, and the parent's /proc
	 * check reports it if no-capabilities is required */
	if (c->switch_ids) {
		*ret_stage = STAGE_IDS;
		if (setgroups(0, NULL) < 0 ||
		    setresgid(c->gid, c->gid, c->gid) < 0 ||
		    setresuid(c->uid, c->uid, c->uid) < 0)
			return -errno;
	}
	*ret_stage = STAGE_CAPABILITIES;
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return -EPERM;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	return 0;
}

void sandbox_child_exec(const struct sandbox_child *child)
{
	struct sandbox_child copy = *child, *c = &copy;
	sigset_t all;
	int r;

	/* 1. die with the broker */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die_stage(c, STAGE_PARENT_DEATH, errno);
	/* in a new PID namespace our parent is outside it: ppid reads 0 */
	if (getppid() != (c->new_pid_ns ? 0 : c->parent_pid))
		die_stage(c, STAGE_PARENT_DEATH, ESRCH);

	/* ignored dispositions and the signal mask survive exec */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)signal(s, SIG_DFL);
	sigemptyset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
		die_stage(c, STAGE_SIGNALS, errno);
	if (setsid() < 0)
		die_stage(c, STAGE_SIGNALS, errno);

	/* 3. namespaces (created by clone3); finish their setup */
	if (c->new_user_ns && (r = map_ids(c)) < 0)
		die_stage(c, STAGE_USER_NAMESPACE, -r);
	if (c->new_mount_ns && (r = empty_root()) < 0)
		die_stage(c, STAGE_MOUNT_NAMESPACE, -r);

	if ((r = arrange_fds(c)) < 0)
		die_stage(c, STAGE_FDS, -r);

	/* 2. resource limits (NPROC after the id switch, see below) */
	if ((r = apply_rlimits(c->limits)) < 0)
		die_stage(c, STAGE_RLIMITS, -r);

	/* 4. ids and capabilities */
	{
		int stage;
		if ((r = drop_privileges(c, &stage)) < 0)
			die_stage(c, stage, -r);
	}
	/* Set after setresuid(): a setuid to a user already at its NPROC
	 * limit would mark us PF_NPROC_EXCEEDED and fail the exec. */
	if ((r = set_limit(RLIMIT_NPROC, c->limits->processes)) < 0)
		die_stage(c, STAGE_RLIMITS, -r);

	/* 5. no_new_privs: exec can never grant privileges again */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_stage(c, STAGE_NO_NEW_PRIVS, errno);
	/* (Not PR_SET_DUMPABLE here: it is a property of the address space,
	 * which this child shares with the broker (CLONE_VM), and exec
	 * resets it anyway. The helper sets it itself: lib/helper.c.) */

	/* 6. AppArmor: the helper's own profile from exec on */
	if (c->apparmor_profile) {
		if (c->apparmor_stack)
			r = aa_stack_onexec(c->apparmor_profile);
		else
			r = aa_change_onexec(c->apparmor_profile);
		if (r < 0)
			die_stage(c, STAGE_APPARMOR, errno);
	}

	syscall(SYS_execveat, c->exec_fd, "", c->argv, c->envp, AT_EMPTY_PATH);
	die_stage(c, STAGE_EXEC, errno);
}
