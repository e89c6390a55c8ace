/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD (qemu "vpc") reader.
 *
 * What qemu 7.2 (block/vpc.c vpc_open) does, and so what we must agree
 * with:
 *  - "conectix" at offset 0: the image is treated as dynamic, whatever
 *    the footer copy's disk type says, and the dynamic header is read at
 *    the footer's data offset;
 *  - otherwise (only with -f vpc; its auto-probe sees raw) the footer at
 *    EOF-512 must carry the cookie and say "fixed";
 *  - the footer checksum must match; the dynamic header's is not
 *    checked (we check it: a real writer never gets it wrong);
 *  - a differencing disk is opened like a dynamic one, without its
 *    parent: unallocated blocks read as zeros, silently wrong data. We
 *    report the parent names and flag parent-reference.
 * The footer at EOF of a dynamic disk is ignored by qemu; we require it
 * to equal the copy at offset 0 (a truncated or spliced file otherwise
 * passes).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "vhd.h"

/* qemu: "Max Table Entries too large" above INT_MAX / 4 entries (a 2 GiB
 * BAT); nothing larger can be opened, so nothing larger is read. */
#define VHD_MAX_TABLE_ENTRIES (UINT32_C(0x7fffffff) / 4)
/* We scan at most 16 Mi BAT entries (64 MiB): a 2040 GiB disk (qemu's
 * limit) with the common 2 MiB blocks needs 1 Mi. Beyond that the rest
 * is reported as not inspected rather than read. */
#define VHD_BAT_SCAN_MAX_ENTRIES (UINT32_C(16) << 20)
/* BAT entries read per view read (16 KiB) */
#define VHD_BAT_CHUNK_ENTRIES 4096
/* Parent locator data read at most: 8 KiB of UTF-16 is 4096 characters,
 * more than Windows' MAX_PATH (260) and than our report keeps. */
#define VHD_LOCATOR_MAX_BYTES 8192

static const char vhd_cookie[8] = { 'c', 'o', 'n', 'e', 'c', 't', 'i', 'x' };
static const char vhd_dyn_cookie[8] = { 'c', 'x', 's', 'p',
					'a', 'r', 's', 'e' };

/* platform codes of parent locator entries (spec "Parent Locator
 * Entries") */
#define VHD_PLATFORM_W2KU 0x57326b75 /* "W2ku": absolute path, UTF-16LE */
#define VHD_PLATFORM_W2RU 0x57327275 /* "W2ru": relative path, UTF-16LE */
#define VHD_PLATFORM_WI2K 0x5769326b /* "Wi2k": deprecated, ANSI */
#define VHD_PLATFORM_WI2R 0x57693272 /* "Wi2r": deprecated, ANSI */
#define VHD_PLATFORM_MAC 0x4d616320  /* "Mac ": Mac OS alias blob */
#define VHD_PLATFORM_MACX 0x4d616358 /* "MacX": file:// URL, UTF-8 */

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t checksum_off)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < checksum_off || i >= checksum_off + 4)
			sum += buf[i];
	return ~sum;
}

bool vhd_footer_decode(const uint8_t *buf, struct vhd_footer *ret)
{
	struct vhd_footer f = { 0 };

	if (memcmp(buf, vhd_cookie, sizeof(vhd_cookie)) != 0)
		return false;
	f.features = get_be32(buf + 8);
	f.version = get_be32(buf + 12);
	f.data_offset = get_be64(buf + 16);
	f.timestamp = get_be32(buf + 24);
	memcpy(f.creator_app, buf + 28, 4);
	f.creator_major = get_be16(buf + 32);
	f.creator_minor = get_be16(buf + 34);
	memcpy(f.creator_os, buf + 36, 4);
	f.original_size = get_be64(buf + 40);
	f.current_size = get_be64(buf + 48);
	f.cylinders = get_be16(buf + 56);
	f.heads = buf[58];
	f.sectors_per_track = buf[59];
	f.disk_type = get_be32(buf + 60);
	f.checksum = get_be32(buf + VHD_FOOTER_CHECKSUM_OFFSET);
	f.checksum_ok = vhd_checksum(buf, VHD_FOOTER_SIZE,
				     VHD_FOOTER_CHECKSUM_OFFSET) == f.checksum;
	memcpy(f.unique_id, buf + 68, 16);
	f.saved_state = buf[84];
	f.hidden = buf[85];
	*ret = f;
	return true;
}

