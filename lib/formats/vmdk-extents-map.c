/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Multi-file VMDK block map (vmdk-extents-map.h): a text descriptor and
 * the extent files the caller listed.
 *
 * How qemu 7.2 reads a descriptor file (block/vmdk.c vmdk_open,
 * vmdk_open_desc_file, vmdk_parse_extents, vmdk_add_extent,
 * vmdk_open_vmdk4), which our output must equal byte for byte:
 *  - createType must be monolithicFlat, vmfs, vmfsSparse, seSparse,
 *    twoGbMaxExtentSparse or twoGbMaxExtentFlat;
 *  - each line `RW SECTORS TYPE "NAME" [OFFSET]` with TYPE FLAT (OFFSET
 *    required, sectors), VMFS (= FLAT at offset 0), SPARSE (a hosted
 *    sparse KDMV file, or a COWD one), VMFSSPARSE, SESPARSE appends an
 *    extent, in order; the guest disk is the extents end to end;
 *  - lines with another access word (RDONLY, NOACCESS), ZERO extents (no
 *    quoted name: sscanf matches 3 fields) and extents of 0 sectors are
 *    SKIPPED: they take no guest space in qemu, while VMware maps them.
 *    The two disagree about the disk, so we refuse such descriptors;
 *  - a FLAT extent is `sectors` sectors at byte OFFSET * 512 of its file
 *    (reads past the file's end would be zeros: a truncated flat file, we
 *    refuse it);
 *  - a SPARSE extent's size is its header's capacity, whatever the line
 *    says (we require both to agree); its embedded descriptor is never
 *    read; a stream-optimized extent with the grain directory at the end
 *    has its footer read at the descriptor file's size (a qemu bug: we
 *    refuse it);
 *  - CID/parentCID/parentFileNameHint come from the descriptor file;
 *  - sscanf skips newlines as blanks: a blank line just before an extent
 *    line reads as that extent line, so qemu appends the extent twice
 *    (VMware once). We refuse that too.
 *
 * Linkage, instead of opening names: the lines that name files, in
 * order, correspond one to one to the files given; the last path
 * component of each line's name equals the caller's name for it. Names
 * qemu would resolve elsewhere than next to the descriptor (absolute,
 * with a ".." component, with a protocol prefix such as json: or nbd:)
 * are refused: they are compared, never opened, but qemu would read
 * another file than the one given.
 *
 * The descriptor itself is judged by the sniffer's reader first (bad
 * lines, qemu's reading of createType/CID differing from the grammar's,
 * lines qemu parses that the grammar rejects, parents, ...); only the
 * findings every descriptor file gets (it names other files, which is the
 * point here) are set aside.
 *
 * Memory: the extent list (IW_VMDK_EXTENTS_MAX entries), and per sparse
 * extent one sparse map (GD window, one GT) plus a share of at most
 * VMDK_EXTENTS_MAX_GTS grain table numbers for all of them; the 1 MiB
 * descriptor buffer only while opening.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "formats.h"
#include "map.h"
#include "vmdk-extents-map.h"
#include "vmdk.h"

/* Allocated grain tables remembered over all sparse extents together (4
 * bytes each): the single-file map's bound (4 MiB), which covers 2 TiB of
 * 4 KiB grains or 32 TiB of the usual 64 KiB ones. */
#define VMDK_EXTENTS_MAX_GTS (1u << 20)
/* qemu's sscanf reads at most 511 bytes of a name (%511[^\n\r"]): a
 * longer one is cut there */
#define VMDK_EXTENTS_MAX_NAME 511u
/* how much of a name goes into a finding */
#define VMDK_EXTENTS_NAME_SHOWN 120

struct vx_extent {
	uint64_t start;		 /* guest bytes */
	uint64_t len;
	uint64_t host;		 /* FLAT: byte offset in the file */
	unsigned file;		 /* index into the engine's src_fds */
	const char *name;	 /* the caller's name, for findings */
	struct iw_map *sparse;	 /* SPARSE: its map; NULL: FLAT */
	struct iw_report *rep;	 /* SPARSE: its map's findings */
};

struct vx_map {
	struct iw_map m;
	size_t n;
	size_t cur; /* the extent the last lookup found */
	struct vx_extent e[];
};

static const char *const vx_accepted_types[] = {
	"monolithicFlat",
	"twoGbMaxExtentFlat",
	"twoGbMaxExtentSparse",
	"vmfs",
};

