/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pre-exec sandbox layers, run in the broker's child between clone3()
 * and execveat() (design.md "Sandbox layers", steps 1-6). Only async-
 * signal-safe work happens here: no allocation, no stdio.
 */
#ifndef IW_BROKER_SANDBOX_H
#define IW_BROKER_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "input-set.h"
#include "job-limits.h"
#include "util.h"

#define IW_MAX_DATA_FDS (IW_INPUT_SET_MAX_FILES + 1)

/* Where setup failed; sent to the parent over the status pipe. */
enum sandbox_stage {
	STAGE_PARENT_DEATH = 1,
	STAGE_SIGNALS,
	STAGE_USER_NAMESPACE,
	STAGE_MOUNT_NAMESPACE,
	STAGE_FDS,
	STAGE_RLIMITS,
	STAGE_IDS,
	STAGE_CAPABILITIES,
	STAGE_NO_NEW_PRIVS,
	STAGE_APPARMOR,
	STAGE_EXEC,
};

const char *sandbox_stage_name(enum sandbox_stage s);

struct sandbox_status {
	int stage;
	int err;
};

struct sandbox_child {
	int exec_fd;	  /* O_PATH fd of the helper binary */
	int control_fd;	  /* becomes fd 3 */
	const int *fds;	  /* become fd 4.. */
	size_t n_fds;
	int devnull_fd;	  /* becomes fds 0-2 */
	int status_fd;	  /* CLOEXEC pipe: EOF = exec succeeded */
	pid_t parent_pid;
	bool new_pid_ns, new_user_ns, new_mount_ns;
	uid_t outer_uid; /* broker's ids, for the user namespace map */
	gid_t outer_gid;
	bool switch_ids; /* broker is root: become uid/gid below */
	uid_t uid;
	gid_t gid;
	const struct iw_limits *limits;
	const char *apparmor_profile; /* NULL: AppArmor not enabled */
	bool apparmor_stack;	      /* broker itself is confined */
	char *const *argv;
	char *const *envp;
};

/* Never returns: execs the helper or reports the failing stage and
 * exits 127. */
_noreturn_ void sandbox_child_exec(const struct sandbox_child *c);

#endif
