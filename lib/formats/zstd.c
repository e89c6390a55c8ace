/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zstd: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool zstd_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int zstd_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_zstd = {
	.name = "zstd",
	.kind = IW_KIND_WRAPPER,
	.match = zstd_match,
	.probe = zstd_probe,
};
