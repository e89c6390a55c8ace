/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A lying stand-in for imgward-inject, for tests/test-inject-cli.sh: the
 * broker must take nothing from the injector it did not ask for (the
 * helper runs qemu, which runs the guest). The test copies it into a
 * directory as "imgward-inject" (with fake-scan as imgward-ntfs) and runs
 * `imgward inject --helper-dir DIR FILE`; FILE's first line names the lie,
 * its second line is the scan fake-scan answers with. The fds, the
 * pre-exec layers, Landlock (deny all) and the real inject seccomp policy
 * apply. Never install this.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

#define INJ(extra, files)                                                      \
	"{\"type\":\"result\",\"inject\":{\"action\":\"injected\","            \
	"\"drivers\":[\"viostor\"],\"files\":[" files "],"                     \
	"\"os-dir\":\"2k19\",\"arch-dir\":\"amd64\","                          \
	"\"control-set\":\"ControlSet001\",\"driver-database\":false,"         \
	"\"registry-values\":5,\"firstboot\":\"runonce\"" extra "}}\n"

static const struct {
	const char *name, *message;
} lies[] = {
	{ "inject-ok", INJ("", "\"viostor.sys\"") },
	{ "inject-escape", INJ("", "\"\\u001b]2;owned\\u0007.sys\"") },
	{ "inject-extra-top",
	  "{\"type\":\"result\",\"extra\":1,\"inject\":{\"action\":\"injected\"}}\n" },
	{ "inject-skipped-lie",
	  "{\"type\":\"result\",\"inject\":{\"action\":\"skipped\","
	  "\"reason\":\"trust me\"}}\n" },
	{ "inject-wrong-type",
	  "{\"type\":\"result\",\"inject\":{\"action\":\"injected\","
	  "\"drivers\":[],\"files\":[],\"os-dir\":\"2k19\",\"arch-dir\":\"amd64\","
	  "\"control-set\":\"ControlSet001\",\"driver-database\":false,"
	  "\"registry-values\":\"five\",\"firstboot\":\"runonce\"}}\n" },
	{ "inject-long-name",
	  INJ("", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sys\"") },
	{ "inject-no-drivers", NULL },
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
	struct iw_helper h = { .name = "inject" };
	char line[64] = { 0 };
	ssize_t n;

	iw_helper_warm_up();
	/* the real helper's filter, the other helpers' Landlock (it opens
	 * nothing) */
	if (iw_helper_enter_sandbox(&h, &iw_policy_inject) < 0)
		iw_helper_fail("sandbox-failed", "cannot enter the sandbox");
	if (iw_helper_ready(&h) < 0)
		_exit(1);
	n = pread(IW_FD_INPUT, line, sizeof(line) - 1, 0);
	if (n > 0)
		line[strcspn(line, "\n")] = '\0';
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++)
		if (strcmp(line, lies[i].name) == 0) {
			if (!lies[i].message)
				iw_helper_fail("no-drivers", "nothing for 10.0");
			say(lies[i].message);
			return 0;
		}
	iw_helper_fail("internal", "unknown behaviour");
}
