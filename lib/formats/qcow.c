/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool qcow_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int qcow_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_qcow = {
	.name = "qcow",
	.kind = IW_KIND_IMAGE,
	.match = qcow_match,
	.probe = qcow_probe,
};
