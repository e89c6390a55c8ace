/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "input-set.h"
#include "formats/tar.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *iw_json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool iw_member_name_eq(const char *a, const char *b)
{
	char na[512], nb[512];
	size_t la = strlen(a), lb = strlen(b), n1, n2;

	if (la >= sizeof(na) || lb >= sizeof(nb))
		return false;
	n1 = tar_normalise_name(a, la, na, sizeof(na));
	n2 = tar_normalise_name(b, lb, nb, sizeof(nb));
	return n1 == n2 && memcmp(na, nb, n1) == 0;
}

json_object *iw_report_child(json_object *report, const char *role,
			     const char *name, bool *dup)
{
	json_object *children, *found = NULL;
	size_t n;

	if (dup)
		*dup = false;
	if (!json_object_object_get_ex(report, "children", &children) ||
	    !json_object_is_type(children, json_type_array))
		return NULL;
	n = json_object_array_length(children);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(children, i);
		const char *cr = iw_json_str(c, "role");
		const char *cn = iw_json_str(c, "name");

		if ((role && (!cr || strcmp(cr, role) != 0)) ||
		    (name && (!cn || !iw_member_name_eq(cn, name))))
			continue;
		if (found) {
			if (dup)
				*dup = true;
			break;
		}
		found = c;
	}
	return found;
}

/* Does role explain (make harmless) a finding with this code? relaxed:
 * for a XenServer archive the sniffer saw only the head of (see
 * partial_chain_ok), and for its compressed wrapper once the archive
 * inside passed. */
static bool explained(enum iw_input_role role, int code, bool relaxed)
{
	switch (role) {
	case IW_ROLE_CHAIN_CHILD:
		/* the parent is the next listed file, checked by UUID */
		return code == IW_F_PARENT_REFERENCE;
	case IW_ROLE_DESCRIPTOR:
		/* the extents are the listed files, checked by name, order
		 * and size; "keeps the data in other files" is the same
		 * fact seen from createType */
		return code == IW_F_EXTERNAL_EXTENT ||
		       code == IW_F_UNSUPPORTED_SUBFORMAT;
	case IW_ROLE_ARCHIVE:
		/* "extract the image first": the member is named */
		return code == IW_F_ARCHIVE;
	case IW_ROLE_XENSERVER:
		/* the chain members are the numbered ones; in a head only,
		 * links to members not seen cannot be checked (the
		 * converter checks them all once it has unpacked it) */
		return code == IW_F_ARCHIVE ||
		       (relaxed && (code == IW_F_CHAIN_BROKEN ||
				    code == IW_F_CHAIN_GAP ||
				    code == IW_F_NESTED_UNSAFE));
	case IW_ROLE_COMPRESSED_XENSERVER:
		/* the converter decompresses it (into a scratch file) */
		return code == IW_F_COMPRESSED ||
		       (relaxed && code == IW_F_NESTED_UNSAFE);
	case IW_ROLE_SINGLE:
	case IW_ROLE_CHAIN_BASE:
		break;
	}
	return false;
}

static enum iw_verdict worse(enum iw_verdict a, enum iw_verdict b)
{
	return a > b ? a : b;
}

/* The chosen member among report's children: NULL if absent or named
 * twice (the sniffer also flags duplicates; this does not rely on it). */
static json_object *find_member(json_object *report, const char *member,
				const char **why)
{
	json_object *found;
	bool dup;

	found = member ? iw_report_child(report, "member", member, &dup) : NULL;
	if (!found) {
		*why = "the archive has no such member (or it was not inspected)";
		return NULL;
	}
	if (dup) {
		*why = "the archive holds two members of that name";
		return NULL;
	}
	return found;
}

static bool is_compressed_format(const char *fmt)
{
	return strcmp(fmt, "gzip") == 0 || strcmp(fmt, "xz") == 0 ||
	       strcmp(fmt, "zstd") == 0 || strcmp(fmt, "bzip2") == 0;
}

static enum iw_verdict judge(json_object *report, enum iw_input_role role,
			     bool relaxed, const char *member,
			     json_object **ret_member, const char **why);

static bool has_code(json_object *report, int code)
{
	json_object *findings;
	size_t n;

	if (!json_object_object_get_ex(report, "findings", &findings) ||
	    !json_object_is_type(findings, json_type_array))
		return false;
	n = json_object_array_length(findings);
	for (size_t i = 0; i < n; i++) {
		const char *c = iw_json_str(json_object_array_get_idx(findings, i),
					    "code");

		if (c && iw_code_from_name(c) == code)
			return true;
	}
	return false;
}

