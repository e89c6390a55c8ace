/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHDX reader.
 *
 * What qemu 7.2 (block/vhdx.c vhdx_open, vhdx-log.c vhdx_parse_log) does,
 * and so what we must agree with:
 *  - "vhdxfile" at offset 0;
 *  - of the two headers (64 and 128 KiB) the valid one (signature, CRC-32C
 *    over 4 KiB, version 1) with the higher sequence number is current;
 *    equal numbers are only accepted for identical headers;
 *  - the log offset must be a non-zero multiple of 1 MiB and the log
 *    version 0; a non-zero log GUID with valid entries makes a read-only
 *    open fail ("needs to be replayed"): we replay the log in memory
 *    (vhdx-log.c) and read everything after the headers through it;
 *  - only the first region table is read: CRC, "regi", at most 2047
 *    entries, no overlaps (with each other and the log), exactly one BAT
 *    and one metadata region, no unknown region marked required;
 *  - the metadata table: "metadata", at most 2047 entries, the five
 *    required items once each, no unknown required item; block size
 *    1..256 MiB and a power of two, logical sector size 512 only;
 *    HasParent is refused (differencing files are not supported);
 *  - the BAT region must hold the entries the virtual size needs, and
 *    every fully present block must lie inside the file and outside the
 *    other regions.
 * We check more than qemu where the spec is clear (alignment, the header
 * section, item bounds inside the metadata region, the second copies),
 * since a file that breaks those was not written by a VHDX implementation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "vhd.h"
#include "vhdx-log.h"
#include "vhdx.h"

/* [MS-VHDX] 2.2.3 / qemu: a region table holds at most 2047 entries */
#define VHDX_MAX_REGION_ENTRIES 2047
/* [MS-VHDX] 2.6.1.1 / qemu: a metadata table holds at most 2047 entries */
#define VHDX_MAX_METADATA_ENTRIES 2047
/* [MS-VHDX] 2.6.1.2: a metadata item is at most 1 MiB */
#define VHDX_MAX_METADATA_ITEM (1024 * 1024)
/* We read at most 64 KiB of the parent locator item: its key/value pairs
 * are a handful of paths and GUIDs. */
#define VHDX_LOCATOR_MAX_BYTES (64 * 1024)
/* Decoded at most per key and per value: 8 KiB of UTF-16 is 4096
 * characters, more than a path our report keeps. */
#define VHDX_LOCATOR_MAX_VALUE 8192
#define VHDX_LOCATOR_MAX_KEY 256
/* We scan at most 8 Mi BAT entries (64 MiB): a 64 TiB disk (the format's
 * limit) with 8 MiB blocks needs 8 Mi; beyond that the rest is reported
 * as not inspected. */
#define VHDX_BAT_SCAN_MAX_ENTRIES (UINT64_C(8) << 20)
/* BAT entries per view read (64 KiB) */
#define VHDX_BAT_CHUNK_ENTRIES 8192

/* on-disk bytes of a Microsoft GUID {a-b-c-d0d1-d2..d7} */
#define VHDX_GUID(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                    \
	{ (a)&0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, \
	  (b)&0xff, ((b) >> 8) & 0xff, (c)&0xff, ((c) >> 8) & 0xff,            \
	  d0, d1, d2, d3, d4, d5, d6, d7 }

static const uint8_t vhdx_bat_guid[16] = VHDX_GUID(
	0x2dc27766, 0xf623, 0x4200, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a,
	0x08);
static const uint8_t vhdx_metadata_guid[16] = VHDX_GUID(
	0x8b7ca206, 0x4790, 0x4b9a, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88,
	0x6e);

enum vhdx_item {
	VHDX_ITEM_FILE_PARAMETERS,
	VHDX_ITEM_VIRTUAL_DISK_SIZE,
	VHDX_ITEM_PAGE83,
	VHDX_ITEM_LOGICAL_SECTOR_SIZE,
	VHDX_ITEM_PHYSICAL_SECTOR_SIZE,
	VHDX_ITEM_PARENT_LOCATOR,
	VHDX_ITEM_COUNT,
};

static const struct {
	const char *name;
	uint8_t guid[16];
	uint32_t min_length; /* bytes we read from it */
	bool required;	     /* [MS-VHDX] 2.6.2: always present */
} vhdx_items[VHDX_ITEM_COUNT] = {
	[VHDX_ITEM_FILE_PARAMETERS] = { "file parameters",
					VHDX_GUID(0xcaa16737, 0xfa36, 0x4d43,
						  0xb3, 0xb6, 0x33, 0xf0, 0xaa,
						  0x44, 0xe7, 0x6b),
					8, true },
	[VHDX_ITEM_VIRTUAL_DISK_SIZE] = { "virtual disk size",
					  VHDX_GUID(0x2fa54224, 0xcd1b, 0x4876,
						    0xb2, 0x11, 0x5d, 0xbe,
						    0xd8, 0x3b, 0xf4, 0xb8),
					  8, true },
	[VHDX_ITEM_PAGE83] = { "page 83 data",
			       VHDX_GUID(0xbeca12ab, 0xb2e6, 0x4523, 0x93,
					 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7,
					 0x46),
			       16, true },
	[VHDX_ITEM_LOGICAL_SECTOR_SIZE] = { "logical sector size",
					    VHDX_GUID(0x8141bf1d, 0xa96f,
						      0x4709, 0xba, 0x47, 0xf2,
						      0x33, 0xa8, 0xfa, 0xab,
						      0x5f),
					    4, true },
	[VHDX_ITEM_PHYSICAL_SECTOR_SIZE] = { "physical sector size",
					     VHDX_GUID(0xcda348c7, 0x445d,
						       0x4471, 0x9c, 0xc9,
						       0xe9, 0x88, 0x52, 0x51,
						       0xc5, 0x56),
					     4, true },
	[VHDX_ITEM_PARENT_LOCATOR] = { "parent locator",
				       VHDX_GUID(0xa8d35f2d, 0xb30b, 0x454d,
						 0xab, 0xf7, 0xd3, 0xd8, 0x48,
						 0x34, 0xab, 0x0c),
				       20, false },
};

