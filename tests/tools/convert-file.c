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

#include "convert.h"
#include "view-fd.h"

int main(int argc, char **argv)
{
	struct iw_convert_opts o = { 0 };
	struct iw_convert_stats st;
	struct iw_map *m = NULL;
	struct iw_report r;
	struct iw_view v;
	struct stat sb;
	int src, dst, ret;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s FORMAT SRC DST [THREADS]\n", argv[0]);
		return 2;
	}
	src = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &sb) < 0) {
		perror(argv[2]);
		return 2;
	}
	if (strcmp(argv[3], "-") == 0) {
		dst = STDOUT_FILENO;
		o.output = IW_OUTPUT_STREAM;
	} else {
		dst = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		o.output = IW_OUTPUT_FILE;
	}
	if (dst < 0) {
		perror(argv[3]);
		return 2;
	}
	iw_view_init_fd(&v, src, (uint64_t)sb.st_size);
	v.own_budget = UINT64_MAX; /* conversion reads what it must */
	if (iw_report_init(&r) < 0)
		return 2;
	ret = iw_map_open(argv[1], &v, &r, &m);
	if (ret == 0) {
		o.src_fd = src;
		o.dst_fd = dst;
		o.threads = argc == 5 ? (unsigned)atoi(argv[4]) : 0;
		ret = iw_convert(m, &o, &st);
	}
	if (ret < 0) {
		json_object *j = iw_report_to_json(&r);
		fprintf(stderr, "convert failed: %s\n%s\n", strerror(-ret),
			j ? json_object_to_json_string(j) : "");
		json_object_put(j);
	} else {
		fprintf(stderr, "written %llu, skipped %llu, units %llu\n",
			(unsigned long long)st.bytes_written,
			(unsigned long long)st.bytes_skipped,
			(unsigned long long)st.units_decompressed);
	}
	iw_map_free(m);
	iw_report_done(&r);
	return ret < 0 ? 1 : 0;
}
