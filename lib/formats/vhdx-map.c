/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHDX block map ([MS-VHDX] 2.5 "BAT"; qemu 7.2 block/vhdx.c
 * vhdx_co_readv and vhdx_block_translate).
 *
 * Payload block b covers guest bytes [b * block_size, (b + 1) *
 * block_size); its BAT entry is b + b / chunk_ratio, because a sector
 * bitmap entry follows every chunk_ratio payload entries
 * (vhdx_bat_index). What qemu returns for each payload state:
 *  - NOT_PRESENT (0), UNDEFINED (1), ZERO (2), UNMAPPED (3) and the
 *    pre-release UNMAPPED (5): zeros;
 *  - FULLY_PRESENT (6): the block's bytes at FileOffsetMB * 1 MiB;
 *  - PARTIALLY_PRESENT (7): -EIO (it only exists in differencing disks,
 *    whose sector bitmaps say which sectors come from the parent): we
 *    refuse it, like any other state.
 * A dirty log is replayed in memory by vhdx_parse (vhdx-log.c): the BAT
 * is then read through the replayed file's view, and every extent of the
 * replayed file is turned into extents of the real one (log sectors,
 * zeros, or the same offset) by vhdx_log_locate, so the engine keeps
 * reading the real fd - what `qemu-img check -r all` then convert gives.
 * Refused at open: a log we cannot replay (its findings), a parent
 * (has-parent), a logical sector size other
 * than 512 (qemu mixes 512-byte and logical sectors in its arithmetic, so
 * what it would return for 4096 is not something to copy).
 * Every FULLY_PRESENT entry we use is checked on use: past the 1 MiB
 * header section, inside the file for the part of the block the disk
 * uses, and clear of the log, the BAT and the metadata region.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "../bytes.h"
#include "../util.h"
#include "map.h"
#include "vhdx-log.h"
#include "vhdx.h"
#include "vxmap-common.h"

struct vhdx_map {
	struct iw_map m;
	struct vhdx_info info;
	const struct vhdx_header *h; /* the current header */
	struct vxmap_window bat;
	struct vhdx_log *log;	     /* the replayed log, or NULL */
};

static int vhdx_map_bad_entry(struct vhdx_map *xm, enum iw_code code,
			      uint64_t index, uint64_t entry, const char *why)
{
	iw_finding(xm->m.report, code,
		   "BAT entry %" PRIu64 " (0x%016" PRIx64 "): %s", index,
		   entry, why);
	return -EINVAL;
}

/* A FULLY_PRESENT block: its file offset, validated for the len bytes
 * (from the block's start) that the disk uses. */
static int vhdx_map_block(struct vhdx_map *xm, uint64_t index, uint64_t e,
			  uint64_t len, uint64_t *ret_off)
{
	const struct vhdx_info *in = &xm->info;
	uint64_t off = VHDX_BAT_OFFSET(e);

	/* qemu reads file offset 0 for an offset of 0 (the file identifier
	 * as guest data); anything in the header section is metadata */
	if (off < VHDX_HEADER_SECTION_END)
		return vhdx_map_bad_entry(xm, IW_F_ENTRY_OUT_OF_RANGE, index, e,
					  "the block lies in the header "
					  "section");
	/* qemu: "points after end of file", for the part it reads (it
	 * allows a partial last block) */
	if (!range_ok(off, len, xm->m.view->size))
		return vhdx_map_bad_entry(xm, IW_F_ENTRY_OUT_OF_RANGE, index, e,
					  "the block lies past the end of the "
					  "file");
	/* qemu's vhdx_region_check against the log and the regions */
	if (vxmap_overlaps(off, len, xm->h->log_offset, xm->h->log_length) ||
	    vxmap_overlaps(off, len, in->bat_region.file_offset,
			   in->bat_region.length) ||
	    vxmap_overlaps(off, len, in->metadata_region.file_offset,
			   in->metadata_region.length))
		return vhdx_map_bad_entry(xm, IW_F_TABLE_OVERLAP, index, e,
					  "the block overlaps the log, the BAT "
					  "or the metadata region");
	*ret_off = off;
	return 0;
}