/* [MS-VHDX] 2.6.2.6: locator type of a VHDX parent */
static const uint8_t vhdx_parent_type_guid[16] = VHDX_GUID(
	0xb04aefb7, 0xd19e, 0x4a81, 0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59,
	0x13);

#define VHDX_HEADER_SIGNATURE 0x64616568u /* "head" */
#define VHDX_REGION_SIGNATURE 0x69676572u /* "regi" */
#define VHDX_FILE_PARAM_LEAVE_BLOCKS_ALLOCATED 0x1u
#define VHDX_FILE_PARAM_HAS_PARENT 0x2u
#define VHDX_REGION_REQUIRED 0x1u
#define VHDX_ITEM_IS_REQUIRED 0x4u
/* bytes of struct VHDXHeader qemu compares when sequence numbers tie */
#define VHDX_HEADER_FIELDS_SIZE 80

uint32_t vhdx_checksum(const uint8_t *buf, size_t len, size_t crc_off)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = iw_crc32c(0, buf, crc_off);
	crc = iw_crc32c(crc, zero, sizeof(zero));
	return iw_crc32c(crc, buf + crc_off + 4, len - crc_off - 4);
}

void vhdx_header_decode(const uint8_t *buf, struct vhdx_header *ret)
{
	struct vhdx_header h = { 0 };

	h.checksum = get_le32(buf + 4);
	h.crc_ok = vhdx_checksum(buf, VHDX_HEADER_SIZE, 4) == h.checksum;
	h.sequence_number = get_le64(buf + 8);
	memcpy(h.file_write_guid, buf + 16, 16);
	memcpy(h.data_write_guid, buf + 32, 16);
	memcpy(h.log_guid, buf + 48, 16);
	h.log_version = get_le16(buf + 64);
	h.version = get_le16(buf + 66);
	h.log_length = get_le32(buf + 68);
	h.log_offset = get_le64(buf + 72);
	h.valid = h.crc_ok && get_le32(buf) == VHDX_HEADER_SIGNATURE &&
		  h.version == 1;
	*ret = h;
}

static void vhdx_guid_string(const uint8_t *g, char out[37])
{
	snprintf(out, 37,
		 "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 get_le32(g), get_le16(g + 4), get_le16(g + 6), g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* [a, a+alen) ∩ [b, b+blen) ≠ ∅, with ends that may not fit in 64 bits
 * clamped (an object reaching past 2^64 overlaps everything after it) */
static bool vhdx_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	uint64_t aend, bend;

	if (!alen || !blen)
		return false;
	if (ADD_OVERFLOW(a, alen, &aend))
		aend = UINT64_MAX;
	if (ADD_OVERFLOW(b, blen, &bend))
		bend = UINT64_MAX;
	return a < bend && b < aend;
}

static bool vhdx_fatal(int err)
{
	return err < 0 && err != -ERANGE && err != -E2BIG;
}

static int vhdx_parse_headers(const struct iw_view *v, struct iw_report *r,
			      struct vhdx_info *ret)
{
	static const uint64_t offsets[2] = { VHDX_HEADER1_OFFSET,
					     VHDX_HEADER2_OFFSET };
	uint8_t buf[2][VHDX_HEADER_FIELDS_SIZE];
	bool read_ok[2] = { false, false };
	struct vhdx_header *h = ret->headers;
	_cleanup_free_ uint8_t *block = malloc(VHDX_HEADER_SIZE);

	if (!block)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		int err = iw_read_struct(v, r, block, VHDX_HEADER_SIZE,
					 offsets[i],
					 i ? "second VHDX header"
					   : "first VHDX header");
		if (vhdx_fatal(err))
			return err;
		if (err < 0)
			continue;
		read_ok[i] = true;
		memcpy(buf[i], block, sizeof(buf[i]));
		vhdx_header_decode(block, &h[i]);
	}

	if (h[0].valid && h[1].valid) {
		if (h[0].sequence_number > h[1].sequence_number) {
			ret->current_header = 0;
		} else if (h[1].sequence_number > h[0].sequence_number) {
			ret->current_header = 1;
		} else {
			/* qemu accepts equal sequence numbers only for
			 * identical headers (Disk2vhd writes those) */
			ret->current_header = 0;
			if (memcmp(buf[0], buf[1], sizeof(buf[0])) != 0)
				iw_finding(r, IW_F_INCONSISTENT_HEADER,
					   "both headers have sequence number "
					   "%" PRIu64 " but differ",
					   h[0].sequence_number);
		}
	} else if (h[0].valid) {
		ret->current_header = 0;
	} else if (h[1].valid) {
		ret->current_header = 1;
	} else {
		for (int i = 0; i < 2; i++) {
			if (!read_ok[i])
				continue;
			if (!h[i].crc_ok)
				iw_finding(r, IW_F_BAD_CHECKSUM,
					   "header %d: CRC-32C 0x%08" PRIx32
					   " does not match",
					   i + 1, h[i].checksum);
			else if (get_le32(buf[i]) != VHDX_HEADER_SIGNATURE)
				iw_finding(r, IW_F_BAD_FIELD,
					   "header %d: no \"head\" signature",
					   i + 1);
			else
				iw_finding(r, IW_F_UNSUPPORTED_VERSION,
					   "header %d: version %u (expected "
					   "1)",
					   i + 1, h[i].version);
		}
		if (read_ok[0] || read_ok[1])
			iw_finding(r, IW_F_BAD_FIELD,
				   "neither VHDX header is valid");
		return 0;
	}
	return 0;
}

