/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bzip2: "BZh" + block-size digit, then a block (pi, 0x314159265359) or
 * the end-of-stream marker (sqrt(pi), 0x177245385090). Header fields for
 * the report, then the shared wrapper probe (wrapper.c).
 *
 * qemu has no bzip2 driver. match() also wants the 48-bit marker after
 * the 4-byte header, so a text file starting "BZh9" is not taken for one.
 */
#include <string.h>

#include "wrapper.h"

#define BZIP2_HEADER_SIZE 10

static const uint8_t bzip2_block_magic[6] = { 0x31, 0x41, 0x59,
					      0x26, 0x53, 0x59 };
static const uint8_t bzip2_eos_magic[6] = { 0x17, 0x72, 0x45,
					    0x38, 0x50, 0x90 };

static bool bzip2_match(const struct iw_view *v, const uint8_t *head,
			size_t head_len)
{
	if (!iw_decompress_is_magic(IW_COMPRESSION_BZIP2, head, head_len) ||
	    head_len < BZIP2_HEADER_SIZE)
		return false;
	return memcmp(head + 4, bzip2_block_magic, 6) == 0 ||
	       memcmp(head + 4, bzip2_eos_magic, 6) == 0;
}

static int bzip2_probe(const struct iw_view *v, const uint8_t *head,
		       size_t head_len, struct iw_report *r,
		       struct iw_probe_ctx *ctx)
{
	/* the digit is the block size in units of 100 000 bytes */
	iw_fs_set_int(r, "block-size", (head[3] - '0') * 100000);
	iw_fs_set_bool(r, "empty", memcmp(head + 4, bzip2_eos_magic, 6) == 0);
	return iw_wrapper_probe(v, r, ctx, IW_COMPRESSION_BZIP2);
}

const struct iw_format iw_format_bzip2 = {
	.name = "bzip2",
	.kind = IW_KIND_WRAPPER,
	.match = bzip2_match,
	.probe = bzip2_probe,
};
