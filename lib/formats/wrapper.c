/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The common half of the compressed wrappers: decompress a bounded head,
 * turn the way the decoder stopped into findings, and sniff the head as
 * the image inside.
 *
 * imgward does not convert compressed images, so every wrapper carries
 * `compressed` (unsupported); the point of looking inside is to say what
 * the file would be once decompressed, and to make the wrapper unsafe
 * when that is unsafe (nested-unsafe, via iw_report_add_child), so a
 * caller that decompresses first and sniffs second is not the only line
 * of defence.
 */
#include <errno.h>
#include <stdlib.h>

#include "wrapper.h"

/* Each nesting level gets a quarter of its parent's head (16 MiB, 4 MiB,
 * 1 MiB): a gzip in a gzip in a gzip keeps the sum of the heads alive at
 * once, and the helper's memory must stay well under 64 MiB. */
#define WRAPPER_HEAD_MIN (1024 * 1024)

static uint64_t wrapper_head_cap(unsigned depth)
{
	uint64_t cap = IW_DECOMPRESS_HEAD_MAX;

	for (unsigned i = 0; i < depth && cap > WRAPPER_HEAD_MIN; i++)
		cap /= 4;
	return MAX(cap, (uint64_t)WRAPPER_HEAD_MIN);
}

static void wrapper_report_status(struct iw_report *r, const char *name,
				  const struct iw_decompress_result *res,
				  uint64_t cap)
{
	switch (res->status) {
	case IW_DECOMPRESS_END:
		iw_fs_set_int(r, "decompressed-size", (int64_t)res->out_bytes);
		if (res->trailing_bytes)
			iw_finding(r, IW_F_TRAILING_DATA,
				   "%llu bytes%s after the last %s stream at "
				   "offset %llu",
				   (unsigned long long)res->trailing_bytes,
				   res->trailing_zero ? " of zero padding" : "",
				   name,
				   (unsigned long long)res->trailing_offset);
		break;
	case IW_DECOMPRESS_OUTPUT_CAP:
	case IW_DECOMPRESS_STOPPED:
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "only the first %llu decompressed bytes were "
			   "inspected",
			   (unsigned long long)cap);
		break;
	case IW_DECOMPRESS_RATIO_CAP:
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "decompression stopped at %llu bytes: the "
			   "compression ratio exceeds %u:1",
			   (unsigned long long)res->out_bytes,
			   (unsigned)IW_DECOMPRESS_HEAD_RATIO_MAX);
		break;
	case IW_DECOMPRESS_BUDGET:
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "read budget spent after %llu compressed bytes",
			   (unsigned long long)res->in_bytes);
		break;
	case IW_DECOMPRESS_TRUNCATED:
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "the %s stream is truncated: it ends before its "
			   "end marker after %llu decompressed bytes",
			   name, (unsigned long long)res->out_bytes);
		break;
	case IW_DECOMPRESS_CORRUPT:
		iw_finding(r, IW_F_BAD_ARCHIVE,
			   "corrupt %s stream after %llu compressed and %llu "
			   "decompressed bytes: %s",
			   name, (unsigned long long)res->in_bytes,
			   (unsigned long long)res->out_bytes,
			   res->message ? res->message : "decoder error");
		break;
	case IW_DECOMPRESS_MEMLIMIT:
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "%s (cap %u MiB)",
			   res->message ? res->message : "too much memory",
			   (unsigned)(IW_DECOMPRESS_MAX_DECODER_MEM >> 20));
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "the %s stream was not decompressed", name);
		break;
	case IW_DECOMPRESS_UNSUPPORTED:
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE, "%s",
			   res->message ? res->message : "unsupported stream");
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "the %s stream was not decompressed", name);
		break;
	}
}

int iw_wrapper_probe(const struct iw_view *v, struct iw_report *r,
		     struct iw_probe_ctx *ctx, enum iw_compression kind)
{
	const char *name = iw_compression_name(kind);
	uint64_t cap = wrapper_head_cap(r->depth);
	struct iw_decompress_limits limits = {
		.max_out = cap,
		.max_ratio = IW_DECOMPRESS_HEAD_RATIO_MAX,
	};
	struct iw_decompress_result res;
	_cleanup_free_ uint8_t *head = NULL;
	struct iw_report child;
	struct iw_view inner;
	size_t len = 0;
	int ret;

	r->format = name;
	iw_finding(r, IW_F_COMPRESSED,
		   "%s-compressed file: decompress it before importing", name);

	ret = iw_decompress_head(v, kind, &limits, &head, &len, &res);
	if (ret < 0)
		return ret;
	wrapper_report_status(r, name, &res, cap);
	iw_fs_set_int(r, "streams", res.streams);
	iw_fs_set_int(r, "inspected-bytes", (int64_t)len);
	if (len == 0)
		return 0;

	iw_view_init_mem(&inner, head, len);
	/* Only a stream that ended inside the cap is the whole image; for
	 * a head, a truncated or a corrupt stream, "past the end" of what we
	 * hold means "not inspected" (readers say inspection-incomplete,
	 * not truncated; the stream's own fault is reported above). */
	inner.partial = res.status != IW_DECOMPRESS_END;
	/* one budget for the whole probe, however deep */
	inner.budget = v->budget;

	ret = iw_report_init(&child);
	if (ret < 0)
		return ret;
	ret = iw_probe_nested(ctx, &inner, &child);
	if (ret == -ELOOP) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "the decompressed data is nested too deeply to be "
			   "inspected (more than %d levels)",
			   IW_MAX_NESTING);
		ret = 0;
	} else if (ret == 0) {
		ret = iw_report_add_child(r, "inner", NULL, &child);
	}
	iw_report_done(&child);
	return ret;
}