/* The BAT entry of payload block `block`. */
static int vhdx_map_entry(struct vhdx_map *xm, uint64_t block,
			  uint64_t *ret_index, uint64_t *ret_entry)
{
	uint64_t index = vhdx_bat_index(&xm->info, block);
	const uint8_t *p;
	int err;

	err = vxmap_window_get(&xm->bat, index, &p);
	if (err < 0) {
		iw_finding(xm->m.report, IW_F_TRUNCATED,
			   "BAT entry %" PRIu64 " could not be read", index);
		return err == -ERANGE || err == -EINVAL ? -EINVAL : err;
	}
	*ret_index = index;
	*ret_entry = get_le64(p);
	return 0;
}

static bool vhdx_reads_zero(uint64_t e)
{
	switch (VHDX_BAT_STATE(e)) {
	case VHDX_PAYLOAD_NOT_PRESENT:
	case VHDX_PAYLOAD_UNDEFINED:
	case VHDX_PAYLOAD_ZERO:
	case VHDX_PAYLOAD_UNMAPPED:
	case VHDX_PAYLOAD_UNMAPPED_V095:
		return true;
	default:
		return false;
	}
}

static int vhdx_map_next(struct iw_map *m, uint64_t offset,
			 uint64_t max_length, struct iw_extent *ret)
{
	struct vhdx_map *xm = (struct vhdx_map *)m;
	const struct vhdx_info *in = &xm->info;
	uint64_t block, in_block, block_start, used, len, limit, index, e, off;
	int err;

	if (offset >= m->virtual_size || max_length == 0)
		return -EINVAL;
	limit = MIN(max_length, m->virtual_size - offset);
	block = offset / in->block_size;
	in_block = offset % in->block_size;
	block_start = offset - in_block;
	/* the part of this block inside the disk (the last may be partial) */
	used = MIN((uint64_t)in->block_size, m->virtual_size - block_start);
	len = MIN(limit, used - in_block);
	err = vhdx_map_entry(xm, block, &index, &e);
	if (err < 0)
		return err;
	*ret = (struct iw_extent){ .offset = offset,
				   .length = len,
				   .type = IW_EXTENT_ZERO };
	if (vhdx_reads_zero(e)) {
		/* one extent for a run of blocks that read as zeros; an
		 * entry that cannot be read ends it (and is reported when
		 * its block is asked for) */
		uint64_t idx2, e2;

		for (unsigned n = 0; n < VXMAP_MAX_RUN_ENTRIES && len < limit;
		     n++) {
			if (vhdx_map_entry(xm, ++block, &idx2, &e2) < 0 ||
			    !vhdx_reads_zero(e2))
				break;
			len = MIN(limit, len + in->block_size);
		}
		ret->length = len;
		return 0;
	}
	switch (VHDX_BAT_STATE(e)) {
	case VHDX_PAYLOAD_FULLY_PRESENT:
		err = vhdx_map_block(xm, index, e, used, &off);
		if (err < 0)
			return err;
		ret->type = IW_EXTENT_DATA;
		ret->host_offset = off + in_block;
		if (xm->log) {
			/* offsets of the replayed file: where its bytes
			 * really are (vhdx_map_block checked the range) */
			struct vhdx_log_run run;

			err = vhdx_log_locate(xm->log, ret->host_offset, len,
					      &run);
			if (err < 0)
				return vhdx_map_bad_entry(
					xm, IW_F_ENTRY_OUT_OF_RANGE, index, e,
					"the block lies past the end of the "
					"replayed file");
			ret->length = run.length;
			ret->type = run.zero ? IW_EXTENT_ZERO : IW_EXTENT_DATA;
			ret->host_offset = run.zero ? 0 : run.src;
		}
		return 0;
	case VHDX_PAYLOAD_PARTIALLY_PRESENT:
		return vhdx_map_bad_entry(xm, IW_F_BAD_FIELD, index, e,
					  "partially present block in a disk "
					  "without a parent");
	default:
		return vhdx_map_bad_entry(xm, IW_F_BAD_FIELD, index, e,
					  "invalid payload block state");
	}
}

