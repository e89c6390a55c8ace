/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: the multi-file VMDK mapper (lib/formats/vmdk-extents-map.c)
 * and the engine over several source fds, without broker or sandbox.
 * Writes the disk's raw bytes to OUT (created; "-" = stdout as a stream).
 * The extent files' names are the base names of the paths given, as the
 * broker passes the caller's names. On a refused image it prints the
 * report's findings as JSON on stderr and exits 1. IMGWARD_THREADS sets
 * the worker count (default: one per CPU).
 *
 *   convert-vmdk-extents OUT DESCRIPTOR [EXTENT ...]
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
#include "formats/vmdk-extents-map.h"
#include "view-fd.h"

/* the tool accepts more files than the mapper, to test its cap */
#define MAX_FILES 80

int main(int argc, char **argv)
{
	struct iw_view views[MAX_FILES + 1];
	const struct iw_view *vp[MAX_FILES];
	const char *names[MAX_FILES];
	int fds[MAX_FILES + 1];
	struct iw_convert_opts o = { 0 };
	struct iw_convert_stats st;
	struct iw_map *m = NULL;
	struct iw_report r;
	const char *threads = getenv("IMGWARD_THREADS");
	size_t n;
	int ret;

	if (argc < 3 || (size_t)(argc - 3) > MAX_FILES) {
		fprintf(stderr, "usage: %s OUT DESCRIPTOR [EXTENT ...]\n",
			argv[0]);
		return 2;
	}
	n = (size_t)(argc - 3);
	/* fds[0] = the descriptor, fds[i + 1] = extent i: the file
	 * numbering of the map's extents */
	for (size_t i = 0; i <= n; i++) {
		const char *path = argv[2 + i], *slash;

		fds[i] = tool_open_input(path, &views[i]);
		if (fds[i] < 0)
			return 2;
		if (i > 0) {
			vp[i - 1] = &views[i];
			slash = strrchr(path, '/');
			names[i - 1] = slash ? slash + 1 : path;
		}
	}
	if (tool_open_output(argv[1], &o) < 0)
		return 2;
	if (iw_report_init(&r) < 0)
		return 2;
	ret = iw_map_open_vmdk_extents(&views[0], names, vp, n, &r, &m);
	if (ret == 0) {
		o.src_fd = -1;
		o.src_fds = fds;
		o.n_src_fds = n + 1;
		o.threads = threads ? (unsigned)atoi(threads) : 0;
		ret = iw_convert(m, &o, &st);
	}
	tool_say(ret, &r, &st);
	iw_map_free(m);
	iw_report_done(&r);
	for (size_t i = 0; i <= n; i++)
		close(fds[i]);
	return ret < 0 ? 1 : 0;
}
