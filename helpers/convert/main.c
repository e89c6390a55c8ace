/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward-convert: write an image's guest disk as raw (or qcow2) to an fd.
 *
 * fd 3: control socket; fd 4: the image, read-only; fd 5: the output,
 * write-only (a new file, a block device, or a pipe). argv carries only
 * the broker's options:
 *   --format FMT --output file|device|stream|qcow2 [--threads N]
 *   [--progress] [--cluster-size BYTES] [--inputs N]
 *   [--member NAME | --extent-name NAME... | --xenserver [--scratch
 *   --scratch-limit BYTES]]
 * With --inputs N, fds 4..4+N-1 are the files the caller listed (a VHD
 * chain leaf first; a VMDK descriptor then its extents, whose names come
 * as --extent-name) and the output is fd 4+N. --member: fd 4 is a tar or
 * OVA archive and NAME the member to convert. --xenserver: fd 4 is a tar
 * of a numbered VHD chain, or a compressed one, which is first unpacked
 * into the scratch file (--scratch: read-write fd 5, output at fd 6).
 * The worker threads start before the sandbox (lib/convert.h, pools), so
 * the seccomp policy has no clone; every thread enters Landlock itself and
 * the filter is loaded on all of them at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "formats/tar.h"
#include "formats/vhd-chain-map.h"
#include "formats/vmdk-extents-map.h"
#include "helper.h"
#include "input-set.h"
#include "probe.h"
#include "qcow2-writer.h"
#include "view-fd.h"
#include "xenserver.h"