static void vhdx_map_free(struct iw_map *m)
{
	struct vhdx_map *xm = (struct vhdx_map *)m;

	vxmap_window_done(&xm->bat);
	vhdx_log_free(xm->log);
	free(xm);
}

static const struct iw_map_ops vhdx_map_ops = {
	.next = vhdx_map_next,
	.free = vhdx_map_free,
};

/* Restate what the mapping relies on (vhdx_parse checked it). */
static int vhdx_map_check(const struct iw_view *v, struct iw_report *r,
			  const struct vhdx_info *in)
{
	const struct vhdx_header *h;
	uint64_t last;

	if (in->current_header < 0 || in->current_header > 1 ||
	    !in->have_metadata || !in->have_bat || v->partial) {
		iw_finding(r, IW_F_BAD_FIELD, "no usable VHDX header or BAT");
		return -EINVAL;
	}
	h = &in->headers[in->current_header];
	/* a log vhdx_parse did not replay holds no valid sequence (qemu
	 * opens it as it is); one it could not replay made the verdict
	 * unsafe to convert */
	if (!mem_is_zero(h->log_guid, sizeof(h->log_guid)) &&
	    h->log_length > VHDX_LOG_MAX_LENGTH) {
		iw_finding(r, IW_F_LOG_REPLAY_NEEDED,
			   "the log was not searched");
		return -EINVAL;
	}
	if (in->has_parent) {
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "differencing VHDX: refusing to convert without "
			   "its parent");
		return -EINVAL;
	}
	if (in->logical_sector_size != 512) {
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "logical sector size %" PRIu32,
			   in->logical_sector_size);
		return -EINVAL;
	}
	if (in->block_size < VHDX_BLOCK_SIZE_MIN ||
	    in->block_size > VHDX_BLOCK_SIZE_MAX ||
	    !is_power_of_2(in->block_size) || in->chunk_ratio == 0 ||
	    in->virtual_size > VHDX_MAX_VIRTUAL_SIZE) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "block size %" PRIu32 " or virtual size %" PRIu64,
			   in->block_size, in->virtual_size);
		return -EINVAL;
	}
	if (in->virtual_size == 0)
		return 0;
	/* the last payload block's entry must be in the BAT, and the BAT
	 * in the file */
	last = vhdx_bat_index(in, (in->virtual_size - 1) / in->block_size);
	if (last >= in->bat_entries ||
	    in->bat_entries > in->bat_region.length / 8 ||
	    !range_ok(in->bat_region.file_offset, in->bat_entries * 8,
		      v->size)) {
		iw_finding(r, IW_F_TABLE_PAST_EOF,
			   "the BAT does not hold the %" PRIu64
			   " entries the disk needs",
			   last + 1);
		return -EINVAL;
	}
	return 0;
}

int iw_map_open_vhdx(const struct iw_view *v, struct iw_report *r,
		     struct iw_map **ret)
{
	struct iw_report scratch;
	struct vhdx_map *xm;
	bool ok;
	int err;

	xm = calloc(1, sizeof(*xm));
	if (!xm)
		return -ENOMEM;
	err = iw_report_init(&scratch);
	if (err < 0)
		goto fail;
	err = vhdx_parse(v, &scratch, &xm->info, &xm->log);
	ok = err == 0 && vxmap_take_verdict(r, &scratch);
	iw_report_done(&scratch);
	if (err < 0)
		goto fail;
	if (!ok) {
		err = -EINVAL;
		goto fail;
	}
	/* the image after the log's replay, when there was one */
	if (xm->log)
		v = vhdx_log_view(xm->log);
	err = vhdx_map_check(v, r, &xm->info);
	if (err < 0)
		goto fail;
	xm->h = &xm->info.headers[xm->info.current_header];
	xm->m = (struct iw_map){ .ops = &vhdx_map_ops,
				 .virtual_size = xm->info.virtual_size,
				 .view = v,
				 .report = r };
	err = vxmap_window_init(&xm->bat, v, xm->info.bat_region.file_offset,
				xm->info.bat_entries, 8);
	if (err < 0)
		goto fail;
	*ret = &xm->m;
	return 0;
fail:
	vxmap_window_done(&xm->bat);
	vhdx_log_free(xm->log);
	free(xm);
	return err;
}
