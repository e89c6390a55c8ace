/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udf: Universal Disk Format (ECMA-167 3rd edition, OSTA UDF 2.60).
 *
 * Recognised by its volume recognition sequence (ECMA-167 2/8.3) from
 * byte 32768: BEA01, NSR02 or NSR03, TEA01 — after any ISO 9660
 * descriptors on a UDF bridge disc. Each structure takes 2048 bytes, or
 * one sector when sectors are larger. Then the anchor volume descriptor
 * pointer at sector 256 (ECMA-167 3/8.4.2.1) leads to the main volume
 * descriptor sequence, whose primary and logical volume descriptors give
 * the volume name and the UDF revision. Like ISO 9660, UDF is raw to
 * qemu: a content reader.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"
#include "utf16.h"

#define UDF_VRS_START 32768
#define UDF_VSD_SIZE 2048
/* The VRS of a bridge disc holds a handful of ISO 9660 descriptors plus
 * BEA01/NSR0x/TEA01; 32 bounds a sequence that never ends. */
#define UDF_MAX_VRS 32
/* Anchor volume descriptor pointer: sector 256 (or N-1 on media written
 * without one at 256, ECMA-167 3/8.4.2.1). */
#define UDF_ANCHOR_SECTOR 256
/* UDF 2.60 2.2.3: the main VDS extent is at least 16 sectors; real ones
 * hold fewer than 10 descriptors. */
#define UDF_MAX_VDS 64
#define UDF_TAG_SIZE 16

enum {
	UDF_TAG_PVD = 1,
	UDF_TAG_AVDP = 2,
	UDF_TAG_LVD = 6,
	UDF_TAG_TERMINATOR = 8,
};

static const unsigned udf_vrs_strides[] = { 2048, 4096 };
static const unsigned udf_block_sizes[] = { 2048, 512, 4096, 1024 };

struct udf_vrs {
	bool bea, tea;
	const char *nsr; /* "NSR02", "NSR03" or NULL */
	unsigned stride;
};

static bool udf_read_vrs(const struct iw_view *v, const uint8_t *head,
			 size_t head_len, unsigned stride, struct udf_vrs *vrs)
{
	memset(vrs, 0, sizeof(*vrs));
	vrs->stride = stride;
	for (unsigned i = 0; i < UDF_MAX_VRS; i++) {
		uint64_t off = UDF_VRS_START + (uint64_t)i * stride;
		uint8_t d[7];

		if (off + sizeof(d) <= head_len)
			memcpy(d, head + off, sizeof(d));
		else if (iw_view_read(v, d, sizeof(d), off) < 0)
			break;
		if (memcmp(d + 1, "BEA01", 5) == 0) {
			vrs->bea = true;
		} else if (memcmp(d + 1, "NSR02", 5) == 0) {
			vrs->nsr = "NSR02";
		} else if (memcmp(d + 1, "NSR03", 5) == 0) {
			vrs->nsr = "NSR03";
		} else if (memcmp(d + 1, "TEA01", 5) == 0) {
			vrs->tea = true;
			break;
		} else if (memcmp(d + 1, "CD001", 5) != 0 &&
			   memcmp(d + 1, "CDW02", 5) != 0 &&
			   memcmp(d + 1, "BOOT2", 5) != 0) {
			/* ECMA-167 2/8.3.1: an unknown identifier ends it */
			break;
		}
	}
	return vrs->nsr != NULL;
}

static bool udf_find_vrs(const struct iw_view *v, const uint8_t *head,
			 size_t head_len, struct udf_vrs *vrs)
{
	for (size_t i = 0; i < ARRAY_SIZE(udf_vrs_strides); i++)
		if (udf_read_vrs(v, head, head_len, udf_vrs_strides[i], vrs))
			return true;
	return false;
}

static bool udf_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	struct udf_vrs vrs;

	return udf_find_vrs(v, head, head_len, &vrs);
}

/* ECMA-167 3/7.2.3: the tag checksum is the sum of bytes 0-3 and 5-15 */
static bool udf_tag_checksum_ok(const uint8_t *t)
{
	uint8_t sum = 0;

	for (unsigned i = 0; i < UDF_TAG_SIZE; i++)
		if (i != 4)
			sum = (uint8_t)(sum + t[i]);
	return sum == t[4];
}

