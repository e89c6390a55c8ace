/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every compressed wrapper (gzip, xz, zstd, bzip2) does after its own
 * header checks: decompress a bounded head, report how the stream ended,
 * and sniff the head as a nested image (lib/formats/wrapper.c).
 */
#ifndef IW_WRAPPER_H
#define IW_WRAPPER_H

#include "decompress.h"
#include "formats.h"

/* Emits `compressed`, decompresses the head, attaches the "inner" child.
 * Sets format-specific "decompressed-size" (when the stream ended within
 * the head), "streams", "inspected-bytes". Returns 0 or -ENOMEM/-EIO. */
int iw_wrapper_probe(const struct iw_view *v, struct iw_report *r,
		     struct iw_probe_ctx *ctx, enum iw_compression kind);

#endif
