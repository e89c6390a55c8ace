/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zstd (RFC 8878): frame header fields for the report (skipping leading
 * skippable frames), then the shared wrapper probe (wrapper.c).
 *
 * qemu has no zstd driver (zstd appears only inside qcow2 clusters), so
 * matching the frame or skippable-frame magic at offset 0 is enough.
 */
#include "../bytes.h"
#include "wrapper.h"

#define ZSTD_FRAME_MAGIC 0xfd2fb528u
#define ZSTD_SKIPPABLE_MASK 0xfffffff0u
#define ZSTD_SKIPPABLE_MAGIC 0x184d2a50u
/* Leading skippable frames walked before giving up on finding the first
 * real frame; real files have none or one (e.g. seekable-format index). */
#define ZSTD_MAX_SKIPPABLE 16
#define ZSTD_MAX_FRAME_HEADER 18 /* magic 4 + FHD 1 + WD 1 + DID 4 + FCS 8 */

static bool zstd_match(const struct iw_view *v, const uint8_t *head,
		       size_t head_len)
{
	return iw_decompress_is_magic(IW_COMPRESSION_ZSTD, head, head_len);
}

/* RFC 8878 §3.1.1.1: the frame header at off. */
static void zstd_parse_frame_header(const struct iw_view *v, uint64_t off,
				    struct iw_report *r)
{
	static const unsigned did_sizes[4] = { 0, 1, 2, 4 };
	uint8_t h[ZSTD_MAX_FRAME_HEADER] = { 0 };
	unsigned fcs_flag, did_size, fcs_size;
	bool single_segment;
	uint64_t fcs = 0, dict_id = 0;
	size_t got, pos = 5;
	uint8_t fhd;

	if (iw_view_read_upto(v, h, sizeof(h), off, &got) < 0 || got < 5) {
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "the zstd frame header at offset %llu is cut short",
			   (unsigned long long)off);
		return;
	}
	fhd = h[4];
	fcs_flag = fhd >> 6;
	single_segment = fhd & 0x20;
	did_size = did_sizes[fhd & 3];
	fcs_size = fcs_flag == 0 ? (single_segment ? 1 : 0) : 1u << fcs_flag;
	/* §3.1.1.1.1: bit 3 is reserved and must be zero */
	if (fhd & 0x08)
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "the zstd frame header sets a reserved bit");
	if (pos + !single_segment + did_size + fcs_size > got) {
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "the zstd frame header at offset %llu is cut short",
			   (unsigned long long)off);
		return;
	}
	if (!single_segment) {
		/* §3.1.1.1.2: window = 2^(10+exponent) + mantissa/8 of it */
		unsigned exponent = h[pos] >> 3, mantissa = h[pos] & 7;
		uint64_t base = UINT64_C(1) << (10 + exponent);

		iw_fs_set_int(r, "window-size",
			      (int64_t)(base + base / 8 * mantissa));
		pos++;
	}
	for (unsigned i = 0; i < did_size; i++)
		dict_id |= (uint64_t)h[pos + i] << (8 * i);
	pos += did_size;
	for (unsigned i = 0; i < fcs_size; i++)
		fcs |= (uint64_t)h[pos + i] << (8 * i);
	if (fcs_size == 2)
		fcs += 256; /* §3.1.1.1.4 */
	if (fcs_size)
		iw_fs_set_int(r, "content-size", fcs <= INT64_MAX ? (int64_t)fcs
								 : -1);
	if (dict_id)
		iw_fs_set_int(r, "dictionary-id", (int64_t)dict_id);
	iw_fs_set_bool(r, "content-checksum", fhd & 0x04);
}

static void zstd_parse_header(const struct iw_view *v, struct iw_report *r)
{
	uint64_t off = 0;
	unsigned skippable = 0;

	for (;;) {
		uint8_t h[8];
		uint64_t next;

		if (iw_view_read(v, h, sizeof(h), off) < 0) {
			iw_finding(r, IW_F_BAD_ARCHIVE,
				   "the zstd stream ends in a frame header at "
				   "offset %llu",
				   (unsigned long long)off);
			break;
		}
		if (get_le32(h) == ZSTD_FRAME_MAGIC) {
			zstd_parse_frame_header(v, off, r);
			break;
		}
		if ((get_le32(h) & ZSTD_SKIPPABLE_MASK) !=
		    ZSTD_SKIPPABLE_MAGIC) {
			iw_finding(r, IW_F_BAD_ARCHIVE,
				   "no zstd frame magic at offset %llu",
				   (unsigned long long)off);
			break;
		}
		if (++skippable > ZSTD_MAX_SKIPPABLE) {
			iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
				   "more than %d skippable frames before the "
				   "first zstd frame",
				   ZSTD_MAX_SKIPPABLE);
			break;
		}
		/* §3.1.2: magic, 4-byte LE size, user data */
		if (ADD_OVERFLOW(off, 8 + (uint64_t)get_le32(h + 4), &next))
			break;
		off = next;
		if (off >= v->size)
			break; /* only skippable frames: the decoder decides */
	}
	iw_fs_set_int(r, "skippable-frames", skippable);
}

static int zstd_probe(const struct iw_view *v, const uint8_t *head,
		      size_t head_len, struct iw_report *r,
		      struct iw_probe_ctx *ctx)
{
	zstd_parse_header(v, r);
	return iw_wrapper_probe(v, r, ctx, IW_COMPRESSION_ZSTD);
}

const struct iw_format iw_format_zstd = {
	.name = "zstd",
	.kind = IW_KIND_WRAPPER,
	.match = zstd_match,
	.probe = zstd_probe,
};
