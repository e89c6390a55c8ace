/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mbr: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool mbr_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int mbr_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_mbr = {
	.name = "mbr",
	.kind = IW_KIND_CONTENT,
	.match = mbr_match,
	.probe = mbr_probe,
};
