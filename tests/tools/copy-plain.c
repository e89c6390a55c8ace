/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmark baseline (bench/convert-vs-qemu): copy the data ranges of a
 * sparse raw file (SEEK_DATA/SEEK_HOLE) into a new sparse file of the
 * same size with plain pread/pwrite in 4 MiB runs — the bytes any
 * converter must write, with no format to read. A converter near this
 * time is bound by the page cache, not by its own work.
 *
 *   copy-plain SRC DST
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"

#define RUN (4u << 20)

int main(int argc, char **argv)
{
	struct stat st;
	off_t data, hole;
	char *buf;
	int in, out;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
		return 2;
	}
	in = open(argv[1], O_RDONLY | O_CLOEXEC);
	out = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	buf = malloc(RUN);
	if (in < 0 || out < 0 || !buf || fstat(in, &st) < 0 ||
	    ftruncate(out, st.st_size) < 0) {
		perror("copy-plain");
		return 1;
	}
	for (data = lseek(in, 0, SEEK_DATA); data >= 0 && data < st.st_size;
	     data = lseek(in, hole, SEEK_DATA)) {
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			break;
		for (off_t o = data; o < hole;) {
			size_t n = hole - o < RUN ? (size_t)(hole - o) : RUN;

			if (iw_pread_all(in, buf, n, o) < 0 ||
			    iw_pwrite_all(out, buf, n, o) < 0) {
				perror("copy-plain");
				return 1;
			}
			o += (off_t)n;
		}
	}
	free(buf);
	return close(out) < 0 ? 1 : 0;
}
