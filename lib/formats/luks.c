/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* luks: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool luks_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int luks_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_luks = {
	.name = "luks",
	.kind = IW_KIND_IMAGE,
	.match = luks_match,
	.probe = luks_probe,
};
