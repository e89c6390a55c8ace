/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The broker side of a helper's life (see spawn.h). The protocol is a
 * small state machine in the OpenSSH monitor's spirit: the first message
 * must be "ready", then any number of "progress" messages (only if the
 * caller takes them), then exactly one "result" or "error", then EOF.
 * Anything else ends the helper.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/apparmor.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "jsonlimits.h"
#include "landlock.h"
#include "report.h"
#include "sandbox.h"

/* One message (line) may not exceed this, whatever the total cap. */
#define MAX_LINE (1u << 20)

struct flag_name {
	const char *name;
	unsigned flag;
};

static const struct flag_name layer_names[] = {
	{ "seccomp", IW_LAYER_SECCOMP },
	{ "no-new-privs", IW_LAYER_NO_NEW_PRIVS },
	{ "no-capabilities", IW_LAYER_NO_CAPS },
	{ "landlock", IW_LAYER_LANDLOCK },
	{ "namespaces", IW_LAYER_NAMESPACES },
	{ "apparmor", IW_LAYER_APPARMOR },
	{ "unprivileged", IW_LAYER_UNPRIVILEGED },
};

/* the namespaces a caller may ask for; "user" is added by the broker
 * itself when it is not root */
static const struct flag_name ns_names[] = {
	{ "user", CLONE_NEWUSER }, { "mount", CLONE_NEWNS },
	{ "pid", CLONE_NEWPID },   { "net", CLONE_NEWNET },
	{ "ipc", CLONE_NEWIPC },   { "uts", CLONE_NEWUTS },
	{ "cgroup", CLONE_NEWCGROUP },
};

/* "a,b,c" or "none" -> OR of the named flags; -EINVAL on an unknown or
 * empty name */
static int parse_flag_list(const char *s, const struct flag_name *table,
			   size_t n_table, unsigned *ret)
{
	unsigned flags = 0;
	const char *p = s;

	if (strcmp(s, "none") == 0) {
		*ret = 0;
		return 0;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		bool found = false;

		for (size_t i = 0; i < n_table; i++)
			if (strlen(table[i].name) == n &&
			    strncmp(table[i].name, p, n) == 0) {
				flags |= table[i].flag;
				found = true;
			}
		if (!found)
			return -EINVAL;
		p += n;
		if (*p == ',')
			p++;
	}
	*ret = flags;
	return 0;
}

int iw_layers_parse(const char *s, unsigned *ret)
{
	if (strcmp(s, "default") == 0) {
		*ret = IW_LAYERS_DEFAULT;
		return 0;
	}
	return parse_flag_list(s, layer_names, ARRAY_SIZE(layer_names), ret);
}

int iw_namespaces_parse(const char *s, int *ret)
{
	unsigned flags;
	int r;

	/* ns_names[0] is "user": not the caller's to choose */
	r = parse_flag_list(s, ns_names + 1, ARRAY_SIZE(ns_names) - 1, &flags);
	if (r < 0)
		return r;
	*ret = (int)flags;
	return 0;
}

void helper_outcome_done(struct helper_outcome *o)
{
	json_object_put(o->result);
	json_object_put(o->sandbox);
	o->result = o->sandbox = NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reading the helper's messages ---------------------------------- */

struct reader {
	int fd;
	char *buf;
	size_t len, cap;
	uint64_t total, limit;
	bool eof;
};

/* Receive what is there. Any ancillary data is a protocol violation:
 * the broker never accepts an fd from a helper; received fds are closed
 * at once (they arrive CLOEXEC). */
static int reader_fill(struct reader *rd, struct iw_failure *f)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} control;
	struct iovec iov;
	struct msghdr mh = { 0 };
	ssize_t n;
	bool had_control = false;

	if (rd->len == rd->cap) {
		iw_fail(f, IW_E_PROTOCOL_VIOLATION,
			"helper message longer than %u bytes", MAX_LINE);
		return -1;
	}
	iov.iov_base = rd->buf + rd->len;
	iov.iov_len = rd->cap - rd->len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	n = recvmsg(rd->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		iw_fail(f, IW_E_INTERNAL, "reading from the helper: %s",
			strerror(errno));
		return -1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		had_control = true;
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *fds = (int *)(void *)CMSG_DATA(c);
			for (size_t i = 0; i < nfd; i++)
				close(fds[i]);
		}
	}
	if (had_control || (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		iw_fail(f, IW_E_PROTOCOL_VIOLATION,
			"helper sent ancillary data (a file descriptor?); "
			"helpers may only send JSON");
		return -1;
	}
	if (n == 0) {
		rd->eof = true;
		return 0;
	}
	rd->len += (size_t)n;
	rd->total += (uint64_t)n;
	if (rd->total > rd->limit) {
		iw_fail(f, IW_E_PROTOCOL_VIOLATION,
			"helper output exceeds %llu bytes",
			(unsigned long long)rd->limit);
		return -1;
	}
	return 0;
}

