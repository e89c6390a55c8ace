/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	enum iw_class cls;
	const char *desc;
} codes[] = {
#define FINDING(id, n, c, d) [IW_F_##id] = { n, IW_CLASS_##c, d },
#include "findings.def"
#undef FINDING
};

const char *iw_code_name(enum iw_code code)
{
	return (unsigned)code < ARRAY_SIZE(codes) ? codes[code].name : "?";
}

enum iw_class iw_code_class(enum iw_code code)
{
	return (unsigned)code < ARRAY_SIZE(codes) ? codes[code].cls
						  : IW_CLASS_INVALID;
}

const char *iw_code_description(enum iw_code code)
{
	return (unsigned)code < ARRAY_SIZE(codes) ? codes[code].desc : "?";
}

int iw_code_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (strcmp(codes[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *const verdict_names[] = {
	[IW_SAFE] = "safe",
	[IW_UNSUPPORTED] = "unsupported",
	[IW_INVALID] = "invalid",
	[IW_UNSAFE] = "unsafe",
};

const char *iw_verdict_name(enum iw_verdict v)
{
	return (unsigned)v < ARRAY_SIZE(verdict_names) ? verdict_names[v] : "?";
}

int iw_verdict_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verdict_names); i++)
		if (strcmp(verdict_names[i], name) == 0)
			return (int)i;
	return -1;
}

enum iw_verdict iw_verdict_of_class(enum iw_class c)
{
	switch (c) {
	case IW_CLASS_UNSAFE:
		return IW_UNSAFE;
	case IW_CLASS_INVALID:
		return IW_INVALID;
	case IW_CLASS_UNSUPPORTED:
		return IW_UNSUPPORTED;
	case IW_CLASS_INFO:
		break;
	}
	return IW_SAFE;
}

int iw_report_init(struct iw_report *r)
{
	*r = (struct iw_report){
		.format = "raw",
		.virtual_size = -1,
		.actual_size = -1,
		.cluster_size = -1,
		.verdict = IW_SAFE,
	};
	r->references = json_object_new_array();
	r->findings = json_object_new_array();
	r->matches = json_object_new_array();
	r->children = json_object_new_array();
	if (!r->references || !r->findings || !r->matches || !r->children) {
		iw_report_done(r);
		return -ENOMEM;
	}
	return 0;
}

void iw_report_done(struct iw_report *r)
{
	json_object_put(r->format_specific_data);
	json_object_put(r->references);
	json_object_put(r->findings);
	json_object_put(r->matches);
	json_object_put(r->children);
	free(r->backing_filename);
	free(r->backing_format);
	*r = (struct iw_report){ 0 };
}

/* Decode one UTF-8 sequence at s[0..len); returns its length, or 0 if it
 * is not a valid, shortest-form, non-surrogate encoding. */
static size_t utf8_seq(const uint8_t *s, size_t len, uint32_t *ret_cp)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

char *iw_sanitize(const void *bytes, size_t len, bool *ret_lossless)
{
	const uint8_t *s = bytes;
	bool lossless = true;
	char *out, *o;
	size_t i = 0;

	/* worst case: every byte becomes U+FFFD (3 bytes) */
	if (len > IW_REPORT_MAX_NAME)
		len = IW_REPORT_MAX_NAME, lossless = false;
	out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	o = out;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_seq(s + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0)) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			lossless = false;
			i += n ? n : 1;
			continue;
		}
		memcpy(o, s + i, n);
		o += n;
		i += n;
	}
	*o = '\0';
	if (ret_lossless)
		*ret_lossless = lossless;
	return out;
}

char *iw_hex(const void *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *s = bytes;
	char *out;

	if (len > IW_REPORT_MAX_NAME)
		len = IW_REPORT_MAX_NAME;
	out = malloc(len * 2 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 15];
	}
	out[len * 2] = '\0';
	return out;
}

static void raise_verdict(struct iw_report *r, enum iw_code code)
{
	enum iw_verdict v = iw_verdict_of_class(iw_code_class(code));

	if (v > r->verdict)
		r->verdict = v;
}

