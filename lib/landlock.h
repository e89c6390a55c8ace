/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IW_LANDLOCK_H
#define IW_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
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

/* Filesystem rights (the kernel's UAPI values) for iw_landlock_restrict */
#define IW_LL_EXECUTE (1ULL << 0)
#define IW_LL_WRITE_FILE (1ULL << 1)
#define IW_LL_READ_FILE (1ULL << 2)
#define IW_LL_READ_DIR (1ULL << 3)
#define IW_LL_ALL_FS (~0ULL) /* everything the kernel handles */
#define IW_LL_READ (IW_LL_READ_FILE | IW_LL_READ_DIR)
#define IW_LL_READ_EXEC (IW_LL_READ | IW_LL_EXECUTE)

struct iw_landlock_rule {
	int fd;	       /* an O_PATH (or any) fd of a directory or file */
	bool is_file;  /* a file: only the file rights of access apply */
	uint64_t access; /* IW_LL_* rights granted beneath fd */
};

/*
 * The same domain as iw_landlock_deny_all (every right handled, TCP and
 * scopes denied), but the filesystem rights of rules[] granted beneath
 * their fds: for the one helper that must run programs (imgward-inject:
 * libguestfs and qemu). Rights the kernel does not know are dropped from
 * the rules, as they are from the handled set.
 */
int iw_landlock_restrict(const struct iw_landlock_rule *rules, size_t n_rules,
			 struct iw_landlock_status *ret_status);

#endif