struct progress_state {
	bool enabled;
	double last;
	const char *phase; /* "unpack" while a XenServer archive unpacks */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_progress(uint64_t done, uint64_t total, void *userdata)
{
	struct progress_state *p = userdata;
	json_object *m;
	double t;

	if (!p->enabled)
		return;
	t = now();
	/* at most ten lines a second, and always the last one */
	if (done < total && t - p->last < 0.1)
		return;
	p->last = t;
	m = json_object_new_object();
	if (!m)
		return;
	json_object_object_add(m, "type", json_object_new_string("progress"));
	json_object_object_add(m, "phase", json_object_new_string(p->phase));
	json_object_object_add(m, "progress",
			       json_object_new_double(
				       total ? (double)done / (double)total : 1.0));
	json_object_object_add(m, "bytes", json_object_new_int64((int64_t)done));
	json_object_object_add(m, "total", json_object_new_int64((int64_t)total));
	(void)iw_helper_send(m);
	json_object_put(m);
}

static int thread_enter_landlock(void)
{
	struct iw_landlock_status st;

	/* Landlock domains are per thread: each worker restricts itself */
	return iw_landlock_deny_all(&st);
}

struct inputs {
	size_t n;
	int fds[IW_INPUT_SET_MAX_FILES];
	uint64_t sizes[IW_INPUT_SET_MAX_FILES];
	struct iw_view views[IW_INPUT_SET_MAX_FILES];
	const struct iw_view *vp[IW_INPUT_SET_MAX_FILES];
	const char *names[IW_INPUT_SET_MAX_FILES]; /* --extent-name */
	size_t n_names;
	const char *member;
};

/* A second look at each input the broker's sniffer judged, by the same
 * rules (lib/input-set.h): a file changed in between is not trusted.
 * Exits on refusal. */
static void judge_again(struct inputs *in, const char *format)
{
	bool chain = in->n > 1 && in->n_names == 0;
	size_t judged = chain ? in->n : 1;
	json_object *reports[IW_INPUT_SET_MAX_FILES] = { 0 };
	char msg[512];

	for (size_t i = 0; i < judged; i++) {
		enum iw_input_role role =
			in->member	 ? IW_ROLE_ARCHIVE
			: in->n_names	 ? IW_ROLE_DESCRIPTOR
			: !chain	 ? IW_ROLE_SINGLE
			: i + 1 < in->n ? IW_ROLE_CHAIN_CHILD
					 : IW_ROLE_CHAIN_BASE;
		const char *want = chain ? "vhd" : in->n_names ? "vmdk" : format;
		json_object *member = NULL, *fmt;
		const char *why = NULL, *got;
		struct iw_report probe;
		int ret;

		if (iw_report_init(&probe) < 0)
			iw_helper_fail("resource-limit", "out of memory");
		ret = iw_probe(&in->views[i], &probe);
		if (ret < 0)
			iw_helper_fail(ret == -ENOMEM ? "resource-limit"
						      : "io-error",
				       "cannot read input %zu: %s", i,
				       strerror(-ret));
		reports[i] = iw_report_to_json(&probe);
		iw_report_done(&probe);
		if (!reports[i])
			iw_helper_fail("resource-limit", "out of memory");
		if (iw_input_verdict(reports[i], role, in->member, &member,
				     &why) != IW_SAFE)
			iw_helper_fail("refused", "input %zu is no longer safe "
				       "(%s)", i, why ? why : "?");
		if (!json_object_object_get_ex(member ? member : reports[i],
					       "format", &fmt))
			fmt = NULL;
		got = fmt ? json_object_get_string(fmt) : "";
		if (strcmp(got, want) != 0)
			iw_helper_fail("refused", "input %zu is no longer a %s",
				       i, want);
		/* the map needs a read budget for the data, not a probe's */
		in->views[i].own_budget = UINT64_MAX;
	}
	if (chain && iw_vhd_chain_check(reports, in->n, msg, sizeof(msg)) < 0)
		iw_helper_fail("refused", "chain-broken: %s", msg);
	for (size_t i = 0; i < judged; i++)
		json_object_put(reports[i]);
	for (size_t i = judged; i < in->n; i++)
		in->views[i].own_budget = UINT64_MAX;
}

/* The block map over the inputs, as the broker described them. */
static int open_map(struct inputs *in, const char *format, struct iw_report *r,
		    struct iw_map **ret)
{
	if (in->member) {
		static struct iw_view sub; /* outlives the map */
		struct iw_map *inner;
		uint64_t off = 0, size = 0;
		const char *why = NULL;
		int ret2 = tar_find_member(&in->views[0], in->member, &off,
					   &size, &why);

		if (ret2 == -ENOENT)
			iw_finding(r, IW_F_BAD_ARCHIVE, "no member named so");
		else if (ret2 == -EINVAL)
			iw_finding(r, IW_F_BAD_ARCHIVE, "%s", why);
		if (ret2 < 0)
			return ret2 == -ENOENT ? -EINVAL : ret2;
		ret2 = iw_view_init_sub(&sub, &in->views[0], off, size);
		if (ret2 < 0) {
			iw_finding(r, IW_F_TRUNCATED,
				   "the member runs past the archive's end");
			return -EINVAL;
		}
		ret2 = iw_map_open(format, &sub, r, &inner);
		if (ret2 < 0)
			return ret2;
		return iw_map_shift(inner, off, ret);
	}
	if (in->n_names)
		return iw_map_open_vmdk_extents(&in->views[0], in->names,
						in->vp + 1, in->n - 1, r, ret);
	if (in->n > 1)
		return iw_map_open_vhd_chain(in->vp, in->n, r, ret);
	return iw_map_open(format, &in->views[0], r, ret);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "progress", no_argument, NULL, 'p' },
		{ "cluster-size", required_argument, NULL, 'c' },
		{ "inputs", required_argument, NULL, 'n' },
		{ "member", required_argument, NULL, 'm' },
		{ "extent-name", required_argument, NULL, 'e' },
		{ "xenserver", no_argument, NULL, 'x' },
		{ "scratch", no_argument, NULL, 's' },
		{ "scratch-limit", required_argument, NULL, 'l' },
		{ 0 },
	};
	static struct inputs in = { .n = 1 };
	struct iw_helper h = { .name = "convert" };
	struct progress_state progress = { .phase = "convert" };
	struct iw_convert_opts co = { 0 };
	struct iw_convert_pool *pool = NULL;
	struct qcow2_writer *qw = NULL;
	struct iw_convert_stats stats;
	const char *format = NULL, *output = NULL;
	unsigned threads = 0;
	uint32_t cluster_size = 65536;
	struct iw_map *map = NULL;
	struct iw_report r;
	json_object *msg, *res;
	bool xenserver = false, scratch = false;
	uint64_t scratch_limit = 0;
	static struct iw_view tarv;
	int opt, flags, ret, out_fd, scratch_fd = -1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 't':
			threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			progress.enabled = true;
			break;
		case 'c':
			cluster_size = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			in.n = strtoul(optarg, NULL, 10);
			if (in.n < 1 || in.n > IW_INPUT_SET_MAX_FILES)
				iw_helper_fail("internal", "bad --inputs");
			break;
		case 'm':
			in.member = optarg;
			break;
		case 'x':
			xenserver = true;
			break;
		case 's':
			scratch = true;
			break;
		case 'l':
			scratch_limit = strtoull(optarg, NULL, 10);
			break;
		case 'e':
			if (in.n_names >= IW_INPUT_SET_MAX_FILES)
				iw_helper_fail("internal", "too many extents");
			in.names[in.n_names++] = optarg;
			break;
		default:
			iw_helper_fail("internal", "bad arguments");
		}
	}
	if (!format || !output)
		iw_helper_fail("internal", "--format and --output are required");
	if ((in.n_names && in.n_names != in.n - 1) ||
	    (in.member && in.n != 1) || (in.member && in.n_names) ||
	    (xenserver && (in.n != 1 || in.member || in.n_names)) ||
	    (scratch && !xenserver))
		iw_helper_fail("internal", "inputs and names do not agree");
	if (strcmp(output, "file") == 0)
		co.output = IW_OUTPUT_FILE;
	else if (strcmp(output, "device") == 0)
		co.output = IW_OUTPUT_DEVICE;
	else if (strcmp(output, "stream") == 0)
		co.output = IW_OUTPUT_STREAM;
	else if (strcmp(output, "qcow2") == 0)
		co.output = IW_OUTPUT_SINK;
	else
		iw_helper_fail("internal", "unknown output kind");

	for (size_t i = 0; i < in.n; i++) {
		off_t end;

		in.fds[i] = IW_FD_INPUT + (int)i;
		flags = fcntl(in.fds[i], F_GETFL);
		if (flags < 0 || (flags & O_ACCMODE) != O_RDONLY)
			iw_helper_fail("internal",
				       "fd %d is not a read-only input",
				       in.fds[i]);
		end = lseek(in.fds[i], 0, SEEK_END);
		if (end < 0)
			iw_helper_fail("io-error", "cannot measure input %zu: %s",
				       i, strerror(errno));
		in.sizes[i] = (uint64_t)end;
	}
	out_fd = IW_FD_INPUT + (int)in.n;
	if (scratch) {
		scratch_fd = out_fd++;
		flags = fcntl(scratch_fd, F_GETFL);
		if (flags < 0 || (flags & O_ACCMODE) != O_RDWR)
			iw_helper_fail("internal",
				       "fd %d is not a read-write scratch file",
				       scratch_fd);
	}
	flags = fcntl(out_fd, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY)
		iw_helper_fail("internal", "fd %d is not a writable output",
			       out_fd);

	iw_helper_warm_up();
	if (co.output == IW_OUTPUT_STREAM)
		threads = 1;
	ret = iw_convert_pool_start(threads, thread_enter_landlock, &pool);
	if (ret < 0)
		iw_helper_fail("sandbox-failed", "cannot start worker threads: %s",
			       strerror(-ret));
	/* no more threads from here on: forbid them even before seccomp */
	(void)setrlimit(RLIMIT_NPROC, &(struct rlimit){ 0, 0 });
	ret = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ? -errno : 0;
	if (ret == 0)
		ret = iw_landlock_deny_all(&h.landlock);
	if (ret == 0)
		ret = iw_seccomp_apply_all_threads(&iw_policy_convert);
	if (ret < 0)
		iw_helper_fail("sandbox-failed", "cannot enter the sandbox: %s",
			       strerror(-ret));
	h.seccomp = true;
	if (iw_helper_ready(&h) < 0)
		_exit(1);

	/* ---- untrusted input from here on ---- */
	for (size_t i = 0; i < in.n; i++) {
		iw_view_init_fd(&in.views[i], in.fds[i], in.sizes[i]);
		in.vp[i] = &in.views[i];
	}
	if (iw_report_init(&r) < 0)
		iw_helper_fail("resource-limit", "out of memory");
	if (xenserver) {
		/* judged whole once it can be read at random (xenserver.c) */
		if (scratch) {
			progress.phase = "unpack";
			iw_view_init_fd(&tarv, scratch_fd,
					xs_unpack(&in.views[0], scratch_fd,
						  scratch_limit, send_progress,
						  &progress));
			progress.phase = "convert";
			progress.last = 0;
		}
		else
			iw_view_init_fd(&tarv, IW_FD_INPUT, in.sizes[0]);
		ret = xs_open_map(&tarv, &r, &map);
		co.src_fd = scratch ? scratch_fd : IW_FD_INPUT;
	} else {
		judge_again(&in, format);
		ret = open_map(&in, format, &r, &map);
		co.src_fd = IW_FD_INPUT;
	}
	if (ret == -EPROTONOSUPPORT)
		iw_helper_fail("refused", "converting %s is not supported",
			       format);
	if (ret == -ENOMEM)
		iw_helper_fail("resource-limit", "out of memory");

	if (in.n > 1) {
		co.src_fds = in.fds;
		co.n_src_fds = in.n;
	}
	co.dst_fd = out_fd;
	co.pool = pool;
	co.progress = send_progress;
	co.userdata = &progress;
	if (ret == 0 && co.output == IW_OUTPUT_SINK) {
		ret = qcow2_writer_new(out_fd, map->virtual_size, cluster_size,
				       &qw);
		if (ret == 0)
			co.sink = qcow2_writer_sink(qw);
	}
	if (ret == 0)
		ret = iw_convert(map, &co, &stats);
	if (ret == 0 && qw)
		ret = qcow2_writer_finish(qw);
	qcow2_writer_free(qw);
	iw_convert_pool_free(pool);

	if (ret < 0) {
		json_object *rep = iw_report_to_json(&r);
		msg = json_object_new_object();
		if (!msg || !rep)
			iw_helper_fail("resource-limit", "out of memory");
		json_object_object_add(msg, "type",
				       json_object_new_string("error"));
		json_object_object_add(
			msg, "code",
			json_object_new_string(ret == -EINVAL || ret == -EBADMSG
						       ? "refused"
					       : ret == -ENOMEM ? "resource-limit"
								: "io-error"));
		json_object_object_add(
			msg, "message",
			json_object_new_string(
				ret == -EINVAL	  ? "the image cannot be converted"
				: ret == -EBADMSG ? "a compressed block is corrupt"
						  : strerror(-ret)));
		json_object_object_add(msg, "report", rep);
		(void)iw_helper_send(msg);
		_exit(1);
	}

	res = json_object_new_object();
	msg = json_object_new_object();
	if (!res || !msg)
		iw_helper_fail("resource-limit", "out of memory");
	json_object_object_add(res, "format", json_object_new_string(format));
	json_object_object_add(res, "virtual-size",
			       json_object_new_int64((int64_t)map->virtual_size));
	json_object_object_add(res, "bytes-written",
			       json_object_new_int64((int64_t)stats.bytes_written));
	json_object_object_add(res, "bytes-sparse",
			       json_object_new_int64((int64_t)stats.bytes_skipped));
	json_object_object_add(res, "units-decompressed",
			       json_object_new_int64(
				       (int64_t)stats.units_decompressed));
	json_object_object_add(msg, "type", json_object_new_string("result"));
	json_object_object_add(msg, "convert", res);
	if (iw_helper_send(msg) < 0)
		_exit(1);
	iw_map_free(map);
	return 0;
}
