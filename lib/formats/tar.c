/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tar: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool tar_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int tar_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_tar = {
	.name = "tar",
	.kind = IW_KIND_ARCHIVE,
	.match = tar_match,
	.probe = tar_probe,
};
