/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the VDI reader, each run alone on the input through
 * iw_probe_one() (the reader's probe() as imgward-sniff's iw_probe()
 * calls it, over a memory view), then the report serialised to JSON.
 */
#include <stddef.h>
#include <stdint.h>

#include "max-len.h"
#include "run-readers.h"

/* qemu reads only 1 MiB VDI blocks: an image with one allocated block
 * (which the reader's block checks look at) is just over 1 MiB. */
#define MAX_INPUT (2u << 20)

FUZZ_DEFAULT_MAX_LEN(MAX_INPUT)

FUZZ_READERS_HARNESS(MAX_INPUT, "vdi")
