/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gzip (RFC 1952): header fields for the report, then the shared wrapper
 * probe (wrapper.c) decompresses a bounded head and sniffs it.
 *
 * qemu has no gzip driver (it would open a .gz as raw), so match() only
 * has to be at least as permissive as "never": we match ID1 ID2 CM=8.
 */
#include <string.h>

#include "../bytes.h"
#include "wrapper.h"

/* RFC 1952 §2.3.1 FLG bits */
#define GZIP_FHCRC 0x02
#define GZIP_FEXTRA 0x04
#define GZIP_FNAME 0x08
#define GZIP_FCOMMENT 0x10
#define GZIP_FRESERVED 0xe0

#define GZIP_FIXED_HEADER 10
/* the 8-byte trailer (CRC32, ISIZE) and the shortest deflate block */
#define GZIP_MIN_SIZE 18

static bool gzip_match(const struct iw_view *v, const uint8_t *head,
		       size_t head_len)
{
	return iw_decompress_is_magic(IW_COMPRESSION_GZIP, head, head_len);
}

/* A zero-terminated header string starting at *pos inside the head
 * buffer; reports it under key and moves *pos past the NUL. Names longer
 * than the head (64 KiB) are not real file names. */
static bool gzip_string(struct iw_report *r, const uint8_t *head,
			size_t head_len, size_t *pos, const char *key)
{
	const uint8_t *nul;
	size_t len;

	if (*pos >= head_len)
		return false;
	nul = memchr(head + *pos, 0, head_len - *pos);
	if (!nul)
		return false;
	len = (size_t)(nul - (head + *pos));
	iw_fs_set_bytes(r, key, head + *pos,
			MIN(len, (size_t)IW_REPORT_MAX_NAME));
	*pos += len + 1;
	return true;
}

/* Parse the first member's header. Faults are findings; returns nothing
 * because the decoder re-checks everything anyway. */
static void gzip_parse_header(const struct iw_view *v, const uint8_t *head,
			      size_t head_len, struct iw_report *r)
{
	size_t pos = GZIP_FIXED_HEADER;
	uint8_t flags;

	if (head_len < GZIP_FIXED_HEADER) {
		iw_finding(r, IW_F_TRUNCATED,
			   "the gzip header (10 bytes) is cut short at %zu "
			   "bytes",
			   head_len);
		return;
	}
	flags = head[3];
	iw_fs_set_int(r, "mtime", get_le32(head + 4));
	iw_fs_set_int(r, "extra-flags", head[8]);
	iw_fs_set_int(r, "os", head[9]);
	if (flags & GZIP_FRESERVED)
		/* §2.3.1.2: a decoder must reject reserved bits */
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "reserved gzip header flags 0x%02x are set",
			   flags & GZIP_FRESERVED);
	if (flags & GZIP_FEXTRA) {
		uint16_t xlen;

		if (!get_le16_at(head, head_len, pos, &xlen) ||
		    head_len - pos - 2 < xlen) {
			iw_finding(r, IW_F_BAD_ARCHIVE,
				   "the gzip extra field runs past the header");
			return;
		}
		iw_fs_set_int(r, "extra-length", xlen);
		pos += 2 + (size_t)xlen;
	}
	if ((flags & GZIP_FNAME) &&
	    !gzip_string(r, head, head_len, &pos, "original-name")) {
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "the gzip original name is not terminated");
		return;
	}
	if ((flags & GZIP_FCOMMENT) &&
	    !gzip_string(r, head, head_len, &pos, "comment")) {
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "the gzip comment is not terminated");
		return;
	}
	if (flags & GZIP_FHCRC) {
		uint16_t crc16;

		if (!get_le16_at(head, head_len, pos, &crc16)) {
			iw_finding(r, IW_F_BAD_ARCHIVE,
				   "the gzip header CRC is cut short");
			return;
		}
		/* §2.3.1: the two low bytes of the CRC32 of the header */
		if ((iw_crc32(0, head, pos) & 0xffff) != crc16)
			iw_finding(r, IW_F_BAD_CHECKSUM,
				   "the gzip header CRC16 does not match");
		pos += 2;
	}
	iw_fs_set_int(r, "header-size", (int64_t)pos);

	/* ISIZE (§2.3.1): the last member's size mod 2^32; a claim only */
	if (v->size >= GZIP_MIN_SIZE) {
		uint8_t isize[4];

		if (iw_view_read(v, isize, sizeof(isize), v->size - 4) == 0)
			iw_fs_set_int(r, "isize", get_le32(isize));
	} else {
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "a gzip file of %llu bytes is shorter than the "
			   "smallest gzip stream",
			   (unsigned long long)v->size);
	}
}

static int gzip_probe(const struct iw_view *v, const uint8_t *head,
		      size_t head_len, struct iw_report *r,
		      struct iw_probe_ctx *ctx)
{
	gzip_parse_header(v, head, head_len, r);
	return iw_wrapper_probe(v, r, ctx, IW_COMPRESSION_GZIP);
}

const struct iw_format iw_format_gzip = {
	.name = "gzip",
	.kind = IW_KIND_WRAPPER,
	.match = gzip_match,
	.probe = gzip_probe,
};
