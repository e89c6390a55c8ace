/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "formats.h"

/*
 * The order matters only for choosing the primary format when several
 * image formats match (which is itself a finding): the first listed wins,
 * as in qemu, where every one of these scores 100 and the first driver
 * registered is chosen among equals.
 */
const struct iw_format *const iw_formats[] = {
	&iw_format_qcow2, &iw_format_qcow,  &iw_format_qed,
	&iw_format_vmdk,  &iw_format_vhdx,  &iw_format_vdi,
	&iw_format_vhd,	  &iw_format_luks,  &iw_format_parallels,
	&iw_format_bochs, &iw_format_cloop, &iw_format_dmg,
	&iw_format_gzip,  &iw_format_xz,    &iw_format_zstd,
	&iw_format_bzip2, &iw_format_tar,   &iw_format_iso9660,
	&iw_format_udf,	  &iw_format_gpt,   &iw_format_mbr,
};
const size_t iw_formats_count = sizeof(iw_formats) / sizeof(iw_formats[0]);

const struct iw_format *iw_format_by_name(const char *name)
{
	for (size_t i = 0; i < iw_formats_count; i++)
		if (strcmp(iw_formats[i]->name, name) == 0)
			return iw_formats[i];
	return NULL;
}
