/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 (versions 2 and 3).
 *
 * The spec is qemu's docs/interop/qcow2.txt; what qemu 7.2 refuses to open
 * is in block/qcow2.c qcow2_do_open() and qcow2-snapshot.c. We check the
 * same things (and a few more: tables past the end of the file, tables
 * overlapping each other, L1/refcount entries pointing outside the file)
 * and report external references (backing file, data file) instead of
 * following them: those are the qcow2 attacks (OSSA-2015-014,
 * CVE-2024-32498, CVE-2024-4467).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "qcow2.h"

/* qemu's caps (block/qcow2.h), restated: an image beyond them is one qemu
 * will not open, and they are what keeps our table reads bounded. */
#define QCOW2_MAX_L1_BYTES (32 * MiB)	   /* QCOW_MAX_L1_SIZE */
#define QCOW2_MAX_REFTABLE_BYTES (8 * MiB) /* QCOW_MAX_REFTABLE_SIZE */
#define QCOW2_MAX_SNAPSHOTS 65536	   /* QCOW_MAX_SNAPSHOTS */
#define QCOW2_SNAPSHOT_HEADER_SIZE 40	   /* QCowSnapshotHeader */
#define QCOW2_SNAPSHOT_KNOWN_EXTRA 24	   /* QCowSnapshotExtraData */
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024	   /* QCOW_MAX_SNAPSHOT_EXTRA_DATA */
#define QCOW2_MAX_SNAPSHOTS_BYTES (UINT64_C(1024) * QCOW2_MAX_SNAPSHOTS)
#define QCOW2_MAX_BACKING_NAME 1023 /* qcow2.txt, qcow2_do_open */
#define QCOW2_MAX_BITMAPS 65535	    /* QCOW2_MAX_BITMAPS */
#define QCOW2_MAX_BITMAP_DIRECTORY_BYTES (UINT64_C(1024) * QCOW2_MAX_BITMAPS)
/* The block layer refuses devices longer than BDRV_MAX_LENGTH (INT64_MAX
 * aligned down to 1 GiB); qcow2_do_open refuses an L1 index past INT_MAX
 * ("Image is too big"). */
#define QCOW2_MAX_LENGTH UINT64_C(0x7fffffffc0000000)
#define QCOW2_MAX_L1_INDEX UINT64_C(0x7fffffff)
/* Extended L2 entries split a cluster in 32 subclusters of >= 512 bytes. */
#define QCOW2_EXTL2_MIN_CLUSTER_BITS 14

/* header extension types (qcow2.txt "Header extensions") */
#define QCOW2_EXT_END 0u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO_HEADER 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u
#define QCOW2_FEATURE_ENTRY_SIZE 48
#define QCOW2_FEATURE_NAME_SIZE 46
#define QCOW2_BITMAPS_EXT_SIZE 24
#define QCOW2_CRYPTO_EXT_SIZE 16

/* bitmap directory entries (qcow2.txt "Bitmap directory"; qemu
 * block/qcow2-bitmap.c check_dir_entry) */
#define QCOW2_BITMAP_ENTRY_SIZE 24
#define QCOW2_BITMAP_MAX_NAME 1023
#define QCOW2_BITMAP_MAX_TABLE_ENTRIES 0x8000000
#define QCOW2_BITMAP_MAX_PHYS_BYTES 0x20000000
#define QCOW2_BITMAP_MIN_GRANULARITY_BITS 9
#define QCOW2_BITMAP_MAX_GRANULARITY_BITS 31
#define QCOW2_BITMAP_FLAG_IN_USE 1u
#define QCOW2_BITMAP_FLAG_AUTO 2u
#define QCOW2_BITMAP_TYPE_DIRTY_TRACKING 1

/* Report bounds: the tables are still walked whole, but only this many
 * snapshots are listed and this many bad entries get their own finding. */
#define QCOW2_REPORT_SNAPSHOTS 64
#define QCOW2_REPORT_SNAPSHOT_NAME 1024
#define QCOW2_REPORT_BAD_ENTRIES 4
/* L1 and refcount tables are read in chunks of this size */
#define QCOW2_TABLE_CHUNK (64 * KiB)

static bool qcow2_match(const struct iw_view *v, const uint8_t *head,
			size_t head_len)
{
	uint8_t buf[8] = { 0 };

	/* qemu's qcow2_probe: magic and version >= 2 on a zero-filled
	 * 512-byte buffer; v1 belongs to the qcow reader. */
	memcpy(buf, head, MIN(head_len, sizeof(buf)));
	return get_be32(buf) == QCOW2_MAGIC && get_be32(buf + 4) >= 2;
}

/* ERANGE and E2BIG became findings (iw_read_struct): the header is then
 * unusable; anything else is an I/O error the caller must see. */
static int qcow2_read_failed(int ret)
{
	return ret == -ERANGE || ret == -E2BIG ? -EINVAL : ret;
}

static void qcow2_past_eof(const struct iw_view *v, struct iw_report *r,
			   const char *what, uint64_t off, uint64_t len)
{
	if (v->partial)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "%s at offset %" PRIu64 " is beyond the inspected part",
			   what, off);
	else
		iw_finding(r, IW_F_TRUNCATED,
			   "%s (%" PRIu64 " bytes at offset %" PRIu64
			   ") ends past the end of the file (%" PRIu64 " bytes)",
			   what, len, off, v->size);
}

/* qcow2_validate_table(): the table must fit qemu's cap, start on a
 * cluster boundary and end before INT64_MAX. */
static bool qcow2_table_fields_ok(const struct qcow2_header *h,
				  struct iw_report *r, const char *what,
				  uint64_t off, uint64_t entries,
				  uint64_t entry_len, uint64_t max_bytes)
{
	if (entries > max_bytes / entry_len) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "%s has %" PRIu64 " entries (qemu allows %" PRIu64 ")",
			   what, entries, max_bytes / entry_len);
		return false;
	}
	if (off & (h->cluster_size - 1)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s offset %#" PRIx64 " is not cluster aligned", what,
			   off);
		return false;
	}
	if ((uint64_t)INT64_MAX - entries * entry_len < off) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s offset %#" PRIx64 " is out of range", what, off);
		return false;
	}
	return true;
}

