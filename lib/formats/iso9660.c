/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iso9660: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool iso9660_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int iso9660_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_iso9660 = {
	.name = "iso9660",
	.kind = IW_KIND_CONTENT,
	.match = iso9660_match,
	.probe = iso9660_probe,
};
