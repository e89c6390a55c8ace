/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iso9660: the volume descriptor set of an ISO 9660 (ECMA-119) image.
 *
 * qemu has no ISO driver: an ISO is a raw image to qemu, so this is a
 * content reader. What matters for safety is that it recognises an ISO
 * whatever sits in the 32 KiB system area in front of the descriptors:
 * OpenStack's "ISO with a qcow2 header in its system area" (nova
 * b1cc39848e) is a qcow2 to qemu's probe and an ISO to everyone else,
 * and the orchestrator reports the pair as multiple-formats.
 *
 * Descriptors are 2048-byte sectors from sector 16 on: type, "CD001",
 * version; the set ends with a terminator (type 255). Numbers are
 * recorded both little- and big-endian (ECMA-119 7.2.3, 7.3.3); the two
 * copies disagreeing is a sign of a crafted image.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"

#define ISO_SECTOR_SIZE 2048
#define ISO_VD_START (16 * ISO_SECTOR_SIZE)
#define ISO_ID "CD001"

/* Real sets hold a PVD, a boot record, one or two supplementary
 * descriptors and the terminator; 64 bounds a set that never ends. */
#define ISO_MAX_DESCRIPTORS 64

enum {
	ISO_VD_BOOT = 0,
	ISO_VD_PRIMARY = 1,
	ISO_VD_SUPPLEMENTARY = 2,
	ISO_VD_PARTITION = 3,
	ISO_VD_TERMINATOR = 255,
};

static bool iso_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	return head_len >= ISO_VD_START + 6 &&
	       memcmp(head + ISO_VD_START + 1, ISO_ID, 5) == 0;
}

/* A both-endian 32-bit field (ECMA-119 7.3.3); false if the halves
 * disagree. */
static bool iso_both32(const uint8_t *p, uint32_t *ret)
{
	*ret = get_le32(p);
	return get_be32(p + 4) == *ret;
}

static bool iso_both16(const uint8_t *p, uint16_t *ret)
{
	*ret = get_le16(p);
	return get_be16(p + 2) == *ret;
}

/* a-/d-character identifiers are padded with spaces */
static void iso_set_id(struct iw_report *r, const char *key, const uint8_t *p,
		       size_t len)
{
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\0'))
		len--;
	iw_fs_set_bytes(r, key, p, len);
}

struct iso_state {
	bool have_pvd;
	bool joliet;
	bool el_torito;
	uint32_t boot_catalog;
	uint64_t volume_bytes;
	uint16_t block_size;
};

static void iso_primary(const struct iw_view *v, struct iw_report *r,
			const uint8_t *d, struct iso_state *st)
{
	static const struct {
		unsigned off;
		unsigned width;
		const char *name;
	} both[] = {
		{ 80, 4, "volume space size" },
		{ 120, 2, "volume set size" },
		{ 124, 2, "volume sequence number" },
		{ 128, 2, "logical block size" },
		{ 132, 4, "path table size" },
		{ 156 + 2, 4, "root directory extent" },
		{ 156 + 10, 4, "root directory size" },
	};
	uint32_t space, path_size, path_l, root_lba, root_len, u32;
	uint16_t block, u16;

	if (d[6] != 1)
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "primary volume descriptor version %u", d[6]);
	for (size_t i = 0; i < ARRAY_SIZE(both); i++) {
		bool ok = both[i].width == 4 ? iso_both32(d + both[i].off, &u32)
					     : iso_both16(d + both[i].off, &u16);
		if (!ok)
			iw_finding(r, IW_F_INCONSISTENT_HEADER,
				   "the little- and big-endian copies of the "
				   "%s disagree",
				   both[i].name);
	}
	space = get_le32(d + 80);
	block = get_le16(d + 128);
	path_size = get_le32(d + 132);
	path_l = get_le32(d + 140);
	root_lba = get_le32(d + 156 + 2);
	root_len = get_le32(d + 156 + 10);

	iso_set_id(r, "system-id", d + 8, 32);
	iso_set_id(r, "volume-id", d + 40, 32);
	iw_fs_set_int(r, "block-size", block);

	/* ECMA-119 6.1.2: 2^(n+9) bytes, no larger than a 2048-byte sector */
	if (!is_power_of_2(block) || block < 512 || block > ISO_SECTOR_SIZE) {
		iw_finding(r, IW_F_BAD_FIELD, "logical block size %u", block);
		return;
	}
	st->block_size = block;
	st->volume_bytes = (uint64_t)space * block;
	iw_fs_set_int(r, "volume-size", (int64_t)st->volume_bytes);
	if (!v->partial && st->volume_bytes > v->size)
		iw_finding(r, IW_F_TRUNCATED,
			   "the volume (%llu bytes) ends past the end of the "
			   "file (%llu bytes)",
			   (unsigned long long)st->volume_bytes,
			   (unsigned long long)v->size);
	if (space < 18)
		iw_finding(r, IW_F_BAD_FIELD,
			   "volume space of %u blocks cannot hold the "
			   "descriptors",
			   space);
	if (d[156] < 34 ||
	    !range_ok((uint64_t)root_lba * block, root_len, st->volume_bytes))
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "the root directory (block %u, %u bytes) is not "
			   "inside the volume",
			   root_lba, root_len);
	if (!range_ok((uint64_t)path_l * block, path_size, st->volume_bytes))
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "the path table (block %u, %u bytes) is not inside "
			   "the volume",
			   path_l, path_size);
}