static bool vx_text_is(const char *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

static int vx_fail(struct iw_report *r, int err, enum iw_code code,
		   const char *what)
{
	iw_finding(r, code, "%s", what);
	return err;
}

/* copy the findings of an extent's own report, named after its file */
static void vx_copy_extent_findings(struct iw_report *r, const struct vx_extent *x,
				    size_t i)
{
	_cleanup_free_ char *clean = iw_sanitize(x->name, strlen(x->name), NULL);
	char prefix[200];

	snprintf(prefix, sizeof(prefix), "extent %zu (%.120s): ", i + 1,
		 clean ? clean : "?");
	iw_report_copy_findings(r, x->rep, -1, prefix);
}

static int vx_next(struct iw_map *m, uint64_t offset, uint64_t max_length,
		   struct iw_extent *ret)
{
	struct vx_map *vm = (struct vx_map *)m;
	struct vx_extent *x;
	uint64_t in, len;
	int err;

	if (offset >= m->virtual_size || max_length == 0)
		return -EINVAL;
	x = &vm->e[vm->cur];
	if (offset < x->start || offset - x->start >= x->len) {
		/* the last extent that starts at or before offset */
		size_t a = 0, b = vm->n;

		while (b - a > 1) {
			size_t mid = a + (b - a) / 2;
			if (vm->e[mid].start <= offset)
				a = mid;
			else
				b = mid;
		}
		vm->cur = a;
		x = &vm->e[a];
	}
	in = offset - x->start;
	len = MIN(max_length, x->len - in);
	if (!x->sparse) {
		*ret = (struct iw_extent){ .offset = offset,
					   .length = len,
					   .type = IW_EXTENT_DATA,
					   .host_offset = x->host + in,
					   .file = x->file };
		return 0;
	}
	err = x->sparse->ops->next(x->sparse, in, len, ret);
	if (err < 0) {
		vx_copy_extent_findings(m->report, x, (size_t)(x - vm->e));
		return err;
	}
	/* the sparse map keeps its own contract (checked again by the
	 * engine); move it to guest offsets and our file numbering */
	if (ret->offset != in || ret->length == 0 || ret->length > len) {
		iw_finding(m->report, IW_F_BAD_FIELD,
			   "internal: a sparse extent's map broke its "
			   "contract");
		return -EINVAL;
	}
	ret->offset = offset;
	ret->file = x->file;
	return 0;
}

static void vx_free(struct iw_map *m)
{
	struct vx_map *vm = (struct vx_map *)m;

	for (size_t i = 0; i < vm->n; i++) {
		iw_map_free(vm->e[i].sparse);
		if (vm->e[i].rep) {
			iw_report_done(vm->e[i].rep);
			free(vm->e[i].rep);
		}
	}
	free(vm);
}

static const struct iw_map_ops vx_ops = {
	.next = vx_next,
	.free = vx_free,
};

/* The sniffer's judgement of the descriptor, minus what every descriptor
 * file gets for naming its extents: external-extent, protocol-reference
 * (names are checked below, one by one) and unsupported-subformat (the
 * createType is checked below). 0 when nothing else is wrong. */
static int vx_sniff(const struct iw_view *v, struct iw_report *r)
{
	uint8_t head[VMDK_SECTOR_SIZE];
	struct iw_report scratch;
	size_t got = 0, n;
	bool bad = false;
	int err;

	memset(head, 0, sizeof(head));
	err = iw_view_read_upto(v, head, sizeof(head), 0, &got);
	if (err < 0 && err != -ERANGE)
		return err;
	err = iw_report_init(&scratch);
	if (err < 0)
		return err;
	err = iw_format_vmdk.probe(v, head, got, &scratch, NULL);
	if (err < 0)
		goto out;
	n = scratch.findings ? json_object_array_length(scratch.findings) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(scratch.findings, i);
		json_object *c, *d;
		int code;

		if (!json_object_object_get_ex(f, "code", &c) ||
		    !json_object_object_get_ex(f, "detail", &d))
			continue;
		code = iw_code_from_name(json_object_get_string(c));
		if (code < 0 || code == IW_F_EXTERNAL_EXTENT ||
		    code == IW_F_PROTOCOL_REFERENCE ||
		    code == IW_F_UNSUPPORTED_SUBFORMAT ||
		    iw_code_class((enum iw_code)code) == IW_CLASS_INFO)
			continue;
		/* the reader's details mostly say "descriptor" already */
		iw_finding(r, (enum iw_code)code, "%s%s",
			   strncmp(json_object_get_string(d), "descriptor", 10)
				   ? "descriptor: "
				   : "",
			   json_object_get_string(d));
		bad = true;
	}
	err = bad ? -EINVAL : 0;
out:
	iw_report_done(&scratch);
	return err;
}