bool vhd_dyn_header_decode(const uint8_t *buf, struct vhd_dyn_header *ret)
{
	struct vhd_dyn_header h = { 0 };

	if (memcmp(buf, vhd_dyn_cookie, sizeof(vhd_dyn_cookie)) != 0)
		return false;
	h.data_offset = get_be64(buf + 8);
	h.table_offset = get_be64(buf + 16);
	h.version = get_be32(buf + 24);
	h.max_table_entries = get_be32(buf + 28);
	h.block_size = get_be32(buf + 32);
	h.checksum = get_be32(buf + VHD_DYN_CHECKSUM_OFFSET);
	h.checksum_ok = vhd_checksum(buf, VHD_DYN_HEADER_SIZE,
				     VHD_DYN_CHECKSUM_OFFSET) == h.checksum;
	memcpy(h.parent_uuid, buf + 40, 16);
	h.parent_timestamp = get_be32(buf + 56);
	memcpy(h.parent_name, buf + 64, VHD_PARENT_NAME_SIZE);
	for (int i = 0; i < VHD_PARENT_LOCATORS; i++) {
		const uint8_t *e = buf + 576 + 24 * i;

		h.locators[i].platform = get_be32(e);
		h.locators[i].data_space = get_be32(e + 4);
		h.locators[i].data_length = get_be32(e + 8);
		h.locators[i].data_offset = get_be64(e + 16);
	}
	*ret = h;
	return true;
}

/*
 * The virtual size, exactly as qemu 7.2's vpc_open computes it (its
 * comment explains the history: Virtual PC sizes a disk by its CHS
 * geometry, Hyper-V and others by current_size):
 *
 *   sectors = cylinders * heads * sectors_per_track
 *   if the creator app is one of "win " (Hyper-V), "qem2" (qemu with
 *      force_size), "d2v " (Disk2vhd), "CTXS" (XenConverter) or "tap\0"
 *      (XenServer blktap), or the geometry is the maximum 65535/16/255
 *      (the CHS product would truncate the disk):
 *        sectors = current_size / 512   (rounded down)
 *   virtual size = sectors * 512
 *
 * qemu then refuses anything above VHD_MAX_SECTORS; the caller checks.
 */
uint64_t vhd_virtual_size(const struct vhd_footer *f)
{
	static const char *const size_apps[] = { "win ", "qem2", "d2v ",
						 "CTXS" };
	static const uint8_t tap[4] = { 't', 'a', 'p', 0 };
	uint64_t sectors = (uint64_t)f->cylinders * f->heads *
			   f->sectors_per_track;
	bool use_chs = memcmp(f->creator_app, tap, 4) != 0;

	for (size_t i = 0; i < ARRAY_SIZE(size_apps); i++)
		if (memcmp(f->creator_app, size_apps[i], 4) == 0)
			use_chs = false;
	if (!use_chs || sectors == VHD_MAX_GEOMETRY_SECTORS)
		sectors = f->current_size / VHD_SECTOR_SIZE;
	/* sectors <= 2^55 here, so the product cannot wrap */
	return sectors * VHD_SECTOR_SIZE;
}

/* qemu's rounding ((block_size / 4096) + 511) & ~511: one bit per 512-byte
 * sector, padded to a sector. For blocks under 4 KiB this yields 0 (the
 * spec would say 512); we follow qemu so the converter reads what it
 * reads. */
uint32_t vhd_bitmap_size(uint32_t block_size)
{
	return ((block_size / (8 * VHD_SECTOR_SIZE)) + 511) & ~UINT32_C(511);
}

static size_t utf8_put(char *out, size_t pos, size_t out_size, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (pos + n >= out_size)
		return pos;
	memcpy(out + pos, b, n);
	return pos + n;
}