/* The header's log fields; false when qemu would refuse them (a finding
 * says why). */
static bool vhdx_check_log(const struct iw_view *v, struct iw_report *r,
			   const struct vhdx_header *h)
{
	bool ok = true;

	/* qemu's vhdx_parse_log refuses these even when there is no log */
	if (h->log_version != 0) {
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "log version %u (expected 0)", h->log_version);
		ok = false;
	}
	if (h->log_offset < VHDX_ALIGNMENT ||
	    h->log_offset % VHDX_ALIGNMENT != 0) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "log offset %" PRIu64
			   " is not a multiple of 1 MiB past the header section",
			   h->log_offset);
		ok = false;
	}
	if (h->log_length % VHDX_ALIGNMENT != 0) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "log length %" PRIu32 " is not a multiple of 1 MiB",
			   h->log_length);
		ok = false;
	}
	if (h->log_length &&
	    !iw_check_table(v, r, h->log_offset, h->log_length, "log"))
		ok = false;
	return ok;
}

/* [MS-VHDX] 2.2.2 / 2.3.3: a non-zero LogGuid means the log may hold
 * writes that must be applied before the file's metadata and data can be
 * trusted. qemu refuses to open such a file read-only; we replay the
 * active sequence in memory (vhdx-log.c) and read the rest of the image
 * through the result. -EINVAL: the log is malformed or beyond our bounds
 * (findings say why); the caller then reads the file as it is, for the
 * report only. */
static int vhdx_open_log(const struct iw_view *v, struct iw_report *r,
			 const struct vhdx_header *h, bool log_ok,
			 struct vhdx_log **ret_log)
{
	char g[37];

	*ret_log = NULL;
	if (mem_is_zero(h->log_guid, sizeof(h->log_guid)))
		return 0;
	if (!log_ok) {
		vhdx_guid_string(h->log_guid, g);
		iw_finding(r, IW_F_LOG_REPLAY_NEEDED,
			   "the log (GUID %s) cannot be searched: its header "
			   "fields are invalid",
			   g);
		return -EINVAL;
	}
	return vhdx_log_open(v, r, h, ret_log);
}

/* Validate one region table block; emits nothing. Returns NULL if valid,
 * else the reason and *ret_code. */
static const char *vhdx_region_table_problem(const uint8_t *buf,
					     enum iw_code *ret_code)
{
	if (vhdx_checksum(buf, VHDX_REGION_TABLE_SIZE, 4) != get_le32(buf + 4)) {
		*ret_code = IW_F_BAD_CHECKSUM;
		return "CRC-32C does not match";
	}
	if (get_le32(buf) != VHDX_REGION_SIGNATURE) {
		*ret_code = IW_F_BAD_FIELD;
		return "no \"regi\" signature";
	}
	if (get_le32(buf + 8) > VHDX_MAX_REGION_ENTRIES) {
		*ret_code = IW_F_TABLE_TOO_LARGE;
		return "more than 2047 entries";
	}
	return NULL;
}

static void vhdx_parse_region_entries(const struct iw_view *v,
				      struct iw_report *r,
				      struct vhdx_info *ret, const uint8_t *buf)
{
	const struct vhdx_header *h = &ret->headers[ret->current_header];
	uint32_t count = get_le32(buf + 8);
	char g[37];

	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = buf + 16 + 32 * i;
		uint64_t off = get_le64(e + 16);
		uint32_t len = get_le32(e + 24);
		bool required = get_le32(e + 28) & VHDX_REGION_REQUIRED;
		struct vhdx_region *known = NULL;
		const char *name = "region";