struct qcow2_ext_state {
	const uint8_t *feature_table;
	uint32_t feature_table_len;
};

/* One header extension; returns false when qemu would refuse the image. */
static bool qcow2_extension(const struct iw_view *v, struct qcow2_header *h,
			    struct iw_report *r, struct qcow2_ext_state *st,
			    uint32_t magic, const uint8_t *data, uint32_t len,
			    uint64_t file_off)
{
	switch (magic) {
	case QCOW2_EXT_BACKING_FORMAT:
		/* qemu copies it into a 16-byte buffer and refuses longer */
		if (len >= sizeof(h->backing_format)) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "backing format name of %" PRIu32
				   " bytes (qemu allows %zu)",
				   len, sizeof(h->backing_format) - 1);
			return false;
		}
		memcpy(h->backing_format, data, len);
		h->backing_format[len] = '\0';
		h->has_backing_format = true;
		return true;

	case QCOW2_EXT_FEATURE_TABLE:
		st->feature_table = data;
		st->feature_table_len = len;
		return true;

	case QCOW2_EXT_CRYPTO_HEADER:
		if (h->crypt_method != QCOW2_CRYPT_LUKS) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "crypto header extension without LUKS "
				   "encryption");
			return false;
		}
		if (len != QCOW2_CRYPTO_EXT_SIZE) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "crypto header extension of %" PRIu32
				   " bytes (must be %d)",
				   len, QCOW2_CRYPTO_EXT_SIZE);
			return false;
		}
		h->crypto_header_offset = get_be64(data);
		h->crypto_header_length = get_be64(data + 8);
		if (h->crypto_header_offset & (h->cluster_size - 1)) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "LUKS header offset %#" PRIx64
				   " is not cluster aligned",
				   h->crypto_header_offset);
			return false;
		}
		h->has_crypto_header = true;
		return iw_check_table(v, r, h->crypto_header_offset,
				      h->crypto_header_length, "LUKS header");

	case QCOW2_EXT_BITMAPS:
		if (len != QCOW2_BITMAPS_EXT_SIZE) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "bitmaps extension of %" PRIu32
				   " bytes (must be %d)",
				   len, QCOW2_BITMAPS_EXT_SIZE);
			return false;
		}
		/* without the autoclear bit the bitmaps are stale and qemu
		 * ignores the extension */
		if (!(h->autoclear_features & QCOW2_AUTOCLEAR_BITMAPS))
			return true;
		h->nb_bitmaps = get_be32(data);
		h->bitmap_directory_size = get_be64(data + 8);
		h->bitmap_directory_offset = get_be64(data + 16);
		if (get_be32(data + 4) != 0 || h->nb_bitmaps == 0 ||
		    h->nb_bitmaps > QCOW2_MAX_BITMAPS ||
		    (h->bitmap_directory_offset & (h->cluster_size - 1)) ||
		    h->bitmap_directory_size >
			    QCOW2_MAX_BITMAP_DIRECTORY_BYTES) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "bitmaps extension: %" PRIu32
				   " bitmaps, directory of %" PRIu64
				   " bytes at %#" PRIx64,
				   h->nb_bitmaps, h->bitmap_directory_size,
				   h->bitmap_directory_offset);
			return false;
		}
		h->has_bitmaps = true;
		return iw_check_table(v, r, h->bitmap_directory_offset,
				      h->bitmap_directory_size,
				      "bitmap directory");

	case QCOW2_EXT_DATA_FILE:
		/* reported (never opened); qemu keeps the last one */
		h->has_data_file_name = true;
		h->data_file_name_offset = file_off;
		h->data_file_name_size = len;
		iw_reference(r, "data-file", data, len);
		return true;

	default:
		/* unknown extensions are skipped, as qemu does */
		return true;
	}
}

/* Walk [header_length, ext_end) inside the first cluster (area holds the
 * first area_len bytes of the file). Each step advances by >= 8 bytes and
 * the area is at most 2 MiB, so the loop is bounded. */
static bool qcow2_walk_extensions(const struct iw_view *v,
				  struct qcow2_header *h, struct iw_report *r,
				  struct qcow2_ext_state *st,
				  const uint8_t *area, size_t area_len)
{
	uint64_t off = h->header_length, end = h->ext_end;
	bool ok = true;

	while (off < end) {
		uint32_t magic, len;

		/* qcow2_read_extensions: "Header extension too large" */
		if (end - off < 8) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "header extension at offset %" PRIu64
				   " overruns the extension area (ends at %" PRIu64
				   ")",
				   off, end);
			return false;
		}
		if (off + 8 > area_len) {
			qcow2_past_eof(v, r, "qcow2 header extension", off, 8);
			return false;
		}
		magic = get_be32(area + off);
		len = get_be32(area + off + 4);
		off += 8;
		if (len > end - off) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "header extension %#010" PRIx32
				   " at offset %" PRIu64 " (%" PRIu32
				   " bytes) runs past the end of the extension "
				   "area (%" PRIu64 ")",
				   magic, off - 8, len, end);
			return false;
		}
		if (magic == QCOW2_EXT_END)
			return ok;
		if (off + len > area_len) {
			qcow2_past_eof(v, r, "qcow2 header extension", off, len);
			return false;
		}
		if (!qcow2_extension(v, h, r, st, magic, area + off, len, off))
			ok = false;
		off += ((uint64_t)len + 7) & ~UINT64_C(7);
	}
	return ok;
}

/* Incompatible bits we do not know: unsafe, because their meaning may
 * change how every other structure is read. Name them from the image's
 * feature name table when it has one. */
