/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward probe [--json] [--expect-format FMT] FILE
 *
 * Opens FILE, hands it to imgward-sniff, validates the report, applies
 * the caller's expectation, and prints JSON or a short summary.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "input.h"
#include "probe.h"
#include "report.h"
#include "validate.h"

static void help(FILE *out)
{
	fprintf(out,
		"Usage: imgward probe [OPTIONS] FILE\n"
		"\n"
		"Identify a disk image inside the sandboxed sniffer and judge\n"
		"whether it is safe to hand to qemu or to imgward's converter.\n"
		"FILE must be a regular file or a block device; symbolic links\n"
		"are refused.\n"
		"\n"
		"Options:\n"
		"  --json                  print one JSON object (README: schema)\n"
		"  --expect-format FMT     the format the image is claimed to be;\n"
		"                          anything else is unsafe (qemu names:\n"
		"                          raw, qcow2, vmdk, vpc or vhd, vhdx, vdi,\n"
		"                          qed, ...; also iso, gzip, tar)\n"
		"  -h, --help              this text\n"
		"\n%s\n%s",
		common_options_help, exit_status_help);
}

int verdict_exit(enum iw_verdict v)
{
	switch (v) {
	case IW_SAFE:
		return IW_EXIT_SAFE;
	case IW_UNSAFE:
		return IW_EXIT_UNSAFE;
	case IW_INVALID:
		return IW_EXIT_INVALID;
	case IW_UNSUPPORTED:
		return IW_EXIT_UNSUPPORTED;
	}
	return IW_EXIT_INTERNAL;
}

void json_add_clean(json_object *o, const char *key, const char *s)
{
	_cleanup_free_ char *clean = NULL;

	if (!o)
		return;
	clean = iw_sanitize(s, strlen(s), NULL);
	json_object_object_add(o, key, json_object_new_string(clean ? clean : "?"));
}

const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return -1;
}

