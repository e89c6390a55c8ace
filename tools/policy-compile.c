/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy-compile: turn a helper's seccomp policy (policy/seccomp/<name>.policy,
 * minijail-like text, docs/policy.md) into C that lib/seccomp-apply.c loads,
 * and lint it on the way.
 *
 *   policy-compile POLICY NAME      lint, then print build/gen/policy-NAME.c
 *   policy-compile --lint POLICY... lint only (tests/test-policy-lint.sh)
 *
 * Why C and not BPF: constants (PROT_EXEC, TIOCSTI, GRND_NONBLOCK) are
 * resolved by the C compiler from the system headers, libseccomp builds the
 * filter on the machine that runs it, and the generated file carries #line
 * directives so a bad constant is a compile error naming the policy line
 * (lib/seccomp-policy.h).
 *
 * Lint rules (each error is "file:line: error: ..."; any error fails the
 * build, so a policy that breaks them never ships):
 *   - every group (run of lines between blank lines) starts with a
 *     why-comment; syscalls are sorted within a group;
 *   - no syscall appears twice in a policy, includes counted;
 *   - every name is an x86_64 syscall libseccomp knows;
 *   - dangerous syscalls (minijail's seccomp_policy_lint.py list, extended)
 *     need an argument condition, "return ERRNO", or a "# reason:" line
 *     directly above; and for mmap/mprotect/pkey_mprotect, ioctl and clone
 *     the condition itself is checked (by _Static_assert in the generated C,
 *     where the constants are known): no PROT_EXEC, full 32-bit ioctl
 *     command compare (CVE-2019-10063), CLONE_THREAD required;
 *   - @include only one level deep, only a plain "*.inc" file name next to
 *     the including file.
 *
 * The policy files are trusted (they are reviewed source), but this tool
 * still refuses anything it does not understand rather than guessing.
 */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-policy.h"

/* Policies are small and hand-written: these caps only stop runaway input. */
#define MAX_LINE 1024		/* longest policy line */
#define MAX_RULES 512		/* more syscalls than x86_64 has */
#define MAX_ALTS 16		/* "||" alternatives on one line */
#define MAX_PATH_LEN 512

enum cond_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_MASKED_EQ };

static const char *const op_text[] = { "==", "!=", "<", "<=", ">", ">=", "&" };
static const char *const op_scmp[] = {
	"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
	"SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ",
};

struct cond {
	unsigned arg;
	enum cond_op op;
	char *mask;		/* OP_MASKED_EQ only */
	char *value;
};

struct alt {
	unsigned n_cond;
	struct cond cond[IW_SECCOMP_MAX_CMP];
};

enum rule_kind { RULE_ALLOW, RULE_ERRNO, RULE_COND };

struct rule {
	char *name;
	const char *file;	/* borrowed from the file table */
	unsigned line;
	enum rule_kind kind;
	char *errno_name;	/* RULE_ERRNO */
	bool has_reason;	/* "# reason:" directly above */
	unsigned n_alt;
	struct alt alt[MAX_ALTS];
};

static struct rule *rules[MAX_RULES];
static size_t n_rules;
static char *files[8];		/* the policy and its includes */
static size_t n_files;
static unsigned n_errors;

/*
 * Syscalls that may not be allowed unconditionally without a written
 * reason: minijail's DANGEROUS_SYSCALLS plus what lets a process run code,
 * reach the network or the file system by name, change credentials or
 * namespaces, or poke the kernel (docs/policy.md).
 */
static const char *const dangerous[] = {
	"add_key", "bind", "bpf", "capset", "chroot", "clone", "clone3",
	"connect", "execve", "execveat", "finit_module", "fork", "init_module",
	"io_uring_setup", "ioctl", "kexec_load", "keyctl", "kill",
	"memfd_create", "mmap", "mount", "mprotect", "open", "openat",
	"openat2", "perf_event_open", "personality", "pivot_root",
	"pkey_mprotect", "prctl", "process_vm_readv", "process_vm_writev",
	"ptrace", "setfsgid", "setfsuid", "setgid", "setgroups", "setns",
	"setregid", "setresgid", "setresuid", "setreuid", "setuid", "socket",
	"socketpair", "tgkill", "tkill", "umount2", "unshare", "userfaultfd",
	"vfork",
};

