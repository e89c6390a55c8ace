/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * helper_run() called over and over in one process, as the future
 * `imgward serve` will: whatever the helper does (succeed, crash, send an
 * fd, flood, hang), the broker ends up with the same open fds, no child
 * left (reaped, no zombie), and the right error code.
 *
 * Uses the fake helper (tests/helpers/fake-helper.c) as imgward-sniff in
 * a scratch directory; the behaviour comes from the input's first line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "tap.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static int copy_file(const char *from, const char *to)
{
	static char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

static enum iw_error run(const char *dir, const char *behaviour,
			 unsigned layers, unsigned deadline)
{
	char path[4200];
	struct helper_outcome out;
	struct helper_job job = { 0 };
	struct iw_failure f = { 0 };
	int fd, r;

	snprintf(path, sizeof(path), "%s/input", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, behaviour, strlen(behaviour)) < 0 ||
	    write(fd, "\n", 1) != 1)
		return IW_E_INTERNAL;
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return IW_E_INTERNAL;

	job.helper = "sniff";
	job.helper_dir = dir;
	job.fds = &fd;
	job.n_fds = 1;
	job.limits = *iw_limits_for("sniff");
	job.limits.deadline_seconds = deadline;
	job.required_layers = layers;
	iw_namespaces_parse(job.limits.namespaces, &job.ns_flags);
	job.uid = job.gid = 65534;
	r = helper_run(&job, &out, &f);
	helper_outcome_done(&out);
	close(fd);
	return r == 0 ? IW_OK : f.code;
}

int main(void)
{
	static const struct {
		const char *behaviour;
		enum iw_error want;
		unsigned layers;
		unsigned deadline;
	} cases[] = {
		{ "ok", IW_OK, IW_LAYERS_DEFAULT, 30 },
		{ "crash", IW_E_HELPER_CRASH, IW_LAYERS_DEFAULT, 30 },
		{ "sigsys", IW_E_POLICY_VIOLATION, IW_LAYERS_DEFAULT, 30 },
		{ "sendfd", IW_E_PROTOCOL_VIOLATION, IW_LAYER_NO_NEW_PRIVS, 30 },
		{ "oversize", IW_E_PROTOCOL_VIOLATION, IW_LAYERS_DEFAULT, 30 },
		{ "garbage", IW_E_PROTOCOL_VIOLATION, IW_LAYERS_DEFAULT, 30 },
		{ "block", IW_E_TIMEOUT, IW_LAYERS_DEFAULT, 1 },
		{ "two-results", IW_E_PROTOCOL_VIOLATION, IW_LAYERS_DEFAULT, 30 },
		{ "io-error", IW_E_INPUT_ERROR, IW_LAYERS_DEFAULT, 30 },
	};
	const char *build = getenv("IMGWARD_BUILD");
	char dir[] = "/tmp/imgward-helper-run.XXXXXX", src[4200], dst[4200];
	int before, after, status;
	bool all_right = true;

	if (!build)
		build = "build";
	if (!mkdtemp(dir))
		return 99;
	chmod(dir, 0755);
	snprintf(src, sizeof(src), "%s/tests/fake-helper", build);
	snprintf(dst, sizeof(dst), "%s/imgward-sniff", dir);
	if (copy_file(src, dst) < 0) {
		printf("Bail out! cannot copy %s\n", src);
		return 99;
	}

	before = count_fds();
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			enum iw_error got = run(dir, cases[i].behaviour,
						cases[i].layers,
						cases[i].deadline);
			if (got != cases[i].want) {
				printf("# round %d, %s: got %s, want %s\n", round,
				       cases[i].behaviour, iw_error_name(got),
				       iw_error_name(cases[i].want));
				all_right = false;
			}
		}
	after = count_fds();
	ok(all_right, "27 helper runs, each classified right");
	is_int(after, before, "no fd leaked across the runs");
	errno = 0;
	ok(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD,
	   "no child left, reaped or not");

	unlink(dst);
	snprintf(src, sizeof(src), "%s/input", dir);
	unlink(src);
	rmdir(dir);
	return tap_done();
}
