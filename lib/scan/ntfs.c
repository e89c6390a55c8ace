/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NTFS, read-only and bounded: see ntfs.h.
 *
 * On-disk layout from ntfs-3g's include/ntfs-3g/layout.h and the Linux
 * drivers (fs/ntfs, fs/ntfs3), read to learn the structures; the checks
 * are ours, each one a bug class those drivers fixed (cited where it is
 * made):
 *
 *   boot sector -> $MFT record 0 at mft_lcn -> its $DATA runlist maps
 *   the whole MFT (possibly over extension records through its
 *   $ATTRIBUTE_LIST) -> any record n -> its attributes -> a directory's
 *   $I30 index ($INDEX_ROOT, $INDEX_ALLOCATION "INDX" blocks) -> a
 *   file's unnamed $DATA.
 *
 * Memory is bounded by the caps below; nothing is sized from the volume
 * without one. What is cached: the MFT's runlist (decoded once at open),
 * the upcase table (128 KiB), a few fixed-up records.
 */
#include "ntfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "../formats/utf16.h"
#include "../util.h"

/* Multi-sector transfer protection works in 512-byte strides whatever
 * the sector size (layout.h NTFS_BLOCK_SIZE). */
#define NTFS_STRIDE 512u

/* Records and index blocks we accept: power-of-2 multiples of the
 * stride (fixups need whole strides) up to 64 KiB, the largest any
 * driver accepts (ntfs-3g, ntfs3 MAXIMUM_BYTES_PER_MFT/INDEX is 4 KiB
 * for records; Windows writes 1 KiB or 4 KiB). */
#define NTFS_MIN_RECORD 512u
#define NTFS_MAX_RECORD (64u * 1024)
/* Clusters up to 2 MiB: Windows 10 1709+ formats up to 2 MiB clusters
 * (the 2^(256-v) sectors_per_cluster encoding; Linux ntfs3 accepts the
 * same range, 0xf4..0xff). */
#define NTFS_MAX_CLUSTER (2u * 1024 * 1024)

/* Runs kept for one attribute: a heavily fragmented hive on a real
 * volume has thousands; 64 Ki runs cost 1.5 MiB. */
#define NTFS_MAX_RUNS 65536u
/* An attribute spread over extension records: each extent costs a
 * record read. $MFT on a large aged volume has a few hundred. */
#define NTFS_MAX_EXTENTS 4096u
/* $ATTRIBUTE_LIST value: entries are >= 32 bytes, so 256 KiB is 8192
 * entries, far beyond anything Windows writes (it moves attributes out
 * long before). */
#define NTFS_MAX_ATTR_LIST (256u * 1024)
/* B+tree depth of a directory index: a 4 KiB-node tree of depth 8 holds
 * billions of names; real ones are 1-4 deep. */
#define NTFS_MAX_INDEX_DEPTH 16u
/* $INDEX_ALLOCATION of one directory: 256 MiB is several million
 * entries. Bounds the visited-node bitmap of a listing. */
#define NTFS_MAX_INDEX_ALLOC (256ull << 20)
/* Index entries looked at in one listing (the DOS 8.3 twins included):
 * twice what we report. */
#define NTFS_MAX_INDEX_ENTRIES (2u * NTFS_MAX_DIR_ENTRIES)
/* Path components of one lookup. */
#define NTFS_MAX_PATH_DEPTH 64u
/* The MFT reference has 48 bits of record number. */
#define NTFS_MAX_MFT_RECORDS (UINT64_C(1) << 48)
/* The upcase table: one UTF-16 unit for each of 65536. */
#define NTFS_UPCASE_UNITS 65536u
/* Fixed-up records kept: a lookup's path (root, Windows, System32,
 * config) plus the volume's system files. */
#define NTFS_RECORD_CACHE 8u

/* Attribute types (layout.h ATTR_TYPES) */
#define AT_ATTRIBUTE_LIST 0x20u
#define AT_FILE_NAME 0x30u
#define AT_VOLUME_NAME 0x60u
#define AT_VOLUME_INFORMATION 0x70u
#define AT_DATA 0x80u
#define AT_INDEX_ROOT 0x90u
#define AT_INDEX_ALLOCATION 0xa0u
#define AT_END 0xffffffffu

#define ATTR_COMPRESSED 0x0001u
#define ATTR_COMPRESSION_MASK 0x00ffu
#define ATTR_ENCRYPTED 0x4000u
#define ATTR_SPARSE 0x8000u

/* MFT record header (layout.h MFT_RECORD) */
#define REC_USA_OFS 4
#define REC_USA_COUNT 6
#define REC_SEQ 16
#define REC_ATTRS_OFS 20
#define REC_FLAGS 22
#define REC_BYTES_IN_USE 24
#define REC_BYTES_ALLOC 28
#define REC_BASE 32
#define REC_NUMBER 44 /* NTFS 3.1: only when usa_ofs >= 0x30 */
#define REC_IN_USE 0x0001u
#define REC_IS_DIRECTORY 0x0002u
/* The header fields every version has end at 0x2a (NTFS 1.2 puts its
 * update sequence array there). */
#define REC_HEADER_MIN 0x2au

/* Index root and headers (layout.h INDEX_ROOT, INDEX_HEADER,
 * INDEX_BLOCK, INDEX_ENTRY) */
#define IR_TYPE 0
#define IR_COLLATION 4
#define IR_BLOCK_SIZE 8
#define IR_HEADER 16
#define IH_ENTRIES_OFS 0
#define IH_INDEX_LEN 4
#define IH_ALLOC_SIZE 8
#define IH_SIZE 16
#define INDX_VCN 16
#define INDX_HEADER 0x18
#define IE_LENGTH 8
#define IE_KEY_LENGTH 10
#define IE_FLAGS 12
#define IE_KEY 16
#define IE_NODE 0x0001u
#define IE_END 0x0002u
#define COLLATION_FILE_NAME 1u
/* $FILE_NAME (layout.h FILE_NAME_ATTR) */
#define FN_FLAGS 56
#define FN_NAME_LEN 64
#define FN_NAMESPACE 65
#define FN_NAME 66
#define FN_NAMESPACE_DOS 2
#define FILE_ATTR_DIRECTORY 0x10000000u

/* $ATTRIBUTE_LIST entry (layout.h ATTR_LIST_ENTRY) */
#define AL_TYPE 0
#define AL_LENGTH 4
#define AL_NAME_LEN 6
#define AL_NAME_OFS 7
#define AL_LOWEST_VCN 8
#define AL_MFT_REF 16
#define AL_INSTANCE 24
#define AL_MIN 26

#define MFT_REF_NUMBER(r) ((r) & UINT64_C(0xffffffffffff))
#define MFT_REF_SEQ(r) ((uint16_t)((r) >> 48))

/* Record a limit: iw_diag_fail() files -E2BIG as read-budget, so the
 * problem is recorded under its own code and -E2BIG returned. */
#define ntfs_limit(d, ...)                                                     \
	({                                                                     \
		(void)iw_diag_fail(d, -EFBIG, SCAN_E_NTFS_LIMIT, __VA_ARGS__); \
		-E2BIG;                                                        \
	})

struct ntfs_rec_cache {
	uint64_t num;
	uint8_t *buf; /* NULL: empty slot */
};

/* An attribute's value: resident bytes, or a non-resident runlist over
 * every extent, with the sizes of its first extent. */
struct ntfs_attr_data {
	bool non_resident;
	uint16_t flags;
	uint8_t *value; /* resident, value_len bytes (malloc'd) */
	uint32_t value_len;
	struct ntfs_run *runs;
	size_t nruns;
	uint64_t allocated_size, data_size, initialized_size;
};

struct ntfs_vol {
	const struct iw_view *part;
	struct iw_diag *d;
	struct ntfs_info info;
	unsigned cluster_shift;
	uint64_t total_clusters;
	/* the $MFT's unnamed $DATA */
	struct ntfs_attr_data mft;
	uint64_t mft_records; /* readable records */
	/* set while $MFT's own extents are collected: records are then
	 * read through the runs decoded so far */
	bool mft_bootstrap;
	uint16_t *upcase; /* NTFS_UPCASE_UNITS, or NULL: ASCII folding */
	struct ntfs_rec_cache cache[NTFS_RECORD_CACHE];
	unsigned cache_next;
};

struct ntfs_file {
	struct iw_view view;
	struct ntfs_vol *vol;
	struct ntfs_attr_data data;
};

static void attr_data_free(struct ntfs_attr_data *ad)
{
	free(ad->value);
	free(ad->runs);
	memset(ad, 0, sizeof(*ad));
}

/* ---- boot sector --------------------------------------------------- */

/* clusters_per_mft_record / clusters_per_index_record: a positive value
 * counts clusters, a negative one is -log2(bytes) (layout.h). */
static int boot_record_size(int8_t c, uint32_t cluster_size, uint32_t *ret)
{
	uint64_t size;

	if (c > 0)
		size = (uint64_t)(uint8_t)c * cluster_size;
	else if (c < 0 && -c < 32)
		size = UINT64_C(1) << -c;
	else
		return -EINVAL;
	if (!is_power_of_2(size) || size < NTFS_MIN_RECORD ||
	    size > NTFS_MAX_RECORD)
		return -EINVAL;
	*ret = (uint32_t)size;
	return 0;
}

int ntfs_parse_boot(const uint8_t *p, size_t len, uint64_t part_size,
		    struct ntfs_info *info, struct iw_diag *d)
{
	uint32_t bps, spc, cluster;
	uint8_t spc_raw;
	uint64_t sectors, total, clusters, mft_lcn, mirr_lcn;

