/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A block map seen from further out in the file (map.h, iw_map_shift). */
#include <errno.h>
#include <stdlib.h>

#include "../util.h"
#include "map.h"

struct shift_map {
	struct iw_map m;
	struct iw_map *inner;
	uint64_t base;
};

static int shift_next(struct iw_map *m, uint64_t offset, uint64_t max_length,
		      struct iw_extent *ret)
{
	struct shift_map *s = (struct shift_map *)m;
	int r = s->inner->ops->next(s->inner, offset, max_length, ret);

	if (r < 0 || ret->type == IW_EXTENT_ZERO)
		return r;
	/* the inner map checked its offsets against its (sub-)view, whose
	 * end is at most the file's: this cannot wrap, but say so if a
	 * broken map makes it */
	if (ADD_OVERFLOW(ret->host_offset, s->base, &ret->host_offset)) {
		iw_finding(m->report, IW_F_ENTRY_OUT_OF_RANGE,
			   "a block lies past any possible file offset");
		return -EINVAL;
	}
	return 0;
}

static void shift_free(struct iw_map *m)
{
	struct shift_map *s = (struct shift_map *)m;

	iw_map_free(s->inner);
	free(s);
}

static const struct iw_map_ops shift_ops = {
	.next = shift_next,
	.free = shift_free,
};

int iw_map_shift(struct iw_map *inner, uint64_t base, struct iw_map **ret)
{
	struct shift_map *s = calloc(1, sizeof(*s));

	if (!s) {
		iw_map_free(inner);
		return -ENOMEM;
	}
	s->m = *inner;
	s->m.ops = &shift_ops;
	s->inner = inner;
	s->base = base;
	*ret = &s->m;
	return 0;
}
