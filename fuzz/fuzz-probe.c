/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the whole sniffer core (every reader, the
 * orchestrator, the report) on one in-memory image - the same entry
 * point imgward-sniff calls, iw_probe(), over a memory view.
 */
#include <stddef.h>
#include <stdint.h>

#include "probe.h"

/* Bigger inputs only slow the fuzzer; structures past 1 MiB are reached
 * through offsets, which the fuzzer mutates anyway. */
#define MAX_INPUT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iw_report r;
	struct iw_view v;
	json_object *j;

	if (size > MAX_INPUT)
		return 0;
	iw_view_init_mem(&v, data, size);
	if (iw_report_init(&r) < 0)
		return 0;
	if (iw_probe(&v, &r) == 0) {
		j = iw_report_to_json(&r);
		/* serialising walks every string the readers produced */
		if (j)
			(void)json_object_to_json_string(j);
		json_object_put(j);
	}
	iw_report_done(&r);
	return 0;
}
