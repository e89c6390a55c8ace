/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fd backend of struct iw_view: the one place where a format reader's
 * request turns into a system call (pread64). Kept apart from view.c so
 * the fuzzers and unit tests link the pure part only.
 */
#include "view-fd.h"

#include <errno.h>
#include <unistd.h>

static int fd_read(const struct iw_view *v, void *buf, size_t len,
		   uint64_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n;

		if (off > (uint64_t)INT64_MAX)
			return -ERANGE;
		n = pread(v->fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* file shrank under us */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
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
