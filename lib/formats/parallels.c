/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parallels (legacy "WithoutFreeSpace" and "WithouFreSpacExt") images:
 * detected and reported, never accepted.
 *
 * qemu 7.2 auto-detects them (block/parallels.c), so a file that looks
 * like one must be recognised here; the header's impossible values are
 * those qemu refuses, several of them past CVEs (CVE-2014-0142: tracks
 * of 0 divided by; CVE-2014-0143: catalog size overflow).
 */
#include <errno.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"

#define PARALLELS_HEADER_SIZE 64
#define PARALLELS_MAGIC "WithoutFreeSpace"
#define PARALLELS_MAGIC_EXT "WithouFreSpacExt"
#define PARALLELS_MAGIC_LEN 16
#define PARALLELS_VERSION 2
#define PARALLELS_INUSE_MAGIC 0x746f6e59u
/* qemu's caps in parallels_open: cluster (tracks sectors) fits an int
 * with room to spare, and the in-memory BAT stays below INT_MAX bytes */
#define PARALLELS_TRACKS_MAX (0x7fffffffu / 513)
#define PARALLELS_BAT_ENTRIES_MAX (0x7fffffffu / 4)

static bool parallels_match(const struct iw_view *v, const uint8_t *head,
			    size_t head_len)
{
	/* qemu also wants version 2 and a whole header; we take the magic
	 * alone and judge the rest in probe() */
	return head_len >= PARALLELS_MAGIC_LEN &&
	       (memcmp(head, PARALLELS_MAGIC, PARALLELS_MAGIC_LEN) == 0 ||
		memcmp(head, PARALLELS_MAGIC_EXT, PARALLELS_MAGIC_LEN) == 0);
}

static int parallels_probe(const struct iw_view *v, const uint8_t *head,
			   size_t head_len, struct iw_report *r,
			   struct iw_probe_ctx *ctx)
{
	uint8_t h[PARALLELS_HEADER_SIZE];
	uint32_t version, tracks, bat_entries;
	uint64_t nb_sectors, ext_off;
	bool ext;
	int ret;

	r->format = "parallels";
	iw_finding(r, IW_F_UNSUPPORTED_FORMAT,
		   "Parallels images are not accepted");
	ret = iw_read_struct(v, r, h, sizeof(h), 0, "Parallels header");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;

	ext = memcmp(h, PARALLELS_MAGIC_EXT, PARALLELS_MAGIC_LEN) == 0;
	version = get_le32(h + 16);
	tracks = get_le32(h + 28);
	bat_entries = get_le32(h + 32);
	nb_sectors = get_le64(h + 36);
	ext_off = get_le64(h + 56);

	iw_fs_set_int(r, "version", version);
	if (version != PARALLELS_VERSION) {
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "Parallels version %u", version);
		return 0;
	}
	/* the old magic has a 32-bit sector count (qemu masks it) */
	if (!ext)
		nb_sectors &= 0xffffffffu;
	iw_fs_set_int(r, "tracks", tracks);
	iw_fs_set_int(r, "bat-entries", bat_entries);
	/* the format extension (dirty bitmaps) is one cluster at ext_off
	 * sectors; qemu shifts it into a signed offset and asserts it is
	 * positive, so a huge value aborts qemu-img */
	if (ext_off > (uint64_t)INT64_MAX / 512) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "Parallels format extension at sector %llu",
			   (unsigned long long)ext_off);
	} else if (ext_off) {
		iw_fs_set_int(r, "format-extension-offset",
			      (int64_t)(ext_off * 512));
		if (tracks)
			iw_check_table(v, r, ext_off * 512,
				       (uint64_t)tracks * 512,
				       "Parallels format extension");
	}

	if (nb_sectors > (uint64_t)INT64_MAX / 512)
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "Parallels disk of %llu sectors",
			   (unsigned long long)nb_sectors);
	else
		r->virtual_size = (int64_t)(nb_sectors * 512);

	if (tracks == 0)
		iw_finding(r, IW_F_BAD_FIELD,
			   "Parallels image with zero sectors per track "
			   "(CVE-2014-0142)");
	else if (tracks > PARALLELS_TRACKS_MAX)
		iw_finding(r, IW_F_BAD_FIELD,
			   "Parallels cluster of %u sectors is too big", tracks);

	if (bat_entries > PARALLELS_BAT_ENTRIES_MAX)
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "Parallels catalog of %u entries (CVE-2014-0143)",
			   bat_entries);
	else
		iw_check_table(v, r, PARALLELS_HEADER_SIZE,
			       (uint64_t)bat_entries * 4, "Parallels catalog");

	if (get_le32(h + 44) == PARALLELS_INUSE_MAGIC)
		iw_finding(r, IW_F_DIRTY,
			   "the Parallels image was not closed cleanly");
	return 0;
}

const struct iw_format iw_format_parallels = {
	.name = "parallels",
	.kind = IW_KIND_IMAGE,
	.match = parallels_match,
	.probe = parallels_probe,
};
