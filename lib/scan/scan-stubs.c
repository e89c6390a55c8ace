/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TEMPORARY (engineer D1): weak stand-ins for the scanner modules being
 * written in parallel (fsid.c, ntfs.c, windows.c), so that scan.c, the
 * helper and their tests link meanwhile. Each stand-in disappears as
 * soon as its real file is in the tree; this whole file is deleted once
 * all three are committed.
 */
#include <errno.h>
#include <string.h>

#include "fsid.h"
#include "ntfs.h"
#include "windows.h"

#if !__has_include("fsid.c")
__attribute__((weak)) int fsid_probe(const struct iw_view *v, struct fsid *out,
				     struct iw_diag *d)
{
	(void)v;
	(void)d;
	memset(out, 0, sizeof(*out));
	return -ENOENT;
}

__attribute__((weak)) const char *fsid_mbr_type_name(uint8_t type)
{
	(void)type;
	return NULL;
}
#endif

#if !__has_include("ntfs.c")
__attribute__((weak)) int ntfs_open(const struct iw_view *part,
				    struct iw_diag *d, struct ntfs_vol **ret)
{
	(void)part;
	(void)d;
	(void)ret;
	return -ENOENT;
}

__attribute__((weak)) void ntfs_close(struct ntfs_vol *vol)
{
	(void)vol;
}

__attribute__((weak)) const struct ntfs_info *
ntfs_get_info(const struct ntfs_vol *vol)
{
	(void)vol;
	return NULL;
}

__attribute__((weak)) int ntfs_lookup(struct ntfs_vol *vol, const char *path,
				      uint64_t *ret_mft)
{
	(void)vol;
	(void)path;
	(void)ret_mft;
	return -ENOENT;
}

__attribute__((weak)) int ntfs_stat(struct ntfs_vol *vol, uint64_t mft,
				    struct ntfs_stat *st)
{
	(void)vol;
	(void)mft;
	(void)st;
	return -ENOENT;
}

__attribute__((weak)) int ntfs_list_dir(struct ntfs_vol *vol, uint64_t dir_mft,
					ntfs_dir_cb cb, void *ud)
{
	(void)vol;
	(void)dir_mft;
	(void)cb;
	(void)ud;
	return -ENOENT;
}

__attribute__((weak)) int ntfs_file_open(struct ntfs_vol *vol, uint64_t mft,
					 struct ntfs_file **ret)
{
	(void)vol;
	(void)mft;
	(void)ret;
	return -ENOENT;
}

__attribute__((weak)) const struct iw_view *
ntfs_file_view(const struct ntfs_file *f)
{
	(void)f;
	return NULL;
}

__attribute__((weak)) void ntfs_file_close(struct ntfs_file *f)
{
	(void)f;
}
#endif

#if !__has_include("windows.c")
__attribute__((weak)) int win_inspect(struct ntfs_vol *vol,
				      struct win_info *out, struct iw_diag *d)
{
	(void)vol;
	(void)out;
	(void)d;
	return -ENOENT;
}
#endif
