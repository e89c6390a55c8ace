/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the converter's vhd block map (lib/formats/vhd-map.c),
 * opened with iw_map_open("vhd") over the input as imgward-convert opens
 * it, walked as the engine walks it, every extent checked against the
 * mapper's contract and read or decompressed (fuzz/map-walk.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "map-walk.h"

/* VHD blocks may be as small as 512 bytes (qemu reads any power of
 * two): see map-walk.h */
#define MAX_INPUT MAP_WALK_MAX_INPUT

FUZZ_MAP_HARNESS(MAX_INPUT, "vhd")
