/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VDI block map (qemu 7.2 block/vdi.c vdi_co_preadv).
 *
 * Virtual block i covers guest bytes [i * block_size, (i + 1) *
 * block_size). Block map entry i is VDI_BLOCK_UNALLOCATED (0xFFFFFFFF)
 * or VDI_BLOCK_DISCARDED (0xFFFFFFFE), both read as zeros, or the
 * physical block n whose bytes are at offset_data + n * block_size. qemu
 * adds nothing for block_extra (VirtualBox's per-block metadata): an
 * image with block_extra != 0 would be read differently by VirtualBox
 * and qemu, and is refused (as the sniffer does).
 *
 * Static and dynamic images map the same way. Refused at open: anything
 * vdi_open refuses (version, sector and block size, sizes, link/parent
 * UUIDs) and the undo/differencing types, whose holes belong to a parent.
 * Every entry we use is checked on use: below blocks_allocated (qemu's
 * allocator numbers blocks in order) and the whole physical block inside
 * the file. Two virtual blocks sharing a physical block read the same
 * bytes in qemu too; finding them would need a bitmap of every physical
 * block (64 MiB for the largest map), so only the sniffer looks (it
 * checks the first 16 Mi blocks).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "../bytes.h"
#include "../util.h"
#include "formats.h"
#include "map.h"
#include "vdi.h"
#include "vxmap-common.h"

struct vdi_map {
	struct iw_map m;
	struct vdi_header h;
	struct vxmap_window bmap;
};

static int vdi_map_bad_entry(struct vdi_map *dm, enum iw_code code,
			     uint64_t index, uint32_t entry, const char *why)
{
	iw_finding(dm->m.report, code,
		   "block map entry %" PRIu64 " (block %" PRIu32 "): %s",
		   index, entry, why);
	return -EINVAL;
}

/* Block map entry index. */
static int vdi_map_entry(struct vdi_map *dm, uint64_t index, uint32_t *ret)
{
	const uint8_t *p;
	int err;

	err = vxmap_window_get(&dm->bmap, index, &p);
	if (err < 0) {
		iw_finding(dm->m.report, IW_F_TRUNCATED,
			   "block map entry %" PRIu64 " could not be read",
			   index);
		return err == -ERANGE || err == -EINVAL ? -EINVAL : err;
	}
	*ret = get_le32(p);
	return 0;
}

static int vdi_map_next(struct iw_map *m, uint64_t offset, uint64_t max_length,
			struct iw_extent *ret)
{
	struct vdi_map *dm = (struct vdi_map *)m;
	const struct vdi_header *h = &dm->h;
	uint64_t index, in_block, len, limit, off;
	uint32_t e;
	int err;

	if (offset >= m->virtual_size || max_length == 0)
		return -EINVAL;
	limit = MIN(max_length, m->virtual_size - offset);
	index = offset / h->block_size;
	in_block = offset % h->block_size;
	len = MIN(limit, h->block_size - in_block);
	err = vdi_map_entry(dm, index, &e);
	if (err < 0)
		return err;
	*ret = (struct iw_extent){ .offset = offset,
				   .length = len,
				   .type = IW_EXTENT_ZERO };
	if (!vdi_entry_allocated(e)) {
		/* one extent for a run of unallocated/discarded blocks; an
		 * entry that cannot be read ends it (and is reported when
		 * its block is asked for) */
		for (unsigned n = 0; n < VXMAP_MAX_RUN_ENTRIES && len < limit;
		     n++) {
			if (vdi_map_entry(dm, ++index, &e) < 0 ||
			    vdi_entry_allocated(e))
				break;
			len = MIN(limit, len + h->block_size);
		}
		ret->length = len;
		return 0;
	}
	if (e >= h->blocks_allocated)
		return vdi_map_bad_entry(dm, IW_F_ENTRY_OUT_OF_RANGE, index, e,
					 "beyond the blocks allocated");
	/* the whole block, as qemu and VirtualBox write it; qemu would read
	 * zeros past EOF, a truncated file is refused instead */
	if (!vdi_block_offset(h, e, &off) ||
	    !range_ok(off, h->block_size, m->view->size))
		return vdi_map_bad_entry(dm, IW_F_ENTRY_OUT_OF_RANGE, index, e,
					 "the block lies past the end of the "
					 "file");
	ret->type = IW_EXTENT_DATA;
	ret->host_offset = off + in_block;
	return 0;
}

static void vdi_map_free(struct iw_map *m)
{
	struct vdi_map *dm = (struct vdi_map *)m;

	vxmap_window_done(&dm->bmap);
	free(dm);
}

static const struct iw_map_ops vdi_map_ops = {
	.next = vdi_map_next,
	.free = vdi_map_free,
};

/* vdi_open's rules and the layout the mapping relies on, checked here
 * whatever the sniffer said. */
static int vdi_map_check(const struct iw_view *v, struct iw_report *r,
			 const struct vdi_header *h, uint64_t *ret_size)
{
	uint64_t bmap_len, data_len, vsize;

	if (h->signature != VDI_SIGNATURE || h->version != VDI_VERSION_1_1) {
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "not a VDI 1.1 header");
		return -EINVAL;
	}
	if (h->image_type != VDI_TYPE_DYNAMIC &&
	    h->image_type != VDI_TYPE_STATIC) {
		iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
			   "VDI image type %" PRIu32 " is not converted",
			   h->image_type);
		return -EINVAL;
	}
	if (!mem_is_zero(h->uuid_link, VDI_UUID_SIZE) ||
	    !mem_is_zero(h->uuid_parent, VDI_UUID_SIZE)) {
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "differencing VDI: refusing to convert without its "
			   "parent");
		return -EINVAL;
	}
	if (h->block_extra != 0) {
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "VDI block extra data (%" PRIu32 " bytes per block)",
			   h->block_extra);
		return -EINVAL;
	}
	if (h->sector_size != VDI_SECTOR_SIZE ||
	    h->block_size != VDI_DEFAULT_BLOCK_SIZE ||
	    h->offset_bmap % VDI_SECTOR_SIZE || h->offset_data % VDI_SECTOR_SIZE ||
	    h->blocks_in_image > VDI_BLOCKS_IN_IMAGE_MAX ||
	    h->blocks_allocated > h->blocks_in_image) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "VDI header fields qemu does not open");
		return -EINVAL;
	}
	/* qemu rounds disk_size up to a sector before comparing it with
	 * the map's room */
	if (!vdi_virtual_size(h, &vsize) || vsize > VDI_DISK_SIZE_MAX ||
	    vsize > (uint64_t)h->blocks_in_image * h->block_size) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "VDI disk size %" PRIu64 " does not fit its map",
			   h->disk_size);
		return -EINVAL;
	}
	bmap_len = (uint64_t)h->blocks_in_image * 4;
	data_len = (uint64_t)h->blocks_allocated * h->block_size;
	if (!range_ok(h->offset_bmap, bmap_len, v->size)) {
		iw_finding(r, IW_F_TABLE_PAST_EOF,
			   "the VDI block map lies past the end of the file");
		return -EINVAL;
	}
	/* data blocks are below blocks_allocated (checked on use), so the
	 * data area bounds every block we read */
	if (vxmap_overlaps(0, VDI_HEADER_SIZE, h->offset_bmap, bmap_len) ||
	    vxmap_overlaps(0, VDI_HEADER_SIZE, h->offset_data, data_len) ||
	    vxmap_overlaps(h->offset_bmap, bmap_len, h->offset_data,
			   data_len)) {
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "the VDI header, block map and data area overlap");
		return -EINVAL;
	}
	*ret_size = vsize;
	return 0;
}