	memset(info, 0, sizeof(*info));
	if (len < 512)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "boot sector truncated (%zu bytes)", len);
	if (memcmp(p + 3, "NTFS    ", 8) != 0)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "no NTFS OEM identifier");
	bps = get_le16(p + 0x0b);
	if (!is_power_of_2(bps) || bps < 256 || bps > 4096)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "bytes per sector %u", bps);
	/* <= 0x80: sectors; 0xf4..0xff: 2^(256-v) sectors (Windows' large
	 * clusters; Linux ntfs3 true_sectors_per_clst() after syzbot's
	 * negative-shift report). Anything in between is no encoding. */
	spc_raw = p[0x0d];
	if (spc_raw >= 0xf4)
		spc = UINT32_C(1) << (256 - spc_raw);
	else if (spc_raw <= 0x80)
		spc = spc_raw;
	else
		spc = 0;
	if (!is_power_of_2(spc))
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "sectors per cluster 0x%02x", spc_raw);
	cluster = bps * spc;
	if (cluster > NTFS_MAX_CLUSTER)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "cluster size %u", cluster);
	/* FAT fields NTFS keeps zero (ntfs-3g ntfs_boot_sector_is_ntfs):
	 * reserved sectors, FATs, root entries, sectors (16-bit), sectors
	 * per FAT, large sectors. */
	if (get_le16(p + 0x0e) || p[0x10] || get_le16(p + 0x11) ||
	    get_le16(p + 0x13) || get_le16(p + 0x16) || get_le32(p + 0x20))
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "FAT fields not zero");
	sectors = get_le64(p + 0x28);
	if (sectors == 0 || sectors > INT64_MAX ||
	    MUL_OVERFLOW(sectors, (uint64_t)bps, &total))
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "number of sectors %" PRIu64, sectors);
	/* The backup boot sector lies just past the sectors counted, so a
	 * volume never claims more than its partition. */
	if (total > part_size)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "volume size %" PRIu64
				    " past the partition's %" PRIu64,
				    total, part_size);
	clusters = sectors / spc;
	info->sector_size = bps;
	info->cluster_size = cluster;
	info->total_size = total;
	if (boot_record_size((int8_t)p[0x40], cluster,
			     &info->mft_record_size) < 0)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "clusters per MFT record 0x%02x", p[0x40]);
	if (boot_record_size((int8_t)p[0x44], cluster,
			     &info->index_record_size) < 0)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "clusters per index record 0x%02x",
				    p[0x44]);
	mft_lcn = get_le64(p + 0x30);
	mirr_lcn = get_le64(p + 0x38);
	if (mft_lcn >= clusters || mirr_lcn >= clusters)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "$MFT LCN %" PRIu64 " or $MFTMirr LCN %" PRIu64
				    " past the %" PRIu64 " clusters",
				    mft_lcn, mirr_lcn, clusters);
	info->mft_offset = mft_lcn * cluster;
	info->mftmirr_offset = mirr_lcn * cluster;
	if (!range_ok(info->mft_offset, info->mft_record_size, total))
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "$MFT record 0 past the volume");
	info->serial = get_le64(p + 0x48);
	return 0;
}

/* ---- fixups, records, attributes ----------------------------------- */

int ntfs_apply_fixups(uint8_t *rec, size_t size, const char *magic,
		      struct iw_diag *d)
{
	enum scan_err code = memcmp(magic, "INDX", 4) == 0 ? SCAN_E_NTFS_INDEX
							    : SCAN_E_NTFS_RECORD;
	uint16_t usa_ofs, usa_count, usn;

	if (size < NTFS_MIN_RECORD || size % NTFS_STRIDE)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_FIXUP,
				    "record size %zu is not whole strides",
				    size);
	/* "BAAD": a multi-sector transfer that did not complete, marked so
	 * by chkdsk or the driver (layout.h magic_BAAD). */
	if (memcmp(rec, "BAAD", 4) == 0)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_FIXUP,
				    "%.4s record marked BAAD", magic);
	if (memcmp(rec, magic, 4) != 0)
		return iw_diag_fail(d, -EINVAL, code, "no %.4s magic", magic);
	usa_ofs = get_le16(rec + REC_USA_OFS);
	usa_count = get_le16(rec + REC_USA_COUNT);
	/* Linux post_read_mst_fixup(): usa_ofs even, one entry per stride
	 * plus the USN (a count of 0 would underflow), and the array
	 * inside the first stride but before its own fixup. */
	if (usa_ofs & 1 || usa_ofs < 8)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_FIXUP,
				    "update sequence offset %u", usa_ofs);
	if (usa_count != size / NTFS_STRIDE + 1)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_FIXUP,
				    "update sequence count %u for %zu bytes",
				    usa_count, size);
	if ((uint32_t)usa_ofs + 2u * usa_count > NTFS_STRIDE - 2)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_FIXUP,
				    "update sequence array past the first stride");
	usn = get_le16(rec + usa_ofs);
	for (size_t i = 1; i < usa_count; i++) {
		uint8_t *end = rec + i * NTFS_STRIDE - 2;

		if (get_le16(end) != usn)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_FIXUP,
					    "stride %zu: 0x%04x is not the "
					    "update sequence number 0x%04x",
					    i - 1, get_le16(end), usn);
	}
	/* Only once every stride checked: a torn record is not half
	 * restored. */
	for (size_t i = 1; i < usa_count; i++)
		memcpy(rec + i * NTFS_STRIDE - 2, rec + usa_ofs + 2 * i, 2);
	return 0;
}

/* The record header, after fixups (the walk's first step). */
static int record_check_header(const uint8_t *rec, size_t size,
			       struct iw_diag *d)
{
	uint16_t usa_ofs, usa_count, attrs;
	uint32_t in_use, alloc;

	if (size < NTFS_MIN_RECORD || memcmp(rec, "FILE", 4) != 0)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "no FILE magic");
	usa_ofs = get_le16(rec + REC_USA_OFS);
	usa_count = get_le16(rec + REC_USA_COUNT);
	attrs = get_le16(rec + REC_ATTRS_OFS);
	in_use = get_le32(rec + REC_BYTES_IN_USE);
	alloc = get_le32(rec + REC_BYTES_ALLOC);
	if (alloc != size)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "bytes allocated %" PRIu32
				    " is not the record size %zu",
				    alloc, size);
	if (usa_ofs < REC_HEADER_MIN)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "update sequence array inside the header");
	/* attrs_offset <= bytes_in_use <= bytes_allocated, aligned, with
	 * room for the end marker: Linux 2025 "ntfs: validate MFT
	 * attrs_offset against bytes_in_use" (bytes_in_use - attrs_offset
	 * underflowed). */
	if (attrs % 8 || attrs < (uint32_t)usa_ofs + 2u * usa_count)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "attributes offset 0x%x", attrs);
	if (in_use % 8 || in_use > alloc || (uint32_t)attrs + 4 > in_use)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "bytes in use %" PRIu32
				    " (attributes at 0x%x, record %" PRIu32 ")",
				    in_use, attrs, alloc);
	return 0;
}

int ntfs_attr_next(const uint8_t *rec, size_t size, size_t *pos,
		   struct ntfs_attr *a, struct iw_diag *d)
{
	size_t p, in_use, left;
	uint32_t type, length;
	const uint8_t *h;
	uint16_t name_ofs;
	size_t hdr;
	int ret;

	if (*pos == 0) {
		ret = record_check_header(rec, size, d);
		if (ret < 0)
			return ret;
		*pos = get_le16(rec + REC_ATTRS_OFS);
	}
	in_use = get_le32(rec + REC_BYTES_IN_USE);
	p = *pos;
	/* *pos only ever holds an offset this function checked, but the
	 * caller's copy is not trusted to be one. */
	if (p > in_use || in_use > size || in_use - p < 4)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				    "attribute at 0x%zx: no end marker", p);
	h = rec + p;
	type = get_le32(h);
	if (type == AT_END)
		return 0;
	left = in_use - p;
	if (left < 16)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				    "attribute at 0x%zx: header past the "
				    "record", p);
	length = get_le32(h + 4);
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->length = length;
	a->non_resident = h[8] != 0;
	a->name_len = h[9];
	name_ofs = get_le16(h + 10);
	a->flags = get_le16(h + 12);
	a->instance = get_le16(h + 14);
	hdr = a->non_resident ? 0x40 : 0x18;
	if (length % 8 || length < hdr || length > left)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				    "attribute 0x%" PRIx32
				    " at 0x%zx: length %" PRIu32,
				    type, p, length);
	if (h[8] > 1)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				    "attribute 0x%" PRIx32
				    " at 0x%zx: non-resident flag %u",
				    type, p, h[8]);
	if (a->name_len) {
		/* ntfs3 "Validate attribute name offset": the name inside
		 * the attribute, and not over its header */
		if (name_ofs < hdr ||
		    (size_t)name_ofs + 2u * a->name_len > length)
			return iw_diag_fail(d, -EINVAL,
					    SCAN_E_NTFS_ATTRIBUTE,
					    "attribute 0x%" PRIx32
					    " at 0x%zx: name past the "
					    "attribute",
					    type, p);
		a->name = h + name_ofs;
	}
	if (!a->non_resident) {
		uint16_t vofs = get_le16(h + 0x14);

		a->value_len = get_le32(h + 0x10);
		if (vofs < hdr || vofs > length ||
		    a->value_len > length - vofs)
			return iw_diag_fail(d, -EINVAL,
					    SCAN_E_NTFS_ATTRIBUTE,
					    "attribute 0x%" PRIx32
					    " at 0x%zx: value (0x%x, %" PRIu32
					    " bytes) past the attribute",
					    type, p, vofs, a->value_len);
		a->value = h + vofs;
	} else {
		uint16_t mpo = get_le16(h + 0x20);

		a->lowest_vcn = get_le64(h + 0x10);
		a->highest_vcn = get_le64(h + 0x18);
		a->compression_unit = h[0x22];
		a->allocated_size = get_le64(h + 0x28);
		a->data_size = get_le64(h + 0x30);
		a->initialized_size = get_le64(h + 0x38);
		if (mpo < hdr || mpo >= length)
			return iw_diag_fail(d, -EINVAL,
					    SCAN_E_NTFS_ATTRIBUTE,
					    "attribute 0x%" PRIx32
					    " at 0x%zx: mapping pairs offset "
					    "0x%x",
					    type, p, mpo);
		a->runlist = h + mpo;
		a->runlist_len = length - mpo;
	}
	*pos = p + length;
	return 1;
}