/* A name qemu resolves next to the descriptor: relative, no ".."
 * component, no protocol prefix (qemu's path_has_protocol: a ':' before
 * the first '/'), no longer than its sscanf reads. NULL, or why not. */
static const char *vx_name_problem(const char *p, size_t len,
				   enum iw_code *ret_code)
{
	size_t colon = 0, comp = 0;

	*ret_code = IW_F_EXTERNAL_EXTENT;
	while (colon < len && p[colon] != ':' && p[colon] != '/')
		colon++;
	if (colon < len && p[colon] == ':') {
		*ret_code = IW_F_PROTOCOL_REFERENCE;
		return "has a protocol prefix (json:, nbd:, ...)";
	}
	if (len > 0 && p[0] == '/')
		return "is an absolute path";
	for (size_t i = 0; i <= len; i++) {
		if (i == len || p[i] == '/') {
			if (i - comp == 2 && p[comp] == '.' && p[comp + 1] == '.')
				return "has a \"..\" component";
			comp = i + 1;
		}
	}
	if (len > VMDK_EXTENTS_MAX_NAME)
		return "is longer than the 511 bytes qemu reads";
	if (len == 0 || p[len - 1] == '/')
		return "names no file";
	return NULL;
}

static void vx_name_finding(struct iw_report *r, enum iw_code code,
			    const struct vmdk_extent_line *e, const char *why)
{
	_cleanup_free_ char *clean = iw_sanitize(e->name, e->name_len, NULL);

	iw_finding(r, code,
		   "line %u: the extent name \"%.120s\" %s: imgward only "
		   "compares it with the files given (never opens it), but "
		   "qemu would read another file than the one given",
		   e->line, clean ? clean : "?", why);
}

/* The descriptor's own fields: createType, ids, and every extent line. */
static int vx_check_descriptor(const struct vmdk_descriptor *d,
			       struct iw_report *r, size_t *ret_files)
{
	const struct vmdk_text *ct = &d->create_type;
	size_t files = 0;
	bool ok = false;

	if (d->n_bad_lines || d->n_salvaged)
		return vx_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
			       "the descriptor does not follow the grammar");
	if (!d->has_version || !d->has_cid || !d->has_parent_cid)
		return vx_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
			       "the descriptor lacks version, CID or "
			       "parentCID");
	if (d->parent_cid != UINT32_MAX || d->parent_hint.p) {
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "parentCID is %08x%s: a delta disk (snapshot) "
			   "needs its parent",
			   d->parent_cid,
			   d->parent_hint.p ? ", parentFileNameHint is set"
					    : "");
		return -EINVAL;
	}
	if (!ct->p)
		return vx_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
			       "no createType line");
	for (size_t i = 0; i < ARRAY_SIZE(vx_accepted_types); i++)
		if (vx_text_is(ct->p, ct->len, vx_accepted_types[i]))
			ok = true;
	if (!ok) {
		_cleanup_free_ char *clean = iw_sanitize(ct->p, ct->len, NULL);

		iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
			   "createType \"%.64s\" is not converted (accepted: "
			   "monolithicFlat, twoGbMaxExtentFlat, "
			   "twoGbMaxExtentSparse, vmfs)",
			   clean ? clean : "?");
		return -EPROTONOSUPPORT;
	}
	if (d->n_extents == 0)
		return vx_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
			       "no extent lines");
	if (d->n_extents > IW_VMDK_EXTENTS_MAX) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "%zu extents (at most %d are converted)",
			   d->n_extents, IW_VMDK_EXTENTS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < d->n_extents; i++) {
		const struct vmdk_extent_line *e = &d->extents[i];
		enum iw_code code;
		const char *why;

		if (e->access != VMDK_ACCESS_RW) {
			iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
				   "line %u: an extent that is not RW: qemu "
				   "7.2 skips it, VMware maps it (the two "
				   "disagree about the disk)",
				   e->line);
			return -EPROTONOSUPPORT;
		}
		switch (e->type) {
		case VMDK_EXTENT_FLAT:
		case VMDK_EXTENT_VMFS:
		case VMDK_EXTENT_SPARSE:
			break;
		case VMDK_EXTENT_ZERO:
			iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
				   "line %u: a ZERO extent: qemu 7.2 skips it "
				   "(the extents after it move down), VMware "
				   "reads it as zeros (the two disagree about "
				   "the disk)",
				   e->line);
			return -EPROTONOSUPPORT;
		default:
			iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
				   "line %u: %s extents are not converted",
				   e->line, vmdk_extent_type_name(e->type));
			return -EPROTONOSUPPORT;
		}
		if (e->sectors == 0) {
			iw_finding(r, IW_F_BAD_DESCRIPTOR,
				   "line %u: an extent of 0 sectors (qemu "
				   "skips it and never opens its file)",
				   e->line);
			return -EINVAL;
		}
		if (e->sectors > (uint64_t)INT64_MAX / VMDK_SECTOR_SIZE) {
			iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
				   "line %u: an extent beyond 2^63 bytes",
				   e->line);
			return -EINVAL;
		}
		/* the grammar gives FLAT an offset and nothing else one */
		if (!e->name)
			return vx_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
				       "an extent line without a file name");
		why = vx_name_problem(e->name, e->name_len, &code);
		if (why) {
			vx_name_finding(r, code, e, why);
			return -EINVAL;
		}
		files++;
	}
	if (d->total_sectors > (uint64_t)INT64_MAX / VMDK_SECTOR_SIZE)
		return vx_fail(r, -EINVAL, IW_F_IMPOSSIBLE_SIZE,
			       "the extents add up to more than 2^63 bytes");
	*ret_files = files;
	return 0;
}

