/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the converter's qcow2 block map (lib/formats/qcow2-map.c),
 * opened with iw_map_open("qcow2") over the input as imgward-convert opens
 * it, walked as the engine walks it, every extent checked against the
 * mapper's contract and read or decompressed (fuzz/map-walk.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "map-walk.h"

/* clusters go down to 512 bytes: a few hundred KiB hold every kind of
 * L2 entry (see map-walk.h) */
#define MAX_INPUT MAP_WALK_MAX_INPUT

FUZZ_MAP_HARNESS(MAX_INPUT, "qcow2")
