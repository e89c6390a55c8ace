/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bochs growing redolog images: detected and reported, never accepted.
 *
 * qemu 7.2 auto-detects them (block/bochs.c). Its open-time limits are
 * our "invalid" findings: an extent size of 0 was divided by
 * (CVE-2014-0142), a catalog count was trusted for an allocation
 * (CVE-2014-0143/0147).
 */
#include <errno.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"

#define BOCHS_HEADER_SIZE 512
#define BOCHS_MAGIC "Bochs Virtual HD Image"
#define BOCHS_TYPE_REDOLOG "Redolog"
#define BOCHS_SUBTYPE_GROWING "Growing"
#define BOCHS_VERSION_1 0x00010000u
#define BOCHS_VERSION_2 0x00020000u
/* qemu: 1 Mi catalog entries, enough for bximage's largest (~8 TB) */
#define BOCHS_CATALOG_MAX 0x100000u
/* qemu: extents are powers of two from a sector to 8 MiB */
#define BOCHS_EXTENT_MIN 512u
#define BOCHS_EXTENT_MAX 0x800000u

static bool bochs_match(const struct iw_view *v, const uint8_t *head,
			size_t head_len)
{
	/* qemu also checks type, subtype and version; probe() does */
	return head_len >= sizeof(BOCHS_MAGIC) - 1 &&
	       memcmp(head, BOCHS_MAGIC, sizeof(BOCHS_MAGIC) - 1) == 0;
}

/* qemu compares these fields with strcmp: the text and its NUL must fit
 * in the field */
static bool bochs_field_is(const uint8_t *field, size_t len, const char *s)
{
	size_t n = strlen(s);

	return n < len && memcmp(field, s, n + 1) == 0;
}

static int bochs_probe(const struct iw_view *v, const uint8_t *head,
		       size_t head_len, struct iw_report *r,
		       struct iw_probe_ctx *ctx)
{
	uint8_t h[BOCHS_HEADER_SIZE];
	uint32_t version, header, catalog, extent;
	uint64_t disk, sectors;
	int ret;

	r->format = "bochs";
	iw_finding(r, IW_F_UNSUPPORTED_FORMAT, "Bochs images are not accepted");
	ret = iw_read_struct(v, r, h, sizeof(h), 0, "Bochs header");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;

	if (!bochs_field_is(h, 32, BOCHS_MAGIC))
		iw_finding(r, IW_F_BAD_FIELD,
			   "the Bochs magic is not NUL-terminated");
	if (!bochs_field_is(h + 32, 16, BOCHS_TYPE_REDOLOG) ||
	    !bochs_field_is(h + 48, 16, BOCHS_SUBTYPE_GROWING))
		iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
			   "only growing Bochs redologs are known to qemu");
	iw_fs_set_bytes(r, "type", h + 32, strnlen((const char *)h + 32, 16));
	iw_fs_set_bytes(r, "subtype", h + 48,
			strnlen((const char *)h + 48, 16));

	version = get_le32(h + 64);
	iw_fs_set_int(r, "version", version);
	if (version != BOCHS_VERSION_1 && version != BOCHS_VERSION_2) {
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "Bochs version 0x%08x", version);
		return 0;
	}
	header = get_le32(h + 68);
	catalog = get_le32(h + 72);
	extent = get_le32(h + 80);
	/* version 2 put a reserved word before the disk size */
	disk = get_le64(h + (version == BOCHS_VERSION_1 ? 84 : 88));
	sectors = disk / 512;
	iw_fs_set_int(r, "catalog-entries", catalog);
	iw_fs_set_int(r, "extent-size", extent);

	if (sectors > (uint64_t)INT64_MAX / 512)
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE, "Bochs disk of %llu bytes",
			   (unsigned long long)disk);
	else
		r->virtual_size = (int64_t)(sectors * 512);

	if (catalog > BOCHS_CATALOG_MAX)
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "Bochs catalog of %u entries (CVE-2014-0143)",
			   catalog);
	else
		iw_check_table(v, r, header, (uint64_t)catalog * 4,
			       "Bochs catalog");

	if (extent < BOCHS_EXTENT_MIN || !is_power_of_2(extent) ||
	    extent > BOCHS_EXTENT_MAX) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "Bochs extent size %u (CVE-2014-0142)", extent);
	} else {
		uint64_t per_extent = extent / 512;
		uint64_t needed = sectors / per_extent +
				  (sectors % per_extent != 0);

		if (catalog < needed)
			iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
				   "Bochs catalog of %u extents is too small "
				   "for %llu sectors",
				   catalog, (unsigned long long)sectors);
	}
	return 0;
}

const struct iw_format iw_format_bochs = {
	.name = "bochs",
	.kind = IW_KIND_IMAGE,
	.match = bochs_match,
	.probe = bochs_probe,
};
