/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IW_VIEW_FD_H
#define IW_VIEW_FD_H

#include "view.h"

/* A view backed by pread() on fd; size is what the caller measured
 * (fstat or lseek SEEK_END) before entering the sandbox. */
void iw_view_init_fd(struct iw_view *v, int fd, uint64_t size);

#endif