		if (memcmp(e, vhdx_bat_guid, 16) == 0) {
			known = &ret->bat_region;
			name = "BAT region";
		} else if (memcmp(e, vhdx_metadata_guid, 16) == 0) {
			known = &ret->metadata_region;
			name = "metadata region";
		}
		/* [MS-VHDX] 2.2.3.2: offset and length are multiples of
		 * 1 MiB, and nothing but the header section lies below
		 * 1 MiB */
		if (off % VHDX_ALIGNMENT || len % VHDX_ALIGNMENT)
			iw_finding(r, IW_F_BAD_FIELD,
				   "%s %" PRIu32 " (%" PRIu32 " bytes at %" PRIu64
				   ") is not aligned to 1 MiB",
				   name, i, len, off);
		if (vhdx_overlaps(off, len, 0, VHDX_HEADER_SECTION_END))
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "%s %" PRIu32 " overlaps the header section",
				   name, i);
		if (vhdx_overlaps(off, len, h->log_offset, h->log_length))
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "%s %" PRIu32 " overlaps the log", name, i);
		/* qemu: vhdx_region_check against every earlier entry;
		 * count <= 2047, so at most ~2 million comparisons */
		for (uint32_t j = 0; j < i; j++) {
			const uint8_t *o = buf + 16 + 32 * j;

			if (vhdx_overlaps(off, len, get_le64(o + 16),
					  get_le32(o + 24))) {
				iw_finding(r, IW_F_TABLE_OVERLAP,
					   "region %" PRIu32
					   " overlaps region %" PRIu32,
					   i, j);
				break;
			}
		}
		iw_check_table(v, r, off, len, name);
		if (known) {
			if (known->present) {
				iw_finding(r, IW_F_BAD_FIELD,
					   "more than one %s", name);
				continue;
			}
			*known = (struct vhdx_region){ .present = true,
						       .file_offset = off,
						       .length = len,
						       .required = required };
		} else if (required) {
			/* [MS-VHDX] 2.2.3.2: an implementation must refuse
			 * a file with a required region it does not know */
			vhdx_guid_string(e, g);
			iw_finding(r, IW_F_UNKNOWN_FEATURES,
				   "unknown required region %s", g);
		}
	}
	if (!ret->bat_region.present)
		iw_finding(r, IW_F_BAD_FIELD, "the region table has no BAT");
	if (!ret->metadata_region.present)
		iw_finding(r, IW_F_BAD_FIELD,
			   "the region table has no metadata region");
}

static int vhdx_parse_regions(const struct iw_view *v, struct iw_report *r,
			      struct vhdx_info *ret)
{
	static const uint64_t offsets[2] = { VHDX_REGION_TABLE1_OFFSET,
					     VHDX_REGION_TABLE2_OFFSET };
	_cleanup_free_ uint8_t *t0 = malloc(VHDX_REGION_TABLE_SIZE);
	_cleanup_free_ uint8_t *t1 = malloc(VHDX_REGION_TABLE_SIZE);
	uint8_t *tables[2] = { t0, t1 };
	bool valid[2] = { false, false };

	if (!t0 || !t1)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		enum iw_code code;
		const char *problem;
		int err = iw_read_struct(v, r, tables[i],
					 VHDX_REGION_TABLE_SIZE, offsets[i],
					 i ? "second region table"
					   : "first region table");

		if (vhdx_fatal(err))
			return err;
		if (err < 0)
			continue;
		problem = vhdx_region_table_problem(tables[i], &code);
		if (problem)
			/* qemu reads only the first copy; the second is
			 * its backup and must be as good */
			iw_finding(r, code, "%s region table: %s",
				   i ? "second" : "first", problem);
		else
			valid[i] = true;
	}
	if (valid[0] && valid[1] &&
	    memcmp(tables[0], tables[1], VHDX_REGION_TABLE_SIZE) != 0)
		iw_finding(r, IW_F_INCONSISTENT_HEADER,
			   "the two region tables differ");
	if (!valid[0] && !valid[1])
		return 0;
	ret->have_regions = true;
	vhdx_parse_region_entries(v, r, ret, valid[0] ? tables[0] : tables[1]);
	return 0;
}

/* Key/value pairs of the parent locator item ([MS-VHDX] 2.6.2.6). */
static int vhdx_parse_parent_locator(const struct iw_view *v,
				     struct iw_report *r, uint64_t off,
				     uint32_t len)
{
	static const char *const path_keys[] = { "relative_path",
						  "volume_path",
						  "absolute_win32_path" };
	size_t n = MIN((size_t)len, (size_t)VHDX_LOCATOR_MAX_BYTES);
	_cleanup_free_ uint8_t *buf = malloc(n ? n : 1);
	char key[3 * (VHDX_LOCATOR_MAX_KEY / 2) + 1];
	char value[3 * (VHDX_LOCATOR_MAX_VALUE / 2) + 1];
	uint32_t bad = 0;
	uint16_t count;
	int err;

	if (!buf)
		return -ENOMEM;
	err = iw_read_struct(v, r, buf, n, off, "parent locator");
	if (err < 0)
		return vhdx_fatal(err) ? err : 0;
	if (memcmp(buf, vhdx_parent_type_guid, 16) != 0)
		iw_finding(r, IW_F_BAD_EXTENSION,
			   "the parent locator's type is not VHDX");
	count = get_le16(buf + 18);
	if (20 + (size_t)count * 12 > n) {
		iw_finding(r, IW_F_BAD_EXTENSION,
			   "%u parent locator entries do not fit in its %zu "
			   "bytes",
			   count, n);
		return 0;
	}
	for (uint16_t i = 0; i < count; i++) {
		const uint8_t *e = buf + 20 + 12 * i;
		uint32_t koff = get_le32(e), voff = get_le32(e + 4);
		uint16_t klen = get_le16(e + 8), vlen = get_le16(e + 10);
		size_t vl;

		if (!range_ok(koff, klen, n) || !range_ok(voff, vlen, n) ||
		    klen == 0 || vlen == 0) {
			bad++;
			continue;
		}
		vhd_utf16_to_utf8(buf + koff,
				       MIN((size_t)klen,
					   (size_t)VHDX_LOCATOR_MAX_KEY),
				       false, key, sizeof(key));
		vl = vhd_utf16_to_utf8(buf + voff,
				       MIN((size_t)vlen,
					   (size_t)VHDX_LOCATOR_MAX_VALUE),
				       false, value, sizeof(value));
		for (size_t k = 0; k < ARRAY_SIZE(path_keys); k++)
			if (strcmp(key, path_keys[k]) == 0)
				iw_reference(r, "parent-locator", value, vl);
		if (strcmp(key, "parent_linkage") == 0)
			iw_fs_set_bytes(r, "parent-linkage", value, vl);
	}
	if (bad)
		iw_finding(r, IW_F_BAD_EXTENSION,
			   "%" PRIu32 " parent locator entries lie outside "
			   "the item or are empty",
			   bad);
	return 0;
}