/* ECMA-167 3/7.2.6: CRC-ITU-T (x^16 + x^12 + x^5 + 1), initial 0 */
static uint16_t udf_crc16(const uint8_t *p, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int k = 0; k < 8; k++)
			crc = (uint16_t)(crc & 0x8000 ? crc << 1 ^ 0x1021
						      : crc << 1);
	}
	return crc;
}

/* A dstring (ECMA-167 1/7.2.12): compression id, characters, length in
 * the last byte. OSTA CS0: id 8 is 8-bit, 16 is UTF-16BE (254/255 the
 * same in UDF 2.50+). */
static void udf_set_dstring(struct iw_report *r, const char *key,
			    const uint8_t *p, size_t field_len)
{
	char out[UTF16_UTF8_MAX(128)];
	size_t len = p[field_len - 1], o = 0;

	if (len == 0 || len > field_len - 1)
		return;
	if (p[0] == 8 || p[0] == 254) {
		/* Latin-1 → UTF-8 */
		for (size_t i = 1; i < len; i++) {
			if (p[i] < 0x80) {
				out[o++] = (char)p[i];
			} else {
				out[o++] = (char)(0xc0 | p[i] >> 6);
				out[o++] = (char)(0x80 | (p[i] & 0x3f));
			}
		}
		out[o] = '\0';
	} else if (p[0] == 16 || p[0] == 255) {
		utf16_to_utf8(p + 1, (len - 1) / 2, true, out);
	} else {
		return;
	}
	iw_fs_set_bytes(r, key, out, strlen(out));
}

/* Is there a valid tag of type `id` at sector `sector`? */
static bool udf_tag_at(const struct iw_view *v, unsigned bs, uint64_t sector,
		       uint16_t id, uint8_t *buf, size_t len)
{
	uint64_t off;

	if (MUL_OVERFLOW(sector, (uint64_t)bs, &off) ||
	    iw_view_read(v, buf, len, off) < 0)
		return false;
	return get_le16(buf) == id && udf_tag_checksum_ok(buf) &&
	       get_le32(buf + 12) == sector;
}

/* Check the descriptor CRC of the tagged descriptor in d[0..len). */
static void udf_check_crc(struct iw_report *r, const uint8_t *d, size_t len,
			  const char *what)
{
	uint16_t crc_len = get_le16(d + 10);

	if (crc_len > len - UDF_TAG_SIZE) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s CRC length %u exceeds the descriptor", what,
			   crc_len);
		return;
	}
	if (udf_crc16(d + UDF_TAG_SIZE, crc_len) != get_le16(d + 8))
		iw_finding(r, IW_F_BAD_CHECKSUM, "%s CRC does not match",
			   what);
}