static void qcow2_report_unknown_features(struct iw_report *r,
					  const struct qcow2_header *h,
					  const struct qcow2_ext_state *st)
{
	const uint8_t *names[64] = { NULL };
	uint64_t unknown = h->incompatible_features & ~QCOW2_INCOMPAT_KNOWN;

	for (uint32_t i = 0; st->feature_table &&
			     i + QCOW2_FEATURE_ENTRY_SIZE <= st->feature_table_len;
	     i += QCOW2_FEATURE_ENTRY_SIZE) {
		const uint8_t *e = st->feature_table + i;

		if (e[0] == 0 && e[1] < 64)
			names[e[1]] = e + 2;
	}
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(unknown & (UINT64_C(1) << bit)))
			continue;
		if (names[bit])
			iw_finding(r, IW_F_UNKNOWN_FEATURES,
				   "unknown incompatible feature bit %u (\"%.*s\")",
				   bit, (int)strnlen((const char *)names[bit],
						     QCOW2_FEATURE_NAME_SIZE),
				   (const char *)names[bit]);
		else
			iw_finding(r, IW_F_UNKNOWN_FEATURES,
				   "unknown incompatible feature bit %u", bit);
	}
}

static bool qcow2_backing_file(const struct iw_view *v, struct qcow2_header *h,
			       struct iw_report *r, const uint8_t *area,
			       size_t area_len)
{
	uint64_t off = h->backing_file_offset;
	uint32_t len = h->backing_file_size;
	_cleanup_free_ char *clean = NULL;

	/* qcow2_do_open: "Backing file name too long" */
	if (len > MIN((uint64_t)QCOW2_MAX_BACKING_NAME, h->cluster_size - off)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "backing file name of %" PRIu32
			   " bytes at offset %" PRIu64
			   " (qemu allows 1023, inside the first cluster)",
			   len, off);
		iw_finding(r, IW_F_BACKING_FILE,
			   "the image names a backing file (name unreadable)");
		return false;
	}
	if (off < h->header_length)
		iw_finding(r, IW_F_BAD_FIELD,
			   "backing file name at offset %" PRIu64
			   " overlaps the header (%" PRIu32 " bytes)",
			   off, h->header_length);
	if (off + len > area_len) {
		qcow2_past_eof(v, r, "backing file name", off, len);
		iw_finding(r, IW_F_BACKING_FILE,
			   "the image names a backing file (name unreadable)");
		return false;
	}
	/* an empty name means no backing file to qemu */
	if (len == 0)
		return true;
	clean = iw_sanitize(area + off, len, NULL);
	iw_finding(r, IW_F_BACKING_FILE, "backing file \"%.160s\"%s%s",
		   clean ? clean : "?",
		   h->has_backing_format ? " of format " : "",
		   h->has_backing_format ? h->backing_format : "");
	iw_report_set_backing(r, area + off, len,
			      h->has_backing_format ? h->backing_format : NULL);
	return true;
}

static bool qcow2_v3_fields(const struct iw_view *v, struct qcow2_header *h,
			    struct iw_report *r, const uint8_t *area,
			    size_t area_len)
{
	if (area_len < QCOW2_V3_HEADER_SIZE) {
		qcow2_past_eof(v, r, "qcow2 v3 header", 0,
			       QCOW2_V3_HEADER_SIZE);
		return false;
	}
	h->incompatible_features = get_be64(area + 72);
	h->compatible_features = get_be64(area + 80);
	h->autoclear_features = get_be64(area + 88);
	h->refcount_order = get_be32(area + 96);
	h->header_length = get_be32(area + 100);
	if (h->header_length < QCOW2_V3_HEADER_SIZE) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "header_length %" PRIu32 " is below 104",
			   h->header_length);
		return false;
	}
	if (h->header_length > h->cluster_size) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "header_length %" PRIu32
			   " exceeds the cluster size %" PRIu64,
			   h->header_length, h->cluster_size);
		return false;
	}
	if (h->header_length > area_len) {
		qcow2_past_eof(v, r, "qcow2 header", 0, h->header_length);
		return false;
	}
	/* qcow2.txt "Header padding"; qemu does not check it, but the
	 * extensions that follow are then misaligned */
	if (h->header_length % 8)
		iw_finding(r, IW_F_BAD_FIELD,
			   "header_length %" PRIu32 " is not a multiple of 8",
			   h->header_length);
	/* a field is present only when header_length covers it */
	if (h->header_length > QCOW2_V3_HEADER_SIZE)
		h->compression_type = area[QCOW2_V3_HEADER_SIZE];
	return true;
}

/* Feature bits, encryption, refcount width, compression type. */
static bool qcow2_features(struct qcow2_header *h, struct iw_report *r)
{
	bool ok = true;

	if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY)
		iw_finding(r, IW_F_DIRTY,
			   "dirty bit set: refcounts may need a repair");
	if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
		iw_finding(r, IW_F_CORRUPT_FLAG, "corrupt bit set");
	if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE)
		iw_finding(r, IW_F_DATA_FILE,
			   "external data file bit set: guest data lives in "
			   "another file");
	if ((h->autoclear_features & QCOW2_AUTOCLEAR_DATA_FILE_RAW) &&
	    !(h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "data-file-raw set without an external data file");
		ok = false;
	}

	h->extended_l2 = h->incompatible_features & QCOW2_INCOMPAT_EXTL2;
	h->l2_entry_size = h->extended_l2 ? 16 : 8;
	h->l2_bits = h->cluster_bits - (h->extended_l2 ? 4 : 3);
	if (h->extended_l2 && h->cluster_bits < QCOW2_EXTL2_MIN_CLUSTER_BITS) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "extended L2 entries need clusters of at least 16 "
			   "KiB (cluster_bits %" PRIu32 ")",
			   h->cluster_bits);
		ok = false;
	}

	/* validate_compression_type(): the field and the incompatible bit
	 * must agree, and the type must be one qemu knows */
	if (h->compression_type > QCOW2_COMPRESSION_ZSTD) {
		iw_finding(r, IW_F_BAD_FIELD, "unknown compression type %u",
			   h->compression_type);
		ok = false;
	} else if ((h->compression_type != QCOW2_COMPRESSION_ZLIB) !=
		   !!(h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "compression type %u disagrees with the compression "
			   "type feature bit",
			   h->compression_type);
		ok = false;
	}

	if (h->refcount_order > 6) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "refcount_order %" PRIu32 " (at most 6: 64-bit "
			   "refcounts)",
			   h->refcount_order);
		ok = false;
	}

	switch (h->crypt_method) {
	case QCOW2_CRYPT_NONE:
		break;
	case QCOW2_CRYPT_AES:
		iw_finding(r, IW_F_ENCRYPTED, "AES-CBC encrypted (legacy)");
		break;
	case QCOW2_CRYPT_LUKS:
		iw_finding(r, IW_F_ENCRYPTED, "LUKS encrypted");
		break;
	default:
		iw_finding(r, IW_F_BAD_FIELD,
			   "unknown encryption method %" PRIu32,
			   h->crypt_method);
		ok = false;
	}
	return ok;
}

