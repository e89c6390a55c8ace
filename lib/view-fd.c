/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fd backend of struct iw_view: the one place where a format reader's
 * request turns into a system call (pread64). Kept apart from view.c so
 * the fuzzers and unit tests link the pure part only.
 */
#include "view-fd.h"

#include "fd-util.h"

static int fd_read(const struct iw_view *v, void *buf, size_t len,
		   uint64_t off)
{
	return iw_pread_all(v->fd, buf, len, off);
}

void iw_view_init_fd(struct iw_view *v, int fd, uint64_t size)
{
	*v = (struct iw_view){
		.size = size,
		.read = fd_read,
		.fd = fd,
		.own_budget = IW_VIEW_DEFAULT_BUDGET,
	};
	v->budget = &v->own_budget;
}
