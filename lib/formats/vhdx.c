/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vhdx: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool vhdx_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int vhdx_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_vhdx = {
	.name = "vhdx",
	.kind = IW_KIND_IMAGE,
	.match = vhdx_match,
	.probe = vhdx_probe,
};
