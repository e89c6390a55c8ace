/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmdk block map: placeholder until the mapper lands. */
#include <errno.h>

#include "map.h"

int iw_map_open_vmdk(const struct iw_view *v, struct iw_report *r,
		  struct iw_map **ret)
{
	return -EPROTONOSUPPORT;
}