struct vhdx_item_entry {
	bool present;
	bool usable; /* inside the region and long enough */
	uint32_t offset, length, flags;
};

static int vhdx_parse_metadata(const struct iw_view *v, struct iw_report *r,
			       struct vhdx_info *ret)
{
	const struct vhdx_region *md = &ret->metadata_region;
	struct vhdx_item_entry items[VHDX_ITEM_COUNT] = { 0 };
	_cleanup_free_ uint8_t *buf = malloc(VHDX_METADATA_TABLE_SIZE);
	uint8_t val[16];
	uint16_t count;
	uint32_t bad_bounds = 0, params_flags = 0;
	int err;

	if (!buf)
		return -ENOMEM;
	/* a region whose end does not fit in 64 bits was reported as past
	 * EOF; below, item offsets are added to its start */
	if (!range_ok(md->file_offset, md->length, UINT64_MAX))
		return 0;
	if (md->length < VHDX_METADATA_TABLE_SIZE) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "the metadata region (%" PRIu32
			   " bytes) cannot hold its 64 KiB table",
			   md->length);
		return 0;
	}
	err = iw_read_struct(v, r, buf, VHDX_METADATA_TABLE_SIZE,
			     md->file_offset, "metadata table");
	if (err < 0)
		return vhdx_fatal(err) ? err : 0;
	if (memcmp(buf, "metadata", 8) != 0) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "no \"metadata\" signature at offset %" PRIu64,
			   md->file_offset);
		return 0;
	}
	count = get_le16(buf + 10);
	if (count > VHDX_MAX_METADATA_ENTRIES) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "%u metadata entries (at most 2047)", count);
		return 0;
	}
	for (uint16_t i = 0; i < count; i++) {
		const uint8_t *e = buf + 32 + 32 * i;
		uint32_t off = get_le32(e + 16), len = get_le32(e + 20);
		uint32_t flags = get_le32(e + 24);
		int k = -1;
		bool in_range;

		for (int j = 0; j < VHDX_ITEM_COUNT; j++)
			if (memcmp(e, vhdx_items[j].guid, 16) == 0)
				k = j;
		/* [MS-VHDX] 2.6.1.2: items lie past the 64 KiB table,
		 * inside the region, at most 1 MiB long; length 0 means
		 * offset 0 */
		in_range = len == 0 ? off == 0
				    : off >= VHDX_METADATA_TABLE_SIZE &&
					      len <= VHDX_MAX_METADATA_ITEM &&
					      range_ok(off, len, md->length);
		if (!in_range)
			bad_bounds++;
		if (k < 0) {
			if (flags & VHDX_ITEM_IS_REQUIRED) {
				char g[37];

				vhdx_guid_string(e, g);
				iw_finding(r, IW_F_UNKNOWN_FEATURES,
					   "unknown required metadata item "
					   "%s",
					   g);
			}
			continue;
		}
		if (items[k].present) {
			iw_finding(r, IW_F_BAD_FIELD,
				   "more than one %s metadata item",
				   vhdx_items[k].name);
			continue;
		}
		items[k] = (struct vhdx_item_entry){
			.present = true,
			.usable = in_range && len >= vhdx_items[k].min_length,
			.offset = off,
			.length = len,
			.flags = flags,
		};
		if (in_range && len < vhdx_items[k].min_length)
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "the %s metadata item is %" PRIu32
				   " bytes, too short",
				   vhdx_items[k].name, len);
	}
	if (bad_bounds)
		iw_finding(r, IW_F_BAD_EXTENSION,
			   "%" PRIu32 " metadata items lie outside the "
			   "metadata region",
			   bad_bounds);

	ret->have_metadata = true;
	for (int k = 0; k < VHDX_ITEM_COUNT; k++) {
		uint64_t abs;

		if (!items[k].present) {
			if (vhdx_items[k].required) {
				iw_finding(r, IW_F_BAD_FIELD,
					   "no %s metadata item",
					   vhdx_items[k].name);
				ret->have_metadata = false;
			}
			continue;
		}
		if (!items[k].usable) {
			if (vhdx_items[k].required)
				ret->have_metadata = false;
			continue;
		}
		if (k == VHDX_ITEM_PARENT_LOCATOR) {
			ret->have_parent_locator = true;
			continue;
		}
		/* offset + length <= md->length: no wrap (checked above) */
		abs = md->file_offset + items[k].offset;
		err = iw_read_struct(v, r, val, vhdx_items[k].min_length, abs,
				     vhdx_items[k].name);
		if (vhdx_fatal(err))
			return err;
		if (err < 0) {
			ret->have_metadata = false;
			continue;
		}
		switch (k) {
		case VHDX_ITEM_FILE_PARAMETERS:
			ret->block_size = get_le32(val);
			params_flags = get_le32(val + 4);
			break;
		case VHDX_ITEM_VIRTUAL_DISK_SIZE:
			ret->virtual_disk_size = get_le64(val);
			break;
		case VHDX_ITEM_PAGE83:
			memcpy(ret->page83, val, 16);
			break;
		case VHDX_ITEM_LOGICAL_SECTOR_SIZE:
			ret->logical_sector_size = get_le32(val);
			break;
		case VHDX_ITEM_PHYSICAL_SECTOR_SIZE:
			ret->physical_sector_size = get_le32(val);
			break;
		}
	}
	ret->leave_blocks_allocated =
		params_flags & VHDX_FILE_PARAM_LEAVE_BLOCKS_ALLOCATED;
	ret->has_parent = params_flags & VHDX_FILE_PARAM_HAS_PARENT;

	/* a differencing disk: whatever it does not hold comes from the
	 * parent it names; qemu refuses it, the converter must too */
	if (ret->has_parent)
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "differencing VHDX: its data depends on a parent "
			   "image");
	if (ret->has_parent && !items[VHDX_ITEM_PARENT_LOCATOR].present)
		iw_finding(r, IW_F_BAD_FIELD,
			   "HasParent is set but there is no parent locator");
	if (ret->have_parent_locator) {
		const struct vhdx_item_entry *pl =
			&items[VHDX_ITEM_PARENT_LOCATOR];

		err = vhdx_parse_parent_locator(v, r,
						md->file_offset + pl->offset,
						pl->length);
		if (err < 0)
			return err;
	}
	if (!ret->have_metadata)
		return 0;

	/* CVE-2014-0148: block size and sector size bound every division
	 * and shift that follows */
	if (ret->block_size < VHDX_BLOCK_SIZE_MIN ||
	    ret->block_size > VHDX_BLOCK_SIZE_MAX ||
	    !is_power_of_2(ret->block_size)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "block size %" PRIu32
			   " is not a power of two from 1 to 256 MiB",
			   ret->block_size);
		ret->have_metadata = false;
	}
	if (ret->logical_sector_size != 512 &&
	    ret->logical_sector_size != 4096) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "logical sector size %" PRIu32
			   " (expected 512 or 4096)",
			   ret->logical_sector_size);
		ret->have_metadata = false;
	} else if (ret->logical_sector_size != 512) {
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "logical sector size %" PRIu32
			   " (qemu opens only 512)",
			   ret->logical_sector_size);
	}
	if (ret->physical_sector_size != 512 &&
	    ret->physical_sector_size != 4096)
		iw_finding(r, IW_F_BAD_FIELD,
			   "physical sector size %" PRIu32
			   " (expected 512 or 4096)",
			   ret->physical_sector_size);
	if (ret->virtual_disk_size > VHDX_MAX_VIRTUAL_SIZE) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "virtual disk size %" PRIu64
			   " is above the format's 64 TiB",
			   ret->virtual_disk_size);
		ret->have_metadata = false;
	}
	if (!ret->have_metadata)
		return 0;
	if (ret->virtual_disk_size % ret->logical_sector_size)
		iw_finding(r, IW_F_BAD_FIELD,
			   "virtual disk size %" PRIu64
			   " is not a multiple of the sector size",
			   ret->virtual_disk_size);
	/* qemu: total_sectors = size >> log2(logical sector size) */
	ret->virtual_size = ret->virtual_disk_size /
			    ret->logical_sector_size *
			    ret->logical_sector_size;
	ret->chunk_ratio = VHDX_SECTORS_PER_BITMAP *
			   ret->logical_sector_size / ret->block_size;
	/* <= 2^46 / 2^20: fits in 32 bits like qemu's counter */
	ret->data_blocks = (ret->virtual_disk_size + ret->block_size - 1) /
			   ret->block_size;
	if (ret->has_parent) {
		/* [MS-VHDX] 2.5: every chunk has its sector bitmap entry */
		ret->bat_entries = (ret->data_blocks + ret->chunk_ratio - 1) /
				   ret->chunk_ratio * (ret->chunk_ratio + 1);
	} else {
		/* qemu's vhdx_calc_bat_entries in its 32-bit arithmetic:
		 * for an empty disk (data_blocks - 1) wraps, and qemu then
		 * wants a BAT region that large; we agree with it */
		uint32_t d = (uint32_t)ret->data_blocks;

		ret->bat_entries =
			(uint64_t)d +
			((uint32_t)(d - 1) /
			 (uint32_t)ret->chunk_ratio);
	}
	return 0;
}

