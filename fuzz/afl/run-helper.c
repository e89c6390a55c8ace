/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-helper: a stand-in broker that runs a real helper binary on one
 * file, for AFL++ (fuzz/afl/README.md). Never install this.
 *
 *   run-helper HELPER FILE [HELPER ARGS...]
 *
 * The helper gets what the broker gives it (HACKING.md, "The helper
 * protocol"): fd 3 a control socket, fd 4 FILE read-only, and, when the
 * arguments have --output (imgward-convert), fd 5 a writable memfd; 0
 * and 1 are /dev/null. No namespaces and no uid switch (AFL runs us
 * unprivileged), but the helper still enters its own Landlock domain and
 * seccomp filter, so a system call its policy forbids kills it with
 * SIGSYS: a finding, like any other crash.
 *
 * run-helper answers "ready" with the go-ahead, reads every message,
 * checks them as the broker would (bounded JSON, the report schema),
 * and ends as the helper did:
 *   - a normal end (a result, or an error the helper reported: refused,
 *     io-error, resource-limit), or a resource limit the broker sets
 *     (SIGXFSZ, SIGXCPU): exit 0;
 *   - killed by a signal: the same signal, raised here, so that AFL
 *     records a crash;
 *   - a protocol violation (bad JSON, a report the broker's schema check
 *     refuses, no result, a message after it), a helper still running
 *     after IMGWARD_AFL_TIMEOUT seconds (default 10; give afl-fuzz a
 *     smaller -t so that it sees hangs as hangs), or the helper's
 *     "internal" complaint about its arguments or fds: SIGABRT.
 *
 * Under afl-fuzz it is also the fork server (AFL's protocol on fds
 * 198/199): it forks no copy of itself, it spawns the helper for each
 * input, hands AFL the helper's pid (AFL's own timeout kills the helper)
 * and reports the status above. The helper's instrumentation finds the
 * coverage map through __AFL_SHM_ID, inherited in its environment, and
 * attaches it in a constructor, before main and before its sandbox.
 * run-helper itself is not instrumented: its edges would share map
 * indices with the helper's (each PCGUARD binary numbers from 1).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsonlimits.h"
#include "validate.h"

/* AFL++'s fork server protocol (include/config.h, include/types.h) */
#define FORKSRV_FD 198
#define FS_OPT_ENABLED 0x80000001u
#define FS_OPT_MAPSIZE 0x40000000u
#define FS_OPT_MAX_MAPSIZE ((0x00fffffeu >> 1) + 1)
#define FS_OPT_SET_MAPSIZE(x) (((x) - 1) << 1)

/* the broker's caps (broker/spawn.c, policy/limits/) */
#define MAX_LINE (1u << 20)
#define MAX_OUTPUT (4u << 20)

enum outcome { OK, CRASH, ABORT };

struct config {
	const char *helper;
	const char *file;
	char **argv; /* argv for the helper, argv[0] its path */
	bool output;  /* give it fd 5 (imgward-convert) */
	bool sniff;   /* results carry a report: schema-check it */
	bool scan;    /* results carry a scan (imgward-ntfs): likewise */
	double timeout;
	rlim_t fsize, as;
	bool verbose;
};

static char *linebuf;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end) {
		fprintf(stderr, "run-helper: bad %s\n", name);
		exit(2);
	}
	return v;
}

