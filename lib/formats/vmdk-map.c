/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMDK block map: one hosted sparse extent ("KDMV") that is the whole
 * disk, uncompressed (monolithicSparse) or with deflate grains and
 * markers (streamOptimized, qemu's layout or VMware's one-pass layout
 * with the grain directory at the end and a footer).
 *
 * Sources: VMware "Virtual Disk Format 5.0" (SparseExtentHeader, grain
 * directory and tables, stream-optimized markers and footer) and qemu
 * 7.2 block/vmdk.c (vmdk_open_vmdk4, get_cluster_offset,
 * vmdk_read_extent, vmdk_co_preadv), whose output we must reproduce.
 *
 * Guest grain g (grain_bytes each; the last one is cut at the capacity)
 * has its grain table entry (GTE) in the grain table (GT) named by grain
 * directory (GD) entry g / 512, slot g % 512. GD entries and GTEs are
 * 32-bit sector numbers. GD entry 0 or GTE 0: unallocated, read as zeros
 * (no parent is ever accepted). GTE 1 with the zeroed-grain flag: zeros.
 * Otherwise an uncompressed grain's bytes are at GTE * 512; a compressed
 * grain starts with a marker {lba u64, size u32} followed by `size`
 * bytes of zlib stream that inflate to the grain (qemu compresses the
 * last partial grain alone, so it inflates to the partial size).
 *
 * Refused (with a finding): descriptor files and COWD extents (their
 * data lives in other files: the caller must list them), anything the
 * sniffer's reader does not call safe (run again here, so a direct call
 * cannot bypass it: parents, other extents, bad descriptors, unknown
 * flags, ...), and, checked here on what we use: GD/GTs/grains outside
 * the file, grains or GTs overlapping the header, descriptor, GDs,
 * footer or another GT, grains below the header's overhead, markers
 * whose lba is not their grain's sector or whose size is impossible.
 *
 * The same map serves one SPARSE extent of a multi-file VMDK
 * (vmdk_sparse_extent_open, for vmdk-extents-map.c): there the descriptor
 * is another file, so the embedded one (qemu-img writes an empty area)
 * is only metadata to keep grains off, and the sniffer, which wants a
 * whole disk in one file, does not run.
 *
 * Memory: a 4 KiB window of the GD, one 2 KiB GT, and the sorted sector
 * numbers of the allocated GTs (at most VMDK_MAP_MAX_GTS * 4 bytes, or
 * the budget the caller gives an extent).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "formats.h"
#include "map.h"
#include "vmdk-extents-map.h"
#include "vmdk.h"

/* GD entries read per refill: the converter walks the disk in order, so
 * a small window reads each GD byte once. */
#define VMDK_MAP_GD_WINDOW 1024u
/* Allocated grain tables we remember (their sector numbers, sorted, to
 * find grains overlapping one). 1 Mi GTs (4 MiB) map 32 TiB of 64 KiB
 * grains or 2 TiB (the hosted sparse maximum) of 4 KiB grains; more
 * means tiny grains no writer uses. */
#define VMDK_MAP_MAX_GTS (1u << 20)
/* Compressed grains are decompressed whole by each worker: cap them so
 * unit + compressed buffers stay small. qemu and VMware write 64 KiB
 * grains; 1 MiB leaves room for any sane writer. */
#define VMDK_MAP_MAX_COMPRESSED_GRAIN (1u << 20)
/* GT sectors: 512 entries of 4 bytes */
#define VMDK_MAP_GT_BYTES (VMDK4_GTES_PER_GT * 4u)
#define VMDK_MAP_GT_SECTORS (VMDK_MAP_GT_BYTES / VMDK_SECTOR_SIZE)
/* fixed metadata ranges: header, descriptor, GD, redundant GD, footer */
#define VMDK_MAP_MAX_META 5

struct vmdk_range {
	uint64_t off, len;
	const char *what;
};

struct vmdk_map {
	struct iw_map m;
	struct vmdk4_header h;
	struct vmdk4_layout l;
	uint64_t file_size;
	uint64_t grain_sectors;
	uint64_t overhead_bytes;  /* grains start at or after this */
	struct vmdk_range meta[VMDK_MAP_MAX_META];
	unsigned n_meta;
	uint32_t *gts;		  /* sorted sector numbers of allocated GTs */
	size_t n_gts;
	size_t max_gts;		  /* cap on n_gts */
	/* GD window: entries [gd_first, gd_first + gd_count) */
	uint64_t gd_first;
	size_t gd_count;
	uint8_t gd_buf[VMDK_MAP_GD_WINDOW * 4];
	/* the current grain table (gt_sector 0: none) */
	uint32_t gt_sector;
	uint8_t gt[VMDK_MAP_GT_BYTES];
};

