/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD differencing chain block map (vhd-chain-map.h).
 *
 * What a sector of the chain reads as (Microsoft "Virtual Hard Disk Image
 * Format Specification" 1.0, "Dynamic Disk Header Format" and "Block
 * Allocation Table and Data Blocks"; how Hyper-V, blktap/vhd-util and
 * VirtualBox read chains):
 *  - from the leaf down, the first layer whose BAT entry for the sector's
 *    block is allocated and, for a differencing layer, whose sector bitmap
 *    has the sector's bit set (bit 7 of byte 0 is the block's first
 *    sector: "the bitmap is ... big-endian bit order") provides it;
 *  - the base (fixed or dynamic) provides every sector of an allocated
 *    block (qemu's rule for a single dynamic disk: it never looks at the
 *    bitmap) or, fixed, its data at the same offset;
 *  - nothing: zeros.
 * Sizes: the chain's virtual size is the leaf's (qemu's size rule,
 * vhd_virtual_size()). A parent smaller than its child reads as zeros past
 * its own end, and so does everything under it there (a layer's parent is
 * seen through the layer, cut to its size); a larger parent is cut.
 *
 * The linkage is verified here even though the broker checks it too:
 * every layer but the base is a differencing disk whose dynamic header's
 * parent UUID is the next layer's footer unique ID, the base is not a
 * differencing disk, no two layers share a unique ID. The parent
 * timestamp, parent name and locators are ignored (names are never
 * followed; the sniffer reports them).
 *
 * Memory: per layer one BAT window (VXMAP_WINDOW_BYTES) and one window of
 * one block's sector bitmap (CHAIN_BITMAP_WINDOW), at most
 * IW_VHD_CHAIN_MAX_LAYERS layers: about 2.2 MiB whatever the disk size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "../bytes.h"
#include "map.h"
#include "vhd-chain-map.h"
#include "vhd.h"
#include "vxmap-common.h"

/* Bytes of one block's sector bitmap cached per layer: 4 KiB of bits is
 * 32 Ki sectors, 16 MiB of guest disk, four times what the engine asks
 * for at once; a 2 MiB block's whole bitmap is 512 bytes. Blocks can
 * claim up to 2 GiB (a 512 KiB bitmap), so the bitmap is never read
 * whole. */
#define CHAIN_BITMAP_WINDOW 4096u

/* Lookups one next() call merges into one extent (each walks at most
 * every layer through cached windows): the engine asks for 4 MiB at a
 * time anyway, and a direct caller asking for 2^64 bytes must not make
 * one call walk a whole table. */
#define CHAIN_MAX_MERGE_STEPS 16384u

struct chain_layer {
	const struct iw_view *view;
	struct vhd_info info;
	bool differencing;
	uint64_t data_end; /* where the footer at EOF starts */
	struct vxmap_window bat;
	/* the cached part of one block's sector bitmap */
	uint64_t bm_index; /* BAT index of the block */
	uint32_t bm_first; /* first bitmap byte in bm_buf */
	uint32_t bm_count; /* bytes in bm_buf (0: empty) */
	uint8_t *bm_buf;   /* CHAIN_BITMAP_WINDOW */
};

struct chain_map {
	struct iw_map m;
	size_t n;
	struct chain_layer layers[];
};

/* Where a run of guest bytes comes from. */
struct chain_src {
	int layer;	/* -1: zeros */
	uint64_t host;	/* file offset in that layer */
	uint64_t len;	/* > 0 */
};

static void chain_uuid(const uint8_t *u, char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

/*
 * The reader's verdict on one layer: copy its unsupported-or-worse
 * findings into r, prefixed with the layer. A differencing layer's
 * parent-reference is what a chain is for (its parent is the next file,
 * checked below), so it does not count; the base's type is checked
 * separately. Returns true when nothing else was found.
 */
static bool chain_take_verdict(struct iw_report *r, const struct iw_report *src,
			       size_t layer)
{
	char prefix[32];
	bool ok;

	snprintf(prefix, sizeof(prefix), "layer %zu: ", layer);
	ok = iw_report_copy_findings(r, src, IW_F_PARENT_REFERENCE, prefix) == 0;
	/* findings the scratch report could not keep may be anything */
	if (ok && src->n_findings_dropped) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "layer %zu: too many findings to judge (%u dropped)",
			   layer, src->n_findings_dropped);
		ok = false;
	}
	return ok;
}

