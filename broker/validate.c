/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Schema check of the sniffer's report. Everything in it came from a
 * process that has read hostile bytes, so every key, type, enum value and
 * size is checked, unknown keys are refused, and the verdict is
 * recomputed from the findings rather than taken on trust.
 */
#include "validate.h"

#include <string.h>

#include "probe.h"
#include "report.h"

#define MAX_STRING 16384
#define MAX_FORMAT_SPECIFIC_KEYS 256

static bool is_string(json_object *o, size_t max)
{
	return json_object_is_type(o, json_type_string) &&
	       (size_t)json_object_get_string_len(o) <= max;
}

static bool is_count(json_object *o)
{
	return json_object_is_type(o, json_type_int) &&
	       json_object_get_int64(o) >= 0;
}

static bool known_format(const char *s)
{
	return strcmp(s, "raw") == 0 || iw_format_name_is_reader(s);
}

static bool known_qemu_format(const char *s)
{
	static const char *const names[] = {
		"raw", "qcow2", "qcow", "qed", "vmdk", "vpc", "vhdx",
		"vdi", "parallels", "bochs", "luks", "cloop", "dmg",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

/* format-specific data is free-form but bounded: strings capped, no
 * depth beyond what the tokener allowed, bounded key count */
static bool check_free_form(json_object *o, unsigned depth)
{
	if (depth > 8)
		return false;
	switch (json_object_get_type(o)) {
	case json_type_null:
	case json_type_boolean:
	case json_type_double:
	case json_type_int:
		return true;
	case json_type_string:
		return is_string(o, MAX_STRING);
	case json_type_array:
		if (json_object_array_length(o) > 4096)
			return false;
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!check_free_form(json_object_array_get_idx(o, i),
					     depth + 1))
				return false;
		return true;
	case json_type_object: {
		size_t n = 0;
		json_object_object_foreach(o, k, v)
		{
			if (strlen(k) > 64 || ++n > MAX_FORMAT_SPECIFIC_KEYS ||
			    !check_free_form(v, depth + 1))
				return false;
		}
		return true;
	}
	}
	return false;
}

static bool fail_with(struct iw_failure *f, const char *what)
{
	iw_fail(f, IW_E_PROTOCOL_VIOLATION,
		"helper report failed validation: %s", what);
	return false;
}

bool validate_probe_report(json_object *rep, unsigned depth,
			   struct iw_failure *f)
{
	static const char *const allowed[] = {
		"format", "verdict", "virtual-size", "actual-size",
		"cluster-size", "backing-filename", "backing-filename-format",
		"format-specific", "references", "findings", "matches",
		"qemu-probe", "children", "findings-dropped",
		"references-dropped", "role", "name",
	};
	json_object *v, *fs_type, *fs_data, *findings, *verdict;
	enum iw_verdict computed = IW_SAFE;
	int claimed;
	bool dropped = false;

	if (depth > 4 /* IW_MAX_NESTING + 1 */)
		return fail_with(f, "nested too deeply");
	if (!json_object_is_type(rep, json_type_object))
		return fail_with(f, "report is not an object");
	{
		json_object_object_foreach(rep, key, val)
		{
			bool ok = false;
			(void)val;
			for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
				if (strcmp(key, allowed[i]) == 0)
					ok = true;
			if (!ok)
				return fail_with(f, "unknown key");
		}
	}
	if (!json_object_object_get_ex(rep, "format", &v) || !is_string(v, 32) ||
	    !known_format(json_object_get_string(v)))
		return fail_with(f, "format");
	if (!json_object_object_get_ex(rep, "verdict", &verdict) ||
	    !is_string(verdict, 16) ||
	    (claimed = iw_verdict_from_name(json_object_get_string(verdict))) < 0)
		return fail_with(f, "verdict");
	for (const char *const *k = (const char *const[]){ "virtual-size",
							   "actual-size",
							   "cluster-size",
							   "findings-dropped",
							   "references-dropped",
							   NULL };
	     *k; k++)
		if (json_object_object_get_ex(rep, *k, &v) && !is_count(v))
			return fail_with(f, *k);
	if (json_object_object_get_ex(rep, "backing-filename", &v) &&
	    !is_string(v, MAX_STRING))
		return fail_with(f, "backing-filename");
	if (json_object_object_get_ex(rep, "backing-filename-format", &v) &&
	    !is_string(v, 64))
		return fail_with(f, "backing-filename-format");
	if (json_object_object_get_ex(rep, "role", &v) && !is_string(v, 32))
		return fail_with(f, "role");
	if (json_object_object_get_ex(rep, "name", &v) &&
	    !is_string(v, MAX_STRING))
		return fail_with(f, "name");
	if (json_object_object_get_ex(rep, "qemu-probe", &v) &&
	    (!is_string(v, 32) || !known_qemu_format(json_object_get_string(v))))
		return fail_with(f, "qemu-probe");

	if (!json_object_object_get_ex(rep, "format-specific", &v) ||
	    !json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "type", &fs_type) ||
	    !is_string(fs_type, 32) ||
	    !json_object_object_get_ex(v, "data", &fs_data) ||
	    !json_object_is_type(fs_data, json_type_object) ||
	    json_object_object_length(v) != 2 || !check_free_form(fs_data, 0))
		return fail_with(f, "format-specific");

	if (!json_object_object_get_ex(rep, "references", &v) ||
	    !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > IW_REPORT_MAX_REFERENCES)
		return fail_with(f, "references");
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *ref = json_object_array_get_idx(v, i), *x;

		if (!json_object_is_type(ref, json_type_object) ||
		    !json_object_object_get_ex(ref, "type", &x) ||
		    !is_string(x, 32) ||
		    !json_object_object_get_ex(ref, "name", &x) ||
		    !is_string(x, MAX_STRING) ||
		    (json_object_object_get_ex(ref, "hex", &x) &&
		     !is_string(x, 2 * IW_REPORT_MAX_NAME)) ||
		    json_object_object_length(ref) >
			    (json_object_object_get_ex(ref, "hex", NULL) ? 3 : 2))
			return fail_with(f, "reference");
	}

	if (!json_object_object_get_ex(rep, "findings", &findings) ||
	    !json_object_is_type(findings, json_type_array) ||
	    json_object_array_length(findings) > IW_REPORT_MAX_FINDINGS)
		return fail_with(f, "findings");
	for (size_t i = 0; i < json_object_array_length(findings); i++) {
		json_object *fi = json_object_array_get_idx(findings, i), *c, *d;
		int code;

		if (!json_object_is_type(fi, json_type_object) ||
		    json_object_object_length(fi) != 2 ||
		    !json_object_object_get_ex(fi, "code", &c) ||
		    !is_string(c, 64) ||
		    (code = iw_code_from_name(json_object_get_string(c))) < 0 ||
		    !json_object_object_get_ex(fi, "detail", &d) ||
		    !is_string(d, 4 * IW_REPORT_MAX_DETAIL))
			return fail_with(f, "finding");
		if (iw_verdict_of_class(iw_code_class((enum iw_code)code)) >
		    computed)
			computed = iw_verdict_of_class(
				iw_code_class((enum iw_code)code));
	}

	if (!json_object_object_get_ex(rep, "matches", &v) ||
	    !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > 64)
		return fail_with(f, "matches");
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *m = json_object_array_get_idx(v, i);
		if (!is_string(m, 32) || !known_format(json_object_get_string(m)))
			return fail_with(f, "match");
	}

	if (json_object_object_get_ex(rep, "children", &v)) {
		if (!json_object_is_type(v, json_type_array) ||
		    json_object_array_length(v) > IW_REPORT_MAX_CHILDREN)
			return fail_with(f, "children");
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!validate_probe_report(json_object_array_get_idx(v, i),
						   depth + 1, f))
				return false;
	}

	/* The verdict is the worst class among the findings. A report that
	 * dropped findings (over the cap) may claim worse, never better. */
	dropped = json_object_object_get_ex(rep, "findings-dropped", NULL);
	if ((!dropped && (enum iw_verdict)claimed != computed) ||
	    (dropped && (enum iw_verdict)claimed < computed))
		return fail_with(f, "verdict does not follow from the findings");
	return true;
}