static bool vmdk_map_overlaps(uint64_t a, uint64_t alen, uint64_t b,
			      uint64_t blen)
{
	uint64_t aend, bend;

	if (alen == 0 || blen == 0)
		return false;
	/* ends past 2^64 are clamped: what starts below still overlaps */
	if (ADD_OVERFLOW(a, alen, &aend))
		aend = UINT64_MAX;
	if (ADD_OVERFLOW(b, blen, &bend))
		bend = UINT64_MAX;
	return a < bend && b < aend;
}

static int vmdk_map_fail(struct iw_report *r, int err, enum iw_code code,
			 const char *what)
{
	iw_finding(r, code, "%s", what);
	return err;
}

/* the fixed metadata range [off, off+len) overlaps, or NULL */
static const char *vmdk_map_meta_hit(const struct vmdk_map *vm, uint64_t off,
				     uint64_t len)
{
	for (unsigned i = 0; i < vm->n_meta; i++)
		if (vmdk_map_overlaps(off, len, vm->meta[i].off,
				      vm->meta[i].len))
			return vm->meta[i].what;
	return NULL;
}

/* true when [sector*512, +len) overlaps an allocated grain table */
static bool vmdk_map_gt_hit(const struct vmdk_map *vm, uint64_t off,
			    uint64_t len)
{
	uint64_t lo, first;
	size_t a = 0, b = vm->n_gts;

	/* the first GT that could reach off starts after off - GT size */
	lo = off / VMDK_SECTOR_SIZE;
	first = lo >= VMDK_MAP_GT_SECTORS ? lo - VMDK_MAP_GT_SECTORS + 1 : 0;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (vm->gts[mid] < first)
			a = mid + 1;
		else
			b = mid;
	}
	return a < vm->n_gts &&
	       vmdk_map_overlaps(off, len,
				 (uint64_t)vm->gts[a] * VMDK_SECTOR_SIZE,
				 VMDK_MAP_GT_BYTES);
}

static void vmdk_map_add_meta(struct vmdk_map *vm, uint64_t off, uint64_t len,
			      const char *what)
{
	if (len && vm->n_meta < VMDK_MAP_MAX_META)
		vm->meta[vm->n_meta++] = (struct vmdk_range){ off, len, what };
}

/* GD entry index (< gd_entries), through the window */
static int vmdk_map_gd_entry(struct vmdk_map *vm, uint64_t index,
			     uint32_t *ret)
{
	int err;

	if (index >= vm->l.gd_entries)
		return -EINVAL;
	if (index < vm->gd_first || index - vm->gd_first >= vm->gd_count) {
		size_t n = (size_t)MIN((uint64_t)VMDK_MAP_GD_WINDOW,
				       vm->l.gd_entries - index);

		vm->gd_count = 0;
		err = iw_view_read(vm->m.view, vm->gd_buf, n * 4,
				   vm->l.gd_offset + index * 4);
		if (err < 0)
			return err;
		vm->gd_first = index;
		vm->gd_count = n;
	}
	*ret = get_le32(vm->gd_buf + (index - vm->gd_first) * 4);
	return 0;
}

static int vmdk_map_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every GD entry: its GT inside the file, clear of the fixed metadata;
 * the allocated GTs sorted and pairwise disjoint. */