/* The facts the mapping relies on, restated for one layer (the parser's
 * findings were taken already; these keep a parser change from silently
 * breaking the map) and its place in the chain. */
static int chain_check_layer(struct chain_map *cm, size_t i,
			     struct iw_report *r)
{
	struct chain_layer *l = &cm->layers[i];
	const struct vhd_info *in = &l->info;
	const struct iw_view *v = l->view;
	bool base = i == cm->n - 1;
	uint64_t bat_len;

	if (!in->have_footer || in->old_footer || v->partial ||
	    v->size < VHD_FOOTER_SIZE) {
		iw_finding(r, IW_F_BAD_FIELD, "layer %zu: no usable VHD footer",
			   i);
		return -EINVAL;
	}
	if (in->virtual_size / VHD_SECTOR_SIZE > VHD_MAX_SECTORS) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "layer %zu: virtual size %" PRIu64
			   " is above 2040 GiB",
			   i, in->virtual_size);
		return -EINVAL;
	}
	if (!in->dynamic) {
		if (!base) {
			iw_finding(r, IW_F_CHAIN_BROKEN,
				   "layer %zu is a fixed disk: only the base "
				   "(layer %zu) may be one",
				   i, cm->n - 1);
			return -EINVAL;
		}
		if (in->footer.disk_type != VHD_TYPE_FIXED ||
		    in->virtual_size > v->size - VHD_FOOTER_SIZE) {
			iw_finding(r, IW_F_TRUNCATED,
				   "layer %zu: the fixed disk's data does not "
				   "fit in front of its footer",
				   i);
			return -EINVAL;
		}
		return 0;
	}
	if (in->footer.disk_type == VHD_TYPE_DIFFERENCING) {
		if (base) {
			iw_finding(r, IW_F_CHAIN_BROKEN,
				   "the base (layer %zu) is a differencing "
				   "disk: its parent is not in the chain",
				   i);
			return -EINVAL;
		}
		l->differencing = true;
	} else if (in->footer.disk_type == VHD_TYPE_DYNAMIC) {
		if (!base) {
			iw_finding(r, IW_F_CHAIN_BROKEN,
				   "layer %zu is a dynamic disk, not a "
				   "differencing one: only the base (layer "
				   "%zu) may be",
				   i, cm->n - 1);
			return -EINVAL;
		}
	} else {
		iw_finding(r, IW_F_BAD_FIELD,
			   "layer %zu: not a dynamic or differencing VHD", i);
		return -EINVAL;
	}
	if (!in->have_dyn_header || !is_power_of_2(in->block_size) ||
	    in->block_size < VHD_SECTOR_SIZE ||
	    in->bitmap_size != vhd_bitmap_size(in->block_size)) {
		iw_finding(r, IW_F_BAD_FIELD, "layer %zu: block size %" PRIu32,
			   i, in->block_size);
		return -EINVAL;
	}
	/* below 4 KiB qemu's rounding gives no bitmap at all and the spec
	 * a 512-byte one: which sectors a differencing block holds is then
	 * a matter of opinion (no real writer makes such blocks) */
	if (l->differencing &&
	    (in->block_size < 8 * VHD_SECTOR_SIZE || in->bitmap_size == 0 ||
	     in->bitmap_size < in->block_size / (8 * VHD_SECTOR_SIZE))) {
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "layer %zu: differencing disk with %" PRIu32
			   "-byte blocks (at least 4096 accepted)",
			   i, in->block_size);
		return -EINVAL;
	}
	bat_len = (uint64_t)in->bat_entries * 4;
	if (!range_ok(in->bat_offset, bat_len, v->size)) {
		iw_finding(r, IW_F_TABLE_PAST_EOF,
			   "layer %zu: the BAT lies past the end of the file",
			   i);
		return -EINVAL;
	}
	return 0;
}

/* Parent links (spec "Dynamic Disk Header Format": Parent Unique ID is
 * the parent's footer Unique Id) and distinct layers. */
