/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: what the broker does with a result line a
 * (compromised) imgward-ntfs sends - bounded JSON parsing, then the scan
 * schema check (validate_scan_report, broker/validate.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "jsonlimits.h"
#include "validate.h"

#define MAX_INPUT (1 << 20) /* the broker's per-message cap */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iw_failure f = { 0 };
	json_object *o = NULL, *scan;

	if (size > MAX_INPUT)
		return 0;
	if (iw_json_parse_bounded((const char *)data, size, &o) < 0)
		return 0;
	if (json_object_object_get_ex(o, "scan", &scan))
		(void)validate_scan_report(scan, &f);
	else
		(void)validate_scan_report(o, &f);
	json_object_put(o);
	return 0;
}
