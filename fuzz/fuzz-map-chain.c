/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the converter's multi-file block maps, over an input
 * split into several files:
 *  - a VHD differencing chain, iw_map_open_vhd_chain() (`imgward convert
 *    --chain`; file 0 = the leaf);
 *  - a VMDK descriptor and its extent files, iw_map_open_vmdk_extents()
 *    (`--extents`; file 0 = the descriptor, the extents named e0, e1, ...
 *    as the caller lists them).
 * Each map is walked as the engine walks it (fuzz/map-walk.h), with
 * extent file indexes checked against the number of files.
 *
 * Input: byte 0 = mode (bit 7: 0 = VHD chain, 1 = VMDK extents) and count
 * (bits 0-2: VHD layers 1 + n % 4, VMDK extents n % 5), then one 4-byte
 * little-endian length per file but the last, then the files' bytes in
 * order; the last file takes the rest. Lengths past the end are cut.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/vhd-chain-map.h"
#include "formats/vmdk-extents-map.h"
#include "map-walk.h"

/* Files per input: a chain of 4 already exercises every link rule (base,
 * middle, leaf, the size rule between layers); more only slow it down. */
#define CHAIN_MAX_FILES 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "e0", "e1", "e2", "e3" };
	struct iw_view views[CHAIN_MAX_FILES];
	const struct iw_view *vp[CHAIN_MAX_FILES];
	size_t n_files, pos;
	struct iw_map *m = NULL;
	struct iw_report r;
	bool vmdk;
	int ret;

	/* the whole split input stays under the single-file maps' cap */
	if (size < 1 || size > MAP_WALK_MAX_INPUT)
		return 0;
	vmdk = data[0] & 0x80;
	n_files = vmdk ? 1 + (data[0] & 7) % 5 : 1 + (data[0] & 7) % 4;
	pos = 1 + 4 * (n_files - 1);
	if (pos > size)
		return 0;
	for (size_t i = 0; i < n_files; i++) {
		size_t len = size - pos;

		if (i + 1 < n_files) {
			const uint8_t *l = data + 1 + 4 * i;
			uint32_t want = (uint32_t)l[0] | (uint32_t)l[1] << 8 |
					(uint32_t)l[2] << 16 |
					(uint32_t)l[3] << 24;

			if (want < len)
				len = want;
		}
		iw_view_init_mem(&views[i], data + pos, len);
		/* converting reads what it must; the walk bounds the work */
		views[i].own_budget = UINT64_MAX;
		vp[i] = &views[i];
		pos += len;
	}
	if (iw_report_init(&r) < 0)
		return 0;
	if (vmdk)
		ret = iw_map_open_vmdk_extents(vp[0], names, vp + 1,
					       n_files - 1, &r, &m);
	else
		ret = iw_map_open_vhd_chain(vp, n_files, &r, &m);
	if (ret == 0) {
		map_walk(m, vp, n_files);
		iw_map_free(m);
	}
	map_walk_report_json(&r);
	iw_report_done(&r);
	return 0;
}
