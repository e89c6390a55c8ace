/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Judging the files of a multi-file input the caller listed explicitly.
 *
 * The sniffer judges one file at a time, and rightly calls a VHD
 * differencing disk unsafe (it needs a parent), a VMDK descriptor unsafe
 * (it names extents) and an OVA unsupported (it is an archive). When the
 * caller lists the parent, the extents or the member, the converter opens
 * only those files — never a name read from an image — so the finding
 * that said "this needs another file" is explained, and only that one.
 * Every other finding still counts.
 *
 * Both the broker (on the sniffer's validated JSON) and the converter (on
 * its own second look at each fd) use these rules, on the same JSON shape
 * (iw_report_to_json), so they cannot drift apart.
 */
#ifndef IW_INPUT_SET_H
#define IW_INPUT_SET_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "report.h"

enum iw_input_role {
	IW_ROLE_SINGLE,	      /* one image on its own: must be safe */
	IW_ROLE_CHAIN_CHILD,  /* a VHD layer whose parent is listed */
	IW_ROLE_CHAIN_BASE,   /* the base of a listed VHD chain */
	IW_ROLE_DESCRIPTOR,   /* a VMDK descriptor whose extents are listed */
	IW_ROLE_ARCHIVE,      /* a tar/OVA one of whose members is named */
	IW_ROLE_XENSERVER,    /* a tar (or compressed tar) of a numbered VHD
				 chain, converted as such (--xenserver) */
	IW_ROLE_COMPRESSED_XENSERVER, /* internal: the wrapper around one */
};

/* The most files one input may consist of: a VMDK split into 2 GiB
 * extents needs 256 for a 512 GiB disk; a VHD chain has its own, lower
 * cap (IW_VHD_CHAIN_MAX_LAYERS). Each is an fd in the converter. */
#define IW_INPUT_SET_MAX_FILES 256

/*
 * The verdict of report (a probe report object) for a file in role, once
 * the findings role explains are set aside. A report whose verdict is
 * worse than its listed findings (some were dropped at the report's cap)
 * keeps its verdict: an unlisted finding cannot be explained. For
 * IW_ROLE_ARCHIVE, member names the chosen member: its child report must
 * be a safe image (returned in *ret_member, borrowed from report), and a
 * missing or duplicated member is IW_INVALID. For IW_ROLE_XENSERVER, the
 * report is a tar, or a compressed stream whose inner child is one, that
 * the sniffer found a XenServer chain in ("xenserver-chain" in its
 * format-specific data): the tar's report is returned in *ret_member.
 * *why (if not NULL) points to
 * the first unexplained finding's code, or a short reason.
 */
enum iw_verdict iw_input_verdict(json_object *report, enum iw_input_role role,
				 const char *member, json_object **ret_member,
				 const char **why);

/* o[key] if it is a string, else NULL (untrusted reports: no type
 * assumed). */
const char *iw_json_str(json_object *o, const char *key);

/* The first child report of report with this role (NULL: any role) and
 * this member name (NULL: any; compared with iw_member_name_eq); *dup (if
 * not NULL) says whether another child matches too. NULL if none. */
json_object *iw_report_child(json_object *report, const char *role,
			     const char *name, bool *dup);

/* Do two archive member names name the same member ("./a.vhd" is
 * "a.vhd": tar_normalise_name)? Names too long to compare are not. */
bool iw_member_name_eq(const char *a, const char *b);

/*
 * Check that probe reports of a VHD chain, leaf first, link up: every
 * layer a VHD, every layer but the last a differencing disk whose
 * parent-uuid is the next layer's unique-id, the last not differencing.
 * 0, or -1 with a message in msg. A reversed list is recognised and said
 * so.
 */
int iw_vhd_chain_check(json_object *const *reports, size_t n, char *msg,
		       size_t msg_len);

#endif
