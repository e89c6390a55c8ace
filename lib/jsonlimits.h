/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing JSON that comes from a helper (or any peer we do not trust):
 * json-c with a depth limit, strict grammar, UTF-8 validation, and no
 * trailing bytes. The caller bounds the length.
 */
#ifndef IW_JSONLIMITS_H
#define IW_JSONLIMITS_H

#include <json-c/json.h>
#include <stddef.h>

/* json-c's own default; our deepest legitimate message (a report with
 * nested wrapper/archive children) stays well below it. */
#define IW_JSON_MAX_DEPTH 32

/* 0 with *ret set, or a negative code for iw_json_error(). */
int iw_json_parse_bounded(const char *buf, size_t len, json_object **ret);
const char *iw_json_error(int code);

#endif