void iw_finding(struct iw_report *r, enum iw_code code, const char *fmt, ...)
{
	char detail[IW_REPORT_MAX_DETAIL];
	_cleanup_free_ char *clean = NULL;
	json_object *f;
	va_list ap;

	raise_verdict(r, code);

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* details may quote image bytes; keep the JSON valid */
	clean = iw_sanitize(detail, strlen(detail), NULL);

	for (size_t i = 0; i < json_object_array_length(r->findings); i++) {
		json_object *e = json_object_array_get_idx(r->findings, i);
		json_object *c, *d;

		if (json_object_object_get_ex(e, "code", &c) &&
		    json_object_object_get_ex(e, "detail", &d) &&
		    strcmp(json_object_get_string(c), iw_code_name(code)) == 0 &&
		    clean && strcmp(json_object_get_string(d), clean) == 0)
			return;
	}
	if (json_object_array_length(r->findings) >= IW_REPORT_MAX_FINDINGS ||
	    !clean) {
		r->n_findings_dropped++;
		return;
	}
	f = json_object_new_object();
	if (!f) {
		r->n_findings_dropped++;
		return;
	}
	json_object_object_add(f, "code",
			       json_object_new_string(iw_code_name(code)));
	json_object_object_add(f, "detail", json_object_new_string(clean));
	if (json_object_array_add(r->findings, f) < 0) {
		json_object_put(f);
		r->n_findings_dropped++;
	}
}

/* qemu treats "<proto>:..." (a colon before any slash) and "json:{...}"
 * as protocol specifications rather than file names (block.c
 * path_has_protocol); CVE-2024-4467 is the json: case. */
static bool name_is_protocol(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '/')
			return false;
		if (s[i] == ':')
			return i > 0;
	}
	return false;
}

static json_object *sanitized_string(const void *bytes, size_t len,
				     json_object *holder, const char *key)
{
	_cleanup_free_ char *clean = NULL;
	bool lossless;

	clean = iw_sanitize(bytes, len, &lossless);
	if (!clean)
		return NULL;
	json_object_object_add(holder, key, json_object_new_string(clean));
	if (!lossless) {
		_cleanup_free_ char *hex = iw_hex(bytes, len);
		if (hex)
			json_object_object_add(holder, "hex",
					       json_object_new_string(hex));
	}
	return holder;
}

void iw_reference(struct iw_report *r, const char *kind, const void *name,
		  size_t len)
{
	json_object *ref;

	if (name_is_protocol(name, len))
		iw_finding(r, IW_F_PROTOCOL_REFERENCE,
			   "%s is a protocol or json: specification", kind);
	if (json_object_array_length(r->references) >=
	    IW_REPORT_MAX_REFERENCES) {
		r->n_references_dropped++;
		return;
	}
	ref = json_object_new_object();
	if (!ref) {
		r->n_references_dropped++;
		return;
	}
	json_object_object_add(ref, "type", json_object_new_string(kind));
	if (!sanitized_string(name, len, ref, "name") ||
	    json_object_array_add(r->references, ref) < 0) {
		json_object_put(ref);
		r->n_references_dropped++;
	}
}

json_object *iw_report_fs(struct iw_report *r)
{
	if (!r->format_specific_data)
		r->format_specific_data = json_object_new_object();
	return r->format_specific_data;
}

void iw_fs_set_int(struct iw_report *r, const char *key, int64_t v)
{
	json_object *fs = iw_report_fs(r);
	if (fs)
		json_object_object_add(fs, key, json_object_new_int64(v));
}

void iw_fs_set_bool(struct iw_report *r, const char *key, bool v)
{
	json_object *fs = iw_report_fs(r);
	if (fs)
		json_object_object_add(fs, key, json_object_new_boolean(v));
}

void iw_fs_set_str(struct iw_report *r, const char *key, const char *v)
{
	json_object *fs = iw_report_fs(r);
	if (fs)
		json_object_object_add(fs, key, json_object_new_string(v));
}

void iw_fs_set_bytes(struct iw_report *r, const char *key, const void *b,
		     size_t len)
{
	_cleanup_free_ char *clean = iw_sanitize(b, len, NULL);
	if (clean)
		iw_fs_set_str(r, key, clean);
}

void iw_report_add_match(struct iw_report *r, const char *format)
{
	for (size_t i = 0; i < json_object_array_length(r->matches); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(
				   r->matches, i)),
			   format) == 0)
			return;
	json_object_array_add(r->matches, json_object_new_string(format));
}

