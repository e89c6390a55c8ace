/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest disk of an image as an iw_view: reads go through the
 * format's block map (lib/formats/map.h), so the scanner sees the same
 * bytes `qemu-img convert -O raw` would write, whatever the format.
 *
 *   ZERO extents        read as zeros;
 *   DATA extents        read from the image view at host_offset;
 *   COMPRESSED extents  the whole unit (a qcow2 cluster, a VMDK grain)
 *                       is decompressed once into a small cache of
 *                       recently used units (MAP_VIEW_UNITS of them).
 *
 * Made for the scanner's pattern, many small reads of nearby sectors:
 * the last extents the map returned are kept (MAP_VIEW_EXTENTS), so
 * most reads cost no map lookup and a compressed unit is inflated once
 * however many sectors are read from it.
 *
 * Only single-file maps (every extent's file is 0). Memory is bounded
 * by the map's own maxima (unit size at most MAP_VIEW_MAX_UNIT).
 *
 * Budgets: the guest view has its own read budget (set it with
 * v->own_budget, or iw_scan caps it); a unit decompressed is charged to
 * it at its full decompressed size. Metadata and data reads from the
 * image are charged to the image view's budget. A broken map entry or a
 * corrupt compressed unit reads as -EIO (the map's report says why);
 * -E2BIG and -ENOMEM pass through.
 */
#ifndef IW_SCAN_MAP_VIEW_H
#define IW_SCAN_MAP_VIEW_H

#include <stdint.h>

#include "../formats/map.h"
#include "../view.h"

/* Compressed units the view accepts: qcow2 clusters are at most 2 MiB,
 * VMDK grains the map accepts compressed at most 1 MiB. */
#define MAP_VIEW_MAX_UNIT (2u << 20)

struct iw_map_view;

/* A view over map's guest disk. map must outlive the map view. 0,
 * -ENOMEM, or -EOPNOTSUPP for units beyond MAP_VIEW_MAX_UNIT. */
int iw_map_view_new(struct iw_map *map, struct iw_map_view **ret);
/* The guest disk: size = map->virtual_size. */
struct iw_view *iw_map_view_get(struct iw_map_view *mv);
void iw_map_view_free(struct iw_map_view *mv);

/* Counters, for tests and benchmarks. */
struct iw_map_view_stats {
	uint64_t map_calls;	     /* map->ops->next() calls */
	uint64_t units_decompressed; /* unit cache misses */
};
void iw_map_view_stats(const struct iw_map_view *mv,
		       struct iw_map_view_stats *ret);

#endif
