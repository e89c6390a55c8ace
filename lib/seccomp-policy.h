/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A helper's seccomp policy, as compiled at build time from
 * policy/seccomp/<helper>.policy by tools/policy-compile (generated file
 * build/gen/policy-<helper>.c), and installed at run time by
 * iw_seccomp_apply() through libseccomp.
 *
 * Why compile to C rather than to BPF at build time: libseccomp then
 * builds the filter on the machine that runs it (it knows that kernel's
 * actions, e.g. KILL_PROCESS), syscall names and constants (PROT_EXEC,
 * TIOCSTI, ...) are resolved by the C compiler from the system headers,
 * and a typo in a policy file is a compile error pointing at the policy
 * line (#line directives). See HACKING.md.
 */
#ifndef IW_SECCOMP_POLICY_H
#define IW_SECCOMP_POLICY_H

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#define IW_SECCOMP_MAX_CMP 6

struct iw_seccomp_cmp {
	unsigned arg;		/* 0..5 */
	enum scmp_compare op;	/* SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ, ... */
	uint64_t datum_a;	/* value, or mask for MASKED_EQ */
	uint64_t datum_b;	/* value for MASKED_EQ */
};

struct iw_seccomp_rule {
	int nr;			/* SCMP_SYS(name) */
	const char *name;	/* syscall name, for diagnostics */
	uint32_t action;	/* SCMP_ACT_ALLOW or SCMP_ACT_ERRNO(e) */
	unsigned n_cmp;		/* all comparisons must hold (AND) */
	struct iw_seccomp_cmp cmp[IW_SECCOMP_MAX_CMP];
	const char *where;	/* "policy/seccomp/sniff.policy:12" */
};

struct iw_seccomp_policy {
	const char *name;	/* helper name: "sniff" */
	const struct iw_seccomp_rule *rules;
	size_t n_rules;
};

/*
 * A comparison value that iw_seccomp_apply() replaces with the caller's
 * pid when it builds the filter, so a policy can say "only to itself"
 * (tgkill: arg0 == IW_SECCOMP_SELF_PID). Above any 32-bit pid, so it can
 * never match a real argument by accident.
 */
#define IW_SECCOMP_SELF_PID UINT64_C(0x5e1f5e1f00000000)

/* Generated: one per policy/seccomp/<name>.policy */
extern const struct iw_seccomp_policy iw_policy_sniff;
extern const struct iw_seccomp_policy iw_policy_convert;
extern const struct iw_seccomp_policy iw_policy_ntfs;
extern const struct iw_seccomp_policy iw_policy_inject;

/*
 * Install p for the calling process: default action KILL_PROCESS, calls
 * from any other architecture (x86 int 0x80, x32) killed, no_new_privs
 * already set by the broker (required; -EPERM otherwise). Returns 0 or a
 * negative errno. After it returns 0, every syscall not in p kills the
 * process.
 */
int iw_seccomp_apply(const struct iw_seccomp_policy *p);

/* The same for every thread of the process at once (SECCOMP TSYNC): for
 * helpers that start their worker threads before the sandbox. */
int iw_seccomp_apply_all_threads(const struct iw_seccomp_policy *p);

/*
 * Write p as libseccomp's human-readable PFC text to fd, built exactly as
 * iw_seccomp_apply() would build it, without loading it (debugging and
 * policy tests). Returns 0 or a negative errno.
 */
int iw_seccomp_export_pfc(const struct iw_seccomp_policy *p, int fd);

#endif
