/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tar, OVA and XenServer VHD chains.
 *
 * An archive is never an image (`archive`, unsupported), but what is in
 * it matters: importers (virt-v2v -i ova, os-xenapi, Cinder) extract it
 * and open the members, so every member name that would land outside the
 * extraction directory, every link or device, every duplicate (which
 * member wins depends on the tool) is unsafe, and every member that looks
 * like a disk is sniffed as a nested image: an unsafe member makes the
 * archive unsafe (nested-unsafe).
 *
 * OVA (DSP0243 §5.3): a tar whose first member is the .ovf descriptor.
 * Its File/@ovf:href attributes are reported as references; an href that
 * leaves the archive (absolute, "..") is archive-traversal, one that
 * names no member is bad-archive.
 *
 * XenServer tgz chains (os-xenapi dom0 plugin utils.py, Cinder
 * image_utils.py): members 0.vhd (leaf) ... N-1.vhd (base), optional
 * swap.vhd, legacy snap.vhd/image.vhd/base.vhd. Numbering gaps and
 * duplicates are chain-gap; a link whose parent UUID is not the next
 * member's unique ID, a non-differencing member above the base, a
 * differencing base or a child smaller than its parent is chain-broken.
 *
 * How a well-linked chain is reported: each member is a differencing VHD,
 * which its own reader rightly calls unsafe (parent-reference: on its own
 * it needs a file from somewhere). Inside a chain whose links we checked
 * against the archive's own members, that parent is resolved, never
 * looked up by name (the importers re-link by position, os-xenapi with
 * `vhd-util modify -p`, and ignore the locators). So for a verified link
 * we drop the child's parent-reference finding, recompute its verdict
 * from what is left, and attach it with role "chain-member"; the links
 * are listed in "xenserver-chain". Every other finding of the member
 * (a protocol locator, a broken BAT, ...) stays and still counts. An
 * unverified link keeps parent-reference and so the archive is unsafe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"
#include "tar.h"

/* Members walked before giving up (inspection-incomplete): an OVA has a
 * handful, a XenServer chain tens; 10000 headers cost 5 MB of reads. */
#define TAR_MAX_MEMBERS 10000
/* Members listed in format-specific "members" (the JSON stays small). */
#define TAR_MAX_LISTED 256
/* Members sniffed as nested images; each is a full probe. */
#define TAR_MAX_SNIFFED 32
/* The OVF descriptor is read whole for href scanning up to this size;
 * real descriptors are tens of KiB. */
#define TAR_OVF_MAX (1024 * 1024)
/* Duplicate detection: open-addressed set of name hashes, a power of two
 * comfortably above TAR_MAX_MEMBERS. */
#define TAR_HASH_SLOTS 16384
/* XenServer chain members tracked; real chains are far shorter (XenServer
 * itself caps VDI chains at 30). */
#define TAR_CHAIN_MAX 64
/* Chain member numbers above this are not a real chain position. */
#define TAR_CHAIN_NUMBER_MAX 999999
/* Bytes after the end-of-archive marker scanned for non-zero data. */
#define TAR_TRAILING_SCAN (1024 * 1024)

struct tar_pending {
	struct iw_report rep;
	char *name;
	bool partial;	   /* only a prefix of the member was sniffed */
	bool chain_member; /* its link (or base role) was verified */
};

struct tar_chain_entry {
	unsigned number;
	int pending; /* index into pending[], -1 when not sniffed */
	char *name;
};

struct tar_state {
	const struct iw_view *v;
	struct iw_report *r;
	struct iw_probe_ctx *ctx;
	uint64_t *hashes;
	unsigned n_hashes;
	json_object *listing;
	unsigned n_members;
	struct tar_pending pending[TAR_MAX_SNIFFED];
	unsigned n_pending;
	bool sniff_capped;
	bool complete; /* the walk reached the end-of-archive marker */
	/* OVA */
	bool ova;
	uint8_t *ovf;
	size_t ovf_len;
	/* XenServer chain */
	struct tar_chain_entry numbered[TAR_CHAIN_MAX], legacy[3];
	unsigned n_numbered, n_legacy, n_other_vhd;
	bool chain_overflow, swap, legacy_duplicate;
};

