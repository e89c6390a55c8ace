/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: the VHD chain mapper (lib/formats/vhd-chain-map.c) and the
 * engine over several source fds, without broker or sandbox. Writes the
 * chain's raw guest disk to OUT (created; "-" = stdout as a stream). On a
 * broken chain it prints the report's findings as JSON on stderr and
 * exits 1. IMGWARD_THREADS sets the worker count (default: one per CPU).
 *
 *   convert-chain OUT LEAF [PARENT ...] BASE
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
#include "formats/vhd-chain-map.h"
#include "view-fd.h"

/* the tool accepts more files than the mapper, to test its cap */
#define MAX_FILES 64

int main(int argc, char **argv)
{
	struct iw_view views[MAX_FILES];
	const struct iw_view *vp[MAX_FILES];
	int fds[MAX_FILES];
	struct iw_convert_opts o = { 0 };
	struct iw_convert_stats st;
	struct iw_map *m = NULL;
	struct iw_report r;
	const char *threads = getenv("IMGWARD_THREADS");
	size_t n;
	int ret;

	/* no file at all is allowed: the mapper must refuse an empty
	 * chain */
	if (argc < 2 || (size_t)(argc - 2) > MAX_FILES) {
		fprintf(stderr, "usage: %s OUT LEAF [PARENT ...] BASE\n",
			argv[0]);
		return 2;
	}
	n = (size_t)(argc - 2);
	for (size_t i = 0; i < n; i++) {
		fds[i] = tool_open_input(argv[2 + i], &views[i]);
		if (fds[i] < 0)
			return 2;
		vp[i] = &views[i];
	}
	if (tool_open_output(argv[1], &o) < 0)
		return 2;
	if (iw_report_init(&r) < 0)
		return 2;
	ret = iw_map_open_vhd_chain(vp, n, &r, &m);
	if (ret == 0) {
		o.src_fd = -1;
		o.src_fds = fds;
		o.n_src_fds = n;
		o.threads = threads ? (unsigned)atoi(threads) : 0;
		ret = iw_convert(m, &o, &st);
	}
	tool_say(ret, &r, &st);
	iw_map_free(m);
	iw_report_done(&r);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return ret < 0 ? 1 : 0;
}
