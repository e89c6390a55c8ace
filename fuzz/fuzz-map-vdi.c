/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the converter's vdi block map (lib/formats/vdi-map.c),
 * opened with iw_map_open("vdi") over the input as imgward-convert opens
 * it, walked as the engine walks it, every extent checked against the
 * mapper's contract and read or decompressed (fuzz/map-walk.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "map-walk.h"
#include "max-len.h"

/* qemu reads only 1 MiB VDI blocks: an image with one allocated block
 * is just over 1 MiB */
#define MAX_INPUT (2u << 20)

FUZZ_DEFAULT_MAX_LEN(MAX_INPUT)

FUZZ_MAP_HARNESS(MAX_INPUT, "vdi")