static const char *tar_type_name(enum tar_type t)
{
	switch (t) {
	case TAR_TYPE_REGULAR:
		return "file";
	case TAR_TYPE_HARDLINK:
		return "hardlink";
	case TAR_TYPE_SYMLINK:
		return "symlink";
	case TAR_TYPE_CHAR:
		return "char-device";
	case TAR_TYPE_BLOCK:
		return "block-device";
	case TAR_TYPE_DIRECTORY:
		return "directory";
	case TAR_TYPE_FIFO:
		return "fifo";
	case TAR_TYPE_VOLUME_LABEL:
		return "volume-label";
	case TAR_TYPE_GNU_SPARSE:
		return "gnu-sparse";
	case TAR_TYPE_GNU_MULTIVOL:
		return "gnu-multivolume";
	case TAR_TYPE_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

static bool tar_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	/* qemu does not probe tar. The magic alone decides: a header with
	 * ustar magic and a bad checksum is a broken tar (bad-archive), not
	 * raw data. */
	return head_len >= TAR_BLOCK_SIZE && tar_has_magic(head);
}

/* Why a member name would escape or confuse an extraction directory, or
 * NULL. Backslash separates too: some extractors on Windows use it. */
static const char *tar_name_problem(const char *name, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return "an empty name";
	if (name[0] == '/' || name[0] == '\\')
		return "an absolute name";
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)name[i] < 0x20 || (uint8_t)name[i] == 0x7f)
			return "a control character in its name";
	for (size_t i = 0; i <= len; i++) {
		if (i == len || name[i] == '/' || name[i] == '\\') {
			if (i - start == 2 && name[start] == '.' &&
			    name[start + 1] == '.')
				return "a \"..\" component in its name";
			start = i + 1;
		}
	}
	return NULL;
}

/* FNV-1a 64 of the normalised name; 0 is the empty slot marker. A
 * collision only ever adds a duplicate finding, it never hides one. */
static uint64_t tar_name_hash(const char *name, size_t len)
{
	_cleanup_free_ char *norm = malloc(len ? len : 1);
	uint64_t h = 0xcbf29ce484222325ull;
	size_t n;

	if (!norm)
		return 1;
	n = tar_normalise_name(name, len, norm, len);
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)norm[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/* Insert; true if the hash was already present. */
static bool tar_hash_insert(struct tar_state *s, uint64_t h)
{
	size_t i = h & (TAR_HASH_SLOTS - 1);

	/* bounded: fewer entries than slots (TAR_MAX_MEMBERS) */
	while (s->hashes[i]) {
		if (s->hashes[i] == h)
			return true;
		i = (i + 1) & (TAR_HASH_SLOTS - 1);
	}
	s->hashes[i] = h;
	s->n_hashes++;
	return false;
}

static bool tar_hash_contains(const struct tar_state *s, uint64_t h)
{
	size_t i = h & (TAR_HASH_SLOTS - 1);

	for (unsigned n = 0; n < TAR_HASH_SLOTS && s->hashes[i]; n++) {
		if (s->hashes[i] == h)
			return true;
		i = (i + 1) & (TAR_HASH_SLOTS - 1);
	}
	return false;
}

static bool ends_with_ci(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

/* A top-level XenServer chain name: "N.vhd", legacy names, swap.vhd. */
static void tar_note_chain_name(struct tar_state *s, const char *name,
				size_t len, int pending)
{
	static const char *const legacy_names[3] = { "snap.vhd", "image.vhd",
						     "base.vhd" };
	char norm[32];
	size_t n;
	struct tar_chain_entry *e;

	if (len >= 4096)
		return;
	n = tar_normalise_name(name, len, norm, sizeof(norm) - 1);
	if (n >= sizeof(norm) - 1 || memchr(norm, '/', n) ||
	    !ends_with_ci(norm, n, ".vhd"))
		return;
	norm[n] = 0;
	if (strcmp(norm, "swap.vhd") == 0) {
		s->swap = true;
		return;
	}
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(norm, legacy_names[i]) == 0) {
			e = &s->legacy[i];
			if (e->name) {
				s->legacy_duplicate = true;
				return;
			}
			*e = (struct tar_chain_entry){ .number = i,
						       .pending = pending,
						       .name = strdup(norm) };
			s->n_legacy++;
			return;
		}
	}
	if (strspn(norm, "0123456789") == n - 4 && n - 4 >= 1 && n - 4 <= 6 &&
	    strcmp(norm + n - 4, ".vhd") == 0) {
		if (s->n_numbered >= TAR_CHAIN_MAX) {
			s->chain_overflow = true;
			return;
		}
		e = &s->numbered[s->n_numbered++];
		*e = (struct tar_chain_entry){
			.number = (unsigned)strtoul(norm, NULL, 10),
			.pending = pending,
			.name = strdup(norm),
		};
		return;
	}
	/* os-xenapi counts every *.vhd but swap.vhd in the numbering */
	s->n_other_vhd++;
}