/* El Torito 1.0 section 2.1: the catalog starts with a validation entry
 * (header 1, key 55 AA, 16-bit words summing to zero). */
static int iso_el_torito(const struct iw_view *v, struct iw_report *r,
			 const struct iso_state *st)
{
	uint8_t e[64];
	uint16_t sum = 0;
	uint64_t off = (uint64_t)st->boot_catalog * ISO_SECTOR_SIZE;
	int ret;

	if (st->volume_bytes && off >= st->volume_bytes) {
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "the El Torito boot catalog (sector %u) is outside "
			   "the volume",
			   st->boot_catalog);
		return 0;
	}
	ret = iw_read_struct(v, r, e, sizeof(e), off, "El Torito boot catalog");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < 32; i += 2)
		sum = (uint16_t)(sum + get_le16(e + i));
	if (e[0] != 1 || e[30] != 0x55 || e[31] != 0xaa) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "the El Torito boot catalog has no validation entry");
		return 0;
	}
	if (sum != 0)
		iw_finding(r, IW_F_BAD_CHECKSUM,
			   "the El Torito validation entry does not sum to 0");
	iw_fs_set_int(r, "el-torito-platform", e[1]);
	iw_fs_set_bool(r, "el-torito-bootable", e[32] == 0x88);
	return 0;
}

static int iso_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	struct iso_state st = { 0 };
	uint8_t d[ISO_SECTOR_SIZE];
	bool terminated = false;
	unsigned n;
	int ret;

	for (n = 0; n < ISO_MAX_DESCRIPTORS && !terminated; n++) {
		uint64_t off = ISO_VD_START + (uint64_t)n * ISO_SECTOR_SIZE;

		ret = iw_read_struct(v, r, d, sizeof(d), off,
				     "ISO 9660 volume descriptor");
		if (ret == -ERANGE || ret == -E2BIG)
			break;
		if (ret < 0)
			return ret;
		if (memcmp(d + 1, ISO_ID, 5) != 0) {
			iw_finding(r, IW_F_BAD_FIELD,
				   "volume descriptor %u has no CD001 "
				   "identifier: the set has no terminator",
				   16 + n);
			break;
		}
		switch (d[0]) {
		case ISO_VD_BOOT:
			if (memcmp(d + 7, "EL TORITO SPECIFICATION", 23) == 0) {
				st.el_torito = true;
				st.boot_catalog = get_le32(d + 0x47);
			}
			break;
		case ISO_VD_PRIMARY:
			/* ECMA-119 6.7.1.1: later PVDs are copies */
			if (!st.have_pvd)
				iso_primary(v, r, d, &st);
			st.have_pvd = true;
			break;
		case ISO_VD_SUPPLEMENTARY:
			/* Joliet: a UCS-2 escape sequence %/@, %/C or %/E */
			if (d[88] == '%' && d[89] == '/' &&
			    (d[90] == '@' || d[90] == 'C' || d[90] == 'E'))
				st.joliet = true;
			break;
		case ISO_VD_PARTITION:
			break;
		case ISO_VD_TERMINATOR:
			terminated = true;
			break;
		default:
			iw_finding(r, IW_F_BAD_FIELD,
				   "volume descriptor %u has reserved type %u",
				   16 + n, d[0]);
			break;
		}
	}
	if (!terminated && n == ISO_MAX_DESCRIPTORS)
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "no terminator in the first %d volume descriptors",
			   ISO_MAX_DESCRIPTORS);
	if (!st.have_pvd && terminated)
		iw_finding(r, IW_F_BAD_FIELD, "no primary volume descriptor");
	iw_fs_set_int(r, "descriptors", n);
	iw_fs_set_bool(r, "el-torito", st.el_torito);
	iw_fs_set_bool(r, "joliet", st.joliet);
	if (st.el_torito) {
		ret = iso_el_torito(v, r, &st);
		if (ret < 0)
			return ret;
	}
	return 0;
}

const struct iw_format iw_format_iso9660 = {
	.name = "iso9660",
	.kind = IW_KIND_CONTENT,
	.match = iso_match,
	.probe = iso_probe,
};
