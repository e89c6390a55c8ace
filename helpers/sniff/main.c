/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward-sniff: what is this image, and is it safe to open?
 *
 * fd 3: control socket; fd 4: the image, read-only. No arguments are
 * read from the image's side; argv carries only the broker's options.
 * Everything before iw_helper_ready() runs before the first untrusted
 * byte is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"
#include "probe.h"
#include "view-fd.h"

int main(int argc, char **argv)
{
	struct iw_helper h = { .name = "sniff" };
	struct iw_report r;
	struct iw_view v;
	json_object *msg, *report;
	off_t end;
	int flags, ret;

	if (argc != 1)
		iw_helper_fail("internal", "unexpected arguments");

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
	ret = iw_helper_enter_sandbox(&h, &iw_policy_sniff);
	if (ret < 0)
		iw_helper_fail("sandbox-failed", "cannot enter the sandbox: %s",
			       strerror(-ret));
	if (iw_helper_ready(&h) < 0)
		_exit(1);

	/* ---- untrusted input from here on ---- */
	iw_view_init_fd(&v, IW_FD_INPUT, (uint64_t)end);
	if (iw_report_init(&r) < 0)
		iw_helper_fail("resource-limit", "out of memory");
	ret = iw_probe(&v, &r);
	if (ret == -ENOMEM)
		iw_helper_fail("resource-limit", "out of memory");
	if (ret < 0)
		iw_helper_fail("io-error", "cannot read the image: %s",
			       strerror(-ret));

	report = iw_report_to_json(&r);
	msg = json_object_new_object();
	if (!report || !msg)
		iw_helper_fail("resource-limit", "out of memory");
	json_object_object_add(msg, "type", json_object_new_string("result"));
	json_object_object_add(msg, "report", report);
	if (iw_helper_send(msg) < 0)
		_exit(1);
	return 0;
}