static void tar_list_member(struct tar_state *s, const struct tar_member *m)
{
	json_object *o;
	_cleanup_free_ char *name = NULL;

	if (!s->listing || s->n_members > TAR_MAX_LISTED)
		return;
	if (s->n_members == TAR_MAX_LISTED) {
		iw_fs_set_bool(s->r, "members-truncated", true);
		return;
	}
	o = json_object_new_object();
	name = iw_sanitize(m->name, MIN(m->name_len, (size_t)IW_REPORT_MAX_NAME),
			   NULL);
	if (!o || !name) {
		json_object_put(o);
		return;
	}
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "type",
			       json_object_new_string(tar_type_name(m->type)));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)m->size));
	json_object_object_add(o, "offset",
			       json_object_new_int64((int64_t)m->data_offset));
	if (json_object_array_add(s->listing, o) < 0)
		json_object_put(o);
}

/* Sniff a member's data as a nested image; the report is kept until the
 * chain is checked. Returns the pending index, -1 if not sniffed, or a
 * negative errno (< -1) on ENOMEM. */
static int tar_sniff_member(struct tar_state *s, const struct tar_member *m,
			    int *ret_index)
{
	struct tar_pending *p;
	struct iw_view sub;
	uint64_t avail = 0;
	int ret;

	*ret_index = -1;
	if (m->size == 0)
		return 0;
	if (s->n_pending >= TAR_MAX_SNIFFED) {
		s->sniff_capped = true;
		return 0;
	}
	if (m->data_offset < s->v->size)
		avail = MIN(m->size, s->v->size - m->data_offset);
	if (avail == 0)
		return 0;
	ret = iw_view_init_sub(&sub, s->v, m->data_offset, avail);
	if (ret < 0)
		return 0;
	/* a member cut short (truncated archive, or the archive is itself
	 * a decompressed head) is a prefix of the member */
	if (avail < m->size)
		sub.partial = true;

	p = &s->pending[s->n_pending];
	ret = iw_report_init(&p->rep);
	if (ret < 0)
		return ret;
	ret = iw_probe_nested(s->ctx, &sub, &p->rep);
	if (ret == -ELOOP) {
		iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
			   "members are nested too deeply to be inspected");
		iw_report_done(&p->rep);
		return 0;
	}
	if (ret < 0) {
		iw_report_done(&p->rep);
		return ret;
	}
	p->name = strndup(m->name, MIN(m->name_len, (size_t)IW_REPORT_MAX_NAME));
	if (!p->name) {
		iw_report_done(&p->rep);
		return -ENOMEM;
	}
	p->chain_member = false;
	p->partial = sub.partial;
	*ret_index = (int)s->n_pending++;
	return 0;
}

static int tar_read_ovf(struct tar_state *s, const struct tar_member *m)
{
	size_t len = (size_t)MIN(m->size, (uint64_t)TAR_OVF_MAX);
	int ret;

	if (m->size > TAR_OVF_MAX)
		iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
			   "the OVF descriptor (%llu bytes) is larger than "
			   "the %d bytes scanned",
			   (unsigned long long)m->size, TAR_OVF_MAX);
	if (m->data_offset < s->v->size)
		len = (size_t)MIN((uint64_t)len, s->v->size - m->data_offset);
	else
		len = 0;
	s->ovf = malloc(len ? len : 1);
	if (!s->ovf)
		return -ENOMEM;
	ret = iw_view_read(s->v, s->ovf, len, m->data_offset);
	if (ret == -E2BIG) {
		len = 0;
	} else if (ret < 0) {
		return ret;
	}
	s->ovf_len = len;
	return 0;
}