/* Next complete line as parsed JSON (object); 0 = none yet, 1 = got one. */
static int reader_next(struct reader *rd, json_object **ret,
		       struct iw_failure *f)
{
	char *nl = memchr(rd->buf, '\n', rd->len);
	size_t line_len;
	json_object *o;
	int r;

	if (!nl) {
		if (rd->eof && rd->len > 0) {
			iw_fail(f, IW_E_PROTOCOL_VIOLATION,
				"helper output ends in an unterminated message");
			return -1;
		}
		return 0;
	}
	line_len = (size_t)(nl - rd->buf);
	r = iw_json_parse_bounded(rd->buf, line_len, &o);
	memmove(rd->buf, nl + 1, rd->len - line_len - 1);
	rd->len -= line_len + 1;
	if (r < 0) {
		iw_fail(f, IW_E_PROTOCOL_VIOLATION,
			"helper sent malformed JSON: %s", iw_json_error(r));
		return -1;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		iw_fail(f, IW_E_PROTOCOL_VIOLATION,
			"helper message is not a JSON object");
		return -1;
	}
	*ret = o;
	return 1;
}

static const char *msg_type(json_object *m)
{
	json_object *t;

	if (!json_object_object_get_ex(m, "type", &t) ||
	    !json_object_is_type(t, json_type_string))
		return "";
	return json_object_get_string(t);
}

/* ---- verifying the layers from outside ------------------------------ */

struct proc_status {
	unsigned long long cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	long uid[4], gid[4];
	int no_new_privs, seccomp, seccomp_filters;
	bool groups_empty;
	bool have_caps, have_nnp, have_seccomp;
};

static int read_proc_status(pid_t pid, struct proc_status *ps)
{
	char path[64], line[512];
	FILE *fp;

	*ps = (struct proc_status){ .no_new_privs = -1,
				    .seccomp = -1,
				    .groups_empty = false };
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "CapInh: %llx", &ps->cap_inh) == 1 ||
		    sscanf(line, "CapPrm: %llx", &ps->cap_prm) == 1 ||
		    sscanf(line, "CapBnd: %llx", &ps->cap_bnd) == 1 ||
		    sscanf(line, "CapAmb: %llx", &ps->cap_amb) == 1)
			continue;
		if (sscanf(line, "CapEff: %llx", &ps->cap_eff) == 1) {
			ps->have_caps = true;
			continue;
		}
		if (sscanf(line, "NoNewPrivs: %d", &ps->no_new_privs) == 1) {
			ps->have_nnp = true;
			continue;
		}
		if (sscanf(line, "Seccomp: %d", &ps->seccomp) == 1) {
			ps->have_seccomp = true;
			continue;
		}
		if (sscanf(line, "Seccomp_filters: %d", &ps->seccomp_filters) == 1)
			continue;
		if (sscanf(line, "Uid: %ld %ld %ld %ld", &ps->uid[0], &ps->uid[1],
			   &ps->uid[2], &ps->uid[3]) == 4)
			continue;
		if (sscanf(line, "Gid: %ld %ld %ld %ld", &ps->gid[0], &ps->gid[1],
			   &ps->gid[2], &ps->gid[3]) == 4)
			continue;
		if (strncmp(line, "Groups:", 7) == 0)
			ps->groups_empty = strspn(line + 7, " \t\n") ==
					   strlen(line + 7);
	}
	fclose(fp);
	return 0;
}

