/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a format reader tells us about an image: the report.
 *
 * Readers fill a struct iw_report through these calls; the sniffer turns
 * it into JSON (iw_report_to_json) for the broker. Strings that come from
 * the image (reference names, labels) are arbitrary bytes: the report
 * stores them as valid UTF-8 and keeps the exact bytes in hex when the
 * text had to be altered, so nothing an attacker writes can break the
 * JSON or a terminal.
 */
#ifndef IW_REPORT_H
#define IW_REPORT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum iw_class {
	IW_CLASS_INFO,
	IW_CLASS_UNSUPPORTED,
	IW_CLASS_INVALID,
	IW_CLASS_UNSAFE,
};

enum iw_code {
#define FINDING(id, name, cls, desc) IW_F_##id,
#include "findings.def"
#undef FINDING
	_IW_F_MAX,
};

enum iw_verdict {
	IW_SAFE,
	IW_UNSUPPORTED,
	IW_INVALID,
	IW_UNSAFE,
};

const char *iw_code_name(enum iw_code code);
enum iw_class iw_code_class(enum iw_code code);
const char *iw_code_description(enum iw_code code);
/* -1 if unknown */
int iw_code_from_name(const char *name);
const char *iw_verdict_name(enum iw_verdict v);
int iw_verdict_from_name(const char *name);
enum iw_verdict iw_verdict_of_class(enum iw_class c);

/* Limits that keep a report (and so the helper's JSON) bounded. */
#define IW_REPORT_MAX_FINDINGS 64
#define IW_REPORT_MAX_REFERENCES 64
#define IW_REPORT_MAX_DETAIL 256
#define IW_REPORT_MAX_NAME 4096
#define IW_REPORT_MAX_CHILDREN 64

struct iw_report {
	const char *format;  /* static string, qemu's name where it has one */
	int64_t virtual_size; /* -1: unknown */
	int64_t actual_size;  /* -1: unknown */
	int64_t cluster_size; /* -1: not applicable */
	json_object *format_specific_data; /* {"type": format, "data": this} */
	json_object *references;	   /* array of {type, name[, hex]} */
	json_object *findings;		   /* array of {code, detail} */
	json_object *matches;		   /* array of strings */
	json_object *children;		   /* array of nested report objects */
	char *backing_filename;		   /* qemu's backing-filename, sanitised */
	char *backing_format;
	const char *qemu_probe;
	enum iw_verdict verdict; /* worst class seen so far */
	unsigned n_findings_dropped;
	unsigned n_references_dropped;
	unsigned depth; /* nesting: wrappers and archives */
	/* Set by readers whose guest data starts at file offset 0 as plain
	 * bytes (a fixed VHD is a raw disk plus a footer): an MBR, GPT or ISO
	 * found at the start then belongs to the guest, not to a polyglot. */
	bool payload_at_zero;
	/* With payload_at_zero: how many bytes from 0 are guest data (the
	 * content readers see only those, so a GPT's backup header is looked
	 * for at the guest disk's end, not the footer). 0: the whole file. */
	uint64_t payload_size;
};

int iw_report_init(struct iw_report *r);
void iw_report_done(struct iw_report *r);

/* Add {code, detail}; detail is printf-style and truncated to
 * IW_REPORT_MAX_DETAIL. Duplicate code+detail pairs are kept once.
 * Never fails: when the list is full the finding still counts toward the
 * verdict and "dropped" is recorded. */
void iw_finding(struct iw_report *r, enum iw_code code, const char *fmt, ...)
	_printf_(3, 4);

/* Record an external name found in the image; kind is e.g.
 * "backing-file", "data-file", "extent", "parent-locator", "link-target".
 * name/len are raw image bytes. Also flags json: and protocol names with
 * IW_F_PROTOCOL_REFERENCE. Never fails (see iw_finding). */
void iw_reference(struct iw_report *r, const char *kind, const void *name,
		  size_t len);

/* The format-specific "data" object; created on first call. NULL only if
 * out of memory (readers then skip their optional details). */
json_object *iw_report_fs(struct iw_report *r);
/* Convenience setters on iw_report_fs(r); ignore allocation failures. */
void iw_fs_set_int(struct iw_report *r, const char *key, int64_t v);
void iw_fs_set_bool(struct iw_report *r, const char *key, bool v);
void iw_fs_set_str(struct iw_report *r, const char *key, const char *v);
/* image bytes → sanitised string (see iw_sanitize) */
void iw_fs_set_bytes(struct iw_report *r, const char *key, const void *b,
		     size_t len);

void iw_report_add_match(struct iw_report *r, const char *format);

/* Sets backing-filename (and records the reference). */
void iw_report_set_backing(struct iw_report *r, const void *name, size_t len,
			   const char *format);

/* Attach child (e.g. the image inside a gzip stream, "role" = "inner", or
 * a tar member). Moves the child's JSON into r; the child's verdict
 * raises r's via IW_F_NESTED_UNSAFE when it is unsafe. */
int iw_report_add_child(struct iw_report *r, const char *role,
			const char *name, struct iw_report *child);

/* Copy src's findings of class unsupported or worse into dst (a reader's
 * scratch judgement taken again by a converter's block map), each detail
 * prefixed with prefix (may be NULL), leaving out skip_code (-1: none).
 * Returns how many were copied. */
size_t iw_report_copy_findings(struct iw_report *dst,
			       const struct iw_report *src, int skip_code,
			       const char *prefix);

/* Serialise. Returns a new object or NULL on ENOMEM. */
json_object *iw_report_to_json(const struct iw_report *r);

/* Text from an image as valid UTF-8 without control characters: invalid
 * bytes and C0/C1 controls become U+FFFD. Returns a malloc'd string;
 * *ret_lossless says whether the output equals the input. */
char *iw_sanitize(const void *bytes, size_t len, bool *ret_lossless);
/* lowercase hex of len bytes (malloc'd) */
char *iw_hex(const void *bytes, size_t len);

#endif
