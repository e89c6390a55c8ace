/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounded decompression (see decompress.h). One small adapter per
 * library turns zlib, liblzma, libzstd and libbz2 into the same "step"
 * (consume some input, produce some output, say whether a stream ended),
 * and one loop applies the caps and handles concatenated streams.
 */
#define ZLIB_CONST
#include <bzlib.h>
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "../bytes.h"
#include "../util.h"
#include "decompress.h"

/* Input and output are processed in chunks of this size: small enough to
 * keep memory flat, large enough that library call overhead is nil. */
#define DECOMPRESS_CHUNK (64 * 1024)

/* After the last stream, at most this many bytes are scanned to tell
 * zero padding (tape blocks, xz stream padding) from other data. */
#define DECOMPRESS_TRAILING_SCAN_MAX (1024 * 1024)

/* A decoder that neither consumes nor produces this many times in a row
 * while input and output space are available is broken or hostile. */
#define DECOMPRESS_MAX_STALLS 4

enum step_result {
	STEP_OK,
	STEP_END,
	STEP_ERROR,
	STEP_MEMLIMIT,
	STEP_UNSUPPORTED,
};

struct decoder {
	enum iw_compression kind;
	bool active;
	z_stream z;
	lzma_stream x;
	ZSTD_DStream *zs;
	bz_stream bz;
};

const char *iw_compression_name(enum iw_compression kind)
{
	switch (kind) {
	case IW_COMPRESSION_GZIP:
		return "gzip";
	case IW_COMPRESSION_XZ:
		return "xz";
	case IW_COMPRESSION_ZSTD:
		return "zstd";
	case IW_COMPRESSION_BZIP2:
		return "bzip2";
	}
	return "?";
}

bool iw_decompress_is_magic(enum iw_compression kind, const uint8_t *buf,
			    size_t len)
{
	static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	uint32_t m;

	switch (kind) {
	case IW_COMPRESSION_GZIP:
		/* RFC 1952 §2.3.1: ID1 ID2, CM 8 (deflate) is the only method */
		return len >= 3 && buf[0] == 0x1f && buf[1] == 0x8b &&
		       buf[2] == 8;
	case IW_COMPRESSION_XZ:
		return len >= 6 && memcmp(buf, xz_magic, 6) == 0;
	case IW_COMPRESSION_ZSTD:
		if (len < 4)
			return false;
		m = get_le32(buf);
		/* RFC 8878 §3.1.1 frame magic, §3.1.2 skippable frames */
		return m == 0xfd2fb528u || (m & 0xfffffff0u) == 0x184d2a50u;
	case IW_COMPRESSION_BZIP2:
		return len >= 4 && buf[0] == 'B' && buf[1] == 'Z' &&
		       buf[2] == 'h' && buf[3] >= '1' && buf[3] <= '9';
	}
	return false;
}

static void decoder_end(struct decoder *d)
{
	if (!d->active)
		return;
	switch (d->kind) {
	case IW_COMPRESSION_GZIP:
		inflateEnd(&d->z);
		break;
	case IW_COMPRESSION_XZ:
		lzma_end(&d->x);
		break;
	case IW_COMPRESSION_ZSTD:
		ZSTD_freeDStream(d->zs);
		d->zs = NULL;
		break;
	case IW_COMPRESSION_BZIP2:
		BZ2_bzDecompressEnd(&d->bz);
		break;
	}
	d->active = false;
}

/* Prepare for the next stream (the first or a concatenated one). */
static int decoder_start(struct decoder *d)
{
	switch (d->kind) {
	case IW_COMPRESSION_GZIP:
		if (d->active)
			return inflateReset(&d->z) == Z_OK ? 0 : -ENOMEM;
		memset(&d->z, 0, sizeof(d->z));
		/* 16 + 15: gzip wrapper only (no zlib/raw auto-detection),
		 * 32 KiB window, the deflate maximum */
		if (inflateInit2(&d->z, 16 + 15) != Z_OK)
			return -ENOMEM;
		break;
	case IW_COMPRESSION_XZ:
		if (!d->active)
			d->x = (lzma_stream)LZMA_STREAM_INIT;
		/* flags 0: one stream per decoder; concatenation is handled by
		 * the caller so that trailing data can be told apart */
		if (lzma_stream_decoder(&d->x, IW_DECOMPRESS_MAX_DECODER_MEM,
					0) != LZMA_OK)
			return -ENOMEM;
		break;
	case IW_COMPRESSION_ZSTD:
		if (!d->active) {
			d->zs = ZSTD_createDStream();
			if (!d->zs)
				return -ENOMEM;
		}
		ZSTD_DCtx_reset(d->zs, ZSTD_reset_session_only);
		/* the window is the decoder's big allocation: cap it */
		if (ZSTD_isError(ZSTD_DCtx_setParameter(
			    d->zs, ZSTD_d_windowLogMax,
			    IW_DECOMPRESS_ZSTD_WINDOW_LOG_MAX))) {
			ZSTD_freeDStream(d->zs);
			d->zs = NULL;
			return -ENOMEM;
		}
		break;
	case IW_COMPRESSION_BZIP2:
		/* libbz2 cannot be reset: end and start again */
		if (d->active)
			BZ2_bzDecompressEnd(&d->bz);
		d->active = false;
		memset(&d->bz, 0, sizeof(d->bz));
		/* small = 0: at most ~3.7 MB for BZh9, well under the cap */
		if (BZ2_bzDecompressInit(&d->bz, 0, 0) != BZ_OK)
			return -ENOMEM;
		break;
	}
	d->active = true;
	return 0;
}

