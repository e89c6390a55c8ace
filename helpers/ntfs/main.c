/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward-ntfs: what is on the guest disk of an image — partitions,
 * filesystems, NTFS volumes, the Windows installation (lib/scan/scan.h).
 *
 * fd 3: control socket; fd 4: the image, read-only. argv carries only
 * the broker's options: -f FMT, the format the broker's sniffer found
 * (and, with `imgward scan -f`, the caller claimed). Everything before
 * iw_helper_ready() runs before the first untrusted byte is read.
 *
 * The image is judged again here with the sniffer's own code: a file
 * that changed since the broker's probe, or a caller that lied about
 * the format, gets no scan. The guest disk is then read through the
 * format's block map (lib/scan/map-view.h), as the converter reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/map.h"
#include "helper.h"
#include "input-set.h"
#include "probe.h"
#include "scan/map-view.h"
#include "scan/scan.h"
#include "view-fd.h"

/* The sniffer's judgement, again: safe, and the format the broker said.
 * Exits on refusal, with the findings, as the converter does. */
static void judge_again(const struct iw_view *v, const char *format)
{
	json_object *rep, *msg;
	const char *why = NULL, *got;
	struct iw_report probe;
	int ret;

	if (iw_report_init(&probe) < 0)
		iw_helper_fail("resource-limit", "out of memory");
	ret = iw_probe(v, &probe);
	if (ret < 0)
		iw_helper_fail(ret == -ENOMEM ? "resource-limit" : "io-error",
			       "cannot read the image: %s", strerror(-ret));
	rep = iw_report_to_json(&probe);
	iw_report_done(&probe);
	if (!rep)
		iw_helper_fail("resource-limit", "out of memory");
	got = iw_json_str(rep, "format");
	if (iw_input_verdict(rep, IW_ROLE_SINGLE, NULL, NULL, &why) == IW_SAFE &&
	    got && strcmp(got, format) == 0) {
		json_object_put(rep);
		return;
	}
	msg = json_object_new_object();
	if (!msg)
		iw_helper_fail("resource-limit", "out of memory");
	json_object_object_add(msg, "type", json_object_new_string("error"));
	json_object_object_add(msg, "code", json_object_new_string("refused"));
	json_object_object_add(
		msg, "message",
		json_object_new_string(got && strcmp(got, format) != 0
					       ? "the image is no longer of the "
						 "format the broker judged"
					       : "the image is no longer safe"));
	json_object_object_add(msg, "report", rep);
	(void)iw_helper_send(msg);
	_exit(1);
}

/* What the block map found wrong while the scan read through it, as a
 * disk-level problem (the parsers only saw -EIO). */
static void map_problems(json_object *scan, const struct iw_report *r)
{
	json_object *problems, *fi, *c, *d, *p;
	char msg[300], *clean;
	size_t n;

	n = r->findings ? json_object_array_length(r->findings) : 0;
	if (n == 0 || !json_object_object_get_ex(scan, "problems", &problems))
		return;
	fi = json_object_array_get_idx(r->findings, 0);
	if (!json_object_object_get_ex(fi, "code", &c) ||
	    !json_object_object_get_ex(fi, "detail", &d))
		return;
	snprintf(msg, sizeof(msg), "the image's block map is broken (%s: %s)",
		 json_object_get_string(c), json_object_get_string(d));
	/* cut at a byte count: make it valid UTF-8 again */
	clean = iw_sanitize(msg, strlen(msg), NULL);
	p = json_object_new_object();
	if (!p || !clean)
		iw_helper_fail("resource-limit", "out of memory");
	json_object_object_add(p, "code", json_object_new_string("io-error"));
	json_object_object_add(p, "message", json_object_new_string(clean));
	free(clean);
	json_object_array_add(problems, p);
}

int main(int argc, char **argv)
{
	struct iw_helper h = { .name = "ntfs" };
	struct iw_map_view *mv = NULL;
	struct iw_map *map = NULL;
	struct iw_report r;
	struct iw_view v;
	const char *format = NULL;
	json_object *msg, *scan = NULL;
	off_t end;
	int opt, flags, ret;

	while ((opt = getopt(argc, argv, "f:")) != -1) {
		switch (opt) {
		case 'f':
			format = optarg;
			break;
		default:
			iw_helper_fail("internal", "bad arguments");
		}
	}
	if (!format || optind != argc)
		iw_helper_fail("internal", "usage: imgward-ntfs -f FORMAT");

	/* The input must be what the broker promised: open, read-only. */
	flags = fcntl(IW_FD_INPUT, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) != O_RDONLY)
		iw_helper_fail("internal", "fd %d is not a read-only input",
			       IW_FD_INPUT);
	/* lseek works for regular files and block devices alike; fstat is
	 * not allowed once the filter is on (it can take a path). */
	end = lseek(IW_FD_INPUT, 0, SEEK_END);
	if (end < 0)
		iw_helper_fail("io-error", "cannot measure the input: %s",
			       strerror(errno));

	iw_helper_warm_up();
	ret = iw_helper_enter_sandbox(&h, &iw_policy_ntfs);
	if (ret < 0)
		iw_helper_fail("sandbox-failed", "cannot enter the sandbox: %s",
			       strerror(-ret));
	if (iw_helper_ready(&h) < 0)
		_exit(1);

	/* ---- untrusted input from here on ---- */
	iw_view_init_fd(&v, IW_FD_INPUT, (uint64_t)end);
	judge_again(&v, format);
	/* the probe spent part of the view's budget; the map's tables get
	 * a fresh one, and the guest reads their own (IW_SCAN_READ_BUDGET) */
	v.own_budget = IW_SCAN_READ_BUDGET;

	if (iw_report_init(&r) < 0)
		iw_helper_fail("resource-limit", "out of memory");
	ret = iw_map_open(format, &v, &r, &map);
	if (ret == 0)
		ret = iw_map_view_new(map, &mv);
	if (ret == -ENOMEM)
		iw_helper_fail("resource-limit", "out of memory");
	if (ret < 0) {
		json_object *rep = iw_report_to_json(&r);

		msg = json_object_new_object();
		if (!msg || !rep)
			iw_helper_fail("resource-limit", "out of memory");
		json_object_object_add(msg, "type",
				       json_object_new_string("error"));
		json_object_object_add(msg, "code",
				       json_object_new_string("refused"));
		json_object_object_add(
			msg, "message",
			json_object_new_string(
				ret == -EPROTONOSUPPORT
					? "scanning this format is not supported"
					: "the image's guest disk cannot be read"));
		json_object_object_add(msg, "report", rep);
		(void)iw_helper_send(msg);
		_exit(1);
	}

	/* the guest reads' own budget (scan.h) */
	iw_map_view_get(mv)->own_budget = IW_SCAN_READ_BUDGET;
	ret = iw_scan(iw_map_view_get(mv), &scan);
	if (ret < 0)
		iw_helper_fail("resource-limit", "out of memory");
	map_problems(scan, &r);

	msg = json_object_new_object();
	if (!msg)
		iw_helper_fail("resource-limit", "out of memory");
	json_object_object_add(msg, "type", json_object_new_string("result"));
	json_object_object_add(msg, "scan", scan);
	if (iw_helper_send(msg) < 0)
		_exit(1);
	return 0;
}
