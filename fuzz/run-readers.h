/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared body of the per-reader harnesses (fuzz-qcow2.c, fuzz-iso.c, ...):
 * run each named reader alone on the input, over a memory view, through
 * iw_probe_one() - the reader's probe() as iw_probe() calls it - then
 * serialise the report, which walks every string the reader produced.
 * Static functions in a header so each harness stays one file for
 * fuzz/Makefile and the replay build.
 */
#ifndef IW_FUZZ_RUN_READERS_H
#define IW_FUZZ_RUN_READERS_H

#include <stddef.h>
#include <stdint.h>

#include "probe.h"

static inline void fuzz_run_reader(const char *name, const uint8_t *data,
				   size_t size)
{
	struct iw_report r;
	struct iw_view v;

	/* a fresh view per reader: each gets a probe's full read budget */
	iw_view_init_mem(&v, data, size);
	if (iw_report_init(&r) < 0)
		return;
	if (iw_probe_one(name, &v, &r) == 0) {
		json_object *j = iw_report_to_json(&r);

		if (j)
			(void)json_object_to_json_string(j);
		json_object_put(j);
	}
	iw_report_done(&r);
}

static inline void fuzz_run_readers(const char *const *names, size_t n,
				    const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < n; i++)
		fuzz_run_reader(names[i], data, size);
}

/* A reader harness's whole entry point: inputs past max_input are
 * skipped, the rest go to each named reader in turn. */
#define FUZZ_READERS_HARNESS(max_input, ...)                                  \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);         \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)          \
	{                                                                     \
		static const char *const readers[] = { __VA_ARGS__ };         \
                                                                              \
		if (size <= (max_input))                                      \
			fuzz_run_readers(readers,                             \
					 sizeof(readers) / sizeof(readers[0]), \
					 data, size);                         \
		return 0;                                                     \
	}

#endif