static int chain_check_links(struct chain_map *cm, struct iw_report *r)
{
	char a[37], b[37];

	for (size_t i = 0; i + 1 < cm->n; i++) {
		const uint8_t *want = cm->layers[i].info.dyn.parent_uuid;
		const uint8_t *have = cm->layers[i + 1].info.footer.unique_id;

		if (memcmp(want, have, 16) != 0) {
			chain_uuid(want, a);
			chain_uuid(have, b);
			iw_finding(r, IW_F_CHAIN_BROKEN,
				   "layer %zu's parent is %s, but layer %zu "
				   "is %s",
				   i, a, i + 1, b);
			return -EINVAL;
		}
	}
	/* the same file twice (or a copy) would pass the link check only if
	 * it named itself as parent; refuse any repetition */
	for (size_t i = 0; i < cm->n; i++)
		for (size_t j = i + 1; j < cm->n; j++)
			if (memcmp(cm->layers[i].info.footer.unique_id,
				   cm->layers[j].info.footer.unique_id,
				   16) == 0) {
				chain_uuid(cm->layers[i].info.footer.unique_id,
					   a);
				iw_finding(r, IW_F_CHAIN_BROKEN,
					   "layers %zu and %zu have the same "
					   "unique ID %s",
					   i, j, a);
				return -EINVAL;
			}
	return 0;
}

/* BAT entry index of a dynamic layer; past max_table_entries nothing is
 * allocated (the sector comes from the parent, or reads as zeros). */
static int chain_entry(struct chain_map *cm, size_t li, uint64_t index,
		       uint32_t *ret)
{
	struct chain_layer *l = &cm->layers[li];
	const uint8_t *p;
	int err;

	if (index >= l->info.bat_entries) {
		*ret = VHD_BAT_UNALLOCATED;
		return 0;
	}
	err = vxmap_window_get(&l->bat, index, &p);
	if (err < 0) {
		iw_finding(cm->m.report, IW_F_TRUNCATED,
			   "layer %zu: BAT entry %" PRIu64 " could not be read",
			   li, index);
		return err == -ERANGE ? -EINVAL : err;
	}
	*ret = get_be32(p);
	return 0;
}

/* The block at BAT entry index (sector e) of layer li: file offset of its
 * sector bitmap, after the checks vhd-map.c makes (inside the file, in
 * front of the footer, clear of the footer copy, dynamic header and BAT:
 * a block there would serve the format's metadata as guest data). */
static int chain_block(struct chain_map *cm, size_t li, uint64_t index,
		       uint32_t e, uint64_t *ret_bitmap)
{
	const struct chain_layer *l = &cm->layers[li];
	const struct vhd_info *in = &l->info;
	uint64_t start = (uint64_t)e * VHD_SECTOR_SIZE; /* < 2^41 */
	uint64_t span = (uint64_t)in->bitmap_size + in->block_size;

	if (!range_ok(start, span, l->data_end)) {
		iw_finding(cm->m.report, IW_F_ENTRY_OUT_OF_RANGE,
			   "layer %zu: BAT entry %" PRIu64 " (sector %" PRIu32
			   "): the block and its sector bitmap lie past the "
			   "end of the data",
			   li, index, e);
		return -EINVAL;
	}
	if (vxmap_overlaps(start, span, 0, VHD_FOOTER_SIZE) ||
	    vxmap_overlaps(start, span, in->footer.data_offset,
			   VHD_DYN_HEADER_SIZE) ||
	    vxmap_overlaps(start, span, in->bat_offset,
			   (uint64_t)in->bat_entries * 4)) {
		iw_finding(cm->m.report, IW_F_TABLE_OVERLAP,
			   "layer %zu: BAT entry %" PRIu64 " (sector %" PRIu32
			   "): the block overlaps the footer copy, the "
			   "dynamic header or the BAT",
			   li, index, e);
		return -EINVAL;
	}
	*ret_bitmap = start;
	return 0;
}

/* Byte `byte` (< block_size / 4096) of the sector bitmap at file offset bm
 * of block index, through the layer's window. The block was checked to
 * lie inside the file. */
static int chain_bitmap_byte(struct chain_map *cm, size_t li, uint64_t index,
			     uint64_t bm, uint32_t byte, uint8_t *ret)
{
	struct chain_layer *l = &cm->layers[li];
	uint32_t need = l->info.block_size / (8 * VHD_SECTOR_SIZE);
	int err;

	if (byte >= need)
		return -EINVAL;
	if (l->bm_count == 0 || l->bm_index != index || byte < l->bm_first ||
	    byte - l->bm_first >= l->bm_count) {
		uint32_t n = MIN(CHAIN_BITMAP_WINDOW, need - byte);

		l->bm_count = 0;
		err = iw_view_read(l->view, l->bm_buf, n, bm + byte);
		if (err < 0) {
			iw_finding(cm->m.report, IW_F_TRUNCATED,
				   "layer %zu: the sector bitmap of block "
				   "%" PRIu64 " could not be read",
				   li, index);
			return err == -ERANGE ? -EINVAL : err;
		}
		l->bm_index = index;
		l->bm_first = byte;
		l->bm_count = n;
	}
	*ret = l->bm_buf[byte - l->bm_first];
	return 0;
}