/* ---- runlists ------------------------------------------------------ */

/* A little-endian signed field of n (1..8) bytes. */
static int64_t runlist_field(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (n < 8 && (p[n - 1] & 0x80))
		v |= ~UINT64_C(0) << (8 * n);
	return (int64_t)v;
}

int ntfs_decode_runlist(const uint8_t *p, size_t len, uint64_t lowest_vcn,
			uint64_t highest_vcn, uint64_t total_clusters,
			struct ntfs_run *runs, size_t max_runs, size_t *n,
			struct iw_diag *d)
{
	uint64_t vcn = lowest_vcn, end_vcn = highest_vcn + 1;
	int64_t lcn = 0;
	size_t pos = 0;

	/* an empty extent says highest_vcn = lowest_vcn - 1 (-1 for an
	 * empty attribute), which wraps end_vcn to lowest_vcn */
	if (lowest_vcn > INT64_MAX || (end_vcn < lowest_vcn))
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RUNLIST,
				    "VCNs %" PRIu64 "..%" PRIu64, lowest_vcn,
				    highest_vcn);
	for (;;) {
		unsigned lsize, osize;
		int64_t length, delta;
		uint64_t next;

		if (pos >= len)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RUNLIST,
					    "runlist not terminated");
		if (p[pos] == 0)
			break;
		lsize = p[pos] & 0xf;
		osize = p[pos] >> 4;
		/* ntfs-3g ntfs_mapping_pairs_decompress(): fields wider
		 * than 8 bytes, or a run with no length field */
		if (lsize == 0 || lsize > 8 || osize > 8)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RUNLIST,
					    "run header 0x%02x at %zu", p[pos],
					    pos);
		if (len - pos - 1 < lsize + osize)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RUNLIST,
					    "run at %zu past the attribute",
					    pos);
		length = runlist_field(p + pos + 1, lsize);
		if (length < 0 || (length == 0 && osize))
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RUNLIST,
					    "run length %" PRId64 " at %zu",
					    length, pos);
		if (ADD_OVERFLOW(vcn, (uint64_t)length, &next) ||
		    next > end_vcn)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RUNLIST,
					    "runs past highest VCN %" PRIu64,
					    highest_vcn);
		if (length == 0) {
			/* "a zero-size hole is simply ignored" (ntfs-3g) */
			pos += 1 + lsize;
			continue;
		}
		if (*n >= max_runs)
			return ntfs_limit(d, "more than %zu runs", max_runs);
		if (osize == 0) {
			runs[*n] = (struct ntfs_run){ vcn, NTFS_LCN_HOLE,
						      (uint64_t)length };
		} else {
			uint64_t lcn_end;

			delta = runlist_field(p + pos + 1 + lsize, osize);
			if (ADD_OVERFLOW(lcn, delta, &lcn) || lcn < 0)
				return iw_diag_fail(d, -EINVAL,
						    SCAN_E_NTFS_RUNLIST,
						    "negative or overflowing "
						    "LCN at %zu",
						    pos);
			if (ADD_OVERFLOW((uint64_t)lcn, (uint64_t)length,
					 &lcn_end) ||
			    lcn_end > total_clusters)
				return iw_diag_fail(d, -EINVAL,
						    SCAN_E_NTFS_RUNLIST,
						    "run LCN %" PRId64
						    "+%" PRId64
						    " past the volume's %" PRIu64
						    " clusters",
						    lcn, length, total_clusters);
			runs[*n] = (struct ntfs_run){ vcn, (uint64_t)lcn,
						      (uint64_t)length };
		}
		(*n)++;
		vcn = next;
		pos += 1 + lsize + osize;
	}
	if (vcn != end_vcn)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_RUNLIST,
				    "runs end at VCN %" PRIu64
				    ", the attribute at %" PRIu64,
				    vcn, end_vcn);
	return 0;
}

/* ---- index entries ------------------------------------------------- */

/* *pos: 0 at the start, then the offset of the next entry, SIZE_MAX
 * once the last entry was returned. */
int ntfs_index_next(const uint8_t *p, size_t len, size_t *pos,
		    struct ntfs_index_entry *e, struct iw_diag *d)
{
	uint32_t entries, index_len;
	uint16_t elen, klen, flags;
	const uint8_t *h;
	size_t o;

	if (*pos == SIZE_MAX)
		return 0;
	if (len < IH_SIZE)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_INDEX,
				    "index header truncated");
	entries = get_le32(p + IH_ENTRIES_OFS);
	index_len = get_le32(p + IH_INDEX_LEN);
	if (entries < IH_SIZE || entries % 8 || index_len > len ||
	    entries >= index_len)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_INDEX,
				    "index header: entries at %" PRIu32
				    ", length %" PRIu32 " of %zu",
				    entries, index_len, len);
	o = *pos ? *pos : entries;
	if (o < entries || o > index_len || index_len - o < IE_KEY)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_INDEX,
				    "index entry at %zu past the node (%" PRIu32
				    ")",
				    o, index_len);
	h = p + o;
	elen = get_le16(h + IE_LENGTH);
	klen = get_le16(h + IE_KEY_LENGTH);
	flags = get_le16(h + IE_FLAGS);
	memset(e, 0, sizeof(*e));
	if (elen < IE_KEY || elen % 8 || elen > index_len - o)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_INDEX,
				    "index entry at %zu: length %u", o, elen);
	e->has_subnode = flags & IE_NODE;
	e->last = flags & IE_END;
	if (e->has_subnode) {
		if (elen < IE_KEY + 8)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_INDEX,
					    "index entry at %zu: no room for "
					    "its sub-node VCN",
					    o);
		e->subnode_vcn = get_le64(h + elen - 8);
	}
	if (!e->last) {
		uint64_t ref = get_le64(h);

		if (klen < FN_NAME ||
		    (size_t)IE_KEY + klen + (e->has_subnode ? 8 : 0) > elen)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_INDEX,
					    "index entry at %zu: key length "
					    "%u of %u",
					    o, klen, elen);
		e->mft = MFT_REF_NUMBER(ref);
		e->seq = MFT_REF_SEQ(ref);
		e->file_attributes = get_le32(h + IE_KEY + FN_FLAGS);
		e->name_len = h[IE_KEY + FN_NAME_LEN];
		e->name_space = h[IE_KEY + FN_NAMESPACE];
		if (FN_NAME + 2u * e->name_len > klen)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_INDEX,
					    "index entry at %zu: name past "
					    "its key",
					    o);
		e->name = h + IE_KEY + FN_NAME;
		*pos = o + elen;
	} else {
		*pos = SIZE_MAX;
	}
	return 1;
}

/* ---- reading through runlists --------------------------------------- */

/* The run holding vcn (runs sorted, contiguous in VCN), or NULL. */
static const struct ntfs_run *run_find(const struct ntfs_run *runs, size_t n,
				       uint64_t vcn)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vcn < runs[mid].vcn)
			hi = mid;
		else if (vcn - runs[mid].vcn >= runs[mid].length)
			lo = mid + 1;
		else
			return &runs[mid];
	}
	return NULL;
}

static int vol_read(struct ntfs_vol *vol, void *buf, size_t len, uint64_t off)
{
	int ret = iw_view_read(vol->part, buf, len, off);

	if (ret < 0)
		return iw_diag_fail(vol->d, ret, SCAN_E_IO,
				    "cannot read %zu bytes at %" PRIu64 ": %s",
				    len, off, strerror(-ret));
	return 0;
}

/* Read [off, off+len) of a non-resident value through its runs; bytes
 * at or past `valid` (the initialized size) and in holes read as
 * zeros. */
