/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QED (qemu enhanced disk): detected and described, never accepted
 * (unsupported-format; OpenStack bans it too, OSSA-2024-001). The checks
 * restate docs/interop/qed_spec.txt and qemu 7.2 block/qed.c
 * bdrv_qed_do_open(); a backing file is reported, never followed.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "formats.h"

#define QED_MAGIC 0x00444551u /* "QED\0" little-endian */
#define QED_HEADER_SIZE 64
#define QED_F_BACKING_FILE 0x01
#define QED_F_NEED_CHECK 0x02
#define QED_F_BACKING_FORMAT_NO_PROBE 0x04
#define QED_FEATURE_MASK 0x07
/* qed.h: cluster size a power of 2 in [4 KiB, 64 MiB], table size (in
 * clusters) a power of 2 in [1, 16] */
#define QED_MIN_CLUSTER_SIZE (4 * KiB)
#define QED_MAX_CLUSTER_SIZE (64 * MiB)
#define QED_MIN_TABLE_SIZE 1
#define QED_MAX_TABLE_SIZE 16
/* qed_read_string: the name must fit bs->backing_file (PATH_MAX) with
 * its NUL */
#define QED_MAX_BACKING_NAME 4095
/* BDRV_MAX_LENGTH: the block layer refuses longer devices */
#define QED_MAX_LENGTH UINT64_C(0x7fffffffc0000000)
/* A QED L1 table can be 1 GiB (16 clusters of 64 MiB); we check at most
 * this many bytes of it (default images have 256 KiB tables). */
#define QED_MAX_L1_CHECKED (32 * MiB)
#define QED_TABLE_CHUNK (64 * KiB)
#define QED_REPORT_BAD_ENTRIES 4

struct qed_header {
	uint32_t cluster_size;
	uint32_t table_size;
	uint32_t header_size;
	uint64_t features;
	uint64_t l1_table_offset;
	uint64_t image_size;
	uint32_t backing_filename_offset;
	uint32_t backing_filename_size;
	uint64_t file_size; /* rounded down to a cluster, as qemu does */
};

static bool qed_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	uint8_t buf[4] = { 0 };

	/* bdrv_qed_probe: the magic alone */
	memcpy(buf, head, MIN(head_len, sizeof(buf)));
	return get_le32(buf) == QED_MAGIC;
}

static int qed_read_failed(int ret)
{
	return ret == -ERANGE || ret == -E2BIG ? 0 : ret;
}

/* qed_max_image_size(), with qemu's arithmetic: TABLE_NOFFSETS^2 *
 * cluster_size, in uint64_t (it wraps for the largest geometries, and
 * then qemu's limit is the wrapped value). */
static uint64_t qed_max_image_size(const struct qed_header *h)
{
	uint64_t entries = (uint64_t)(h->table_size * h->cluster_size) / 8;

	return entries * h->cluster_size * entries;
}

/* qed_check_table_offset(): cluster aligned, after the header, and the
 * table's last cluster starts inside the (cluster-rounded) file. */
static bool qed_table_ok(const struct iw_view *v, const struct qed_header *h,
			 struct iw_report *r, uint64_t off, const char *what)
{
	uint64_t header_bytes = (uint64_t)h->header_size * h->cluster_size;
	uint64_t last = off + (uint64_t)(h->table_size - 1) * h->cluster_size;

	if (off & (h->cluster_size - 1)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s offset %#" PRIx64 " is not cluster aligned", what,
			   off);
		return false;
	}
	/* qemu's overflow test also refuses table_size 1 (last == off) */
	if (last <= off) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s at %#" PRIx64 " is out of range for qemu", what,
			   off);
		return false;
	}
	if (off < header_bytes) {
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "%s at %#" PRIx64 " overlaps the header (%" PRIu64
			   " bytes)",
			   what, off, header_bytes);
		return false;
	}
	if (!v->partial && last >= h->file_size) {
		iw_finding(r, IW_F_TABLE_PAST_EOF,
			   "%s (%" PRIu64 " bytes at offset %" PRIu64
			   ") ends past the end of the file (%" PRIu64 " bytes)",
			   what, (uint64_t)h->table_size * h->cluster_size, off,
			   v->size);
		return false;
	}
	return true;
}

static int qed_check_l1(const struct iw_view *v, const struct qed_header *h,
			struct iw_report *r)
{
	_cleanup_free_ uint8_t *buf = malloc(QED_TABLE_CHUNK);
	uint64_t bytes = (uint64_t)h->table_size * h->cluster_size;
	uint64_t n_entries, bad = 0;
	uint64_t header_bytes = (uint64_t)h->header_size * h->cluster_size;
	int ret;

	if (!buf)
		return -ENOMEM;
	if (bytes > QED_MAX_L1_CHECKED) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "only the first %" PRIu64 " of %" PRIu64
			   " L1 table bytes were checked",
			   QED_MAX_L1_CHECKED, bytes);
		bytes = QED_MAX_L1_CHECKED;
	}
	n_entries = bytes / 8;
	for (uint64_t i = 0; i < n_entries;) {
		uint64_t n = MIN(n_entries - i, QED_TABLE_CHUNK / 8);

		ret = iw_read_struct(v, r, buf, n * 8,
				     h->l1_table_offset + i * 8, "L1 table");
		if (ret < 0)
			return qed_read_failed(ret);
		for (uint64_t k = 0; k < n; k++, i++) {
			uint64_t off = get_le64(buf + k * 8);
			uint64_t last;
			const char *why = NULL;

			if (off == 0)
				continue;
			last = off + (uint64_t)(h->table_size - 1) *
					     h->cluster_size;
			if (off & (h->cluster_size - 1))
				why = "is not cluster aligned";
			else if (off < header_bytes)
				why = "points into the header";
			else if (last < off ||
				 (!v->partial && last >= h->file_size))
				why = "is past the end of the file";
			if (!why)
				continue;
			if (++bad <= QED_REPORT_BAD_ENTRIES)
				iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
					   "L1 entry %" PRIu64 ": L2 table at %#" PRIx64
					   " %s",
					   i, off, why);
		}
	}
	if (bad > QED_REPORT_BAD_ENTRIES)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "L1 table: %" PRIu64 " bad entries in all", bad);
	return 0;
}