void human_size(char *buf, size_t len, int64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRId64 " B", bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* Strings in the report were sanitised by the helper, but the helper is
 * not trusted: print through a filter that drops control characters
 * (terminal escape sequences) again. */
void put_clean(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

void print_findings(FILE *out, json_object *rep, const char *indent)
{
	json_object *a;

	if (json_object_object_get_ex(rep, "findings", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *fi = json_object_array_get_idx(a, i);
			fprintf(out, "%s- ", indent);
			put_clean(out, jstr(fi, "code"));
			fputs(": ", out);
			put_clean(out, jstr(fi, "detail"));
			fputc('\n', out);
		}
	if (json_object_object_get_ex(rep, "references", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *ref = json_object_array_get_idx(a, i);
			fprintf(out, "%s> references %s \"", indent,
				jstr(ref, "type"));
			put_clean(out, jstr(ref, "name"));
			fputs("\" (not opened)\n", out);
		}
}

void print_human(const char *path, json_object *out_obj)
{
	char vs[32], as[32];
	int64_t vsize = jint(out_obj, "virtual-size");
	json_object *children, *sb;

	human_size(as, sizeof(as), jint(out_obj, "actual-size") < 0
					   ? 0
					   : jint(out_obj, "actual-size"));
	put_clean(stdout, path);
	if (vsize >= 0) {
		human_size(vs, sizeof(vs), vsize);
		printf(": %s, virtual size %s (%" PRId64 " bytes), %s on disk\n",
		       jstr(out_obj, "format"), vs, vsize, as);
	} else {
		printf(": %s, virtual size unknown, %s on disk\n",
		       jstr(out_obj, "format"), as);
	}
	printf("verdict: %s\n", jstr(out_obj, "verdict"));
	print_findings(stdout, out_obj, "  ");
	if (json_object_object_get_ex(out_obj, "children", &children))
		for (size_t i = 0; i < json_object_array_length(children); i++) {
			json_object *c = json_object_array_get_idx(children, i);
			printf("  %s ", jstr(c, "role"));
			put_clean(stdout, jstr(c, "name") ? jstr(c, "name") : "");
			printf(": %s, %s\n", jstr(c, "format"), jstr(c, "verdict"));
			print_findings(stdout, c, "    ");
		}
	printf("qemu's auto-detection would pick: %s\n",
	       jstr(out_obj, "qemu-probe") ? jstr(out_obj, "qemu-probe") : "?");
	if (json_object_object_get_ex(out_obj, "sandbox", &sb)) {
		json_object *ll = NULL, *ns;
		printf("sandbox: seccomp %s, capabilities %s, landlock ",
		       jstr(sb, "seccomp"), jstr(sb, "capabilities"));
		if (json_object_object_get_ex(sb, "landlock", &ll) &&
		    jint(ll, "abi") > 0)
			printf("ABI %" PRId64, jint(ll, "abi"));
		else
			printf("unavailable");
		if (json_object_object_get_ex(sb, "namespaces", &ns) &&
		    json_object_array_length(ns) > 0)
			printf(", %zu namespaces", json_object_array_length(ns));
		else
			printf(", no namespaces");
		printf(", AppArmor %s\n", jstr(sb, "apparmor"));
	}
}

/*
 * Run the sniffer on an opened input and build the probe's output object:
 * extra's keys (e.g. "filename"), the validated report, the broker's own
 * actual-size, the --expect-format check, and the verified sandbox.
 * Shared by probe and convert (which refuses what probe would not call
 * safe). 0 with *ret_out set, or -1 with f set (extra may then have
 * gained "sandbox").
 */
int probe_input(const struct common_options *common,
		const struct input_file *in, const char *expect,
		json_object *extra, json_object **ret_out,
		struct iw_failure *f)
{
	struct helper_outcome outcome = { 0 };
	struct helper_job job = { 0 };
	json_object *report, *out;

	common_options_job(common, "sniff", &job);
	job.fds = &in->fd;
	job.n_fds = 1;
	if (helper_run(&job, &outcome, f) < 0) {
		if (outcome.sandbox && extra)
			json_object_object_add(extra, "sandbox",
					       json_object_get(outcome.sandbox));
		helper_outcome_done(&outcome);
		return -1;
	}
	if (!json_object_object_get_ex(outcome.result, "report", &report) ||
	    !validate_probe_report(report, 0, f)) {
		if (f->code == IW_OK)
			iw_fail(f, IW_E_PROTOCOL_VIOLATION,
				"helper result has no report");
		helper_outcome_done(&outcome);
		return -1;
	}

	/* Rebuild the output from the validated report, in a fixed order. */
	out = extra ? json_object_get(extra) : json_object_new_object();
	if (!out) {
		helper_outcome_done(&outcome);
		iw_fail(f, IW_E_INTERNAL, "out of memory");
		return -1;
	}
	json_object_object_foreach(report, key, val)
	{
		if (strcmp(key, "actual-size") == 0)
			continue;
		json_object_object_add(out, key, json_object_get(val));
	}
	/* actual-size is ours: the helper cannot fstat */
	json_object_object_add(out, "actual-size",
			       json_object_new_int64(
				       in->block_device
					       ? (int64_t)in->size
					       : (int64_t)in->st.st_blocks * 512));

	if (expect) {
		const char *fmt = jstr(out, "format");
		const char *matches[64];
		size_t n = 0;
		json_object *m;

		if (json_object_object_get_ex(out, "matches", &m))
			for (size_t i = 0;
			     i < json_object_array_length(m) && n < 64; i++)
				matches[n++] = json_object_get_string(
					json_object_array_get_idx(m, i));
		if (!iw_format_satisfies(fmt, matches, n, expect)) {
			json_object *fi = json_object_new_object(), *arr;
			char detail[160];

			snprintf(detail, sizeof(detail),
				 "expected %s, but the file is %s", expect, fmt);
			json_object_object_add(
				fi, "code",
				json_object_new_string(
					iw_code_name(IW_F_FORMAT_MISMATCH)));
			json_object_object_add(fi, "detail",
					       json_object_new_string(detail));
			if (json_object_object_get_ex(out, "findings", &arr))
				json_object_array_add(arr, fi);
			else
				json_object_put(fi);
			json_object_object_add(
				out, "verdict",
				json_object_new_string(iw_verdict_name(IW_UNSAFE)));
		}
		json_object_object_add(out, "expected-format",
				       json_object_new_string(expect));
	}
	json_object_object_add(out, "sandbox", json_object_get(outcome.sandbox));
	helper_outcome_done(&outcome);
	*ret_out = out;
	return 0;
}

int cmd_probe(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "expect-format", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{ 0 },
	};
	struct common_options common;
	struct input_file in = { .fd = -1 };
	struct iw_failure f = { 0 };
	const char *expect = NULL, *path;
	json_object *out = NULL, *extra = NULL;
	bool json = false;
	int opt, status;

	if (common_options_init(&common, "sniff", &f) < 0)
		return iw_report_failure(&f, false, NULL);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'e':
			expect = optarg;
			if (!iw_format_name_known(expect)) {
				iw_fail(&f, IW_E_USAGE,
					"--expect-format %s: unknown format",
					expect);
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
			if (common_options_parse(&common, opt, optarg, &f) < 0)
				return iw_report_failure(&f, json, NULL);
		}
	}
	if (optind != argc - 1) {
		iw_fail(&f, IW_E_USAGE, "probe takes exactly one FILE");
		fprintf(stderr, "Run 'imgward probe --help' for usage.\n");
		return iw_report_failure(&f, json, NULL);
	}
	path = argv[optind];

	extra = json_object_new_object();
	json_add_clean(extra, "filename", path);

	if (input_open(path, &in, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	if (probe_input(&common, &in, expect, extra, &out, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	if (json)
		printf("%s\n", json_object_to_json_string_ext(
				       out, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_human(path, out);
	status = verdict_exit(
		(enum iw_verdict)iw_verdict_from_name(jstr(out, "verdict")));
	if (fflush(stdout) != 0) {
		iw_fail(&f, IW_E_INTERNAL, "cannot write the result: %s",
			strerror(errno));
		status = iw_report_failure(&f, false, NULL);
	}
out:
	json_object_put(out);
	json_object_put(extra);
	if (in.fd >= 0)
		close(in.fd);
	return status;
}