/* One decoder call; *consumed and *produced say how far it got. Returns a
 * step result, or -ENOMEM. */
static int decoder_step(struct decoder *d, const uint8_t *in, size_t in_len,
			uint8_t *out, size_t out_len, size_t *consumed,
			size_t *produced, const char **message)
{
	int ret;

	switch (d->kind) {
	case IW_COMPRESSION_GZIP:
		d->z.next_in = in;
		d->z.avail_in = (uInt)in_len;
		d->z.next_out = out;
		d->z.avail_out = (uInt)out_len;
		ret = inflate(&d->z, Z_NO_FLUSH);
		*consumed = in_len - d->z.avail_in;
		*produced = out_len - d->z.avail_out;
		switch (ret) {
		case Z_STREAM_END:
			return STEP_END;
		case Z_OK:
		case Z_BUF_ERROR:
			return STEP_OK;
		case Z_MEM_ERROR:
			return -ENOMEM;
		case Z_NEED_DICT:
			*message = "the deflate stream needs a preset dictionary";
			return STEP_ERROR;
		default:
			/* zlib's messages are string literals */
			*message = d->z.msg ? d->z.msg : "invalid deflate data";
			return STEP_ERROR;
		}
	case IW_COMPRESSION_XZ:
		d->x.next_in = in;
		d->x.avail_in = in_len;
		d->x.next_out = out;
		d->x.avail_out = out_len;
		ret = lzma_code(&d->x, LZMA_RUN);
		*consumed = in_len - d->x.avail_in;
		*produced = out_len - d->x.avail_out;
		switch (ret) {
		case LZMA_STREAM_END:
			return STEP_END;
		case LZMA_OK:
		case LZMA_BUF_ERROR:
			return STEP_OK;
		case LZMA_MEM_ERROR:
			return -ENOMEM;
		case LZMA_MEMLIMIT_ERROR:
			*message = "the xz stream needs more decoder memory "
				   "than allowed";
			return STEP_MEMLIMIT;
		case LZMA_FORMAT_ERROR:
			*message = "not an xz stream";
			return STEP_ERROR;
		case LZMA_OPTIONS_ERROR:
			*message = "unsupported xz stream options";
			return STEP_UNSUPPORTED;
		default:
			*message = "corrupt xz data";
			return STEP_ERROR;
		}
	case IW_COMPRESSION_ZSTD: {
		ZSTD_inBuffer ib = { .src = in, .size = in_len, .pos = 0 };
		ZSTD_outBuffer ob = { .dst = out, .size = out_len, .pos = 0 };
		size_t zret = ZSTD_decompressStream(d->zs, &ob, &ib);

		*consumed = ib.pos;
		*produced = ob.pos;
		if (ZSTD_isError(zret)) {
			switch (ZSTD_getErrorCode(zret)) {
			case ZSTD_error_frameParameter_windowTooLarge:
				*message = "the zstd frame's window is larger "
					   "than allowed";
				return STEP_MEMLIMIT;
			case ZSTD_error_dictionary_wrong:
				*message = "the zstd frame needs a dictionary";
				return STEP_UNSUPPORTED;
			case ZSTD_error_memory_allocation:
				return -ENOMEM;
			default:
				/* static strings */
				*message = ZSTD_getErrorName(zret);
				return STEP_ERROR;
			}
		}
		return zret == 0 ? STEP_END : STEP_OK;
	}
	case IW_COMPRESSION_BZIP2: {
		/* libbz2's next_in is not const but is only read; the
		 * uintptr_t round trip says so without a qualifier cast */
		d->bz.next_in = (char *)(uintptr_t)in;
		d->bz.avail_in = (unsigned)in_len;
		d->bz.next_out = (char *)out;
		d->bz.avail_out = (unsigned)out_len;
		ret = BZ2_bzDecompress(&d->bz);
		*consumed = in_len - d->bz.avail_in;
		*produced = out_len - d->bz.avail_out;
		switch (ret) {
		case BZ_STREAM_END:
			return STEP_END;
		case BZ_OK:
			return STEP_OK;
		case BZ_MEM_ERROR:
			return -ENOMEM;
		case BZ_DATA_ERROR_MAGIC:
			*message = "not a bzip2 stream";
			return STEP_ERROR;
		default:
			*message = "corrupt bzip2 data";
			return STEP_ERROR;
		}
	}
	}
	return -EINVAL;
}

