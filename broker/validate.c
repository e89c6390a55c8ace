/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Schema check of the sniffer's report. Everything in it came from a
 * process that has read hostile bytes, so every key, type, enum value and
 * size is checked, unknown keys are refused, and the verdict is
 * recomputed from the findings rather than taken on trust. The same for
 * the scanner's result (validate_scan_report).
 */
#include "validate.h"

#include <stdio.h>
#include <string.h>

#include "formats/part.h"
#include "probe.h"
#include "report.h"
#include "scan/diag.h"
#include "scan/fsid.h"
#include "scan/ntfs.h"
#include "scan/scan.h"
#include "scan/windows.h"

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

/* ---- imgward-ntfs's scan -------------------------------------------- */

/* Bounds of the scan JSON (lib/scan/scan.c builds it): guest strings are
 * sanitised, so a byte may have become U+FFFD (3 bytes). */
#define SCAN_MAX_PARTITIONS (PART_MAX_ENTRIES + 1) /* + whole disk */
#define SCAN_MAX_INDEX 65535
#define SCAN_MAX_PROBLEMS (2 * IW_DIAG_MAX)	  /* disk: + map's */
#define SCAN_MAX_MESSAGE (3 * IW_DIAG_MSG_MAX + 512)
#define SCAN_MAX_LABEL (3 * FSID_LABEL_MAX)
#define SCAN_MAX_GUEST_STRING (3 * 256)

static bool is_null(json_object *o)
{
	return o == NULL;
}

static bool is_bool(json_object *o)
{
	return json_object_is_type(o, json_type_boolean);
}

static bool is_int_in(json_object *o, int64_t lo, int64_t hi)
{
	return json_object_is_type(o, json_type_int) &&
	       json_object_get_int64(o) >= lo && json_object_get_int64(o) <= hi;
}

/* A string from the guest, as iw_sanitize left it: bounded, no control
 * characters (a terminal escape must not get through a lying helper). */
static bool is_clean_string(json_object *o, size_t max)
{
	const char *s;

	if (!is_string(o, max))
		return false;
	for (s = json_object_get_string(o); *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	/* an embedded NUL would hide the rest from C code */
	return strlen(json_object_get_string(o)) ==
	       (size_t)json_object_get_string_len(o);
}

static bool is_clean_or_null(json_object *o, size_t max)
{
	return is_null(o) || is_clean_string(o, max);
}

/* "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", as part_guid_to_string. */
static bool is_guid(json_object *o)
{
	const char *s;

	if (!is_string(o, 36) || json_object_get_string_len(o) != 36)
		return false;
	s = json_object_get_string(o);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
			     (s[i] >= 'A' && s[i] <= 'F'))) {
			return false;
		}
	}
	return true;
}