static int runs_read(struct ntfs_vol *vol, const struct ntfs_run *runs,
		     size_t n, uint64_t valid, uint8_t *buf, size_t len,
		     uint64_t off)
{
	while (len) {
		const struct ntfs_run *r;
		uint64_t vcn, in_run, run_left;
		size_t chunk;
		int ret;

		if (off >= valid) {
			memset(buf, 0, len);
			return 0;
		}
		vcn = off >> vol->cluster_shift;
		r = run_find(runs, n, vcn);
		if (!r)
			return iw_diag_fail(vol->d, -EINVAL,
					    SCAN_E_NTFS_RUNLIST,
					    "no run maps VCN %" PRIu64, vcn);
		in_run = off - (r->vcn << vol->cluster_shift);
		run_left = (r->length << vol->cluster_shift) - in_run;
		chunk = len;
		if (chunk > run_left)
			chunk = (size_t)run_left;
		if (chunk > valid - off)
			chunk = (size_t)(valid - off);
		if (r->lcn == NTFS_LCN_HOLE) {
			memset(buf, 0, chunk);
		} else {
			ret = vol_read(vol, buf, chunk,
				       (r->lcn << vol->cluster_shift) + in_run);
			if (ret < 0)
				return ret;
		}
		buf += chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

static int attr_data_read(struct ntfs_vol *vol, const struct ntfs_attr_data *ad,
			  void *buf, size_t len, uint64_t off)
{
	if (!ad->non_resident) {
		if (!range_ok(off, len, ad->value_len))
			return -ERANGE;
		memcpy(buf, ad->value + off, len);
		return 0;
	}
	if (!range_ok(off, len, ad->data_size))
		return -ERANGE;
	return runs_read(vol, ad->runs, ad->nruns, ad->initialized_size, buf,
			 len, off);
}

/* ---- MFT records --------------------------------------------------- */

/*
 * Record num, fixed up and its header checked, into buf (the record
 * size). Records come from the cache when there.
 */
static int read_record(struct ntfs_vol *vol, uint64_t num, uint8_t *buf)
{
	uint32_t rs = vol->info.mft_record_size;
	uint16_t usa_ofs;
	uint8_t *slot;
	int ret;

	for (unsigned i = 0; i < NTFS_RECORD_CACHE; i++)
		if (vol->cache[i].buf && vol->cache[i].num == num) {
			memcpy(buf, vol->cache[i].buf, rs);
			return 0;
		}
	if (num >= vol->mft_records)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "MFT record %" PRIu64
				    " past the %" PRIu64 " records of $MFT",
				    num, vol->mft_records);
	ret = runs_read(vol, vol->mft.runs, vol->mft.nruns, UINT64_MAX, buf,
			rs, num * rs);
	if (ret < 0)
		return ret;
	ret = ntfs_apply_fixups(buf, rs, "FILE", NULL);
	if (ret < 0) {
		/* again, for the detail with the record number */
		struct iw_diag tmp = { 0 };

		(void)ntfs_apply_fixups(buf, rs, "FILE", &tmp);
		return iw_diag_fail(vol->d, ret, tmp.n ? tmp.e[0].code
						      : SCAN_E_NTFS_FIXUP,
				    "MFT record %" PRIu64 ": %s", num,
				    tmp.n ? tmp.e[0].message : "fixups");
	}
	ret = record_check_header(buf, rs, NULL);
	if (ret < 0) {
		struct iw_diag tmp = { 0 };

		(void)record_check_header(buf, rs, &tmp);
		return iw_diag_fail(vol->d, ret, SCAN_E_NTFS_RECORD,
				    "MFT record %" PRIu64 ": %s", num,
				    tmp.n ? tmp.e[0].message : "header");
	}
	/* NTFS 3.1 records carry their own number: a record found at the
	 * wrong place is not the one asked for. */
	usa_ofs = get_le16(buf + REC_USA_OFS);
	if (usa_ofs >= 0x30 && get_le32(buf + REC_NUMBER) != (uint32_t)num)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "MFT record %" PRIu64 " says it is %" PRIu32,
				    num, get_le32(buf + REC_NUMBER));
	slot = vol->cache[vol->cache_next].buf;
	if (!slot)
		slot = malloc(rs);
	if (slot) {
		memcpy(slot, buf, rs);
		vol->cache[vol->cache_next].buf = slot;
		vol->cache[vol->cache_next].num = num;
		vol->cache_next = (vol->cache_next + 1) % NTFS_RECORD_CACHE;
	}
	return 0;
}

/* A base record in use (what a reference from a directory or the
 * system may point to); seq checked when non-zero. */
static int read_base_record(struct ntfs_vol *vol, uint64_t num, uint16_t seq,
			    uint8_t *buf)
{
	int ret = read_record(vol, num, buf);

	if (ret < 0)
		return ret;
	if (!(get_le16(buf + REC_FLAGS) & REC_IN_USE))
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "MFT record %" PRIu64 " is not in use",
				    num);
	if (get_le64(buf + REC_BASE) != 0)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "MFT record %" PRIu64
				    " is an extension record",
				    num);
	if (seq && get_le16(buf + REC_SEQ) != seq)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_RECORD,
				    "MFT record %" PRIu64
				    ": sequence %u, reference says %u",
				    num, get_le16(buf + REC_SEQ), seq);
	return 0;
}

/* ---- attributes of a file, over its extension records --------------- */

struct attr_want {
	uint32_t type;
	const uint16_t *name; /* host-order UTF-16, name_len units */
	uint8_t name_len;
	bool sizes_only; /* the first extent's sizes, no runs */
};

static bool attr_name_is(const uint8_t *le, uint8_t le_len,
			 const struct attr_want *w)
{
	if (le_len != w->name_len)
		return false;
	for (unsigned i = 0; i < le_len; i++)
		if (get_le16(le + 2 * i) != w->name[i])
			return false;
	return true;
}

/* Add one attribute extent to out; *next_vcn is the VCN the next extent
 * must start at. */
static int attr_add_extent(struct ntfs_vol *vol, uint64_t mft,
			   const struct ntfs_attr *a, const struct attr_want *w,
			   struct ntfs_attr_data *out, bool *have,
			   uint64_t *next_vcn)
{
	uint32_t cs = vol->info.cluster_size;

	if (!*have) {
		out->non_resident = a->non_resident;
		out->flags = a->flags;
		if (!a->non_resident) {
			out->value = malloc(a->value_len ? a->value_len : 1);
			if (!out->value)
				return iw_diag_fail(vol->d, -ENOMEM,
						    SCAN_E_NO_MEMORY,
						    "attribute value");
			memcpy(out->value, a->value, a->value_len);
			out->value_len = a->value_len;
			*have = true;
			return 0;
		}
		if (a->lowest_vcn != 0)
			return iw_diag_fail(vol->d, -EINVAL,
					    SCAN_E_NTFS_ATTRIBUTE,
					    "MFT record %" PRIu64
					    ": attribute 0x%" PRIx32
					    " starts at VCN %" PRIu64,
					    mft, a->type, a->lowest_vcn);
		/* sizes as ntfs-3g and ntfs3 accept them: signed 64-bit,
		 * initialized <= data <= allocated, allocated whole
		 * clusters */
		if (a->allocated_size > INT64_MAX ||
		    a->allocated_size % cs ||
		    a->data_size > a->allocated_size ||
		    a->initialized_size > a->data_size)
			return iw_diag_fail(vol->d, -EINVAL,
					    SCAN_E_NTFS_ATTRIBUTE,
					    "MFT record %" PRIu64
					    ": attribute 0x%" PRIx32
					    " sizes %" PRIu64 "/%" PRIu64
					    "/%" PRIu64,
					    mft, a->type, a->allocated_size,
					    a->data_size, a->initialized_size);
		out->allocated_size = a->allocated_size;
		out->data_size = a->data_size;
		out->initialized_size = a->initialized_size;
		*have = true;
		*next_vcn = 0;
	} else if (!a->non_resident || !out->non_resident) {
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				    "MFT record %" PRIu64
				    ": attribute 0x%" PRIx32
				    " twice, or resident in two parts",
				    mft, a->type);
	}
	if (w->sizes_only)
		return 0;
	if (a->lowest_vcn != *next_vcn)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				    "MFT record %" PRIu64
				    ": attribute 0x%" PRIx32
				    " extent at VCN %" PRIu64
				    ", expected %" PRIu64,
				    mft, a->type, a->lowest_vcn, *next_vcn);
	{
		size_t before = out->nruns;
		uint64_t end = a->highest_vcn + 1;
		size_t cap = out->nruns + a->runlist_len / 2 + 1;
		int ret;

		/* each run takes at least 2 bytes of mapping pairs */
		if (cap > NTFS_MAX_RUNS)
			cap = NTFS_MAX_RUNS;
		if (cap > out->nruns) {
			struct ntfs_run *nr =
				realloc(out->runs, cap * sizeof(*nr));

			if (!nr)
				return iw_diag_fail(vol->d, -ENOMEM,
						    SCAN_E_NO_MEMORY, "runs");
			out->runs = nr;
		}
		ret = ntfs_decode_runlist(a->runlist, a->runlist_len,
					  a->lowest_vcn, a->highest_vcn,
					  vol->total_clusters, out->runs, cap,
					  &out->nruns, NULL);
		if (ret < 0) {
			struct iw_diag tmp = { 0 };
			size_t n = before;

			(void)ntfs_decode_runlist(a->runlist, a->runlist_len,
						  a->lowest_vcn,
						  a->highest_vcn,
						  vol->total_clusters,
						  out->runs, cap, &n, &tmp);
			if (ret == -E2BIG)
				return ntfs_limit(vol->d,
						  "MFT record %" PRIu64
						  ": more than %u runs",
						  mft, NTFS_MAX_RUNS);
			return iw_diag_fail(vol->d, ret,
					    tmp.n ? tmp.e[0].code
						  : SCAN_E_NTFS_RUNLIST,
					    "MFT record %" PRIu64
					    ": attribute 0x%" PRIx32 ": %s",
					    mft, a->type,
					    tmp.n ? tmp.e[0].message : "runs");
		}
		*next_vcn = end;
		/* the runs may not map more than the attribute owns
		 * (ntfs-3g: "total VCNs exceed allocated size") */
		if (end > out->allocated_size / cs)
			return iw_diag_fail(vol->d, -EINVAL,
					    SCAN_E_NTFS_RUNLIST,
					    "MFT record %" PRIu64
					    ": attribute 0x%" PRIx32
					    " runs map %" PRIu64
					    " clusters, %" PRIu64
					    " allocated",
					    mft, a->type, end,
					    out->allocated_size / cs);
	}
	if (vol->mft_bootstrap) {
		/* $MFT's own extents: the records past this one are read
		 * through the runs decoded so far */
		vol->mft.runs = out->runs;
		vol->mft.nruns = out->nruns;
		vol->mft_records = MIN((*next_vcn << vol->cluster_shift),
				       out->initialized_size) /
				   vol->info.mft_record_size;
	}
	return 0;
}

