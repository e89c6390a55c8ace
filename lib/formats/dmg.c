/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dmg: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool dmg_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int dmg_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_dmg = {
	.name = "dmg",
	.kind = IW_KIND_IMAGE,
	.match = dmg_match,
	.probe = dmg_probe,
};