struct vhdx_bat_counts {
	uint64_t bad_state, in_header, past_eof, overlap;
	uint64_t first_bad_state, first_in_header, first_past_eof,
		first_overlap;
};

static void vhdx_count(uint64_t *n, uint64_t *first, uint64_t i)
{
	if (!(*n)++)
		*first = i;
}

static void vhdx_check_entry(const struct iw_view *v,
			     const struct vhdx_info *info,
			     struct vhdx_bat_counts *c, uint64_t i,
			     uint64_t e)
{
	const struct vhdx_header *h = &info->headers[info->current_header];
	uint64_t group = info->chunk_ratio + 1;
	bool bitmap = i % group == info->chunk_ratio;
	unsigned state = VHDX_BAT_STATE(e);
	uint64_t off = VHDX_BAT_OFFSET(e), len;

	if (bitmap) {
		/* sector bitmap blocks: only "not present" or "present" */
		if (state == VHDX_SB_NOT_PRESENT)
			return;
		if (state != VHDX_SB_PRESENT) {
			vhdx_count(&c->bad_state, &c->first_bad_state, i);
			return;
		}
		len = VHDX_ALIGNMENT;
	} else {
		uint64_t block = i - i / group;
		uint64_t start = block * info->block_size;

		switch (state) {
		case VHDX_PAYLOAD_NOT_PRESENT:
		case VHDX_PAYLOAD_UNDEFINED:
		case VHDX_PAYLOAD_ZERO:
		case VHDX_PAYLOAD_UNMAPPED:
		case VHDX_PAYLOAD_UNMAPPED_V095:
			return; /* read as zeros (or from the parent) */
		case VHDX_PAYLOAD_FULLY_PRESENT:
			break;
		case VHDX_PAYLOAD_PARTIALLY_PRESENT:
			if (info->has_parent)
				break;
			/* qemu fails reads of it */
			__attribute__((fallthrough));
		default:
			vhdx_count(&c->bad_state, &c->first_bad_state, i);
			return;
		}
		/* qemu allows a partial last block */
		len = start < info->virtual_size
			      ? MIN((uint64_t)info->block_size,
				    info->virtual_size - start)
			      : info->block_size;
	}
	/* a block inside the header section would serve the headers as
	 * guest data (qemu does not check it) */
	if (off < VHDX_HEADER_SECTION_END) {
		vhdx_count(&c->in_header, &c->first_in_header, i);
		return;
	}
	/* off < 2^64 - 2^20 and len <= 256 MiB: may wrap only near 2^64,
	 * which range_ok catches */
	if (!v->partial && !range_ok(off, len, v->size)) {
		vhdx_count(&c->past_eof, &c->first_past_eof, i);
		return;
	}
	if (vhdx_overlaps(off, len, h->log_offset, h->log_length) ||
	    vhdx_overlaps(off, len, info->bat_region.file_offset,
			  info->bat_region.length) ||
	    vhdx_overlaps(off, len, info->metadata_region.file_offset,
			  info->metadata_region.length))
		vhdx_count(&c->overlap, &c->first_overlap, i);
}

