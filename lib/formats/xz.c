/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xz (the .xz file format, tukaani xz-file-format-1.1.0): stream header
 * and footer fields for the report, the index's uncompressed size, then
 * the shared wrapper probe (wrapper.c).
 *
 * qemu has no xz driver, so matching the 6-byte magic is enough.
 */
#include <lzma.h>
#include <string.h>

#include "../bytes.h"
#include "wrapper.h"

#define XZ_HEADER_SIZE 12 /* §2.1.1: magic 6, flags 2, CRC32 4 */
#define XZ_FOOTER_SIZE 12 /* §2.1.2: CRC32 4, backward size 4, flags 2,
			     "YZ" */
/* The index of a real image is a few KiB (one record per block); a cap
 * keeps a hostile backward size from costing a large read. */
#define XZ_INDEX_MAX (1024 * 1024)
#define XZ_INDEX_MEMLIMIT (4 * 1024 * 1024)

static bool xz_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return iw_decompress_is_magic(IW_COMPRESSION_XZ, head, head_len);
}

static const char *xz_check_name(unsigned check)
{
	/* §2.1.1.2 */
	switch (check) {
	case 0x0:
		return "none";
	case 0x1:
		return "crc32";
	case 0x4:
		return "crc64";
	case 0xa:
		return "sha256";
	default:
		return NULL;
	}
}

/* The last stream's index: how large the data says it is, without
 * decompressing it. Only reported; the decoder checks the index itself. */
static void xz_read_index(const struct iw_view *v, struct iw_report *r)
{
	uint8_t footer[XZ_FOOTER_SIZE];
	lzma_stream_flags flags;
	_cleanup_free_ uint8_t *index = NULL;
	uint64_t memlimit = XZ_INDEX_MEMLIMIT;
	lzma_index *idx = NULL;
	size_t pos = 0;

	if (v->size < XZ_HEADER_SIZE + XZ_FOOTER_SIZE ||
	    iw_view_read(v, footer, sizeof(footer),
			 v->size - XZ_FOOTER_SIZE) < 0)
		return;
	if (memcmp(footer + 10, "YZ", 2) != 0 ||
	    lzma_stream_footer_decode(&flags, footer) != LZMA_OK) {
		/* the stream is truncated, padded or followed by data: the
		 * decoder says which */
		iw_fs_set_bool(r, "footer-at-end", false);
		return;
	}
	iw_fs_set_bool(r, "footer-at-end", true);
	if (flags.backward_size > XZ_INDEX_MAX ||
	    flags.backward_size > v->size - XZ_HEADER_SIZE - XZ_FOOTER_SIZE)
		return;
	if (iw_view_read_alloc(v,
			       v->size - XZ_FOOTER_SIZE - flags.backward_size,
			       (size_t)flags.backward_size,
			       (void **)&index) < 0)
		return;
	if (lzma_index_buffer_decode(&idx, &memlimit, NULL, index, &pos,
				     (size_t)flags.backward_size) != LZMA_OK)
		return;
	iw_fs_set_int(r, "index-uncompressed-size",
		      (int64_t)lzma_index_uncompressed_size(idx));
	iw_fs_set_int(r, "index-blocks", (int64_t)lzma_index_block_count(idx));
	lzma_index_end(idx, NULL);
}

static void xz_parse_header(const struct iw_view *v, const uint8_t *head,
			    size_t head_len, struct iw_report *r)
{
	const char *check;

	if (head_len < XZ_HEADER_SIZE) {
		iw_finding(r, IW_F_TRUNCATED,
			   "the xz stream header (12 bytes) is cut short at "
			   "%zu bytes",
			   head_len);
		return;
	}
	/* §2.1.1.3: CRC32 of the two stream-flag bytes */
	if (iw_crc32(0, head + 6, 2) != get_le32(head + 8))
		iw_finding(r, IW_F_BAD_CHECKSUM,
			   "the xz stream header CRC32 does not match");
	/* §2.1.1.2: the first byte and the high nibble are reserved */
	if (head[6] != 0 || (head[7] & 0xf0))
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "reserved xz stream flags 0x%02x%02x are set",
			   head[6], head[7]);
	check = xz_check_name(head[7] & 0x0f);
	if (check)
		iw_fs_set_str(r, "check", check);
	else
		iw_fs_set_int(r, "check", head[7] & 0x0f);
	xz_read_index(v, r);
}

static int xz_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	xz_parse_header(v, head, head_len, r);
	return iw_wrapper_probe(v, r, ctx, IW_COMPRESSION_XZ);
}

const struct iw_format iw_format_xz = {
	.name = "xz",
	.kind = IW_KIND_WRAPPER,
	.match = xz_match,
	.probe = xz_probe,
};
