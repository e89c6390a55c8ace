/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: what the broker does with a line a (compromised)
 * sniffer sends - bounded JSON parsing, then the report schema check.
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
	json_object *o = NULL, *report;

	if (size > MAX_INPUT)
		return 0;
	if (iw_json_parse_bounded((const char *)data, size, &o) < 0)
		return 0;
	if (json_object_object_get_ex(o, "report", &report))
		(void)validate_probe_report(report, 0, &f);
	else
		(void)validate_probe_report(o, 0, &f);
	json_object_put(o);
	return 0;
}