static int attr_find_in_record(struct ntfs_vol *vol, uint64_t mft,
			       const uint8_t *rec, const struct attr_want *w,
			       bool by_vcn, uint64_t lowest_vcn,
			       struct ntfs_attr_data *out,
			       bool *have, uint64_t *next_vcn)
{
	uint32_t rs = vol->info.mft_record_size;
	struct ntfs_attr a;
	size_t pos = 0;
	unsigned n = 0;
	bool found = false;
	int ret;

	while ((ret = ntfs_attr_next(rec, rs, &pos, &a, NULL)) == 1) {
		if (a.type != w->type || !attr_name_is(a.name, a.name_len, w))
			continue;
		/* the list entry names the extent by its first VCN (its
		 * instance number is not checked: chkdsk renumbers) */
		if (by_vcn &&
		    (a.non_resident ? a.lowest_vcn : 0) != lowest_vcn)
			continue;
		if (++n > NTFS_MAX_EXTENTS)
			return ntfs_limit(vol->d,
					  "MFT record %" PRIu64
					  ": too many extents",
					  mft);
		ret = attr_add_extent(vol, mft, &a, w, out, have, next_vcn);
		if (ret < 0)
			return ret;
		found = true;
		if (by_vcn || !a.non_resident || w->sizes_only)
			break;
	}
	if (ret < 0) {
		struct iw_diag tmp = { 0 };

		pos = 0;
		while (ntfs_attr_next(rec, rs, &pos, &a, &tmp) == 1)
			;
		return iw_diag_fail(vol->d, ret,
				    tmp.n ? tmp.e[0].code
					  : SCAN_E_NTFS_ATTRIBUTE,
				    "MFT record %" PRIu64 ": %s", mft,
				    tmp.n ? tmp.e[0].message : "attributes");
	}
	return found ? 0 : -ENOENT;
}

int ntfs_attr_list_next(const uint8_t *p, size_t len, size_t *pos,
			struct ntfs_attr_list_entry *e, struct iw_diag *d)
{
	size_t o = *pos;
	const uint8_t *h;
	uint8_t nofs;
	uint64_t ref;

	if (o >= len)
		return 0;
	/* Linux "ntfs: bound the look-ahead attribute-list entry": the
	 * fixed part, then the entry's length and name, all inside the
	 * list */
	if (len - o < AL_MIN)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				    "attribute list entry at %zu truncated", o);
	h = p + o;
	memset(e, 0, sizeof(*e));
	e->type = get_le32(h + AL_TYPE);
	e->length = get_le16(h + AL_LENGTH);
	e->name_len = h[AL_NAME_LEN];
	nofs = h[AL_NAME_OFS];
	if (e->length < AL_MIN || e->length % 8 || e->length > len - o)
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				    "attribute list entry at %zu: length %u",
				    o, e->length);
	if (e->name_len) {
		if (nofs < AL_MIN || (size_t)nofs + 2u * e->name_len > e->length)
			return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
					    "attribute list entry at %zu: name "
					    "past the entry",
					    o);
		e->name = h + nofs;
	}
	e->lowest_vcn = get_le64(h + AL_LOWEST_VCN);
	ref = get_le64(h + AL_MFT_REF);
	e->mft = MFT_REF_NUMBER(ref);
	e->seq = MFT_REF_SEQ(ref);
	e->instance = get_le16(h + AL_INSTANCE);
	*pos = o + e->length;
	return 1;
}

/*
 * Load the attribute w of base record mft (already read into rec): in
 * the record itself, or wherever its $ATTRIBUTE_LIST says. -ENOENT
 * (nothing recorded) when the file has no such attribute.
 */
static int attr_load(struct ntfs_vol *vol, uint64_t mft, const uint8_t *rec,
		     const struct attr_want *w, struct ntfs_attr_data *out)
{
	static const struct attr_want list_want = { AT_ATTRIBUTE_LIST, NULL,
						    0, false };
	uint32_t rs = vol->info.mft_record_size;
	struct ntfs_attr_data list = { 0 };
	_cleanup_free_ uint8_t *ext = NULL;
	uint64_t next_vcn = 0;
	bool have = false, have_list = false;
	uint64_t dummy = 0;
	size_t o;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = attr_find_in_record(vol, mft, rec, &list_want, false, 0,
				  &list, &have_list, &dummy);
	if (ret == -ENOENT) {
		ret = attr_find_in_record(vol, mft, rec, w, false, 0, out,
					  &have, &next_vcn);
		goto done;
	}
	if (ret < 0)
		goto done;
	/* The list itself, resident or not (ntfs-3g and Linux both read
	 * non-resident lists), bounded. */
	if (list.non_resident) {
		uint8_t *buf;

		if (list.data_size > NTFS_MAX_ATTR_LIST) {
			ret = ntfs_limit(vol->d,
					 "MFT record %" PRIu64
					 ": attribute list of %" PRIu64
					 " bytes",
					 mft, list.data_size);
			goto done;
		}
		buf = malloc(list.data_size ? list.data_size : 1);
		if (!buf) {
			ret = iw_diag_fail(vol->d, -ENOMEM, SCAN_E_NO_MEMORY,
					   "attribute list");
			goto done;
		}
		ret = attr_data_read(vol, &list, buf, list.data_size, 0);
		if (ret < 0) {
			free(buf);
			goto done;
		}
		free(list.runs);
		list.runs = NULL;
		list.value = buf;
		list.value_len = (uint32_t)list.data_size;
		list.non_resident = false;
	}
	ext = malloc(rs);
	if (!ext) {
		ret = iw_diag_fail(vol->d, -ENOMEM, SCAN_E_NO_MEMORY,
				   "record buffer");
		goto done;
	}
	ret = -ENOENT;
	for (o = 0;;) {
		struct ntfs_attr_list_entry le;
		uint64_t ext_num;
		const uint8_t *rec2;
		int r;

		r = ntfs_attr_list_next(list.value, list.value_len, &o, &le,
					NULL);
		if (r < 0) {
			struct iw_diag tmp = { 0 };
			size_t o2 = o;

			(void)ntfs_attr_list_next(list.value, list.value_len,
						  &o2, &le, &tmp);
			ret = iw_diag_fail(vol->d, r,
					   tmp.n ? tmp.e[0].code
						 : SCAN_E_NTFS_ATTRIBUTE,
					   "MFT record %" PRIu64 ": %s", mft,
					   tmp.n ? tmp.e[0].message
						 : "attribute list");
			goto done;
		}
		if (r == 0)
			break;
		if (le.type == AT_ATTRIBUTE_LIST) {
			/* the list cannot live in a record it lists */
			ret = iw_diag_fail(vol->d, -ELOOP, SCAN_E_NTFS_LOOP,
					   "MFT record %" PRIu64
					   ": the attribute list lists itself",
					   mft);
			goto done;
		}
		if (le.type != w->type || !attr_name_is(le.name, le.name_len, w))
			continue;
		ext_num = le.mft;
		if (have && w->sizes_only)
			break;
		if (ext_num == mft) {
			rec2 = rec;
		} else {
			r = read_record(vol, ext_num, ext);
			if (r < 0) {
				ret = r;
				goto done;
			}
			/* an extension record names its base: a list
			 * pointing at someone else's record is refused */
			if (!(get_le16(ext + REC_FLAGS) & REC_IN_USE) ||
			    MFT_REF_NUMBER(get_le64(ext + REC_BASE)) != mft ||
			    get_le16(ext + REC_SEQ) != le.seq) {
				ret = iw_diag_fail(vol->d, -EINVAL,
						   SCAN_E_NTFS_RECORD,
						   "MFT record %" PRIu64
						   " is not an extension of "
						   "%" PRIu64,
						   ext_num, mft);
				goto done;
			}
			rec2 = ext;
		}
		r = attr_find_in_record(vol, ext_num, rec2, w, true,
					le.lowest_vcn, out, &have, &next_vcn);
		if (r == -ENOENT)
			r = iw_diag_fail(vol->d, -EINVAL,
					 SCAN_E_NTFS_ATTRIBUTE,
					 "MFT record %" PRIu64
					 ": attribute 0x%" PRIx32
					 " listed in record %" PRIu64
					 " is not there",
					 mft, w->type, ext_num);
		if (r < 0) {
			ret = r;
			goto done;
		}
		ret = 0;
		if (!out->non_resident)
			break;
	}
done:
	attr_data_free(&list);
	if (ret == 0 && out->non_resident && !w->sizes_only) {
		/* the runs must cover what holds data */
		uint64_t mapped = next_vcn << vol->cluster_shift;

		if (mapped < out->initialized_size)
			ret = iw_diag_fail(vol->d, -EINVAL,
					   SCAN_E_NTFS_RUNLIST,
					   "MFT record %" PRIu64
					   ": attribute 0x%" PRIx32
					   " runs map %" PRIu64
					   " bytes of %" PRIu64,
					   mft, w->type, mapped,
					   out->initialized_size);
	}
	if (ret < 0)
		attr_data_free(out);
	return ret;
}

/* ---- names --------------------------------------------------------- */

static uint16_t vol_upcase(const struct ntfs_vol *vol, uint16_t c)
{
	if (vol->upcase)
		return vol->upcase[c];
	return c >= 'a' && c <= 'z' ? (uint16_t)(c - 32) : c;
}

/* NTFS collation of file names (COLLATION_FILE_NAME): units compared
 * after upcasing, then the shorter first. a is host-order, b on-disk. */
