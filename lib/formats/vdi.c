/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VirtualBox VDI reader.
 *
 * No official specification exists: the rules are those of qemu 7.2's
 * block/vdi.c (vdi_open accepts exactly version 1.1, 512-byte sectors,
 * 1 MiB blocks, null link/parent UUIDs, at most VDI_BLOCKS_IN_IMAGE_MAX
 * blocks) plus the invariants of the layout both VirtualBox and qemu
 * write: header, then block map, then data blocks, each physical block
 * used by at most one virtual block and numbered below blocks_allocated
 * (qemu's vdi_co_check and its allocator, which hands out
 * blocks_allocated++).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"
#include "vdi.h"

/* The block map is read in chunks of this many bytes. */
#define VDI_MAP_CHUNK (64 * 1024)
/*
 * Block map entries we walk: 16 Mi entries = a 64 MiB map = a 16 TiB
 * disk with 1 MiB blocks, far beyond any VirtualBox image we expect.
 * Past it the rest of the map is not checked (inspection-incomplete);
 * the duplicate bitmap for it is 2 MiB.
 */
#define VDI_MAP_SCAN_MAX (UINT32_C(16) << 20)

void vdi_parse_header(const uint8_t *b, struct vdi_header *h)
{
	memset(h, 0, sizeof(*h));
	h->signature = get_le32(b + 0x40);
	h->version = get_le32(b + 0x44);
	h->header_size = get_le32(b + 0x48);
	h->image_type = get_le32(b + 0x4c);
	h->image_flags = get_le32(b + 0x50);
	memcpy(h->description, b + 0x54, sizeof(h->description));
	h->offset_bmap = get_le32(b + 0x154);
	h->offset_data = get_le32(b + 0x158);
	h->cylinders = get_le32(b + 0x15c);
	h->heads = get_le32(b + 0x160);
	h->sectors = get_le32(b + 0x164);
	h->sector_size = get_le32(b + 0x168);
	/* 0x16c: unused */
	h->disk_size = get_le64(b + 0x170);
	h->block_size = get_le32(b + 0x178);
	h->block_extra = get_le32(b + 0x17c);
	h->blocks_in_image = get_le32(b + 0x180);
	h->blocks_allocated = get_le32(b + 0x184);
	memcpy(h->uuid_image, b + 0x188, VDI_UUID_SIZE);
	memcpy(h->uuid_last_snap, b + 0x198, VDI_UUID_SIZE);
	memcpy(h->uuid_link, b + 0x1a8, VDI_UUID_SIZE);
	memcpy(h->uuid_parent, b + 0x1b8, VDI_UUID_SIZE);
}

bool vdi_virtual_size(const struct vdi_header *h, uint64_t *ret_size)
{
	uint64_t size;

	if (ADD_OVERFLOW(h->disk_size, (uint64_t)VDI_SECTOR_SIZE - 1, &size))
		return false;
	*ret_size = size / VDI_SECTOR_SIZE * VDI_SECTOR_SIZE;
	return true;
}

bool vdi_block_offset(const struct vdi_header *h, uint32_t entry,
		      uint64_t *ret_offset)
{
	uint64_t off;

	if (MUL_OVERFLOW((uint64_t)entry, (uint64_t)h->block_size, &off) ||
	    ADD_OVERFLOW(off, (uint64_t)h->offset_data, &off))
		return false;
	*ret_offset = off;
	return true;
}

