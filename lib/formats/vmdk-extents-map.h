/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block map over a multi-file VMDK: a stand-alone text descriptor
 * (createType monolithicFlat, twoGbMaxExtentFlat, twoGbMaxExtentSparse,
 * vmfs) and the extent files it names, given as files the caller listed
 * explicitly (`imgward convert --extents d-s001.vmdk,d-s002.vmdk d.vmdk`):
 * the broker opens each one and the helper receives them as read-only
 * fds. Nothing here opens a name read from the descriptor: each extent
 * line's name is only compared with the name the caller gave.
 *
 * Extents carry the index of the file that holds their bytes
 * (iw_extent.file): 0 = the descriptor (never used for data), i + 1 =
 * extents[i]. The engine needs the fds in that order
 * (iw_convert_opts.src_fds = { descriptor, extents[0], ... }).
 */
#ifndef IW_FORMATS_VMDK_EXTENTS_MAP_H
#define IW_FORMATS_VMDK_EXTENTS_MAP_H

#include <stddef.h>

#include "map.h"

/* Extent files accepted: the descriptor parser keeps 64 extent lines
 * (VMDK_DESC_MAX_EXTENTS), a twoGbMaxExtent disk of 128 GiB. Each sparse
 * extent costs about 7 KiB plus its share of the grain table index
 * (bounded for all extents together), each flat one a few bytes. The
 * engine's src_fds then hold n + 1 fds. */
#define IW_VMDK_EXTENTS_MAX 64

/*
 * descriptor: the text descriptor file. names[i]: the base name the caller
 * gave for extents[i] (compared with the last path component of the i-th
 * extent line that names a file). n: how many extent files, at most
 * IW_VMDK_EXTENTS_MAX. The map's virtual size is the sum of the extents'.
 * 0 with *ret set; -EINVAL with findings in r (chain-broken for linkage
 * and size errors, the extent's own findings, prefixed with its name, for
 * a broken sparse extent); -EPROTONOSUPPORT for a variant not converted
 * (findings say which); -ENOMEM; I/O errors. The views and names must
 * outlive the map.
 */
int iw_map_open_vmdk_extents(const struct iw_view *descriptor,
			     const char *const *names,
			     const struct iw_view *const *extents, size_t n,
			     struct iw_report *r, struct iw_map **ret);

/*
 * Internal (vmdk-map.c): a block map over one hosted sparse (KDMV) extent
 * of a descriptor file, validated as the single-file map validates a
 * monolithicSparse or streamOptimized file, minus the embedded descriptor
 * (qemu never reads it there). Its virtual size is the header's capacity.
 * At most max_gts allocated grain tables (*ret_n_gts says how many it
 * holds), so several extents share one memory bound.
 */
int vmdk_sparse_extent_open(const struct iw_view *v, struct iw_report *r,
			    size_t max_gts, size_t *ret_n_gts,
			    struct iw_map **ret);

#endif