static int vmdk_map_scan_gd(struct vmdk_map *vm)
{
	struct iw_report *r = vm->m.report;
	size_t cap = 0;

	for (uint64_t i = 0; i < vm->l.gd_entries; i++) {
		uint64_t off;
		const char *hit;
		uint32_t e;
		int err;

		err = vmdk_map_gd_entry(vm, i, &e);
		if (err < 0) {
			iw_finding(r, IW_F_TRUNCATED,
				   "grain directory entry %" PRIu64
				   " could not be read",
				   i);
			return err == -ERANGE ? -EINVAL : err;
		}
		if (e == 0)
			continue;
		off = (uint64_t)e * VMDK_SECTOR_SIZE;
		if (!range_ok(off, VMDK_MAP_GT_BYTES, vm->file_size)) {
			iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
				   "grain directory entry %" PRIu64
				   ": grain table at sector %" PRIu32
				   " lies past the end of the file",
				   i, e);
			return -EINVAL;
		}
		hit = vmdk_map_meta_hit(vm, off, VMDK_MAP_GT_BYTES);
		if (hit) {
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "grain table %" PRIu64
				   " (sector %" PRIu32 ") overlaps the %s",
				   i, e, hit);
			return -EINVAL;
		}
		if (vm->n_gts == cap) {
			uint32_t *n;

			if (cap >= vm->max_gts) {
				iw_finding(r, IW_F_TABLE_TOO_LARGE,
					   "more than %zu grain tables",
					   vm->max_gts);
				return -EINVAL;
			}
			cap = MIN(cap ? 2 * cap : 256, vm->max_gts);
			n = realloc(vm->gts, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			vm->gts = n;
		}
		vm->gts[vm->n_gts++] = e;
	}
	if (vm->n_gts)
		qsort(vm->gts, vm->n_gts, sizeof(*vm->gts), vmdk_map_cmp_u32);
	for (size_t i = 1; i < vm->n_gts; i++) {
		/* two GD entries naming one GT alias guest ranges, and
		 * overlapping GTs make each other's grains: no writer does
		 * either */
		if (vm->gts[i] - vm->gts[i - 1] < VMDK_MAP_GT_SECTORS) {
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "grain tables at sectors %" PRIu32
				   " and %" PRIu32 " overlap",
				   vm->gts[i - 1], vm->gts[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int vmdk_map_load_gt(struct vmdk_map *vm, uint32_t sector)
{
	int err;

	if (vm->gt_sector == sector)
		return 0;
	vm->gt_sector = 0;
	/* inside the file: checked by vmdk_map_scan_gd */
	err = iw_view_read(vm->m.view, vm->gt, sizeof(vm->gt),
			   (uint64_t)sector * VMDK_SECTOR_SIZE);
	if (err < 0) {
		iw_finding(vm->m.report, IW_F_TRUNCATED,
			   "grain table at sector %" PRIu32
			   " could not be read",
			   sector);
		return err == -ERANGE ? -EINVAL : err;
	}
	vm->gt_sector = sector;
	return 0;
}

/* the host bytes [off, off+len) of grain g may hold data: inside the
 * file, past the overhead, clear of every metadata structure */
static int vmdk_map_check_grain(struct vmdk_map *vm, uint64_t g, uint32_t gte,
				uint64_t off, uint64_t len)
{
	struct iw_report *r = vm->m.report;
	const char *hit;

	if (!range_ok(off, len, vm->file_size)) {
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "grain %" PRIu64 " at sector %" PRIu32
			   " lies past the end of the file",
			   g, gte);
		return -EINVAL;
	}
	hit = vmdk_map_meta_hit(vm, off, len);
	if (!hit && off < vm->overhead_bytes)
		hit = "metadata area (the header's overhead)";
	if (!hit && vmdk_map_gt_hit(vm, off, len))
		hit = "grain table";
	if (hit) {
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "grain %" PRIu64 " at sector %" PRIu32
			   " overlaps the %s",
			   g, gte, hit);
		return -EINVAL;
	}
	return 0;
}

static int vmdk_map_compressed(struct vmdk_map *vm, uint64_t g, uint32_t gte,
			       uint64_t grain_len, struct iw_extent *ret)
{
	struct iw_report *r = vm->m.report;
	uint8_t marker[VMDK_GRAIN_MARKER_SIZE];
	uint64_t off = (uint64_t)gte * VMDK_SECTOR_SIZE, lba;
	uint32_t size;
	int err;

	err = vmdk_map_check_grain(vm, g, gte, off, sizeof(marker));
	if (err < 0)
		return err;
	err = iw_view_read(vm->m.view, marker, sizeof(marker), off);
	if (err < 0)
		return err == -ERANGE ? -EINVAL : err;
	lba = get_le64(marker);
	size = get_le32(marker + 8);
	/* qemu does not look at lba; a marker for another grain means a
	 * broken or spliced stream, and VMware's readers check it */
	if (lba != g * vm->grain_sectors) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "grain %" PRIu64 ": its marker says sector %" PRIu64
			   ", the grain is at sector %" PRIu64,
			   g, lba, g * vm->grain_sectors);
		return -EINVAL;
	}
	/* qemu reads two grains (marker included) and refuses a size of 0
	 * or beyond them (vmdk_read_extent) */
	if (size == 0 || size > vm->m.max_comp_length) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "grain %" PRIu64 ": compressed size %" PRIu32
			   " (1 to %" PRIu64 " possible)",
			   g, size, vm->m.max_comp_length);
		return -EINVAL;
	}
	err = vmdk_map_check_grain(vm, g, gte, off,
				   sizeof(marker) + (uint64_t)size);
	if (err < 0)
		return err;
	ret->type = IW_EXTENT_COMPRESSED;
	ret->host_offset = off + sizeof(marker);
	ret->comp_length = size;
	ret->unit_size = (uint32_t)grain_len;
	ret->codec = IW_CODEC_ZLIB;
	return 0;
}