/* No extent line right after a blank line (spaces, tabs, CR only): qemu
 * would read it twice (see the top of this file). Lines are cut at '\n'
 * as vmdk_parse_descriptor cuts them, so e->line numbers them. */
static int vx_check_blank_lines(const char *text, size_t len,
				const struct vmdk_descriptor *d,
				struct iw_report *r)
{
	size_t pos = 0, k = 0;
	unsigned line = 0;
	bool prev_blank = false;

	while (pos < len && k < d->n_extents) {
		const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		bool blank = true;

		pos += n + (nl != NULL);
		line++;
		for (size_t i = 0; i < n && blank; i++)
			blank = p[i] == ' ' || p[i] == '\t' || p[i] == '\r';
		if (d->extents[k].line == line) {
			if (prev_blank) {
				iw_finding(r, IW_F_BAD_DESCRIPTOR,
					   "line %u is blank and line %u is "
					   "an extent line: qemu 7.2 reads "
					   "that extent twice (sscanf skips "
					   "the newline), VMware once",
					   line - 1, line);
				return -EINVAL;
			}
			k++;
		}
		prev_blank = blank;
	}
	return 0;
}

/* The i-th line's last path component is names[i]. */
static bool vx_name_matches(const struct vmdk_extent_line *e, const char *name)
{
	const char *base = e->name;
	size_t len = e->name_len;
	const char *slash = memrchr(e->name, '/', e->name_len);

	if (slash) {
		base = slash + 1;
		len = e->name_len - (size_t)(base - e->name);
	}
	return strlen(name) == len && memcmp(base, name, len) == 0;
}

static int vx_open_extent(struct vx_map *vm, const struct vmdk_extent_line *e,
			  const struct iw_view *v, size_t i, uint64_t start,
			  size_t *gts_left)
{
	struct vx_extent *x = &vm->e[i];
	struct iw_report *r = vm->m.report;
	_cleanup_free_ char *clean = iw_sanitize(x->name, strlen(x->name), NULL);
	uint64_t bytes = e->sectors * VMDK_SECTOR_SIZE; /* checked */
	size_t n_gts = 0;
	int err;

	x->start = start;
	x->len = bytes;
	x->file = (unsigned)(i + 1);
	if (e->type != VMDK_EXTENT_SPARSE) {
		/* FLAT at OFFSET sectors; VMFS at 0 */
		if (e->offset > UINT64_MAX / VMDK_SECTOR_SIZE ||
		    !range_ok(e->offset * VMDK_SECTOR_SIZE, bytes, v->size)) {
			iw_finding(r, IW_F_TRUNCATED,
				   "line %u: the flat extent \"%.120s\" needs "
				   "%" PRIu64 " bytes from offset %" PRIu64
				   " sectors, the file has %" PRIu64 " bytes",
				   e->line, clean ? clean : "?", bytes,
				   e->offset, v->size);
			return -EINVAL;
		}
		x->host = e->offset * VMDK_SECTOR_SIZE;
		return 0;
	}
	x->rep = malloc(sizeof(*x->rep));
	if (!x->rep)
		return -ENOMEM;
	err = iw_report_init(x->rep);
	if (err < 0) {
		free(x->rep);
		x->rep = NULL;
		return err;
	}
	err = vmdk_sparse_extent_open(v, x->rep, *gts_left, &n_gts,
				      &x->sparse);
	if (err < 0) {
		vx_copy_extent_findings(r, x, i);
		return err;
	}
	*gts_left -= n_gts;
	/* qemu sizes a SPARSE extent by its header and ignores the line's
	 * count: a disagreement means the files are not this disk's */
	if (x->sparse->virtual_size != bytes) {
		iw_finding(r, IW_F_CHAIN_BROKEN,
			   "line %u says %" PRIu64 " sectors, the sparse "
			   "extent \"%.120s\" holds %" PRIu64,
			   e->line, e->sectors, clean ? clean : "?",
			   x->sparse->virtual_size / VMDK_SECTOR_SIZE);
		return -EINVAL;
	}
	vm->m.max_unit_size = MAX(vm->m.max_unit_size, x->sparse->max_unit_size);
	vm->m.max_comp_length =
		MAX(vm->m.max_comp_length, x->sparse->max_comp_length);
	return 0;
}

