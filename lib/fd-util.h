/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole-buffer reads and writes on fds, retried on EINTR and short
 * counts. 0 or a negative errno; a read that meets end-of-file is -EIO
 * (the file shrank under us). */
#ifndef IW_FD_UTIL_H
#define IW_FD_UTIL_H

#include <stddef.h>
#include <stdint.h>

int iw_pread_all(int fd, void *buf, size_t len, uint64_t off);
int iw_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
int iw_write_all(int fd, const void *buf, size_t len);

#endif