/* "0x" and exactly digits lowercase hex digits */
static bool is_hex_string(json_object *o, int digits, bool prefix, bool upper)
{
	const char *s;
	int n = digits + (prefix ? 2 : 0);

	if (!is_string(o, (size_t)n) || json_object_get_string_len(o) != n)
		return false;
	s = json_object_get_string(o);
	if (prefix && (s[0] != '0' || s[1] != 'x'))
		return false;
	for (int i = prefix ? 2 : 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (!upper && s[i] >= 'a' && s[i] <= 'f') ||
		      (upper && s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static bool only_keys(json_object *o, const char *const *keys, size_t n)
{
	json_object_object_foreach(o, key, val)
	{
		bool ok = false;
		(void)val;
		for (size_t i = 0; i < n; i++)
			if (strcmp(key, keys[i]) == 0)
				ok = true;
		if (!ok)
			return false;
	}
	return true;
}

/* Every key present (values may be null), none other. */
static bool exactly_keys(json_object *o, const char *const *keys, size_t n)
{
	if (!json_object_is_type(o, json_type_object) ||
	    (size_t)json_object_object_length(o) != n || !only_keys(o, keys, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!json_object_object_get_ex(o, keys[i], NULL))
			return false;
	return true;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static bool check_problems(json_object *a)
{
	static const char *const keys[] = { "code", "message" };

	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > SCAN_MAX_PROBLEMS)
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *p = json_object_array_get_idx(a, i);

		if (!exactly_keys(p, keys, ARRAY_SIZE(keys)) ||
		    !is_string(get(p, "code"), 64) ||
		    iw_diag_code_from_name(json_object_get_string(
			    get(p, "code"))) < 0 ||
		    !is_clean_string(get(p, "message"), SCAN_MAX_MESSAGE))
			return false;
	}
	return true;
}

static bool check_table(json_object *t)
{
	static const char *const gpt[] = { "type", "disk-guid", "hybrid-mbr",
					   "backup-gpt-used" };
	static const char *const mbr[] = { "type", "disk-signature",
					   "hybrid-mbr", "backup-gpt-used" };
	const char *type;

	if (is_null(t))
		return true;
	if (!json_object_is_type(t, json_type_object) ||
	    !is_string(get(t, "type"), 8))
		return false;
	type = json_object_get_string(get(t, "type"));
	if (strcmp(type, "gpt") == 0)
		return exactly_keys(t, gpt, ARRAY_SIZE(gpt)) &&
		       is_guid(get(t, "disk-guid")) &&
		       is_bool(get(t, "hybrid-mbr")) &&
		       is_bool(get(t, "backup-gpt-used"));
	if (strcmp(type, "mbr") == 0)
		return exactly_keys(t, mbr, ARRAY_SIZE(mbr)) &&
		       is_hex_string(get(t, "disk-signature"), 8, true, false) &&
		       /* an MBR table is never a hybrid or a backup GPT */
		       is_bool(get(t, "hybrid-mbr")) &&
		       !json_object_get_boolean(get(t, "hybrid-mbr")) &&
		       is_bool(get(t, "backup-gpt-used")) &&
		       !json_object_get_boolean(get(t, "backup-gpt-used"));
	return false;
}

static bool known_filesystem(const char *s)
{
	/* lib/scan/fsid.h: blkid's TYPE names */
	static const char *const names[] = IW_SCAN_FILESYSTEMS;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

static bool is_size_pow2(json_object *o, int64_t lo, int64_t hi)
{
	return is_int_in(o, lo, hi) &&
	       is_power_of_2((uint64_t)json_object_get_int64(o));
}

static bool check_ntfs(json_object *n)
{
	static const char *const keys[] = {
		"version", "label", "serial", "dirty", "cluster-size",
		"mft-record-size", "hiberfil", "hibernated",
	};
	json_object *ver = get(n, "version");

	if (is_null(n))
		return true;
	if (!exactly_keys(n, keys, ARRAY_SIZE(keys)))
		return false;
	/* "3.1": digits, a dot, digits (two bytes from $Volume) */
	if (!is_null(ver)) {
		unsigned a, b;
		char extra;

		if (!is_string(ver, 7) ||
		    sscanf(json_object_get_string(ver), "%3u.%3u%c", &a, &b,
			   &extra) != 2 || a > 255 || b > 255)
			return false;
	}
	/* NTFS_LABEL_MAX, sanitised */
	return is_clean_or_null(get(n, "label"), 3 * NTFS_LABEL_MAX) &&
	       is_hex_string(get(n, "serial"), 16, false, true) &&
	       (is_null(get(n, "dirty")) || is_bool(get(n, "dirty"))) &&
	       is_size_pow2(get(n, "cluster-size"), 256, 2 << 20) &&
	       is_size_pow2(get(n, "mft-record-size"), 256, 64 << 10) &&
	       is_bool(get(n, "hiberfil")) && is_bool(get(n, "hibernated"));
}

static bool check_flags(json_object *a)
{
	static const char *const names[] = {
		"bootable", "logical", "required", "legacy-bios-bootable",
		"read-only", "hidden", "no-automount",
	};
	unsigned seen = 0;

	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > ARRAY_SIZE(names))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *f = json_object_array_get_idx(a, i);
		size_t k;

		if (!is_string(f, 32))
			return false;
		for (k = 0; k < ARRAY_SIZE(names); k++)
			if (strcmp(json_object_get_string(f), names[k]) == 0)
				break;
		if (k == ARRAY_SIZE(names) || (seen & (1u << k)))
			return false;
		seen |= 1u << k;
	}
	return true;
}

static bool check_partition(json_object *p, bool have_table, bool gpt)
{
	static const char *const keys[] = {
		"index", "start", "size", "type", "type-name", "name", "guid",
		"flags", "filesystem", "filesystem-version", "label", "uuid",
		"ntfs", "problems",
	};
	json_object *type = get(p, "type"), *fs = get(p, "filesystem");

	if (!exactly_keys(p, keys, ARRAY_SIZE(keys)) ||
	    !is_int_in(get(p, "index"), have_table ? 1 : 0,
		       have_table ? SCAN_MAX_INDEX : 0) ||
	    !is_int_in(get(p, "start"), 0, INT64_MAX) ||
	    !is_int_in(get(p, "size"), 0, INT64_MAX))
		return false;
	/* the type is the table's: a GUID, an MBR ID, or none at all for
	 * a whole-disk filesystem */
	if (!have_table ? !is_null(type)
	    : gpt	? !is_guid(type)
			: !is_hex_string(type, 2, true, false))
		return false;
	if (!is_clean_or_null(get(p, "type-name"), 64) ||
	    !is_clean_or_null(get(p, "name"), 3 * PART_NAME_MAX) ||
	    (gpt ? !is_guid(get(p, "guid")) : !is_null(get(p, "guid"))) ||
	    (!gpt && !is_null(get(p, "name"))) ||
	    !check_flags(get(p, "flags")))
		return false;
	if (!is_null(fs) && (!is_string(fs, 16) ||
			     !known_filesystem(json_object_get_string(fs))))
		return false;
	if (!is_clean_or_null(get(p, "filesystem-version"), 48) ||
	    !is_clean_or_null(get(p, "label"), SCAN_MAX_LABEL) ||
	    !is_clean_or_null(get(p, "uuid"), 3 * FSID_UUID_MAX))
		return false;
	/* NTFS details only for an NTFS filesystem */
	if (!is_null(get(p, "ntfs")) &&
	    (is_null(fs) || strcmp(json_object_get_string(fs), "ntfs") != 0))
		return false;
	return check_ntfs(get(p, "ntfs")) && check_problems(get(p, "problems"));
}

static bool check_windows(json_object *w, json_object *parts)
{
	static const char *const keys[] = {
		"product-name", "major", "minor", "build", "current-version",
		"edition", "installation-type", "arch", "hostname",
		"systemroot", "partition", "control-set", "virtio-drivers",
		"virtio-installed",
	};
	static const char *const strings[] = {
		"product-name", "build", "current-version", "edition",
		"installation-type", "arch", "hostname",
	};
	static const char *const drivers[] = WIN_VIRTIO_DRIVERS;
	static const char *const dkeys[] = { "service", "start", "file" };
	json_object *vd, *m;
	bool installed = false, found = false;
	int64_t part;

	if (is_null(w))
		return true;
	if (!exactly_keys(w, keys, ARRAY_SIZE(keys)))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
		if (!is_clean_or_null(get(w, strings[i]), SCAN_MAX_GUEST_STRING))
			return false;
	for (const char *const *k = (const char *const[]){ "major", "minor",
							   NULL };
	     *k; k++) {
		m = get(w, *k);
		if (!is_null(m) && !is_int_in(m, 0, UINT32_MAX))
			return false;
	}
	/* a Windows object exists only because a system root was found */
	if (!is_clean_string(get(w, "systemroot"), 3 * 64) ||
	    json_object_get_string_len(get(w, "systemroot")) == 0 ||
	    (!is_null(get(w, "control-set")) &&
	     !is_int_in(get(w, "control-set"), 1, 999)) ||
	    !is_int_in(get(w, "partition"), 0, SCAN_MAX_INDEX) ||
	    !is_bool(get(w, "virtio-installed")))
		return false;
	vd = get(w, "virtio-drivers");
	if (!exactly_keys(vd, drivers, ARRAY_SIZE(drivers)))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
		json_object *d = get(vd, drivers[i]);

		if (!exactly_keys(d, dkeys, ARRAY_SIZE(dkeys)) ||
		    !is_bool(get(d, "service")) ||
		    (!is_null(get(d, "start")) &&
		     !is_int_in(get(d, "start"), 0, UINT32_MAX)) ||
		    !is_bool(get(d, "file")))
			return false;
		if ((strcmp(drivers[i], "viostor") == 0 ||
		     strcmp(drivers[i], "vioscsi") == 0) &&
		    json_object_get_boolean(get(d, "service")) &&
		    json_object_get_boolean(get(d, "file")))
			installed = true;
	}
	if (json_object_get_boolean(get(w, "virtio-installed")) != installed)
		return false;
	/* it names a listed NTFS volume */
	part = json_object_get_int64(get(w, "partition"));
	for (size_t i = 0; i < json_object_array_length(parts); i++) {
		json_object *p = json_object_array_get_idx(parts, i);

		if (json_object_get_int64(get(p, "index")) == part &&
		    !is_null(get(p, "ntfs")))
			found = true;
	}
	return found;
}

bool validate_scan_report(json_object *scan, struct iw_failure *f)
{
	static const char *const keys[] = { "partition-table", "partitions",
					    "windows", "hibernated",
					    "problems" };
	json_object *table, *parts;
	bool have_table, gpt = false, hibernated = false;
	uint64_t seen[(SCAN_MAX_INDEX + 1) / 64] = { 0 };

	if (!exactly_keys(scan, keys, ARRAY_SIZE(keys)))
		return fail_with(f, "scan keys");
	table = get(scan, "partition-table");
	if (!check_table(table))
		return fail_with(f, "partition-table");
	have_table = !is_null(table);
	if (have_table)
		gpt = strcmp(json_object_get_string(get(table, "type")), "gpt") ==
		      0;
	parts = get(scan, "partitions");
	if (!json_object_is_type(parts, json_type_array) ||
	    json_object_array_length(parts) >
		    (have_table ? PART_MAX_ENTRIES : 1))
		return fail_with(f, "partitions");
	for (size_t i = 0; i < json_object_array_length(parts); i++) {
		json_object *p = json_object_array_get_idx(parts, i), *n;
		int64_t index;

		if (!check_partition(p, have_table, gpt))
			return fail_with(f, "partition");
		index = json_object_get_int64(get(p, "index"));
		if (seen[index / 64] & (UINT64_C(1) << (index % 64)))
			return fail_with(f, "duplicate partition index");
		seen[index / 64] |= UINT64_C(1) << (index % 64);
		n = get(p, "ntfs");
		if (!is_null(n) && json_object_get_boolean(get(n, "hibernated")))
			hibernated = true;
	}
	if (!check_windows(get(scan, "windows"), parts))
		return fail_with(f, "windows");
	/* hibernated follows from the volumes (the Windows one is among
	 * them) */
	if (!is_bool(get(scan, "hibernated")) ||
	    json_object_get_boolean(get(scan, "hibernated")) != hibernated)
		return fail_with(f, "hibernated");
	if (!check_problems(get(scan, "problems")))
		return fail_with(f, "problems");
	return true;
}
