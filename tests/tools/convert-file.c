/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: the converter's pure core without broker or sandbox. Maps
 * SRC as FORMAT (lib/formats/<fmt>-map.c) and writes the raw guest disk
 * to DST (created; "-" = stdout as a stream) with lib/convert.c. On a
 * broken image it prints the report's findings as JSON on stderr and
 * exits 1. Mapper tests compare its output with qemu-img convert.
 *
 *   convert-file FORMAT SRC DST [THREADS]
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
#include "view-fd.h"

int main(int argc, char **argv)
{
	struct iw_convert_opts o = { 0 };
	struct iw_convert_stats st;
	struct iw_map *m = NULL;
	struct iw_report r;
	struct iw_view v;
	int src, ret;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s FORMAT SRC DST [THREADS]\n", argv[0]);
		return 2;
	}
	src = tool_open_input(argv[2], &v);
	if (src < 0)
		return 2;
	if (tool_open_output(argv[3], &o) < 0)
		return 2;
	if (iw_report_init(&r) < 0)
		return 2;
	ret = iw_map_open(argv[1], &v, &r, &m);
	if (ret == 0) {
		o.src_fd = src;
		o.threads = argc == 5 ? (unsigned)atoi(argv[4]) : 0;
		ret = iw_convert(m, &o, &st);
	}
	tool_say(ret, &r, &st);
	iw_map_free(m);
	iw_report_done(&r);
	return ret < 0 ? 1 : 0;
}