int iw_map_open_vdi(const struct iw_view *v, struct iw_report *r,
		    struct iw_map **ret)
{
	uint8_t buf[VDI_HEADER_SIZE];
	struct iw_report scratch;
	struct vdi_map *dm;
	uint64_t vsize;
	bool ok;
	int err;

	err = iw_view_read(v, buf, sizeof(buf), 0);
	if (err < 0) {
		iw_finding(r, IW_F_TRUNCATED, "no complete VDI header");
		return err == -ERANGE ? -EINVAL : err;
	}
	dm = calloc(1, sizeof(*dm));
	if (!dm)
		return -ENOMEM;
	/* the sniffer's whole judgement (it walks the block map too); vdi.c
	 * has no parse function of its own, and its probe does not use the
	 * nesting context (only wrappers and archives do) */
	err = iw_report_init(&scratch);
	if (err < 0)
		goto fail;
	err = iw_format_vdi.probe(v, buf, sizeof(buf), &scratch, NULL);
	ok = err == 0 && vxmap_take_verdict(r, &scratch);
	iw_report_done(&scratch);
	if (err < 0)
		goto fail;
	if (!ok) {
		err = -EINVAL;
		goto fail;
	}
	vdi_parse_header(buf, &dm->h);
	err = vdi_map_check(v, r, &dm->h, &vsize);
	if (err < 0)
		goto fail;
	dm->m = (struct iw_map){ .ops = &vdi_map_ops,
				 .virtual_size = vsize,
				 .view = v,
				 .report = r };
	err = vxmap_window_init(&dm->bmap, v, dm->h.offset_bmap,
				dm->h.blocks_in_image, 4);
	if (err < 0)
		goto fail;
	*ret = &dm->m;
	return 0;
fail:
	vxmap_window_done(&dm->bmap);
	free(dm);
	return err;
}