/* Size and table positions: qcow2_do_open's checks, plus "inside the
 * file" (qemu would read zeroes past EOF; an image we hand on must not
 * depend on that). */
static bool qcow2_geometry(const struct iw_view *v, struct qcow2_header *h,
			   struct iw_report *r)
{
	bool ok = true, size_ok = true;

	if (h->size > QCOW2_MAX_LENGTH) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "virtual size %" PRIu64 " exceeds qemu's limit",
			   h->size);
		ok = size_ok = false;
	} else {
		unsigned shift = h->cluster_bits + h->l2_bits;

		h->l1_needed = (h->size + (UINT64_C(1) << shift) - 1) >> shift;
		if (h->l1_needed > QCOW2_MAX_L1_INDEX) {
			iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
				   "virtual size %" PRIu64
				   " needs %" PRIu64 " L1 entries (qemu: image "
				   "too big)",
				   h->size, h->l1_needed);
			ok = size_ok = false;
		}
	}

	if (!qcow2_table_fields_ok(h, r, "L1 table", h->l1_table_offset,
				   h->l1_size, 8, QCOW2_MAX_L1_BYTES)) {
		ok = false;
	} else if (size_ok && h->l1_size < h->l1_needed) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "L1 table of %" PRIu32 " entries cannot map %" PRIu64
			   " bytes (needs %" PRIu64 ")",
			   h->l1_size, h->size, h->l1_needed);
		ok = false;
	} else if (iw_check_table(v, r, h->l1_table_offset,
				  (uint64_t)h->l1_size * 8, "L1 table")) {
		h->l1_ok = true;
	} else {
		ok = false;
	}

	if (h->refcount_table_clusters == 0) {
		iw_finding(r, IW_F_BAD_FIELD, "no refcount table");
		ok = false;
	} else if (!qcow2_table_fields_ok(h, r, "refcount table",
					  h->refcount_table_offset,
					  h->refcount_table_clusters,
					  h->cluster_size,
					  QCOW2_MAX_REFTABLE_BYTES)) {
		ok = false;
	} else if (iw_check_table(v, r, h->refcount_table_offset,
				  (uint64_t)h->refcount_table_clusters *
					  h->cluster_size,
				  "refcount table")) {
		h->refcount_table_ok = true;
	} else {
		ok = false;
	}

	/* entries are variable-length; the walk checks the real extent */
	if (qcow2_table_fields_ok(h, r, "snapshot table", h->snapshots_offset,
				  h->nb_snapshots, QCOW2_SNAPSHOT_HEADER_SIZE,
				  (uint64_t)QCOW2_SNAPSHOT_HEADER_SIZE *
					  QCOW2_MAX_SNAPSHOTS))
		h->snapshots_ok = true;
	else
		ok = false;
	return ok;
}

int qcow2_parse_header(const struct iw_view *v, struct qcow2_header *h,
		       struct iw_report *r)
{
	uint8_t fixed[QCOW2_V2_HEADER_SIZE];
	struct qcow2_ext_state st = { 0 };
	_cleanup_free_ uint8_t *area = NULL;
	size_t area_len;
	bool ok = true;
	int ret;

	memset(h, 0, sizeof(*h));
	ret = iw_read_struct(v, r, fixed, sizeof(fixed), 0, "qcow2 header");
	if (ret < 0)
		return qcow2_read_failed(ret);
	if (get_be32(fixed) != QCOW2_MAGIC) {
		iw_finding(r, IW_F_BAD_FIELD, "no qcow2 magic");
		return -EINVAL;
	}
	h->version = get_be32(fixed + 4);
	h->backing_file_offset = get_be64(fixed + 8);
	h->backing_file_size = get_be32(fixed + 16);
	h->cluster_bits = get_be32(fixed + 20);
	h->size = get_be64(fixed + 24);
	h->crypt_method = get_be32(fixed + 32);
	h->l1_size = get_be32(fixed + 36);
	h->l1_table_offset = get_be64(fixed + 40);
	h->refcount_table_offset = get_be64(fixed + 48);
	h->refcount_table_clusters = get_be32(fixed + 56);
	h->nb_snapshots = get_be32(fixed + 60);
	h->snapshots_offset = get_be64(fixed + 64);