/*
 * Syscalls whose condition is checked, not just required: which argument
 * must be compared (== or masked ==) in every alternative, and the
 * compile-time property the generated C asserts about it.
 */
enum semantic { SEM_NOEXEC, SEM_IOCTL_CMD, SEM_CLONE_THREAD };
static const struct {
	const char *name;
	unsigned arg;
	enum semantic sem;
} checked[] = {
	{ "clone", 0, SEM_CLONE_THREAD },
	{ "ioctl", 1, SEM_IOCTL_CMD },
	{ "mmap", 2, SEM_NOEXEC },
	{ "mprotect", 2, SEM_NOEXEC },
	{ "pkey_mprotect", 2, SEM_NOEXEC },
};

__attribute__((format(printf, 3, 4)))
static void lint_error(const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%u: error: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	n_errors++;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fputs("policy-compile: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p) {
		fputs("policy-compile: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static bool is_identifier(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/*
 * A VALUE or MASK is pasted into the generated C inside "(uint64_t)(...)":
 * allow only what constant expressions over names and numbers need, with
 * balanced parentheses, so nothing can close the cast or the initialiser.
 */
static bool is_constant_expr(const char *s)
{
	int depth = 0;
	bool any = false;

	for (; *s; s++) {
		if (*s == '(') {
			depth++;
		} else if (*s == ')') {
			if (--depth < 0)
				return false;
		} else if (isalnum((unsigned char)*s) || *s == '_') {
			any = true;
		} else if (!strchr(" \t|~<>+-*^", *s)) {
			return false;
		}
	}
	return depth == 0 && any;
}

static bool errno_name_known(const char *name)
{
	/* glibc >= 2.32; errno values are < 4096 (MAX_ERRNO) */
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

static bool split_at(char *s, const char *sep, char **ret_rest)
{
	char *p = strstr(s, sep);

	if (!p)
		return false;
	*p = '\0';
	*ret_rest = p + strlen(sep);
	return true;
}

/* "argN OP VALUE" or "argN & MASK == VALUE" */
static bool parse_cond(const char *file, unsigned line, char *text,
		       struct cond *c)
{
	char *s = trim(text), *rest;
	size_t i;

	if (strncmp(s, "arg", 3) != 0 || s[3] < '0' || s[3] > '5') {
		lint_error(file, line, "condition '%s': expected arg0..arg5", s);
		return false;
	}
	c->arg = (unsigned)(s[3] - '0');
	s = trim(s + 4);
	if (s[0] == '&' && s[1] != '&') {
		s++;
		if (!split_at(s, "==", &rest)) {
			lint_error(file, line,
				   "masked condition needs 'argN & MASK == VALUE'");
			return false;
		}
		c->op = OP_MASKED_EQ;
		c->mask = xstrndup(trim(s), strlen(trim(s)));
		s = rest;
	} else {
		/* longest operator first: "<=" before "<" */
		static const enum cond_op order[] = { OP_EQ, OP_NE, OP_LE,
						      OP_GE, OP_LT, OP_GT };

		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			size_t l = strlen(op_text[order[i]]);

			if (strncmp(s, op_text[order[i]], l) == 0)
				break;
		}
		if (i == sizeof(order) / sizeof(order[0])) {
			lint_error(file, line,
				   "condition: expected ==, !=, <, <=, >, >= or '& MASK =='");
			return false;
		}
		c->op = order[i];
		s += strlen(op_text[c->op]);
	}
	s = trim(s);
	if (!is_constant_expr(s) || (c->mask && !is_constant_expr(c->mask))) {
		lint_error(file, line,
			   "condition: '%s' is not a constant expression (names, numbers, | ~ ( ) << >> + - * ^)",
			   s);
		return false;
	}
	c->value = xstrndup(s, strlen(s));
	return true;
}

/* ALT [|| ALT]..., ALT = COND [&& COND]... */
static bool parse_expr(const char *file, unsigned line, char *text,
		       struct rule *r)
{
	char *alt_text = text, *next_alt = NULL;

	for (;;) {
		bool more = split_at(alt_text, "||", &next_alt);
		struct alt *a;
		char *cond_text = alt_text, *next_cond = NULL;

		if (r->n_alt == MAX_ALTS) {
			lint_error(file, line, "more than %d alternatives", MAX_ALTS);
			return false;
		}
		a = &r->alt[r->n_alt++];
		for (;;) {
			bool more_cond = split_at(cond_text, "&&", &next_cond);

			if (a->n_cond == IW_SECCOMP_MAX_CMP) {
				lint_error(file, line, "more than %d conditions joined by &&",
					   IW_SECCOMP_MAX_CMP);
				return false;
			}
			if (!parse_cond(file, line, cond_text, &a->cond[a->n_cond]))
				return false;
			/* libseccomp 2.5 takes one comparison per argument and rule */
			for (unsigned k = 0; k < a->n_cond; k++)
				if (a->cond[k].arg == a->cond[a->n_cond].arg) {
					lint_error(file, line,
						   "arg%u compared twice in one alternative",
						   a->cond[k].arg);
					return false;
				}
			a->n_cond++;
			if (!more_cond)
				break;
			cond_text = next_cond;
		}
		if (!more)
			return true;
		alt_text = next_alt;
	}
}

static const struct rule *find_rule(const char *name)
{
	for (size_t i = 0; i < n_rules; i++)
		if (strcmp(rules[i]->name, name) == 0)
			return rules[i];
	return NULL;
}

/* The extra lint for syscalls in checked[]: each alternative compares the
 * argument that matters with == or a masked ==; the generated C then
 * asserts what the constants mean. */
static void lint_checked(const struct rule *r)
{
	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		if (strcmp(r->name, checked[i].name) != 0)
			continue;
		for (unsigned a = 0; a < r->n_alt; a++) {
			bool found = false;

			for (unsigned k = 0; k < r->alt[a].n_cond; k++) {
				const struct cond *c = &r->alt[a].cond[k];

				if (c->arg != checked[i].arg)
					continue;
				if (c->op == OP_EQ || c->op == OP_MASKED_EQ)
					found = true;
			}
			if (!found)
				lint_error(r->file, r->line,
					   "%s: every alternative must compare arg%u with == or '& MASK ==' (docs/policy.md)",
					   r->name, checked[i].arg);
		}
	}
}

static void parse_rule(const char *file, unsigned line, char *text,
		       bool has_reason)
{
	char *colon = strchr(text, ':');
	char *name, *action;
	const struct rule *dup;
	struct rule *r;
	int nr;

	if (!colon) {
		lint_error(file, line, "expected 'syscall: action'");
		return;
	}
	*colon = '\0';
	name = trim(text);
	action = trim(colon + 1);
	if (!is_identifier(name)) {
		lint_error(file, line, "'%s' is not a syscall name", name);
		return;
	}
	/* x86_64 is the reference architecture of every policy (HACKING.md);
	 * a negative number is a libseccomp pseudo-syscall: not on x86_64. */
	nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
	if (nr == __NR_SCMP_ERROR || nr < 0) {
		lint_error(file, line, "unknown syscall '%s' (not an x86_64 syscall)",
			   name);
		return;
	}
	dup = find_rule(name);
	if (dup) {
		lint_error(file, line, "duplicate syscall '%s' (first at %s:%u)",
			   name, dup->file, dup->line);
		return;
	}
	if (n_rules == MAX_RULES) {
		lint_error(file, line, "too many rules");
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->name = xstrndup(name, strlen(name));
	r->file = file;
	r->line = line;
	r->has_reason = has_reason;
	if (strcmp(action, "allow") == 0) {
		r->kind = RULE_ALLOW;
	} else if (strncmp(action, "return", 6) == 0 &&
		   isspace((unsigned char)action[6])) {
		char *e = trim(action + 6);

		r->kind = RULE_ERRNO;
		if (!errno_name_known(e))
			lint_error(file, line, "'return %s': not an errno name", e);
		r->errno_name = xstrndup(e, strlen(e));
	} else if (strncmp(action, "arg", 3) == 0) {
		r->kind = RULE_COND;
		if (!parse_expr(file, line, action, r)) {
			free(r->name);
			free(r);
			return;
		}
	} else {
		lint_error(file, line,
			   "action '%s': expected 'allow', 'return ERRNO' or conditions",
			   action);
		free(r->name);
		free(r);
		return;
	}
	if (r->kind == RULE_ALLOW && !has_reason &&
	    in_list(name, dangerous, sizeof(dangerous) / sizeof(dangerous[0])))
		lint_error(file, line,
			   "dangerous syscall '%s' allowed without a condition: add one, use 'return ERRNO', or write '# reason: ...' directly above",
			   name);
	if (r->kind == RULE_COND && !has_reason)
		lint_checked(r);
	rules[n_rules++] = r;
}

static void parse_file(const char *path, bool is_include);

static void parse_include(const char *file, unsigned line, const char *arg,
			  bool is_include)
{
	char inc[MAX_PATH_LEN];
	const char *slash = strrchr(file, '/');
	size_t dir_len = slash ? (size_t)(slash - file + 1) : 0;
	size_t len = strlen(arg);

	if (is_include) {
		lint_error(file, line, "@include nested too deep (includes are one level only)");
		return;
	}
	/* a plain file name next to the policy: no paths, no "..", no
	 * policy pretending to be an include */
	if (len < 5 || strcmp(arg + len - 4, ".inc") != 0 || strchr(arg, '/') ||
	    arg[0] == '.') {
		lint_error(file, line, "@include '%s': expected a plain NAME.inc file name",
			   arg);
		return;
	}
	if (dir_len + len + 1 > sizeof(inc)) {
		lint_error(file, line, "@include path too long");
		return;
	}
	memcpy(inc, file, dir_len);
	memcpy(inc + dir_len, arg, len + 1);
	parse_file(inc, true);
}

static void parse_file(const char *path, bool is_include)
{
	char buf[MAX_LINE + 2];
	unsigned line = 0;
	const char *file;
	/* group state: a group is a run of non-blank lines */
	bool in_run = false, run_has_rule = false, run_has_why = false;
	bool reason_above = false;
	char prev_name[MAX_LINE + 2] = "";
	FILE *f;

	if (n_files == sizeof(files) / sizeof(files[0])) {
		fprintf(stderr, "%s: too many included files\n", path);
		n_errors++;
		return;
	}
	if (strpbrk(path, "\"\\\n")) {
		fprintf(stderr, "%s: unusable characters in file name\n", path);
		n_errors++;
		return;
	}
	files[n_files] = xstrndup(path, strlen(path));
	file = files[n_files++];
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		n_errors++;
		return;
	}
	while (fgets(buf, sizeof(buf), f)) {
		size_t len = strlen(buf);
		char *s, *hash;

		line++;
		if (len > MAX_LINE && buf[len - 1] != '\n') {
			lint_error(file, line, "line longer than %d characters", MAX_LINE);
			break;
		}
		s = trim(buf);
		if (!*s) {
			in_run = run_has_rule = run_has_why = false;
			reason_above = false;
			prev_name[0] = '\0';
			continue;
		}
		if (*s == '#') {
			char *c = trim(s + 1);

			if (!run_has_rule)
				run_has_why = true;
			reason_above = strncmp(c, "reason:", 7) == 0 &&
				       *trim(c + 7) != '\0';
			in_run = true;
			continue;
		}
		in_run = true;
		if (strncmp(s, "@include", 8) == 0 && isspace((unsigned char)s[8])) {
			parse_include(file, line, trim(s + 8), is_include);
			reason_above = false;
			continue;
		}
		if (*s == '@') {
			lint_error(file, line, "unknown directive '%s'", s);
			continue;
		}
		hash = strchr(s, '#');
		if (hash)
			*hash = '\0';
		s = trim(s);
		if (!run_has_rule && !run_has_why)
			lint_error(file, line,
				   "group has no why-comment (a '#' comment block directly above its first line)");
		run_has_rule = true;
		{
			char *colon = strchr(s, ':');
			size_t name_len = colon ? (size_t)(colon - s) : strlen(s);
			char name[MAX_LINE + 2];

			memcpy(name, s, name_len);
			name[name_len] = '\0';
			trim(name);
			if (prev_name[0] && strcmp(prev_name, name) > 0)
				lint_error(file, line,
					   "'%s' is not sorted: it comes after '%s' in this group",
					   trim(name), prev_name);
			snprintf(prev_name, sizeof(prev_name), "%s", trim(name));
		}
		parse_rule(file, line, s, reason_above);
		reason_above = false;
	}
	(void)in_run;
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		n_errors++;
	}
	fclose(f);
}

/* ---- output ----------------------------------------------------------- */

static void emit_assert(const struct rule *r, const char *expr, const char *why)
{
	printf("#line %u \"%s\"\n", r->line, r->file);
	printf("_Static_assert(%s, \"%s:%u: %s\");\n", expr, r->file, r->line, why);
}

/* The compile-time half of lint_checked(): what the constants mean. */
static void emit_semantic_asserts(const struct rule *r)
{
	char expr[4 * MAX_LINE];

	if (r->kind != RULE_COND || r->has_reason)
		return;
	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		if (strcmp(r->name, checked[i].name) != 0)
			continue;
		for (unsigned a = 0; a < r->n_alt; a++)
			for (unsigned k = 0; k < r->alt[a].n_cond; k++) {
				const struct cond *c = &r->alt[a].cond[k];
				const char *m = c->op == OP_MASKED_EQ ? c->mask : "~0";

				if (c->arg != checked[i].arg ||
				    (c->op != OP_EQ && c->op != OP_MASKED_EQ))
					continue;
				switch (checked[i].sem) {
				case SEM_NOEXEC:
					snprintf(expr, sizeof(expr),
						 "((uint64_t)(%s) & PROT_EXEC) != 0 && ((uint64_t)(%s) & PROT_EXEC) == 0",
						 m, c->value);
					emit_assert(r, expr,
						    "W^X: this condition must require PROT_EXEC clear");
					break;
				case SEM_IOCTL_CMD:
					snprintf(expr, sizeof(expr),
						 "((uint64_t)(%s) & 0xffffffffULL) == 0xffffffffULL",
						 m);
					emit_assert(r, expr,
						    "ioctl: the mask must cover all 32 command bits (CVE-2019-10063)");
					break;
				case SEM_CLONE_THREAD:
					snprintf(expr, sizeof(expr),
						 "((uint64_t)(%s) & CLONE_THREAD) != 0 && ((uint64_t)(%s) & CLONE_THREAD) != 0",
						 m, c->value);
					emit_assert(r, expr,
						    "clone: this condition must require CLONE_THREAD (threads only, no fork)");
					break;
				}
			}
	}
}