static int vmdk_map_next(struct iw_map *m, uint64_t offset, uint64_t max_length,
			 struct iw_extent *ret)
{
	struct vmdk_map *vm = (struct vmdk_map *)m;
	uint64_t gb = vm->l.grain_bytes, g, in_grain, grain_start, grain_len;
	uint64_t len, gd_index;
	uint32_t gde, gte;
	unsigned slot;
	int err;

	if (offset >= m->virtual_size || max_length == 0)
		return -EINVAL;
	g = offset / gb;
	in_grain = offset % gb;
	grain_start = g * gb;
	grain_len = MIN(gb, m->virtual_size - grain_start);
	len = MIN(max_length, grain_len - in_grain);
	gd_index = g / VMDK4_GTES_PER_GT;
	slot = (unsigned)(g % VMDK4_GTES_PER_GT);
	*ret = (struct iw_extent){ .offset = offset,
				   .length = len,
				   .type = IW_EXTENT_ZERO };

	err = vmdk_map_gd_entry(vm, gd_index, &gde);
	if (err < 0) {
		iw_finding(m->report, IW_F_TRUNCATED,
			   "grain directory entry %" PRIu64
			   " could not be read",
			   gd_index);
		return err == -ERANGE ? -EINVAL : err;
	}
	if (gde == 0) {
		/* a whole unallocated grain table: zeros to its end */
		uint64_t gt_end, end;

		if (MUL_OVERFLOW(gd_index + 1,
				 (uint64_t)VMDK4_GTES_PER_GT * gb, &gt_end))
			gt_end = UINT64_MAX;
		end = MIN(gt_end, m->virtual_size);
		ret->length = MIN(max_length, end - offset);
		return 0;
	}
	err = vmdk_map_load_gt(vm, gde);
	if (err < 0)
		return err;
	gte = get_le32(vm->gt + 4 * slot);
	if (gte == 0 || (gte == VMDK_GTE_ZEROED && vm->l.zero_grain)) {
		/* extend over the following zero grains of this table */
		uint64_t pos = grain_start + grain_len;

		while (ret->length < max_length && pos < m->virtual_size &&
		       ++slot < VMDK4_GTES_PER_GT) {
			uint32_t e = get_le32(vm->gt + 4 * slot);

			if (e != 0 && !(e == VMDK_GTE_ZEROED && vm->l.zero_grain))
				break;
			ret->length = MIN(max_length,
					  MIN(pos + gb, m->virtual_size) -
						  offset);
			pos += gb;
		}
		return 0;
	}
	if (vm->l.compressed) {
		ret->unit_skip = (uint32_t)in_grain;
		return vmdk_map_compressed(vm, g, gte, grain_len, ret);
	}
	/* the grain's bytes up to the capacity must be in the file (qemu
	 * writes whole grains; it would read zeros past the end) */
	err = vmdk_map_check_grain(vm, g, gte,
				   (uint64_t)gte * VMDK_SECTOR_SIZE, grain_len);
	if (err < 0)
		return err;
	ret->type = IW_EXTENT_DATA;
	ret->host_offset = (uint64_t)gte * VMDK_SECTOR_SIZE + in_grain;
	return 0;
}

static void vmdk_map_free(struct iw_map *m)
{
	struct vmdk_map *vm = (struct vmdk_map *)m;

	free(vm->gts);
	free(vm);
}

static const struct iw_map_ops vmdk_map_ops = {
	.next = vmdk_map_next,
	.free = vmdk_map_free,
};

/* Run the sniffer's reader into a scratch report; copy the findings that
 * make the image unconvertible. true when it calls the image safe. */
static int vmdk_map_sniff(const struct iw_view *v, struct iw_report *r,
			  const uint8_t *head, size_t head_len)
{
	struct iw_report scratch;
	int err;

	err = iw_report_init(&scratch);
	if (err < 0)
		return err;
	err = iw_format_vmdk.probe(v, head, head_len, &scratch, NULL);
	if (err < 0)
		goto out;
	iw_report_copy_findings(r, &scratch, -1, NULL);
	if (scratch.verdict != IW_SAFE)
		err = scratch.verdict == IW_UNSUPPORTED ? -EPROTONOSUPPORT
							: -EINVAL;
out:
	iw_report_done(&scratch);
	return err;
}