	if (h->version != 2 && h->version != 3) {
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "qcow2 version %" PRIu32 " (qemu opens 2 and 3)",
			   h->version);
		return -ENOTSUP;
	}
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "cluster_bits %" PRIu32 " outside %d..%d",
			   h->cluster_bits, QCOW2_MIN_CLUSTER_BITS,
			   QCOW2_MAX_CLUSTER_BITS);
		return -EINVAL;
	}
	h->cluster_size = UINT64_C(1) << h->cluster_bits;

	/* The header, its extensions and the backing file name all live in
	 * the first cluster (at most 2 MiB): read it once. */
	area_len = (size_t)MIN(h->cluster_size, v->size);
	area = malloc(area_len);
	if (!area)
		return -ENOMEM;
	ret = iw_read_struct(v, r, area, area_len, 0, "qcow2 header cluster");
	if (ret < 0)
		return qcow2_read_failed(ret);

	if (h->version == 2) {
		/* qcow2_do_open's defaults for version 2 */
		h->refcount_order = 4;
		h->header_length = QCOW2_V2_HEADER_SIZE;
	} else if (!qcow2_v3_fields(v, h, r, area, area_len)) {
		return -EINVAL;
	}

	/* qcow2_do_open: "Invalid backing file offset" */
	if (h->backing_file_offset > h->cluster_size) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "backing file offset %" PRIu64
			   " is beyond the first cluster",
			   h->backing_file_offset);
		iw_finding(r, IW_F_BACKING_FILE,
			   "the image names a backing file (name unreadable)");
		ok = false;
		h->ext_end = h->cluster_size;
	} else {
		h->ext_end = h->backing_file_offset ? h->backing_file_offset
						    : h->cluster_size;
	}

	if (!qcow2_features(h, r))
		ok = false;
	if (!qcow2_geometry(v, h, r))
		ok = false;
	if (!qcow2_walk_extensions(v, h, r, &st, area, area_len))
		ok = false;

	if ((h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE) &&
	    !h->has_data_file_name)
		iw_finding(r, IW_F_DATA_FILE,
			   "external data file bit set but no data file name: "
			   "qemu needs one passed in");
	if (h->has_data_file_name &&
	    !(h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE))
		iw_finding(r, IW_F_DATA_FILE,
			   "the image names a data file (its feature bit is "
			   "clear; qemu-img info still shows it)");
	if (h->crypt_method == QCOW2_CRYPT_LUKS && !h->has_crypto_header) {
		iw_finding(r, IW_F_BAD_EXTENSION,
			   "LUKS encryption without a crypto header extension");
		ok = false;
	}

	if (h->backing_file_offset != 0 &&
	    h->backing_file_offset <= h->cluster_size &&
	    !qcow2_backing_file(v, h, r, area, area_len))
		ok = false;

	if (h->incompatible_features & ~QCOW2_INCOMPAT_KNOWN) {
		qcow2_report_unknown_features(r, h, &st);
		return -ENOTSUP;
	}
	return ok ? 0 : -EINVAL;
}

/* Check the entries of an L1 or refcount table: each one names a cluster
 * (an L2 table, a refcount block) that must be cluster aligned, outside
 * the header cluster and inside the file. */
static int qcow2_check_entries(const struct iw_view *v,
			       const struct qcow2_header *h,
			       struct iw_report *r, const char *what,
			       uint64_t table_off, uint64_t n_entries,
			       uint64_t offset_mask, uint64_t reserved_mask)
{
	_cleanup_free_ uint8_t *buf = malloc(QCOW2_TABLE_CHUNK);
	uint64_t bad = 0, reserved = 0;
	int ret;

	if (!buf)
		return -ENOMEM;
	/* bounded: n_entries <= 4 Mi (32 MiB / 8), read chunk by chunk */
	for (uint64_t i = 0; i < n_entries;) {
		uint64_t n = MIN(n_entries - i, QCOW2_TABLE_CHUNK / 8);

		ret = iw_read_struct(v, r, buf, n * 8, table_off + i * 8, what);
		if (ret < 0)
			return qcow2_read_failed(ret) == -EINVAL ? 0 : ret;
		for (uint64_t k = 0; k < n; k++, i++) {
			uint64_t e = get_be64(buf + k * 8);
			uint64_t off = e & offset_mask;
			const char *why = NULL;

			if (e & reserved_mask)
				reserved++;
			if (off == 0)
				continue;
			/* an aligned non-zero offset is past the header
			 * cluster already */
			if (off & (h->cluster_size - 1))
				why = "is not cluster aligned";
			else if (!v->partial &&
				 !range_ok(off, h->cluster_size, v->size))
				why = "is past the end of the file";
			if (!why)
				continue;
			if (++bad <= QCOW2_REPORT_BAD_ENTRIES)
				iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
					   "%s entry %" PRIu64 ": offset %#" PRIx64
					   " %s",
					   what, i, off, why);
		}
	}
	if (bad > QCOW2_REPORT_BAD_ENTRIES)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "%s: %" PRIu64 " bad entries in all", what, bad);
	if (reserved)
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s: %" PRIu64 " entries set reserved bits", what,
			   reserved);
	return 0;
}

static void qcow2_snapshot_json(struct iw_report *r, json_object *list,
				const uint8_t *sh, const uint8_t *extra,
				uint32_t extra_len, const uint8_t *id,
				size_t id_len, const uint8_t *name,
				size_t name_len)
{
	json_object *o = json_object_new_object();
	uint64_t vm_state = get_be32(sh + 32), clock = get_be64(sh + 24);
	_cleanup_free_ char *id_s = iw_sanitize(id, id_len, NULL);
	_cleanup_free_ char *name_s = iw_sanitize(name, name_len, NULL);

	if (!o)
		return;
	/* QCowSnapshotExtraData: vm_state_size_large, disk_size, icount */
	if (extra_len >= 8)
		vm_state = get_be64(extra);
	json_object_object_add(o, "id", json_object_new_string(id_s ? id_s : ""));
	json_object_object_add(o, "name",
			       json_object_new_string(name_s ? name_s : ""));
	json_object_object_add(o, "vm-state-size",
			       json_object_new_int64((int64_t)(vm_state &
							       INT64_MAX)));
	json_object_object_add(o, "date-sec",
			       json_object_new_int64(get_be32(sh + 16)));
	json_object_object_add(o, "date-nsec",
			       json_object_new_int64(get_be32(sh + 20)));
	json_object_object_add(o, "vm-clock-sec",
			       json_object_new_int64((int64_t)(clock /
							       1000000000u)));
	json_object_object_add(o, "vm-clock-nsec",
			       json_object_new_int64((int64_t)(clock %
							       1000000000u)));
	if (extra_len >= 24 && get_be64(extra + 16) != UINT64_MAX)
		json_object_object_add(
			o, "icount",
			json_object_new_int64((int64_t)(get_be64(extra + 16) &
							INT64_MAX)));
	if (json_object_array_add(list, o) < 0)
		json_object_put(o);
}

