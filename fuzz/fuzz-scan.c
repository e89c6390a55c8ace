/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the whole scanner, iw_scan() (lib/scan/scan.c) over
 * the input as a raw guest disk in memory: partition tables, filesystem
 * identification, NTFS volumes, Windows inspection, and the JSON built
 * from all of it (serialised, so every string is walked). The per-module
 * harnesses fuzz each parser alone; this one fuzzes how they are chained
 * (sub-views per partition, budgets, problems, the Windows choice).
 */
#include <stddef.h>
#include <stdint.h>

#include "max-len.h"
#include "scan/scan.h"

/* The smallest NTFS volume mkntfs makes is 1 MiB (2 MiB in the seeds,
 * fuzz/seeds.d/scan.sh): a partitioned disk with one and a FAT volume
 * fits in 4 MiB. */
#define MAX_INPUT (4u << 20)
/* Reads per input: a hostile volume can make a lookup re-read the same
 * sectors; the scanner stops at the view's budget (IW_SCAN_READ_BUDGET in
 * the helper), lowered here so one input stays in milliseconds. */
#define FUZZ_SCAN_BUDGET (64u << 20)

FUZZ_DEFAULT_MAX_LEN(MAX_INPUT)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iw_view v;
	json_object *j = NULL;

	if (size > MAX_INPUT)
		return 0;
	iw_view_init_mem(&v, data, size);
	v.own_budget = FUZZ_SCAN_BUDGET;
	if (iw_scan(&v, &j) == 0) {
		(void)json_object_to_json_string(j);
		json_object_put(j);
	}
	return 0;
}