/* The embedded descriptor: one SPARSE extent that is this file, no
 * parent (also the way qemu looks for one: parentFileNameHint anywhere
 * in the 10 KiB at sector 1, vmdk_parent_open). */
static int vmdk_map_check_descriptor(const struct iw_view *v,
				     struct iw_report *r,
				     const struct vmdk4_header *h)
{
	_cleanup_free_ struct vmdk_descriptor *d = NULL;
	_cleanup_free_ char *text = NULL;
	const struct vmdk_extent_line *e;
	uint64_t len = h->desc_size * VMDK_SECTOR_SIZE, win_len;
	const char *want = h->compress_algorithm == VMDK4_COMPRESSION_DEFLATE
				   ? "streamOptimized"
				   : "monolithicSparse";
	const char *nul;
	size_t tlen;
	int err;

	/* header checked: desc_offset 1, desc_size in 1..2048, in the file */
	win_len = MAX(len, (uint64_t)VMDK_QEMU_DESC_WINDOW);
	text = calloc(1, (size_t)win_len + 1);
	d = malloc(sizeof(*d));
	if (!text || !d)
		return -ENOMEM;
	err = iw_view_read(v, text, (size_t)MIN(win_len, v->size - 512), 512);
	if (err < 0)
		return err == -ERANGE ? -EINVAL : err;
	nul = memchr(text, '\0', (size_t)VMDK_QEMU_DESC_WINDOW);
	tlen = nul ? (size_t)(nul - text) : VMDK_QEMU_DESC_WINDOW;
	if (memmem(text, tlen, "parentFileNameHint", 18))
		return vmdk_map_fail(r, -EINVAL, IW_F_BACKING_FILE,
				     "parentFileNameHint names a parent "
				     "image qemu opens");
	nul = memchr(text, '\0', (size_t)len);
	tlen = nul ? (size_t)(nul - text) : (size_t)len;
	vmdk_parse_descriptor(text, tlen, d);
	if (d->n_bad_lines || d->n_salvaged)
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
				     "the embedded descriptor does not follow "
				     "the grammar");
	if (!d->has_cid || !d->has_parent_cid)
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
				     "the descriptor lacks CID or parentCID");
	if (d->parent_cid != UINT32_MAX || d->parent_hint.p)
		return vmdk_map_fail(r, -EINVAL, IW_F_PARENT_REFERENCE,
				     "a delta disk needs its parent");
	if (!d->create_type.p || strlen(want) != d->create_type.len ||
	    memcmp(want, d->create_type.p, d->create_type.len) != 0) {
		iw_finding(r, IW_F_CREATE_TYPE_MISMATCH,
			   "the header makes a %s file, the descriptor says "
			   "otherwise",
			   want);
		return -EINVAL;
	}
	if (d->n_extents != 1)
		return vmdk_map_fail(r, -EINVAL, IW_F_EXTERNAL_EXTENT,
				     "the descriptor lists more than this "
				     "file's extent");
	e = &d->extents[0];
	if (e->type != VMDK_EXTENT_SPARSE || e->access == VMDK_ACCESS_NOACCESS ||
	    !e->name || memchr(e->name, '/', e->name_len) ||
	    memchr(e->name, '\\', e->name_len) ||
	    memchr(e->name, ':', e->name_len))
		return vmdk_map_fail(r, -EINVAL, IW_F_EXTERNAL_EXTENT,
				     "the descriptor's extent is not this "
				     "sparse file");
	if (e->sectors != h->capacity)
		return vmdk_map_fail(r, -EINVAL, IW_F_INCONSISTENT_HEADER,
				     "the descriptor's extent size differs "
				     "from the capacity");
	return 0;
}

/* The footer at the end of a one-pass stream (qemu reads it at the
 * sector-rounded end - 1536): markers as qemu checks them, its copy of
 * the header equal to the header but for the GD (and RGD, overhead). */
static int vmdk_map_footer(const struct iw_view *v, struct iw_report *r,
			   struct vmdk4_header *h, uint64_t *ret_off)
{
	uint8_t f[VMDK4_FOOTER_SIZE] = { 0 };
	const uint8_t *fm = f, *fh = f + 512, *eos = f + 1024;
	struct vmdk4_header fhd;
	uint64_t end, off;
	size_t got;
	int err;