/* Walk the snapshot table as qcow2_do_read_snapshots() does: entries are
 * 8-byte aligned, of variable length (extra data, id, name), and the
 * whole table is capped at 64 MiB. On success *ret_len is its length. */
static int qcow2_walk_snapshots(const struct iw_view *v,
				const struct qcow2_header *h,
				struct iw_report *r, uint64_t *ret_len)
{
	json_object *list = NULL;
	uint64_t off = h->snapshots_offset, total = 0;
	int ret;

	*ret_len = 0;
	iw_finding(r, IW_F_INTERNAL_SNAPSHOTS, "%" PRIu32 " internal snapshot%s",
		   h->nb_snapshots, h->nb_snapshots == 1 ? "" : "s");
	if (iw_report_fs(r)) {
		list = json_object_new_array();
		if (list)
			json_object_object_add(iw_report_fs(r), "snapshots",
					       list);
	}

	/* bounded by nb_snapshots <= 65536 */
	for (uint32_t i = 0; i < h->nb_snapshots; i++) {
		uint8_t sh[QCOW2_SNAPSHOT_HEADER_SIZE];
		uint8_t extra[QCOW2_SNAPSHOT_KNOWN_EXTRA] = { 0 };
		uint8_t id[QCOW2_REPORT_SNAPSHOT_NAME];
		uint8_t name[QCOW2_REPORT_SNAPSHOT_NAME];
		uint64_t entry_len, sn_l1_off;
		uint32_t sn_l1_size, extra_len;
		uint16_t id_len, name_len;

		/* off stays below INT64_MAX + 64 MiB: no wrap */
		off = (off + 7) & ~UINT64_C(7);
		total = (total + 7) & ~UINT64_C(7);
		if (!iw_check_table(v, r, off, QCOW2_SNAPSHOT_HEADER_SIZE,
				    "snapshot table"))
			return 0;
		ret = iw_read_struct(v, r, sh, sizeof(sh), off,
				     "snapshot table entry");
		if (ret < 0)
			return qcow2_read_failed(ret) == -EINVAL ? 0 : ret;
		sn_l1_off = get_be64(sh);
		sn_l1_size = get_be32(sh + 8);
		id_len = get_be16(sh + 12);
		name_len = get_be16(sh + 14);
		extra_len = get_be32(sh + 36);
		if (extra_len > QCOW2_MAX_SNAPSHOT_EXTRA) {
			iw_finding(r, IW_F_BAD_FIELD,
				   "snapshot %" PRIu32 " has %" PRIu32
				   " bytes of extra data (qemu allows %d)",
				   i, extra_len, QCOW2_MAX_SNAPSHOT_EXTRA);
			return 0;
		}
		entry_len = QCOW2_SNAPSHOT_HEADER_SIZE + (uint64_t)extra_len +
			    id_len + name_len;
		total += entry_len;
		if (total > QCOW2_MAX_SNAPSHOTS_BYTES) {
			iw_finding(r, IW_F_TABLE_TOO_LARGE,
				   "snapshot table exceeds %" PRIu64
				   " bytes at entry %" PRIu32,
				   QCOW2_MAX_SNAPSHOTS_BYTES, i);
			return 0;
		}
		if (!iw_check_table(v, r, off, entry_len,
				    "snapshot table entry"))
			return 0;

		if (qcow2_table_fields_ok(h, r, "snapshot L1 table", sn_l1_off,
					  sn_l1_size, 8, QCOW2_MAX_L1_BYTES))
			iw_check_table(v, r, sn_l1_off, (uint64_t)sn_l1_size * 8,
				       "snapshot L1 table");

		if (list && i < QCOW2_REPORT_SNAPSHOTS) {
			uint64_t p = off + QCOW2_SNAPSHOT_HEADER_SIZE;
			size_t n_extra = MIN(extra_len, sizeof(extra));
			size_t n_id = MIN(id_len, sizeof(id));
			size_t n_name = MIN(name_len, sizeof(name));

			ret = iw_read_struct(v, r, extra, n_extra, p,
					     "snapshot extra data");
			if (ret == 0)
				ret = iw_read_struct(v, r, id, n_id,
						     p + extra_len,
						     "snapshot id");
			if (ret == 0)
				ret = iw_read_struct(v, r, name, n_name,
						     p + extra_len + id_len,
						     "snapshot name");
			if (ret < 0)
				return qcow2_read_failed(ret) == -EINVAL ? 0
									 : ret;
			qcow2_snapshot_json(r, list, sh, extra, extra_len, id,
					    n_id, name, n_name);
		}
		off += entry_len;
	}
	*ret_len = off - h->snapshots_offset;
	return 0;
}

struct qcow2_range {
	const char *what;
	uint64_t off, len;
};

/* Metadata structures must not overlap: qemu's overlap checks
 * (qcow2_check_metadata_overlap) would refuse writes, and a reader that
 * interprets one table as another is what a crafted image wants. */
static void qcow2_check_overlaps(struct iw_report *r,
				 const struct qcow2_range *rg, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = i + 1; k < n; k++) {
			if (rg[i].len == 0 || rg[k].len == 0)
				continue;
			if (rg[i].off < rg[k].off + rg[k].len &&
			    rg[k].off < rg[i].off + rg[i].len)
				iw_finding(r, IW_F_TABLE_OVERLAP,
					   "%s (%#" PRIx64 "+%" PRIu64
					   ") overlaps %s (%#" PRIx64 "+%" PRIu64
					   ")",
					   rg[i].what, rg[i].off, rg[i].len,
					   rg[k].what, rg[k].off, rg[k].len);
		}
	}
}

