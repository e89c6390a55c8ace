/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bzip2: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool bzip2_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int bzip2_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_bzip2 = {
	.name = "bzip2",
	.kind = IW_KIND_WRAPPER,
	.match = bzip2_match,
	.probe = bzip2_probe,
};
