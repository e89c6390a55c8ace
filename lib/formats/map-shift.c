/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A block map seen from further out in the file (map.h, iw_map_shift). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "map.h"

struct shift_map {
	struct iw_map m;
	struct iw_map *inner;
	size_t n;
	uint64_t bases[];
};

static int shift_next(struct iw_map *m, uint64_t offset, uint64_t max_length,
		      struct iw_extent *ret)
{
	struct shift_map *s = (struct shift_map *)m;
	int r = s->inner->ops->next(s->inner, offset, max_length, ret);

	if (r < 0 || ret->type == IW_EXTENT_ZERO)
		return r;
	/* the inner map checked its offsets against its (sub-)views, whose
	 * ends are at most the file's: this cannot wrap, but a broken map
	 * must not make it */
	if (ret->file >= s->n ||
	    ADD_OVERFLOW(ret->host_offset, s->bases[ret->file],
			 &ret->host_offset)) {
		iw_finding(m->report, IW_F_ENTRY_OUT_OF_RANGE,
			   "a block lies past any possible file offset");
		return -EINVAL;
	}
	ret->file = 0;
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

int iw_map_shift_files(struct iw_map *inner, const uint64_t *bases, size_t n,
		       struct iw_map **ret)
{
	struct shift_map *s;

	if (n == 0 || n > IW_MAP_SHIFT_MAX_FILES) {
		iw_map_free(inner);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s) + n * sizeof(s->bases[0]));
	if (!s) {
		iw_map_free(inner);
		return -ENOMEM;
	}
	s->m = *inner;
	s->m.ops = &shift_ops;
	s->inner = inner;
	s->n = n;
	memcpy(s->bases, bases, n * sizeof(bases[0]));
	*ret = &s->m;
	return 0;
}

int iw_map_shift(struct iw_map *inner, uint64_t base, struct iw_map **ret)
{
	return iw_map_shift_files(inner, &base, 1, ret);
}