static int vhdx_scan_bat(const struct iw_view *v, struct iw_report *r,
			 struct vhdx_info *ret)
{
	const struct vhdx_region *bat = &ret->bat_region;
	_cleanup_free_ uint8_t *buf = malloc(VHDX_BAT_CHUNK_ENTRIES * 8);
	struct vhdx_bat_counts c = { 0 };
	uint64_t n;

	if (!buf)
		return -ENOMEM;
	if (!range_ok(bat->file_offset, bat->length, UINT64_MAX))
		return 0; /* reported as past EOF */
	if (ret->bat_entries > bat->length / 8) {
		/* qemu: "BAT allocation is not large enough" */
		iw_finding(r, IW_F_BAD_FIELD,
			   "the BAT region (%" PRIu32 " bytes) is smaller than "
			   "the %" PRIu64 " entries the disk needs",
			   bat->length, ret->bat_entries);
		return 0;
	}
	ret->have_bat = true;
	n = MIN(ret->bat_entries, VHDX_BAT_SCAN_MAX_ENTRIES);
	if (n < ret->bat_entries)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "only the first %" PRIu64 " of %" PRIu64
			   " BAT entries were checked",
			   n, ret->bat_entries);
	for (uint64_t base = 0; base < n; base += VHDX_BAT_CHUNK_ENTRIES) {
		uint64_t cnt = MIN(n - base, (uint64_t)VHDX_BAT_CHUNK_ENTRIES);
		int err = iw_read_struct(v, r, buf, (size_t)cnt * 8,
					 bat->file_offset + base * 8, "BAT");

		if (err < 0)
			return vhdx_fatal(err) ? err : 0;
		for (uint64_t k = 0; k < cnt; k++)
			vhdx_check_entry(v, ret, &c, base + k,
					 get_le64(buf + 8 * k));
	}
	if (c.bad_state)
		iw_finding(r, IW_F_BAD_FIELD,
			   "%" PRIu64 " BAT entries have an invalid state "
			   "(first: entry %" PRIu64 ")",
			   c.bad_state, c.first_bad_state);
	if (c.in_header)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "%" PRIu64 " BAT entries point into the header "
			   "section (first: entry %" PRIu64 ")",
			   c.in_header, c.first_in_header);
	if (c.past_eof)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "%" PRIu64 " BAT entries point past the end of the "
			   "file (first: entry %" PRIu64 ")",
			   c.past_eof, c.first_past_eof);
	if (c.overlap)
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "%" PRIu64 " blocks overlap the log, BAT or "
			   "metadata region (first: entry %" PRIu64 ")",
			   c.overlap, c.first_overlap);
	return 0;
}