/* Count zero bytes from off (bounded scan). *ret_all_zero: every byte to
 * the end of the view was scanned and is zero. */
static int count_zeros(const struct iw_view *v, uint64_t off, uint8_t *buf,
		       uint64_t *ret_zeros, bool *ret_all_zero)
{
	uint64_t zeros = 0;

	*ret_all_zero = false;
	while (off + zeros < v->size && zeros < DECOMPRESS_TRAILING_SCAN_MAX) {
		size_t n = (size_t)MIN((uint64_t)DECOMPRESS_CHUNK,
				       v->size - off - zeros);
		size_t i;
		int ret = iw_view_read(v, buf, n, off + zeros);

		if (ret < 0)
			return ret;
		for (i = 0; i < n && buf[i] == 0; i++)
			;
		zeros += i;
		if (i < n) {
			*ret_zeros = zeros;
			return 0;
		}
	}
	*ret_zeros = zeros;
	*ret_all_zero = off + zeros == v->size;
	return 0;
}

/*
 * A stream ended at `end`. Decide whether another stream follows (then
 * *ret_next is its offset) or the rest is trailing data (filled into res).
 */
static int find_next_stream(const struct iw_view *v, enum iw_compression kind,
			    uint64_t end, uint8_t *buf, uint64_t *ret_next,
			    struct iw_decompress_result *res)
{
	uint8_t magic[8];
	uint64_t zeros = 0;
	bool all_zero = false;
	size_t got;
	int ret;

	*ret_next = UINT64_MAX;
	if (end >= v->size)
		return 0;
	ret = iw_view_read_upto(v, magic, sizeof(magic), end, &got);
	if (ret < 0)
		return ret;
	if (iw_decompress_is_magic(kind, magic, got)) {
		*ret_next = end;
		return 0;
	}
	ret = count_zeros(v, end, buf, &zeros, &all_zero);
	if (ret < 0)
		return ret;
	/* xz (xz-file-format §2.2): stream padding is a multiple of four
	 * zero bytes and may separate concatenated streams */
	if (kind == IW_COMPRESSION_XZ && !all_zero && zeros % 4 == 0 &&
	    zeros > 0) {
		ret = iw_view_read_upto(v, magic, sizeof(magic), end + zeros,
					&got);
		if (ret < 0)
			return ret;
		if (iw_decompress_is_magic(kind, magic, got)) {
			*ret_next = end + zeros;
			return 0;
		}
	}
	res->trailing_offset = end;
	res->trailing_bytes = v->size - end;
	res->trailing_zero = all_zero;
	return 0;
}

int iw_decompress(const struct iw_view *v, enum iw_compression kind,
		  const struct iw_decompress_limits *limits,
		  iw_decompress_sink sink, void *opaque,
		  struct iw_decompress_result *res)
{
	_cleanup_free_ uint8_t *inbuf = NULL, *outbuf = NULL;
	struct decoder d = { .kind = kind };
	uint64_t in_off = 0; /* view offset of inbuf[in_len] */
	size_t in_pos = 0, in_len = 0;
	unsigned stalls = 0;
	int ret;

	*res = (struct iw_decompress_result){ .status = IW_DECOMPRESS_END };
	inbuf = malloc(DECOMPRESS_CHUNK);
	outbuf = malloc(DECOMPRESS_CHUNK);
	if (!inbuf || !outbuf)
		return -ENOMEM;
	ret = decoder_start(&d);
	if (ret < 0)
		return ret;

