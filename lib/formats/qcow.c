/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow (version 1), qemu's legacy format: detected and described, never
 * accepted (unsupported-format). The checks restate qemu 7.2 block/qcow.c
 * qcow_open(), including the CVE-2014-0222/0223 bounds on the L2 size and
 * the L1 size computed from the virtual size.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "formats.h"

#define QCOW_MAGIC 0x514649fbu /* "QFI\xfb", shared with qcow2 */
#define QCOW_VERSION 1
#define QCOW_HEADER_SIZE 48
#define QCOW_CRYPT_NONE 0
#define QCOW_CRYPT_AES 1
/* qcow_open: clusters of 512 bytes to 64 KiB, L2 tables of 512 bytes to
 * 64 KiB (l2_bits counts 8-byte entries) */
#define QCOW_MIN_CLUSTER_BITS 9
#define QCOW_MAX_CLUSTER_BITS 16
#define QCOW_MIN_L2_BITS (9 - 3)
#define QCOW_MAX_L2_BITS (16 - 3)
/* qcow_open: the L1 table is allocated as l1_size * 8 bytes and must stay
 * below INT_MAX (CVE-2014-0223) */
#define QCOW_MAX_L1_ENTRIES (UINT64_C(0x7fffffff) / 8)
#define QCOW_MAX_BACKING_NAME 1023
/* BDRV_MAX_LENGTH: the block layer refuses longer devices */
#define QCOW_MAX_LENGTH UINT64_C(0x7fffffffc0000000)
/* We check at most this many L1 entries (a 64 TiB image with the largest
 * clusters needs 16 Ki); the rest is "not inspected". */
#define QCOW_MAX_L1_CHECKED (UINT64_C(4) * 1024 * 1024)
#define QCOW_TABLE_CHUNK (64 * KiB)
#define QCOW_REPORT_BAD_ENTRIES 4

static bool qcow_match(const struct iw_view *v, const uint8_t *head,
		       size_t head_len)
{
	uint8_t buf[8] = { 0 };

	/* qemu's qcow_probe on its zero-filled 512-byte buffer */
	memcpy(buf, head, MIN(head_len, sizeof(buf)));
	return get_be32(buf) == QCOW_MAGIC && get_be32(buf + 4) == QCOW_VERSION;
}

static int qcow_read_failed(int ret)
{
	return ret == -ERANGE || ret == -E2BIG ? 0 : ret;
}

static int qcow_check_l1(const struct iw_view *v, struct iw_report *r,
			 uint64_t l1_off, uint64_t l1_size, uint64_t l2_bytes)
{
	_cleanup_free_ uint8_t *buf = malloc(QCOW_TABLE_CHUNK);
	uint64_t n_entries = MIN(l1_size, QCOW_MAX_L1_CHECKED), bad = 0;
	int ret;

	if (!buf)
		return -ENOMEM;
	if (n_entries < l1_size)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "only the first %" PRIu64 " of %" PRIu64
			   " L1 entries were checked",
			   n_entries, l1_size);
	for (uint64_t i = 0; i < n_entries;) {
		uint64_t n = MIN(n_entries - i, QCOW_TABLE_CHUNK / 8);

		ret = iw_read_struct(v, r, buf, n * 8, l1_off + i * 8,
				     "L1 table");
		if (ret < 0)
			return qcow_read_failed(ret);
		for (uint64_t k = 0; k < n; k++, i++) {
			uint64_t off = get_be64(buf + k * 8);

			if (off == 0 || v->partial ||
			    range_ok(off, l2_bytes, v->size))
				continue;
			if (++bad <= QCOW_REPORT_BAD_ENTRIES)
				iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
					   "L1 entry %" PRIu64 ": L2 table at %#" PRIx64
					   " is past the end of the file",
					   i, off);
		}
	}
	if (bad > QCOW_REPORT_BAD_ENTRIES)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "L1 table: %" PRIu64 " bad entries in all", bad);
	return 0;
}

static int qcow_probe(const struct iw_view *v, const uint8_t *head,
		      size_t head_len, struct iw_report *r,
		      struct iw_probe_ctx *ctx)
{
	uint8_t hdr[QCOW_HEADER_SIZE];
	uint64_t backing_off, size, l1_off, l1_size = 0;
	uint32_t version, backing_len, crypt;
	unsigned cluster_bits, l2_bits;
	bool geometry_ok = true;
	int ret;

