/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IW_BROKER_VALIDATE_H
#define IW_BROKER_VALIDATE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "errors.h"

/* Is rep a well-formed sniffer report (depth 0 = top level)? On false,
 * f says what was wrong (code protocol-violation). */
bool validate_probe_report(json_object *rep, unsigned depth,
			   struct iw_failure *f);

/* Is scan the "scan" object of a well-formed imgward-ntfs result
 * (README "Scanning": partition-table, partitions, windows, hibernated,
 * problems)? Every key, type and enum is checked, strings and counts
 * bounded, problem codes and filesystem names must be known, and what
 * follows from the rest (virtio-installed, hibernated, the Windows
 * partition) is recomputed. On false, f says what was wrong (code
 * protocol-violation). */
bool validate_scan_report(json_object *scan, struct iw_failure *f);

#endif
