/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int input_open(const char *path, struct input_file *ret, struct iw_failure *f)
{
	return input_open_mode(path, O_RDONLY, ret, f);
}

int input_open_mode(const char *path, int mode, struct input_file *ret,
		    struct iw_failure *f)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int flags;

	/* O_NONBLOCK so that opening a FIFO cannot hang waiting for a
	 * writer; it is cleared below once we know it is a file. */
	fd = open(path, (mode & O_ACCMODE) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			iw_fail(f, IW_E_NO_SUCH_FILE, "%s: no such file", path);
		else if (errno == ELOOP)
			iw_fail(f, IW_E_SYMLINK,
				"%s: is a symbolic link; give the real path "
				"(imgward never follows links to its inputs)",
				path);
		else if (errno == EISDIR)
			iw_fail(f, IW_E_NOT_A_FILE,
				"%s: is a directory; only regular files and "
				"block devices are accepted",
				path);
		else if (errno == ENXIO)
			iw_fail(f, IW_E_NOT_A_FILE,
				"%s: is a socket or a device without a driver; "
				"only regular files and block devices are "
				"accepted",
				path);
		else
			iw_fail(f, IW_E_INPUT_ERROR, "%s: %s", path,
				strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		iw_fail(f, IW_E_INPUT_ERROR, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		iw_fail(f, IW_E_NOT_A_FILE,
			"%s: is a %s; only regular files and block devices "
			"are accepted",
			path,
			S_ISDIR(st.st_mode)    ? "directory"
			: S_ISFIFO(st.st_mode) ? "FIFO"
			: S_ISSOCK(st.st_mode) ? "socket"
			: S_ISCHR(st.st_mode)  ? "character device"
					       : "special file");
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		iw_fail(f, IW_E_INPUT_ERROR, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret->st = st;
	ret->block_device = S_ISBLK(st.st_mode);
	if (ret->block_device) {
		uint64_t bytes;
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
			iw_fail(f, IW_E_INPUT_ERROR,
				"%s: cannot get the device size: %s", path,
				strerror(errno));
			return -1;
		}
		ret->size = bytes;
	} else {
		ret->size = (uint64_t)st.st_size;
	}
	ret->fd = TAKE_FD(fd);
	return 0;
}

int input_reopen_rdonly(const struct input_file *in, struct input_file *ret,
			struct iw_failure *f)
{
	char self[64];

	*ret = *in;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", in->fd);
	ret->fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (ret->fd < 0) {
		iw_fail(f, IW_E_INPUT_ERROR, "cannot reopen read-only: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}