static bool read_apparmor_label(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/attr/current", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

struct spawn_state {
	pid_t pid;
	int pidfd;
	int ns_flags;
	const char *ns_reason; /* why there are no namespaces */
	bool switched_ids;
	const char *apparmor_profile; /* NULL or profile_buf */
	char profile_buf[64];
};

static json_object *ns_list(int flags)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < ARRAY_SIZE(ns_names); i++)
		if ((unsigned)flags & ns_names[i].flag)
			json_object_array_add(
				a, json_object_new_string(ns_names[i].name));
	return a;
}

static bool caps_clear(const struct proc_status *ps)
{
	return ps->have_caps && !ps->cap_inh && !ps->cap_prm && !ps->cap_eff &&
	       !ps->cap_bnd && !ps->cap_amb;
}

/*
 * Build the "sandbox" object from what the kernel says (/proc) and what
 * the helper said before it read any input (Landlock, which /proc does
 * not show), and check the required layers. 0, or -1 with f set.
 */
static int verify_layers(const struct helper_job *job,
			 const struct spawn_state *st, json_object *ready,
			 json_object **ret_sandbox, struct iw_failure *f)
{
	struct proc_status ps;
	json_object *sb, *helper_sb = NULL, *ll = NULL, *v;
	bool landlock_enforced = false, unprivileged;
	int landlock_abi_kernel, r;
	char label[256] = "";

	r = read_proc_status(st->pid, &ps);
	if (r < 0) {
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"cannot read the helper's /proc status: %s",
			strerror(-r));
		return -1;
	}
	if (json_object_object_get_ex(ready, "sandbox", &helper_sb) &&
	    json_object_object_get_ex(helper_sb, "landlock", &ll) &&
	    json_object_object_get_ex(ll, "enforced", &v))
		landlock_enforced = json_object_get_boolean(v);

	sb = json_object_new_object();
	if (!sb) {
		iw_fail(f, IW_E_INTERNAL, "out of memory");
		return -1;
	}
	{
		char name[64];
		snprintf(name, sizeof(name), "imgward-%s", job->helper);
		json_object_object_add(sb, "helper", json_object_new_string(name));
	}
	json_object_object_add(sb, "uid", json_object_new_int64(ps.uid[1]));
	json_object_object_add(sb, "gid", json_object_new_int64(ps.gid[1]));
	json_object_object_add(sb, "supplementary-groups",
			       json_object_new_boolean(!ps.groups_empty));
	json_object_object_add(sb, "no-new-privs",
			       json_object_new_boolean(ps.no_new_privs == 1));
	json_object_object_add(sb, "capabilities",
			       json_object_new_string(caps_clear(&ps) ? "none"
								      : "some"));
	json_object_object_add(sb, "seccomp",
			       json_object_new_string(ps.seccomp == 2
							      ? "filter"
							      : ps.seccomp == 1
									? "strict"
									: "off"));
	json_object_object_add(sb, "seccomp-filters",
			       json_object_new_int(ps.seccomp_filters));
	if (ll) {
		json_object *copy = NULL;
		json_object_deep_copy(ll, &copy, NULL);
		json_object_object_add(sb, "landlock", copy);
	}
	json_object_object_add(sb, "namespaces", ns_list(st->ns_flags));
	if (st->ns_reason)
		json_object_object_add(sb, "namespaces-unavailable",
				       json_object_new_string(st->ns_reason));
	json_object_object_add(sb, "empty-root",
			       json_object_new_boolean(st->ns_flags & CLONE_NEWNS));
	if (st->apparmor_profile) {
		if (!read_apparmor_label(st->pid, label, sizeof(label)))
			snprintf(label, sizeof(label), "unknown");
		json_object_object_add(sb, "apparmor",
				       json_object_new_string(label));
	} else {
		json_object_object_add(sb, "apparmor",
				       json_object_new_string("not enabled"));
	}
	json_object_object_add(sb, "limits", iw_limits_to_json(&job->limits));
	*ret_sandbox = sb;

	unprivileged = true;
	for (int i = 0; i < 4; i++)
		if (ps.uid[i] == 0 || ps.gid[i] == 0)
			unprivileged = false;
	if (!ps.groups_empty && st->switched_ids)
		unprivileged = false;
	landlock_abi_kernel = iw_landlock_abi(NULL);

	if ((job->required_layers & IW_LAYER_SECCOMP) && ps.seccomp != 2)
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"the helper runs without its seccomp filter");
	else if ((job->required_layers & IW_LAYER_NO_NEW_PRIVS) &&
		 ps.no_new_privs != 1)
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"the helper runs without no_new_privs");
	else if ((job->required_layers & IW_LAYER_NO_CAPS) && !caps_clear(&ps))
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"the helper still holds capabilities (CapEff %llx, "
			"CapBnd %llx); an unprivileged broker without user "
			"namespaces cannot clear the bounding set",
			ps.cap_eff, ps.cap_bnd);
	else if ((job->required_layers & IW_LAYER_LANDLOCK) &&
		 landlock_abi_kernel > 0 && !landlock_enforced)
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"the kernel has Landlock (ABI %d) but the helper did "
			"not enforce it",
			landlock_abi_kernel);
	else if ((job->required_layers & IW_LAYER_NAMESPACES) &&
		 st->ns_flags == 0)
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"namespaces are required but unavailable (%s)",
			st->ns_reason ? st->ns_reason : "?");
	else if ((job->required_layers & IW_LAYER_APPARMOR) &&
		 st->apparmor_profile && !strstr(label, st->apparmor_profile))
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"the helper is not confined by AppArmor profile %s "
			"(label: %s)",
			st->apparmor_profile, label);
	else if ((job->required_layers & IW_LAYER_UNPRIVILEGED) &&
		 !unprivileged)
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"the helper would run as uid/gid 0 or with "
			"supplementary groups; choose --helper-user");
	else
		return 0;
	return -1;
}