static int name_collate(const struct ntfs_vol *vol, const uint16_t *a,
			size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = MIN(alen, blen);

	for (size_t i = 0; i < n; i++) {
		uint16_t ca = vol_upcase(vol, a[i]);
		uint16_t cb = vol_upcase(vol, get_le16(b + 2 * i));

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* One path component, UTF-8 -> UTF-16 (host order). -EINVAL for bad
 * UTF-8 or a name longer than NTFS allows. */
static int utf8_to_utf16(const char *s, size_t len, uint16_t *out,
			 size_t max, size_t *ret_n)
{
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		uint8_t c = (uint8_t)s[i];
		uint32_t cp;
		unsigned more;

		if (c < 0x80) {
			cp = c;
			more = 0;
		} else if ((c & 0xe0) == 0xc0) {
			cp = c & 0x1f;
			more = 1;
		} else if ((c & 0xf0) == 0xe0) {
			cp = c & 0x0f;
			more = 2;
		} else if ((c & 0xf8) == 0xf0) {
			cp = c & 0x07;
			more = 3;
		} else {
			return -EINVAL;
		}
		if (len - i - 1 < more)
			return -EINVAL;
		for (unsigned k = 1; k <= more; k++) {
			uint8_t cc = (uint8_t)s[i + k];

			if ((cc & 0xc0) != 0x80)
				return -EINVAL;
			cp = cp << 6 | (cc & 0x3f);
		}
		i += 1 + more;
		if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			return -EINVAL;
		if (cp >= 0x10000) {
			if (n + 2 > max)
				return -EINVAL;
			cp -= 0x10000;
			out[n++] = (uint16_t)(0xd800 | cp >> 10);
			out[n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			if (n + 1 > max)
				return -EINVAL;
			out[n++] = (uint16_t)cp;
		}
	}
	*ret_n = n;
	return 0;
}

/* ---- directories ($I30) -------------------------------------------- */

struct ntfs_dir {
	uint64_t mft;
	struct ntfs_attr_data root;  /* $INDEX_ROOT value */
	struct ntfs_attr_data alloc; /* $INDEX_ALLOCATION, when present */
	bool have_alloc;
	uint32_t block_size;
	unsigned vcn_shift; /* bytes = vcn << vcn_shift */
};

static const uint16_t i30_name[4] = { '$', 'I', '3', '0' };

static void dir_close(struct ntfs_dir *dir)
{
	attr_data_free(&dir->root);
	attr_data_free(&dir->alloc);
}

static int dir_open(struct ntfs_vol *vol, uint64_t mft, uint16_t seq,
		    struct ntfs_dir *dir)
{
	struct attr_want root_want = { AT_INDEX_ROOT, i30_name, 4, false };
	struct attr_want alloc_want = { AT_INDEX_ALLOCATION, i30_name, 4,
					false };
	_cleanup_free_ uint8_t *rec = malloc(vol->info.mft_record_size);
	const uint8_t *v;
	uint32_t bs;
	int ret;

	memset(dir, 0, sizeof(*dir));
	dir->mft = mft;
	if (!rec)
		return iw_diag_fail(vol->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "record buffer");
	ret = read_base_record(vol, mft, seq, rec);
	if (ret < 0)
		return ret;
	if (!(get_le16(rec + REC_FLAGS) & REC_IS_DIRECTORY))
		return -ENOTDIR;
	ret = attr_load(vol, mft, rec, &root_want, &dir->root);
	if (ret == -ENOENT)
		ret = iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_INDEX,
				   "directory %" PRIu64 " has no $INDEX_ROOT",
				   mft);
	if (ret < 0)
		goto fail;
	if (dir->root.non_resident || dir->root.value_len < IR_HEADER + IH_SIZE) {
		ret = iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_INDEX,
				   "directory %" PRIu64 ": index root of %" PRIu32
				   " bytes",
				   mft, dir->root.value_len);
		goto fail;
	}
	v = dir->root.value;
	if (get_le32(v + IR_TYPE) != AT_FILE_NAME ||
	    get_le32(v + IR_COLLATION) != COLLATION_FILE_NAME) {
		ret = iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_INDEX,
				   "directory %" PRIu64
				   ": $I30 indexes 0x%" PRIx32
				   " with collation %" PRIu32,
				   mft, get_le32(v + IR_TYPE),
				   get_le32(v + IR_COLLATION));
		goto fail;
	}
	bs = get_le32(v + IR_BLOCK_SIZE);
	if (!is_power_of_2(bs) || bs < NTFS_MIN_RECORD ||
	    bs > NTFS_MAX_RECORD) {
		ret = iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_INDEX,
				   "directory %" PRIu64
				   ": index block size %" PRIu32,
				   mft, bs);
		goto fail;
	}
	dir->block_size = bs;
	/* VCNs of index blocks count clusters, or 512-byte units when a
	 * block is smaller than a cluster (ntfs-3g ntfs_index_ctx_get) */
	dir->vcn_shift = bs >= vol->info.cluster_size ? vol->cluster_shift : 9;
	ret = attr_load(vol, mft, rec, &alloc_want, &dir->alloc);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		goto fail;
	if (!dir->alloc.non_resident) {
		ret = iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_INDEX,
				   "directory %" PRIu64
				   ": resident $INDEX_ALLOCATION",
				   mft);
		goto fail;
	}
	if (dir->alloc.data_size > NTFS_MAX_INDEX_ALLOC) {
		ret = ntfs_limit(vol->d,
				 "directory %" PRIu64 ": index of %" PRIu64
				 " bytes",
				 mft, dir->alloc.data_size);
		goto fail;
	}
	dir->have_alloc = true;
	return 0;
fail:
	dir_close(dir);
	return ret;
}

/* The index block at vcn into buf (block_size), fixed up; its header
 * then starts at buf + INDX_HEADER. */
static int dir_read_block(struct ntfs_vol *vol, const struct ntfs_dir *dir,
			  uint64_t vcn, uint8_t *buf)
{
	uint64_t off;
	int ret;

	if (!dir->have_alloc)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_INDEX,
				    "directory %" PRIu64
				    ": sub-node without $INDEX_ALLOCATION",
				    dir->mft);
	off = vcn << dir->vcn_shift;
	if (vcn > (UINT64_MAX >> dir->vcn_shift) || off % dir->block_size ||
	    !range_ok(off, dir->block_size, dir->alloc.data_size))
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_INDEX,
				    "directory %" PRIu64
				    ": sub-node VCN %" PRIu64
				    " outside the index",
				    dir->mft, vcn);
	ret = attr_data_read(vol, &dir->alloc, buf, dir->block_size, off);
	if (ret < 0)
		return ret;
	ret = ntfs_apply_fixups(buf, dir->block_size, "INDX", NULL);
	if (ret < 0) {
		struct iw_diag tmp = { 0 };

		(void)ntfs_apply_fixups(buf, dir->block_size, "INDX", &tmp);
		return iw_diag_fail(vol->d, ret,
				    tmp.n ? tmp.e[0].code : SCAN_E_NTFS_FIXUP,
				    "directory %" PRIu64
				    ", index block %" PRIu64 ": %s",
				    dir->mft, vcn,
				    tmp.n ? tmp.e[0].message : "fixups");
	}
	if (get_le64(buf + INDX_VCN) != vcn)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_INDEX,
				    "directory %" PRIu64
				    ": index block %" PRIu64 " says it is %" PRIu64,
				    dir->mft, vcn, get_le64(buf + INDX_VCN));
	return 0;
}

/* Run ntfs_index_next and, on a failure, record it with the node. */
static int dir_entry_next(struct ntfs_vol *vol, const struct ntfs_dir *dir,
			  uint64_t node, const uint8_t *h, size_t len,
			  size_t *pos, struct ntfs_index_entry *e)
{
	struct iw_diag tmp = { 0 };
	int ret = ntfs_index_next(h, len, pos, e, &tmp);

	if (ret < 0)
		return iw_diag_fail(vol->d, ret,
				    tmp.n ? tmp.e[0].code : SCAN_E_NTFS_INDEX,
				    "directory %" PRIu64 ", %s%" PRIu64 ": %s",
				    dir->mft,
				    node == UINT64_MAX ? "index root" :
							 "index block ",
				    node == UINT64_MAX ? 0 : node,
				    tmp.n ? tmp.e[0].message : "entry");
	return ret;
}

/* Find name (host-order UTF-16) in dir: B+tree descent in collation
 * order, every node at most once on the path. */
static int dir_find(struct ntfs_vol *vol, const struct ntfs_dir *dir,
		    const uint16_t *name, size_t name_len,
		    struct ntfs_index_entry *found)
{
	uint64_t path[NTFS_MAX_INDEX_DEPTH];
	_cleanup_free_ uint8_t *buf = NULL;
	const uint8_t *h = dir->root.value + IR_HEADER;
	size_t len = dir->root.value_len - IR_HEADER;
	uint64_t node = UINT64_MAX;
	unsigned depth = 0;

