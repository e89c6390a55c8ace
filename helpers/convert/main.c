/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward-convert: write an image's guest disk as raw (or qcow2) to an fd.
 *
 * fd 3: control socket; fd 4: the image, read-only; fd 5: the output,
 * write-only (a new file, a block device, or a pipe). argv carries only
 * the broker's options:
 *   --format FMT --output file|device|stream|qcow2 [--threads N]
 *   [--progress] [--cluster-size BYTES]
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
#include "helper.h"
#include "probe.h"
#include "qcow2-writer.h"
#include "view-fd.h"

#define IW_FD_OUTPUT (IW_FD_INPUT + 1)

struct progress_state {
	bool enabled;
	double last;
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "progress", no_argument, NULL, 'p' },
		{ "cluster-size", required_argument, NULL, 'c' },
		{ 0 },
	};
	struct iw_helper h = { .name = "convert" };
	struct progress_state progress = { 0 };
	struct iw_convert_opts co = { 0 };
	struct iw_convert_pool *pool = NULL;
	struct qcow2_writer *qw = NULL;
	struct iw_convert_stats stats;
	const char *format = NULL, *output = NULL;
	unsigned threads = 0;
	uint32_t cluster_size = 65536;
	struct iw_map *map = NULL;
	struct iw_report r, probe;
	struct iw_view v;
	json_object *msg, *res;
	off_t end;
	int opt, flags, ret;

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
		default:
			iw_helper_fail("internal", "bad arguments");
		}
	}
	if (!format || !output)
		iw_helper_fail("internal", "--format and --output are required");
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

	flags = fcntl(IW_FD_INPUT, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) != O_RDONLY)
		iw_helper_fail("internal", "fd %d is not a read-only input",
			       IW_FD_INPUT);
	flags = fcntl(IW_FD_OUTPUT, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY)
		iw_helper_fail("internal", "fd %d is not a writable output",
			       IW_FD_OUTPUT);
	end = lseek(IW_FD_INPUT, 0, SEEK_END);
	if (end < 0)
		iw_helper_fail("io-error", "cannot measure the input: %s",
			       strerror(errno));

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
	iw_view_init_fd(&v, IW_FD_INPUT, (uint64_t)end);
	if (iw_report_init(&r) < 0 || iw_report_init(&probe) < 0)
		iw_helper_fail("resource-limit", "out of memory");

	/* The broker's sniffer already judged this fd; judge it again here,
	 * the same way, so a file changed in between is not trusted. */
	ret = iw_probe(&v, &probe);
	if (ret < 0)
		iw_helper_fail(ret == -ENOMEM ? "resource-limit" : "io-error",
			       "cannot read the image: %s", strerror(-ret));
	if (probe.verdict != IW_SAFE || strcmp(probe.format, format) != 0)
		iw_helper_fail("refused", "the image is no longer a safe %s",
			       format);
	iw_report_done(&probe);

	v.own_budget = UINT64_MAX; /* converting reads what it must */
	ret = iw_map_open(format, &v, &r, &map);
	if (ret == -EPROTONOSUPPORT)
		iw_helper_fail("refused", "converting %s is not supported",
			       format);
	if (ret == -ENOMEM)
		iw_helper_fail("resource-limit", "out of memory");

	co.src_fd = IW_FD_INPUT;
	co.dst_fd = IW_FD_OUTPUT;
	co.pool = pool;
	co.progress = send_progress;
	co.userdata = &progress;
	if (ret == 0 && co.output == IW_OUTPUT_SINK) {
		ret = qcow2_writer_new(IW_FD_OUTPUT, map->virtual_size,
				       cluster_size, &qw);
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
		json_object_object_add(msg, "message",
				       json_object_new_string(strerror(-ret)));
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
