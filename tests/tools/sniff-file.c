/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: run the sniffer's pure core (iw_probe) on a file, with no
 * sandbox and no broker, and print the report as JSON. Format-reader
 * tests use it to check a reader in isolation; end-to-end tests use
 * build/imgward. Never install this.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "probe.h"
#include "view-fd.h"

int main(int argc, char **argv)
{
	struct iw_report r;
	struct iw_view v;
	struct stat st;
	json_object *j;
	int fd, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 2;
	}
	iw_view_init_fd(&v, fd, (uint64_t)st.st_size);
	if (iw_report_init(&r) < 0)
		return 2;
	ret = iw_probe(&v, &r);
	if (ret < 0) {
		fprintf(stderr, "probe failed: %s\n", strerror(-ret));
		return 2;
	}
	r.actual_size = (int64_t)st.st_blocks * 512;
	j = iw_report_to_json(&r);
	if (!j)
		return 2;
	printf("%s\n", json_object_to_json_string_ext(
			       j, JSON_C_TO_STRING_PLAIN |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	iw_report_done(&r);
	close(fd);
	return 0;
}
