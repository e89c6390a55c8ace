/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD (qemu "vpc") block map.
 *
 * What qemu 7.2 reads (block/vpc.c vpc_co_preadv, get_image_offset), and
 * so what we return:
 *  - fixed disk: the file from offset 0, for the virtual size (qemu's
 *    CHS-vs-current_size rule, vhd_virtual_size()). vhd_parse refuses a
 *    fixed disk whose virtual size does not fit in front of the footer
 *    (qemu would serve the footer, then zeros past EOF, as guest data);
 *  - dynamic disk: BAT entry i covers guest bytes [i * block_size,
 *    (i + 1) * block_size). 0xFFFFFFFF reads as zeros; otherwise the
 *    entry is the sector of the block's sector bitmap, and the data
 *    follows the bitmap (bitmap_size bytes, qemu's rounding). qemu does
 *    not look at the bitmap (its check is #if 0'd): every sector of an
 *    allocated block is data, even one whose bit is clear. We agree.
 *  - differencing disks are refused (their unallocated sectors come from
 *    a parent we never open; qemu silently reads zeros).
 * Every BAT entry we use is checked on use: the whole block (bitmap +
 * data) inside the file and in front of the footer, and clear of the
 * footer copy, the dynamic header and the BAT itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "../bytes.h"
#include "../util.h"
#include "map.h"
#include "vhd.h"
#include "vxmap-common.h"

struct vhd_map {
	struct iw_map m;
	struct vhd_info info;
	struct vxmap_window bat;
	uint64_t data_end; /* where the footer at EOF starts */
};

static int vhd_map_bad_entry(struct vhd_map *vm, enum iw_code code,
			     uint64_t index, uint32_t entry, const char *why)
{
	iw_finding(vm->m.report, code,
		   "BAT entry %" PRIu64 " (sector %" PRIu32 "): %s", index,
		   entry, why);
	return -EINVAL;
}

/* The block at BAT entry `index` (sector `e`): file offset of its data,
 * or an error with a finding. */
static int vhd_map_block(struct vhd_map *vm, uint64_t index, uint32_t e,
			 uint64_t *ret_data)
{
	const struct vhd_info *in = &vm->info;
	uint64_t start = (uint64_t)e * VHD_SECTOR_SIZE; /* < 2^41 */
	uint64_t span = (uint64_t)in->bitmap_size + in->block_size;

	/* qemu refuses a block ending past EOF ("The image has been
	 * truncated"); one reaching into the footer would serve the footer
	 * as guest data */
	if (!range_ok(start, span, vm->data_end))
		return vhd_map_bad_entry(vm, IW_F_ENTRY_OUT_OF_RANGE, index, e,
					 "the block lies past the end of the "
					 "data");
	/* a block on top of the format's own metadata would serve it as
	 * guest data (and a guest write would rewrite the BAT) */
	if (vxmap_overlaps(start, span, 0, VHD_FOOTER_SIZE) ||
	    vxmap_overlaps(start, span, in->footer.data_offset,
			   VHD_DYN_HEADER_SIZE) ||
	    vxmap_overlaps(start, span, in->bat_offset,
			   (uint64_t)in->bat_entries * 4))
		return vhd_map_bad_entry(vm, IW_F_TABLE_OVERLAP, index, e,
					 "the block overlaps the footer copy, "
					 "the dynamic header or the BAT");
	*ret_data = start + in->bitmap_size;
	return 0;
}

/* BAT entry index; past max_table_entries qemu reads zeros (open made
 * sure the BAT covers the virtual size, so only a hostile header gets
 * there) */
static int vhd_map_entry(struct vhd_map *vm, uint64_t index, uint32_t *ret)
{
	const uint8_t *p;
	int err;

	if (index >= vm->info.bat_entries) {
		*ret = VHD_BAT_UNALLOCATED;
		return 0;
	}
	err = vxmap_window_get(&vm->bat, index, &p);
	if (err < 0) {
		iw_finding(vm->m.report, IW_F_TRUNCATED,
			   "BAT entry %" PRIu64 " could not be read", index);
		return err == -ERANGE ? -EINVAL : err;
	}
	*ret = get_be32(p);
	return 0;
}

static int vhd_map_next(struct iw_map *m, uint64_t offset, uint64_t max_length,
			struct iw_extent *ret)
{
	struct vhd_map *vm = (struct vhd_map *)m;
	const struct vhd_info *in = &vm->info;
	uint64_t index, in_block, len, limit, data;
	uint32_t e;
	int err;

	if (offset >= m->virtual_size || max_length == 0)
		return -EINVAL;
	len = MIN(max_length, m->virtual_size - offset);
	if (!in->dynamic) {
		*ret = (struct iw_extent){ .offset = offset,
					   .length = len,
					   .type = IW_EXTENT_DATA,
					   .host_offset = offset };
		return 0;
	}
	limit = len;
	index = offset / in->block_size;
	in_block = offset % in->block_size;
	len = MIN(len, in->block_size - in_block);
	*ret = (struct iw_extent){ .offset = offset,
				   .length = len,
				   .type = IW_EXTENT_ZERO };
	err = vhd_map_entry(vm, index, &e);
	if (err < 0)
		return err;
	if (e == VHD_BAT_UNALLOCATED) {
		/* one extent for a run of unallocated blocks (a sparse disk
		 * with 512-byte blocks would otherwise cost a call each);
		 * an entry that cannot be read ends the run, and is
		 * reported when it is asked for */
		for (unsigned n = 0; n < VXMAP_MAX_RUN_ENTRIES && len < limit;
		     n++) {
			if (vhd_map_entry(vm, ++index, &e) < 0 ||
			    e != VHD_BAT_UNALLOCATED)
				break;
			len = MIN(limit, len + in->block_size);
		}
		ret->length = len;
		return 0;
	}
	err = vhd_map_block(vm, index, e, &data);
	if (err < 0)
		return err;
	ret->type = IW_EXTENT_DATA;
	ret->host_offset = data + in_block;
	return 0;
}

static void vhd_map_free(struct iw_map *m)
{
	struct vhd_map *vm = (struct vhd_map *)m;

	vxmap_window_done(&vm->bat);
	free(vm);
}

static const struct iw_map_ops vhd_map_ops = {
	.next = vhd_map_next,
	.free = vhd_map_free,
};

/* What we map must be what vhd_parse validated; these restate the facts
 * the mapping relies on, so a parser change cannot silently break it. */
static int vhd_map_check(const struct iw_view *v, struct iw_report *r,
			 const struct vhd_info *in)
{
	uint64_t bat_len;

	if (!in->have_footer || in->old_footer || v->partial ||
	    v->size < VHD_FOOTER_SIZE) {
		iw_finding(r, IW_F_BAD_FIELD, "no usable VHD footer");
		return -EINVAL;
	}
	if (in->virtual_size / VHD_SECTOR_SIZE > VHD_MAX_SECTORS) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "virtual size %" PRIu64 " is above 2040 GiB",
			   in->virtual_size);
		return -EINVAL;
	}
	if (!in->dynamic) {
		if (in->footer.disk_type != VHD_TYPE_FIXED ||
		    in->virtual_size > v->size - VHD_FOOTER_SIZE) {
			iw_finding(r, IW_F_TRUNCATED,
				   "the fixed disk's data does not fit in "
				   "front of its footer");
			return -EINVAL;
		}
		return 0;
	}
	if (in->footer.disk_type == VHD_TYPE_DIFFERENCING) {
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "differencing disk: refusing to convert without "
			   "its parent");
		return -EINVAL;
	}
	if (in->footer.disk_type != VHD_TYPE_DYNAMIC || !in->have_dyn_header) {
		iw_finding(r, IW_F_BAD_FIELD, "not a dynamic VHD");
		return -EINVAL;
	}
	if (!is_power_of_2(in->block_size) || in->block_size < VHD_SECTOR_SIZE ||
	    in->bitmap_size != vhd_bitmap_size(in->block_size)) {
		iw_finding(r, IW_F_BAD_FIELD, "block size %" PRIu32,
			   in->block_size);
		return -EINVAL;
	}
	bat_len = (uint64_t)in->bat_entries * 4;
	if (!range_ok(in->bat_offset, bat_len, v->size)) {
		iw_finding(r, IW_F_TABLE_PAST_EOF,
			   "the BAT lies past the end of the file");
		return -EINVAL;
	}
	return 0;
}

int iw_map_open_vhd(const struct iw_view *v, struct iw_report *r,
		    struct iw_map **ret)
{
	struct iw_report scratch;
	struct vhd_map *vm;
	bool ok;
	int err;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	err = iw_report_init(&scratch);
	if (err < 0)
		goto fail;
	err = vhd_parse(v, &scratch, &vm->info);
	ok = err == 0 && vxmap_take_verdict(r, &scratch);
	iw_report_done(&scratch);
	if (err < 0)
		goto fail;
	if (!ok) {
		err = -EINVAL;
		goto fail;
	}
	err = vhd_map_check(v, r, &vm->info);
	if (err < 0)
		goto fail;
	vm->m = (struct iw_map){ .ops = &vhd_map_ops,
				 .virtual_size = vm->info.virtual_size,
				 .view = v,
				 .report = r };
	vm->data_end = v->size - VHD_FOOTER_SIZE;
	if (vm->info.dynamic) {
		err = vxmap_window_init(&vm->bat, v, vm->info.bat_offset,
					vm->info.bat_entries, 4);
		if (err < 0)
			goto fail;
	}
	*ret = &vm->m;
	return 0;
fail:
	vxmap_window_done(&vm->bat);
	free(vm);
	return err;
}