static int udf_read_vds(const struct iw_view *v, struct iw_report *r,
			unsigned bs, uint32_t loc, uint32_t len)
{
	_cleanup_free_ uint8_t *d = malloc(bs);
	uint32_t count = len / bs;
	bool have_pvd = false, have_lvd = false;

	if (!d)
		return -ENOMEM;
	if (count == 0) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "the main volume descriptor sequence is empty");
		return 0;
	}
	if (!v->partial &&
	    !range_ok((uint64_t)loc * bs, (uint64_t)count * bs, v->size))
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "the main volume descriptor sequence (sector %u, "
			   "%u bytes) ends past the end of the file",
			   loc, len);
	for (uint32_t i = 0; i < MIN(count, (uint32_t)UDF_MAX_VDS); i++) {
		uint64_t sector = (uint64_t)loc + i;
		int ret = iw_view_read(v, d, bs, sector * bs);
		uint16_t id;

		if (ret == -ERANGE || ret == -E2BIG)
			return 0;
		if (ret < 0)
			return ret;
		id = get_le16(d);
		if (!udf_tag_checksum_ok(d) || mem_is_zero(d, UDF_TAG_SIZE))
			break; /* unrecorded sector: the sequence ends */
		if (get_le32(d + 12) != sector)
			iw_finding(r, IW_F_BAD_FIELD,
				   "descriptor at sector %llu says it is at "
				   "sector %u",
				   (unsigned long long)sector,
				   get_le32(d + 12));
		udf_check_crc(r, d, bs, "volume descriptor");
		if (id == UDF_TAG_PVD && !have_pvd) {
			have_pvd = true;
			udf_set_dstring(r, "volume-id", d + 24, 32);
		} else if (id == UDF_TAG_LVD && !have_lvd) {
			have_lvd = true;
			udf_set_dstring(r, "logical-volume-id", d + 84, 128);
			/* UDF 2.60 2.1.5.3: domain "*OSTA UDF Compliant",
			 * suffix starts with the UDF revision in BCD */
			if (memcmp(d + 217, "*OSTA UDF Compliant", 19) == 0) {
				char rev[8];
				uint16_t bcd = get_le16(d + 216 + 24);

				snprintf(rev, sizeof(rev), "%x.%02x", bcd >> 8,
					 bcd & 0xff);
				iw_fs_set_str(r, "udf-revision", rev);
			}
		} else if (id == UDF_TAG_TERMINATOR) {
			break;
		}
	}
	if (!have_pvd)
		iw_finding(r, IW_F_BAD_FIELD,
			   "no primary volume descriptor in the main volume "
			   "descriptor sequence");
	return 0;
}

static int udf_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	struct udf_vrs vrs;
	uint8_t avdp[512];
	unsigned bs = 0;

	if (!udf_find_vrs(v, head, head_len, &vrs)) {
		iw_finding(r, IW_F_BAD_FIELD, "no UDF volume recognition "
					      "sequence");
		return 0;
	}
	iw_fs_set_str(r, "nsr", vrs.nsr);
	if (!vrs.bea || !vrs.tea)
		iw_finding(r, IW_F_BAD_FIELD,
			   "the volume recognition sequence lacks %s",
			   !vrs.bea ? "BEA01" : "TEA01");

	for (size_t i = 0; i < ARRAY_SIZE(udf_block_sizes) && !bs; i++)
		if (udf_tag_at(v, udf_block_sizes[i], UDF_ANCHOR_SECTOR,
			       UDF_TAG_AVDP, avdp, sizeof(avdp)))
			bs = udf_block_sizes[i];
	for (size_t i = 0; i < ARRAY_SIZE(udf_block_sizes) && !bs; i++) {
		uint64_t n = v->size / udf_block_sizes[i];
		uint8_t tag[UDF_TAG_SIZE];

		if (n == 0 || !udf_tag_at(v, udf_block_sizes[i], n - 1,
					  UDF_TAG_AVDP, avdp, sizeof(avdp)))
			continue;
		bs = udf_block_sizes[i];
		/* the copy at 256 is there but damaged */
		if (iw_view_read(v, tag, sizeof(tag),
				 (uint64_t)UDF_ANCHOR_SECTOR * bs) == 0 &&
		    get_le16(tag) == UDF_TAG_AVDP)
			iw_finding(r, IW_F_BAD_CHECKSUM,
				   "the anchor at sector 256 fails its tag "
				   "checks; using the one at sector %llu",
				   (unsigned long long)n - 1);
	}
	if (!bs) {
		if (v->partial)
			iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
				   "no UDF anchor in the inspected part");
		else if (v->size < (UDF_ANCHOR_SECTOR + 1) * 2048)
			iw_finding(r, IW_F_TRUNCATED,
				   "the file ends before the UDF anchor at "
				   "sector 256");
		else
			iw_finding(r, IW_F_BAD_FIELD,
				   "no anchor volume descriptor pointer at "
				   "sector 256 or at the end");
		return 0;
	}
	iw_fs_set_int(r, "block-size", bs);
	udf_check_crc(r, avdp, sizeof(avdp), "anchor volume descriptor pointer");
	return udf_read_vds(v, r, bs, get_le32(avdp + 20), get_le32(avdp + 16));
}

const struct iw_format iw_format_udf = {
	.name = "udf",
	.kind = IW_KIND_CONTENT,
	.match = udf_match,
	.probe = udf_probe,
};
