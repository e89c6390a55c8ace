/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jsonlimits.h"

#include <errno.h>
#include <limits.h>

#define E_TRAILING (-1000)
#define E_INCOMPLETE (-1001)

int iw_json_parse_bounded(const char *buf, size_t len, json_object **ret)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *o;
	size_t used;

	if (len > INT_MAX)
		return -(int)json_tokener_error_size;
	tok = json_tokener_new_ex(IW_JSON_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		json_object_put(o);
		return E_INCOMPLETE;
	}
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		return jerr == json_tokener_success ? -EINVAL : -(int)jerr;
	}
	if (used != len) {
		json_object_put(o);
		return E_TRAILING;
	}
	*ret = o;
	return 0;
}

const char *iw_json_error(int code)
{
	if (code == E_TRAILING)
		return "trailing data after the JSON value";
	if (code == E_INCOMPLETE)
		return "incomplete JSON value";
	if (code == -ENOMEM)
		return "out of memory";
	if (code < 0 && -code <= (int)json_tokener_error_size)
		return json_tokener_error_desc((enum json_tokener_error)(-code));
	return "invalid JSON";
}