size_t vhd_utf16_to_utf8(const uint8_t *in, size_t len, bool big_endian,
			 char *out, size_t out_size)
{
	size_t pos = 0, units = len / 2;

	if (out_size == 0)
		return 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t u = big_endian ? get_be16(in + 2 * i)
					: get_le16(in + 2 * i);
		uint32_t cp = u;

		if (u == 0)
			break;
		if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
			uint32_t lo = big_endian ? get_be16(in + 2 * i + 2)
						 : get_le16(in + 2 * i + 2);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((u - 0xd800) << 10) +
				     (lo - 0xdc00);
				i++;
			} else {
				cp = 0xfffd;
			}
		} else if (u >= 0xd800 && u <= 0xdfff) {
			cp = 0xfffd;
		}
		pos = utf8_put(out, pos, out_size, cp);
	}
	out[pos] = '\0';
	return pos;
}

static const char *vhd_type_name(uint32_t type)
{
	switch (type) {
	case VHD_TYPE_FIXED:
		return "fixed";
	case VHD_TYPE_DYNAMIC:
		return "dynamic";
	case VHD_TYPE_DIFFERENCING:
		return "differencing";
	default:
		return "unknown";
	}
}

/* true when [a, a+alen) and [b, b+blen) intersect (no wrap: callers pass
 * ranges already known to fit in 64 bits) */
static bool vhd_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Checks common to both footer placements. */
static void vhd_check_footer(struct iw_report *r, const struct vhd_footer *f,
			     const char *where)
{
	if (!f->checksum_ok)
		iw_finding(r, IW_F_BAD_CHECKSUM,
			   "%s checksum 0x%08" PRIx32 " does not match its "
			   "contents",
			   where, f->checksum);
	if (f->version != VHD_VERSION)
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "%s file format version 0x%08" PRIx32
			   " (expected 0x00010000)",
			   where, f->version);
}

/* The old 511-byte footer at the end: cookie and checksum, since a raw
 * disk ending in "conectix" 511 bytes before EOF must stay raw. */
static bool vhd_old_footer_at_end(const struct iw_view *v)
{
	uint8_t buf[VHD_OLD_FOOTER_SIZE];

	return !v->partial && v->size >= VHD_OLD_FOOTER_SIZE &&
	       iw_view_read(v, buf, sizeof(buf),
			    v->size - VHD_OLD_FOOTER_SIZE) == 0 &&
	       memcmp(buf, vhd_cookie, sizeof(vhd_cookie)) == 0 &&
	       vhd_checksum(buf, sizeof(buf), VHD_FOOTER_CHECKSUM_OFFSET) ==
		       get_be32(buf + VHD_FOOTER_CHECKSUM_OFFSET);
}

/* A pre-2004 Virtual PC image ends in a 511-byte footer. qemu cannot
 * open it (with -f vpc it finds no footer); we recognise it so it is not
 * mistaken for a plain raw disk, and refuse it. */
static int vhd_parse_old_footer(const struct iw_view *v, struct iw_report *r,
				struct vhd_info *ret)
{
	uint8_t buf[VHD_FOOTER_SIZE] = { 0 };
	int err;

	err = iw_read_struct(v, r, buf, VHD_OLD_FOOTER_SIZE,
			     v->size - VHD_OLD_FOOTER_SIZE, "VHD footer");
	if (err < 0)
		return err == -ERANGE || err == -E2BIG ? 0 : err;
	if (!vhd_footer_decode(buf, &ret->footer)) {
		iw_finding(r, IW_F_BAD_FIELD, "no VHD footer found");
		return 0;
	}
	ret->footer.checksum_ok =
		vhd_checksum(buf, VHD_OLD_FOOTER_SIZE,
			     VHD_FOOTER_CHECKSUM_OFFSET) == ret->footer.checksum;
	ret->have_footer = true;
	ret->old_footer = true;
	ret->virtual_size = vhd_virtual_size(&ret->footer);
	iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
		   "the image ends in a 511-byte footer (Virtual PC before "
		   "2004), which qemu cannot open");
	vhd_check_footer(r, &ret->footer, "the footer");
	return 0;
}