static int chain_bit(struct chain_map *cm, size_t li, uint64_t index,
		     uint64_t bm, uint64_t sector, bool *ret)
{
	uint8_t b;
	int err = chain_bitmap_byte(cm, li, index, bm, (uint32_t)(sector / 8),
				    &b);

	if (err < 0)
		return err;
	/* spec: bit 7 (the most significant) of byte 0 is sector 0 */
	*ret = (b >> (7 - sector % 8)) & 1;
	return 0;
}

/* Of [in_block, in_block + bound) inside block index of differencing layer
 * li: whether its first sector's bit is set, and how many bytes from
 * in_block have the same bit. */
static int chain_bitmap_run(struct chain_map *cm, size_t li, uint64_t index,
			    uint64_t bm, uint64_t in_block, uint64_t bound,
			    bool *ret_set, uint64_t *ret_run)
{
	uint64_t s = in_block / VHD_SECTOR_SIZE;
	uint64_t end = in_block + bound; /* <= block_size */
	uint64_t stop = (end + VHD_SECTOR_SIZE - 1) / VHD_SECTOR_SIZE;
	uint64_t t;
	bool set, bit;
	int err;

	err = chain_bit(cm, li, index, bm, s, &set);
	if (err < 0)
		return err;
	for (t = s + 1; t < stop;) {
		if (t % 8 == 0 && stop - t >= 8) {
			uint8_t b;

			/* whole bytes at once: runs are long in practice */
			err = chain_bitmap_byte(cm, li, index, bm,
						(uint32_t)(t / 8), &b);
			if (err < 0)
				return err;
			if (b == (set ? 0xff : 0x00)) {
				t += 8;
				continue;
			}
		}
		err = chain_bit(cm, li, index, bm, t, &bit);
		if (err < 0)
			return err;
		if (bit != set)
			break;
		t++;
	}
	*ret_set = set;
	*ret_run = MIN(end, t * VHD_SECTOR_SIZE) - in_block;
	return 0;
}

/* Where [pos, pos + limit) starts to come from, and for how long. */
static int chain_resolve(struct chain_map *cm, uint64_t pos, uint64_t limit,
			 struct chain_src *ret)
{
	uint64_t bound = limit;
	int err;

	for (size_t i = 0; i < cm->n; i++) {
		const struct chain_layer *l = &cm->layers[i];
		const struct vhd_info *in = &l->info;
		uint64_t index, in_block, bm, run;
		uint32_t e;
		bool set;

		/* past a layer's end nothing under it shows through */
		if (pos >= in->virtual_size)
			break;
		bound = MIN(bound, in->virtual_size - pos);
		if (!in->dynamic) {
			/* the fixed base: its data at the same offset */
			*ret = (struct chain_src){ .layer = (int)i,
						   .host = pos,
						   .len = bound };
			return 0;
		}
		index = pos / in->block_size;
		in_block = pos % in->block_size;
		bound = MIN(bound, in->block_size - in_block);
		err = chain_entry(cm, i, index, &e);
		if (err < 0)
			return err;
		if (e == VHD_BAT_UNALLOCATED)
			continue;
		err = chain_block(cm, i, index, e, &bm);
		if (err < 0)
			return err;
		if (!l->differencing) {
			/* the dynamic base: every sector of the block */
			*ret = (struct chain_src){
				.layer = (int)i,
				.host = bm + in->bitmap_size + in_block,
				.len = bound
			};
			return 0;
		}
		err = chain_bitmap_run(cm, i, index, bm, in_block, bound, &set,
				       &run);
		if (err < 0)
			return err;
		if (set) {
			*ret = (struct chain_src){
				.layer = (int)i,
				.host = bm + in->bitmap_size + in_block,
				.len = run
			};
			return 0;
		}
		/* these sectors come from further down */
		bound = run;
	}
	*ret = (struct chain_src){ .layer = -1, .len = bound };
	return 0;
}

