/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounded decompression of gzip, xz, zstd and bzip2 streams read through a
 * view.
 *
 * The sniffer uses it to decompress a bounded head of a compressed image;
 * the converter reuses it to stream a whole file through a sink. Nothing
 * here trusts the stream: output is capped (bytes and ratio), input is read
 * through the view's budget, decoder memory is capped, and every exit says
 * why the loop stopped, so the caller can tell "the stream ended" from
 * "we stopped looking" from "the stream is broken".
 *
 * Concatenated streams (multi-member gzip, concatenated xz/bzip2 streams,
 * several zstd frames, zstd skippable frames) are decoded as one output,
 * as gzip -d, xz -d, zstd -d and bzip2 -d do. xz stream padding (zero
 * bytes in multiples of four) between and after streams is accepted.
 * Bytes after the last stream that do not start a new stream are
 * "trailing" and are not decoded.
 */
#ifndef IW_DECOMPRESS_H
#define IW_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../view.h"

enum iw_compression {
	IW_COMPRESSION_GZIP,
	IW_COMPRESSION_XZ,
	IW_COMPRESSION_ZSTD,
	IW_COMPRESSION_BZIP2,
};

/* Decoder memory cap. xz -7 (16 MiB dictionary) and zstd up to level 19
 * (8 MiB window; windowLog 24 allows 16 MiB) fit; xz -8/-9 and zstd
 * --ultra/--long need more and are reported, not decoded. The helper runs
 * under an address-space limit and must stay well under 64 MiB including
 * the decompressed head (IW_DECOMPRESS_HEAD_MAX). */
#define IW_DECOMPRESS_MAX_DECODER_MEM (24 * 1024 * 1024)
#define IW_DECOMPRESS_ZSTD_WINDOW_LOG_MAX 24

/* The sniffer's decompressed head: enough for the headers and first
 * tables of any image format (qcow2 L1/refcount tables of images up to
 * hundreds of GiB, VHD BAT, VMDK grain directory, tar member headers),
 * small enough to hold in memory next to the decoder. */
#define IW_DECOMPRESS_HEAD_MAX (16 * 1024 * 1024)

/* Ratio cap for the sniffer's head: a real disk image compresses its
 * zero runs very well (bzip2 of zeros exceeds 1:100000), so the cap only
 * applies once a meaningful amount was produced; past it the head stops
 * and the inner image is inspected as a prefix (inspection-incomplete). */
#define IW_DECOMPRESS_HEAD_RATIO_MAX 200000
#define IW_DECOMPRESS_RATIO_FLOOR (1024 * 1024)

enum iw_decompress_status {
	IW_DECOMPRESS_END,	   /* every stream ended cleanly */
	IW_DECOMPRESS_OUTPUT_CAP,  /* limits.max_out reached */
	IW_DECOMPRESS_RATIO_CAP,   /* limits.max_ratio exceeded */
	IW_DECOMPRESS_STOPPED,	   /* the sink asked to stop */
	IW_DECOMPRESS_BUDGET,	   /* the view's read budget is spent */
	IW_DECOMPRESS_TRUNCATED,   /* input ended inside a stream */
	IW_DECOMPRESS_CORRUPT,	   /* the decoder rejected the data */
	IW_DECOMPRESS_MEMLIMIT,	   /* needs more than the decoder memory cap */
	IW_DECOMPRESS_UNSUPPORTED, /* e.g. zstd frame needing a dictionary */
};

struct iw_decompress_limits {
	uint64_t max_out;   /* stop after this many output bytes (0: none) */
	uint64_t max_ratio; /* stop when out > ratio * in past the floor
			       (0: none) */
	uint64_t max_in;    /* stop after this many input bytes (0: none) */
};

struct iw_decompress_result {
	enum iw_decompress_status status;
	uint64_t in_bytes;  /* compressed bytes consumed by the decoder */
	uint64_t out_bytes; /* bytes handed to the sink */
	unsigned streams;   /* streams (gzip members, zstd frames) completed */
	/* for IW_DECOMPRESS_END: bytes after the last stream that are not a
	 * stream (trailing_zero: all of them are zero) */
	uint64_t trailing_offset;
	uint64_t trailing_bytes;
	bool trailing_zero;
	const char *message; /* static text for CORRUPT/MEMLIMIT/... */
};

/* The sink receives the output in order. Return 0 to go on, > 0 to stop
 * (status IW_DECOMPRESS_STOPPED), < 0 to abort with that error. */
typedef int (*iw_decompress_sink)(void *opaque, const void *buf, size_t len);

/* Decompress the stream(s) in v starting at offset 0. Returns 0 with
 * *res filled (whatever the status), or a negative errno for ENOMEM, an
 * I/O error of the view, or the sink's own error. */
int iw_decompress(const struct iw_view *v, enum iw_compression kind,
		  const struct iw_decompress_limits *limits,
		  iw_decompress_sink sink, void *opaque,
		  struct iw_decompress_result *res);

/* Decompress into a malloc'd buffer of at most limits->max_out bytes
 * (max_out must be set and at most IW_DECOMPRESS_HEAD_MAX). */
int iw_decompress_head(const struct iw_view *v, enum iw_compression kind,
		       const struct iw_decompress_limits *limits,
		       uint8_t **ret_buf, size_t *ret_len,
		       struct iw_decompress_result *res);

/* true if buf starts a stream of this kind (magic only). */
bool iw_decompress_is_magic(enum iw_compression kind, const uint8_t *buf,
			    size_t len);

const char *iw_compression_name(enum iw_compression kind);

#endif
