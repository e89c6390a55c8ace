/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the converter test tools (convert-file, convert-qcow2,
 * convert-chain, convert-vmdk-extents) share: opening an input as a view
 * with no read budget (converting reads what it must), opening OUT ("-"
 * is stdout, as a stream), and saying how the conversion ended.
 */
#ifndef IW_TESTS_CONVERT_TOOL_H
#define IW_TESTS_CONVERT_TOOL_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "view-fd.h"

/* fd, or -1 after perror */
static inline int tool_open_input(const char *path, struct iw_view *v)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) < 0) {
		perror(path);
		return -1;
	}
	iw_view_init_fd(v, fd, (uint64_t)sb.st_size);
	v->own_budget = UINT64_MAX;
	return fd;
}

/* Sets o->dst_fd and o->output (a file, or a stream for "-"): 0, or -1
 * after perror. */
static inline int tool_open_output(const char *path, struct iw_convert_opts *o)
{
	if (strcmp(path, "-") == 0) {
		o->dst_fd = STDOUT_FILENO;
		o->output = IW_OUTPUT_STREAM;
		return 0;
	}
	o->dst_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	o->output = IW_OUTPUT_FILE;
	if (o->dst_fd < 0) {
		perror(path);
		return -1;
	}
	return 0;
}

/* The failure with the report's findings as JSON, or the statistics, on
 * stderr. */
static inline void tool_say(int ret, const struct iw_report *r,
			    const struct iw_convert_stats *st)
{
	if (ret < 0) {
		json_object *j = iw_report_to_json(r);

		fprintf(stderr, "convert failed: %s\n%s\n", strerror(-ret),
			j ? json_object_to_json_string(j) : "");
		json_object_put(j);
	} else {
		fprintf(stderr, "written %llu, skipped %llu, units %llu\n",
			(unsigned long long)st->bytes_written,
			(unsigned long long)st->bytes_skipped,
			(unsigned long long)st->units_decompressed);
	}
}

#endif