/* ---- spawning ------------------------------------------------------- */

static int open_helper(const struct helper_job *job, struct iw_failure *f)
{
	char path[4096];
	struct stat st;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/imgward-%s",
			     job->helper_dir, job->helper) >= sizeof(path)) {
		iw_fail(f, IW_E_SPAWN_FAILED, "helper path too long");
		return -1;
	}
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		iw_fail(f, IW_E_SPAWN_FAILED, "cannot find helper %s: %s "
			"(set --helper-dir or IMGWARD_HELPER_DIR)",
			path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & 0111)) {
		close(fd);
		iw_fail(f, IW_E_SPAWN_FAILED,
			"helper %s is not an executable file", path);
		return -1;
	}
	return fd;
}

/* execve() takes char *const[] but never writes through it */
static char *unconst(const char *s)
{
	char *p;

	memcpy(&p, &s, sizeof(p));
	return p;
}

static int child_main(void *arg)
{
	sandbox_child_exec(arg);
}

/*
 * Start the child the way posix_spawn does: CLONE_VM|CLONE_VFORK, on a
 * stack of its own, so no page tables are copied and nothing is
 * copied-on-write; the broker sleeps until the child has exec'd (or
 * died), which is all it would do anyway. The child only touches its
 * own stack and async-signal-safe state (sandbox.c).
 */
#define CHILD_STACK_SIZE (256 * 1024)

static pid_t start_child(int ns_flags, struct sandbox_child *c,
			 int *ret_pidfd)
{
	void *stack;
	pid_t pid;
	int e;

	c->new_pid_ns = ns_flags & CLONE_NEWPID;
	c->new_user_ns = ns_flags & CLONE_NEWUSER;
	c->new_mount_ns = ns_flags & CLONE_NEWNS;
	stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	pid = clone(child_main, (char *)stack + CHILD_STACK_SIZE,
		    ns_flags | CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
		    c, ret_pidfd);
	e = errno;
	munmap(stack, CHILD_STACK_SIZE);
	errno = e;
	return pid;
}

static int spawn(const struct helper_job *job, int exec_fd, int control_fd,
		 int status_fd, int devnull, struct spawn_state *st,
		 struct iw_failure *f)
{
	char argv0[64];
	/* the options, and a name per data fd at most (--extent-name) */
	char *argv[24 + 2 * IW_MAX_DATA_FDS];
	static char lc_all[] = "LC_ALL=C";
	char *envp[16] = { lc_all, NULL };
	size_t envc = 1;
	struct sandbox_child c;
	size_t argc = 0;
	pid_t parent = getpid();
	pid_t pid;

