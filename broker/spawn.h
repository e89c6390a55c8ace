/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run one helper under the sandbox and collect its answer.
 *
 * helper_run() is the whole life of a helper: exec it with exactly the
 * fds it needs behind the pre-exec layers (sandbox.c), wait for its
 * "ready" message, verify from /proc that the layers took effect, let it
 * start, read its messages under a size cap and a wall-clock deadline,
 * reap it, and classify how it ended. It never accepts an fd from a
 * helper and never trusts a byte it sends beyond what the caller's schema
 * check accepts.
 */
#ifndef IW_BROKER_SPAWN_H
#define IW_BROKER_SPAWN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "errors.h"
#include "job-limits.h"

/* Sandbox layers the broker can require (bitmask). */
enum {
	IW_LAYER_SECCOMP = 1 << 0,
	IW_LAYER_NO_NEW_PRIVS = 1 << 1,
	IW_LAYER_NO_CAPS = 1 << 2,
	IW_LAYER_LANDLOCK = 1 << 3, /* required only where the kernel has it */
	IW_LAYER_NAMESPACES = 1 << 4,
	IW_LAYER_APPARMOR = 1 << 5, /* required only where it is enabled */
	IW_LAYER_UNPRIVILEGED = 1 << 6, /* helper uid/gid are not 0 */
};
#define IW_LAYERS_DEFAULT                                                      \
	(IW_LAYER_SECCOMP | IW_LAYER_NO_NEW_PRIVS | IW_LAYER_NO_CAPS |         \
	 IW_LAYER_LANDLOCK | IW_LAYER_UNPRIVILEGED)

/* Parse "seccomp,landlock,..." / "default" / "none". 0 or -EINVAL. */
int iw_layers_parse(const char *s, unsigned *ret);
/* Parse "mount,pid,ipc,uts,cgroup,net" / "none" into CLONE_NEW* flags. */
int iw_namespaces_parse(const char *s, int *ret);

struct helper_job {
	const char *helper;	/* "sniff": runs <helper_dir>/imgward-sniff */
	const char *helper_dir;
	const char *const *args; /* extra argv, NULL-terminated, may be NULL */
	const char *const *env;	 /* environment after LC_ALL=C, "NAME=VALUE",
				  * NULL-terminated, may be NULL (helpers get
				  * nothing else) */
	const int *fds;		 /* placed at fd 4, 5, ... */
	size_t n_fds;
	struct iw_limits limits;
	unsigned required_layers;
	int ns_flags;		  /* CLONE_NEW* to try (no NEWUSER: added
				   * when the broker is not root) */
	uid_t uid;		  /* helper ids when the broker is root */
	gid_t gid;
	/* called for each {"type":"progress"} message, if set */
	void (*on_progress)(json_object *msg, void *userdata);
	void *userdata;
};

struct helper_outcome {
	json_object *result;  /* the terminal {"type":"result"} message */
	json_object *sandbox; /* what the layers were, as verified; also set
			       * on failure once the helper was verified */
	double seconds;	      /* wall time */
	long peak_rss_kib;    /* the helper's peak resident set (wait4) */
	double cpu_seconds;   /* user + system */
};

void helper_outcome_done(struct helper_outcome *o);

/* 0 with out->result set, or -1 with f describing the failure. */
int helper_run(const struct helper_job *job, struct helper_outcome *out,
	       struct iw_failure *f);

#endif
