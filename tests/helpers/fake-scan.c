/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A lying stand-in for imgward-ntfs, for tests/test-scan-cli.sh. The test
 * copies it into a directory as "imgward-ntfs" next to the real
 * imgward-sniff and runs `imgward scan --helper-dir DIR FILE`; the first
 * line of FILE (a raw file the real sniffer calls safe) names the lie.
 * The fds, the pre-exec layers, Landlock and the real ntfs seccomp policy
 * are as for the real helper. A first line "inject-..." makes it answer
 * with the scan written on the file's second line (a Windows guest for
 * tests/helpers/fake-inject.c). Never install this.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

#define PART(label)                                                            \
	"{\"index\":0,\"start\":0,\"size\":512,\"type\":null,"                 \
	"\"type-name\":null,\"name\":null,\"guid\":null,\"flags\":[],"         \
	"\"filesystem\":\"vfat\",\"filesystem-version\":\"FAT16\","            \
	"\"label\":" label ",\"uuid\":null,\"ntfs\":null,\"problems\":[]}"
#define SCAN(parts, problems)                                                  \
	"{\"type\":\"result\",\"scan\":{\"partition-table\":null,"             \
	"\"partitions\":[" parts "],\"windows\":null,\"hibernated\":false,"    \
	"\"problems\":[" problems "]}}\n"

static const struct {
	const char *name, *message;
} lies[] = {
	{ "scan-ok", SCAN(PART("\"FAKE\""), "") },
	{ "scan-garbage", "{\"type\":\"result\",\"scan\": nope\n" },
	{ "scan-not-object", "{\"type\":\"result\",\"scan\":[]}\n" },
	{ "scan-missing", "{\"type\":\"result\"}\n" },
	{ "scan-extra-key",
	  "{\"type\":\"result\",\"extra\":1,\"scan\":{\"partition-table\":null,"
	  "\"partitions\":[],\"windows\":null,\"hibernated\":false,"
	  "\"problems\":[]}}\n" },
	{ "scan-unknown-code",
	  SCAN("", "{\"code\":\"made-up\",\"message\":\"x\"}") },
	{ "scan-escape", SCAN(PART("\"\\u001b]2;owned\\u0007\""), "") },
	{ "scan-hibernated-lie",
	  "{\"type\":\"result\",\"scan\":{\"partition-table\":null,"
	  "\"partitions\":[],\"windows\":null,\"hibernated\":true,"
	  "\"problems\":[]}}\n" },
};

static void say(const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(IW_FD_CONTROL, s, len);
		if (n <= 0)
			_exit(1);
		s += n;
		len -= (size_t)n;
	}
}

int main(void)
{
	struct iw_helper h = { .name = "ntfs" };
	char line[64] = { 0 };
	ssize_t n;

	iw_helper_warm_up();
	if (iw_helper_enter_sandbox(&h, &iw_policy_ntfs) < 0)
		iw_helper_fail("sandbox-failed", "cannot enter the sandbox");
	if (iw_helper_ready(&h) < 0)
		_exit(1);
	n = pread(IW_FD_INPUT, line, sizeof(line) - 1, 0);
	if (n > 0)
		line[strcspn(line, "\n")] = '\0';
	/* for fake-inject's lies (tests/test-inject-cli.sh): the scan the
	 * injector needs is the rest of the file, after the first line */
	if (strncmp(line, "inject-", 7) == 0) {
		static char scan[16384];
		size_t off = strlen(line) + 1;
		ssize_t m = pread(IW_FD_INPUT, scan, sizeof(scan) - 1, (off_t)off);

		if (m <= 0)
			iw_helper_fail("internal", "no scan after the first line");
		scan[m] = '\0';
		scan[strcspn(scan, "\n")] = '\0';
		say("{\"type\":\"result\",\"scan\":");
		say(scan);
		say("}\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++)
		if (strcmp(line, lies[i].name) == 0) {
			say(lies[i].message);
			return 0;
		}
	iw_helper_fail("internal", "unknown behaviour");
}