	end = v->size / VMDK_SECTOR_SIZE * VMDK_SECTOR_SIZE +
	      (v->size % VMDK_SECTOR_SIZE ? VMDK_SECTOR_SIZE : 0);
	if (end < VMDK_SECTOR_SIZE + VMDK4_FOOTER_SIZE)
		return vmdk_map_fail(r, -EINVAL, IW_F_TRUNCATED,
				     "gdOffset is GD_AT_END but there is no "
				     "room for a footer");
	off = end - VMDK4_FOOTER_SIZE;
	/* the last sector may be short: qemu reads zeros past the end */
	err = iw_view_read_upto(v, f, sizeof(f), off, &got);
	if (err < 0)
		return err == -ERANGE ? -EINVAL : err;
	if (get_be32(fh) != VMDK4_MAGIC || get_le32(fm + 8) != 0 ||
	    get_le32(fm + 12) != VMDK_MARKER_FOOTER || get_le64(eos) != 0 ||
	    get_le32(eos + 8) != 0 || get_le32(eos + 12) != VMDK_MARKER_EOS)
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_FIELD,
				     "invalid footer");
	vmdk4_parse_header(fh, &fhd);
	if (fhd.gd_offset == VMDK4_GD_AT_END)
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_FIELD,
				     "the footer's gdOffset is GD_AT_END too");
	if (fhd.version != h->version || fhd.flags != h->flags ||
	    fhd.capacity != h->capacity || fhd.grain_size != h->grain_size ||
	    fhd.desc_offset != h->desc_offset ||
	    fhd.desc_size != h->desc_size ||
	    fhd.num_gtes_per_gt != h->num_gtes_per_gt ||
	    fhd.compress_algorithm != h->compress_algorithm)
		return vmdk_map_fail(r, -EINVAL, IW_F_INCONSISTENT_HEADER,
				     "the footer and the header disagree");
	/* qemu uses the footer's copy whole */
	*h = fhd;
	*ret_off = off;
	return 0;
}

/* The header fields we rely on, whatever the sniffer said. */
static int vmdk_map_check_header(const struct iw_view *v, struct iw_report *r,
				 const struct vmdk4_header *h, bool extent)
{
	bool deflate = h->compress_algorithm == VMDK4_COMPRESSION_DEFLATE;
	uint64_t file_sectors;

	if (h->version == 0 || h->version > 3)
		return vmdk_map_fail(r, -EPROTONOSUPPORT,
				     IW_F_UNSUPPORTED_VERSION,
				     "sparse extent version is not 1 to 3");
	if (h->flags & ~VMDK4_FLAGS_KNOWN)
		return vmdk_map_fail(r, -EPROTONOSUPPORT,
				     IW_F_UNSUPPORTED_FEATURE,
				     "unknown header flags");
	if ((h->flags & VMDK4_FLAG_NL_DETECT) &&
	    memcmp(h->nl_check, "\n \r\n", 4) != 0)
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_FIELD,
				     "newline check bytes are corrupt");
	if (h->compress_algorithm > VMDK4_COMPRESSION_DEFLATE)
		return vmdk_map_fail(r, -EPROTONOSUPPORT,
				     IW_F_UNSUPPORTED_FEATURE,
				     "unknown compression algorithm");
	/* qemu decides by compressAlgorithm alone; writers set both, and
	 * compressed grains without markers are not a stream we accept */
	if (!!(h->flags & VMDK4_FLAG_COMPRESS) != deflate ||
	    !!(h->flags & VMDK4_FLAG_MARKER) != deflate)
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_FIELD,
				     "compression flags, markers and "
				     "compressAlgorithm disagree");
	if (h->num_gtes_per_gt != VMDK4_GTES_PER_GT)
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_FIELD,
				     "grain tables do not have 512 entries");
	if (h->grain_size == 0 || h->grain_size > VMDK_MAX_GRAIN_SECTORS ||
	    !is_power_of_2(h->grain_size))
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_FIELD,
				     "grain size is not a power of 2 up to "
				     "1 GiB");
	if (deflate &&
	    h->grain_size * VMDK_SECTOR_SIZE > VMDK_MAP_MAX_COMPRESSED_GRAIN)
		return vmdk_map_fail(r, -EPROTONOSUPPORT,
				     IW_F_UNSUPPORTED_FEATURE,
				     "compressed grains above 1 MiB");
	if (h->capacity == 0 || h->capacity > (uint64_t)INT64_MAX / 512)
		return vmdk_map_fail(r, -EINVAL, IW_F_IMPOSSIBLE_SIZE,
				     "capacity is 0 or beyond 2^63 bytes");
	/* qemu: "File truncated, expecting at least ..." */
	file_sectors = v->size / VMDK_SECTOR_SIZE +
		       (v->size % VMDK_SECTOR_SIZE != 0);
	if (file_sectors < h->overhead)
		return vmdk_map_fail(r, -EINVAL, IW_F_TRUNCATED,
				     "the file is shorter than the header's "
				     "overhead");
	/* an extent of a descriptor file: qemu never reads its embedded
	 * descriptor; none at all, or an area inside the file (grains must
	 * keep off it) */
	if (extent) {
		if (h->desc_offset == 0 && h->desc_size == 0)
			return 0;
		if (h->desc_offset == 0 || h->desc_size == 0 ||
		    h->desc_offset > UINT64_MAX / VMDK_SECTOR_SIZE ||
		    h->desc_size > UINT64_MAX / VMDK_SECTOR_SIZE ||
		    !range_ok(h->desc_offset * VMDK_SECTOR_SIZE,
			      h->desc_size * VMDK_SECTOR_SIZE, v->size))
			return vmdk_map_fail(r, -EINVAL, IW_F_BAD_FIELD,
					     "the embedded descriptor area "
					     "lies outside the file");
		return 0;
	}
	/* the descriptor, at sector 1 where qemu reads it, at most 1 MiB */
	if (h->desc_offset != 1 || h->desc_size == 0 ||
	    h->desc_size > (VMDK_DESC_MAX_SIZE + 1) / VMDK_SECTOR_SIZE ||
	    !range_ok(VMDK_SECTOR_SIZE, h->desc_size * VMDK_SECTOR_SIZE,
		      v->size))
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_DESCRIPTOR,
				     "no embedded descriptor at sector 1 "
				     "inside the file");
	return 0;
}

