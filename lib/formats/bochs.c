/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bochs: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool bochs_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int bochs_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_bochs = {
	.name = "bochs",
	.kind = IW_KIND_IMAGE,
	.match = bochs_match,
	.probe = bochs_probe,
};