void iw_report_set_backing(struct iw_report *r, const void *name, size_t len,
			   const char *format)
{
	free(r->backing_filename);
	r->backing_filename = iw_sanitize(name, len, NULL);
	free(r->backing_format);
	r->backing_format = format ? iw_sanitize(format, strlen(format), NULL)
				   : NULL;
	iw_reference(r, "backing-file", name, len);
}

int iw_report_add_child(struct iw_report *r, const char *role,
			const char *name, struct iw_report *child)
{
	json_object *j;

	if (child->verdict == IW_UNSAFE)
		iw_finding(r, IW_F_NESTED_UNSAFE, "%s%s%s is unsafe", role,
			   name ? " " : "", name ? name : "");
	if (json_object_array_length(r->children) >= IW_REPORT_MAX_CHILDREN) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "more than %d nested reports",
			   IW_REPORT_MAX_CHILDREN);
		return 0;
	}
	j = iw_report_to_json(child);
	if (!j)
		return -ENOMEM;
	json_object_object_add(j, "role", json_object_new_string(role));
	if (name) {
		bool lossless;
		_cleanup_free_ char *clean =
			iw_sanitize(name, strlen(name), &lossless);
		if (clean)
			json_object_object_add(j, "name",
					       json_object_new_string(clean));
	}
	if (json_object_array_add(r->children, j) < 0) {
		json_object_put(j);
		return -ENOMEM;
	}
	return 0;
}

size_t iw_report_copy_findings(struct iw_report *dst,
			       const struct iw_report *src, int skip_code,
			       const char *prefix)
{
	size_t n = src->findings ? json_object_array_length(src->findings) : 0;
	size_t copied = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(src->findings, i);
		json_object *c, *d;
		int code;

		if (!json_object_object_get_ex(e, "code", &c) ||
		    !json_object_object_get_ex(e, "detail", &d))
			continue;
		code = iw_code_from_name(json_object_get_string(c));
		if (code < 0 || code == skip_code ||
		    iw_code_class((enum iw_code)code) == IW_CLASS_INFO)
			continue;
		iw_finding(dst, (enum iw_code)code, "%s%s", prefix ? prefix : "",
			   json_object_get_string(d));
		copied++;
	}
	return copied;
}

static void add_int_or_skip(json_object *o, const char *key, int64_t v)
{
	if (v >= 0)
		json_object_object_add(o, key, json_object_new_int64(v));
}

json_object *iw_report_to_json(const struct iw_report *r)
{
	json_object *o = json_object_new_object();
	json_object *fs;

	if (!o)
		return NULL;
	json_object_object_add(o, "format", json_object_new_string(r->format));
	json_object_object_add(o, "verdict",
			       json_object_new_string(
				       iw_verdict_name(r->verdict)));
	add_int_or_skip(o, "virtual-size", r->virtual_size);
	add_int_or_skip(o, "actual-size", r->actual_size);
	add_int_or_skip(o, "cluster-size", r->cluster_size);
	if (r->backing_filename)
		json_object_object_add(
			o, "backing-filename",
			json_object_new_string(r->backing_filename));
	if (r->backing_format)
		json_object_object_add(
			o, "backing-filename-format",
			json_object_new_string(r->backing_format));
	fs = json_object_new_object();
	if (fs) {
		json_object_object_add(fs, "type",
				       json_object_new_string(r->format));
		json_object_object_add(
			fs, "data",
			r->format_specific_data
				? json_object_get(r->format_specific_data)
				: json_object_new_object());
		json_object_object_add(o, "format-specific", fs);
	}
	json_object_object_add(o, "references", json_object_get(r->references));
	json_object_object_add(o, "findings", json_object_get(r->findings));
	json_object_object_add(o, "matches", json_object_get(r->matches));
	if (r->qemu_probe)
		json_object_object_add(o, "qemu-probe",
				       json_object_new_string(r->qemu_probe));
	if (json_object_array_length(r->children) > 0)
		json_object_object_add(o, "children",
				       json_object_get(r->children));
	if (r->n_findings_dropped)
		json_object_object_add(
			o, "findings-dropped",
			json_object_new_int64(r->n_findings_dropped));
	if (r->n_references_dropped)
		json_object_object_add(
			o, "references-dropped",
			json_object_new_int64(r->n_references_dropped));
	return o;
}
