/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: like convert-file, but writes a qcow2 image through
 * lib/qcow2-writer.c. Maps SRC as FORMAT, runs the engine with the
 * writer as its sink, and finishes the image at DST (created, truncated,
 * opened read-write: the writer may read back an L2 table). On success
 * prints "file-size N" on stderr. IMGWARD_QCOW2_L2_CACHE=N keeps only N
 * L2 tables in memory (exercises eviction and read-back).
 *
 *   convert-qcow2 FORMAT SRC DST [THREADS [CLUSTER_SIZE]]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert-tool.h"
#include "convert.h"
#include "qcow2-writer.h"
#include "view-fd.h"

int main(int argc, char **argv)
{
	struct iw_convert_opts o = { 0 };
	struct qcow2_writer *w = NULL;
	struct iw_convert_stats st;
	struct iw_map *m = NULL;
	uint32_t cluster_size = QCOW2_WRITER_DEFAULT_CLUSTER;
	struct iw_report r;
	struct iw_view v;
	int src, dst, ret;

	if (argc < 4 || argc > 6) {
		fprintf(stderr,
			"usage: %s FORMAT SRC DST [THREADS [CLUSTER_SIZE]]\n",
			argv[0]);
		return 2;
	}
	if (argc == 6)
		cluster_size = (uint32_t)strtoul(argv[5], NULL, 0);
	src = tool_open_input(argv[2], &v);
	if (src < 0)
		return 2;
	dst = open(argv[3], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (dst < 0) {
		perror(argv[3]);
		return 2;
	}
	if (iw_report_init(&r) < 0)
		return 2;
	ret = iw_map_open(argv[1], &v, &r, &m);
	if (ret == 0)
		ret = qcow2_writer_new(dst, m->virtual_size, cluster_size, &w);
	if (ret == 0 && getenv("IMGWARD_QCOW2_L2_CACHE"))
		ret = qcow2_writer_set_l2_cache(
			w, strtoul(getenv("IMGWARD_QCOW2_L2_CACHE"), NULL, 0));
	if (ret == 0) {
		o.src_fd = src;
		o.dst_fd = dst;
		o.output = IW_OUTPUT_SINK;
		o.sink = qcow2_writer_sink(w);
		o.threads = argc >= 5 ? (unsigned)atoi(argv[4]) : 0;
		ret = iw_convert(m, &o, &st);
	}
	if (ret == 0)
		ret = qcow2_writer_finish(w);
	tool_say(ret, &r, &st);
	if (ret == 0)
		fprintf(stderr, "file-size %llu\n",
			(unsigned long long)qcow2_writer_file_size(w));
	qcow2_writer_free(w);
	iw_map_free(m);
	iw_report_done(&r);
	return ret < 0 ? 1 : 0;
}