static void verbose(const struct config *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void verbose(const struct config *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	va_start(ap, fmt);
	fputs("run-helper: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* In the child: fds 3, 4 (and 5), then exec. Async-signal-safe only. */
static void __attribute__((noreturn))
child(const struct config *c, int sock, int in, int out)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int s, i, o = -1, n;

	/* out of the way of 0-5 first, then into place (dup2 clears
	 * close-on-exec on the copies) */
	s = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	i = fcntl(in, F_DUPFD_CLOEXEC, 10);
	if (out >= 0)
		o = fcntl(out, F_DUPFD_CLOEXEC, 10);
	n = fcntl(devnull, F_DUPFD_CLOEXEC, 10);
	if (devnull < 0 || s < 0 || i < 0 || (out >= 0 && o < 0) || n < 0 ||
	    dup2(n, 0) < 0 || dup2(n, 1) < 0 || dup2(s, 3) < 0 ||
	    dup2(i, 4) < 0 || (o >= 0 && dup2(o, 5) < 0))
		_exit(127);
	/* nothing else: not AFL's fork server fds (the helper's runtime
	 * would take itself for the fork server), not our copies */
	if (syscall(SYS_close_range, o >= 0 ? 6u : 5u, ~0u, 0) < 0)
		for (int fd = o >= 0 ? 6 : 5; fd < 1024; fd++)
			(void)close(fd);
	/* the limits the broker sets that matter for finding bugs: memory
	 * (an allocation the readers do not bound fails as it would in
	 * production), output size, no core files */
	(void)setrlimit(RLIMIT_AS, &(struct rlimit){ c->as, c->as });
	(void)setrlimit(RLIMIT_FSIZE, &(struct rlimit){ c->fsize, c->fsize });
	(void)setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	/* as the broker's sandbox.c: seccomp and Landlock need it from a
	 * process without CAP_SYS_ADMIN, and it is what production has */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	execv(c->helper, c->argv);
	_exit(127);
}

/* One message from the helper. Returns false on a protocol violation. */
static bool message(const struct config *c, const char *line, size_t len,
		    int sock, int *state, bool *go_sent)
{
	json_object *m = NULL, *t, *report, *code;
	const char *type;
	bool ok = true;
	int r;

	r = iw_json_parse_bounded(line, len, &m);
	if (r < 0) {
		fprintf(stderr, "run-helper: bad JSON from the helper: %s\n",
			iw_json_error(r));
		return false;
	}
	if (!json_object_is_type(m, json_type_object) ||
	    !json_object_object_get_ex(m, "type", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		fprintf(stderr, "run-helper: a message without a type\n");
		json_object_put(m);
		return false;
	}
	type = json_object_get_string(t);
	verbose(c, "helper says %.*s", (int)(len > 300 ? 300 : len), line);

	/* states: 0 waiting for ready, 1 running, 2 done after an error,
	 * 3 done after a result */
	if (*state == 0 && strcmp(type, "ready") == 0) {
		if (send(sock, "g", 1, MSG_NOSIGNAL) != 1)
			ok = false;
		*go_sent = ok;
		*state = 1;
	} else if (*state == 1 && strcmp(type, "progress") == 0) {
		/* fine */
	} else if (*state < 2 && strcmp(type, "error") == 0) {
		/* a helper may fail before it is ready; "internal" means our
		 * arguments or fds were wrong, "sandbox-failed" that this
		 * system cannot run it: setup errors, not the image's */
		if (json_object_object_get_ex(m, "code", &code) &&
		    (strcmp(json_object_get_string(code), "internal") == 0 ||
		     strcmp(json_object_get_string(code), "sandbox-failed") == 0)) {
			fprintf(stderr, "run-helper: the helper refused its "
					"setup: %.*s\n",
				(int)(len > 300 ? 300 : len), line);
			ok = false;
		}
		*state = 2;
	} else if (*state == 1 && strcmp(type, "result") == 0) {
		if (c->sniff) {
			struct iw_failure f = { 0 };

			if (!json_object_object_get_ex(m, "report", &report) ||
			    !validate_probe_report(report, 0, &f)) {
				fprintf(stderr, "run-helper: the broker would "
						"refuse this report: %s\n",
					f.message);
				ok = false;
			}
		} else if (c->scan) {
			struct iw_failure f = { 0 };

			if (!json_object_object_get_ex(m, "scan", &report) ||
			    !validate_scan_report(report, &f)) {
				fprintf(stderr, "run-helper: the broker would "
						"refuse this scan: %s\n",
					f.message);
				ok = false;
			}
		}
		*state = 3;
	} else {
		fprintf(stderr, "run-helper: unexpected \"%s\" message\n",
			type);
		ok = false;
	}
	json_object_put(m);
	return ok;
}

/* Spawn the helper, talk to it, reap it. *ret_status is a wait status
 * as AFL wants it. report_pid (may be -1) gets the helper's pid for
 * AFL's fork server protocol. Returns the outcome. */
static enum outcome run_once(const struct config *c, int report_pid,
			     int *ret_status)
{
	int sv[2], in, out = -1, status = 0, state = 0, pidfd;
	size_t used = 0, total = 0;
	bool go_sent = false, violation = false, timed_out = false;
	double deadline;
	pid_t pid;

	in = open(c->file, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		fprintf(stderr, "run-helper: %s: %s\n", c->file,
			strerror(errno));
		exit(2);
	}
	if (c->output) {
		out = memfd_create("run-helper-output", MFD_CLOEXEC);
		if (out < 0) {
			perror("run-helper: memfd_create");
			exit(2);
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("run-helper: socketpair");
		exit(2);
	}
	pid = fork();
	if (pid < 0) {
		perror("run-helper: fork");
		exit(2);
	}
	if (pid == 0)
		child(c, sv[1], in, out);
	close(sv[1]);
	close(in);
	if (out >= 0)
		close(out);
	if (report_pid >= 0 && write(report_pid, &pid, 4) != 4)
		exit(1); /* AFL went away */
	deadline = now() + c->timeout;

	/* read lines until EOF: the helper's end closes when it exits */
	for (;;) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };
		double left = deadline - now();
		char *nl;
		ssize_t n;

		if (left <= 0 ||
		    poll(&p, 1, (int)(left * 1000) + 1) == 0) {
			timed_out = true;
			break;
		}
		if (used == MAX_LINE) {
			fprintf(stderr, "run-helper: a line over %u bytes\n",
				MAX_LINE);
			violation = true;
			break;
		}
		n = read(sv[0], linebuf + used, MAX_LINE - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		total += (size_t)n;
		if (total > MAX_OUTPUT) {
			fprintf(stderr, "run-helper: over %u bytes of output\n",
				MAX_OUTPUT);
			violation = true;
			break;
		}
		while (!violation &&
		       (nl = memchr(linebuf, '\n', used)) != NULL) {
			size_t len = (size_t)(nl - linebuf);

			if (!message(c, linebuf, len, sv[0], &state, &go_sent))
				violation = true;
			memmove(linebuf, nl + 1, used - len - 1);
			used -= len + 1;
		}
		if (violation)
			break;
	}
	if (!violation && !timed_out && used > 0) {
		fprintf(stderr, "run-helper: an unterminated last line\n");
		violation = true;
	}

	/* then it must exit, within the same deadline */
	if (!violation && !timed_out) {
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			double left = deadline - now();

			if (left <= 0 ||
			    poll(&p, 1, (int)(left * 1000) + 1) == 0)
				timed_out = true;
			close(pidfd);
		}
	}
	if (violation || timed_out)
		kill(pid, SIGKILL);
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("run-helper: waitpid");
			exit(2);
		}

	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !go_sent &&
	    state == 0) {
		fprintf(stderr, "run-helper: cannot run %s\n", c->helper);
		exit(2);
	}
	if (timed_out) {
		/* AFL's own timeout (it killed the helper) comes through as
		 * the SIGKILL it sent, not as ours */
		fprintf(stderr, "run-helper: the helper ran over %g s\n",
			c->timeout);
		*ret_status = SIGABRT;
		return ABORT;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		verbose(c, "helper died of signal %d (%s)", sig, strsignal(sig));
		if (sig == SIGXFSZ || sig == SIGXCPU) {
			*ret_status = 0;
			return OK;
		}
		if (violation && sig == SIGKILL) {
			*ret_status = SIGABRT;
			return ABORT;
		}
		*ret_status = status;
		return CRASH;
	}
	if (violation) {
		*ret_status = SIGABRT;
		return ABORT;
	}
	/* a normal exit needs a terminal message; a result needs status 0 */
	if (state < 2 || (state == 3 && WEXITSTATUS(status) != 0)) {
		fprintf(stderr, "run-helper: the helper exited with status %d "
				"%s\n",
			WEXITSTATUS(status),
			state < 2 ? "without a result" : "after its result");
		*ret_status = SIGABRT;
		return ABORT;
	}
	verbose(c, "helper exited with status %d", WEXITSTATUS(status));
	*ret_status = 0;
	return OK;
}

