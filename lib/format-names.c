/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Format names without the readers: what the broker needs to check a
 * helper's report and a caller's --expect-format, without linking every
 * parser and decompressor into the privileged side. A unit test checks
 * this list against the reader registry.
 */
#include <string.h>

#include "probe.h"
#include "util.h"

const char *const iw_format_names[] = {
	"qcow2",     "qcow",  "qed",   "vmdk", "vhdx",	"vdi",	 "vhd",
	"luks",	     "parallels", "bochs", "cloop", "dmg",	"gzip",	 "xz",
	"zstd",	     "bzip2", "tar",   "iso9660", "udf", "gpt",	 "mbr",
	NULL,
};

static const struct {
	const char *qemu, *ours;
} qemu_aliases[] = {
	{ "vpc", "vhd" },
};

const char *iw_format_from_qemu(const char *qemu_name)
{
	for (size_t i = 0; i < ARRAY_SIZE(qemu_aliases); i++)
		if (strcmp(qemu_name, qemu_aliases[i].qemu) == 0)
			return qemu_aliases[i].ours;
	return qemu_name;
}

bool iw_format_name_is_reader(const char *name)
{
	for (size_t i = 0; iw_format_names[i]; i++)
		if (strcmp(iw_format_names[i], name) == 0)
			return true;
	return false;
}

bool iw_format_name_known(const char *name)
{
	if (strcmp(name, "raw") == 0 || strcmp(name, "iso") == 0)
		return true;
	return iw_format_name_is_reader(iw_format_from_qemu(name));
}

bool iw_format_satisfies(const char *format, const char *const *matches,
			 size_t n_matches, const char *expected)
{
	expected = iw_format_from_qemu(expected);
	if (strcmp(format, expected) == 0)
		return true;
	if (strcmp(expected, "iso") == 0 && strcmp(format, "raw") == 0) {
		for (size_t i = 0; i < n_matches; i++)
			if (strcmp(matches[i], "iso9660") == 0 ||
			    strcmp(matches[i], "udf") == 0)
				return true;
	}
	return false;
}
