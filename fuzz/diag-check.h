/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iw_diag contract the scanner's harnesses assert after every call:
 * never more entries than the array holds, every code a known one (the
 * broker refuses unknown codes), every message NUL-terminated inside
 * its buffer. A violation aborts, which the fuzzer reports as a crash.
 */
#ifndef IW_FUZZ_DIAG_CHECK_H
#define IW_FUZZ_DIAG_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "scan/diag.h"

static inline void fuzz_check_diag(const struct iw_diag *d)
{
	if (d->n > IW_DIAG_MAX)
		abort();
	for (size_t i = 0; i < d->n; i++)
		if (!iw_diag_code_name(d->e[i].code) ||
		    !memchr(d->e[i].message, '\0', IW_DIAG_MSG_MAX))
			abort();
}

#endif
