/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#ifndef IMGWARD_HELPERDIR
#define IMGWARD_HELPERDIR "/usr/local/libexec/imgward"
#endif

const char exit_status_help[] =
	"Exit status:\n"
	"   0  safe: the image is what it claims and may be opened\n"
	"   1  unsafe: external references, format confusion, ...\n"
	"   2  invalid: truncated or impossible structures\n"
	"   3  unsupported: well-formed, but not accepted\n"
	"  64  usage error\n"
	"  66  the input cannot be opened or read\n"
	"  69  the sandbox could not be set up as required\n"
	"  70  the helper failed: policy-violation, timeout,\n"
	"      resource-limit, helper-crash, protocol-violation\n"
	"  71  internal error\n";

const char common_options_help[] =
	"Sandbox options:\n"
	"  --deadline SECONDS      wall-clock limit for the helper\n"
	"  --limit NAME=VALUE      override a resource limit: address-space,\n"
	"                          cpu-seconds, deadline-seconds, file-size,\n"
	"                          open-files, processes, core, output-bytes\n"
	"                          (sizes take K, M, G)\n"
	"  --helper-user USER|UID[:GID]\n"
	"                          ids the helper runs as when imgward runs as\n"
	"                          root (default: user 'imgward', else 65534)\n"
	"  --require LAYERS        sandbox layers that must take effect, comma-\n"
	"                          separated: seccomp, no-new-privs,\n"
	"                          no-capabilities, landlock, namespaces,\n"
	"                          apparmor, unprivileged; or 'default', 'none'\n"
	"  --namespaces LIST       namespaces for the helper: mount (empty\n"
	"                          root), pid, net, ipc, uts, cgroup, or none;\n"
	"                          a user namespace is added when not root\n"
	"  --no-namespaces         same as --namespaces none\n"
	"  --helper-dir DIR        where the imgward-* helpers are\n"
	"                          (default: $IMGWARD_HELPER_DIR, next to\n"
	"                          imgward, or " IMGWARD_HELPERDIR ")\n";

static bool helper_exists(const char *dir, const char *helper)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/imgward-%s", dir,
			     helper) >= sizeof(path))
		return false;
	return access(path, X_OK) == 0;
}

static void default_helper_dir(struct common_options *o, const char *helper)
{
	const char *env = getenv("IMGWARD_HELPER_DIR");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(o->helper_dir, sizeof(o->helper_dir), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			/* the build tree: helpers next to the broker */
			if (helper_exists(self, helper)) {
				snprintf(o->helper_dir, sizeof(o->helper_dir),
					 "%s", self);
				return;
			}
		}
	}
	snprintf(o->helper_dir, sizeof(o->helper_dir), "%s", IMGWARD_HELPERDIR);
}

static int parse_user(const char *s, uid_t *ret_uid, gid_t *ret_gid)
{
	const char *colon = strchr(s, ':');
	char *end;
	unsigned long u, g;

	if (*s >= '0' && *s <= '9') {
		errno = 0;
		u = strtoul(s, &end, 10);
		if (errno || (end != colon && *end) || u > 0xfffffffeUL)
			return -EINVAL;
		g = u;
		if (colon) {
			g = strtoul(colon + 1, &end, 10);
			if (errno || *end || colon[1] == '\0' || g > 0xfffffffeUL)
				return -EINVAL;
		}
		*ret_uid = (uid_t)u;
		*ret_gid = (gid_t)g;
		return 0;
	}
	if (colon)
		return -EINVAL;
	{
		struct passwd *pw = getpwnam(s);
		if (!pw)
			return -ENOENT;
		*ret_uid = pw->pw_uid;
		*ret_gid = pw->pw_gid;
	}
	return 0;
}

int common_options_init(struct common_options *o, const char *helper,
			struct iw_failure *f)
{
	const struct iw_limits *l = iw_limits_for(helper);
	struct passwd *pw;

	if (!l) {
		iw_fail(f, IW_E_INTERNAL, "no limits for helper %s", helper);
		return -1;
	}
	*o = (struct common_options){
		.limits = *l,
		.required_layers = IW_LAYERS_DEFAULT,
		.uid = 65534,
		.gid = 65534,
	};
	/* Only root switches ids. Read /etc/passwd directly: getpwnam()
	 * would load NSS modules into the broker for one lookup. */
	if (geteuid() == 0) {
		FILE *fp = fopen("/etc/passwd", "re");

		while (fp && (pw = fgetpwent(fp)))
			if (strcmp(pw->pw_name, "imgward") == 0 &&
			    pw->pw_uid != 0) {
				o->uid = pw->pw_uid;
				o->gid = pw->pw_gid;
				break;
			}
		if (fp)
			fclose(fp);
	}
	if (iw_namespaces_parse(l->namespaces, &o->ns_flags) < 0) {
		iw_fail(f, IW_E_INTERNAL, "bad namespace list for %s", helper);
		return -1;
	}
	default_helper_dir(o, helper);
	return 0;
}

int common_options_parse(struct common_options *o, int opt, const char *arg,
			 struct iw_failure *f)
{
	char buf[64];
	int r;

	switch (opt) {
	case OPT_DEADLINE:
		snprintf(buf, sizeof(buf), "deadline-seconds=%s", arg);
		if (iw_limits_set(&o->limits, buf) < 0) {
			iw_fail(f, IW_E_USAGE,
				"--deadline takes whole seconds (1-86400)");
			return -1;
		}
		return 0;
	case OPT_LIMIT:
		r = iw_limits_set(&o->limits, arg);
		if (r < 0) {
			iw_fail(f, IW_E_USAGE,
				"--limit %s: %s", arg,
				r == -ERANGE ? "value out of range"
					     : "expected NAME=VALUE with a known "
					       "name");
			return -1;
		}
		return 0;
	case OPT_HELPER_USER:
		if (parse_user(arg, &o->uid, &o->gid) < 0) {
			iw_fail(f, IW_E_USAGE,
				"--helper-user %s: not a user name or UID[:GID]",
				arg);
			return -1;
		}
		return 0;
	case OPT_REQUIRE:
		if (iw_layers_parse(arg, &o->required_layers) < 0) {
			iw_fail(f, IW_E_USAGE, "--require %s: unknown layer", arg);
			return -1;
		}
		return 0;
	case OPT_NO_NAMESPACES:
		o->ns_flags = 0;
		return 0;
	case OPT_NAMESPACES:
		if (iw_namespaces_parse(arg, &o->ns_flags) < 0) {
			iw_fail(f, IW_E_USAGE,
				"--namespaces %s: expected a comma-separated "
				"list of mount, pid, net, ipc, uts, cgroup, or "
				"none",
				arg);
			return -1;
		}
		return 0;
	case OPT_HELPER_DIR:
		snprintf(o->helper_dir, sizeof(o->helper_dir), "%s", arg);
		return 0;
	}
	iw_fail(f, IW_E_USAGE, "unknown option");
	return -1;
}

void common_options_job(const struct common_options *o, const char *helper,
			struct helper_job *job)
{
	job->helper = helper;
	job->helper_dir = o->helper_dir;
	job->limits = o->limits;
	job->required_layers = o->required_layers;
	job->ns_flags = o->ns_flags;
	job->uid = o->uid;
	job->gid = o->gid;
}
