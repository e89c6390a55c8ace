/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
#define SCAN_ERR(e, code, what) [SCAN_E_##e] = code,
#include "scan-errors.def"
#undef SCAN_ERR
};

const char *iw_diag_code_name(enum scan_err code)
{
	if ((unsigned)code >= ARRAY_SIZE(code_names))
		return NULL;
	return code_names[code];
}

int iw_diag_code_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(code_names); i++)
		if (strcmp(code_names[i], name) == 0)
			return (int)i;
	return -1;
}

int iw_diag_fail(struct iw_diag *d, int err, enum scan_err code,
		 const char *fmt, ...)
{
	struct iw_diag_entry e = { .code = code };
	va_list ap;

	if (!d)
		return err;
	/* Resource failures are what they are, wherever they surface. */
	if (err == -ENOMEM)
		e.code = SCAN_E_NO_MEMORY;
	else if (err == -E2BIG)
		e.code = SCAN_E_READ_BUDGET;
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	if (d->n > 0 && d->e[d->n - 1].code == e.code &&
	    strcmp(d->e[d->n - 1].message, e.message) == 0)
		return err;
	if (d->n < IW_DIAG_MAX)
		d->e[d->n++] = e;
	else
		d->dropped++;
	return err;
}