static int tar_member(struct tar_state *s, struct tar_member *m)
{
	const char *problem;
	int pending = -1, ret;
	char label[64];

	snprintf(label, sizeof(label), "member %u", s->n_members);
	tar_list_member(s, m);

	problem = tar_name_problem(m->name, m->name_len);
	if (problem)
		iw_finding(s->r, IW_F_ARCHIVE_TRAVERSAL,
			   "%s \"%.*s\" has %s", label,
			   (int)MIN(m->name_len, (size_t)100), m->name,
			   problem);
	if (m->type != TAR_TYPE_VOLUME_LABEL &&
	    tar_hash_insert(s, tar_name_hash(m->name, m->name_len)))
		iw_finding(s->r, IW_F_ARCHIVE_DUPLICATE,
			   "%s \"%.*s\" has the same name as an earlier "
			   "member",
			   label, (int)MIN(m->name_len, (size_t)100),
			   m->name);

	switch (m->type) {
	case TAR_TYPE_HARDLINK:
	case TAR_TYPE_SYMLINK:
		iw_finding(s->r, IW_F_ARCHIVE_LINK, "%s \"%.*s\" is a %s",
			   label, (int)MIN(m->name_len, (size_t)100), m->name,
			   m->type == TAR_TYPE_SYMLINK ? "symbolic link"
						       : "hard link");
		iw_reference(s->r, "link-target", m->link, m->link_len);
		break;
	case TAR_TYPE_CHAR:
	case TAR_TYPE_BLOCK:
	case TAR_TYPE_FIFO:
		iw_finding(s->r, IW_F_ARCHIVE_SPECIAL, "%s \"%.*s\" is a %s",
			   label, (int)MIN(m->name_len, (size_t)100), m->name,
			   tar_type_name(m->type));
		break;
	case TAR_TYPE_GNU_SPARSE:
	case TAR_TYPE_GNU_MULTIVOL:
		/* the data is not the file's bytes in order */
		iw_finding(s->r, IW_F_UNSUPPORTED_FEATURE,
			   "%s \"%.*s\" is a %s member", label,
			   (int)MIN(m->name_len, (size_t)100), m->name,
			   tar_type_name(m->type));
		break;
	case TAR_TYPE_UNKNOWN:
		/* POSIX: extracted as a regular file, so it is sniffed */
		iw_finding(s->r, IW_F_UNSUPPORTED_FEATURE,
			   "%s \"%.*s\" has unknown type 0x%02x", label,
			   (int)MIN(m->name_len, (size_t)100), m->name,
			   m->typeflag);
		break;
	case TAR_TYPE_REGULAR:
	case TAR_TYPE_DIRECTORY:
	case TAR_TYPE_VOLUME_LABEL:
		break;
	}
	/* POSIX: links, devices and FIFOs carry no data; a size there is a
	 * parser differential (some tools skip it, some do not) */
	if (m->header_size && m->typeflag >= '1' && m->typeflag <= '4')
		iw_finding(s->r, IW_F_BAD_ARCHIVE,
			   "%s \"%.*s\" of type %s has size %llu", label,
			   (int)MIN(m->name_len, (size_t)100), m->name,
			   tar_type_name(m->type),
			   (unsigned long long)m->header_size);

	if (s->n_members == 0 && m->type == TAR_TYPE_REGULAR &&
	    ends_with_ci(m->name, m->name_len, ".ovf")) {
		s->ova = true;
		ret = tar_read_ovf(s, m);
		if (ret < 0)
			return ret;
	}
	if (m->type == TAR_TYPE_REGULAR || m->type == TAR_TYPE_UNKNOWN) {
		ret = tar_sniff_member(s, m, &pending);
		if (ret < 0)
			return ret;
		tar_note_chain_name(s, m->name, m->name_len, pending);
	}

	/* the member's data must lie inside the archive */
	if (!iw_view_contains(s->v, m->data_offset, m->size)) {
		if (s->v->partial)
			iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
				   "%s \"%.*s\" extends past the inspected "
				   "part",
				   label, (int)MIN(m->name_len, (size_t)100),
				   m->name);
		else
			iw_finding(s->r, IW_F_TRUNCATED,
				   "%s \"%.*s\" (%llu bytes at offset %llu) "
				   "ends past the end of the archive",
				   label, (int)MIN(m->name_len, (size_t)100),
				   m->name, (unsigned long long)m->size,
				   (unsigned long long)m->data_offset);
	}
	s->n_members++;
	return 0;
}

