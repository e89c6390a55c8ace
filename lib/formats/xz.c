/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xz: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool xz_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int xz_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_xz = {
	.name = "xz",
	.kind = IW_KIND_WRAPPER,
	.match = xz_match,
	.probe = xz_probe,
};