static void vhd_report_locator(const struct iw_view *v, struct iw_report *r,
			       const struct vhd_info *info, int i)
{
	const struct vhd_parent_locator *l = &info->dyn.locators[i];
	uint8_t raw[VHD_LOCATOR_MAX_BYTES];
	char text[3 * (VHD_LOCATOR_MAX_BYTES / 2) + 1];
	size_t len;
	int err;

	if (l->platform == 0 || l->data_length == 0)
		return;
	if (!v->partial && !iw_view_contains(v, l->data_offset, l->data_length)) {
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "parent locator %d (%" PRIu32 " bytes at offset "
			   "%" PRIu64 ") lies past the end of the file",
			   i, l->data_length, l->data_offset);
		return;
	}
	if (vhd_overlaps(l->data_offset, l->data_length, 0, VHD_FOOTER_SIZE) ||
	    vhd_overlaps(l->data_offset, l->data_length,
			 info->footer.data_offset, VHD_DYN_HEADER_SIZE))
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "parent locator %d overlaps the footer copy or the "
			   "dynamic header",
			   i);
	len = MIN((size_t)l->data_length, sizeof(raw));
	err = iw_read_struct(v, r, raw, len, l->data_offset,
			     "parent locator data");
	if (err < 0)
		return;
	switch (l->platform) {
	case VHD_PLATFORM_W2KU:
	case VHD_PLATFORM_W2RU:
		len = vhd_utf16_to_utf8(raw, len, false, text, sizeof(text));
		iw_reference(r, "parent-locator", text, len);
		break;
	default:
		/* MacX is UTF-8 already; Wi2k/Wi2r are ANSI, Mac an alias
		 * blob: reported as bytes (the report sanitises and keeps
		 * the hex) */
		iw_reference(r, "parent-locator", raw, len);
		break;
	}
}

static void vhd_report_parent(const struct iw_view *v, struct iw_report *r,
			      const struct vhd_info *info)
{
	char name[3 * (VHD_PARENT_NAME_SIZE / 2) + 1];
	size_t len;

	len = vhd_utf16_to_utf8(info->dyn.parent_name, VHD_PARENT_NAME_SIZE,
				true, name, sizeof(name));
	/* the names go into references (sanitised), not into the detail */
	if (info->footer.disk_type == VHD_TYPE_DIFFERENCING)
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "differencing disk: blocks it does not hold come "
			   "from a parent image");
	if (len)
		iw_reference(r, "parent-name", name, len);
	for (int i = 0; i < VHD_PARENT_LOCATORS; i++)
		vhd_report_locator(v, r, info, i);
}

/* Scan the BAT the way qemu's vpc_open does (every one of the
 * max_table_entries entries), plus overlap checks qemu lacks. */
