/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Apple UDIF (.dmg) images: detected and reported, never accepted.
 *
 * qemu 7.2 picks dmg by file name only (block/dmg.c dmg_probe), which
 * imgward never looks at; we detect the 512-byte "koly" trailer at the
 * end of the file instead. Its fields are big-endian; qemu's open-time
 * rules for them (dmg_open) are our invalid findings.
 */
#include <errno.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"

#define DMG_TRAILER_SIZE 512
#define DMG_MAGIC "koly"
#define DMG_VERSION 4
/* qemu refuses larger XML property lists (dmg_read_plist_xml) */
#define DMG_PLIST_MAX (16u * 1024 * 1024)

static bool dmg_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	uint8_t magic[4];

	if (v->size < DMG_TRAILER_SIZE || v->partial)
		return false;
	if (iw_view_read(v, magic, sizeof(magic), v->size - DMG_TRAILER_SIZE))
		return false;
	return memcmp(magic, DMG_MAGIC, sizeof(magic)) == 0;
}

/* [off, off+len) must end before the trailer, as qemu requires of the
 * resource fork and the property list (even when len is 0) */
static void dmg_check_fork(struct iw_report *r, const char *what,
			   uint64_t off, uint64_t len, uint64_t koly)
{
	if (off >= koly || len > koly - off)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "DMG %s (%llu bytes at %llu) does not end before "
			   "the trailer at %llu",
			   what, (unsigned long long)len,
			   (unsigned long long)off, (unsigned long long)koly);
}

static int dmg_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	uint8_t t[DMG_TRAILER_SIZE];
	uint64_t koly, data_off, data_len, rsrc_off, rsrc_len, xml_off, xml_len;
	uint64_t sectors;
	uint32_t version, size;
	int ret;

	r->format = "dmg";
	iw_finding(r, IW_F_UNSUPPORTED_FORMAT, "DMG images are not accepted");
	if (v->size < DMG_TRAILER_SIZE) {
		iw_finding(r, IW_F_TRUNCATED, "no room for a DMG trailer");
		return 0;
	}
	koly = v->size - DMG_TRAILER_SIZE;
	ret = iw_read_struct(v, r, t, sizeof(t), koly, "DMG trailer");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;

	version = get_be32(t + 4);
	size = get_be32(t + 8);
	data_off = get_be64(t + 0x18);
	data_len = get_be64(t + 0x20);
	rsrc_off = get_be64(t + 0x28);
	rsrc_len = get_be64(t + 0x30);
	xml_off = get_be64(t + 0xd8);
	xml_len = get_be64(t + 0xe0);
	sectors = get_be64(t + 0x1ec);

	iw_fs_set_int(r, "version", version);
	iw_fs_set_int(r, "sector-count", (int64_t)(sectors & INT64_MAX));
	if (version != DMG_VERSION)
		iw_finding(r, IW_F_UNSUPPORTED_VERSION, "DMG version %u",
			   version);
	if (size != DMG_TRAILER_SIZE)
		iw_finding(r, IW_F_BAD_FIELD, "DMG trailer size %u", size);

	if (data_off > koly || data_len > koly - data_off)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "DMG data fork (%llu bytes at %llu) runs into the "
			   "trailer",
			   (unsigned long long)data_len,
			   (unsigned long long)data_off);
	dmg_check_fork(r, "resource fork", rsrc_off, rsrc_len, koly);
	dmg_check_fork(r, "property list", xml_off, xml_len, koly);
	if (rsrc_len == 0 && xml_len == 0)
		iw_finding(r, IW_F_BAD_FIELD,
			   "the DMG has neither a resource fork nor a "
			   "property list");
	else if (rsrc_len == 0 && xml_len > DMG_PLIST_MAX)
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "DMG property list of %llu bytes",
			   (unsigned long long)xml_len);

	/* qemu's total_sectors is this field, read as a signed number */
	if (sectors > (uint64_t)INT64_MAX / 512)
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE, "DMG of %llu sectors",
			   (unsigned long long)sectors);
	else
		r->virtual_size = (int64_t)(sectors * 512);
	return 0;
}

const struct iw_format iw_format_dmg = {
	.name = "dmg",
	.kind = IW_KIND_IMAGE,
	.match = dmg_match,
	.probe = dmg_probe,
};
