/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vhdx block map: placeholder until the mapper lands. */
#include <errno.h>

#include "map.h"

int iw_map_open_vhdx(const struct iw_view *v, struct iw_report *r,
		  struct iw_map **ret)
{
	return -EPROTONOSUPPORT;
}