static int vhd_scan_bat(const struct iw_view *v, struct iw_report *r,
			const struct vhd_info *info)
{
	uint8_t buf[VHD_BAT_CHUNK_ENTRIES * 4];
	uint32_t n = MIN(info->bat_entries, VHD_BAT_SCAN_MAX_ENTRIES);
	uint64_t bat_len = (uint64_t)info->bat_entries * 4;
	uint64_t span = (uint64_t)info->bitmap_size + info->block_size;
	uint64_t data_end = v->size - VHD_FOOTER_SIZE; /* size >= 1024 here */
	uint32_t n_past = 0, n_overlap = 0, first_past = 0, first_overlap = 0;
	uint64_t first_past_off = 0;

	if (n < info->bat_entries)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "only the first %" PRIu32 " of %" PRIu32
			   " BAT entries were checked",
			   n, info->bat_entries);
	for (uint32_t base = 0; base < n; base += VHD_BAT_CHUNK_ENTRIES) {
		uint32_t cnt = MIN(n - base, (uint32_t)VHD_BAT_CHUNK_ENTRIES);
		int err = iw_read_struct(v, r, buf, (size_t)cnt * 4,
					 info->bat_offset + (uint64_t)base * 4,
					 "block allocation table");

		if (err < 0)
			return err == -ERANGE || err == -E2BIG ? 0 : err;
		for (uint32_t k = 0; k < cnt; k++) {
			uint32_t e = get_be32(buf + 4 * k);
			uint64_t start = (uint64_t)e * VHD_SECTOR_SIZE;

			if (e == VHD_BAT_UNALLOCATED)
				continue;
			/* start < 2^41 and span < 2^33: no wrap */
			if (!v->partial && start + span > data_end) {
				if (!n_past++) {
					first_past = base + k;
					first_past_off = start;
				}
				continue;
			}
			if (vhd_overlaps(start, span, 0, VHD_FOOTER_SIZE) ||
			    vhd_overlaps(start, span, info->footer.data_offset,
					 VHD_DYN_HEADER_SIZE) ||
			    vhd_overlaps(start, span, info->bat_offset,
					 bat_len)) {
				if (!n_overlap++)
					first_overlap = base + k;
			}
		}
	}
	/* qemu refuses blocks ending past EOF ("The image has been
	 * truncated"); one ending inside the footer would be overwritten
	 * by it (and the footer by guest writes). */
	if (n_past)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "%" PRIu32 " BAT entries point past the end of the "
			   "data (first: entry %" PRIu32 ", block at offset "
			   "%" PRIu64 ")",
			   n_past, first_past, first_past_off);
	if (n_overlap)
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "%" PRIu32 " data blocks overlap the footer, dynamic "
			   "header or BAT (first: entry %" PRIu32 ")",
			   n_overlap, first_overlap);
	return 0;
}

static int vhd_parse_dynamic(const struct iw_view *v, struct iw_report *r,
			     struct vhd_info *ret)
{
	const struct vhd_footer *f = &ret->footer;
	uint8_t buf[VHD_DYN_HEADER_SIZE];
	uint64_t bat_len, bat_end, sectors;
	int err;

	if (f->data_offset < VHD_FOOTER_SIZE)
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "the dynamic header offset %" PRIu64
			   " overlaps the footer copy",
			   f->data_offset);
	err = iw_read_struct(v, r, buf, sizeof(buf), f->data_offset,
			     "dynamic disk header");
	if (err < 0)
		return err == -ERANGE || err == -E2BIG ? 0 : err;
	if (!vhd_dyn_header_decode(buf, &ret->dyn)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "no \"cxsparse\" dynamic disk header at offset "
			   "%" PRIu64,
			   f->data_offset);
		return 0;
	}
	ret->have_dyn_header = true;
	if (!ret->dyn.checksum_ok)
		iw_finding(r, IW_F_BAD_CHECKSUM,
			   "dynamic header checksum 0x%08" PRIx32
			   " does not match its contents",
			   ret->dyn.checksum);
	if (ret->dyn.version != VHD_VERSION)
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "dynamic header version 0x%08" PRIx32
			   " (expected 0x00010000)",
			   ret->dyn.version);

	/* parent names first: they matter even when the BAT is broken */
	vhd_report_parent(v, r, ret);

	ret->block_size = ret->dyn.block_size;
	ret->bat_entries = ret->dyn.max_table_entries;
	ret->bat_offset = ret->dyn.table_offset;
	/* qemu: "Invalid block size" */
	if (!is_power_of_2(ret->block_size) ||
	    ret->block_size < VHD_SECTOR_SIZE) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "block size %" PRIu32
			   " is not a power of two of at least 512",
			   ret->block_size);
		return 0;
	}
	ret->bitmap_size = vhd_bitmap_size(ret->block_size);
	sectors = ret->virtual_size / VHD_SECTOR_SIZE;
	/* qemu: "Too many blocks" */
	if (ret->virtual_size / ret->block_size > UINT32_MAX) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "%" PRIu64 " sectors need more than 2^32 blocks",
			   sectors);
		return 0;
	}
	/* qemu: "Page table too small" */
	if ((uint64_t)ret->bat_entries * ret->block_size < ret->virtual_size)
		iw_finding(r, IW_F_BAD_FIELD,
			   "%" PRIu32 " BAT entries of %" PRIu32
			   " bytes do not cover the virtual size %" PRIu64,
			   ret->bat_entries, ret->block_size,
			   ret->virtual_size);
	/* qemu: "Max Table Entries too large" (CVE-2014-0144 family) */
	if (ret->bat_entries > VHD_MAX_TABLE_ENTRIES) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "max_table_entries %" PRIu32 " exceeds qemu's limit "
			   "%" PRIu32,
			   ret->bat_entries, VHD_MAX_TABLE_ENTRIES);
		return 0;
	}
	bat_len = (uint64_t)ret->bat_entries * 4;
	/* qemu rounds the BAT's end up to a sector and refuses the image if
	 * that is past EOF */
	if (ADD_OVERFLOW(ret->bat_offset, bat_len, &bat_end) ||
	    ADD_OVERFLOW(bat_end, (uint64_t)VHD_SECTOR_SIZE - 1, &bat_end)) {
		iw_finding(r, IW_F_TABLE_PAST_EOF,
			   "the BAT offset %" PRIu64 " is impossible",
			   ret->bat_offset);
		return 0;
	}
	bat_end &= ~(uint64_t)(VHD_SECTOR_SIZE - 1);
	if (!iw_check_table(v, r, ret->bat_offset, bat_end - ret->bat_offset,
			    "block allocation table"))
		return 0;
	if (vhd_overlaps(ret->bat_offset, bat_len, 0, VHD_FOOTER_SIZE) ||
	    vhd_overlaps(ret->bat_offset, bat_len, f->data_offset,
			 VHD_DYN_HEADER_SIZE) ||
	    (!v->partial && vhd_overlaps(ret->bat_offset, bat_len,
					 v->size - VHD_FOOTER_SIZE,
					 VHD_FOOTER_SIZE)))
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "the BAT (%" PRIu64 " bytes at offset %" PRIu64
			   ") overlaps the footer or the dynamic header",
			   bat_len, ret->bat_offset);
	return vhd_scan_bat(v, r, ret);
}