static void vhdx_log_freep(struct vhdx_log **l)
{
	vhdx_log_free(*l);
}

int vhdx_parse(const struct iw_view *v, struct iw_report *r,
	       struct vhdx_info *ret, struct vhdx_log **ret_log)
{
	_cleanup_(vhdx_log_freep) struct vhdx_log *log = NULL;
	const struct vhdx_header *h;
	uint8_t sig[8];
	bool log_ok;
	int err;

	*ret = (struct vhdx_info){ .current_header = -1 };
	*ret_log = NULL;
	err = iw_read_struct(v, r, sig, sizeof(sig), 0, "VHDX file identifier");
	if (err < 0)
		return vhdx_fatal(err) ? err : 0;
	if (memcmp(sig, "vhdxfile", 8) != 0) {
		iw_finding(r, IW_F_BAD_FIELD, "no \"vhdxfile\" signature");
		return 0;
	}
	err = vhdx_parse_headers(v, r, ret);
	if (err < 0 || ret->current_header < 0)
		return err;
	h = &ret->headers[ret->current_header];
	log_ok = vhdx_check_log(v, r, h);
	/* qemu replays the log before it reads the region tables: every
	 * later structure is read from the replayed file */
	err = vhdx_open_log(v, r, h, log_ok, &log);
	if (err < 0 && err != -EINVAL)
		return err;
	if (log) {
		ret->log_entries = vhdx_log_entries(log);
		v = vhdx_log_view(log);
	}
	err = vhdx_parse_regions(v, r, ret);
	if (err == 0 && ret->have_regions && ret->metadata_region.present) {
		err = vhdx_parse_metadata(v, r, ret);
		if (err == 0 && ret->have_metadata && ret->bat_region.present)
			err = vhdx_scan_bat(v, r, ret);
	}
	if (err < 0)
		return err;
	*ret_log = TAKE_PTR(log);
	return 0;
}

int vhdx_read_bat_entry(const struct iw_view *v, const struct vhdx_info *info,
			uint64_t index, uint64_t *ret_entry)
{
	uint8_t b[8];
	int err;

	if (!info->have_bat || index >= info->bat_entries)
		return -EINVAL;
	err = iw_view_read(v, b, sizeof(b),
			   info->bat_region.file_offset + index * 8);
	if (err < 0)
		return err;
	*ret_entry = get_le64(b);
	return 0;
}

static void vhdx_report_fs(const struct iw_view *v, struct iw_report *r,
			   const struct vhdx_info *info)
{
	uint8_t creator[512];
	char text[3 * 256 + 1];
	char g[37];

	/* [MS-VHDX] 2.2.1: the creator, UTF-16LE, diagnostic only */
	if (iw_view_read(v, creator, sizeof(creator), 8) == 0) {
		size_t n = vhd_utf16_to_utf8(creator, sizeof(creator), false,
					     text, sizeof(text));
		iw_fs_set_bytes(r, "creator", text, n);
	}
	if (info->current_header >= 0) {
		const struct vhdx_header *h =
			&info->headers[info->current_header];

		iw_fs_set_int(r, "header-sequence",
			      (int64_t)MIN(h->sequence_number,
					   (uint64_t)INT64_MAX));
		iw_fs_set_int(r, "valid-headers",
			      info->headers[0].valid + info->headers[1].valid);
		vhdx_guid_string(h->log_guid, g);
		iw_fs_set_str(r, "log-guid", g);
		/* what qemu needs `qemu-img check -r all` for */
		iw_fs_set_bool(r, "log-replay-needed", info->log_entries > 0);
		iw_fs_set_int(r, "log-entries", info->log_entries);
	}
	if (info->block_size)
		iw_fs_set_int(r, "block-size", info->block_size);
	if (info->logical_sector_size)
		iw_fs_set_int(r, "logical-sector-size",
			      info->logical_sector_size);
	if (info->physical_sector_size)
		iw_fs_set_int(r, "physical-sector-size",
			      info->physical_sector_size);
	if (info->metadata_region.present) {
		iw_fs_set_bool(r, "has-parent", info->has_parent);
		iw_fs_set_bool(r, "leave-blocks-allocated",
			       info->leave_blocks_allocated);
	}
}

static bool vhdx_match(const struct iw_view *v, const uint8_t *head,
		       size_t head_len)
{
	/* qemu's vhdx_probe */
	return head_len >= 8 && memcmp(head, "vhdxfile", 8) == 0;
}

static int vhdx_probe(const struct iw_view *v, const uint8_t *head,
		      size_t head_len, struct iw_report *r,
		      struct iw_probe_ctx *ctx)
{
	_cleanup_(vhdx_log_freep) struct vhdx_log *log = NULL;
	struct vhdx_info info;
	int ret;

	r->format = "vhdx";
	ret = vhdx_parse(v, r, &info, &log);
	if (ret < 0)
		return ret;
	if (info.have_metadata) {
		r->virtual_size = (int64_t)info.virtual_size;
		/* qemu's vhdx_get_info */
		r->cluster_size = info.block_size;
	}
	vhdx_report_fs(v, r, &info);
	return 0;
}

const struct iw_format iw_format_vhdx = {
	.name = "vhdx",
	.kind = IW_KIND_IMAGE,
	.match = vhdx_match,
	.probe = vhdx_probe,
};