/* OVF File/@ovf:href values (DSP0243 §7.1): no XML parser, just the
 * attribute syntax, bounded by the descriptor size. */
static void tar_scan_ovf(struct tar_state *s)
{
	const uint8_t *p = s->ovf, *end = s->ovf + s->ovf_len;
	unsigned found = 0;

	while (p && p < end) {
		const uint8_t *hit = memmem(p, (size_t)(end - p), "href", 4);
		const uint8_t *q, *val, *close;
		const char *problem;
		uint8_t quote;

		if (!hit)
			break;
		p = hit + 4;
		/* an attribute name: "href" or "prefix:href" */
		if (hit > s->ovf && hit[-1] != ':' && hit[-1] != ' ' &&
		    hit[-1] != '\t' && hit[-1] != '\n' && hit[-1] != '\r')
			continue;
		q = p;
		while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' ||
				   *q == '\r'))
			q++;
		if (q >= end || *q != '=')
			continue;
		q++;
		while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' ||
				   *q == '\r'))
			q++;
		if (q >= end || (*q != '"' && *q != '\''))
			continue;
		quote = *q;
		val = q + 1;
		close = memchr(val, quote, (size_t)(end - val));
		if (!close)
			break;
		p = close + 1;
		found++;
		iw_reference(s->r, "ovf-href", val, (size_t)(close - val));
		problem = tar_name_problem((const char *)val,
					   (size_t)(close - val));
		if (problem) {
			iw_finding(s->r, IW_F_ARCHIVE_TRAVERSAL,
				   "the OVF references \"%.*s\", which has %s",
				   (int)MIN((size_t)(close - val), (size_t)100),
				   (const char *)val, problem);
		} else if (!tar_hash_contains(
				   s, tar_name_hash((const char *)val,
						    (size_t)(close - val)))) {
			if (s->complete)
				iw_finding(s->r, IW_F_BAD_ARCHIVE,
					   "the OVF references \"%.*s\", which "
					   "is not in the archive",
					   (int)MIN((size_t)(close - val),
						    (size_t)100),
					   (const char *)val);
			else
				iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
					   "the OVF references \"%.*s\", "
					   "which is not in the inspected part",
					   (int)MIN((size_t)(close - val),
						    (size_t)100),
					   (const char *)val);
		}
	}
	iw_fs_set_int(s->r, "ovf-hrefs", found);
}

/* ---- XenServer chains ------------------------------------------------ */

struct tar_vhd_fields {
	bool known, partial;
	const char *format, *disk_type, *unique_id, *parent_uuid;
	int64_t size;
};

static const char *fs_str(json_object *fs, const char *key)
{
	json_object *o;

	if (!fs || !json_object_object_get_ex(fs, key, &o) ||
	    !json_object_is_type(o, json_type_string))
		return NULL;
	return json_object_get_string(o);
}

static void tar_vhd_fields(const struct tar_state *s, int pending,
			   struct tar_vhd_fields *f)
{
	const struct iw_report *rep;
	json_object *fs, *o;

	*f = (struct tar_vhd_fields){ .size = -1 };
	if (pending < 0)
		return;
	rep = &s->pending[pending].rep;
	fs = rep->format_specific_data;
	f->known = true;
	f->partial = s->pending[pending].partial;
	f->format = rep->format;
	f->disk_type = fs_str(fs, "disk-type");
	f->unique_id = fs_str(fs, "unique-id");
	f->parent_uuid = fs_str(fs, "parent-uuid");
	if (fs && json_object_object_get_ex(fs, "current-size", &o))
		f->size = json_object_get_int64(o);
}

/* Drop the parent-reference findings of a member whose parent was found
 * in the archive, and recompute its verdict from the rest. Only when no
 * finding was dropped for space (else the verdict cannot be rebuilt). */
