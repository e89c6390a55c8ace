/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The helper side of the broker protocol, shared by every helper.
 *
 * Contract (HACKING.md, "The helper protocol"): the broker execs a helper
 * with fd 3 = control socket (AF_UNIX stream), fd 4.. = the data fds the
 * job needs, fds 0-2 on /dev/null, an empty environment, and the
 * pre-exec layers applied. The helper then, before its first byte of
 * untrusted input:
 *   1. checks its fds, measures its input, warms up what must not run
 *      under the filter (json-c's hash seed);
 *   2. enters Landlock and its seccomp policy (iw_helper_enter_sandbox);
 *   3. sends {"type":"ready","sandbox":{...}} and waits for the broker's
 *      one-byte go-ahead (the broker verifies /proc/<pid>/status first);
 *   4. does its job and sends exactly one terminal message,
 *      {"type":"result",...} or {"type":"error","code":...}, possibly
 *      preceded by {"type":"progress",...} lines, then exits.
 * Messages are single-line JSON objects terminated by '\n'.
 */
#ifndef IW_HELPER_H
#define IW_HELPER_H

#include <json-c/json.h>
#include <stdbool.h>

#include "landlock.h"
#include "seccomp-policy.h"
#include "util.h"

#define IW_FD_CONTROL 3
#define IW_FD_INPUT 4

struct iw_helper {
	const char *name;
	struct iw_landlock_status landlock;
	bool seccomp;
};

/* Landlock (deny all) then the seccomp policy. 0 or -errno. */
int iw_helper_enter_sandbox(struct iw_helper *h,
			    const struct iw_seccomp_policy *policy);

/* Send one message (adds the newline). 0 or -errno. */
int iw_helper_send(json_object *msg);

/* Send "ready" with the sandbox report, then wait for the go byte.
 * 0, or -EPIPE if the broker hung up instead. */
int iw_helper_ready(struct iw_helper *h);

/* Send {"type":"error","code":code,"message":...} and _exit(1). */
_noreturn_ void iw_helper_fail(const char *code, const char *fmt, ...)
	_printf_(2, 3);

/* Call before the sandbox: json-c seeds its hash function from
 * getrandom() on first use, which the filter does not allow. */
void iw_helper_warm_up(void);

#endif
