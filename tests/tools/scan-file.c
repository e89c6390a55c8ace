/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: run the scanner's pure core (iw_scan) on a file, with no
 * sandbox, no broker and no sniffer: `scan-file [-f FMT] IMG` reads the
 * guest disk through FMT's block map (default raw), as imgward-ntfs does,
 * and prints {"format", "virtual-size", <the scan>} as one JSON line.
 * Parser tests use it to check a module in isolation; end-to-end tests
 * use build/imgward. Never install this.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/map.h"
#include "report.h"
#include "scan/map-view.h"
#include "scan/scan.h"
#include "view-fd.h"

int main(int argc, char **argv)
{
	const char *format = "raw";
	struct iw_map_view *mv = NULL;
	struct iw_map *map = NULL;
	struct iw_report r;
	struct iw_view v;
	struct stat st;
	json_object *j = NULL;
	int fd, ret, opt;

	while ((opt = getopt(argc, argv, "f:")) != -1) {
		if (opt != 'f')
			goto usage;
		format = optarg;
	}
	if (optind != argc - 1)
		goto usage;
	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[optind]);
		return 2;
	}
	iw_view_init_fd(&v, fd, (uint64_t)st.st_size);
	v.own_budget = IW_SCAN_READ_BUDGET;
	if (iw_report_init(&r) < 0)
		return 2;
	ret = iw_map_open(format, &v, &r, &map);
	if (ret == 0)
		ret = iw_map_view_new(map, &mv);
	if (ret < 0) {
		j = iw_report_to_json(&r);
		fprintf(stderr, "cannot read the guest disk: %s %s\n",
			strerror(-ret),
			j ? json_object_to_json_string(j) : "");
		return 2;
	}
	iw_map_view_get(mv)->own_budget = IW_SCAN_READ_BUDGET;
	ret = iw_scan(iw_map_view_get(mv), &j);
	if (ret < 0) {
		fprintf(stderr, "scan failed: %s\n", strerror(-ret));
		return 2;
	}
	{
		/* format and size first, as imgward scan prints them */
		json_object *out = json_object_new_object();

		json_object_object_add(out, "format",
				       json_object_new_string(format));
		json_object_object_add(out, "virtual-size",
				       json_object_new_int64(
					       (int64_t)map->virtual_size));
		json_object_object_foreach(j, key, val)
			json_object_object_add(out, key, json_object_get(val));
		json_object_put(j);
		j = out;
	}
	if (r.findings && json_object_array_length(r.findings) > 0)
		fprintf(stderr, "block map findings: %s\n",
			json_object_to_json_string(r.findings));
	printf("%s\n", json_object_to_json_string_ext(
			       j, JSON_C_TO_STRING_PLAIN |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	iw_map_view_free(mv);
	iw_map_free(map);
	iw_report_done(&r);
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: %s [-f FORMAT] IMAGE\n", argv[0]);
	return 2;
}