static int tar_resolve_parent(struct iw_report *rep)
{
	json_object *kept;
	enum iw_verdict verdict = IW_SAFE;

	if (rep->n_findings_dropped)
		return 0;
	kept = json_object_new_array();
	if (!kept)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(rep->findings); i++) {
		json_object *f = json_object_array_get_idx(rep->findings, i);
		json_object *c;
		int code;

		if (!json_object_object_get_ex(f, "code", &c))
			continue;
		code = iw_code_from_name(json_object_get_string(c));
		if (code == IW_F_PARENT_REFERENCE)
			continue;
		if (code >= 0) {
			enum iw_verdict v = iw_verdict_of_class(
				iw_code_class((enum iw_code)code));
			if (v > verdict)
				verdict = v;
		} else {
			verdict = IW_UNSAFE; /* unknown code: keep it unsafe */
		}
		json_object_array_add(kept, json_object_get(f));
	}
	json_object_put(rep->findings);
	rep->findings = kept;
	rep->verdict = verdict;
	return 0;
}

static int cmp_chain_entry(const void *a, const void *b)
{
	const struct tar_chain_entry *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

static int tar_check_chain(struct tar_state *s)
{
	struct tar_chain_entry *chain, legacy[3];
	unsigned n;
	bool linked = true, gap = false;
	/* Only a head of the archive was walked (the decompressed prefix of
	 * a large .tgz): members past it were not seen, so a number missing
	 * from the sequence, or a last member that is a differencing disk,
	 * says nothing about the chain. Those are "not inspected", never
	 * "broken"; the converter judges the whole archive. */
	bool open_end = !s->complete;
	json_object *obj, *order, *links;

	if (s->n_numbered == 0 && s->n_legacy == 0)
		return 0;
	if (s->n_numbered && s->n_legacy) {
		/* os-xenapi renames snap.vhd to 0.vhd etc. over the numbered
		 * members: which file ends up where depends on the order */
		iw_finding(s->r, IW_F_CHAIN_GAP,
			   "the archive mixes numbered and legacy "
			   "(snap/image/base.vhd) chain members");
		gap = true;
	}
	if (s->legacy_duplicate) {
		iw_finding(s->r, IW_F_CHAIN_GAP,
			   "legacy chain member names appear more than once");
		gap = true;
	}
	if (s->chain_overflow) {
		iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
			   "the VHD chain has more than %d members; not "
			   "checked",
			   TAR_CHAIN_MAX);
		return 0;
	}
	if (s->n_numbered) {
		chain = s->numbered;
		n = s->n_numbered;
	} else {
		/* legacy: the present ones in snap, image, base order */
		chain = legacy;
		n = 0;
		for (unsigned i = 0; i < 3; i++)
			if (s->legacy[i].name)
				legacy[n++] = s->legacy[i];
	}
	qsort(chain, n, sizeof(*chain), cmp_chain_entry);
	if (s->n_numbered) {
		unsigned expected = 0;

		for (unsigned i = 0; i < n; i++) {
			if (i > 0 && chain[i].number == chain[i - 1].number) {
				iw_finding(s->r, IW_F_CHAIN_GAP,
					   "chain member number %u appears "
					   "twice",
					   chain[i].number);
				gap = true;
				continue;
			}
			if (chain[i].number != expected && open_end) {
				iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
					   "chain member %u.vhd is not in the "
					   "inspected part of the archive",
					   expected);
				gap = true;
			} else if (chain[i].number != expected) {
				iw_finding(s->r, IW_F_CHAIN_GAP,
					   "chain member %u.vhd is missing "
					   "before %s",
					   expected, chain[i].name);
				gap = true;
			}
			expected = chain[i].number + 1;
		}
		if (s->n_other_vhd) {
			iw_finding(s->r, IW_F_CHAIN_GAP,
				   "%u other .vhd member(s) would be counted "
				   "in the numbering",
				   s->n_other_vhd);
			gap = true;
		}
	}

	obj = json_object_new_object();
	order = json_object_new_array();
	links = json_object_new_array();
	if (!obj || !order || !links) {
		json_object_put(obj);
		json_object_put(order);
		json_object_put(links);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++)
		json_object_array_add(order, json_object_new_string(
						     chain[i].name ? chain[i].name
								   : "?"));
	json_object_object_add(obj, "length", json_object_new_int(n));
	json_object_object_add(obj, "order", order);
	json_object_object_add(obj, "swap", json_object_new_boolean(s->swap));

	for (unsigned i = 0; i < n && !gap; i++) {
		struct tar_vhd_fields f, parent;
		const char *why = NULL;
		bool last = i + 1 == n;

		tar_vhd_fields(s, chain[i].pending, &f);
		if (!f.known) {
			iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
				   "chain member %s was not inspected",
				   chain[i].name);
			linked = false;
			continue;
		}
		if (f.partial && (strcmp(f.format, "vhd") != 0 || !f.disk_type)) {
			/* e.g. a fixed VHD (footer at its end) beyond the
			 * decompressed head of a .tgz */
			iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
				   "chain member %s was only partly inspected",
				   chain[i].name);
			linked = false;
			continue;
		}
		if (strcmp(f.format, "vhd") != 0) {
			iw_finding(s->r, IW_F_CHAIN_BROKEN,
				   "chain member %s is %s, not a VHD",
				   chain[i].name, f.format);
			linked = false;
			continue;
		}
		if (!f.disk_type) {
			iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
				   "chain member %s has no disk type in its "
				   "report",
				   chain[i].name);
			linked = false;
			continue;
		}
		if (last && open_end &&
		    strcmp(f.disk_type, "differencing") == 0) {
			/* its parent may well follow the inspected part */
			iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
				   "chain member %s is a differencing disk "
				   "whose parent is not in the inspected part "
				   "of the archive",
				   chain[i].name);
			s->pending[chain[i].pending].chain_member = true;
			linked = false;
			continue;
		}
		if (last) {
			if (strcmp(f.disk_type, "fixed") != 0 &&
			    strcmp(f.disk_type, "dynamic") != 0) {
				iw_finding(s->r, IW_F_CHAIN_BROKEN,
					   "the chain's base %s is a %s disk, "
					   "not fixed or dynamic",
					   chain[i].name, f.disk_type);
				linked = false;
			} else {
				s->pending[chain[i].pending].chain_member =
					true;
			}
			continue;
		}
		tar_vhd_fields(s, chain[i + 1].pending, &parent);
		if (strcmp(f.disk_type, "differencing") != 0)
			why = "is not a differencing disk";
		else if (!parent.known || !parent.unique_id ||
			 !f.parent_uuid) {
			iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
				   "the link from %s to %s was not checked",
				   chain[i].name, chain[i + 1].name);
			linked = false;
			continue;
		} else if (strcasecmp(f.parent_uuid, parent.unique_id) != 0)
			why = "names a parent UUID that is not the next "
			      "member's unique ID";
		else if (f.size >= 0 && parent.size >= 0 && f.size < parent.size)
			why = "is smaller than its parent";
		if (why) {
			iw_finding(s->r, IW_F_CHAIN_BROKEN,
				   "chain member %s %s (next member %s)",
				   chain[i].name, why, chain[i + 1].name);
			linked = false;
			continue;
		}
		s->pending[chain[i].pending].chain_member = true;
		{
			json_object *l = json_object_new_object();

			if (l) {
				json_object_object_add(
					l, "child",
					json_object_new_string(chain[i].name));
				json_object_object_add(
					l, "parent",
					json_object_new_string(
						chain[i + 1].name));
				json_object_object_add(
					l, "parent-uuid",
					json_object_new_string(f.parent_uuid));
				json_object_array_add(links, l);
			}
		}
	}
	json_object_object_add(obj, "links", links);
	json_object_object_add(obj, "linked",
			       json_object_new_boolean(linked && !gap));
	if (iw_report_fs(s->r))
		json_object_object_add(iw_report_fs(s->r), "xenserver-chain",
				       obj);
	else
		json_object_put(obj);
	return 0;
}