/* One bitmap directory entry (e: its 24 fixed bytes); false when qemu
 * would refuse it. */
static bool qcow2_bitmap_entry_ok(const struct iw_view *v,
				  const struct qcow2_header *h,
				  struct iw_report *r, const uint8_t *e,
				  uint32_t index)
{
	uint64_t table_off = get_be64(e);
	uint32_t table_size = get_be32(e + 8), flags = get_be32(e + 12);
	unsigned type = e[16], granularity_bits = e[17];
	uint64_t phys_bytes = (uint64_t)table_size * h->cluster_size;

	if (table_size == 0 || table_off == 0 ||
	    (table_off & (h->cluster_size - 1)) ||
	    table_size > QCOW2_BITMAP_MAX_TABLE_ENTRIES ||
	    granularity_bits < QCOW2_BITMAP_MIN_GRANULARITY_BITS ||
	    granularity_bits > QCOW2_BITMAP_MAX_GRANULARITY_BITS ||
	    (flags & ~(QCOW2_BITMAP_FLAG_IN_USE | QCOW2_BITMAP_FLAG_AUTO)) ||
	    type != QCOW2_BITMAP_TYPE_DIRTY_TRACKING ||
	    get_be32(e + 20) != 0 || phys_bytes > QCOW2_BITMAP_MAX_PHYS_BYTES) {
		iw_finding(r, IW_F_BAD_EXTENSION,
			   "bitmap %" PRIu32 " breaks qemu's constraints",
			   index);
		return false;
	}
	/* a bitmap in use may be stale; one that is not must cover the disk */
	if (!(flags & QCOW2_BITMAP_FLAG_IN_USE) &&
	    (h->size & ~UINT64_C(511)) > ((phys_bytes * 8) << granularity_bits)) {
		iw_finding(r, IW_F_BAD_EXTENSION,
			   "bitmap %" PRIu32 " does not cover the disk", index);
		return false;
	}
	return iw_check_table(v, r, table_off, (uint64_t)table_size * 8,
			      "bitmap table");
}

/* Walk the bitmap directory as qemu's bitmap_list_load() does and list
 * the bitmaps like qemu-img info ("bitmaps": name, granularity, flags).
 * Bounded: the directory is at most 64 MiB and holds nb_bitmaps (at most
 * 65535) entries of at least 24 bytes. */
static int qcow2_walk_bitmaps(const struct iw_view *v,
			      const struct qcow2_header *h, struct iw_report *r,
			      json_object *list)
{
	uint64_t off = 0, size = h->bitmap_directory_size;
	uint32_t count = 0;
	int ret;

	while (off < size) {
		uint8_t e[QCOW2_BITMAP_ENTRY_SIZE], name[QCOW2_BITMAP_MAX_NAME];
		uint64_t entry_len;
		uint16_t name_len;

		if (size - off < sizeof(e) || ++count > h->nb_bitmaps) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "bitmap directory does not hold %" PRIu32
				   " entries",
				   h->nb_bitmaps);
			return 0;
		}
		ret = iw_read_struct(v, r, e, sizeof(e),
				     h->bitmap_directory_offset + off,
				     "bitmap directory entry");
		if (ret < 0)
			return qcow2_read_failed(ret) == -EINVAL ? 0 : ret;
		name_len = get_be16(e + 18);
		/* extra data must be 0 (checked below): not counted here */
		entry_len = (sizeof(e) + (uint64_t)name_len + 7) & ~UINT64_C(7);
		if (entry_len > size - off || name_len > QCOW2_BITMAP_MAX_NAME) {
			iw_finding(r, IW_F_BAD_EXTENSION,
				   "bitmap %" PRIu32 " overruns the directory",
				   count - 1);
			return 0;
		}
		if (!qcow2_bitmap_entry_ok(v, h, r, e, count - 1))
			return 0;
		ret = iw_read_struct(v, r, name, name_len,
				     h->bitmap_directory_offset + off +
					     sizeof(e),
				     "bitmap name");
		if (ret < 0)
			return qcow2_read_failed(ret) == -EINVAL ? 0 : ret;
		if (list && count <= QCOW2_REPORT_SNAPSHOTS) {
			json_object *o = json_object_new_object();
			json_object *flags = json_object_new_array();
			_cleanup_free_ char *clean =
				iw_sanitize(name, name_len, NULL);
			uint32_t f = get_be32(e + 12);

			if (o && flags && clean) {
				if (f & QCOW2_BITMAP_FLAG_IN_USE)
					json_object_array_add(
						flags,
						json_object_new_string("in-use"));
				if (f & QCOW2_BITMAP_FLAG_AUTO)
					json_object_array_add(
						flags,
						json_object_new_string("auto"));
				json_object_object_add(o, "flags", flags);
				json_object_object_add(
					o, "name", json_object_new_string(clean));
				json_object_object_add(
					o, "granularity",
					json_object_new_int64(INT64_C(1)
							      << e[17]));
				json_object_array_add(list, o);
			} else {
				json_object_put(flags);
				json_object_put(o);
			}
		}
		off += entry_len;
	}
	if (count != h->nb_bitmaps)
		iw_finding(r, IW_F_BAD_EXTENSION,
			   "bitmap directory holds %" PRIu32
			   " entries, the header says %" PRIu32,
			   count, h->nb_bitmaps);
	return 0;
}

static void qcow2_fs_data_file(const struct iw_view *v, struct iw_report *r,
			       const struct qcow2_header *h)
{
	uint8_t name[IW_REPORT_MAX_NAME];
	size_t len = MIN(h->data_file_name_size, sizeof(name));

	if (iw_view_read(v, name, len, h->data_file_name_offset) == 0)
		iw_fs_set_bytes(r, "data-file", name, len);
}

