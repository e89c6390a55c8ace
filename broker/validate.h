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

#endif