/* After the end-of-archive block: zeros (GNU pads to 10 KiB records) are
 * normal; a header there is a member only some tools see (tar -i). */
static int tar_check_trailing(struct tar_state *s, uint64_t end)
{
	uint8_t buf[TAR_BLOCK_SIZE];
	uint64_t off, limit = MIN(s->v->size, end + TAR_TRAILING_SCAN);

	for (off = end; off < limit; off += TAR_BLOCK_SIZE) {
		size_t got;
		int ret = iw_view_read_upto(s->v, buf, sizeof(buf), off, &got);

		if (ret == -E2BIG)
			return 0;
		if (ret < 0)
			return ret;
		if (mem_is_zero(buf, got))
			continue;
		if (got == TAR_BLOCK_SIZE && tar_checksum_ok(buf))
			iw_finding(s->r, IW_F_BAD_ARCHIVE,
				   "a member header at offset %llu follows the "
				   "end-of-archive marker",
				   (unsigned long long)off);
		else
			iw_finding(s->r, IW_F_TRAILING_DATA,
				   "non-zero data at offset %llu after the "
				   "end-of-archive marker",
				   (unsigned long long)off);
		return 0;
	}
	return 0;
}

static int tar_walk(struct tar_state *s)
{
	struct tar_cursor c = { .pos = 0 };

	for (;;) {
		struct tar_member m;
		int ret;

		if (s->n_members >= TAR_MAX_MEMBERS) {
			iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
				   "more than %d members; the rest were not "
				   "inspected",
				   TAR_MAX_MEMBERS);
			return 0;
		}
		ret = tar_next(s->v, &c, &m);
		if (ret < 0)
			return ret;
		switch (ret) {
		case TAR_NEXT_MEMBER:
			ret = tar_member(s, &m);
			tar_member_done(&m);
			if (ret < 0)
				return ret;
			continue;
		case TAR_NEXT_END:
			s->complete = true;
			return tar_check_trailing(s, c.pos);
		case TAR_NEXT_EOF:
			iw_finding(s->r, IW_F_TRUNCATED,
				   "the archive ends without an end-of-archive "
				   "marker");
			s->complete = true;
			return 0;
		case TAR_NEXT_TRUNCATED:
			iw_finding(s->r, IW_F_TRUNCATED,
				   "the archive ends inside the header at "
				   "offset %llu",
				   (unsigned long long)c.pos);
			return 0;
		case TAR_NEXT_INCOMPLETE:
			iw_finding(s->r, IW_F_INSPECTION_INCOMPLETE,
				   "members after offset %llu were not "
				   "inspected",
				   (unsigned long long)c.pos);
			return 0;
		case TAR_NEXT_BAD:
		default:
			iw_finding(s->r, IW_F_BAD_ARCHIVE, "%s at offset %llu",
				   c.error ? c.error : "malformed header",
				   (unsigned long long)c.error_offset);
			return 0;
		}
	}
}

