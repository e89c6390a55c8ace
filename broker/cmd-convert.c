/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward convert [-f FMT] [-O raw|qcow2] [--progress[=bar|json]] SRC DST
 * imgward convert --chain BASE,...,LEAF DST        (a VHD chain)
 * imgward convert --extents EXT,... DESCRIPTOR DST (a multi-file VMDK)
 * imgward convert --member NAME ARCHIVE DST        (an OVA or tar member)
 * imgward convert --xenserver ARCHIVE DST          (a tgz of N.vhd layers)
 *
 * 1. judge SRC with the sniffer, exactly as `imgward probe`: anything not
 *    `safe` (or not FMT) is refused, with the findings. For a multi-file
 *    input every file the caller listed is opened here and judged (the
 *    finding "needs another file" is set aside only when that file is
 *    listed: lib/input-set.h), and a chain's links are checked;
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
#include "formats/vhd-chain-map.h"
#include "input-set.h"
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
		"Multi-file inputs are converted only from files listed here,\n"
		"never from names found inside an image:\n"
		"  imgward convert --chain BASE.vhd,...,LEAF.vhd DST\n"
		"  imgward convert --extents EXT1.vmdk,... DESCRIPTOR.vmdk DST\n"
		"  imgward convert --member disk1.vmdk VM.ova DST\n"
		"  imgward convert --xenserver IMAGE.tgz DST\n"
		"\n"
		"Options:\n"
		"  -f, --format FMT        what SRC is expected to be; anything\n"
		"                          else is refused (qemu names, as probe)\n"
		"      --chain LIST        a VHD differencing chain, base first,\n"
		"                          comma-separated (repeatable); each\n"
		"                          layer's parent must be the file before\n"
		"      --extents LIST      the extent files of the VMDK descriptor\n"
		"                          SRC, in the descriptor's order\n"
		"      --member NAME       convert the member NAME of the tar or\n"
		"                          OVA archive SRC\n"
		"      --xenserver         SRC is a XenServer/OpenStack chain\n"
		"                          archive: a tar (or .tgz) of 0.vhd (the\n"
		"                          leaf) ... N-1.vhd (the base)\n"
		"      --scratch-dir DIR   where a compressed --xenserver archive\n"
		"                          is unpacked (default: DST's directory,\n"
		"                          else $TMPDIR, else /var/tmp)\n"
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
	json_object *p, *b, *ph;
	const char *phase = "convert";
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
	/* a phase we know, or none (untrusted text is not echoed) */
	if (json_object_object_get_ex(msg, "phase", &ph) &&
	    json_object_is_type(ph, json_type_string) &&
	    strcmp(json_object_get_string(ph), "unpack") == 0)
		phase = "unpack";
	if (c->progress == PROGRESS_JSON) {
		fprintf(stderr,
			"{\"progress\": %.4f, \"bytes\": %" PRId64
			", \"phase\": \"%s\"}\n",
			frac, bytes, phase);
	} else if (c->progress == PROGRESS_BAR) {
		char bar[41];
		int n = (int)(frac * 40);

		memset(bar, '#', (size_t)n);
		memset(bar + n, '.', (size_t)(40 - n));
		bar[40] = '\0';
		fprintf(stderr, "\r%s [%s] %5.1f%%",
			strcmp(phase, "unpack") == 0 ? "unpacking " : "converting",
			bar, frac * 100);
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
static int open_output(const char *dst, const struct input_file *ins,
		       size_t n_ins, bool read_back, struct output *o,
		       struct iw_failure *f)
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
		for (size_t i = 0; i < n_ins; i++) {
			if (st.st_dev == ins[i].st.st_dev &&
			    st.st_ino == ins[i].st.st_ino) {
				iw_fail(f, IW_E_USAGE,
					"%s: the destination is a source", dst);
				return -1;
			}
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

/* The last component of path: the name the caller gave a file. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Append the comma-separated paths in list to *paths. */
static int add_paths(const char *list, char ***paths, size_t *n,
		     struct iw_failure *f)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;

	if (!copy) {
		iw_fail(f, IW_E_INTERNAL, "out of memory");
		return -1;
	}
	for (char *p = strtok_r(copy, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		char **grown;

		if (*n >= IW_INPUT_SET_MAX_FILES) {
			iw_fail(f, IW_E_USAGE, "more than %d files",
				IW_INPUT_SET_MAX_FILES);
			return -1;
		}
		grown = realloc(*paths, (*n + 1) * sizeof(**paths));
		if (!grown || !(grown[*n] = strdup(p))) {
			if (grown)
				*paths = grown;
			iw_fail(f, IW_E_INTERNAL, "out of memory");
			return -1;
		}
		*paths = grown;
		(*n)++;
	}
	return 0;
}

/* What the caller handed us, in the order the helper takes the fds. */
struct job_inputs {
	enum { IN_SINGLE, IN_CHAIN, IN_EXTENTS, IN_MEMBER, IN_XENSERVER } kind;
	size_t n;		   /* files */
	size_t n_judged;	   /* the first n_judged go to the sniffer */
	char **paths;		   /* leaf first for a chain */
	struct input_file *files;
	json_object **probes;	   /* per judged file */
	enum iw_input_role *roles; /* per judged file */
	const char *member;	   /* IN_MEMBER */
};

static void job_inputs_done(struct job_inputs *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (j->files && j->files[i].fd >= 0)
			close(j->files[i].fd);
		if (j->probes)
			json_object_put(j->probes[i]);
		free(j->paths[i]);
	}
	free(j->paths);
	free(j->files);
	free(j->probes);
	free(j->roles);
}

/* Open every input and have the sniffer judge the ones it can judge.
 * 0; 1 when an input is refused (*status set, findings printed); -1
 * with f set. */
static int judge_inputs(struct job_inputs *j,
			const struct common_options *sniff_opts,
			const char *expect, bool json, json_object *extra,
			int *status, struct iw_failure *f)
{
	j->files = calloc(j->n, sizeof(*j->files));
	j->probes = calloc(j->n, sizeof(*j->probes));
	j->roles = calloc(j->n, sizeof(*j->roles));
	if (!j->files || !j->probes || !j->roles) {
		iw_fail(f, IW_E_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < j->n; i++)
		j->files[i].fd = -1;
	for (size_t i = 0; i < j->n; i++)
		if (input_open(j->paths[i], &j->files[i], f) < 0)
			return -1;

	/* Who is what. VMDK extents are not judged on their own: a FLAT
	 * extent is guest bytes (whatever they look like), a SPARSE one is
	 * half of an image (its descriptor is the listed SRC); the
	 * converter's map checks each against the descriptor. */
	switch (j->kind) {
	case IN_SINGLE:
		j->n_judged = 1;
		j->roles[0] = IW_ROLE_SINGLE;
		break;
	case IN_CHAIN:
		j->n_judged = j->n;
		for (size_t i = 0; i < j->n; i++)
			j->roles[i] = j->n == 1	      ? IW_ROLE_SINGLE
				      : i + 1 < j->n ? IW_ROLE_CHAIN_CHILD
						     : IW_ROLE_CHAIN_BASE;
		break;
	case IN_EXTENTS:
		j->n_judged = 1;
		j->roles[0] = IW_ROLE_DESCRIPTOR;
		break;
	case IN_MEMBER:
		j->n_judged = 1;
		j->roles[0] = IW_ROLE_ARCHIVE;
		break;
	case IN_XENSERVER:
		j->n_judged = 1;
		j->roles[0] = IW_ROLE_XENSERVER;
		break;
	}

	for (size_t i = 0; i < j->n_judged; i++) {
		/* -f names the member's format, not the archive's */
		const char *e = j->kind == IN_MEMBER || j->kind == IN_XENSERVER
					? NULL
					: expect;

		if (probe_input(sniff_opts, &j->files[i], e, NULL,
				&j->probes[i], f) < 0)
			return -1;
	}

	/* the links first: a chain listed the wrong way round is better
	 * told so than that its base "needs a parent" */
	if (j->kind == IN_CHAIN) {
		char msg[512];

		if (iw_vhd_chain_check(j->probes, j->n, msg, sizeof(msg)) < 0) {
			fprintf(stderr,
				"imgward: the chain is broken (chain-broken): "
				"%s; not converting it\n",
				msg);
			if (json) {
				iw_fail(f, IW_E_CONVERSION_REFUSED,
					"chain-broken: %s", msg);
				iw_report_failure(f, true, extra);
			}
			*status = verdict_exit(IW_UNSAFE);
			return 1;
		}
	}

	for (size_t i = 0; i < j->n_judged; i++) {
		json_object *member = NULL;
		const char *why = NULL;
		enum iw_verdict v;

		v = iw_input_verdict(j->probes[i], j->roles[i], j->member,
				     &member, &why);
		if (v == IW_SAFE && j->kind == IN_MEMBER && expect &&
		    !iw_format_satisfies(jstr(member, "format"), NULL, 0,
					 expect)) {
			v = IW_UNSAFE;
			why = "format-mismatch";
		}
		if (v == IW_SAFE && j->kind == IN_XENSERVER && expect &&
		    !iw_format_satisfies("vhd", NULL, 0, expect)) {
			v = IW_UNSAFE;
			why = "format-mismatch";
		}
		if (v == IW_SAFE)
			continue;
		fprintf(stderr, "imgward: %s is %s (%s); not converting it\n",
			j->paths[i], iw_verdict_name(v), why ? why : "?");
		print_findings(stderr, j->probes[i], "  ");
		if (member)
			print_findings(stderr, member, "  member: ");
		if (json) {
			json_object_object_add(extra, "probe",
					       json_object_get(j->probes[i]));
			iw_fail(f, IW_E_CONVERSION_REFUSED, "%s is %s (%s)",
				j->paths[i], iw_verdict_name(v),
				why ? why : "?");
			iw_report_failure(f, true, extra);
		}
		*status = verdict_exit(v);
		return 1;
	}

	return 0;
}

/* The leaf's report (order[0]) among a chain archive's members. */
static json_object *xenserver_leaf(json_object *tar)
{
	json_object *fs, *data, *chain, *order, *leaf;

	if (!json_object_object_get_ex(tar, "format-specific", &fs) ||
	    !json_object_object_get_ex(fs, "data", &data) ||
	    !json_object_object_get_ex(data, "xenserver-chain", &chain) ||
	    !json_object_object_get_ex(chain, "order", &order) ||
	    !json_object_is_type(order, json_type_array) ||
	    json_object_array_length(order) == 0 ||
	    !json_object_get_string(json_object_array_get_idx(order, 0)))
		return NULL;
	leaf = iw_report_child(
		tar, NULL,
		json_object_get_string(json_object_array_get_idx(order, 0)),
		NULL);
	return leaf && strcmp(jstr(leaf, "format"), "vhd") == 0 ? leaf : NULL;
}

/* An unnamed read-write file for unpacking an archive: in dir, else next
 * to DST, else in $TMPDIR or /var/tmp. It vanishes when closed. */
static int open_scratch(const char *dir, const struct output *o,
			struct iw_failure *f)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (!dir)
		dir = o->kind == OUT_FILE ? o->dir
		      : tmp && *tmp	  ? tmp
					  : "/var/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		/* filesystems without O_TMPFILE: a name, unlinked at once */
		char path[4096];
		uint32_t rnd;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)getpid();
		snprintf(path, sizeof(path), "%s/.imgward-scratch.%08x", dir,
			 rnd);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
					O_CLOEXEC,
			  0600);
		if (fd >= 0)
			(void)unlink(path);
	}
	if (fd < 0)
		iw_fail(f, IW_E_OUTPUT_ERROR,
			"cannot create a scratch file in %s: %s", dir,
			strerror(errno));
	return fd;
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
		{ "chain", required_argument, NULL, 'C' },
		{ "extents", required_argument, NULL, 'E' },
		{ "member", required_argument, NULL, 'M' },
		{ "xenserver", no_argument, NULL, 'X' },
		{ "scratch-dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{ 0 },
	};
	struct common_options sniff_opts, conv_opts;
	struct helper_outcome outcome = { 0 };
	struct helper_job job = { 0 };
	struct job_inputs in = { .kind = IN_SINGLE };
	struct output out = { .fd = -1, .dir_fd = -1 };
	struct convert_ctx ctx = { 0 };
	struct iw_failure f = { 0 };
	const char *expect = NULL, *oformat = "raw", *src = NULL, *dst;
	const char *format;
	_cleanup_free_ const char **args = NULL;
	_cleanup_free_ int *fds = NULL;
	char threads_arg[16] = "0", cluster_arg[16] = "65536", inputs_arg[16];
	json_object *probe, *member = NULL, *extra = NULL, *res = NULL, *conv;
	bool json = false, do_fsync = false, xenserver = false;
	const char *scratch_dir = NULL;
	char scratch_limit_arg[24];
	int scratch_fd = -1;
	uint64_t vsize, cluster = 65536, device_size = 0, conf_fsize;
	char **chain = NULL, **extents = NULL;
	size_t n_chain = 0, n_extents = 0, na = 0;
	int opt, status, ret;

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
				goto fail_early;
			}
			break;
		case 'O':
			if (strcmp(optarg, "raw") != 0 &&
			    strcmp(optarg, "qcow2") != 0) {
				iw_fail(&f, IW_E_USAGE,
					"-O %s: imgward writes raw or qcow2",
					optarg);
				goto fail_early;
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
				goto fail_early;
			}
			cluster = v;
			break;
		}
		case 't': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > 8) {
				iw_fail(&f, IW_E_USAGE, "--threads: 1 to 8");
				goto fail_early;
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
				goto fail_early;
			}
			break;
		case 's':
			do_fsync = true;
			break;
		case 'j':
			json = true;
			break;
		case 'C':
			if (add_paths(optarg, &chain, &n_chain, &f) < 0)
				goto fail_early;
			break;
		case 'E':
			if (add_paths(optarg, &extents, &n_extents, &f) < 0)
				goto fail_early;
			break;
		case 'M':
			if (!*optarg) {
				iw_fail(&f, IW_E_USAGE, "--member: a name");
				goto fail_early;
			}
			in.member = optarg;
			break;
		case 'X':
			xenserver = true;
			break;
		case 'D':
			scratch_dir = optarg;
			break;
		case 'h':
			help(stdout);
			status = 0;
			goto out_early;
		case '?':
			help(stderr);
			status = IW_EXIT_USAGE;
			goto out_early;
		default:
			/* the sandbox options apply to both helpers */
			if (common_options_parse(&sniff_opts, opt, optarg, &f) < 0 ||
			    common_options_parse(&conv_opts, opt, optarg, &f) < 0)
				goto fail_early;
		}
	}
	if (!!n_chain + !!n_extents + !!in.member + xenserver > 1) {
		iw_fail(&f, IW_E_USAGE,
			"--chain, --extents, --member and --xenserver do not "
			"mix");
		goto fail_early;
	}
	if (n_chain) {
		if (optind != argc - 1) {
			iw_fail(&f, IW_E_USAGE,
				"convert --chain BASE,...,LEAF takes only DST");
			fprintf(stderr,
				"Run 'imgward convert --help' for usage.\n");
			goto fail_early;
		}
		if (n_chain > IW_VHD_CHAIN_MAX_LAYERS) {
			iw_fail(&f, IW_E_USAGE,
				"--chain: at most %d layers",
				IW_VHD_CHAIN_MAX_LAYERS);
			goto fail_early;
		}
		/* listed base first; the helper takes the leaf first */
		in.kind = IN_CHAIN;
		in.n = n_chain;
		in.paths = chain;
		chain = NULL;
		for (size_t i = 0; i < in.n / 2; i++) {
			char *t = in.paths[i];
			in.paths[i] = in.paths[in.n - 1 - i];
			in.paths[in.n - 1 - i] = t;
		}
		src = in.paths[0];
	} else {
		if (optind != argc - 2) {
			iw_fail(&f, IW_E_USAGE, "convert takes SRC and DST");
			fprintf(stderr,
				"Run 'imgward convert --help' for usage.\n");
			goto fail_early;
		}
		src = argv[optind++];
		if (n_extents + 1 > IW_INPUT_SET_MAX_FILES) {
			iw_fail(&f, IW_E_USAGE, "--extents: at most %d files",
				IW_INPUT_SET_MAX_FILES - 1);
			goto fail_early;
		}
		in.paths = calloc(n_extents + 1, sizeof(*in.paths));
		if (!in.paths || !(in.paths[0] = strdup(src))) {
			iw_fail(&f, IW_E_INTERNAL, "out of memory");
			goto fail_early;
		}
		in.n = 1;
		for (size_t i = 0; i < n_extents; i++) {
			in.paths[in.n++] = extents[i];
			extents[i] = NULL;
		}
		in.kind = n_extents   ? IN_EXTENTS
			  : in.member ? IN_MEMBER
			  : xenserver ? IN_XENSERVER
				      : IN_SINGLE;
	}
	dst = argv[optind];
	if (strcmp(dst, "-") == 0 && json) {
		iw_fail(&f, IW_E_USAGE,
			"--json and DST - both want stdout; drop --json");
		json = false;
		goto fail_early;
	}

	extra = json_object_new_object();
	json_add_clean(extra, "filename", src);
	json_add_clean(extra, "destination", dst);
	if (in.member)
		json_add_clean(extra, "member", in.member);

	/* 1. the sniffer's judgement, of every file */
	ret = judge_inputs(&in, &sniff_opts, expect, json, extra, &status,
			   &f);
	if (ret < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}
	if (ret > 0)
		goto out; /* refused: said so, status set */
	probe = in.probes[0];
	if (in.kind == IN_MEMBER)
		(void)iw_input_verdict(probe, IW_ROLE_ARCHIVE, in.member,
				       &member, NULL);
	if (in.kind == IN_XENSERVER) {
		json_object *tar = NULL;

		(void)iw_input_verdict(probe, IW_ROLE_XENSERVER, NULL, &tar,
				       NULL);
		/* the output is the leaf's size: the sniffer must have seen
		 * it (0.vhd comes first in every archive XenServer writes) */
		member = tar ? xenserver_leaf(tar) : NULL;
		if (!member || jint(member, "virtual-size") < 0) {
			iw_fail(&f, IW_E_CONVERSION_REFUSED,
				"the chain's leaf (0.vhd) was not inspected: "
				"it must come first in the archive");
			status = iw_report_failure(&f, json, extra);
			goto out;
		}
	}
	format = jstr(member ? member : probe, "format");
	vsize = (uint64_t)jint(member ? member : probe, "virtual-size");

	/* 2. the destination */
	if (open_output(dst, in.files, in.n, strcmp(oformat, "qcow2") == 0,
			&out, &f) < 0) {
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
	conf_fsize = job.limits.file_size;
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
	/* a compressed chain archive is unpacked into a scratch file: the
	 * converter may write that much (every layer can be as large as the
	 * disk, plus its tables), and RLIMIT_FSIZE covers both files */
	if (in.kind == IN_XENSERVER && strcmp(jstr(probe, "format"), "tar") != 0) {
		uint64_t limit = (uint64_t)IW_VHD_CHAIN_MAX_LAYERS *
				 (vsize + vsize / 64 + (64ULL << 20));

		if (limit > conf_fsize)
			limit = conf_fsize;
		scratch_fd = open_scratch(scratch_dir, &out, &f);
		if (scratch_fd < 0) {
			status = iw_report_failure(&f, json, extra);
			goto out;
		}
		if (limit > job.limits.file_size)
			job.limits.file_size = limit;
		snprintf(scratch_limit_arg, sizeof(scratch_limit_arg),
			 "%" PRIu64, limit);
	}
	/* fds 0-3, the inputs, the output, and what libc may want */
	if (job.limits.open_files < 4 + in.n + 2 + 8)
		job.limits.open_files = 4 + in.n + 2 + 8;
	args = calloc(16 + 2 * in.n, sizeof(*args));
	fds = calloc(in.n + 2, sizeof(*fds));
	if (!args || !fds) {
		iw_fail(&f, IW_E_INTERNAL, "out of memory");
		status = iw_report_failure(&f, json, extra);
		goto out;
	}
	snprintf(cluster_arg, sizeof(cluster_arg), "%llu",
		 (unsigned long long)cluster);
	snprintf(inputs_arg, sizeof(inputs_arg), "%zu", in.n);
	args[na++] = "--format";
	args[na++] = format;
	args[na++] = "--output";
	args[na++] = strcmp(oformat, "qcow2") == 0 ? "qcow2"
		     : out.kind == OUT_FILE	      ? "file"
		     : out.kind == OUT_DEVICE	      ? "device"
						      : "stream";
	args[na++] = "--threads";
	args[na++] = threads_arg;
	args[na++] = "--cluster-size";
	args[na++] = cluster_arg;
	args[na++] = "--inputs";
	args[na++] = inputs_arg;
	if (in.kind == IN_MEMBER) {
		args[na++] = "--member";
		args[na++] = in.member;
	}
	if (in.kind == IN_XENSERVER)
		args[na++] = "--xenserver";
	if (scratch_fd >= 0) {
		args[na++] = "--scratch";
		args[na++] = "--scratch-limit";
		args[na++] = scratch_limit_arg;
	}
	for (size_t i = 1; in.kind == IN_EXTENTS && i < in.n; i++) {
		/* the names the caller gave, for the map to compare with
		 * the descriptor's extent lines (never to open) */
		args[na++] = "--extent-name";
		args[na++] = base_name(in.paths[i]);
	}
	if (ctx.progress != PROGRESS_NONE)
		args[na++] = "--progress";
	args[na] = NULL;
	job.args = args;
	for (size_t i = 0; i < in.n; i++)
		fds[i] = in.files[i].fd;
	job.n_fds = in.n;
	if (scratch_fd >= 0)
		fds[job.n_fds++] = scratch_fd;
	fds[job.n_fds++] = out.fd;
	job.fds = fds;
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
	json_object_object_add(res, "format", json_object_new_string(format));
	if (in.n > 1)
		json_object_object_add(res, "files",
				       json_object_new_int64((int64_t)in.n));
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
			format, dst, oformat);
	status = 0;
out:
	close_output(&out);
	json_object_put(res);
	json_object_put(extra);
	helper_outcome_done(&outcome);
	safe_close(scratch_fd);
	goto out_early;
fail_early:
	status = iw_report_failure(&f, json, NULL);
out_early:
	job_inputs_done(&in);
	for (size_t i = 0; chain && i < n_chain; i++)
		free(chain[i]);
	for (size_t i = 0; extents && i < n_extents; i++)
		free(extents[i]);
	free(chain);
	free(extents);
	return status;
}