static int chain_next(struct iw_map *m, uint64_t offset, uint64_t max_length,
		      struct iw_extent *ret)
{
	struct chain_map *cm = (struct chain_map *)m;
	struct chain_src s, t;
	uint64_t len, total;
	int err;

	if (offset >= m->virtual_size || max_length == 0)
		return -EINVAL;
	len = MIN(max_length, m->virtual_size - offset);
	err = chain_resolve(cm, offset, len, &s);
	if (err < 0)
		return err;
	total = s.len;
	/* one extent for as long as the same layer continues on disk (or
	 * zeros continue); a lookup that fails ends the run and is
	 * reported when its offset is asked for */
	for (unsigned step = 0; step < CHAIN_MAX_MERGE_STEPS && total < len;
	     step++) {
		if (chain_resolve(cm, offset + total, len - total, &t) < 0 ||
		    t.layer != s.layer ||
		    (s.layer >= 0 && t.host != s.host + total))
			break;
		total += t.len;
	}
	if (s.layer < 0)
		*ret = (struct iw_extent){ .offset = offset,
					   .length = total,
					   .type = IW_EXTENT_ZERO };
	else
		*ret = (struct iw_extent){ .offset = offset,
					   .length = total,
					   .type = IW_EXTENT_DATA,
					   .host_offset = s.host,
					   .file = (unsigned)s.layer };
	return 0;
}

static void chain_free_layers(struct chain_map *cm)
{
	for (size_t i = 0; i < cm->n; i++) {
		vxmap_window_done(&cm->layers[i].bat);
		free(cm->layers[i].bm_buf);
	}
}

static void chain_map_free(struct iw_map *m)
{
	struct chain_map *cm = (struct chain_map *)m;

	chain_free_layers(cm);
	free(cm);
}

static const struct iw_map_ops chain_map_ops = {
	.next = chain_next,
	.free = chain_map_free,
};

/* Parse and check layer i. */
static int chain_open_layer(struct chain_map *cm, size_t i, struct iw_report *r)
{
	struct chain_layer *l = &cm->layers[i];
	struct iw_report scratch;
	bool ok;
	int err;

	err = iw_report_init(&scratch);
	if (err < 0)
		return err;
	err = vhd_parse(l->view, &scratch, &l->info);
	ok = err == 0 && chain_take_verdict(r, &scratch, i);
	iw_report_done(&scratch);
	if (err < 0)
		return err;
	if (!ok)
		return -EINVAL;
	err = chain_check_layer(cm, i, r);
	if (err < 0)
		return err;
	l->data_end = l->view->size - VHD_FOOTER_SIZE;
	if (!l->info.dynamic)
		return 0;
	err = vxmap_window_init(&l->bat, l->view, l->info.bat_offset,
				l->info.bat_entries, 4);
	if (err < 0)
		return err;
	if (l->differencing) {
		l->bm_buf = malloc(CHAIN_BITMAP_WINDOW);
		if (!l->bm_buf)
			return -ENOMEM;
	}
	return 0;
}

int iw_map_open_vhd_chain(const struct iw_view *const *views, size_t n,
			  struct iw_report *r, struct iw_map **ret)
{
	struct chain_map *cm;
	int err;

	if (n == 0 || !views) {
		iw_finding(r, IW_F_CHAIN_BROKEN, "an empty VHD chain");
		return -EINVAL;
	}
	if (n > IW_VHD_CHAIN_MAX_LAYERS) {
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "a VHD chain of %zu layers (at most %u accepted)", n,
			   (unsigned)IW_VHD_CHAIN_MAX_LAYERS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!views[i])
			return -EINVAL;
	cm = calloc(1, sizeof(*cm) + n * sizeof(cm->layers[0]));
	if (!cm)
		return -ENOMEM;
	cm->n = n;
	for (size_t i = 0; i < n; i++)
		cm->layers[i].view = views[i];
	for (size_t i = 0; i < n; i++) {
		err = chain_open_layer(cm, i, r);
		if (err < 0)
			goto fail;
	}
	err = chain_check_links(cm, r);
	if (err < 0)
		goto fail;
	cm->m = (struct iw_map){ .ops = &chain_map_ops,
				 .virtual_size = cm->layers[0].info.virtual_size,
				 .view = views[0],
				 .report = r };
	*ret = &cm->m;
	return 0;
fail:
	chain_free_layers(cm);
	free(cm);
	return err;
}