/* The helper's coverage map size: AFL++'s PCGUARD runtime numbers the
 * 4-byte guards of the __sancov_guards section from 1, so the map needs
 * one entry more than there are guards. Read from the helper's ELF
 * section headers (AFL_DUMP_MAP_SIZE does not work in a static binary:
 * it prints from a constructor that runs before libc is set up).
 * 0 when unknown. */
static uint32_t helper_map_size(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strsh;
	uint32_t size = 0;
	char name[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum ||
	    pread(fd, &strsh, sizeof(strsh),
		  (off_t)(eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(sh))) !=
		    (ssize_t)sizeof(strsh))
		goto out;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		if (pread(fd, &sh, sizeof(sh),
			  (off_t)(eh.e_shoff + (uint64_t)i * sizeof(sh))) !=
			    (ssize_t)sizeof(sh) ||
		    sh.sh_name >= strsh.sh_size ||
		    pread(fd, name, sizeof(name),
			  (off_t)(strsh.sh_offset + sh.sh_name)) <= 0)
			goto out;
		name[sizeof(name) - 1] = '\0';
		if (strcmp(name, "__sancov_guards") == 0) {
			if (sh.sh_size / 4 < FS_OPT_MAX_MAPSIZE)
				size = (uint32_t)(sh.sh_size / 4) + 1;
			break;
		}
	}