static int vmdk_map_layout(struct vmdk_map *vm, uint64_t footer_off)
{
	const struct iw_view *v = vm->m.view;
	struct iw_report *r = vm->m.report;
	const struct vmdk4_header *h = &vm->h;
	const char *hit;

	if (vmdk4_layout(h, &vm->l) < 0)
		return vmdk_map_fail(r, -EINVAL, IW_F_BAD_FIELD,
				     "grain directory size overflows");
	if (vm->l.gd_entries > VMDK_MAX_GD_ENTRIES)
		return vmdk_map_fail(r, -EINVAL, IW_F_TABLE_TOO_LARGE,
				     "grain directory above qemu's 32 Mi "
				     "entries");
	vm->grain_sectors = h->grain_size;
	vm->overhead_bytes = h->overhead * VMDK_SECTOR_SIZE;
	vm->file_size = v->size;

	vmdk_map_add_meta(vm, 0, VMDK_SECTOR_SIZE, "header");
	/* checked: inside the file (no overflow), or both 0 */
	if (h->desc_offset)
		vmdk_map_add_meta(vm, h->desc_offset * VMDK_SECTOR_SIZE,
				  h->desc_size * VMDK_SECTOR_SIZE,
				  "descriptor");
	if (footer_off)
		vmdk_map_add_meta(vm, footer_off, VMDK4_FOOTER_SIZE, "footer");
	if (!range_ok(vm->l.gd_offset, vm->l.gd_bytes, v->size))
		return vmdk_map_fail(r, -EINVAL, IW_F_TABLE_PAST_EOF,
				     "the grain directory lies past the end "
				     "of the file");
	hit = vmdk_map_meta_hit(vm, vm->l.gd_offset, MAX(vm->l.gd_bytes, 1));
	if (hit) {
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "the grain directory overlaps the %s", hit);
		return -EINVAL;
	}
	/* qemu reads the redundant GD but never uses it to read: only
	 * keep grains and tables off it */
	if (h->flags & VMDK4_FLAG_RGD) {
		if (!range_ok(vm->l.rgd_offset, vm->l.gd_bytes, v->size))
			return vmdk_map_fail(r, -EINVAL, IW_F_TABLE_PAST_EOF,
					     "the redundant grain directory "
					     "lies past the end of the file");
		hit = vmdk_map_meta_hit(vm, vm->l.rgd_offset,
					MAX(vm->l.gd_bytes, 1));
		if (hit || vmdk_map_overlaps(vm->l.rgd_offset, vm->l.gd_bytes,
					     vm->l.gd_offset, vm->l.gd_bytes)) {
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "the redundant grain directory overlaps "
				   "the %s",
				   hit ? hit : "grain directory");
			return -EINVAL;
		}
		vmdk_map_add_meta(vm, vm->l.rgd_offset, vm->l.gd_bytes,
				  "redundant grain directory");
	}
	vmdk_map_add_meta(vm, vm->l.gd_offset, vm->l.gd_bytes,
			  "grain directory");
	if (vm->l.compressed) {
		/* qemu: marker size up to two grains, marker included */
		vm->m.max_unit_size = (uint32_t)vm->l.grain_bytes;
		vm->m.max_comp_length =
			2 * vm->l.grain_bytes - VMDK_GRAIN_MARKER_SIZE;
	}
	vm->m.virtual_size = vm->l.virtual_size;
	return vmdk_map_scan_gd(vm);
}

