/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sniffer's core: run every format reader over a view and decide.
 * Pure (no I/O of its own); shared by the sniffer helper, the converter
 * (which re-checks what it is given), the fuzzers and the unit tests.
 */
#ifndef IW_PROBE_H
#define IW_PROBE_H

#include <stdint.h>

#include "report.h"
#include "view.h"

/* Sniff v into r (initialised by the caller). Returns 0, or -ENOMEM /
 * a backend I/O error (then r is incomplete and must not be used). */
int iw_probe(const struct iw_view *v, struct iw_report *r);

/* Run the one reader called `reader` (a name from iw_format_names) over v
 * into r, as iw_probe() runs it, without the others and without the
 * verdict rules: for per-reader fuzzing. 0, -ENOENT for an unknown name,
 * -EMEDIUMTYPE when the reader's match() refuses v (nothing reported),
 * or what iw_probe() returns. */
int iw_probe_one(const char *reader, const struct iw_view *v,
		 struct iw_report *r);

/* The format qemu's auto-detection would choose for a file that starts
 * with head[0..len) and is file_size bytes long (qemu driver names). */
const char *iw_qemu_probe(const uint8_t *head, size_t len, uint64_t file_size);

/* qemu's VMDK text-descriptor probe on the file's first len bytes (the
 * part of qemu's 512-byte probe buffer that exists; the rest reads as
 * zeros, as in qemu). */
bool iw_qemu_probes_vmdk_text(const uint8_t *head, size_t len);

/* Our format name for a qemu driver name ("vpc" -> "vhd"); others as is. */
const char *iw_format_from_qemu(const char *qemu_name);

/*
 * Does a report's format satisfy a caller's expectation? expected is one
 * of our format names, or a qemu alias ("vpc"), or "iso" for a raw image
 * holding an ISO 9660/UDF filesystem. content is the report's "matches".
 */
bool iw_format_satisfies(const char *format, const char *const *matches,
			 size_t n_matches, const char *expected);

/* Is name a format --expect-format accepts? */
bool iw_format_name_known(const char *name);

/* Every reader's name (NULL-terminated), and whether name is one. */
extern const char *const iw_format_names[];
bool iw_format_name_is_reader(const char *name);

#endif
