/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Install a helper's compiled seccomp policy (lib/seccomp-policy.h) with
 * libseccomp. The last sandbox layer a helper puts on, after Landlock and
 * before its first untrusted byte (design.md, layer 8). Returns negative
 * errno values and never prints: the helper's main reports, once.
 */
#include "seccomp-policy.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util.h"

static inline void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}
#define _cleanup_seccomp_ _cleanup_(seccomp_releasep)

/* libseccomp's API level 3 is the one that knows SCMP_ACT_KILL_PROCESS
 * (seccomp_api_get(3)); below it we would silently get KILL_THREAD. */
#define IW_SECCOMP_MIN_API 3

/* Policies are compiled before the process exists: the few values only
 * known at load time are placeholders (lib/seccomp-policy.h). */
static uint64_t resolve_datum(uint64_t datum)
{
	if (datum == IW_SECCOMP_SELF_PID)
		return (uint64_t)getpid();
	return datum;
}

static int build_filter(const struct iw_seccomp_policy *p,
			scmp_filter_ctx *ret_ctx)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	int r;

	if (!p || (!p->rules && p->n_rules))
		return -EINVAL;
	if (seccomp_api_get() < IW_SECCOMP_MIN_API)
		return -EOPNOTSUPP;

	/* Default KILL_PROCESS, not KILL_THREAD or ERRNO: a helper that makes
	 * a call its policy does not list is compromised or broken, and the
	 * broker must see it die (SIGSYS -> "policy_violation"). */
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;

	/* seccomp_init() adds the native architecture only, and we add no
	 * other: a call through int 0x80 (i386 numbers) or the x32 ABI would
	 * otherwise reach syscalls this policy never named. libseccomp's
	 * default bad-arch action only kills the thread. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	/* NO_NEW_PRIVS is the broker's job (layer 5); iw_seccomp_apply()
	 * checks it instead of setting it, so a missing layer is noticed
	 * rather than quietly repaired. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return r;
	/* Make seccomp_load() return the kernel's errno, not -ECANCELED. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (r < 0)
		return r;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct iw_seccomp_rule *rule = &p->rules[i];
		struct scmp_arg_cmp cmp[IW_SECCOMP_MAX_CMP];

		if (rule->n_cmp > IW_SECCOMP_MAX_CMP)
			return -EINVAL;
		for (unsigned k = 0; k < rule->n_cmp; k++)
			cmp[k] = (struct scmp_arg_cmp){
				.arg = rule->cmp[k].arg,
				.op = rule->cmp[k].op,
				.datum_a = resolve_datum(rule->cmp[k].datum_a),
				.datum_b = resolve_datum(rule->cmp[k].datum_b),
			};
		/* _exact_: fail rather than let libseccomp rewrite a rule it
		 * cannot express as written (e.g. a syscall this architecture
		 * lacks); a policy must mean what it says. */
		r = seccomp_rule_add_exact_array(ctx, rule->action, rule->nr,
						 rule->n_cmp, cmp);
		if (r < 0)
			return r;
	}
	*ret_ctx = TAKE_PTR(ctx);
	return 0;
}

static int apply(const struct iw_seccomp_policy *p, bool all_threads)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	int r;

	/* The kernel refuses an unprivileged filter without NO_NEW_PRIVS
	 * anyway; a privileged caller without it could exec a setuid binary
	 * around the filter's intent. Either way, the broker forgot a layer. */
	r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (r < 0)
		return -errno;
	if (r != 1)
		return -EPERM;

	r = build_filter(p, &ctx);
	if (r < 0)
		return r;
	/* A single-threaded helper needs no TSYNC: the filter covers every
	 * thread created after the load. A helper that started its threads
	 * before the sandbox (so that its policy need not allow clone) must
	 * put all of them under the filter at once, or fail. */
	if (all_threads) {
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
		if (r < 0)
			return r;
	}
	return seccomp_load(ctx);
}

int iw_seccomp_apply(const struct iw_seccomp_policy *p)
{
	return apply(p, false);
}

int iw_seccomp_apply_all_threads(const struct iw_seccomp_policy *p)
{
	return apply(p, true);
}

int iw_seccomp_export_pfc(const struct iw_seccomp_policy *p, int fd)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	int r;

	r = build_filter(p, &ctx);
	if (r < 0)
		return r;
	return seccomp_export_pfc(ctx, fd);
}
