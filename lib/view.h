/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A view is the only way a format reader sees image bytes.
 *
 * Readers are pure: they never open, seek or read a file themselves. They
 * call iw_view_read(), which the caller backs with a memory buffer (tests,
 * fuzzers, decompressed heads) or with pread() on an fd the broker passed
 * (the helpers; see view-fd.c). Every read is range-checked against the
 * view's size and counted against a byte budget, so a hostile table that
 * asks for "read everything a million times" ends in -E2BIG, not in a
 * hang.
 */
#ifndef IW_VIEW_H
#define IW_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iw_view;

/* Backend: read exactly len bytes at off (already range-checked).
 * Returns 0 or a negative errno. */
typedef int (*iw_read_fn)(const struct iw_view *v, void *buf, size_t len,
			  uint64_t off);

struct iw_view {
	uint64_t size;	/* bytes readable through this view */
	/* true when this view is only a prefix of a larger object (e.g. the
	 * bounded decompressed head of a gzip file): "past end of file" then
	 * means "not inspected", never "truncated". */
	bool partial;
	iw_read_fn read;
	const void *mem;	      /* memory backend */
	int fd;			      /* fd backend */
	const struct iw_view *parent; /* sub-view backend */
	uint64_t base;		      /* sub-view offset inside parent */
	void *priv;		      /* custom backend's own state */
	/* shared read budget: the top view owns it, sub-views point to it */
	uint64_t *budget;
	uint64_t own_budget;
};



/* Default read budget for one probe: generous for real images (a probe
 * reads headers and tables, not data), small enough that a hostile image
 * cannot keep the helper busy. */
#define IW_VIEW_DEFAULT_BUDGET (256ULL << 20)

void iw_view_init_mem(struct iw_view *v, const void *buf, size_t len);
/* A window [off, off+len) of parent. Fails with -ERANGE if it does not fit. */
int iw_view_init_sub(struct iw_view *v, const struct iw_view *parent,
		     uint64_t off, uint64_t len);

/* A view whose bytes come from read_fn (e.g. a guest disk read through a
 * format's block map, a file inside an NTFS volume); priv is the
 * backend's state, reachable as v->priv in read_fn. Own budget. */
void iw_view_init_custom(struct iw_view *v, uint64_t size, iw_read_fn read_fn,
			 void *priv);

/* Read exactly len bytes at off. -ERANGE when [off,off+len) is outside the
 * view, -E2BIG when the read budget is spent, other -errno from the backend. */
int iw_view_read(const struct iw_view *v, void *buf, size_t len, uint64_t off);

/* Read up to len bytes at off, clamped to the view; *ret_got = bytes read. */
int iw_view_read_upto(const struct iw_view *v, void *buf, size_t len,
		      uint64_t off, size_t *ret_got);

/* Allocate and read [off, off+len); len is capped by the caller. */
int iw_view_read_alloc(const struct iw_view *v, uint64_t off, size_t len,
		       void **ret_buf);

static inline bool iw_view_contains(const struct iw_view *v, uint64_t off,
				    uint64_t len)
{
	uint64_t end;
	return !__builtin_add_overflow(off, len, &end) && end <= v->size;
}

#endif