	/* Bounded: every pass consumes input or produces output (else
	 * `stalls` ends it), input is finite and budgeted, output capped. */
	for (;;) {
		size_t consumed = 0, produced = 0, deliver;
		bool input_done;
		int step;

		if (in_pos == in_len && in_off < v->size) {
			size_t n = (size_t)MIN((uint64_t)DECOMPRESS_CHUNK,
					       v->size - in_off);

			if (limits->max_in && in_off >= limits->max_in) {
				res->status = IW_DECOMPRESS_BUDGET;
				break;
			}
			ret = iw_view_read(v, inbuf, n, in_off);
			if (ret == -E2BIG) {
				res->status = IW_DECOMPRESS_BUDGET;
				break;
			}
			if (ret < 0)
				goto out;
			in_off += n;
			in_pos = 0;
			in_len = n;
		}
		input_done = in_pos == in_len && in_off >= v->size;

		step = decoder_step(&d, inbuf + in_pos, in_len - in_pos,
				    outbuf, DECOMPRESS_CHUNK, &consumed,
				    &produced, &res->message);
		if (step < 0) {
			ret = step;
			goto out;
		}
		in_pos += consumed;
		res->in_bytes += consumed;

		deliver = produced;
		if (limits->max_out &&
		    res->out_bytes + deliver > limits->max_out)
			deliver = (size_t)(limits->max_out - res->out_bytes);
		if (deliver > 0) {
			ret = sink(opaque, outbuf, deliver);
			if (ret < 0)
				goto out;
			res->out_bytes += deliver;
			if (ret > 0) {
				res->status = IW_DECOMPRESS_STOPPED;
				break;
			}
		}
		if (deliver < produced) {
			res->status = IW_DECOMPRESS_OUTPUT_CAP;
			break;
		}
		if (limits->max_ratio &&
		    res->out_bytes > IW_DECOMPRESS_RATIO_FLOOR &&
		    res->out_bytes / MAX(res->in_bytes, (uint64_t)1) >
			    limits->max_ratio) {
			res->status = IW_DECOMPRESS_RATIO_CAP;
			break;
		}

		if (step == STEP_ERROR || step == STEP_MEMLIMIT ||
		    step == STEP_UNSUPPORTED) {
			res->status = step == STEP_ERROR ? IW_DECOMPRESS_CORRUPT
				      : step == STEP_MEMLIMIT
					      ? IW_DECOMPRESS_MEMLIMIT
					      : IW_DECOMPRESS_UNSUPPORTED;
			break;
		}
		if (step == STEP_END) {
			uint64_t end = in_off - (in_len - in_pos), next;

			res->streams++;
			ret = find_next_stream(v, kind, end, outbuf, &next,
					       res);
			if (ret == -E2BIG) {
				res->status = IW_DECOMPRESS_BUDGET;
				break;
			}
			if (ret < 0)
				goto out;
			if (next == UINT64_MAX) {
				res->status = IW_DECOMPRESS_END;
				break;
			}
			/* restart reading exactly at the next stream */
			in_off = next;
			in_pos = in_len = 0;
			ret = decoder_start(&d);
			if (ret < 0)
				goto out;
			stalls = 0;
			continue;
		}
		if (consumed == 0 && produced == 0) {
			if (input_done) {
				res->status = IW_DECOMPRESS_TRUNCATED;
				res->message = "the stream ends before its end "
					       "marker";
				break;
			}
			if (++stalls > DECOMPRESS_MAX_STALLS) {
				res->status = IW_DECOMPRESS_CORRUPT;
				res->message = "the decoder makes no progress";
				break;
			}
		} else {
			stalls = 0;
		}
	}
	ret = 0;
out:
	decoder_end(&d);
	return ret;
}

struct head_sink {
	uint8_t *buf;
	size_t len, alloc, max;
};

static int head_sink_write(void *opaque, const void *data, size_t len)
{
	struct head_sink *h = opaque;

	/* the loop never delivers past max_out, which is h->max */
	if (len > h->max - h->len)
		return -EINVAL;
	if (h->len + len > h->alloc) {
		/* grow by doubling: small streams stay small */
		size_t n = h->alloc ? h->alloc : DECOMPRESS_CHUNK;
		uint8_t *p;

		while (n < h->len + len)
			n *= 2;
		n = MIN(n, h->max);
		p = realloc(h->buf, n);
		if (!p)
			return -ENOMEM;
		h->buf = p;
		h->alloc = n;
	}
	memcpy(h->buf + h->len, data, len);
	h->len += len;
	return 0;
}

int iw_decompress_head(const struct iw_view *v, enum iw_compression kind,
		       const struct iw_decompress_limits *limits,
		       uint8_t **ret_buf, size_t *ret_len,
		       struct iw_decompress_result *res)
{
	struct head_sink h = { .max = (size_t)limits->max_out };
	int ret;

	if (limits->max_out == 0 || limits->max_out > IW_DECOMPRESS_HEAD_MAX)
		return -EINVAL;
	ret = iw_decompress(v, kind, limits, head_sink_write, &h, res);
	if (ret < 0) {
		free(h.buf);
		return ret;
	}
	*ret_buf = h.buf;
	*ret_len = h.len;
	return 0;
}
