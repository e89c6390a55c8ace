/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward import SRC --target PATH|DEVICE [--conversion format,virtio|
 *                format|none] [--max-size SIZE] [--state-file F] ...
 *
 * The LXD import flow in one call, every step sandboxed (README
 * "Importing"):
 *   1. probe SRC: anything not safe is refused (import-refused, the
 *      verdict's exit status), TARGET untouched;
 *   2. the virtual size must fit: a block device's size, or --max-size
 *      for a file (target-too-small), TARGET untouched;
 *   3. convert SRC into TARGET as raw: `imgward convert` itself, run as a
 *      child (the same code path, its temporary-name-and-rename for files
 *      and its in-place writes for devices), its JSON progress feeding the
 *      state file;
 *   4. with virtio: scan TARGET, then inject_run() (cmd-inject.c) when it
 *      holds a Windows without the drivers.
 * The state file follows oVirt's virt-v2v wrapper (reference §6): written
 * atomically (temporary file, fsync, rename) at the start, on progress
 * and at the end; "failed" is present only on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject.h"
#include "input-set.h"
#include "input.h"
#include "probe.h"
#include "validate.h"

/* ---- the state file ---- */

struct state {
	const char *path; /* NULL: none */
	const char *target;
	int progress;	  /* 0-100 */
	const char *step;
	bool finished, failed;
	int return_code;
	const struct iw_failure *error;
};

/* Write the state atomically: a reader sees the old file or the new one,
 * never a part. Failures to write it are reported once, not fatal: the
 * import itself goes on. */
static void state_write(const struct state *s)
{
	static bool warned;
	json_object *o, *disks, *d;
	char tmp[PATH_MAX];
	const char *text;
	int fd;
	size_t len;
	bool ok = false;

	if (!s->path)
		return;
	o = json_object_new_object();
	disks = json_object_new_array();
	d = json_object_new_object();
	if (!o || !disks || !d)
		goto out;
	json_object_object_add(o, "started", json_object_new_boolean(true));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_add_clean(d, "path", s->target);
	json_object_object_add(d, "progress", json_object_new_int(s->progress));
	json_object_array_add(disks, d);
	json_object_object_add(o, "disks", disks);
	disks = NULL;
	json_object_object_add(o, "disk_count", json_object_new_int(1));
	json_object_object_add(o, "step", json_object_new_string(s->step));
	if (s->finished) {
		json_object_object_add(o, "return_code",
				       json_object_new_int(s->return_code));
		json_object_object_add(o, "finished",
				       json_object_new_boolean(true));
	}
	if (s->failed) {
		json_object *e = json_object_new_object();

		json_object_object_add(o, "failed", json_object_new_boolean(true));
		if (e && s->error) {
			json_object_object_add(e, "code", json_object_new_string(
						   iw_error_name(s->error->code)));
			json_add_clean(e, "message", s->error->message);
		}
		json_object_object_add(o, "error", e);
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", s->path) >= sizeof(tmp))
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto out;
	len = strlen(text);
	ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
	     fchmod(fd, 0644) == 0 && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = false;
	if (ok && rename(tmp, s->path) < 0)
		ok = false;
	if (!ok)
		unlink(tmp);
out:
	json_object_put(disks);
	json_object_put(o);
	if (!ok && !warned) {
		warned = true;
		fprintf(stderr, "imgward: warning: cannot write the state file "
				"%s: %s\n", s->path, strerror(errno));
	}
}

/* ---- the conversion: `imgward convert` as a child ---- */

/* execv's argv is char *const[]; the strings are never written */
static char *unconst(const char *s)
{
	union {
		const char *c;
		char *m;
	} u = { .c = s };

	return u.m;
}

#define MAX_PASSED 64

/* Run ourselves as `imgward convert --json --progress=json ...`; its
 * progress lines (stderr) move the state, its result (stdout) is
 * returned. 0, or -1 with f set (the child's own error when it said one). */
static int run_convert(char *const *argv, struct state *st,
		       json_object **ret, struct iw_failure *f)
{
	int out_fd, err_pipe[2], status;
	FILE *err = NULL;
	char *line = NULL, last_err[512] = "";
	size_t cap = 0;
	ssize_t n;
	json_object *res = NULL;
	pid_t pid;

	*ret = NULL;
	/* the result into an anonymous file, read once the child is gone:
	 * however large it is, the child never blocks on it while we read
	 * its progress */
	out_fd = memfd_create("imgward-convert-result", MFD_CLOEXEC);
	if (out_fd < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
		iw_fail(f, IW_E_INTERNAL, "memfd/pipe: %s", strerror(errno));
		if (out_fd >= 0)
			close(out_fd);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		iw_fail(f, IW_E_INTERNAL, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(out_fd, STDOUT_FILENO);
		dup2(err_pipe[1], STDERR_FILENO);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(err_pipe[1]);
	err = fdopen(err_pipe[0], "r");
	while (err && (n = getline(&line, &cap, err)) > 0) {
		json_object *p = line[0] == '{' ? json_tokener_parse(line) : NULL;
		json_object *v;

		if (p && json_object_object_get_ex(p, "progress", &v)) {
			double frac = json_object_get_double(v);
			int pct = frac >= 0 && frac <= 1 ? (int)(frac * 100) : 0;

			/* at most one write per whole percent */
			if (pct > st->progress && pct < 100) {
				st->progress = pct;
				state_write(st);
			}
		} else if (!p) {
			snprintf(last_err, sizeof(last_err), "%.*s",
				 (int)strcspn(line, "\n"), line);
		}
		json_object_put(p);
	}
	free(line);
	if (err)
		fclose(err);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	{
		/* convert's output is bounded by its helper's (output-bytes) */
		off_t len = lseek(out_fd, 0, SEEK_END);
		char *buf = len > 0 && len < (64 << 20) ? malloc((size_t)len + 1) : NULL;

		if (buf && pread(out_fd, buf, (size_t)len, 0) == len) {
			buf[len] = '\0';
			res = json_tokener_parse(buf);
		}
		free(buf);
		close(out_fd);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && res) {
		*ret = res;
		return 0;
	}
	{
		json_object *e, *c, *m;

		if (res && json_object_object_get_ex(res, "error", &e) &&
		    json_object_object_get_ex(e, "code", &c) &&
		    json_object_object_get_ex(e, "message", &m)) {
			enum iw_error code = IW_E_INTERNAL;

			/* the child's code, if it is one of ours */
			for (int k = 1; k <= IW_E_INJECT_FAILED; k++)
				if (strcmp(iw_error_name((enum iw_error)k),
					   json_object_get_string(c)) == 0) {
					code = (enum iw_error)k;
					break;
				}
			iw_fail(f, code, "%s", json_object_get_string(m));
			*ret = res; /* the findings, for the caller */
			return -1;
		}
	}
	json_object_put(res);
	iw_fail(f, IW_E_INTERNAL, "the conversion failed (exit %d): %s",
		WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		last_err[0] ? last_err : "no message");
	return -1;
}

/* ---- the command ---- */

static void help(FILE *out)
{
	fprintf(out,
		"Usage: imgward import [OPTIONS] --target PATH|DEVICE SRC\n"
		"\n"
		"Import a disk image as LXD does, each step sandboxed: probe SRC\n"
		"(anything not safe is refused), check its virtual size fits the\n"
		"target, convert it to raw into the target, then, with virtio,\n"
		"scan it and install the virtio drivers into a Windows guest that\n"
		"lacks them.\n"
		"\n"
		"Options:\n"
		"      --target PATH       a file (created, or replaced only on\n"
		"                          success) or a block device (written in\n"
		"                          place)\n"
		"      --conversion LIST   format,virtio | format (default) | none\n"
		"                          (none: SRC must already be raw; it is\n"
		"                          copied as it is)\n"
		"      --max-size SIZE     refuse a virtual size above SIZE (K, M,\n"
		"                          G, T) for a file target\n"
		"      --state-file FILE   progress and outcome, virt-v2v-wrapper\n"
		"                          style, rewritten atomically\n"
		"      --virtio-win PATH   the virtio-win directory or ISO (as for\n"
		"                          imgward inject)\n"
		"  -f, --format FMT        what SRC is expected to be\n"
		"      --json              print one JSON object\n"
		"  -h, --help              this text\n"
		"\n%s\n%s",
		common_options_help, exit_status_help);
}

static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*ret = (uint64_t)v << shift;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_import(int argc, char **argv)
{
	enum { OPT_JSON = 0x3000, OPT_TARGET, OPT_CONVERSION, OPT_MAX_SIZE,
	       OPT_STATE, OPT_VIRTIO_WIN };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, 'f' },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "conversion", required_argument, NULL, OPT_CONVERSION },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "state-file", required_argument, NULL, OPT_STATE },
		{ "virtio-win", required_argument, NULL, OPT_VIRTIO_WIN },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{ 0 },
	};
	struct common_options sniff_opts, scan_opts, inject_opts;
	struct input_file in = { .fd = -1 }, tin = { .fd = -1 };
	struct iw_failure f = { 0 };
	struct state st = { .step = "probe" };
	const char *expect = NULL, *src, *target = NULL, *virtio_win = NULL,
		   *format, *why = NULL;
	char *passed[MAX_PASSED], max_size_text[32] = "";
	bool owned[MAX_PASSED] = { false };
	size_t np = 0;
	json_object *probe = NULL, *out = NULL, *conv = NULL, *scan = NULL,
		    *inj = NULL, *times = NULL;
	bool json = false, do_format = true, do_virtio = false, none = false;
	uint64_t max_size = 0, vsize;
	double t0;
	enum iw_verdict v;
	int opt, status = 0;

	if (common_options_init(&sniff_opts, "sniff", &f) < 0 ||
	    common_options_init(&scan_opts, "ntfs", &f) < 0 ||
	    common_options_init(&inject_opts, "inject", &f) < 0)
		return iw_report_failure(&f, false, NULL);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = true;
			break;
		case 'f':
			expect = optarg;
			if (!iw_format_name_known(expect)) {
				iw_fail(&f, IW_E_USAGE,
					"--format %s: unknown format", expect);
				return iw_report_failure(&f, json, NULL);
			}
			break;
		case OPT_TARGET:
			target = optarg;
			break;
		case OPT_CONVERSION: {
			char buf[64], *save = NULL, *w;

			snprintf(buf, sizeof(buf), "%s", optarg);
			do_format = do_virtio = none = false;
			for (w = strtok_r(buf, ",", &save); w;
			     w = strtok_r(NULL, ",", &save)) {
				if (strcmp(w, "format") == 0)
					do_format = true;
				else if (strcmp(w, "virtio") == 0)
					do_virtio = true;
				else if (strcmp(w, "none") == 0)
					none = true;
				else {
					iw_fail(&f, IW_E_USAGE,
						"--conversion: unknown step '%s' "
						"(format, virtio, none)", w);
					return iw_report_failure(&f, json, NULL);
				}
			}
			if ((none && (do_format || do_virtio)) ||
			    (!none && !do_format && !do_virtio)) {
				iw_fail(&f, IW_E_USAGE, "--conversion: 'none' "
					"alone, or format and/or virtio");
				return iw_report_failure(&f, json, NULL);
			}
			if (do_virtio && !do_format) {
				iw_fail(&f, IW_E_USAGE,
					"--conversion virtio needs format: the "
					"drivers go into the converted target, "
					"never into SRC (imgward inject changes a "
					"disk in place)");
				return iw_report_failure(&f, json, NULL);
			}
			break;
		}
		case OPT_MAX_SIZE:
			if (parse_size(optarg, &max_size) < 0 || max_size == 0) {
				iw_fail(&f, IW_E_USAGE, "--max-size %s: not a size",
					optarg);
				return iw_report_failure(&f, json, NULL);
			}
			snprintf(max_size_text, sizeof(max_size_text), "%s", optarg);
			break;
		case OPT_STATE:
			st.path = optarg;
			break;
		case OPT_VIRTIO_WIN:
			virtio_win = optarg;
			break;
		case 'h':
			help(stdout);
			return 0;
		case '?':
			help(stderr);
			return IW_EXIT_USAGE;
		default:
			if (common_options_parse(&sniff_opts, opt, optarg, &f) < 0 ||
			    common_options_parse(&scan_opts, opt, optarg, &f) < 0 ||
			    common_options_parse(&inject_opts, opt, optarg, &f) < 0)
				return iw_report_failure(&f, json, NULL);
			/* the converter child gets them too */
			for (const struct option *o = longopts; o->name; o++)
				if (o->val == opt && np + 2 < MAX_PASSED) {
					char *a;

					if (asprintf(&a, "--%s", o->name) < 0)
						break;
					owned[np] = true;
					passed[np++] = a;
					if (o->has_arg)
						passed[np++] = optarg;
					break;
				}
		}
	}
	if (optind != argc - 1 || !target) {
		iw_fail(&f, IW_E_USAGE, "import takes SRC and --target");
		fprintf(stderr, "Run 'imgward import --help' for usage.\n");
		return iw_report_failure(&f, json, NULL);
	}
	src = argv[optind];
	st.target = target;
	state_write(&st);

	out = json_object_new_object();
	times = json_object_new_object();
	json_add_clean(out, "filename", src);
	json_add_clean(out, "target", target);

	/* 1. the sniffer's judgement */
	t0 = now();
	if (input_open(src, &in, &f) < 0 ||
	    probe_input(&sniff_opts, &in, expect, NULL, &probe, &f) < 0)
		goto fail;
	v = iw_input_verdict(probe, IW_ROLE_SINGLE, NULL, NULL, &why);
	format = jstr(probe, "format");
	vsize = (uint64_t)jint(probe, "virtual-size");
	json_object_object_add(times, "probe", json_object_new_double(now() - t0));
	if (v != IW_SAFE) {
		print_findings(stderr, probe, "  ");
		json_object_object_add(out, "probe", json_object_get(probe));
		iw_fail(&f, IW_E_IMPORT_REFUSED, "%s is %s (%s); not importing it",
			src, iw_verdict_name(v), why ? why : "?");
		status = verdict_exit(v);
		goto fail;
	}
	if (none && strcmp(format, "raw") != 0) {
		iw_fail(&f, IW_E_IMPORT_REFUSED,
			"%s is %s, and --conversion none takes raw images only "
			"(--conversion format converts it)", src, format);
		goto fail;
	}

	/* 2. it must fit */
	{
		struct stat tst;

		if (stat(target, &tst) == 0 && S_ISBLK(tst.st_mode)) {
			int fd = open(target, O_RDONLY | O_CLOEXEC);
			uint64_t bytes = 0;

			if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
				iw_fail(&f, IW_E_OUTPUT_ERROR, "%s: %s", target,
					strerror(errno));
				if (fd >= 0)
					close(fd);
				goto fail;
			}
			close(fd);
			if (bytes < vsize) {
				iw_fail(&f, IW_E_TARGET_TOO_SMALL,
					"%s holds %" PRIu64 " bytes; the virtual "
					"disk is %" PRIu64, target, bytes, vsize);
				goto fail;
			}
		} else if (max_size && vsize > max_size) {
			iw_fail(&f, IW_E_TARGET_TOO_SMALL,
				"the virtual disk is %" PRIu64 " bytes, above "
				"--max-size %s", vsize, max_size_text);
			goto fail;
		}
	}
	json_object_object_add(out, "format", json_object_new_string(format));
	json_object_object_add(out, "virtual-size",
			       json_object_new_int64((int64_t)vsize));

	/* 3. the conversion, by `imgward convert` */
	{
		char *cargv[MAX_PASSED + 16];
		size_t k = 0;
		int r;

		st.step = "convert";
		state_write(&st);
		cargv[k++] = unconst("imgward");
		cargv[k++] = unconst("convert");
		cargv[k++] = unconst("--json");
		cargv[k++] = unconst("--progress=json");
		cargv[k++] = unconst("-f");
		cargv[k++] = unconst(format);
		for (size_t i = 0; i < np; i++)
			cargv[k++] = passed[i];
		cargv[k++] = unconst("--");
		cargv[k++] = unconst(src);
		cargv[k++] = unconst(target);
		cargv[k] = NULL;
		t0 = now();
		r = run_convert(cargv, &st, &conv, &f);
		json_object_object_add(times, "convert",
				       json_object_new_double(now() - t0));
		if (r < 0) {
			if (conv) {
				json_object *rep;

				if (json_object_object_get_ex(conv, "findings", &rep) ||
				    json_object_object_get_ex(conv, "report", &rep))
					json_object_object_add(out, "conversion-report",
							       json_object_get(rep));
			}
			goto fail;
		}
		st.progress = 100;
		state_write(&st);
		json_object_object_add(out, "conversion", json_object_get(conv));
	}

	/* 4. the drivers */
	if (do_virtio) {
		struct inject_request req;

		st.step = "scan";
		state_write(&st);
		t0 = now();
		if (input_open_mode(target, O_RDWR, &tin, &f) < 0)
			goto fail;
		{
			struct input_file ro;
			int r;

			if (input_reopen_rdonly(&tin, &ro, &f) < 0)
				goto fail;
			r = scan_run(&scan_opts, ro.fd, "raw", &scan, NULL, &f);
			close(ro.fd);
			if (r < 0)
				goto fail;
		}
		json_object_object_add(times, "scan",
				       json_object_new_double(now() - t0));
		st.step = "inject";
		state_write(&st);
		t0 = now();
		req = (struct inject_request){
			.disk_fd = tin.fd,
			.format = "raw",
			.disk_path = target,
			.scan = scan,
			.virtio_win = virtio_win,
			.opts = &inject_opts,
		};
		if (inject_run(&req, &inj, &f) < 0) {
			json_object_object_add(times, "inject",
					       json_object_new_double(now() - t0));
			goto fail;
		}
		json_object_object_add(times, "inject",
				       json_object_new_double(now() - t0));
		json_object_object_add(out, "inject", json_object_get(inj));
		{
			json_object *w = NULL;

			json_object_object_get_ex(scan, "windows", &w);
			json_object_object_add(out, "windows", json_object_get(w));
		}
	}

	st.step = "done";
	st.finished = true;
	st.return_code = 0;
	state_write(&st);
	json_object_object_add(out, "seconds", json_object_get(times));
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(
				       out, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		json_object *a;

		put_clean(stdout, src);
		printf(": %s, imported into ", format);
		put_clean(stdout, target);
		fputc('\n', stdout);
		if (inj && json_object_object_get_ex(inj, "action", &a)) {
			if (strcmp(json_object_get_string(a), "skipped") == 0) {
				fputs("virtio drivers: not injected: ", stdout);
				put_clean(stdout, jstr(inj, "reason"));
			} else {
				fputs("virtio drivers: injected (first boot: ",
				      stdout);
				put_clean(stdout, jstr(inj, "firstboot"));
				fputc(')', stdout);
			}
			fputc('\n', stdout);
		}
	}
	status = 0;
	goto done;

fail:
	if (status == 0)
		status = iw_error_exit_status(f.code);
	st.finished = true;
	st.failed = true;
	st.return_code = status;
	st.error = &f;
	state_write(&st);
	json_object_object_add(out, "seconds", json_object_get(times));
	/* the report's own exit status: a refusal keeps the verdict's */
	{
		int s = iw_report_failure(&f, json, out);

		if (f.code != IW_E_IMPORT_REFUSED)
			status = s;
	}
done:
	for (size_t i = 0; i < np; i++)
		if (owned[i])
			free(passed[i]);
	json_object_put(times);
	json_object_put(out);
	json_object_put(conv);
	json_object_put(scan);
	json_object_put(inj);
	json_object_put(probe);
	if (in.fd >= 0)
		close(in.fd);
	if (tin.fd >= 0)
		close(tin.fd);
	return status;
}
