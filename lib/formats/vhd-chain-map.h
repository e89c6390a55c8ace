/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block map over a VHD differencing chain given as N files the caller
 * listed explicitly (`imgward convert --chain leaf.vhd,...,base.vhd`):
 * the broker opens each one and the helper receives them as read-only
 * fds. Nothing here follows a name read from an image: parent names and
 * locators are reported by the sniffer and ignored.
 *
 * Extents carry the index of the layer whose file holds the bytes
 * (iw_extent.file, 0 = the leaf), so the engine needs the fds in the same
 * order (iw_convert_opts.src_fds).
 */
#ifndef IW_FORMATS_VHD_CHAIN_MAP_H
#define IW_FORMATS_VHD_CHAIN_MAP_H

#include <stddef.h>

#include "map.h"

/* More layers than any real chain (XenServer coalesces long before 30,
 * Hyper-V checkpoints rarely go past a dozen); each costs a BAT window and
 * a bitmap window (about 68 KiB), and a lookup walks them all. */
#define IW_VHD_CHAIN_MAX_LAYERS 32

/*
 * views[0] = the leaf (newest) ... views[n-1] = the base. Every layer but
 * the base must be a differencing disk whose parent UUID is the next
 * layer's unique ID; the base is fixed or dynamic. The map's virtual size
 * is the leaf's. 0 with *ret set; -EINVAL with findings in r (chain-broken
 * for linkage errors, the layer's own findings for a broken file);
 * -ENOMEM; I/O errors. The views must outlive the map.
 */
int iw_map_open_vhd_chain(const struct iw_view *const *views, size_t n,
			  struct iw_report *r, struct iw_map **ret);

#endif