	r->format = "qcow";
	/* whatever else we find, imgward does not take qcow v1 */
	iw_finding(r, IW_F_UNSUPPORTED_FORMAT,
		   "legacy qcow (version 1) images are not accepted");

	ret = iw_read_struct(v, r, hdr, sizeof(hdr), 0, "qcow header");
	if (ret < 0)
		return qcow_read_failed(ret);
	version = get_be32(hdr + 4);
	backing_off = get_be64(hdr + 8);
	backing_len = get_be32(hdr + 16);
	size = get_be64(hdr + 24);
	cluster_bits = hdr[32];
	l2_bits = hdr[33];
	crypt = get_be32(hdr + 36);
	l1_off = get_be64(hdr + 40);

	if (version != QCOW_VERSION) {
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "qcow version %" PRIu32, version);
		return 0;
	}

	if (size <= 1) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "virtual size %" PRIu64 " (qemu needs at least 2)",
			   size);
		geometry_ok = false;
	} else if (size > QCOW_MAX_LENGTH) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "virtual size %" PRIu64 " exceeds qemu's limit",
			   size);
		geometry_ok = false;
	} else {
		r->virtual_size = (int64_t)(size & ~UINT64_C(511));
	}
	if (cluster_bits < QCOW_MIN_CLUSTER_BITS ||
	    cluster_bits > QCOW_MAX_CLUSTER_BITS) {
		iw_finding(r, IW_F_BAD_FIELD, "cluster_bits %u outside %d..%d",
			   cluster_bits, QCOW_MIN_CLUSTER_BITS,
			   QCOW_MAX_CLUSTER_BITS);
		geometry_ok = false;
	} else {
		r->cluster_size = INT64_C(1) << cluster_bits;
	}
	/* CVE-2014-0222: an unchecked l2_bits overflowed the L2 cache size */
	if (l2_bits < QCOW_MIN_L2_BITS || l2_bits > QCOW_MAX_L2_BITS) {
		iw_finding(r, IW_F_BAD_FIELD, "l2_bits %u outside %d..%d",
			   l2_bits, QCOW_MIN_L2_BITS, QCOW_MAX_L2_BITS);
		geometry_ok = false;
	}

	switch (crypt) {
	case QCOW_CRYPT_NONE:
		break;
	case QCOW_CRYPT_AES:
		iw_finding(r, IW_F_ENCRYPTED, "AES-CBC encrypted (legacy)");
		break;
	default:
		iw_finding(r, IW_F_BAD_FIELD,
			   "unknown encryption method %" PRIu32, crypt);
	}

	if (geometry_ok) {
		unsigned shift = cluster_bits + l2_bits;

		/* size <= QCOW_MAX_LENGTH < 2^63 and shift <= 29: no wrap */
		l1_size = (size + (UINT64_C(1) << shift) - 1) >> shift;
		/* CVE-2014-0223: the L1 size computed from the image size */
		if (l1_size > QCOW_MAX_L1_ENTRIES) {
			iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
				   "virtual size %" PRIu64
				   " needs %" PRIu64 " L1 entries (qemu: image "
				   "too large)",
				   size, l1_size);
		} else if (iw_check_table(v, r, l1_off, l1_size * 8,
					  "L1 table")) {
			ret = qcow_check_l1(v, r, l1_off, l1_size,
					    (UINT64_C(8) << l2_bits));
			if (ret < 0)
				return ret;
		}
	}

	if (backing_off != 0) {
		uint8_t name[QCOW_MAX_BACKING_NAME];

		if (backing_len > QCOW_MAX_BACKING_NAME) {
			iw_finding(r, IW_F_BAD_FIELD,
				   "backing file name of %" PRIu32
				   " bytes (qemu allows 1023)",
				   backing_len);
			iw_finding(r, IW_F_BACKING_FILE,
				   "the image names a backing file (name "
				   "unreadable)");
		} else if ((ret = iw_read_struct(v, r, name, backing_len,
						 backing_off,
						 "backing file name")) < 0) {
			if (qcow_read_failed(ret) < 0)
				return ret;
			iw_finding(r, IW_F_BACKING_FILE,
				   "the image names a backing file (name "
				   "unreadable)");
		} else if (backing_len > 0) {
			iw_finding(r, IW_F_BACKING_FILE,
				   "the image names a backing file");
			iw_report_set_backing(r, name, backing_len, NULL);
		}
	}
	return 0;
}

const struct iw_format iw_format_qcow = {
	.name = "qcow",
	.kind = IW_KIND_IMAGE,
	.match = qcow_match,
	.probe = qcow_probe,
};
