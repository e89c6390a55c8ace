/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward scan [--json] [-f FMT] IMG
 *
 * 1. judge IMG with the sniffer, exactly as `imgward probe` (and as
 *    `imgward convert` does before it converts): anything not `safe`, or
 *    not FMT when -f is given, is refused with its findings and the
 *    probe's exit status;
 * 2. run imgward-ntfs on IMG with the format the sniffer found; it reads
 *    the guest disk through that format's block map and sends the scan
 *    (partitions, filesystems, NTFS volumes, Windows);
 * 3. validate the scan (validate_scan_report: nothing the helper says is
 *    trusted), and print it as JSON or as a short summary.
 *
 * A completed scan exits 0, whatever it found broken inside the guest
 * (those are "problems" in the output): the image itself was safe to
 * read. README "Scanning".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "input-set.h"
#include "input.h"
#include "probe.h"
#include "scan/windows.h"
#include "validate.h"

static void help(FILE *out)
{
	fprintf(out,
		"Usage: imgward scan [OPTIONS] IMAGE\n"
		"\n"
		"List the partitions and filesystems of a disk image and find\n"
		"the Windows installation inside, in the sandboxed scanner. The\n"
		"image is first judged by the sniffer, as `imgward probe` does:\n"
		"anything not safe is refused. raw, qcow2, vmdk, vhd, vhdx and\n"
		"vdi images are read through their block maps.\n"
		"\n"
		"Options:\n"
		"      --json              print one JSON object (README: schema)\n"
		"  -f, --format FMT        what IMAGE is expected to be; anything\n"
		"                          else is refused (qemu names, as probe)\n"
		"  -h, --help              this text\n"
		"\n"
		"A completed scan exits 0, also when volumes inside are broken\n"
		"(see \"problems\" in the output).\n"
		"\n%s\n%s",
		common_options_help, exit_status_help);
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

/* A (validated, but untrusted) string, NULL when null or absent. */
static const char *jstr_or(json_object *o, const char *key, const char *dflt)
{
	const char *s = jstr(o, key);

	return s ? s : dflt;
}

static void print_problems(json_object *problems, const char *indent)
{
	for (size_t i = 0; problems && i < json_object_array_length(problems);
	     i++) {
		json_object *p = json_object_array_get_idx(problems, i);

		printf("%sproblem: ", indent);
		put_clean(stdout, jstr(p, "code"));
		fputs(": ", stdout);
		put_clean(stdout, jstr(p, "message"));
		fputc('\n', stdout);
	}
}

static void print_windows(json_object *w)
{
	static const char *const drivers[] = WIN_VIRTIO_DRIVERS;
	json_object *vd = jget(w, "virtio-drivers");
	int64_t major = jint(w, "major"), minor = jint(w, "minor");
	bool any = false;

	fputs("Windows: ", stdout);
	put_clean(stdout, jstr_or(w, "product-name", "unknown product"));
	fputs(" (", stdout);
	if (major >= 0 && minor >= 0)
		printf("%" PRId64 ".%" PRId64, major, minor);
	else
		put_clean(stdout, jstr_or(w, "current-version", "?"));
	if (jstr(w, "build")) {
		fputs(" build ", stdout);
		put_clean(stdout, jstr(w, "build"));
	}
	fputs(", ", stdout);
	put_clean(stdout, jstr_or(w, "arch", "unknown arch"));
	fputs("), system root ", stdout);
	put_clean(stdout, jstr(w, "systemroot"));
	printf(" on partition %" PRId64 "; virtio drivers: ",
	       jint(w, "partition"));
	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
		json_object *d = jget(vd, drivers[i]);

		if (!json_object_get_boolean(jget(d, "service")) ||
		    !json_object_get_boolean(jget(d, "file")))
			continue;
		printf("%s%s", any ? ", " : "", drivers[i]);
		any = true;
	}
	printf("%s\n", any ? "" : "none");
}