static void emit_rule(const struct rule *r, const struct alt *a)
{
	printf("#line %u \"%s\"\n", r->line, r->file);
	printf("\t{ .nr = SCMP_SYS(%s), .name = \"%s\", ", r->name, r->name);
	if (r->kind == RULE_ERRNO)
		printf(".action = SCMP_ACT_ERRNO(%s), ", r->errno_name);
	else
		printf(".action = SCMP_ACT_ALLOW, ");
	printf(".n_cmp = %u, ", a ? a->n_cond : 0);
	if (a)
		printf(".cmp = {");
	for (unsigned k = 0; a && k < a->n_cond; k++) {
		const struct cond *c = &a->cond[k];

		if (c->op == OP_MASKED_EQ)
			printf(" { %u, %s, (uint64_t)(%s), (uint64_t)(%s) },", c->arg,
			       op_scmp[c->op], c->mask, c->value);
		else
			printf(" { %u, %s, (uint64_t)(%s), 0 },", c->arg,
			       op_scmp[c->op], c->value);
	}
	if (a)
		printf(" }, ");
	printf(".where = \"%s:%u\" },\n", r->file, r->line);
}

static void emit(const char *name)
{
	printf("/* Generated by tools/policy-compile from %s: do not edit. */\n",
	       files[0]);
	/* The headers a policy's constants may come from (docs/policy.md). */
	printf("#include <errno.h>\n#include <fcntl.h>\n#include <sched.h>\n"
	       "#include <signal.h>\n#include <stdint.h>\n#include <time.h>\n"
	       "#include <linux/futex.h>\n#include <sys/ioctl.h>\n"
	       "#include <sys/mman.h>\n#include <sys/prctl.h>\n"
	       "#include <sys/random.h>\n#include <sys/resource.h>\n"
	       "#include <sys/socket.h>\n#include <sys/stat.h>\n"
	       "#include <sys/wait.h>\n#include <termios.h>\n#include <unistd.h>\n\n"
	       "#include \"seccomp-policy.h\"\n\n");
	for (size_t i = 0; i < n_rules; i++)
		emit_semantic_asserts(rules[i]);
	printf("\nstatic const struct iw_seccomp_rule rules[] = {\n");
	for (size_t i = 0; i < n_rules; i++) {
		const struct rule *r = rules[i];

		if (r->kind == RULE_COND)
			for (unsigned a = 0; a < r->n_alt; a++)
				emit_rule(r, &r->alt[a]);
		else
			emit_rule(r, NULL);
	}
	printf("};\n\nconst struct iw_seccomp_policy iw_policy_%s = {\n"
	       "\t.name = \"%s\",\n\t.rules = rules,\n"
	       "\t.n_rules = sizeof(rules) / sizeof(rules[0]),\n};\n",
	       name, name);
}

