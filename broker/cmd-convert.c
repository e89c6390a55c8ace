/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward convert [-f FMT] [-O raw|qcow2] [--progress[=bar|json]] SRC DST
 *
 * 1. judge SRC with the sniffer, exactly as `imgward probe`: anything not
 *    `safe` (or not FMT) is refused, with the findings;
 * 2. prepare DST: a regular file is written as an unnamed temporary file
 *    in DST's directory (O_TMPFILE) and linked into place only on success,
 *    so a failure leaves nothing at DST; a block device is written in
 *    place (it must be large enough); "-" streams to stdout;
 * 3. run imgward-convert with SRC (read-only) and the output fd, under
 *    the converter's limits, RLIMIT_FSIZE lowered to what this output can
 *    need.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "input.h"
#include "probe.h"

static void help(FILE *out)
{
	fprintf(out,
		"Usage: imgward convert [OPTIONS] SRC DST\n"
		"\n"
		"Convert a disk image to raw (or qcow2) inside the sandboxed\n"
		"converter. SRC is first judged by the sniffer, as `imgward\n"
		"probe` does: anything not safe is refused. DST is a file path\n"
		"(written under a temporary name and put in place only when the\n"
		"conversion succeeds), a block device (written in place), or -\n"
		"(raw bytes to stdout).\n"
		"\n"
		"Options:\n"
		"  -f, --format FMT        what SRC is expected to be; anything\n"
		"                          else is refused (qemu names, as probe)\n"
		"  -O, --output-format F   raw (default) or qcow2\n"
		"      --cluster-size N    qcow2 output cluster size (default 65536)\n"
		"      --threads N         worker threads (default: one per CPU)\n"
		"      --progress[=bar|json]\n"
		"                          progress on stderr: a bar on a terminal,\n"
		"                          else (or with =json) lines of\n"
		"                          {\"progress\": 0.42, \"bytes\": ...}\n"
		"      --fsync             flush DST to disk before putting it in\n"
		"                          place\n"
		"      --json              print the result as one JSON object\n"
		"  -h, --help              this text\n"
		"\n%s\n%s",
		common_options_help, exit_status_help);
}

enum progress_mode { PROGRESS_NONE, PROGRESS_BAR, PROGRESS_JSON };

struct convert_ctx {
	enum progress_mode progress;
	bool bar_drawn;
};

static void on_progress(json_object *msg, void *userdata)
{
	struct convert_ctx *c = userdata;
	json_object *p, *b;
	double frac = 0;
	int64_t bytes = 0;

	/* untrusted numbers: clamp before use */
	if (json_object_object_get_ex(msg, "progress", &p))
		frac = json_object_get_double(p);
	if (!(frac >= 0))
		frac = 0;
	if (frac > 1)
		frac = 1;
	if (json_object_object_get_ex(msg, "bytes", &b))
		bytes = json_object_get_int64(b);
	if (bytes < 0)
		bytes = 0;
	if (c->progress == PROGRESS_JSON) {
		fprintf(stderr, "{\"progress\": %.4f, \"bytes\": %" PRId64 "}\n",
			frac, bytes);
	} else if (c->progress == PROGRESS_BAR) {
		char bar[41];
		int n = (int)(frac * 40);

		memset(bar, '#', (size_t)n);
		memset(bar + n, '.', (size_t)(40 - n));
		bar[40] = '\0';
		fprintf(stderr, "\r[%s] %5.1f%%", bar, frac * 100);
		c->bar_drawn = true;
	}
	fflush(stderr);
}

struct output {
	int fd;
	enum { OUT_FILE, OUT_DEVICE, OUT_STREAM } kind;
	char *dir;	 /* OUT_FILE: DST's directory */
	char *name;	 /* OUT_FILE: DST's base name */
	int dir_fd;
	bool tmpfile;	 /* O_TMPFILE (else a named temporary) */
	char tmp_name[64];
	uint64_t device_size; /* OUT_DEVICE */
};