int vhd_parse(const struct iw_view *v, struct iw_report *r,
	      struct vhd_info *ret)
{
	uint8_t head[VHD_FOOTER_SIZE], tail[VHD_FOOTER_SIZE];
	int err;

	*ret = (struct vhd_info){ 0 };
	if (v->size < VHD_FOOTER_SIZE) {
		/* a 511-byte file with a valid old footer is an empty fixed
		 * disk; anything else this short is a truncated footer */
		if (vhd_old_footer_at_end(v))
			return vhd_parse_old_footer(v, r, ret);
		iw_finding(r, v->partial ? IW_F_INSPECTION_INCOMPLETE
					 : IW_F_TRUNCATED,
			   "%" PRIu64 " bytes are too few for a VHD footer",
			   v->size);
		return 0;
	}
	err = iw_read_struct(v, r, head, sizeof(head), 0, "VHD footer copy");
	if (err < 0)
		return err == -ERANGE || err == -E2BIG ? 0 : err;

	if (vhd_footer_decode(head, &ret->footer)) {
		/* qemu: a cookie at offset 0 means a dynamic disk */
		ret->have_footer = true;
		ret->dynamic = true;
		vhd_check_footer(r, &ret->footer, "the footer copy at offset 0");
		switch (ret->footer.disk_type) {
		case VHD_TYPE_DYNAMIC:
		case VHD_TYPE_DIFFERENCING:
			break;
		case VHD_TYPE_FIXED:
			/* qemu would look for a dynamic header and, if one
			 * is there, serve the file from offset 0 as raw */
			iw_finding(r, IW_F_BAD_FIELD,
				   "a footer at offset 0 says \"fixed\"; a "
				   "fixed disk keeps its footer only at the "
				   "end");
			break;
		default:
			iw_finding(r, IW_F_BAD_FIELD,
				   "disk type %" PRIu32
				   " (expected 2, 3 or 4)",
				   ret->footer.disk_type);
			break;
		}
		if (!v->partial) {
			if (v->size < 2 * VHD_FOOTER_SIZE) {
				iw_finding(r, IW_F_TRUNCATED,
					   "the file holds nothing after the "
					   "footer copy");
			} else {
				err = iw_read_struct(v, r, tail, sizeof(tail),
						     v->size - VHD_FOOTER_SIZE,
						     "VHD footer");
				if (err < 0 && err != -ERANGE && err != -E2BIG)
					return err;
				if (err == 0 &&
				    memcmp(tail, vhd_cookie,
					   sizeof(vhd_cookie)) != 0)
					iw_finding(r, IW_F_TRUNCATED,
						   "no footer at the end of "
						   "the file (truncated?)");
				else if (err == 0 &&
					 memcmp(tail, head, sizeof(head)) != 0)
					iw_finding(r, IW_F_INCONSISTENT_HEADER,
						   "the footer at the end of "
						   "the file differs from its "
						   "copy at offset 0");
			}
		}
	} else {
		if (v->partial) {
			iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
				   "the end of the file, where a fixed VHD "
				   "keeps its footer, was not inspected");
			return 0;
		}
		err = iw_read_struct(v, r, tail, sizeof(tail),
				     v->size - VHD_FOOTER_SIZE, "VHD footer");
		if (err < 0)
			return err == -ERANGE || err == -E2BIG ? 0 : err;
		if (!vhd_footer_decode(tail, &ret->footer))
			return vhd_parse_old_footer(v, r, ret);
		ret->have_footer = true;
		vhd_check_footer(r, &ret->footer, "the footer");
		switch (ret->footer.disk_type) {
		case VHD_TYPE_FIXED:
			break;
		case VHD_TYPE_DYNAMIC:
		case VHD_TYPE_DIFFERENCING:
			/* qemu: "invalid VPC image" */
			iw_finding(r, IW_F_INCONSISTENT_HEADER,
				   "the footer says \"%s\" but there is no "
				   "footer copy at offset 0",
				   vhd_type_name(ret->footer.disk_type));
			break;
		default:
			iw_finding(r, IW_F_BAD_FIELD,
				   "disk type %" PRIu32 " (expected 2, 3 or 4)",
				   ret->footer.disk_type);
			break;
		}
	}

	ret->virtual_size = vhd_virtual_size(&ret->footer);
	/* qemu: -EFBIG above 2040 GiB */
	if (ret->virtual_size / VHD_SECTOR_SIZE > VHD_MAX_SECTORS)
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "virtual size %" PRIu64
			   " is above qemu's 2040 GiB VHD limit",
			   ret->virtual_size);

	if (!ret->dynamic) {
		/* a fixed disk is its data followed by the footer */
		if (ret->virtual_size > v->size - VHD_FOOTER_SIZE)
			iw_finding(r, IW_F_TRUNCATED,
				   "the fixed disk's %" PRIu64 " bytes of data "
				   "do not fit in front of the footer (file "
				   "size %" PRIu64 ")",
				   ret->virtual_size, v->size);
		return 0;
	}
	return vhd_parse_dynamic(v, r, ret);
}