void vdi_uuid_format(const uint8_t *u, char out[VDI_UUID_STRING_SIZE])
{
	snprintf(out, VDI_UUID_STRING_SIZE,
		 "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 get_le32(u), get_le16(u + 4), get_le16(u + 6), u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

static bool vdi_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	/* qemu's vdi_probe: the signature alone, nothing else */
	return head_len >= VDI_SIGNATURE_OFFSET + 4 &&
	       get_le32(head + VDI_SIGNATURE_OFFSET) == VDI_SIGNATURE;
}

static const char *vdi_type_name(uint32_t type)
{
	switch (type) {
	case VDI_TYPE_DYNAMIC:
		return "dynamic";
	case VDI_TYPE_STATIC:
		return "static";
	case VDI_TYPE_UNDO:
		return "undo";
	case VDI_TYPE_DIFF:
		return "diff";
	default:
		return "unknown";
	}
}

static void vdi_report_uuid(struct iw_report *r, const char *key,
			    const uint8_t *uuid)
{
	char s[VDI_UUID_STRING_SIZE];

	vdi_uuid_format(uuid, s);
	iw_fs_set_str(r, key, s);
}

static void vdi_report_fields(struct iw_report *r, const struct vdi_header *h)
{
	char version[24];
	size_t desc_len;

	snprintf(version, sizeof(version), "%u.%u", h->version >> 16,
		 h->version & 0xffff);
	iw_fs_set_str(r, "version", version);
	if (h->version != VDI_VERSION_1_1)
		return; /* other versions lay the header out differently */
	iw_fs_set_str(r, "image-type", vdi_type_name(h->image_type));
	if (h->image_type < VDI_TYPE_DYNAMIC || h->image_type > VDI_TYPE_DIFF)
		iw_fs_set_int(r, "image-type-value", h->image_type);
	iw_fs_set_int(r, "image-flags", h->image_flags);
	desc_len = strnlen((const char *)h->description,
			   sizeof(h->description));
	if (desc_len)
		iw_fs_set_bytes(r, "description", h->description, desc_len);
	iw_fs_set_int(r, "block-size", h->block_size);
	iw_fs_set_int(r, "blocks-in-image", h->blocks_in_image);
	iw_fs_set_int(r, "blocks-allocated", h->blocks_allocated);
	iw_fs_set_int(r, "block-map-offset", h->offset_bmap);
	iw_fs_set_int(r, "data-offset", h->offset_data);
	vdi_report_uuid(r, "uuid", h->uuid_image);
	vdi_report_uuid(r, "last-snapshot-uuid", h->uuid_last_snap);
	vdi_report_uuid(r, "link-uuid", h->uuid_link);
	vdi_report_uuid(r, "parent-uuid", h->uuid_parent);
}

/* [a, a+alen) and [b, b+blen) intersect (empty ranges never do) */
static bool vdi_ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			       uint64_t blen)
{
	if (alen == 0 || blen == 0)
		return false;
	return a < b + blen && b < a + alen;
}

/*
 * Judge the header. Returns true when the block map can be walked
 * (sizes and offsets are usable, even if the image is otherwise bad).
 */