/*
 * A chain archive the sniffer saw only the head of (a .tgz: 16 MiB
 * decompressed): the parents of the members it saw may lie past it, so
 * those members still "need a parent" and the chain looks broken. Fine
 * for the broker's first look when that is all that is wrong: every
 * member not safe is unsafe for parent-reference alone. The converter
 * unpacks the whole archive and judges it again, links included.
 */
static bool partial_chain_ok(json_object *tar)
{
	json_object *children;
	size_t n;

	if (!has_code(tar, IW_F_INSPECTION_INCOMPLETE))
		return false;
	if (!json_object_object_get_ex(tar, "children", &children) ||
	    !json_object_is_type(children, json_type_array))
		return true;
	n = json_object_array_length(children);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(children, i);
		const char *v = iw_json_str(c, "verdict");

		if (!v)
			return false;
		if (strcmp(v, "safe") == 0)
			continue;
		if (iw_input_verdict(c, IW_ROLE_CHAIN_CHILD, NULL, NULL,
				     NULL) != IW_SAFE)
			return false;
	}
	return true;
}

/* A compressed XenServer archive: the wrapper's own findings but
 * "compressed", then the inner tar as IW_ROLE_XENSERVER. */
static enum iw_verdict compressed_xenserver(json_object *report,
					    json_object **ret_member,
					    const char **why)
{
	json_object *inner = iw_report_child(report, "inner", NULL, NULL);
	enum iw_verdict v, iv;

	if (!inner) {
		*why = "the compressed stream holds no inspected archive";
		return IW_UNSUPPORTED;
	}
	/* a compressed tar inside a compressed stream is not a layout
	 * anyone exports: the inner report must be the tar itself */
	if (!iw_json_str(inner, "format") ||
	    strcmp(iw_json_str(inner, "format"), "tar") != 0) {
		*why = "not a XenServer VHD chain archive (N.vhd members)";
		return IW_UNSUPPORTED;
	}
	iv = iw_input_verdict(inner, IW_ROLE_XENSERVER, NULL, ret_member, why);
	if (iv != IW_SAFE)
		return iv;
	/* the wrapper's own findings; its nested-unsafe is the archive's,
	 * just judged */
	v = judge(report, IW_ROLE_COMPRESSED_XENSERVER, true, NULL, NULL, why);
	if (v != IW_SAFE && ret_member)
		*ret_member = NULL;
	return v;
}

enum iw_verdict iw_input_verdict(json_object *report, enum iw_input_role role,
				 const char *member, json_object **ret_member,
				 const char **why)
{
	const char *dummy;
	const char *fmt = iw_json_str(report, "format");

	if (!why)
		why = &dummy;
	*why = NULL;
	if (ret_member)
		*ret_member = NULL;
	if (role == IW_ROLE_XENSERVER && fmt && is_compressed_format(fmt))
		return compressed_xenserver(report, ret_member, why);
	return judge(report, role,
		     role == IW_ROLE_XENSERVER && partial_chain_ok(report),
		     member, ret_member, why);
}

