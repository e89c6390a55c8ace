/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: filesystem identification, fsid_probe()
 * (lib/scan/fsid.c), over the input as a volume in memory, then over its
 * first half (a volume cut short by its partition), checking that every
 * string it returns is terminated inside its field; fsid_mbr_type_name()
 * on the first byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "max-len.h"
#include "scan/fsid.h"

/* btrfs is looked for only in volumes of 1 MiB and more (blkid's
 * minimum) and its superblock is at 64 KiB: seeds of 1 MiB + a bit
 * (fuzz/seeds.d/fsid.sh) reach it; past that nothing is read. */
#define MAX_INPUT (1152u << 10)
/* every probe reads a few KiB; a small budget still lets all run */
#define FUZZ_FSID_BUDGET (4u << 20)

FUZZ_DEFAULT_MAX_LEN(MAX_INPUT)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct fsid *f)
{
	if (strnlen(f->type, sizeof(f->type)) == sizeof(f->type) ||
	    strnlen(f->version, sizeof(f->version)) == sizeof(f->version) ||
	    strnlen(f->label, sizeof(f->label)) == sizeof(f->label) ||
	    strnlen(f->uuid, sizeof(f->uuid)) == sizeof(f->uuid) ||
	    strnlen(f->subsystem, sizeof(f->subsystem)) ==
		    sizeof(f->subsystem))
		abort();
	/* an invalid volume keeps nothing but its type */
	if (f->invalid && (f->label[0] || f->uuid[0] || !f->type[0]))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iw_view v;
	struct iw_diag d = { 0 };
	struct fsid f;

	if (size > MAX_INPUT)
		return 0;
	if (size > 0)
		(void)fsid_mbr_type_name(data[0]);
	iw_view_init_mem(&v, data, size);
	v.own_budget = FUZZ_FSID_BUDGET;
	if (fsid_probe(&v, &f, &d) == 0)
		check(&f);
	iw_view_init_mem(&v, data, size / 2);
	v.own_budget = FUZZ_FSID_BUDGET;
	if (fsid_probe(&v, &f, &d) == 0)
		check(&f);
	return 0;
}
