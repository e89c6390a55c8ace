/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the VHD, VHDX and VDI block mappers (vhd-map.c,
 * vhdx-map.c, vdi-map.c).
 *
 * - A table window: the BAT / block map is read through a bounded window
 *   (VXMAP_WINDOW_BYTES), never whole: a 2 TiB VHD with 512-byte blocks
 *   has a 16 GiB "table" as far as the header can claim, and a 64 TiB
 *   VHDX a 512 MiB BAT. The converter walks the disk in order, so one
 *   window refilled on a miss reads every table byte once.
 * - The sniffer's verdict, taken again: a mapper runs the reader's parser
 *   into a scratch report and copies the findings that make the image
 *   unconvertible (unsupported, invalid, unsafe) into the map's report.
 */
#ifndef IW_FORMATS_VXMAP_COMMON_H
#define IW_FORMATS_VXMAP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../report.h"
#include "../view.h"

/* 64 KiB: 16 Ki VHD/VDI entries (16 GiB of guest disk with 1 MiB blocks)
 * or 8 Ki VHDX entries per refill; small against the 64 MiB RSS bound,
 * large enough that refills cost nothing next to the data reads. */
#define VXMAP_WINDOW_BYTES (64 * 1024)

/* A run of zero blocks returned as one extent spans at most this many
 * table entries: the engine asks for 4 MiB at a time anyway, and a direct
 * caller (a fuzzer) asking for 2^64 bytes of a sparse disk with 512-byte
 * blocks must not make one call walk a whole 2 GiB table. */
#define VXMAP_MAX_RUN_ENTRIES 16384

struct vxmap_window {
	const struct iw_view *view;
	uint64_t table_offset;	/* file offset of entry 0 */
	uint64_t entries;	/* entries in the table */
	unsigned entry_size;	/* 4 or 8 bytes */
	uint64_t first;		/* first entry in buf */
	uint64_t count;		/* entries in buf (0: empty) */
	uint8_t *buf;		/* VXMAP_WINDOW_BYTES */
};

/* Set up a window over entries * entry_size bytes at table_offset. The
 * table must already be known to lie inside the view. -ENOMEM. */
int vxmap_window_init(struct vxmap_window *w, const struct iw_view *v,
		      uint64_t table_offset, uint64_t entries,
		      unsigned entry_size);
void vxmap_window_done(struct vxmap_window *w);

/* Bytes of entry index (< entries), refilling the window when needed.
 * 0, -EINVAL for an index out of the table, or the view's error. */
int vxmap_window_get(struct vxmap_window *w, uint64_t index,
		     const uint8_t **ret_entry);

/* Copy the findings of src (a reader's scratch report) whose class is
 * unsupported or worse into dst. Returns true when src's verdict is
 * safe (nothing was copied). */
bool vxmap_take_verdict(struct iw_report *dst, const struct iw_report *src);

/* true when [a, a+alen) and [b, b+blen) intersect; empty ranges never
 * do, and the ends are computed without wrapping. */
bool vxmap_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen);

#endif