static void reset(void)
{
	for (size_t i = 0; i < n_rules; i++) {
		free(rules[i]->name);
		free(rules[i]->errno_name);
		for (unsigned a = 0; a < rules[i]->n_alt; a++)
			for (unsigned k = 0; k < rules[i]->alt[a].n_cond; k++) {
				free(rules[i]->alt[a].cond[k].mask);
				free(rules[i]->alt[a].cond[k].value);
			}
		free(rules[i]);
	}
	n_rules = 0;
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	n_files = 0;
}

static int usage(void)
{
	fputs("usage: policy-compile POLICY NAME > policy-NAME.c\n"
	      "       policy-compile --lint POLICY...\n"
	      "       policy-compile --list POLICY   (syscall names, one a line)\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--lint") == 0) {
		unsigned failed = 0;

		if (argc < 3)
			return usage();
		for (int i = 2; i < argc; i++) {
			n_errors = 0;
			parse_file(argv[i], false);
			if (n_errors)
				failed++;
			reset();
		}
		return failed ? 1 : 0;
	}
	if (argc == 3 && strcmp(argv[1], "--list") == 0) {
		parse_file(argv[2], false);
		if (n_errors)
			return 1;
		for (size_t i = 0; i < n_rules; i++)
			printf("%s\n", rules[i]->name);
		reset();
		return 0;
	}
	if (argc != 3)
		return usage();
	for (const char *p = argv[2]; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '_') {
			fprintf(stderr, "policy-compile: name '%s': use [a-z0-9_]\n",
				argv[2]);
			return 2;
		}
	parse_file(argv[1], false);
	if (n_errors) {
		fprintf(stderr, "%s: %u error(s)\n", argv[1], n_errors);
		return 1;
	}
	emit(argv[2]);
	reset();
	return fflush(stdout) == 0 ? 0 : 1;
}