/* read_back: the qcow2 writer reads its own L2 tables back */
static int open_output(const char *dst, const struct input_file *in,
		       bool read_back, struct output *o, struct iw_failure *f)
{
	int acc = read_back ? O_RDWR : O_WRONLY;
	struct stat st;
	_cleanup_free_ char *d1 = NULL, *d2 = NULL;

	*o = (struct output){ .fd = -1, .dir_fd = -1 };
	if (strcmp(dst, "-") == 0) {
		o->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (o->fd < 0) {
			iw_fail(f, IW_E_OUTPUT_ERROR, "stdout: %s",
				strerror(errno));
			return -1;
		}
		o->kind = OUT_STREAM;
		return 0;
	}
	if (lstat(dst, &st) == 0) {
		if (st.st_dev == in->st.st_dev && st.st_ino == in->st.st_ino) {
			iw_fail(f, IW_E_USAGE,
				"%s: the destination is the source", dst);
			return -1;
		}
		if (S_ISBLK(st.st_mode)) {
			uint64_t bytes;

			o->fd = open(dst, O_WRONLY | O_CLOEXEC | O_NOFOLLOW |
						 O_NOCTTY);
			if (o->fd < 0 || fstat(o->fd, &st) < 0 ||
			    !S_ISBLK(st.st_mode)) {
				iw_fail(f, IW_E_OUTPUT_ERROR, "%s: %s", dst,
					strerror(errno));
				return -1;
			}
			if (ioctl(o->fd, BLKGETSIZE64, &bytes) < 0) {
				iw_fail(f, IW_E_OUTPUT_ERROR,
					"%s: cannot get the device size: %s",
					dst, strerror(errno));
				return -1;
			}
			o->kind = OUT_DEVICE;
			o->device_size = bytes;
			return 0;
		}
		if (!S_ISREG(st.st_mode)) {
			iw_fail(f, IW_E_OUTPUT_ERROR,
				"%s: exists and is neither a regular file nor "
				"a block device",
				dst);
			return -1;
		}
	}
	o->kind = OUT_FILE;
	d1 = strdup(dst);
	d2 = strdup(dst);
	if (!d1 || !d2) {
		iw_fail(f, IW_E_INTERNAL, "out of memory");
		return -1;
	}
	o->dir = strdup(dirname(d1));
	o->name = strdup(basename(d2));
	if (!o->dir || !o->name) {
		iw_fail(f, IW_E_INTERNAL, "out of memory");
		return -1;
	}
	o->dir_fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dir_fd < 0) {
		iw_fail(f, IW_E_OUTPUT_ERROR, "%s: %s", o->dir, strerror(errno));
		return -1;
	}
	/* an unnamed file: if anything fails, nothing is ever at DST */
	o->fd = openat(o->dir_fd, ".", O_TMPFILE | acc | O_CLOEXEC, 0644);
	if (o->fd >= 0) {
		o->tmpfile = true;
		return 0;
	}
	/* filesystems without O_TMPFILE: a hidden temporary name */
	for (int tries = 0; tries < 16 && o->fd < 0; tries++) {
		uint32_t rnd;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)getpid() ^ (uint32_t)tries;
		snprintf(o->tmp_name, sizeof(o->tmp_name),
			 ".imgward-convert.%08x", rnd);
		o->fd = openat(o->dir_fd, o->tmp_name,
			       acc | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			       0644);
		if (o->fd < 0 && errno != EEXIST)
			break;
	}
	if (o->fd < 0) {
		iw_fail(f, IW_E_OUTPUT_ERROR, "cannot create a file in %s: %s",
			o->dir, strerror(errno));
		o->tmp_name[0] = '\0';
		return -1;
	}
	return 0;
}

