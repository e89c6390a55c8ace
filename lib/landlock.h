/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IW_LANDLOCK_H
#define IW_LANDLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct iw_landlock_status {
	int abi;	     /* kernel ABI, 0 if Landlock is unavailable */
	int unavailable_errno; /* ENOSYS (not built), EOPNOTSUPP (disabled) */
	bool enforced;	     /* landlock_restrict_self succeeded */
	uint64_t handled_fs, handled_net, scoped;
};

/* The highest Landlock ABI the running kernel offers (0: none, with the
 * reason in *ret_errno when given). */
int iw_landlock_abi(int *ret_errno);

/*
 * Deny the calling process every filesystem, network and IPC-scope right
 * the kernel's Landlock ABI knows, and allow nothing: after this, no path
 * can be opened, created, executed or renamed, no TCP port bound or
 * connected (ABI >= 4), and no signal or abstract UNIX socket reaches
 * outside the domain (ABI >= 6). fds opened earlier keep working, which is
 * exactly how helpers receive their input. Requires no_new_privs.
 * Returns 0 (status filled; enforced may be false when Landlock is
 * unavailable) or a negative errno when Landlock exists but failed.
 */
int iw_landlock_deny_all(struct iw_landlock_status *ret_status);

#endif
