/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A hostile stand-in for imgward-sniff, for the broker tests
 * (tests/test-broker-*.sh). The test copies it into a directory as
 * "imgward-sniff" and runs `imgward probe --helper-dir DIR FILE`; the
 * first line of FILE names the misbehaviour. Everything else - the fds,
 * the pre-exec layers, Landlock and the real sniff seccomp policy - is as
 * for the real helper, so each behaviour meets the real sandbox.
 *
 * Never install this.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

static int write_all(const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(IW_FD_CONTROL, p, len);
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void say(const char *s)
{
	(void)write_all(s, strlen(s));
}

#define RAW_REPORT                                                             \
	"{\"format\":\"raw\",\"verdict\":\"safe\",\"virtual-size\":512,"       \
	"\"format-specific\":{\"type\":\"raw\",\"data\":{}},"                  \
	"\"references\":[],\"findings\":[],\"matches\":[],"                    \
	"\"qemu-probe\":\"raw\"}"

static void send_ok(void)
{
	say("{\"type\":\"result\",\"report\":" RAW_REPORT "}\n");
}

static void flood(size_t bytes, bool newline)
{
	static char chunk[65536];

	memset(chunk, 'a', sizeof(chunk));
	say("{\"type\":\"progress\",\"x\":\"");
	for (size_t n = 0; n < bytes; n += sizeof(chunk))
		if (write_all(chunk, sizeof(chunk)) < 0)
			_exit(0);
	say(newline ? "\"}\n" : "\"}");
}

static void crash_now(void)
{
	volatile uintptr_t address = 8; /* opaque to the compiler */

	*(volatile int *)address = 1;
}

int main(void)
{
	struct iw_helper h = { .name = "sniff" };
	char behaviour[64] = "", fd_list[256] = "";
	bool sandbox = true;
	ssize_t n;

	/* the test fixture tells us what to do (read before the sandbox) */
	n = pread(IW_FD_INPUT, behaviour, sizeof(behaviour) - 1, 0);
	if (n > 0)
		behaviour[strcspn(behaviour, "\n")] = '\0';

	/* which fds did we get from the broker? (fcntl is not allowed
	 * under the filter, and fds do not change from exec to here) */
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0) {
			char one[16];
			snprintf(one, sizeof(one), "%s%d", fd_list[0] ? "," : "",
				 fd);
			strncat(fd_list, one, sizeof(fd_list) - strlen(fd_list) - 1);
		}

	if (strcmp(behaviour, "block-before-ready") == 0)
		for (;;)
			pause();
	if (strcmp(behaviour, "error-before-ready") == 0)
		iw_helper_fail("sandbox-failed", "pretending the sandbox failed");
	/* fd passing needs sendmsg, which the real policy forbids: the test
	 * runs this one with --require no-new-privs */
	if (strcmp(behaviour, "sendfd") == 0)
		sandbox = false;

	iw_helper_warm_up();
	if (sandbox && iw_helper_enter_sandbox(&h, &iw_policy_sniff) < 0)
		iw_helper_fail("sandbox-failed", "cannot enter the sandbox");
	if (strcmp(behaviour, "no-ready") == 0) {
		send_ok();
		return 0;
	}
	if (iw_helper_ready(&h) < 0)
		_exit(1);

	if (strcmp(behaviour, "ok") == 0) {
		send_ok();
	} else if (strcmp(behaviour, "spin") == 0) {
		for (volatile unsigned long i = 0;; i++)
			;
	} else if (strcmp(behaviour, "block") == 0) {
		char c;
		for (;;)
			(void)!read(IW_FD_CONTROL, &c, 1);
	} else if (strcmp(behaviour, "alloc") == 0) {
		/* a parser that keeps allocating, as a bomb would make it;
		 * our helpers turn allocation failure into resource-limit */
		for (;;) {
			char *p = malloc(1 << 20);
			if (!p)
				iw_helper_fail("resource-limit", "out of memory");
			memset(p, 1, 1 << 20);
		}
	} else if (strcmp(behaviour, "crash") == 0) {
		crash_now();
	} else if (strcmp(behaviour, "abort") == 0) {
		abort();
	} else if (strcmp(behaviour, "sigsys") == 0) {
		/* any call outside the policy: the kernel kills us */
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	} else if (strcmp(behaviour, "oversize") == 0) {
		flood(8u << 20, true); /* more than output-bytes (4 MiB) */
	} else if (strcmp(behaviour, "longline") == 0) {
		flood(2u << 20, false); /* one message over the 1 MiB line cap */
	} else if (strcmp(behaviour, "garbage") == 0) {
		say("this is not JSON\n");
	} else if (strcmp(behaviour, "deep") == 0) {
		for (int i = 0; i < 1000; i++)
			say("[");
		for (int i = 0; i < 1000; i++)
			say("]");
		say("\n");
	} else if (strcmp(behaviour, "badutf8") == 0) {
		say("{\"type\":\"result\",\"report\":\"\xff\xfe\"}\n");
	} else if (strcmp(behaviour, "trailing") == 0) {
		say("{\"type\":\"result\",\"report\":" RAW_REPORT "} x\n");
	} else if (strcmp(behaviour, "not-object") == 0) {
		say("[1,2,3]\n");
	} else if (strcmp(behaviour, "two-results") == 0) {
		send_ok();
		send_ok();
	} else if (strcmp(behaviour, "unknown-type") == 0) {
		say("{\"type\":\"surprise\"}\n");
	} else if (strcmp(behaviour, "no-result") == 0) {
		return 0;
	} else if (strcmp(behaviour, "exit1") == 0) {
		_exit(1);
	} else if (strcmp(behaviour, "result-then-crash") == 0) {
		send_ok();
		crash_now();
	} else if (strcmp(behaviour, "unterminated") == 0) {
		say("{\"type\":\"result\",\"report\":" RAW_REPORT "}");
	} else if (strcmp(behaviour, "bad-schema") == 0) {
		say("{\"type\":\"result\",\"report\":{\"format\":\"raw\"}}\n");
	} else if (strcmp(behaviour, "unknown-key") == 0) {
		say("{\"type\":\"result\",\"report\":{\"format\":\"raw\","
		    "\"verdict\":\"safe\",\"format-specific\":{\"type\":\"raw\","
		    "\"data\":{}},\"references\":[],\"findings\":[],"
		    "\"matches\":[],\"evil\":1}}\n");
	} else if (strcmp(behaviour, "lying-verdict") == 0) {
		/* a finding that forces "unsafe", reported as "safe" */
		say("{\"type\":\"result\",\"report\":{\"format\":\"qcow2\","
		    "\"verdict\":\"safe\",\"format-specific\":{\"type\":"
		    "\"qcow2\",\"data\":{}},\"references\":[],\"findings\":"
		    "[{\"code\":\"backing-file\",\"detail\":\"x\"}],"
		    "\"matches\":[\"qcow2\"]}}\n");
	} else if (strcmp(behaviour, "unknown-finding") == 0) {
		say("{\"type\":\"result\",\"report\":{\"format\":\"raw\","
		    "\"verdict\":\"safe\",\"format-specific\":{\"type\":\"raw\","
		    "\"data\":{}},\"references\":[],\"findings\":[{\"code\":"
		    "\"all-good\",\"detail\":\"trust me\"}],\"matches\":[]}}\n");
	} else if (strcmp(behaviour, "escape-codes") == 0) {
		/* terminal escapes in a reference name must not reach a tty */
		say("{\"type\":\"result\",\"report\":{\"format\":\"qcow2\","
		    "\"verdict\":\"unsafe\",\"format-specific\":{\"type\":"
		    "\"qcow2\",\"data\":{}},\"references\":[{\"type\":"
		    "\"backing-file\",\"name\":\"\\u001b]2;pwned\\u0007\"}],"
		    "\"findings\":[{\"code\":\"backing-file\",\"detail\":"
		    "\"\\u001b[31mred\"}],\"matches\":[\"qcow2\"]}}\n");
	} else if (strcmp(behaviour, "io-error") == 0) {
		iw_helper_fail("io-error", "pretending the disk failed");
	} else if (strncmp(behaviour, "sendfd", 6) == 0) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = (char[]){ '{' }, .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control.buf,
				     .msg_controllen = sizeof(control.buf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		int fd = IW_FD_INPUT;

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(IW_FD_CONTROL, &mh, 0) < 0)
			return 3;
		send_ok();
	} else if (strcmp(behaviour, "fds") == 0) {
		say("{\"type\":\"result\",\"report\":{\"format\":\"raw\","
		    "\"verdict\":\"safe\",\"format-specific\":{\"type\":\"raw\","
		    "\"data\":{\"fds\":\"");
		say(fd_list);
		say("\"}},\"references\":[],\"findings\":[],\"matches\":[]}}\n");
	} else {
		iw_helper_fail("internal", "unknown behaviour");
	}
	return 0;
}
