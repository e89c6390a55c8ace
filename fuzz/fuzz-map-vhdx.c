/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the converter's vhdx block map (lib/formats/vhdx-map.c),
 * opened with iw_map_open("vhdx") over the input as imgward-convert opens
 * it, walked as the engine walks it, every extent checked against the
 * mapper's contract and read or decompressed (fuzz/map-walk.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "map-walk.h"
#include "max-len.h"

/* [MS-VHDX] puts every region on a 1 MiB boundary past the 1 MiB header
 * section and blocks are at least 1 MiB: qemu's layout (log at 1 MiB,
 * metadata at 2, BAT at 3) with one data block is 5 MiB */
#define MAX_INPUT (6u << 20)

FUZZ_DEFAULT_MAX_LEN(MAX_INPUT)

FUZZ_MAP_HARNESS(MAX_INPUT, "vhdx")