static int qed_backing_file(const struct iw_view *v,
			    const struct qed_header *h, struct iw_report *r)
{
	uint8_t name[QED_MAX_BACKING_NAME];
	uint64_t header_bytes = (uint64_t)h->header_size * h->cluster_size;
	uint32_t len = h->backing_filename_size;
	int ret;

	if ((uint64_t)h->backing_filename_offset + len > header_bytes ||
	    len > QED_MAX_BACKING_NAME) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "backing file name (%" PRIu32 " bytes at %" PRIu32
			   ") is not inside the %" PRIu64 "-byte header",
			   len, h->backing_filename_offset, header_bytes);
		iw_finding(r, IW_F_BACKING_FILE,
			   "the image names a backing file (name unreadable)");
		return 0;
	}
	ret = iw_read_struct(v, r, name, len, h->backing_filename_offset,
			     "backing file name");
	if (ret < 0) {
		iw_finding(r, IW_F_BACKING_FILE,
			   "the image names a backing file (name unreadable)");
		return qed_read_failed(ret);
	}
	iw_finding(r, IW_F_BACKING_FILE, "the image names a backing file");
	iw_report_set_backing(r, name, len,
			      h->features & QED_F_BACKING_FORMAT_NO_PROBE
				      ? "raw"
				      : NULL);
	return 0;
}

static int qed_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	uint8_t buf[QED_HEADER_SIZE];
	struct qed_header h;
	bool geometry_ok = true;
	int ret;

	r->format = "qed";
	iw_finding(r, IW_F_UNSUPPORTED_FORMAT,
		   "QED images are not accepted");

	ret = iw_read_struct(v, r, buf, sizeof(buf), 0, "QED header");
	if (ret < 0)
		return qed_read_failed(ret);
	h = (struct qed_header){
		.cluster_size = get_le32(buf + 4),
		.table_size = get_le32(buf + 8),
		.header_size = get_le32(buf + 12),
		.features = get_le64(buf + 16),
		.l1_table_offset = get_le64(buf + 40),
		.image_size = get_le64(buf + 48),
		.backing_filename_offset = get_le32(buf + 56),
		.backing_filename_size = get_le32(buf + 60),
	};

	if (h.features & ~(uint64_t)QED_FEATURE_MASK)
		iw_finding(r, IW_F_UNKNOWN_FEATURES,
			   "unknown QED feature bits %#" PRIx64,
			   h.features & ~(uint64_t)QED_FEATURE_MASK);
	if (h.features & QED_F_NEED_CHECK)
		iw_finding(r, IW_F_DIRTY,
			   "needs-check bit set: the image was not closed "
			   "cleanly");

	if (h.cluster_size < QED_MIN_CLUSTER_SIZE ||
	    h.cluster_size > QED_MAX_CLUSTER_SIZE ||
	    !is_power_of_2(h.cluster_size)) {
		iw_finding(r, IW_F_BAD_FIELD, "cluster size %" PRIu32,
			   h.cluster_size);
		geometry_ok = false;
	} else {
		r->cluster_size = h.cluster_size;
		h.file_size = v->size & ~((uint64_t)h.cluster_size - 1);
	}
	if (h.table_size < QED_MIN_TABLE_SIZE ||
	    h.table_size > QED_MAX_TABLE_SIZE ||
	    !is_power_of_2(h.table_size)) {
		iw_finding(r, IW_F_BAD_FIELD, "table size %" PRIu32,
			   h.table_size);
		geometry_ok = false;
	}
	/* qemu: "QED header size is too large" (uint32_t product) */
	if (geometry_ok && h.header_size > UINT32_MAX / h.cluster_size) {
		iw_finding(r, IW_F_BAD_FIELD, "header size of %" PRIu32
			   " clusters", h.header_size);
		geometry_ok = false;
	}

	if (h.image_size % 512) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "image size %" PRIu64 " is not a multiple of 512",
			   h.image_size);
	} else if (h.image_size > QED_MAX_LENGTH ||
		   (geometry_ok && h.image_size > qed_max_image_size(&h))) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "image size %" PRIu64 " is beyond what the tables "
			   "or qemu can address",
			   h.image_size);
	} else {
		r->virtual_size = (int64_t)h.image_size;
	}

	if (geometry_ok &&
	    qed_table_ok(v, &h, r, h.l1_table_offset, "L1 table")) {
		ret = qed_check_l1(v, &h, r);
		if (ret < 0)
			return ret;
	}

	if (h.features & QED_F_BACKING_FILE) {
		if (geometry_ok) {
			ret = qed_backing_file(v, &h, r);
			if (ret < 0)
				return ret;
		} else {
			iw_finding(r, IW_F_BACKING_FILE,
				   "the image names a backing file (name "
				   "unreadable)");
		}
	}
	return 0;
}

const struct iw_format iw_format_qed = {
	.name = "qed",
	.kind = IW_KIND_IMAGE,
	.match = qed_match,
	.probe = qed_probe,
};
