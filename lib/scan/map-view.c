/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "map-view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"

/* Extents remembered: the scanner goes back and forth between a few
 * places (the MFT, an index node, a hive's bins); a handful of recent
 * extents covers them without a map lookup. */
#define MAP_VIEW_EXTENTS 8u
/* Decompressed units cached: one per place the scanner reads from at
 * once (MFT, index, hive, partition table), at most 4 x 2 MiB. */
#define MAP_VIEW_UNITS 4u
/* How far one map lookup may reach: a map returns at most this much in
 * one extent. Long extents mean few lookups; the map's own lookup cost
 * is bounded by what one of its tables covers, whatever we ask. */
#define MAP_VIEW_LOOKAHEAD (64 * MiB)

struct map_view_unit {
	uint64_t host_offset; /* key: where its compressed bytes start */
	uint64_t stamp;	      /* LRU; 0 = empty */
	uint32_t size;	      /* decompressed bytes valid in buf */
	uint8_t *buf;	      /* max_unit_size bytes */
};

struct iw_map_view {
	struct iw_view view;
	struct iw_map *map;
	struct iw_extent extents[MAP_VIEW_EXTENTS];
	unsigned n_extents;
	unsigned next_slot; /* round robin */
	struct map_view_unit units[MAP_VIEW_UNITS];
	uint8_t *comp;	    /* max_comp_length bytes, for compressed input */
	uint64_t clock;
	struct iw_map_view_stats stats;
};

/* The extent holding guest offset off: from the cache, or from the map
 * (checked against the map contract before it is used). */
static int map_view_extent(struct iw_map_view *mv, uint64_t off,
			   const struct iw_extent **ret)
{
	struct iw_map *m = mv->map;
	struct iw_extent x;
	uint64_t want;
	int r;

	for (unsigned i = 0; i < mv->n_extents; i++) {
		const struct iw_extent *e = &mv->extents[i];

		if (off >= e->offset && off - e->offset < e->length) {
			*ret = e;
			return 0;
		}
	}
	want = MIN(m->virtual_size - off, MAP_VIEW_LOOKAHEAD);
	mv->stats.map_calls++;
	r = m->ops->next(m, off, want, &x);
	if (r == -ENOMEM || r == -E2BIG)
		return r;
	if (r < 0)
		return -EIO; /* the map's report has the finding */
	/* the contract (map.h), checked: a broken mapper must not make us
	 * read outside a buffer */
	if (x.offset != off || x.length == 0 || x.length > want)
		return -EIO;
	if (x.type != IW_EXTENT_ZERO && x.file != 0)
		return -EIO; /* single-file maps only */
	if (x.type == IW_EXTENT_COMPRESSED &&
	    (x.unit_size == 0 || x.unit_size > m->max_unit_size ||
	     x.comp_length == 0 || x.comp_length > m->max_comp_length ||
	     x.unit_skip > x.unit_size ||
	     x.length > x.unit_size - x.unit_skip))
		return -EIO;
	if (x.type != IW_EXTENT_ZERO && x.type != IW_EXTENT_DATA &&
	    x.type != IW_EXTENT_COMPRESSED)
		return -EIO;
	mv->extents[mv->next_slot] = x;
	*ret = &mv->extents[mv->next_slot];
	mv->next_slot = (mv->next_slot + 1) % MAP_VIEW_EXTENTS;
	if (mv->n_extents < MAP_VIEW_EXTENTS)
		mv->n_extents++;
	return 0;
}

/* The decompressed unit of a COMPRESSED extent, from the cache or
 * inflated into its least recently used slot. */
static int map_view_unit(struct iw_map_view *mv, const struct iw_view *v,
			 const struct iw_extent *x, const uint8_t **ret)
{
	struct iw_map *m = mv->map;
	struct map_view_unit *u = NULL;
	int r;

	for (unsigned i = 0; i < MAP_VIEW_UNITS; i++) {
		struct map_view_unit *s = &mv->units[i];

		if (s->stamp && s->host_offset == x->host_offset &&
		    s->size == x->unit_size) {
			s->stamp = ++mv->clock;
			*ret = s->buf;
			return 0;
		}
		if (!u || s->stamp < u->stamp)
			u = s;
	}
	/* inflating is work the guest view's budget pays for, so a disk of
	 * tiny reads each in a different unit is bounded like big reads */
	if (*v->budget < x->unit_size)
		return -E2BIG;
	*v->budget -= x->unit_size;
	if (!mv->comp) {
		mv->comp = malloc((size_t)m->max_comp_length);
		if (!mv->comp)
			return -ENOMEM;
	}
	if (!u->buf) {
		u->buf = malloc(m->max_unit_size);
		if (!u->buf)
			return -ENOMEM;
	}
	u->stamp = 0;
	r = iw_view_read(m->view, mv->comp, (size_t)x->comp_length,
			 x->host_offset);
	if (r == -ENOMEM || r == -E2BIG)
		return r;
	if (r < 0)
		return -EIO;
	mv->stats.units_decompressed++;
	r = iw_decompress_unit(x->codec, mv->comp, (size_t)x->comp_length,
			       u->buf, x->unit_size);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return -EIO;
	u->host_offset = x->host_offset;
	u->size = x->unit_size;
	u->stamp = ++mv->clock;
	*ret = u->buf;
	return 0;
}

static int map_view_read(const struct iw_view *v, void *buf, size_t len,
			 uint64_t off)
{
	struct iw_map_view *mv = v->priv;
	uint8_t *p = buf;

	/* off + len <= v->size was checked by iw_view_read */
	while (len > 0) {
		const struct iw_extent *x;
		const uint8_t *unit;
		uint64_t in;
		size_t n;
		int r;

		r = map_view_extent(mv, off, &x);
		if (r < 0)
			return r;
		in = off - x->offset;
		n = (size_t)MIN((uint64_t)len, x->length - in);
		switch (x->type) {
		case IW_EXTENT_ZERO:
			memset(p, 0, n);
			break;
		case IW_EXTENT_DATA:
			r = iw_view_read(mv->map->view, p, n,
					 x->host_offset + in);
			if (r == -ENOMEM || r == -E2BIG)
				return r;
			if (r < 0)
				return -EIO;
			break;
		case IW_EXTENT_COMPRESSED:
			r = map_view_unit(mv, v, x, &unit);
			if (r < 0)
				return r;
			memcpy(p, unit + x->unit_skip + in, n);
			break;
		}
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int iw_map_view_new(struct iw_map *map, struct iw_map_view **ret)
{
	struct iw_map_view *mv;

	if (map->max_unit_size > MAP_VIEW_MAX_UNIT ||
	    map->max_comp_length > 2 * (uint64_t)MAP_VIEW_MAX_UNIT)
		return -EOPNOTSUPP;
	mv = calloc(1, sizeof(*mv));
	if (!mv)
		return -ENOMEM;
	mv->map = map;
	iw_view_init_custom(&mv->view, map->virtual_size, map_view_read, mv);
	*ret = mv;
	return 0;
}

struct iw_view *iw_map_view_get(struct iw_map_view *mv)
{
	return &mv->view;
}

void iw_map_view_stats(const struct iw_map_view *mv,
		       struct iw_map_view_stats *ret)
{
	*ret = mv->stats;
}

void iw_map_view_free(struct iw_map_view *mv)
{
	if (!mv)
		return;
	for (unsigned i = 0; i < MAP_VIEW_UNITS; i++)
		free(mv->units[i].buf);
	free(mv->comp);
	free(mv);
}