static void print_scan(const char *path, json_object *out)
{
	json_object *table = jget(out, "partition-table");
	json_object *parts = jget(out, "partitions");
	json_object *w = jget(out, "windows");
	char size[32];

	human_size(size, sizeof(size), jint(out, "virtual-size"));
	put_clean(stdout, path);
	printf(": %s, virtual size %s\n", jstr(out, "format"), size);
	if (table) {
		printf("partition table: %s", jstr(table, "type"));
		if (jstr(table, "disk-guid"))
			printf(", disk GUID %s", jstr(table, "disk-guid"));
		if (jstr(table, "disk-signature"))
			printf(", disk signature %s",
			       jstr(table, "disk-signature"));
		if (json_object_get_boolean(jget(table, "hybrid-mbr")))
			fputs(", hybrid MBR", stdout);
		if (json_object_get_boolean(jget(table, "backup-gpt-used")))
			fputs(", read from the backup GPT", stdout);
		fputc('\n', stdout);
	} else {
		printf("partition table: none\n");
	}
	if (json_object_array_length(parts) > 0)
		printf("  %3s %14s %10s  %-28s %-12s %s\n", "#", "start", "size",
		       "type", "filesystem", "label");
	for (size_t i = 0; i < json_object_array_length(parts); i++) {
		json_object *p = json_object_array_get_idx(parts, i);
		const char *type = jstr(p, "type-name");

		human_size(size, sizeof(size), jint(p, "size"));
		printf("  %3" PRId64 " %14" PRId64 " %10s  ", jint(p, "index"),
		       jint(p, "start"), size);
		if (!type)
			type = jstr_or(p, "type", "whole disk");
		put_clean(stdout, type);
		printf("%*s", (int)(strlen(type) < 28 ? 29 - strlen(type) : 1),
		       "");
		put_clean(stdout, jstr_or(p, "filesystem", "-"));
		printf("%*s",
		       (int)(strlen(jstr_or(p, "filesystem", "-")) < 12
				     ? 13 - strlen(jstr_or(p, "filesystem", "-"))
				     : 1),
		       "");
		if (jstr(p, "label")) {
			fputc('"', stdout);
			put_clean(stdout, jstr(p, "label"));
			fputc('"', stdout);
		} else {
			fputc('-', stdout);
		}
		fputc('\n', stdout);
		print_problems(jget(p, "problems"), "      ");
	}
	if (w)
		print_windows(w);
	else
		printf("Windows: not found\n");
	if (json_object_get_boolean(jget(out, "hibernated")))
		printf("warning: an NTFS volume is hibernated (hibernation or "
		       "Fast Startup): Windows holds its state in memory; "
		       "changes made to it now may be lost or corrupt it\n");
	print_problems(jget(out, "problems"), "");
}

int scan_run(const struct common_options *opts, int fd, const char *format,
	     json_object **ret_scan, json_object **ret_sandbox,
	     struct iw_failure *f)
{
	struct helper_outcome outcome = { 0 };
	struct helper_job job = { 0 };
	const char *args[3] = { "-f", format, NULL };
	json_object *scan;
	int r = -1;

	*ret_scan = NULL;
	if (ret_sandbox)
		*ret_sandbox = NULL;
	common_options_job(opts, "ntfs", &job);
	job.args = args;
	job.fds = &fd;
	job.n_fds = 1;
	if (helper_run(&job, &outcome, f) < 0) {
		/* the helper's "refused" (its own judgement of the image) */
		if (f->code == IW_E_CONVERSION_REFUSED)
			f->code = IW_E_SCAN_REFUSED;
		goto out;
	}
	if (!json_object_object_get_ex(outcome.result, "scan", &scan) ||
	    json_object_object_length(outcome.result) != 2 ||
	    !validate_scan_report(scan, f)) {
		if (f->code == IW_OK)
			iw_fail(f, IW_E_PROTOCOL_VIOLATION,
				"helper result has no scan");
		goto out;
	}
	*ret_scan = json_object_get(scan);
	r = 0;
out:
	if (ret_sandbox && outcome.sandbox)
		*ret_sandbox = json_object_get(outcome.sandbox);
	helper_outcome_done(&outcome);
	return r;
}

int cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{ 0 },
	};
	struct common_options sniff_opts, scan_opts;
	struct input_file in = { .fd = -1 };
	struct iw_failure f = { 0 };
	const char *expect = NULL, *path, *format, *why = NULL;
	json_object *probe = NULL, *extra = NULL, *scan = NULL, *out = NULL;
	json_object *sandbox = NULL;
	enum iw_verdict v;
	bool json = false;
	int opt, status;

	if (common_options_init(&sniff_opts, "sniff", &f) < 0 ||
	    common_options_init(&scan_opts, "ntfs", &f) < 0)
		return iw_report_failure(&f, false, NULL);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'f':
			expect = optarg;
			if (!iw_format_name_known(expect)) {
				iw_fail(&f, IW_E_USAGE,
					"--format %s: unknown format", expect);
				return iw_report_failure(&f, json, NULL);
			}
			break;
		case 'h':
			help(stdout);
			return 0;
		case '?':
			help(stderr);
			return IW_EXIT_USAGE;
		default:
			/* the sandbox options apply to both helpers */
			if (common_options_parse(&sniff_opts, opt, optarg, &f) < 0 ||
			    common_options_parse(&scan_opts, opt, optarg, &f) < 0)
				return iw_report_failure(&f, json, NULL);
		}
	}
	if (optind != argc - 1) {
		iw_fail(&f, IW_E_USAGE, "scan takes exactly one IMAGE");
		fprintf(stderr, "Run 'imgward scan --help' for usage.\n");
		return iw_report_failure(&f, json, NULL);
	}
	path = argv[optind];

	extra = json_object_new_object();
	json_add_clean(extra, "filename", path);
	if (input_open(path, &in, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	/* 1. the sniffer's judgement */
	if (probe_input(&sniff_opts, &in, expect, NULL, &probe, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}
	v = iw_input_verdict(probe, IW_ROLE_SINGLE, NULL, NULL, &why);
	if (v != IW_SAFE) {
		fprintf(stderr, "imgward: %s is %s (%s); not scanning it\n",
			path, iw_verdict_name(v), why ? why : "?");
		print_findings(stderr, probe, "  ");
		if (json) {
			json_object_object_add(extra, "probe",
					       json_object_get(probe));
			iw_fail(&f, IW_E_SCAN_REFUSED, "%s is %s (%s)",
				path, iw_verdict_name(v), why ? why : "?");
			iw_report_failure(&f, true, extra);
		}
		status = verdict_exit(v);
		goto out;
	}
	format = jstr(probe, "format");

	/* 2. the scanner, told the format the sniffer found; 3. nothing it
	 * says is trusted */
	if (scan_run(&scan_opts, in.fd, format, &scan, &sandbox, &f) < 0) {
		if (sandbox && extra)
			json_object_object_add(extra, "sandbox",
					       json_object_get(sandbox));
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	/* the output, in a fixed order: ours, then the validated scan */
	out = json_object_get(extra);
	json_object_object_add(out, "format", json_object_new_string(format));
	json_object_object_add(out, "virtual-size",
			       json_object_new_int64(jint(probe, "virtual-size")));
	json_object_object_foreach(scan, key, val)
		json_object_object_add(out, key, json_object_get(val));
	json_object_object_add(out, "sandbox", json_object_get(sandbox));
	if (json)
		printf("%s\n", json_object_to_json_string_ext(
				       out, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_scan(path, out);
	status = 0;
	if (fflush(stdout) != 0) {
		iw_fail(&f, IW_E_INTERNAL, "cannot write the result: %s",
			strerror(errno));
		status = iw_report_failure(&f, false, NULL);
	}
out:
	json_object_put(out);
	json_object_put(extra);
	json_object_put(probe);
	json_object_put(scan);
	json_object_put(sandbox);
	if (in.fd >= 0)
		close(in.fd);
	return status;
}
