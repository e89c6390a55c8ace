/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Problems the scanner met: a stable code (scan-errors.def) and a message
 * with the detail (offsets, record numbers), collected per volume or for
 * the disk, bounded. Parsers call iw_diag_fail(), which records the
 * problem and returns the errno it was given, so a failure is one line:
 *
 *	return iw_diag_fail(d, -EINVAL, SCAN_E_NTFS_FIXUP,
 *			    "MFT record %" PRIu64 ": sector %u ...", n, i);
 *
 * d may be NULL (the caller does not want the detail). A problem is
 * never fatal to the whole scan: the caller decides what is lost.
 */
#ifndef IW_SCAN_DIAG_H
#define IW_SCAN_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "../util.h"

enum scan_err {
#define SCAN_ERR(e, code, what) SCAN_E_##e,
#include "scan-errors.def"
#undef SCAN_ERR
	_SCAN_E_MAX,
};

/* Enough for what one volume can go wrong in distinct ways; past it the
 * rest are counted in `dropped`, not stored. */
#define IW_DIAG_MAX 8
#define IW_DIAG_MSG_MAX 200

struct iw_diag_entry {
	enum scan_err code;
	char message[IW_DIAG_MSG_MAX];
};

struct iw_diag {
	size_t n;
	size_t dropped;
	struct iw_diag_entry e[IW_DIAG_MAX];
};

/* Record a problem (if d) and return err. -ENOMEM and -E2BIG (read
 * budget) are recorded as out-of-memory / read-budget whatever code the
 * caller passed; a problem identical to the last one is not repeated. */
int iw_diag_fail(struct iw_diag *d, int err, enum scan_err code,
		 const char *fmt, ...) _printf_(4, 5);

/* "ntfs-fixup", ...; NULL when out of range. */
const char *iw_diag_code_name(enum scan_err code);
/* The code for a name, or -1: the broker checks helper output with it. */
int iw_diag_code_from_name(const char *name);

#endif
