/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the VHDX reader (headers, region tables, metadata,
 * BAT, and the in-memory log replay), each run alone on the input through
 * iw_probe_one() (the reader's probe() as imgward-sniff's iw_probe() calls
 * it, over a memory view), then the report serialised to JSON.
 */
#include <stddef.h>
#include <stdint.h>

#include "max-len.h"
#include "run-readers.h"

/* [MS-VHDX] puts the log, metadata and BAT regions on 1 MiB boundaries
 * past the 1 MiB header section, and blocks are at least 1 MiB: qemu's
 * layout (log at 1 MiB, BAT at 2, metadata at 3) with two data blocks
 * (which a log replay may write) is 6 MiB. */
#define MAX_INPUT (6u << 20)

FUZZ_DEFAULT_MAX_LEN(MAX_INPUT)

FUZZ_READERS_HARNESS(MAX_INPUT, "vhdx")