static bool vdi_check_header(const struct iw_view *v, struct iw_report *r,
			     const struct vdi_header *h)
{
	bool walkable = true, block_size_ok = true;
	uint64_t bmap_len, room, data_len, vsize;

	/* Differencing: VirtualBox finds the parent by these UUIDs in its
	 * media registry; qemu refuses them (vdi_open). Report, never
	 * resolve. */
	if (!mem_is_zero(h->uuid_link, VDI_UUID_SIZE) ||
	    !mem_is_zero(h->uuid_parent, VDI_UUID_SIZE)) {
		char link[VDI_UUID_STRING_SIZE], parent[VDI_UUID_STRING_SIZE];

		vdi_uuid_format(h->uuid_link, link);
		vdi_uuid_format(h->uuid_parent, parent);
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "differencing VDI: link UUID %s, parent UUID %s",
			   link, parent);
		if (!mem_is_zero(h->uuid_link, VDI_UUID_SIZE))
			iw_reference(r, "link-uuid", link, strlen(link));
		if (!mem_is_zero(h->uuid_parent, VDI_UUID_SIZE))
			iw_reference(r, "parent-uuid", parent, strlen(parent));
	}

	switch (h->image_type) {
	case VDI_TYPE_DYNAMIC:
	case VDI_TYPE_STATIC:
		break;
	case VDI_TYPE_UNDO:
	case VDI_TYPE_DIFF:
		/* both hold only the changes against a parent image: read
		 * alone (as qemu would, it ignores the type) they give the
		 * guest a disk with holes */
		iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
			   "VDI image type %u (%s) is a differencing image",
			   h->image_type, vdi_type_name(h->image_type));
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "VDI image type %s needs its parent image",
			   vdi_type_name(h->image_type));
		break;
	default:
		iw_finding(r, IW_F_BAD_FIELD, "unknown VDI image type %u",
			   h->image_type);
		break;
	}

	if (h->header_size < VDI_HEADER_V1_MIN_SIZE)
		iw_finding(r, IW_F_BAD_FIELD,
			   "VDI header size %u is below the v1.1 minimum %u",
			   h->header_size, VDI_HEADER_V1_MIN_SIZE);

	if (h->sector_size != VDI_SECTOR_SIZE)
		iw_finding(r, IW_F_BAD_FIELD, "VDI sector size %u is not %u",
			   h->sector_size, VDI_SECTOR_SIZE);

	if (h->block_size < VDI_SECTOR_SIZE ||
	    !is_power_of_2(h->block_size)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "VDI block size %u is not a power of two of at "
			   "least %u",
			   h->block_size, VDI_SECTOR_SIZE);
		block_size_ok = false;
		walkable = false;
	} else if (h->block_size != VDI_DEFAULT_BLOCK_SIZE) {
		/* vdi_open: qemu reads only 1 MiB blocks */
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "VDI block size %u (only %u is supported)",
			   h->block_size, VDI_DEFAULT_BLOCK_SIZE);
	}
	if (block_size_ok)
		r->cluster_size = h->block_size;

	/* VirtualBox keeps per-block metadata in front of each block; qemu
	 * ignores it and would read it as guest data */
	if (h->block_extra != 0)
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "VDI block extra data (%u bytes per block)",
			   h->block_extra);

	if (h->offset_bmap % VDI_SECTOR_SIZE || h->offset_data % VDI_SECTOR_SIZE)
		iw_finding(r, IW_F_BAD_FIELD,
			   "VDI block map offset %u or data offset %u is not "
			   "sector aligned",
			   h->offset_bmap, h->offset_data);

	if (vdi_virtual_size(h, &vsize) && vsize <= INT64_MAX)
		r->virtual_size = (int64_t)vsize;
	if (h->disk_size > VDI_DISK_SIZE_MAX)
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "VDI disk size %llu is above qemu's maximum %llu",
			   (unsigned long long)h->disk_size,
			   (unsigned long long)VDI_DISK_SIZE_MAX);
	room = (uint64_t)h->blocks_in_image * h->block_size; /* < 2^64 */
	if (h->disk_size > room)
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "VDI disk size %llu is larger than its %u blocks "
			   "of %u bytes",
			   (unsigned long long)h->disk_size,
			   h->blocks_in_image, h->block_size);

	/* vdi_open: qemu allocates the whole map; this is its cap */
	if (h->blocks_in_image > VDI_BLOCKS_IN_IMAGE_MAX) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "VDI block map of %u entries (qemu's maximum is %u)",
			   h->blocks_in_image, VDI_BLOCKS_IN_IMAGE_MAX);
		walkable = false;
	}
	if (h->blocks_allocated > h->blocks_in_image)
		iw_finding(r, IW_F_BAD_FIELD,
			   "VDI claims %u allocated blocks out of %u",
			   h->blocks_allocated, h->blocks_in_image);

	/* header, block map and data area must not share bytes: a map
	 * that is also guest data lets a guest write rewrite the map */
	bmap_len = (uint64_t)h->blocks_in_image * 4;
	data_len = block_size_ok ? (uint64_t)h->blocks_allocated * h->block_size
				 : 0;
	if (vdi_ranges_overlap(0, VDI_HEADER_SIZE, h->offset_bmap, bmap_len))
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "VDI block map at %u overlaps the header",
			   h->offset_bmap);
	if (vdi_ranges_overlap(0, VDI_HEADER_SIZE, h->offset_data, data_len))
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "VDI data area at %u overlaps the header",
			   h->offset_data);
	if (vdi_ranges_overlap(h->offset_bmap, bmap_len, h->offset_data,
			       data_len))
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "VDI data area at %u overlaps the block map at %u",
			   h->offset_data, h->offset_bmap);

	if (!iw_check_table(v, r, h->offset_bmap, bmap_len, "VDI block map"))
		walkable = false;
	return walkable;
}

struct vdi_map_stats {
	uint64_t allocated, discarded;
	uint64_t out_of_range, duplicates;
	uint32_t first_bad_block, first_bad_entry;
	uint32_t first_dup_block, first_dup_entry;
	bool have_max;
	uint32_t max_entry;
};

/*
 * Walk the block map: every allocated entry must name a physical block
 * below blocks_allocated (qemu's allocator hands them out in order), no
 * two virtual blocks may share a physical block (a write to one would
 * change the other), and every used block must lie inside the file.
 */
