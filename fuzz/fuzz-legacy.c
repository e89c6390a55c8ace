/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the legacy and encrypted format readers: LUKS,
 * Parallels, Bochs, cloop, DMG, each run alone on the input through
 * iw_probe_one() (the reader's probe() as imgward-sniff's iw_probe() calls
 * it, over a memory view), then the report serialised to JSON.
 */
#include <stddef.h>
#include <stdint.h>

#include "run-readers.h"

/* Bigger inputs only slow the fuzzer; structures past 1 MiB are reached
 * through offsets, which the fuzzer mutates anyway. */
#define MAX_INPUT (1 << 20)

FUZZ_READERS_HARNESS(MAX_INPUT, "luks", "parallels", "bochs", "cloop", "dmg")
