/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmdk: placeholder until the reader lands; matches nothing. */
#include "formats.h"

static bool vmdk_match(const struct iw_view *v, const uint8_t *head,
		     size_t head_len)
{
	return false;
}

static int vmdk_probe(const struct iw_view *v, const uint8_t *head,
		    size_t head_len, struct iw_report *r,
		    struct iw_probe_ctx *ctx)
{
	return -ENOSYS;
}

const struct iw_format iw_format_vmdk = {
	.name = "vmdk",
	.kind = IW_KIND_IMAGE,
	.match = vmdk_match,
	.probe = vmdk_probe,
};