int iw_map_open_vmdk_extents(const struct iw_view *descriptor,
			     const char *const *names,
			     const struct iw_view *const *extents, size_t n,
			     struct iw_report *r, struct iw_map **ret)
{
	_cleanup_free_ struct vmdk_descriptor *d = NULL;
	_cleanup_free_ char *text = NULL;
	struct vx_map *vm = NULL;
	size_t len, tlen, files = 0, gts_left = VMDK_EXTENTS_MAX_GTS;
	uint64_t pos = 0;
	const char *nul;
	uint8_t magic[4];
	int err;

	*ret = NULL;
	if (n > IW_VMDK_EXTENTS_MAX) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "%zu extent files given (at most %d)", n,
			   IW_VMDK_EXTENTS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!names || !names[i] || !extents || !extents[i])
			return -EINVAL;
	if (descriptor->size < sizeof(magic))
		return vx_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
			       "the descriptor file is too small");
	err = iw_view_read(descriptor, magic, sizeof(magic), 0);
	if (err < 0)
		return err == -ERANGE ? -EINVAL : err;
	if (get_be32(magic) == VMDK4_MAGIC || get_be32(magic) == VMDK3_MAGIC)
		return vx_fail(r, -EPROTONOSUPPORT, IW_F_UNSUPPORTED_SUBFORMAT,
			       "the descriptor is a sparse extent, not a text "
			       "descriptor file (convert it alone)");
	/* qemu reads at most 1 MiB - 1 of it; real ones are < 1 KiB */
	if (descriptor->size > VMDK_DESC_MAX_SIZE)
		return vx_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
			       "the descriptor file is larger than the 1 MiB "
			       "qemu reads");
	err = vx_sniff(descriptor, r);
	if (err < 0)
		return err;

	len = (size_t)descriptor->size;
	text = malloc(len + 1);
	d = malloc(sizeof(*d));
	if (!text || !d)
		return -ENOMEM;
	err = iw_view_read(descriptor, text, len, 0);
	if (err < 0)
		return err == -ERANGE ? -EINVAL : err;
	nul = memchr(text, '\0', len);
	tlen = nul ? (size_t)(nul - text) : len;
	if (!mem_is_zero(text + tlen, len - tlen))
		return vx_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
			       "bytes after the descriptor text");
	vmdk_parse_descriptor(text, tlen, d);
	err = vx_check_descriptor(d, r, &files);
	if (err < 0)
		return err;
	err = vx_check_blank_lines(text, tlen, d, r);
	if (err < 0)
		return err;
	if (files != n) {
		iw_finding(r, IW_F_CHAIN_BROKEN,
			   "the descriptor names %zu extent files, %zu were "
			   "given",
			   files, n);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vmdk_extent_line *e = &d->extents[i];

		if (!vx_name_matches(e, names[i])) {
			_cleanup_free_ char *a =
				iw_sanitize(e->name, e->name_len, NULL);
			_cleanup_free_ char *b =
				iw_sanitize(names[i], strlen(names[i]), NULL);

			iw_finding(r, IW_F_CHAIN_BROKEN,
				   "extent %zu: line %u names \"%.120s\", the "
				   "file given is \"%.120s\"",
				   i + 1, e->line, a ? a : "?", b ? b : "?");
			return -EINVAL;
		}
	}

	vm = calloc(1, sizeof(*vm) + n * sizeof(vm->e[0]));
	if (!vm)
		return -ENOMEM;
	vm->m = (struct iw_map){ .ops = &vx_ops, .view = descriptor,
				 .report = r };
	vm->n = n;
	for (size_t i = 0; i < n; i++) {
		vm->e[i].name = names[i];
		err = vx_open_extent(vm, &d->extents[i], extents[i], i, pos,
				     &gts_left);
		if (err < 0)
			goto fail;
		pos += vm->e[i].len; /* total checked below 2^63 */
	}
	vm->m.virtual_size = pos;
	*ret = &vm->m;
	return 0;
fail:
	vx_free(&vm->m);
	return err;
}
