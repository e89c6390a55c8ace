/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cloop (compressed loop, V2.0) images: detected and reported, never
 * accepted.
 *
 * qemu 7.2 auto-detects them by their shell-script preamble
 * (block/cloop.c, score 2). After the 128-byte preamble come the block
 * size and block count (big-endian) and n_blocks + 1 absolute file
 * offsets of the zlib-compressed blocks. qemu's open-time limits were
 * added for CVE-2014-0144 (unchecked block count and offsets).
 */
#include <errno.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"

/* qemu compares the whole preamble; the version line is enough for us */
#define CLOOP_MAGIC_PREFIX "#!/bin/sh\n#V2.0 Format\n"
#define CLOOP_HEADER_AT 128
#define CLOOP_OFFSETS_AT (CLOOP_HEADER_AT + 8)
/* qemu's caps (cloop_open) */
#define CLOOP_MAX_BLOCK_SIZE (64u * 1024 * 1024)
#define CLOOP_MAX_OFFSETS_SIZE (512u * 1024 * 1024)
#define CLOOP_MAX_COMPRESSED (2ull * CLOOP_MAX_BLOCK_SIZE)
/* We read the offsets in chunks, and walk at most this many (8 MiB of
 * offsets: 1 Mi blocks, 256 GiB of 256 KiB blocks); past it the rest is
 * not checked. */
#define CLOOP_CHUNK (64 * 1024)
#define CLOOP_SCAN_MAX (UINT32_C(1) << 20)

static bool cloop_match(const struct iw_view *v, const uint8_t *head,
			size_t head_len)
{
	return head_len >= sizeof(CLOOP_MAGIC_PREFIX) - 1 &&
	       memcmp(head, CLOOP_MAGIC_PREFIX,
		      sizeof(CLOOP_MAGIC_PREFIX) - 1) == 0;
}

/* Offsets must grow, no compressed block may exceed qemu's bound, and
 * the last one must lie inside the file. */
static int cloop_check_offsets(const struct iw_view *v, struct iw_report *r,
			       uint32_t n_offsets)
{
	_cleanup_free_ uint8_t *chunk = NULL;
	uint32_t n_scan = MIN(n_offsets, CLOOP_SCAN_MAX), i = 0;
	uint64_t prev = 0, last = 0;
	bool bad_order = false, bad_size = false;
	int ret;

	if (n_offsets > n_scan)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "only the first %u of %u cloop offsets were "
			   "checked",
			   n_scan, n_offsets);
	chunk = malloc(CLOOP_CHUNK);
	if (!chunk)
		return -ENOMEM;
	while (i < n_scan) {
		uint32_t n = MIN(n_scan - i, CLOOP_CHUNK / 8);

		ret = iw_read_struct(v, r, chunk, (size_t)n * 8,
				     CLOOP_OFFSETS_AT + (uint64_t)i * 8,
				     "cloop offsets");
		if (ret == -ERANGE || ret == -E2BIG)
			return 0;
		if (ret < 0)
			return ret;
		for (uint32_t k = 0; k < n; k++, i++) {
			uint64_t off = get_be64(chunk + (size_t)k * 8);

			if (i == 0) {
				/* the first offset starts block 0 */
			} else if (off < prev) {
				if (!bad_order)
					iw_finding(r, IW_F_BAD_FIELD,
						   "cloop offset %u goes "
						   "backwards",
						   i);
				bad_order = true;
			} else if (off - prev > CLOOP_MAX_COMPRESSED) {
				if (!bad_size)
					iw_finding(r, IW_F_BAD_FIELD,
						   "cloop block %u is %llu "
						   "bytes compressed",
						   i,
						   (unsigned long long)(off -
									prev));
				bad_size = true;
			}
			prev = off;
			last = MAX(last, off);
		}
	}
	if (!v->partial && last > v->size)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "a cloop block ends at %llu, past the end of the "
			   "file (%llu bytes)",
			   (unsigned long long)last,
			   (unsigned long long)v->size);
	return 0;
}

static int cloop_probe(const struct iw_view *v, const uint8_t *head,
		       size_t head_len, struct iw_report *r,
		       struct iw_probe_ctx *ctx)
{
	uint8_t h[8];
	uint32_t block_size, n_blocks, qemu_sectors;
	uint64_t offsets_size;
	bool block_size_ok;
	int ret;

	r->format = "cloop";
	iw_finding(r, IW_F_UNSUPPORTED_FORMAT, "cloop images are not accepted");
	ret = iw_read_struct(v, r, h, sizeof(h), CLOOP_HEADER_AT,
			     "cloop header");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;

	block_size = get_be32(h);
	n_blocks = get_be32(h + 4);
	iw_fs_set_int(r, "block-size", block_size);
	iw_fs_set_int(r, "n-blocks", n_blocks);

	block_size_ok = block_size != 0 && block_size % 512 == 0 &&
			block_size <= CLOOP_MAX_BLOCK_SIZE;
	if (!block_size_ok)
		iw_finding(r, IW_F_BAD_FIELD,
			   "cloop block size %u (a multiple of 512 up to "
			   "64 MiB)",
			   block_size);

	/* CVE-2014-0144: (n_blocks + 1) * 8 must not overflow, and qemu
	 * allocates the table whole */
	offsets_size = ((uint64_t)n_blocks + 1) * 8;
	if (offsets_size > CLOOP_MAX_OFFSETS_SIZE) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "cloop image of %u blocks (CVE-2014-0144)",
			   n_blocks);
		return 0;
	}

	if (block_size_ok) {
		uint64_t sectors = (uint64_t)n_blocks * (block_size / 512);

		/* qemu computes this product in 32 bits: report what it
		 * would say, and that it is wrong */
		qemu_sectors = (uint32_t)sectors;
		r->virtual_size = (int64_t)qemu_sectors * 512;
		if (sectors != qemu_sectors)
			iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
				   "cloop image of %llu sectors overflows "
				   "qemu's 32-bit sector count",
				   (unsigned long long)sectors);
	}

	if (!iw_check_table(v, r, CLOOP_OFFSETS_AT, offsets_size,
			    "cloop offsets"))
		return 0;
	return cloop_check_offsets(v, r, n_blocks + 1);
}

const struct iw_format iw_format_cloop = {
	.name = "cloop",
	.kind = IW_KIND_IMAGE,
	.match = cloop_match,
	.probe = cloop_probe,
};
