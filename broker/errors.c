/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
	const char *name;
	int exit_status;
} errors[] = {
	[IW_OK] = { "ok", 0 },
#define X(id, n, e) [IW_E_##id] = { n, e },
	IW_ERRORS(X)
#undef X
};

const char *iw_error_name(enum iw_error e)
{
	return (unsigned)e < ARRAY_SIZE(errors) ? errors[e].name : "internal";
}

int iw_error_exit_status(enum iw_error e)
{
	return (unsigned)e < ARRAY_SIZE(errors) ? errors[e].exit_status
						: IW_EXIT_INTERNAL;
}

void iw_fail(struct iw_failure *f, enum iw_error code, const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

int iw_report_failure(const struct iw_failure *f, bool json,
		      json_object *extra)
{
	fprintf(stderr, "imgward: %s [%s]\n", f->message,
		iw_error_name(f->code));
	if (json) {
		json_object *o = extra ? json_object_get(extra)
				       : json_object_new_object();
		json_object *e = json_object_new_object();

		if (o && e) {
			json_object_object_add(
				e, "code",
				json_object_new_string(iw_error_name(f->code)));
			json_object_object_add(
				e, "message", json_object_new_string(f->message));
			json_object_object_add(o, "error", e);
			e = NULL;
			printf("%s\n",
			       json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
			fflush(stdout);
		}
		json_object_put(e);
		json_object_put(o);
	}
	return iw_error_exit_status(f->code);
}