/* A hosted sparse extent over v: the whole disk of a single-file VMDK
 * (extent false: its embedded descriptor and the sniffer's judgement are
 * required), or one SPARSE extent of a descriptor file (extent true). */
static int vmdk_map_open_sparse(const struct iw_view *v, struct iw_report *r,
				bool extent, size_t max_gts,
				struct iw_map **ret)
{
	uint8_t sector[VMDK_SECTOR_SIZE];
	struct vmdk_map *vm;
	uint64_t footer_off = 0;
	size_t got = 0;
	int err;

	memset(sector, 0, sizeof(sector));
	err = iw_view_read_upto(v, sector, sizeof(sector), 0, &got);
	if (err < 0 && err != -ERANGE)
		return err;
	if (got >= 4 && get_be32(sector) == VMDK3_MAGIC)
		return vmdk_map_fail(r, -EPROTONOSUPPORT,
				     IW_F_UNSUPPORTED_SUBFORMAT,
				     "VMDK3 (COWD) extents are not converted");
	if (got < 4 || get_be32(sector) != VMDK4_MAGIC)
		return vmdk_map_fail(r, extent ? -EINVAL : -EPROTONOSUPPORT,
				     extent ? IW_F_BAD_FIELD
					    : IW_F_UNSUPPORTED_SUBFORMAT,
				     extent ? "a SPARSE extent that is not a "
					      "hosted sparse (KDMV) file"
					    : "not a sparse extent (a VMDK "
					      "descriptor file keeps the data "
					      "in other files)");
	if (got < sizeof(sector))
		return vmdk_map_fail(r, -EINVAL, IW_F_TRUNCATED,
				     "no complete VMDK header");
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->m = (struct iw_map){ .ops = &vmdk_map_ops, .view = v, .report = r };
	vm->max_gts = max_gts;
	vmdk4_parse_header(sector, &vm->h);
	/* qemu reads a capacity-0 header with a descriptor as a descriptor
	 * file, before any footer (vmdk_open_vmdk4) */
	if (vm->h.capacity == 0 && vm->h.desc_offset != 0) {
		err = vmdk_map_fail(r, -EPROTONOSUPPORT,
				    IW_F_UNSUPPORTED_SUBFORMAT,
				    "a sparse file holding a descriptor file");
		goto fail;
	}
	if (!extent) {
		err = vmdk_map_sniff(v, r, sector, sizeof(sector));
		if (err < 0)
			goto fail;
	}
	if (vm->h.gd_offset == VMDK4_GD_AT_END) {
		/* qemu 7.2 reads an extent's footer at the size of the
		 * descriptor file, not of the extent (vmdk_open_vmdk4 uses
		 * bs->file): it cannot read such an extent right */
		if (extent) {
			err = vmdk_map_fail(r, -EPROTONOSUPPORT,
					    IW_F_UNSUPPORTED_FEATURE,
					    "a stream-optimized extent with its "
					    "grain directory at the end (qemu "
					    "reads its footer at the wrong "
					    "place)");
			goto fail;
		}
		err = vmdk_map_footer(v, r, &vm->h, &footer_off);
		if (err < 0)
			goto fail;
	}
	err = vmdk_map_check_header(v, r, &vm->h, extent);
	if (err < 0)
		goto fail;
	if (!extent) {
		err = vmdk_map_check_descriptor(v, r, &vm->h);
		if (err < 0)
			goto fail;
	}
	err = vmdk_map_layout(vm, footer_off);
	if (err < 0)
		goto fail;
	*ret = &vm->m;
	return 0;
fail:
	vmdk_map_free(&vm->m);
	return err;
}

int iw_map_open_vmdk(const struct iw_view *v, struct iw_report *r,
		     struct iw_map **ret)
{
	return vmdk_map_open_sparse(v, r, false, VMDK_MAP_MAX_GTS, ret);
}

int vmdk_sparse_extent_open(const struct iw_view *v, struct iw_report *r,
			    size_t max_gts, size_t *ret_n_gts,
			    struct iw_map **ret)
{
	int err = vmdk_map_open_sparse(v, r, true, max_gts, ret);

	if (err == 0)
		*ret_n_gts = ((struct vmdk_map *)*ret)->n_gts;
	return err;
}
