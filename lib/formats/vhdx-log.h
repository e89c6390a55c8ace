/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHDX log replay in memory ([MS-VHDX] 2.3 "Log"; qemu 7.2
 * block/vhdx-log.c vhdx_parse_log, vhdx_log_search, vhdx_log_flush).
 *
 * A VHDX whose header has a non-zero LogGuid may hold metadata writes
 * (BAT and metadata sectors, sometimes payload) that were journalled but
 * not yet applied. qemu refuses to open such a file read-only and applies
 * the log only when it may write (`qemu-img check -r all`). We never
 * write the image: vhdx_log_open() finds the active sequence exactly as
 * qemu does, validates every entry, descriptor and data sector of it, and
 * returns an overlay: a view of the file as it would be after the replay.
 *
 * The overlay holds no data. Every byte of a replayed file exists in the
 * original file or is zero: a data sector's bytes 8..4091 are the log data
 * sector's bytes 8..4091, its first 8 and last 4 bytes are in the data
 * descriptor, and a zero descriptor or a file grown by LastFileOffset
 * reads as zeros. The overlay is therefore a sorted list of segments
 * ("file bytes [a, b) come from file offset s / are zero"), which the
 * view's reads follow and which the block map uses to turn an extent of
 * the replayed file into extents of the real file (vhdx_log_locate), so
 * the converter's engine keeps reading the real fd.
 */
#ifndef IW_FORMATS_VHDX_LOG_H
#define IW_FORMATS_VHDX_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "../report.h"
#include "../view.h"
#include "vhdx.h"

/* Logs we scan: qemu and Hyper-V create 1 MiB logs. The search reads the
 * whole circular log about twice (qemu's algorithm), so the log length
 * bounds the probe's work; a longer dirty log is log-replay-needed. */
#define VHDX_LOG_MAX_LENGTH (32u << 20)
/* Data sectors replayed, in bytes: every one is a 4 KiB log sector, so a
 * 32 MiB log cannot hold more; stated for the record and checked. */
#define VHDX_LOG_MAX_REPLAY_BYTES (32u << 20)
/* Descriptors (data + zero) in the active sequence: each costs one
 * 40-byte record and up to two segments of the overlay (~1.5 MiB in all).
 * A journalled BAT/metadata update needs a handful per entry. */
#define VHDX_LOG_MAX_DESCRIPTORS 16384
/* Entries in the active sequence (each is at least one 4 KiB sector, so
 * a 32 MiB log holds at most 8192). */
#define VHDX_LOG_MAX_ENTRIES 8192
/* A replayed file (LastFileOffset, descriptor targets) stays below 256
 * TiB: a 64 TiB disk and its metadata fit, an absurd size does not. */
#define VHDX_LOG_MAX_FILE_SIZE (UINT64_C(1) << 48)

struct vhdx_log;

/* Where the replayed file's bytes [off, off + length) come from. */
struct vhdx_log_run {
	uint64_t length; /* > 0 */
	bool zero;	 /* read as zeros */
	uint64_t src;	 /* else: this offset of the real file */
};

/*
 * h is the current header of the file in v. Returns:
 *  - 0 with *ret NULL: nothing to replay (LogGuid zero, log length zero,
 *    or no valid sequence: an INFO finding says so);
 *  - 0 with *ret set: the overlay (an INFO `dirty` finding counts the
 *    entries);
 *  - -EINVAL after a finding: a malformed log (INVALID), or one past our
 *    bounds (log-replay-needed, UNSUPPORTED);
 *  - -ENOMEM or an I/O error.
 * The overlay refers to v, which must outlive it.
 */
int vhdx_log_open(const struct iw_view *v, struct iw_report *r,
		  const struct vhdx_header *h, struct vhdx_log **ret);
void vhdx_log_free(struct vhdx_log *l);

/* The replayed file: reads share v's budget. */
const struct iw_view *vhdx_log_view(const struct vhdx_log *l);
/* Entries in the replayed sequence. */
uint32_t vhdx_log_entries(const struct vhdx_log *l);

/* The source of the replayed file's bytes at off: ret->length is at most
 * len and covers one kind of source. off + len must lie inside the
 * replayed file. 0 or -ERANGE. */
int vhdx_log_locate(const struct vhdx_log *l, uint64_t off, uint64_t len,
		    struct vhdx_log_run *ret);

#endif
