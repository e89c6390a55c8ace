/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Table windows and verdict copying for the VHD, VHDX and VDI mappers. */
#include <errno.h>
#include <stdlib.h>

#include "../util.h"
#include "vxmap-common.h"

int vxmap_window_init(struct vxmap_window *w, const struct iw_view *v,
		      uint64_t table_offset, uint64_t entries,
		      unsigned entry_size)
{
	*w = (struct vxmap_window){
		.view = v,
		.table_offset = table_offset,
		.entries = entries,
		.entry_size = entry_size,
	};
	if (entry_size == 0 || entry_size > VXMAP_WINDOW_BYTES)
		return -EINVAL;
	w->buf = malloc(VXMAP_WINDOW_BYTES);
	return w->buf ? 0 : -ENOMEM;
}

void vxmap_window_done(struct vxmap_window *w)
{
	free(w->buf);
	w->buf = NULL;
	w->count = 0;
}

int vxmap_window_get(struct vxmap_window *w, uint64_t index,
		     const uint8_t **ret_entry)
{
	uint64_t per = VXMAP_WINDOW_BYTES / w->entry_size, n, off;
	int err;

	if (!w->buf || index >= w->entries)
		return -EINVAL;
	if (w->count == 0 || index < w->first || index - w->first >= w->count) {
		/* refill from index on: the converter walks forwards */
		n = MIN(per, w->entries - index);
		/* index < entries <= table length / entry_size, and the
		 * caller checked the table lies inside the view */
		if (MUL_OVERFLOW(index, (uint64_t)w->entry_size, &off) ||
		    ADD_OVERFLOW(off, w->table_offset, &off))
			return -EINVAL;
		w->count = 0;
		err = iw_view_read(w->view, w->buf, (size_t)(n * w->entry_size),
				   off);
		if (err < 0)
			return err;
		w->first = index;
		w->count = n;
	}
	*ret_entry = w->buf + (index - w->first) * w->entry_size;
	return 0;
}

bool vxmap_take_verdict(struct iw_report *dst, const struct iw_report *src)
{
	if (src->verdict == IW_SAFE)
		return true;
	/* only if the scratch report dropped every finding it counted (it
	 * keeps 64): the verdict still stands */
	if (iw_report_copy_findings(dst, src, -1, NULL) == 0)
		iw_finding(dst, IW_F_BAD_FIELD,
			   "the image is %s (details dropped)",
			   iw_verdict_name(src->verdict));
	return false;
}

bool vxmap_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	uint64_t aend, bend;

	if (alen == 0 || blen == 0)
		return false;
	if (ADD_OVERFLOW(a, alen, &aend))
		aend = UINT64_MAX;
	if (ADD_OVERFLOW(b, blen, &bend))
		bend = UINT64_MAX;
	return a < bend && b < aend;
}