/* Put the finished output in place (files only). */
static int commit_output(struct output *o, bool do_fsync, struct iw_failure *f)
{
	char proc[64], tmp[64];

	if (o->kind != OUT_FILE)
		return 0;
	if (do_fsync && fsync(o->fd) < 0) {
		iw_fail(f, IW_E_OUTPUT_ERROR, "fsync: %s", strerror(errno));
		return -1;
	}
	if (o->tmpfile) {
		/* link the unnamed file under a temporary name, then rename
		 * over DST: the switch is atomic and DST is never partial */
		for (int tries = 0; tries < 16; tries++) {
			uint32_t rnd;

			if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
				rnd = (uint32_t)getpid() ^ (uint32_t)tries;
			snprintf(tmp, sizeof(tmp), ".imgward-convert.%08x", rnd);
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
			if (linkat(AT_FDCWD, proc, o->dir_fd, tmp,
				   AT_SYMLINK_FOLLOW) == 0) {
				snprintf(o->tmp_name, sizeof(o->tmp_name), "%s",
					 tmp);
				break;
			}
			if (errno != EEXIST) {
				iw_fail(f, IW_E_OUTPUT_ERROR,
					"cannot link the output into %s: %s",
					o->dir, strerror(errno));
				return -1;
			}
		}
		if (!o->tmp_name[0]) {
			iw_fail(f, IW_E_OUTPUT_ERROR,
				"cannot find a free temporary name in %s",
				o->dir);
			return -1;
		}
	}
	if (renameat(o->dir_fd, o->tmp_name, o->dir_fd, o->name) < 0) {
		iw_fail(f, IW_E_OUTPUT_ERROR, "cannot rename to %s/%s: %s",
			o->dir, o->name, strerror(errno));
		return -1;
	}
	o->tmp_name[0] = '\0';
	return 0;
}

static void close_output(struct output *o)
{
	/* a named temporary that did not make it is removed */
	if (o->kind == OUT_FILE && o->tmp_name[0] && o->dir_fd >= 0)
		(void)unlinkat(o->dir_fd, o->tmp_name, 0);
	safe_close(o->fd);
	safe_close(o->dir_fd);
	if (o->kind == OUT_FILE) {
		free(o->dir);
		free(o->name);
	}
}

int cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output-format", required_argument, NULL, 'O' },
		{ "cluster-size", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "progress", optional_argument, NULL, 'p' },
		{ "fsync", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{ 0 },
	};
	struct common_options sniff_opts, conv_opts;
	struct helper_outcome outcome = { 0 };
	struct helper_job job = { 0 };
	struct input_file in = { .fd = -1 };
	struct output out = { .fd = -1, .dir_fd = -1 };
	struct convert_ctx ctx = { 0 };
	struct iw_failure f = { 0 };
	const char *expect = NULL, *oformat = "raw", *src, *dst;
	const char *args[16];
	char threads_arg[16] = "0", cluster_arg[16] = "65536";
	json_object *probe = NULL, *extra = NULL, *res = NULL, *conv;
	bool json = false, do_fsync = false;
	uint64_t vsize, cluster = 65536, device_size = 0;
	size_t na = 0;
	int opt, status, fds[2];

	if (common_options_init(&sniff_opts, "sniff", &f) < 0 ||
	    common_options_init(&conv_opts, "convert", &f) < 0)
		return iw_report_failure(&f, false, NULL);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:O:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			expect = optarg;
			if (!iw_format_name_known(expect)) {
				iw_fail(&f, IW_E_USAGE,
					"--format %s: unknown format", expect);
				return iw_report_failure(&f, json, NULL);
			}
			break;
		case 'O':
			if (strcmp(optarg, "raw") != 0 &&
			    strcmp(optarg, "qcow2") != 0) {
				iw_fail(&f, IW_E_USAGE,
					"-O %s: imgward writes raw or qcow2",
					optarg);
				return iw_report_failure(&f, json, NULL);
			}
			oformat = optarg;
			break;
		case 'c': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*end || v < 512 || v > (2u << 20) || (v & (v - 1))) {
				iw_fail(&f, IW_E_USAGE,
					"--cluster-size: a power of two from 512 "
					"to 2097152");
				return iw_report_failure(&f, json, NULL);
			}
			cluster = v;
			break;
		}
		case 't': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > 8) {
				iw_fail(&f, IW_E_USAGE, "--threads: 1 to 8");
				return iw_report_failure(&f, json, NULL);
			}
			snprintf(threads_arg, sizeof(threads_arg), "%lu", v);
			break;
		}
		case 'p':
			if (!optarg)
				ctx.progress = isatty(STDERR_FILENO)
						       ? PROGRESS_BAR
						       : PROGRESS_JSON;
			else if (strcmp(optarg, "bar") == 0)
				ctx.progress = PROGRESS_BAR;
			else if (strcmp(optarg, "json") == 0)
				ctx.progress = PROGRESS_JSON;
			else {
				iw_fail(&f, IW_E_USAGE,
					"--progress=%s: bar or json", optarg);
				return iw_report_failure(&f, json, NULL);
			}
			break;
		case 's':
			do_fsync = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			help(stdout);
			return 0;
		case '?':
			help(stderr);
			return IW_EXIT_USAGE;
		default:
			/* the sandbox options apply to both helpers */
			if (common_options_parse(&sniff_opts, opt, optarg, &f) < 0 ||
			    common_options_parse(&conv_opts, opt, optarg, &f) < 0)
				return iw_report_failure(&f, json, NULL);
		}
	}
	if (optind != argc - 2) {
		iw_fail(&f, IW_E_USAGE, "convert takes SRC and DST");
		fprintf(stderr, "Run 'imgward convert --help' for usage.\n");
		return iw_report_failure(&f, json, NULL);
	}
	src = argv[optind];
	dst = argv[optind + 1];
	if (strcmp(dst, "-") == 0 && json) {
		iw_fail(&f, IW_E_USAGE,
			"--json and DST - both want stdout; drop --json");
		return iw_report_failure(&f, false, NULL);
	}

	extra = json_object_new_object();
	if (extra) {
		_cleanup_free_ char *s = iw_sanitize(src, strlen(src), NULL);
		_cleanup_free_ char *d = iw_sanitize(dst, strlen(dst), NULL);
		json_object_object_add(extra, "filename",
				       json_object_new_string(s ? s : "?"));
		json_object_object_add(extra, "destination",
				       json_object_new_string(d ? d : "?"));
	}
	if (input_open(src, &in, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	/* 1. the sniffer's judgement */
	if (probe_input(&sniff_opts, &in, expect, NULL, &probe, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}
	if (strcmp(jstr(probe, "verdict"), "safe") != 0) {
		fprintf(stderr, "imgward: %s is %s; not converting it\n", src,
			jstr(probe, "verdict"));
		print_findings(stderr, probe, "  ");
		if (json) {
			json_object_object_add(extra, "probe",
					       json_object_get(probe));
			iw_fail(&f, IW_E_CONVERSION_REFUSED,
				"the image is %s", jstr(probe, "verdict"));
			iw_report_failure(&f, true, extra);
		}
		status = verdict_exit((enum iw_verdict)iw_verdict_from_name(
			jstr(probe, "verdict")));
		goto out;
	}
	vsize = (uint64_t)jint(probe, "virtual-size");

	/* 2. the destination */
	if (open_output(dst, &in, strcmp(oformat, "qcow2") == 0, &out, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}
	if (out.kind == OUT_DEVICE) {
		device_size = out.device_size;
		if (device_size < vsize) {
			iw_fail(&f, IW_E_TARGET_TOO_SMALL,
				"%s holds %" PRIu64 " bytes; the image needs %"
				PRIu64,
				dst, device_size, vsize);
			status = iw_report_failure(&f, json, extra);
			goto out;
		}
	}
	if (strcmp(oformat, "qcow2") == 0 && out.kind != OUT_FILE) {
		iw_fail(&f, IW_E_USAGE,
			"qcow2 output goes to a file, not a device or a stream");
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	/* 3. the converter */
	common_options_job(&conv_opts, "convert", &job);
	/* the output can need at most this much: RLIMIT_FSIZE stops a
	 * compromised converter from filling the disk beyond it */
	if (out.kind == OUT_FILE || out.kind == OUT_STREAM) {
		uint64_t need = vsize;
		if (strcmp(oformat, "qcow2") == 0)
			/* data, plus L2 tables and refcounts (8 + 2 bytes per
			 * cluster), plus header, L1 and slack */
			need = vsize + vsize / cluster * 16 + 64 * cluster +
			       (64ULL << 20);
		if (need < job.limits.file_size)
			job.limits.file_size = need;
	}
	snprintf(cluster_arg, sizeof(cluster_arg), "%llu",
		 (unsigned long long)cluster);
	args[na++] = "--format";
	args[na++] = jstr(probe, "format");
	args[na++] = "--output";
	args[na++] = strcmp(oformat, "qcow2") == 0 ? "qcow2"
		     : out.kind == OUT_FILE	      ? "file"
		     : out.kind == OUT_DEVICE	      ? "device"
						      : "stream";
	args[na++] = "--threads";
	args[na++] = threads_arg;
	args[na++] = "--cluster-size";
	args[na++] = cluster_arg;
	if (ctx.progress != PROGRESS_NONE)
		args[na++] = "--progress";
	args[na] = NULL;
	job.args = args;
	fds[0] = in.fd;
	fds[1] = out.fd;
	job.fds = fds;
	job.n_fds = 2;
	job.on_progress = on_progress;
	job.userdata = &ctx;
	if (helper_run(&job, &outcome, &f) < 0) {
		if (ctx.bar_drawn)
			fputc('\n', stderr);
		if (outcome.sandbox && extra)
			json_object_object_add(extra, "sandbox",
					       json_object_get(outcome.sandbox));
		status = iw_report_failure(&f, json, extra);
		goto out;
	}
	if (ctx.bar_drawn)
		fputc('\n', stderr);
	if (commit_output(&out, do_fsync, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	res = json_object_get(extra);
	json_object_object_add(res, "format",
			       json_object_new_string(jstr(probe, "format")));
	json_object_object_add(res, "output-format",
			       json_object_new_string(oformat));
	json_object_object_add(res, "virtual-size",
			       json_object_new_int64((int64_t)vsize));
	if (json_object_object_get_ex(outcome.result, "convert", &conv)) {
		static const char *const keys[] = { "bytes-written",
						    "bytes-sparse",
						    "units-decompressed" };
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			int64_t v = jint(conv, keys[i]);
			if (v >= 0)
				json_object_object_add(res, keys[i],
						       json_object_new_int64(v));
		}
	}
	json_object_object_add(res, "seconds",
			       json_object_new_double(outcome.seconds));
	json_object_object_add(res, "helper-cpu-seconds",
			       json_object_new_double(outcome.cpu_seconds));
	json_object_object_add(res, "helper-peak-rss-kib",
			       json_object_new_int64(outcome.peak_rss_kib));
	json_object_object_add(res, "sandbox", json_object_get(outcome.sandbox));
	if (json)
		printf("%s\n", json_object_to_json_string_ext(
				       res, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (out.kind != OUT_STREAM)
		fprintf(stderr, "imgward: converted %s (%s) to %s (%s)\n", src,
			jstr(probe, "format"), dst, oformat);
	status = 0;
out:
	close_output(&out);
	json_object_put(res);
	json_object_put(probe);
	json_object_put(extra);
	helper_outcome_done(&outcome);
	if (in.fd >= 0)
		close(in.fd);
	return status;
}
