/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IW_BROKER_COMMANDS_H
#define IW_BROKER_COMMANDS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "report.h"

#include "spawn.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const char *summary;
};

int cmd_probe(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_inject(int argc, char **argv);
int cmd_import(int argc, char **argv);

struct input_file;
struct common_options;
/* cmd-probe.c: the sniffer's judgement of an opened input, and output
 * helpers shared by the commands */
int probe_input(const struct common_options *common,
		const struct input_file *in, const char *expect,
		json_object *extra, json_object **ret_out,
		struct iw_failure *f);
int verdict_exit(enum iw_verdict v);
/* cmd-scan.c: run imgward-ntfs on fd (an input the sniffer judged safe
 * as format): 0 with *ret_scan the validated scan object (a reference
 * the caller puts), or -1 with f set. *ret_sandbox (when ret_sandbox is
 * not NULL): the helper's verified sandbox report, also on failure once
 * known, or NULL. */
int scan_run(const struct common_options *opts, int fd, const char *format,
	     json_object **ret_scan, json_object **ret_sandbox,
	     struct iw_failure *f);
const char *jstr(json_object *o, const char *key);
/* o[key] = s, sanitised for output (a name the caller gave: a path); o
 * may be NULL (out of memory earlier: nothing to add to). */
void json_add_clean(json_object *o, const char *key, const char *s);
int64_t jint(json_object *o, const char *key);
void human_size(char *buf, size_t len, int64_t bytes);
void put_clean(FILE *out, const char *s);
void print_findings(FILE *out, json_object *rep, const char *indent);
void print_human(const char *path, json_object *out_obj);

/* The exit-status table printed by every --help. */
extern const char exit_status_help[];

/*
 * Options every helper-running command shares (options.c): resource
 * limits, deadline, helper uid/gid, required layers, namespaces, helper
 * directory. Commands append these to their own getopt tables.
 */
enum {
	OPT_DEADLINE = 0x1000,
	OPT_LIMIT,
	OPT_HELPER_USER,
	OPT_REQUIRE,
	OPT_NO_NAMESPACES,
	OPT_NAMESPACES,
	OPT_HELPER_DIR,
	_OPT_COMMON_MAX,
};

#define COMMON_LONG_OPTIONS                                                    \
	{ "deadline", required_argument, NULL, OPT_DEADLINE },                 \
	{ "limit", required_argument, NULL, OPT_LIMIT },                       \
	{ "helper-user", required_argument, NULL, OPT_HELPER_USER },           \
	{ "require", required_argument, NULL, OPT_REQUIRE },                   \
	{ "no-namespaces", no_argument, NULL, OPT_NO_NAMESPACES },             \
	{ "namespaces", required_argument, NULL, OPT_NAMESPACES },             \
	{ "helper-dir", required_argument, NULL, OPT_HELPER_DIR }

extern const char common_options_help[];

struct common_options {
	struct iw_limits limits;
	unsigned required_layers;
	int ns_flags;
	uid_t uid;
	gid_t gid;
	char helper_dir[4096];
};

/* Defaults for helper: compiled-in limits, default layers, helper user
 * ("imgward" if that user exists, else 65534:65534), helper directory
 * (IMGWARD_HELPER_DIR, next to this binary, or the install path). */
int common_options_init(struct common_options *o, const char *helper,
			struct iw_failure *f);
/* Handle one of the OPT_* options: 0, or -1 with f set (usage). */
int common_options_parse(struct common_options *o, int opt, const char *arg,
			 struct iw_failure *f);
/* Fill the job fields from o. */
void common_options_job(const struct common_options *o, const char *helper,
			struct helper_job *job);

#endif