int vhd_read_bat_entry(const struct iw_view *v, const struct vhd_info *info,
		       uint32_t index, uint32_t *ret_entry)
{
	uint8_t b[4];
	int err;

	if (!info->have_dyn_header || index >= info->bat_entries)
		return -EINVAL;
	err = iw_view_read(v, b, sizeof(b),
			   info->bat_offset + (uint64_t)index * 4);
	if (err < 0)
		return err;
	*ret_entry = get_be32(b);
	return 0;
}

static void vhd_fs_uuid(struct iw_report *r, const char *key,
			const uint8_t *u)
{
	char s[37];

	snprintf(s, sizeof(s),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	iw_fs_set_str(r, key, s);
}

/* 4-byte tags ("vpc ", "tap\0", "Wi2k"): trailing NULs dropped */
static void vhd_fs_tag(struct iw_report *r, const char *key,
		       const uint8_t *tag)
{
	size_t len = 4;

	while (len > 0 && tag[len - 1] == 0)
		len--;
	iw_fs_set_bytes(r, key, tag, len);
}

static void vhd_report_fs(struct iw_report *r, const struct vhd_info *info)
{
	const struct vhd_footer *f = &info->footer;
	json_object *fs, *geo;
	char version[16];

	iw_fs_set_str(r, "disk-type", vhd_type_name(f->disk_type));
	vhd_fs_tag(r, "creator-app", f->creator_app);
	snprintf(version, sizeof(version), "%u.%u", f->creator_major,
		 f->creator_minor);
	iw_fs_set_str(r, "creator-version", version);
	vhd_fs_tag(r, "creator-os", f->creator_os);
	iw_fs_set_int(r, "current-size", (int64_t)MIN(f->current_size,
						      (uint64_t)INT64_MAX));
	iw_fs_set_int(r, "original-size", (int64_t)MIN(f->original_size,
						       (uint64_t)INT64_MAX));
	fs = iw_report_fs(r);
	geo = fs ? json_object_new_object() : NULL;
	if (geo) {
		json_object_object_add(geo, "cylinders",
				       json_object_new_int(f->cylinders));
		json_object_object_add(geo, "heads",
				       json_object_new_int(f->heads));
		json_object_object_add(geo, "sectors",
				       json_object_new_int(f->sectors_per_track));
		json_object_object_add(fs, "geometry", geo);
	}
	vhd_fs_uuid(r, "unique-id", f->unique_id);
	iw_fs_set_bool(r, "saved-state", f->saved_state != 0);
	iw_fs_set_bool(r, "hidden", f->hidden != 0);
	iw_fs_set_int(r, "timestamp", f->timestamp);
	if (info->have_dyn_header) {
		iw_fs_set_int(r, "block-size", info->dyn.block_size);
		iw_fs_set_int(r, "max-table-entries",
			      info->dyn.max_table_entries);
		vhd_fs_uuid(r, "parent-uuid", info->dyn.parent_uuid);
		iw_fs_set_int(r, "parent-timestamp",
			      info->dyn.parent_timestamp);
	}
}

static bool vhd_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	uint8_t tail[VHD_FOOTER_SIZE];

	/* qemu's vpc_probe: the footer copy of a dynamic disk */
	if (head_len >= sizeof(vhd_cookie) &&
	    memcmp(head, vhd_cookie, sizeof(vhd_cookie)) == 0)
		return true;
	/* a prefix's end is not the file's end */
	if (v->partial)
		return false;
	/* a fixed disk's footer (what qemu -f vpc finds): the cookie is
	 * enough, a broken footer is reported rather than taken for raw */
	if (v->size >= VHD_FOOTER_SIZE &&
	    iw_view_read(v, tail, sizeof(vhd_cookie),
			 v->size - VHD_FOOTER_SIZE) == 0 &&
	    memcmp(tail, vhd_cookie, sizeof(vhd_cookie)) == 0)
		return true;
	return vhd_old_footer_at_end(v);
}

static int vhd_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	struct vhd_info info;
	int ret;

	r->format = "vhd";
	ret = vhd_parse(v, r, &info);
	if (ret < 0)
		return ret;
	if (!info.have_footer)
		return 0;
	r->virtual_size = (int64_t)MIN(info.virtual_size, (uint64_t)INT64_MAX);
	if (!info.dynamic) {
		/* the guest's disk starts at offset 0: an MBR/GPT there is
		 * the guest's, not a polyglot */
		r->payload_at_zero = true;
		if (v->size >= VHD_FOOTER_SIZE)
			r->payload_size = v->size - (info.old_footer
							     ? VHD_OLD_FOOTER_SIZE
							     : VHD_FOOTER_SIZE);
	} else if (info.have_dyn_header &&
		   info.footer.disk_type != VHD_TYPE_FIXED) {
		/* qemu's vpc_get_info: cluster size = block size unless the
		 * footer says fixed */
		r->cluster_size = info.block_size;
	}
	vhd_report_fs(r, &info);
	return 0;
}

const struct iw_format iw_format_vhd = {
	.name = "vhd",
	.kind = IW_KIND_IMAGE,
	.match = vhd_match,
	.probe = vhd_probe,
};
