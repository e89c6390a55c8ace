/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Landlock, "handle everything, allow nothing".
 *
 * The constants are vendored: Debian 12's linux-libc-dev stops at ABI 2
 * (no TRUNCATE, IOCTL_DEV, network or scope rights), and a helper built
 * there must still use everything the running kernel knows. The values
 * are the kernel's UAPI (include/uapi/linux/landlock.h).
 */
#include "landlock.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)

/* filesystem rights by the ABI that introduced them */
#define LL_FS_ABI1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ULL << 13)      /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
/* network rights, ABI 4 */
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
/* scopes, ABI 6 */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int iw_landlock_abi(int *ret_errno)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
			   LL_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (ret_errno)
			*ret_errno = errno;
		return 0;
	}
	return (int)abi;
}

#define LL_RULE_PATH_BENEATH 1

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* The rights that apply to a file (not a directory): anything else in a
 * rule on a file is EINVAL to the kernel. */
#define LL_FS_FILE_RIGHTS                                                      \
	(IW_LL_EXECUTE | IW_LL_WRITE_FILE | IW_LL_READ_FILE |                  \
	 LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

int iw_landlock_restrict(const struct iw_landlock_rule *rules, size_t n_rules,
			 struct iw_landlock_status *ret_status)
{
	struct ll_ruleset_attr attr = { 0 };
	struct iw_landlock_status st = { 0 };
	size_t attr_size;
	int fd, err = 0;

	st.abi = iw_landlock_abi(&err);
	if (st.abi <= 0) {
		st.unavailable_errno = err;
		*ret_status = st;
		return 0;
	}

	/* Best effort by ABI, as the kernel's sandboxer sample does: each
	 * newer right is handled only when the kernel knows it, and the
	 * attribute size must not name fields the kernel lacks. */
	attr.handled_access_fs = LL_FS_ABI1;
	if (st.abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (st.abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (st.abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	attr_size = sizeof(uint64_t);
	if (st.abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = 2 * sizeof(uint64_t);
	}
	if (st.abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		attr_size = 3 * sizeof(uint64_t);
	}

	fd = (int)syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < n_rules; i++) {
		struct ll_path_beneath_attr pb = {
			/* a right the kernel does not handle cannot be granted
			 * (EINVAL): it is not restricted there anyway */
			.allowed_access = rules[i].access & attr.handled_access_fs,
			.parent_fd = rules[i].fd,
		};

		if (rules[i].is_file)
			pb.allowed_access &= LL_FS_FILE_RIGHTS;
		if (pb.allowed_access == 0)
			continue;
		if (syscall(__NR_landlock_add_rule, fd, LL_RULE_PATH_BENEATH,
			    &pb, 0) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	if (syscall(__NR_landlock_restrict_self, fd, 0) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	st.enforced = true;
	st.handled_fs = attr.handled_access_fs;
	st.handled_net = attr.handled_access_net;
	st.scoped = attr.scoped;
	*ret_status = st;
	return 0;
}

int iw_landlock_deny_all(struct iw_landlock_status *ret_status)
{
	/* no rules: nothing is allowed */
	return iw_landlock_restrict(NULL, 0, ret_status);
}
