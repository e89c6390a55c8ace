/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: directory index nodes through the NTFS reader's
 * layers (lib/scan/ntfs.h): the input as an INDX block (fixups, then the
 * entries from its index header at 0x18) and as an $INDEX_ROOT value
 * (entries from its index header at 16). Every entry's name must lie
 * inside the node, the walk must end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/ntfs.h"

#define MAX_INPUT 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const uint8_t *p, size_t len, struct iw_diag *d)
{
	struct ntfs_index_entry e;
	size_t pos = 0;
	unsigned n = 0;
	int ret;

	while ((ret = ntfs_index_next(p, len, &pos, &e, d)) == 1) {
		if (e.name && ((size_t)(e.name - p) > len ||
			       2u * e.name_len > len - (size_t)(e.name - p)))
			abort();
		/* an entry is at least 16 bytes: the walk ends */
		if (++n > len / 16 + 1)
			abort();
		if (e.last && pos != SIZE_MAX)
			abort();
	}
	if (ret < 0 && d->n == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iw_diag d = { 0 };
	size_t bs = size & ~(size_t)511;
	uint8_t *blk;

	if (size > MAX_INPUT)
		return 0;
	if (size >= 16)
		walk(data + 16, size - 16, &d);
	if (bs) {
		blk = malloc(bs);
		if (!blk)
			abort();
		memcpy(blk, data, bs);
		if (ntfs_apply_fixups(blk, bs, "INDX", &d) == 0)
			walk(blk + 0x18, bs - 0x18, &d);
		free(blk);
	}
	for (size_t i = 0; i < d.n; i++)
		if (!iw_diag_code_name(d.e[i].code))
			abort();
	return 0;
}