	snprintf(argv0, sizeof(argv0), "imgward-%s", job->helper);
	argv[argc++] = argv0;
	for (size_t i = 0; job->args && job->args[i]; i++) {
		if (argc + 1 >= ARRAY_SIZE(argv)) {
			iw_fail(f, IW_E_INTERNAL, "too many helper arguments");
			return -1;
		}
		argv[argc++] = unconst(job->args[i]);
	}
	argv[argc] = NULL;
	for (size_t i = 0; job->env && job->env[i]; i++) {
		if (envc + 1 >= ARRAY_SIZE(envp)) {
			iw_fail(f, IW_E_INTERNAL, "too many helper variables");
			return -1;
		}
		envp[envc++] = unconst(job->env[i]);
	}
	envp[envc] = NULL;

	st->switched_ids = geteuid() == 0;
	st->apparmor_profile = NULL;
	if (aa_is_enabled() == 1) {
		snprintf(st->profile_buf, sizeof(st->profile_buf), "imgward-%s",
			 job->helper);
		st->apparmor_profile = st->profile_buf;
	}

	c = (struct sandbox_child){
		.exec_fd = exec_fd,
		.control_fd = control_fd,
		.fds = job->fds,
		.n_fds = job->n_fds,
		.devnull_fd = devnull,
		.status_fd = status_fd,
		.parent_pid = parent,
		.outer_uid = getuid(),
		.outer_gid = getgid(),
		.switch_ids = st->switched_ids,
		.uid = job->uid,
		.gid = job->gid,
		.limits = &job->limits,
		.apparmor_profile = st->apparmor_profile,
		.argv = argv,
		.envp = envp,
	};
	if (st->apparmor_profile) {
		char *con = NULL, *mode = NULL;
		if (aa_getcon(&con, &mode) >= 0 && con &&
		    strcmp(con, "unconfined") != 0)
			c.apparmor_stack = true;
		free(con);
	}

	st->ns_flags = 0;
	st->ns_reason = "none requested";
	pid = -1;
	if (job->ns_flags) {
		int flags = job->ns_flags | (st->switched_ids ? 0 : CLONE_NEWUSER);

		pid = start_child(flags, &c, &st->pidfd);
		if (pid > 0) {
			st->ns_flags = flags;
			st->ns_reason = NULL;
		} else {
			/* EPERM (no userns for us), ENOSPC/EUSERS (limits),
			 * EINVAL (kernel lacks one): run without, and say so */
			st->ns_reason = strerror(errno);
		}
	}
	if (pid < 0)
		pid = start_child(0, &c, &st->pidfd);
	if (pid < 0) {
		iw_fail(f, IW_E_SPAWN_FAILED, "clone: %s", strerror(errno));
		return -1;
	}
	st->pid = pid;
	return 0;
}

static int wait_readable(int fd1, int fd2, double deadline, int *ret_which)
{
	struct pollfd p[2] = { { .fd = fd1, .events = POLLIN },
			       { .fd = fd2, .events = POLLIN } };
	double left = deadline - now();
	int n;

	if (left <= 0)
		return 0;
	n = poll(p, fd2 >= 0 ? 2 : 1, (int)(left * 1000) + 1);
	if (n < 0)
		return errno == EINTR ? 1 : -errno;
	if (n == 0)
		return now() >= deadline ? 0 : 1;
	*ret_which = (p[0].revents ? 1 : 0) | (fd2 >= 0 && p[1].revents ? 2 : 0);
	return 1;
}

static void kill_helper(const struct spawn_state *st)
{
	/* SIGCONT first: a stopped process in a PID namespace may otherwise
	 * linger (nsjail's experience) */
	syscall(SYS_pidfd_send_signal, st->pidfd, SIGCONT, NULL, 0);
	syscall(SYS_pidfd_send_signal, st->pidfd, SIGKILL, NULL, 0);
}