static enum iw_verdict judge(json_object *report, enum iw_input_role role,
			     bool relaxed, const char *member,
			     json_object **ret_member, const char **why)
{
	enum iw_verdict listed = IW_SAFE, stated, v;
	const char *vname;
	json_object *findings;
	size_t n;

	vname = iw_json_str(report, "verdict");
	if (!vname || iw_verdict_from_name(vname) < 0) {
		*why = "the report has no verdict";
		return IW_INVALID;
	}
	stated = (enum iw_verdict)iw_verdict_from_name(vname);
	if (!json_object_object_get_ex(report, "findings", &findings) ||
	    !json_object_is_type(findings, json_type_array)) {
		*why = "the report has no findings";
		return IW_INVALID;
	}
	v = IW_SAFE;
	n = json_object_array_length(findings);
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(findings, i);
		const char *name = iw_json_str(f, "code");
		int code = name ? iw_code_from_name(name) : -1;
		enum iw_verdict fv;

		if (code < 0) {
			*why = "a finding with an unknown code";
			return IW_INVALID;
		}
		fv = iw_verdict_of_class(iw_code_class((enum iw_code)code));
		listed = worse(listed, fv);
		if (fv == IW_SAFE || explained(role, code, relaxed))
			continue;
		if (fv > v) {
			v = fv;
			*why = name;
		}
	}
	/* findings beyond the report's cap are counted in its verdict but
	 * not listed: nothing can explain those */
	if (stated > listed) {
		*why = "findings past the report's limit";
		v = worse(v, stated);
	}
	if (role == IW_ROLE_XENSERVER && v == IW_SAFE) {
		const char *fmt = iw_json_str(report, "format");
		json_object *fs, *data, *chain;

		if (!fmt || strcmp(fmt, "tar") != 0 ||
		    !json_object_object_get_ex(report, "format-specific", &fs) ||
		    !json_object_object_get_ex(fs, "data", &data) ||
		    !json_object_object_get_ex(data, "xenserver-chain",
					       &chain)) {
			*why = "not a XenServer VHD chain archive (N.vhd members)";
			return IW_UNSUPPORTED;
		}
		if (ret_member)
			*ret_member = report;
	}
	if (role == IW_ROLE_ARCHIVE && v == IW_SAFE) {
		const char *mwhy = NULL;
		json_object *m = find_member(report, member, &mwhy);
		const char *mv = m ? iw_json_str(m, "verdict") : NULL;

		if (!m) {
			*why = mwhy;
			return IW_INVALID;
		}
		if (!mv || strcmp(mv, "safe") != 0) {
			*why = "the member itself is not safe";
			return mv && iw_verdict_from_name(mv) > 0
				       ? (enum iw_verdict)iw_verdict_from_name(mv)
				       : IW_INVALID;
		}
		if (ret_member)
			*ret_member = m;
	}
	return v;
}

static const char *fs_str(json_object *report, const char *key)
{
	json_object *fs, *data;

	if (!json_object_object_get_ex(report, "format-specific", &fs) ||
	    !json_object_object_get_ex(fs, "data", &data))
		return NULL;
	return iw_json_str(data, key);
}

static int chain_ok(json_object *const *reports, size_t n, char *msg,
		    size_t msg_len)
{
	if (n == 0) {
		snprintf(msg, msg_len, "an empty chain");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *fmt = iw_json_str(reports[i], "format");
		const char *type = fs_str(reports[i], "disk-type");
		bool diff = type && strcmp(type, "differencing") == 0;

		if (!fmt || strcmp(fmt, "vhd") != 0) {
			snprintf(msg, msg_len,
				 "layer %zu (from the leaf) is %s, not a VHD", i,
				 fmt ? fmt : "unknown");
			return -1;
		}
		if (!type) {
			snprintf(msg, msg_len,
				 "layer %zu (from the leaf) has no disk type", i);
			return -1;
		}
		if (i + 1 < n && !diff) {
			snprintf(msg, msg_len,
				 "layer %zu (from the leaf) is a %s disk: only "
				 "the base may be other than differencing",
				 i, type);
			return -1;
		}
		if (i + 1 == n && diff) {
			snprintf(msg, msg_len,
				 "the base is a differencing disk: its parent "
				 "is not listed");
			return -1;
		}
	}
	for (size_t i = 0; i + 1 < n; i++) {
		const char *parent = fs_str(reports[i], "parent-uuid");
		const char *next = fs_str(reports[i + 1], "unique-id");

		if (!parent || !next || strcasecmp(parent, next) != 0) {
			snprintf(msg, msg_len,
				 "layer %zu (from the leaf) names parent %s, but "
				 "the next file listed is %s",
				 i, parent ? parent : "?", next ? next : "?");
			return -1;
		}
	}
	return 0;
}

int iw_vhd_chain_check(json_object *const *reports, size_t n, char *msg,
		       size_t msg_len)
{
	json_object *rev[IW_INPUT_SET_MAX_FILES];
	char ignored[8];
	size_t len;

	if (chain_ok(reports, n, msg, msg_len) == 0)
		return 0;
	/* the commonest mistake: the files listed leaf first */
	if (n < 2 || n > IW_INPUT_SET_MAX_FILES)
		return -1;
	for (size_t k = 0; k < n; k++)
		rev[k] = reports[n - 1 - k];
	len = strlen(msg);
	if (chain_ok(rev, n, ignored, sizeof(ignored)) == 0 && len < msg_len)
		snprintf(msg + len, msg_len - len,
			 " (the files link up the other way round: list the "
			 "base first)");
	return -1;
}
