/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the converter's vmdk block map (lib/formats/vmdk-map.c),
 * opened with iw_map_open("vmdk") over the input as imgward-convert opens
 * it, walked as the engine walks it, every extent checked against the
 * mapper's contract and read or decompressed (fuzz/map-walk.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "map-walk.h"

/* grains go down to 512 bytes (streamOptimized: 64 KiB, compressed
 * much smaller): see map-walk.h */
#define MAX_INPUT MAP_WALK_MAX_INPUT

FUZZ_MAP_HARNESS(MAX_INPUT, "vmdk")