static const char *helper_error_code(json_object *m, enum iw_error *ret)
{
	json_object *c;
	const char *code = "";

	if (json_object_object_get_ex(m, "code", &c) &&
	    json_object_is_type(c, json_type_string))
		code = json_object_get_string(c);
	if (strcmp(code, "resource-limit") == 0)
		*ret = IW_E_RESOURCE_LIMIT;
	else if (strcmp(code, "io-error") == 0)
		*ret = IW_E_INPUT_ERROR;
	else if (strcmp(code, "sandbox-failed") == 0)
		*ret = IW_E_SANDBOX_UNAVAILABLE;
	else if (strcmp(code, "refused") == 0)
		*ret = IW_E_CONVERSION_REFUSED;
	/* imgward-inject's (broker/inject.h) */
	else if (strcmp(code, "no-drivers") == 0)
		*ret = IW_E_NO_DRIVERS;
	else if (strcmp(code, "virtio-win-unavailable") == 0)
		*ret = IW_E_VIRTIO_WIN_UNAVAILABLE;
	else if (strcmp(code, "appliance-failed") == 0)
		*ret = IW_E_APPLIANCE_FAILED;
	else if (strcmp(code, "guest-unsupported") == 0)
		*ret = IW_E_GUEST_UNSUPPORTED;
	else if (strcmp(code, "inject-failed") == 0)
		*ret = IW_E_INJECT_FAILED;
	else
		*ret = IW_E_HELPER_CRASH;
	return code;
}

/* The first findings of an error message's report (a converter's block
 * map says what is wrong with the image), as " (code: detail; ...)" for
 * the failure message; "" when there are none. Untrusted: only known
 * codes, details sanitised and cut short. */
static void error_findings(json_object *terminal, char *buf, size_t len)
{
	json_object *rep, *findings;
	size_t used = 0, n;

	buf[0] = '\0';
	if (!json_object_object_get_ex(terminal, "report", &rep) ||
	    !json_object_object_get_ex(rep, "findings", &findings) ||
	    !json_object_is_type(findings, json_type_array))
		return;
	n = json_object_array_length(findings);
	for (size_t i = 0; i < n && i < 3; i++) {
		json_object *fi = json_object_array_get_idx(findings, i);
		json_object *c, *d;
		const char *code, *detail;
		_cleanup_free_ char *clean = NULL;
		int w;

		if (!json_object_object_get_ex(fi, "code", &c) ||
		    !json_object_object_get_ex(fi, "detail", &d) ||
		    !json_object_is_type(c, json_type_string) ||
		    !json_object_is_type(d, json_type_string))
			continue;
		code = json_object_get_string(c);
		if (iw_code_from_name(code) < 0)
			continue;
		detail = json_object_get_string(d);
		clean = iw_sanitize(detail, MIN(strlen(detail), (size_t)120),
				    NULL);
		w = snprintf(buf + used, len - used, "%s%s: %s",
			     used ? "; " : " (", code, clean ? clean : "?");
		if (w < 0 || (size_t)w >= len - used - 1)
			break;
		used += (size_t)w;
	}
	if (used)
		snprintf(buf + used, len - used, ")");
}

int helper_run(const struct helper_job *job, struct helper_outcome *out,
	       struct iw_failure *f)
{
	_cleanup_close_ int exec_fd = -1, devnull = -1, pidfd = -1;
	_cleanup_close_ int sock_broker = -1, sock_helper = -1;
	_cleanup_close_ int status_r = -1, status_w = -1;
	_cleanup_free_ char *buf = NULL;
	struct spawn_state st = { .pidfd = -1 };
	struct reader rd;
	json_object *ready = NULL, *terminal = NULL, *sandbox = NULL;
	enum { WAIT_READY, RUNNING, DONE } state = WAIT_READY;
	enum iw_error forced = IW_OK; /* why we killed it, if we did */
	char forced_msg[512] = "";
	double start = now(), deadline;
	struct rusage ru;
	int sv[2], pp[2], status = 0, r;
	bool exited = false;