static int vdi_check_block_map(const struct iw_view *v, struct iw_report *r,
			       const struct vdi_header *h)
{
	_cleanup_free_ uint8_t *chunk = NULL;
	_cleanup_free_ uint8_t *seen = NULL;
	struct vdi_map_stats s = { 0 };
	uint32_t n_entries = MIN(h->blocks_in_image, VDI_MAP_SCAN_MAX);
	uint32_t seen_bits = MIN(h->blocks_allocated, VDI_MAP_SCAN_MAX);
	uint32_t block = 0;
	int ret;

	if (h->blocks_in_image > n_entries)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "only the first %u of %u VDI block map entries "
			   "were checked",
			   n_entries, h->blocks_in_image);
	if (n_entries == 0)
		return 0;

	chunk = malloc(VDI_MAP_CHUNK);
	seen = calloc((size_t)seen_bits / 8 + 1, 1);
	if (!chunk || !seen)
		return -ENOMEM;

	while (block < n_entries) {
		uint32_t n = MIN(n_entries - block, VDI_MAP_CHUNK / 4);
		uint64_t off = h->offset_bmap + (uint64_t)block * 4;

		ret = iw_read_struct(v, r, chunk, (size_t)n * 4, off,
				     "VDI block map");
		if (ret == -ERANGE || ret == -E2BIG)
			return 0;
		if (ret < 0)
			return ret;
		for (uint32_t i = 0; i < n; i++, block++) {
			uint32_t e = get_le32(chunk + (size_t)i * 4);

			if (e == VDI_BLOCK_DISCARDED)
				s.discarded++;
			if (!vdi_entry_allocated(e))
				continue;
			s.allocated++;
			if (e >= h->blocks_allocated) {
				if (s.out_of_range++ == 0) {
					s.first_bad_block = block;
					s.first_bad_entry = e;
				}
				continue;
			}
			if (!s.have_max || e > s.max_entry)
				s.max_entry = e;
			s.have_max = true;
			if (e >= seen_bits)
				continue;
			if (seen[e / 8] & (1u << (e % 8))) {
				if (s.duplicates++ == 0) {
					s.first_dup_block = block;
					s.first_dup_entry = e;
				}
			}
			seen[e / 8] |= (uint8_t)(1u << (e % 8));
		}
	}

	if (s.out_of_range)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "%llu VDI block map entries name a block beyond "
			   "the %u allocated (first: block %u -> %u)",
			   (unsigned long long)s.out_of_range,
			   h->blocks_allocated, s.first_bad_block,
			   s.first_bad_entry);
	if (s.duplicates)
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "%llu VDI block map entries reuse a physical block "
			   "(first: block %u -> %u)",
			   (unsigned long long)s.duplicates, s.first_dup_block,
			   s.first_dup_entry);
	if (s.have_max && !v->partial) {
		uint64_t start, end;

		if (!vdi_block_offset(h, s.max_entry, &start) ||
		    ADD_OVERFLOW(start, (uint64_t)h->block_size, &end) ||
		    end > v->size)
			iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
				   "VDI data block %u (offset %llu) ends past "
				   "the end of the file (%llu bytes)",
				   s.max_entry, (unsigned long long)start,
				   (unsigned long long)v->size);
	}
	iw_fs_set_int(r, "blocks-mapped", (int64_t)s.allocated);
	if (s.discarded)
		iw_fs_set_int(r, "blocks-discarded", (int64_t)s.discarded);
	return 0;
}

static int vdi_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	uint8_t buf[VDI_HEADER_SIZE];
	struct vdi_header h;
	int ret;

	r->format = "vdi";
	ret = iw_read_struct(v, r, buf, sizeof(buf), 0, "VDI header");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;

	vdi_parse_header(buf, &h);
	vdi_report_fields(r, &h);
	if (h.version != VDI_VERSION_1_1) {
		/* vdi_open refuses every other version; their headers do
		 * not share the v1.1 layout, so read no further */
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "VDI version %u.%u (only 1.1 is supported)",
			   h.version >> 16, h.version & 0xffff);
		return 0;
	}
	if (!vdi_check_header(v, r, &h))
		return 0;
	return vdi_check_block_map(v, r, &h);
}

const struct iw_format iw_format_vdi = {
	.name = "vdi",
	.kind = IW_KIND_IMAGE,
	.match = vdi_match,
	.probe = vdi_probe,
};
