/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udf: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool udf_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int udf_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_udf = {
	.name = "udf",
	.kind = IW_KIND_CONTENT,
	.match = udf_match,
	.probe = udf_probe,
};