	*out = (struct helper_outcome){ 0 };
	if (job->n_fds > IW_MAX_DATA_FDS) {
		iw_fail(f, IW_E_INTERNAL, "too many fds for a helper");
		return -1;
	}
	exec_fd = open_helper(job, f);
	if (exec_fd < 0)
		return -1;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(pp, O_CLOEXEC) < 0) {
		iw_fail(f, IW_E_INTERNAL, "cannot create helper channels: %s",
			strerror(errno));
		return -1;
	}
	sock_broker = sv[0];
	sock_helper = sv[1];
	status_r = pp[0];
	status_w = pp[1];

	if (spawn(job, exec_fd, sock_helper, status_w, devnull, &st, f) < 0)
		return -1;
	pidfd = st.pidfd;
	sock_helper = safe_close(sock_helper);
	status_w = safe_close(status_w);
	deadline = start + (double)job->limits.deadline_seconds;

	/* Exec or a setup failure? EOF on the CLOEXEC pipe means exec. */
	for (;;) {
		struct sandbox_status ss;
		int which = 0;
		ssize_t n;

		r = wait_readable(status_r, -1, deadline, &which);
		if (r <= 0) {
			forced = IW_E_TIMEOUT;
			snprintf(forced_msg, sizeof(forced_msg),
				 "helper setup did not finish in time");
			goto reap;
		}
		n = read(status_r, &ss, sizeof(ss));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			break;
		if (n == (ssize_t)sizeof(ss)) {
			forced = ss.stage == STAGE_EXEC ? IW_E_SPAWN_FAILED
							: IW_E_SANDBOX_UNAVAILABLE;
			snprintf(forced_msg, sizeof(forced_msg),
				 "sandbox setup failed at %s: %s",
				 sandbox_stage_name(ss.stage), strerror(ss.err));
		} else {
			forced = IW_E_SPAWN_FAILED;
			snprintf(forced_msg, sizeof(forced_msg),
				 "helper setup failed");
		}
		goto reap;
	}

	buf = malloc(MAX_LINE);
	if (!buf) {
		forced = IW_E_INTERNAL;
		snprintf(forced_msg, sizeof(forced_msg), "out of memory");
		goto kill;
	}
	rd = (struct reader){ .fd = sock_broker, .buf = buf, .cap = MAX_LINE,
			      .limit = job->limits.output_bytes };

	for (;;) {
		json_object *m = NULL;
		const char *type;
		int which = 0;

		r = reader_next(&rd, &m, f);
		if (r < 0)
			goto violation;
		if (r == 0) {
			if (rd.eof)
				break;
			r = wait_readable(sock_broker, exited ? -1 : pidfd,
					  deadline, &which);
			if (r < 0) {
				iw_fail(f, IW_E_INTERNAL, "poll: %s",
					strerror(-r));
				goto violation;
			}
			if (r == 0) {
				forced = IW_E_TIMEOUT;
				snprintf(forced_msg, sizeof(forced_msg),
					 "helper did not finish within %llu s",
					 (unsigned long long)job->limits.deadline_seconds);
				goto kill;
			}
			if (which & 2)
				exited = true; /* drain the socket to EOF */
			if ((which & 1) && reader_fill(&rd, f) < 0)
				goto violation;
			continue;
		}

		type = msg_type(m);
		if (state == WAIT_READY) {
			if (strcmp(type, "ready") != 0) {
				/* a helper may fail before it is ready */
				if (strcmp(type, "error") == 0) {
					terminal = m;
					state = DONE;
					continue;
				}
				json_object_put(m);
				iw_fail(f, IW_E_PROTOCOL_VIOLATION,
					"helper's first message is not \"ready\"");
				goto violation;
			}
			ready = m;
			if (verify_layers(job, &st, ready, &sandbox, f) < 0) {
				forced = f->code;
				snprintf(forced_msg, sizeof(forced_msg), "%s",
					 f->message);
				goto kill;
			}
			if (send(sock_broker, "g", 1, MSG_NOSIGNAL) != 1) {
				iw_fail(f, IW_E_HELPER_CRASH,
					"helper hung up before it started");
				goto violation;
			}
			state = RUNNING;
		} else if (state == RUNNING && strcmp(type, "progress") == 0 &&
			   job->on_progress) {
			job->on_progress(m, job->userdata);
			json_object_put(m);
		} else if (state == RUNNING && (strcmp(type, "result") == 0 ||
						strcmp(type, "error") == 0)) {
			terminal = m;
			state = DONE;
		} else {
			json_object_put(m);
			iw_fail(f, IW_E_PROTOCOL_VIOLATION,
				state == DONE ? "helper sent a message after its "
						"result"
					      : "helper sent an unexpected "
						"message type");
			goto violation;
		}
	}

	/* EOF: the helper must now exit, within the same deadline. */
	while (!exited) {
		int which = 0;

		r = wait_readable(pidfd, -1, deadline, &which);
		if (r == 0) {
			forced = IW_E_TIMEOUT;
			snprintf(forced_msg, sizeof(forced_msg),
				 "helper did not exit within %llu s",
				 (unsigned long long)job->limits.deadline_seconds);
			goto kill;
		}
		if (r < 0)
			break;
		if (which)
			exited = true;
	}
	goto reap;