	for (;;) {
		struct ntfs_index_entry e;
		size_t pos = 0;
		uint64_t child;
		int ret;

		for (unsigned n = 0;; n++) {
			ret = dir_entry_next(vol, dir, node, h, len, &pos, &e);
			if (ret < 0)
				return ret;
			if (ret == 0)
				return iw_diag_fail(vol->d, -EINVAL,
						    SCAN_E_NTFS_INDEX,
						    "directory %" PRIu64
						    ": node without an end "
						    "entry",
						    dir->mft);
			if (e.last)
				break;
			int c = name_collate(vol, name, name_len, e.name,
					     e.name_len);
			if (c == 0) {
				*found = e;
				return 0;
			}
			if (c < 0)
				break;
		}
		if (!e.has_subnode)
			return -ENOENT;
		child = e.subnode_vcn;
		for (unsigned i = 0; i < depth; i++)
			if (path[i] == child)
				return iw_diag_fail(vol->d, -ELOOP,
						    SCAN_E_NTFS_LOOP,
						    "directory %" PRIu64
						    ": index block %" PRIu64
						    " is its own ancestor",
						    dir->mft, child);
		if (depth >= NTFS_MAX_INDEX_DEPTH)
			return ntfs_limit(vol->d,
					  "directory %" PRIu64
					  ": index deeper than %u",
					  dir->mft, NTFS_MAX_INDEX_DEPTH);
		path[depth++] = child;
		if (!buf) {
			buf = malloc(dir->block_size);
			if (!buf)
				return iw_diag_fail(vol->d, -ENOMEM,
						    SCAN_E_NO_MEMORY,
						    "index block");
		}
		ret = dir_read_block(vol, dir, child, buf);
		if (ret < 0)
			return ret;
		node = child;
		h = buf + INDX_HEADER;
		len = dir->block_size - INDX_HEADER;
	}
}

/* ---- volume -------------------------------------------------------- */

static int vol_load_mft(struct ntfs_vol *vol)
{
	static const struct attr_want data_want = { AT_DATA, NULL, 0, false };
	uint32_t rs = vol->info.mft_record_size;
	_cleanup_free_ uint8_t *rec = malloc(rs);
	struct ntfs_attr_data mft = { 0 };
	int ret;

	if (!rec)
		return iw_diag_fail(vol->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "record buffer");
	/* record 0 is where the boot sector says: read it directly, it
	 * maps the rest */
	ret = vol_read(vol, rec, rs, vol->info.mft_offset);
	if (ret < 0)
		return ret;
	ret = ntfs_apply_fixups(rec, rs, "FILE", vol->d);
	if (ret < 0)
		return ret;
	if (!(get_le16(rec + REC_FLAGS) & REC_IN_USE) ||
	    get_le64(rec + REC_BASE) != 0)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_MFT,
				    "$MFT record 0 not in use or not a base "
				    "record");
	/* until its runs are known, record 0 is the only one readable */
	vol->mft_bootstrap = true;
	vol->mft_records = 0;
	ret = attr_load(vol, 0, rec, &data_want, &mft);
	vol->mft_bootstrap = false;
	vol->mft.runs = NULL;
	vol->mft.nruns = 0;
	if (ret == -ENOENT)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_MFT,
				    "$MFT has no $DATA");
	if (ret < 0)
		return iw_diag_fail(vol->d, ret, SCAN_E_NTFS_MFT,
				    "cannot map the $MFT");
	if (!mft.non_resident || mft.nruns == 0 ||
	    mft.runs[0].lcn << vol->cluster_shift != vol->info.mft_offset) {
		attr_data_free(&mft);
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_MFT,
				    "$MFT's $DATA does not start at the "
				    "boot sector's $MFT LCN");
	}
	vol->mft = mft;
	vol->mft_records = MIN(mft.initialized_size / rs, NTFS_MAX_MFT_RECORDS);
	/* the system files (0-15) are always there */
	if (vol->mft_records <= NTFS_MFT_RECORD_UPCASE)
		return iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_MFT,
				    "$MFT holds only %" PRIu64 " records",
				    vol->mft_records);
	return 0;
}

static void vol_load_volume_info(struct ntfs_vol *vol)
{
	static const struct attr_want name_want = { AT_VOLUME_NAME, NULL, 0,
						    false };
	static const struct attr_want info_want = {
		AT_VOLUME_INFORMATION, NULL, 0, false
	};
	_cleanup_free_ uint8_t *rec = malloc(vol->info.mft_record_size);
	struct ntfs_attr_data a;
	struct ntfs_info *info = &vol->info;
	int ret;

	if (!rec || read_base_record(vol, NTFS_MFT_RECORD_VOLUME, 0, rec) < 0)
		return;
	ret = attr_load(vol, NTFS_MFT_RECORD_VOLUME, rec, &info_want, &a);
	if (ret < 0) {
		if (ret == -ENOENT)
			(void)iw_diag_fail(vol->d, -EINVAL,
					   SCAN_E_NTFS_ATTRIBUTE,
					   "$Volume has no "
					   "$VOLUME_INFORMATION");
		return;
	}
	if (a.non_resident || a.value_len < 12) {
		attr_data_free(&a);
		(void)iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				   "$VOLUME_INFORMATION malformed");
		return;
	}
	info->major = a.value[8];
	info->minor = a.value[9];
	info->volume_flags = get_le16(a.value + 10);
	info->dirty = info->volume_flags & NTFS_VOLUME_IS_DIRTY;
	attr_data_free(&a);
	ret = attr_load(vol, NTFS_MFT_RECORD_VOLUME, rec, &name_want, &a);
	if (ret == 0) {
		/* at most 128 units (ntfs-3g NTFS_MAX_LABEL_LEN is 128
		 * too); longer or odd is not a label */
		if (a.non_resident || a.value_len % 2 || a.value_len > 256) {
			attr_data_free(&a);
			(void)iw_diag_fail(vol->d, -EINVAL,
					   SCAN_E_NTFS_ATTRIBUTE,
					   "$VOLUME_NAME malformed");
			return;
		}
		utf16_to_utf8(a.value, a.value_len / 2, false, info->label);
		attr_data_free(&a);
	} else if (ret != -ENOENT) {
		return;
	}
	info->have_volume_info = true;
}

static void vol_load_upcase(struct ntfs_vol *vol)
{
	static const struct attr_want data_want = { AT_DATA, NULL, 0, false };
	_cleanup_free_ uint8_t *rec = malloc(vol->info.mft_record_size);
	_cleanup_free_ uint8_t *raw = NULL;
	struct ntfs_attr_data a;
	uint16_t *up;
	int ret;

	if (!rec || read_base_record(vol, NTFS_MFT_RECORD_UPCASE, 0, rec) < 0)
		return;
	ret = attr_load(vol, NTFS_MFT_RECORD_UPCASE, rec, &data_want, &a);
	if (ret < 0)
		return;
	/* exactly one unit per UTF-16 unit; anything else and names are
	 * compared with ASCII folding (all ntfs-3g's mkntfs and Windows
	 * write are 128 KiB) */
	if (a.data_size != 2 * NTFS_UPCASE_UNITS) {
		(void)iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				   "$UpCase of %" PRIu64
				   " bytes; ASCII case folding used",
				   a.non_resident ? a.data_size
						  : (uint64_t)a.value_len);
		attr_data_free(&a);
		return;
	}
	raw = malloc(2 * NTFS_UPCASE_UNITS);
	up = malloc(sizeof(*up) * NTFS_UPCASE_UNITS);
	if (!raw || !up ||
	    attr_data_read(vol, &a, raw, 2 * NTFS_UPCASE_UNITS, 0) < 0) {
		free(up);
		attr_data_free(&a);
		return;
	}
	attr_data_free(&a);
	for (unsigned i = 0; i < NTFS_UPCASE_UNITS; i++)
		up[i] = get_le16(raw + 2 * i);
	/* a table that does not even fold ASCII is not one */
	for (unsigned c = 0; c < 0x80; c++)
		if (up[c] != (c >= 'a' && c <= 'z' ? c - 32 : c)) {
			(void)iw_diag_fail(vol->d, -EINVAL,
					   SCAN_E_NTFS_ATTRIBUTE,
					   "$UpCase maps 0x%02x to 0x%04x; "
					   "ASCII case folding used",
					   c, up[c]);
			free(up);
			return;
		}
	vol->upcase = up;
}

int ntfs_open(const struct iw_view *part, struct iw_diag *d,
	      struct ntfs_vol **ret)
{
	uint8_t boot[512];
	struct ntfs_vol *vol;
	int r;

	*ret = NULL;
	if (part->size < sizeof(boot))
		return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_BOOT,
				    "volume of %" PRIu64 " bytes", part->size);
	r = iw_view_read(part, boot, sizeof(boot), 0);
	if (r < 0)
		return iw_diag_fail(d, r, SCAN_E_IO,
				    "cannot read the boot sector: %s",
				    strerror(-r));
	vol = calloc(1, sizeof(*vol));
	if (!vol)
		return iw_diag_fail(d, -ENOMEM, SCAN_E_NO_MEMORY, "volume");
	vol->part = part;
	vol->d = d;
	r = ntfs_parse_boot(boot, sizeof(boot), part->size, &vol->info, d);
	if (r < 0)
		goto fail;
	vol->cluster_shift = (unsigned)__builtin_ctz(vol->info.cluster_size);
	vol->total_clusters = vol->info.total_size >> vol->cluster_shift;
	r = vol_load_mft(vol);
	if (r < 0)
		goto fail;
	vol_load_upcase(vol);
	vol_load_volume_info(vol);
	*ret = vol;
	return 0;
fail:
	ntfs_close(vol);
	return r;
}

void ntfs_close(struct ntfs_vol *vol)
{
	if (!vol)
		return;
	attr_data_free(&vol->mft);
	free(vol->upcase);
	for (unsigned i = 0; i < NTFS_RECORD_CACHE; i++)
		free(vol->cache[i].buf);
	free(vol);
}

const struct ntfs_info *ntfs_get_info(const struct ntfs_vol *vol)
{
	return &vol->info;
}

/* ---- lookups ------------------------------------------------------- */

