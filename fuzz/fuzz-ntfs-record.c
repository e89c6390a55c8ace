/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: one MFT record through the NTFS reader's layers
 * (lib/scan/ntfs.h): multi-sector fixups, the header and attribute walk,
 * each non-resident attribute's runlist decoded, each resident
 * $ATTRIBUTE_LIST walked. The input is the record as stored (its size
 * rounded down to whole 512-byte strides, at most 4 KiB here: the
 * reader accepts up to 64 KiB but the strides repeat); the first byte's
 * low bits pick the volume size the runs are checked against.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/ntfs.h"
#include "diag-check.h"

#define MAX_INPUT 4097
#define FUZZ_MAX_RUNS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ntfs_run runs[FUZZ_MAX_RUNS];

static void check_inside(const uint8_t *rec, size_t size, const uint8_t *p,
			 size_t len)
{
	if (p < rec || (size_t)(p - rec) > size || len > size - (size_t)(p - rec))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t volume_clusters[4] = { 0, 1000, UINT64_C(1) << 32,
						     UINT64_MAX };
	struct iw_diag d = { 0 };
	uint64_t total;
	uint8_t *rec;
	size_t rs, pos = 0;
	struct ntfs_attr a;
	int ret;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	total = volume_clusters[data[0] & 3];
	data++;
	size--;
	rs = size & ~(size_t)511;
	if (rs == 0)
		return 0;
	rec = malloc(rs);
	if (!rec)
		abort();
	memcpy(rec, data, rs);
	if (ntfs_apply_fixups(rec, rs, "FILE", &d) < 0) {
		/* the attribute walk on the raw bytes too: it must not
		 * trust the caller to have fixed them up */
		memcpy(rec, data, rs);
	}
	while ((ret = ntfs_attr_next(rec, rs, &pos, &a, &d)) == 1) {
		if (pos > rs)
			abort();
		if (a.name)
			check_inside(rec, rs, a.name, 2u * a.name_len);
		if (!a.non_resident) {
			check_inside(rec, rs, a.value, a.value_len);
			if (a.type == 0x20) {
				struct ntfs_attr_list_entry le;
				size_t lpos = 0;

				while (ntfs_attr_list_next(a.value, a.value_len,
							   &lpos, &le, &d) == 1)
					if (le.name)
						check_inside(a.value,
							     a.value_len,
							     le.name,
							     2u * le.name_len);
			}
		} else {
			size_t n = 0;

			check_inside(rec, rs, a.runlist, a.runlist_len);
			if (ntfs_decode_runlist(a.runlist, a.runlist_len,
						a.lowest_vcn, a.highest_vcn,
						total, runs, FUZZ_MAX_RUNS, &n,
						&d) == 0) {
				uint64_t vcn = a.lowest_vcn;

				for (size_t i = 0; i < n; i++) {
					if (runs[i].vcn != vcn ||
					    runs[i].length == 0 ||
					    (runs[i].lcn != NTFS_LCN_HOLE &&
					     (runs[i].lcn >= total ||
					      runs[i].length >
						      total - runs[i].lcn)))
						abort();
					vcn += runs[i].length;
				}
				if (vcn != a.highest_vcn + 1)
					abort();
			}
		}
	}
	if (ret < 0 && d.n == 0)
		abort();
	fuzz_check_diag(&d);
	free(rec);
	return 0;
}