violation:
	forced = f->code;
	snprintf(forced_msg, sizeof(forced_msg), "%s", f->message);
kill:
	kill_helper(&st);
reap:
	while (wait4(st.pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			memset(&ru, 0, sizeof(ru));
			break;
		}
	}
	out->seconds = now() - start;
	out->peak_rss_kib = ru.ru_maxrss;
	out->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
			   ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;

	if (forced != IW_OK) {
		iw_fail(f, forced, "%s", forced_msg);
		goto fail;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
			     ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;

		if (sig == SIGSYS)
			iw_fail(f, IW_E_POLICY_VIOLATION,
				"helper imgward-%s was killed for a system call "
				"its seccomp policy forbids",
				job->helper);
		else if (sig == SIGXCPU ||
			 (sig == SIGKILL && cpu + 0.05 >= (double)job->limits.cpu_seconds))
			iw_fail(f, IW_E_RESOURCE_LIMIT,
				"helper imgward-%s used its %llu s of CPU time",
				job->helper,
				(unsigned long long)job->limits.cpu_seconds);
		else if (sig == SIGKILL)
			/* not ours (we record every kill we send): the kernel's
			 * hard CPU limit - a helper that is pid 1 of its
			 * namespace ignores SIGXCPU and dies at the hard limit,
			 * whose accounting may lag rusage - or the OOM killer */
			iw_fail(f, IW_E_RESOURCE_LIMIT,
				"helper imgward-%s was killed by the kernel (CPU "
				"time limit or out of memory)",
				job->helper);
		else if (sig == SIGXFSZ)
			iw_fail(f, IW_E_RESOURCE_LIMIT,
				"helper imgward-%s exceeded its file size limit",
				job->helper);
		else
			iw_fail(f, IW_E_HELPER_CRASH,
				"helper imgward-%s died of signal %d (%s)",
				job->helper, sig, strsignal(sig));
		goto fail;
	}
	if (terminal && strcmp(msg_type(terminal), "error") == 0) {
		enum iw_error code;
		json_object *msg;
		const char *hcode = helper_error_code(terminal, &code);
		_cleanup_free_ char *clean = NULL;

		if (json_object_object_get_ex(terminal, "message", &msg) &&
		    json_object_is_type(msg, json_type_string))
			clean = iw_sanitize(json_object_get_string(msg),
					    MIN(strlen(json_object_get_string(msg)),
						(size_t)300),
					    NULL);
		{
			_cleanup_free_ char *ccode =
				iw_sanitize(hcode, MIN(strlen(hcode), (size_t)40), NULL);
			char why[320];

			error_findings(terminal, why, sizeof(why));
			iw_fail(f, code, "helper imgward-%s failed (%s): %s%s",
				job->helper, ccode ? ccode : "?",
				clean ? clean : "no message", why);
		}
		goto fail;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		iw_fail(f, IW_E_HELPER_CRASH,
			"helper imgward-%s exited with status %d without a "
			"result",
			job->helper, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto fail;
	}
	if (!terminal) {
		iw_fail(f, IW_E_HELPER_CRASH,
			"helper imgward-%s exited without a result", job->helper);
		goto fail;
	}
	out->result = terminal;
	out->sandbox = sandbox;
	json_object_put(ready);
	return 0;

fail:
	/* what the layers were is worth reporting with the failure too */
	out->sandbox = sandbox;
	json_object_put(ready);
	json_object_put(terminal);
	return -1;
}