static void qcow2_fs_encrypt(struct iw_report *r, const struct qcow2_header *h)
{
	json_object *fs = iw_report_fs(r);
	json_object *enc = json_object_new_object();

	if (!fs || !enc) {
		json_object_put(enc);
		return;
	}
	json_object_object_add(enc, "format",
			       json_object_new_string(h->crypt_method ==
							      QCOW2_CRYPT_AES
						      ? "aes"
						      : "luks"));
	json_object_object_add(fs, "encrypt", enc);
}

/* qemu-img info's "format-specific" data (qcow2_get_specific_info), in
 * qemu's field order. */
static int qcow2_format_specific(const struct iw_view *v,
				 struct iw_report *r,
				 const struct qcow2_header *h)
{
	static const char *const compression[] = { "zlib", "zstd" };
	bool encrypted = h->crypt_method == QCOW2_CRYPT_AES ||
			 h->crypt_method == QCOW2_CRYPT_LUKS;
	int ret;

	if (h->version == 2) {
		iw_fs_set_str(r, "compat", "0.10");
		iw_fs_set_str(r, "compression-type", "zlib");
		iw_fs_set_int(r, "refcount-bits", 16);
		if (encrypted)
			qcow2_fs_encrypt(r, h);
		return 0;
	}

	iw_fs_set_str(r, "compat", "1.1");
	if (h->compression_type < ARRAY_SIZE(compression))
		iw_fs_set_str(r, "compression-type",
			      compression[h->compression_type]);
	iw_fs_set_bool(r, "lazy-refcounts",
		       h->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS);
	if (h->has_bitmaps) {
		json_object *list = json_object_new_array();

		if (list && iw_report_fs(r)) {
			json_object_object_add(iw_report_fs(r), "bitmaps", list);
		} else {
			json_object_put(list);
			list = NULL;
		}
		ret = qcow2_walk_bitmaps(v, h, r, list);
		if (ret < 0)
			return ret;
	}
	if (h->refcount_order <= 6)
		iw_fs_set_int(r, "refcount-bits", INT64_C(1) << h->refcount_order);
	if (h->has_data_file_name)
		qcow2_fs_data_file(v, r, h);
	if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE)
		iw_fs_set_bool(r, "data-file-raw",
			       h->autoclear_features &
				       QCOW2_AUTOCLEAR_DATA_FILE_RAW);
	if (encrypted)
		qcow2_fs_encrypt(r, h);
	iw_fs_set_bool(r, "corrupt",
		       h->incompatible_features & QCOW2_INCOMPAT_CORRUPT);
	iw_fs_set_bool(r, "extended-l2", h->extended_l2);
	return 0;
}

static int qcow2_probe(const struct iw_view *v, const uint8_t *head,
		       size_t head_len, struct iw_report *r,
		       struct iw_probe_ctx *ctx)
{
	struct qcow2_header h;
	struct qcow2_range rg[6];
	size_t n = 0;
	int ret;

	r->format = "qcow2";
	ret = qcow2_parse_header(v, &h, r);
	if (ret < 0 && ret != -EINVAL && ret != -ENOTSUP)
		return ret;
	/* nothing more to say without a version and a cluster size */
	if (h.cluster_size == 0)
		return 0;

	r->cluster_size = (int64_t)h.cluster_size;
	/* qemu's virtual size is the header's size in whole sectors */
	if (h.size <= QCOW2_MAX_LENGTH)
		r->virtual_size = (int64_t)(h.size & ~UINT64_C(511));
	if (h.header_length == 0)
		return 0; /* v3 fields unreadable */
	ret = qcow2_format_specific(v, r, &h);
	if (ret < 0)
		return ret;

	rg[n++] = (struct qcow2_range){ "header cluster", 0, h.cluster_size };
	if (h.l1_ok) {
		ret = qcow2_check_entries(v, &h, r, "L1 table",
					  h.l1_table_offset, h.l1_size,
					  QCOW2_L1E_OFFSET_MASK,
					  ~(QCOW2_L1E_OFFSET_MASK |
					    (UINT64_C(1) << 63)));
		if (ret < 0)
			return ret;
		rg[n++] = (struct qcow2_range){ "L1 table", h.l1_table_offset,
						(uint64_t)h.l1_size * 8 };
	}
	if (h.refcount_table_ok) {
		uint64_t entries = (uint64_t)h.refcount_table_clusters *
				   h.cluster_size / 8;

		ret = qcow2_check_entries(v, &h, r, "refcount table",
					  h.refcount_table_offset, entries,
					  QCOW2_REFT_OFFSET_MASK,
					  ~QCOW2_REFT_OFFSET_MASK);
		if (ret < 0)
			return ret;
		rg[n++] = (struct qcow2_range){ "refcount table",
						h.refcount_table_offset,
						entries * 8 };
	}
	if (h.snapshots_ok && h.nb_snapshots > 0) {
		uint64_t len;

		ret = qcow2_walk_snapshots(v, &h, r, &len);
		if (ret < 0)
			return ret;
		rg[n++] = (struct qcow2_range){ "snapshot table",
						h.snapshots_offset, len };
	}
	if (h.has_crypto_header)
		rg[n++] = (struct qcow2_range){ "LUKS header",
						h.crypto_header_offset,
						h.crypto_header_length };
	if (h.has_bitmaps)
		rg[n++] = (struct qcow2_range){ "bitmap directory",
						h.bitmap_directory_offset,
						h.bitmap_directory_size };
	qcow2_check_overlaps(r, rg, n);
	return 0;
}

const struct iw_format iw_format_qcow2 = {
	.name = "qcow2",
	.kind = IW_KIND_IMAGE,
	.match = qcow2_match,
	.probe = qcow2_probe,
};