out:
	close(fd);
	return size;
}

static int fork_server(const struct config *c)
{
	uint32_t hello = 0, cmd, map = helper_map_size(c->helper);
	int status;

	/* AFL++'s extended hello carries the map size: the helper's, not
	 * ours. Without it AFL scans its default map (8 MiB in AFL++ 4)
	 * after every run, and bitmap_cvg means nothing. */
	if (map > 1)
		hello = FS_OPT_ENABLED | FS_OPT_MAPSIZE | FS_OPT_SET_MAPSIZE(map);
	verbose(c, "fork server, map size %u", map);
	if (write(FORKSRV_FD + 1, &hello, 4) != 4)
		return -1; /* not under AFL after all */
	for (;;) {
		if (read(FORKSRV_FD, &cmd, 4) != 4)
			exit(0); /* AFL is done */
		(void)run_once(c, FORKSRV_FD + 1, &status);
		if (write(FORKSRV_FD + 1, &status, 4) != 4)
			exit(1);
	}
}

int main(int argc, char **argv)
{
	struct config c = { 0 };
	const char *base;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: %s HELPER FILE [HELPER ARGS...]\n"
				"  env: IMGWARD_AFL_TIMEOUT (s, 10), "
				"IMGWARD_AFL_FSIZE (bytes, 64M),\n"
				"       IMGWARD_AFL_AS (bytes; 512M sniff, 2G "
				"convert), IMGWARD_AFL_VERBOSE=1\n",
			argv[0]);
		return 2;
	}
	c.helper = argv[1];
	c.file = argv[2];
	/* the helper's argv: its path, then the arguments after FILE */
	argv[2] = argv[1];
	c.argv = argv + 2;
	for (int i = 3; i < argc; i++)
		if (strcmp(argv[i], "--output") == 0 ||
		    strncmp(argv[i], "--output=", 9) == 0)
			c.output = true;
	base = strrchr(c.helper, '/');
	base = base ? base + 1 : c.helper;
	c.sniff = strcmp(base, "imgward-sniff") == 0;
	c.scan = strcmp(base, "imgward-ntfs") == 0;
	c.timeout = (double)env_u64("IMGWARD_AFL_TIMEOUT", 10);
	/* the sniffer writes no file (policy/limits/sniff.conf); the
	 * converter's output is capped here instead of at the virtual size,
	 * to keep a memfd's pages in check */
	c.fsize = c.output ? env_u64("IMGWARD_AFL_FSIZE", 64u << 20) : 0;
	c.as = env_u64("IMGWARD_AFL_AS", c.output ? (2ull << 30) : (512u << 20));
	c.verbose = getenv("IMGWARD_AFL_VERBOSE") != NULL;
	linebuf = malloc(MAX_LINE);
	if (!linebuf)
		return 2;
	signal(SIGPIPE, SIG_IGN);

	/* AFL's fork server fds are there, and its map: serve */
	if (getenv("__AFL_SHM_ID") && fcntl(FORKSRV_FD + 1, F_GETFD) >= 0)
		(void)fork_server(&c);

	switch (run_once(&c, -1, &status)) {
	case OK:
		return 0;
	case CRASH:
		/* die the same way, without a core file of our own */
		(void)setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		signal(WTERMSIG(status), SIG_DFL);
		{
			sigset_t all;

			sigfillset(&all);
			sigprocmask(SIG_UNBLOCK, &all, NULL);
		}
		raise(WTERMSIG(status));
		abort();
	case ABORT:
		(void)setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		abort();
	}
	return 0;
}
