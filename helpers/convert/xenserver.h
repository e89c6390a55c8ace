/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XenServer / OpenStack VHD chain archives (`imgward convert --xenserver`):
 * a tar, usually gzip-compressed, of 0.vhd (the leaf) ... N-1.vhd (the
 * base). A compressed archive is first decompressed into a scratch file
 * the broker opened (the converter opens nothing): a stream cannot be
 * read at random, and a chain must be.
 */
#ifndef IW_CONVERT_XENSERVER_H
#define IW_CONVERT_XENSERVER_H

#include <stdint.h>

#include "formats/map.h"
#include "view.h"

/* Decompress the archive in `in` (an fd view) into scratch_fd (zero 4 KiB
 * blocks left as holes), at most limit bytes, calling progress with the
 * compressed bytes read so far and in's size. Exits through
 * iw_helper_fail on any error; returns the decompressed size. */
uint64_t xs_unpack(const struct iw_view *in, int scratch_fd, uint64_t limit,
		   void (*progress)(uint64_t done, uint64_t total, void *),
		   void *userdata);

/* Judge the (uncompressed) archive tarv as a whole, check its chain, and
 * open the block map over its members, with host offsets in tarv's file.
 * Exits through iw_helper_fail when the archive is refused; returns
 * iw_map_open-style errors for a map that cannot be opened (findings in
 * r). tarv must outlive the map. */
int xs_open_map(struct iw_view *tarv, struct iw_report *r, struct iw_map **ret);

#endif
