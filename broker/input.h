/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IW_BROKER_INPUT_H
#define IW_BROKER_INPUT_H

#include <stdint.h>
#include <sys/stat.h>

#include "errors.h"

struct input_file {
	int fd;
	struct stat st;
	uint64_t size; /* bytes (block devices: device size) */
	bool block_device;
};

/* Open an image the way every helper input is opened: O_RDONLY |
 * O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, a regular file or a block device
 * only. 0, or -1 with f set (no-such-file, symlink, not-a-file,
 * input-error). */
int input_open(const char *path, struct input_file *ret, struct iw_failure *f);
/* The same, opened with access mode (O_RDONLY or O_RDWR): imgward inject
 * modifies the disk it was given. */
int input_open_mode(const char *path, int mode, struct input_file *ret,
		    struct iw_failure *f);
/* The same file again, read-only (the sniffer and the scanner refuse a
 * writable fd), through /proc/self/fd: the same inode, not the path. */
int input_reopen_rdonly(const struct input_file *in, struct input_file *ret,
			struct iw_failure *f);

#endif
