/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool qcow2_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int qcow2_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_qcow2 = {
	.name = "qcow2",
	.kind = IW_KIND_IMAGE,
	.match = qcow2_match,
	.probe = qcow2_probe,
};