int ntfs_lookup(struct ntfs_vol *vol, const char *path, uint64_t *ret_mft)
{
	uint64_t cur = NTFS_MFT_RECORD_ROOT;
	uint16_t seq = 0;
	unsigned depth = 0;
	const char *p = path;
	uint16_t name[255];

	for (;;) {
		struct ntfs_index_entry e = { 0 };
		struct ntfs_dir dir;
		size_t clen, nlen;
		int ret;

		while (*p == '\\' || *p == '/')
			p++;
		if (!*p)
			break;
		clen = strcspn(p, "\\/");
		if (utf8_to_utf16(p, clen, name, ARRAY_SIZE(name), &nlen) < 0)
			return -ENOENT;
		p += clen;
		if (++depth > NTFS_MAX_PATH_DEPTH)
			return ntfs_limit(vol->d, "path deeper than %u",
					  NTFS_MAX_PATH_DEPTH);
		ret = dir_open(vol, cur, seq, &dir);
		if (ret == -ENOTDIR)
			return -ENOENT;
		if (ret < 0)
			return ret;
		ret = dir_find(vol, &dir, name, nlen, &e);
		dir_close(&dir);
		if (ret < 0)
			return ret;
		cur = e.mft;
		seq = e.seq;
	}
	*ret_mft = cur;
	return 0;
}

int ntfs_stat(struct ntfs_vol *vol, uint64_t mft, struct ntfs_stat *st)
{
	static const struct attr_want data_want = { AT_DATA, NULL, 0, true };
	_cleanup_free_ uint8_t *rec = malloc(vol->info.mft_record_size);
	struct ntfs_attr_data a;
	int ret;

	memset(st, 0, sizeof(*st));
	st->mft = mft;
	if (!rec)
		return iw_diag_fail(vol->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "record buffer");
	ret = read_base_record(vol, mft, 0, rec);
	if (ret < 0)
		return ret;
	st->directory = get_le16(rec + REC_FLAGS) & REC_IS_DIRECTORY;
	if (st->directory)
		return 0;
	ret = attr_load(vol, mft, rec, &data_want, &a);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	st->resident = !a.non_resident;
	st->size = a.non_resident ? a.data_size : a.value_len;
	st->compressed = a.flags & ATTR_COMPRESSION_MASK;
	st->encrypted = a.flags & ATTR_ENCRYPTED;
	st->sparse = a.flags & ATTR_SPARSE;
	attr_data_free(&a);
	return 0;
}

/* ---- listing ------------------------------------------------------- */

struct list_frame {
	uint8_t *buf; /* the block (NULL: the root) */
	const uint8_t *h;
	size_t len;
	size_t pos;
	size_t pending; /* an entry whose sub-node was just walked */
	uint64_t node;
};

int ntfs_list_dir(struct ntfs_vol *vol, uint64_t dir_mft, ntfs_dir_cb cb,
		  void *ud)
{
	struct list_frame st[NTFS_MAX_INDEX_DEPTH + 1];
	_cleanup_free_ uint8_t *visited = NULL;
	char name[NTFS_NAME_MAX];
	struct ntfs_dir dir;
	unsigned top = 0, seen = 0, reported = 0;
	int ret;

	ret = dir_open(vol, dir_mft, 0, &dir);
	if (ret == -ENOTDIR)
		return iw_diag_fail(vol->d, -ENOTDIR, SCAN_E_NTFS_INDEX,
				    "MFT record %" PRIu64
				    " is not a directory",
				    dir_mft);
	if (ret < 0)
		return ret;
	if (dir.have_alloc) {
		/* every block once: a walk that comes back to one is a loop
		 * (or a DAG, no better) */
		uint64_t blocks = dir.alloc.data_size / dir.block_size;

		visited = calloc(blocks / 8 + 1, 1);
		if (!visited) {
			ret = iw_diag_fail(vol->d, -ENOMEM, SCAN_E_NO_MEMORY,
					   "index bitmap");
			goto out;
		}
	}
	st[0] = (struct list_frame){ NULL, dir.root.value + IR_HEADER,
				     dir.root.value_len - IR_HEADER, 0,
				     SIZE_MAX, UINT64_MAX };
	top = 1;
	while (top) {
		struct list_frame *f = &st[top - 1];
		struct ntfs_index_entry e;
		size_t before;

		if (f->pending != SIZE_MAX) {
			before = f->pending;
			f->pending = SIZE_MAX;
			ret = dir_entry_next(vol, &dir, f->node, f->h, f->len,
					     &before, &e);
			if (ret < 0)
				goto out;
			goto emit;
		}
		before = f->pos;
		ret = dir_entry_next(vol, &dir, f->node, f->h, f->len,
				     &f->pos, &e);
		if (ret < 0)
			goto out;
		if (ret == 0) {
			free(f->buf);
			top--;
			continue;
		}
		if (++seen > NTFS_MAX_INDEX_ENTRIES) {
			ret = ntfs_limit(vol->d,
					 "directory %" PRIu64
					 ": more than %u index entries",
					 dir_mft, NTFS_MAX_INDEX_ENTRIES);
			goto out;
		}
		if (e.has_subnode) {
			uint64_t child = e.subnode_vcn, blk;
			struct list_frame *c;

			if (top > NTFS_MAX_INDEX_DEPTH) {
				ret = ntfs_limit(vol->d,
						 "directory %" PRIu64
						 ": index deeper than %u",
						 dir_mft,
						 NTFS_MAX_INDEX_DEPTH);
				goto out;
			}
			f->pending = before;
			c = &st[top];
			*c = (struct list_frame){ malloc(dir.block_size),
						  NULL, 0, 0, SIZE_MAX,
						  child };
			if (!c->buf) {
				ret = iw_diag_fail(vol->d, -ENOMEM,
						   SCAN_E_NO_MEMORY,
						   "index block");
				goto out;
			}
			top++;
			ret = dir_read_block(vol, &dir, child, c->buf);
			if (ret < 0)
				goto out;
			/* dir_read_block checked child's range */
			blk = (child << dir.vcn_shift) / dir.block_size;
			if (visited[blk / 8] & (1u << (blk % 8))) {
				ret = iw_diag_fail(vol->d, -ELOOP,
						   SCAN_E_NTFS_LOOP,
						   "directory %" PRIu64
						   ": index block %" PRIu64
						   " reached twice",
						   dir_mft, child);
				goto out;
			}
			visited[blk / 8] |= (uint8_t)(1u << (blk % 8));
			c->h = c->buf + INDX_HEADER;
			c->len = dir.block_size - INDX_HEADER;
			continue;
		}
emit:
		if (e.last || e.name_space == FN_NAMESPACE_DOS)
			continue;
		if (++reported > NTFS_MAX_DIR_ENTRIES) {
			ret = ntfs_limit(vol->d,
					 "directory %" PRIu64
					 ": more than %u entries",
					 dir_mft, NTFS_MAX_DIR_ENTRIES);
			goto out;
		}
		utf16_to_utf8(e.name, e.name_len, false, name);
		ret = cb(ud, name, e.mft,
			 e.file_attributes & FILE_ATTR_DIRECTORY);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	while (top)
		free(st[--top].buf);
	dir_close(&dir);
	return ret;
}

/* ---- file data ----------------------------------------------------- */

static int file_read(const struct iw_view *v, void *buf, size_t len,
		     uint64_t off)
{
	struct ntfs_file *f = v->priv;

	return attr_data_read(f->vol, &f->data, buf, len, off);
}

int ntfs_file_open(struct ntfs_vol *vol, uint64_t mft, struct ntfs_file **ret)
{
	static const struct attr_want data_want = { AT_DATA, NULL, 0, false };
	_cleanup_free_ uint8_t *rec = malloc(vol->info.mft_record_size);
	struct ntfs_file *f;
	int r;

	*ret = NULL;
	if (!rec)
		return iw_diag_fail(vol->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "record buffer");
	r = read_base_record(vol, mft, 0, rec);
	if (r < 0)
		return r;
	if (get_le16(rec + REC_FLAGS) & REC_IS_DIRECTORY)
		return -EISDIR;
	f = calloc(1, sizeof(*f));
	if (!f)
		return iw_diag_fail(vol->d, -ENOMEM, SCAN_E_NO_MEMORY, "file");
	r = attr_load(vol, mft, rec, &data_want, &f->data);
	if (r == -ENOENT)
		r = iw_diag_fail(vol->d, -EINVAL, SCAN_E_NTFS_ATTRIBUTE,
				 "MFT record %" PRIu64 " has no $DATA", mft);
	if (r < 0) {
		free(f);
		return r;
	}
	/* compressed units would need LZNT1 and encrypted data a key:
	 * neither is read (the hives and hiberfil.sys are neither) */
	if (f->data.flags & (ATTR_COMPRESSION_MASK | ATTR_ENCRYPTED)) {
		r = iw_diag_fail(vol->d, -EOPNOTSUPP, SCAN_E_NTFS_UNSUPPORTED,
				 "MFT record %" PRIu64
				 ": $DATA is %s",
				 mft,
				 f->data.flags & ATTR_ENCRYPTED ? "encrypted"
								: "compressed");
		attr_data_free(&f->data);
		free(f);
		return r;
	}
	f->vol = vol;
	iw_view_init_custom(&f->view,
			    f->data.non_resident ? f->data.data_size
						 : f->data.value_len,
			    file_read, f);
	/* the file's reads are charged to the volume's budget too, where
	 * they land; the view's own is only a second fence */
	*ret = f;
	return 0;
}

const struct iw_view *ntfs_file_view(const struct ntfs_file *f)
{
	return &f->view;
}

void ntfs_file_close(struct ntfs_file *f)
{
	if (!f)
		return;
	attr_data_free(&f->data);
	free(f);
}