static int tar_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	struct tar_state s = { .v = v, .r = r, .ctx = ctx };
	int ret;

	r->format = "tar";
	iw_finding(r, IW_F_ARCHIVE,
		   "a tar archive: extract the image from it first");
	s.hashes = calloc(TAR_HASH_SLOTS, sizeof(*s.hashes));
	if (!s.hashes)
		return -ENOMEM;
	s.listing = json_object_new_array();

	ret = tar_walk(&s);
	if (ret < 0)
		goto out;
	if (s.sniff_capped)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "only the first %d members were sniffed",
			   TAR_MAX_SNIFFED);
	if (s.ova)
		tar_scan_ovf(&s);
	ret = tar_check_chain(&s);
	if (ret < 0)
		goto out;

	iw_fs_set_int(r, "member-count", s.n_members);
	iw_fs_set_bool(r, "ova", s.ova);
	if (s.listing && iw_report_fs(r))
		json_object_object_add(iw_report_fs(r), "members",
				       TAKE_PTR(s.listing));

	/* attach the sniffed members in archive order */
	for (unsigned i = 0; i < s.n_pending; i++) {
		struct tar_pending *p = &s.pending[i];

		if (p->chain_member) {
			ret = tar_resolve_parent(&p->rep);
			if (ret < 0)
				goto out;
		}
		ret = iw_report_add_child(r, p->chain_member ? "chain-member"
							     : "member",
					  p->name, &p->rep);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	for (unsigned i = 0; i < s.n_pending; i++) {
		iw_report_done(&s.pending[i].rep);
		free(s.pending[i].name);
	}
	for (unsigned i = 0; i < s.n_numbered; i++)
		free(s.numbered[i].name);
	for (unsigned i = 0; i < 3; i++)
		free(s.legacy[i].name);
	json_object_put(s.listing);
	free(s.hashes);
	free(s.ovf);
	return ret;
}

const struct iw_format iw_format_tar = {
	.name = "tar",
	.kind = IW_KIND_ARCHIVE,
	.match = tar_match,
	.probe = tar_probe,
};
