/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LUKS reader: detection and the header's plain facts, never decryption.
 *
 * LUKS1 follows the LUKS On-Disk Format Specification 1.2.x (as qemu 7.2
 * reads it in crypto/block-luks.c: a 592-byte big-endian header, eight
 * key slots of anti-forensic key material, the payload from
 * payload-offset sectors on). qemu opens LUKS1 only; its virtual size is
 * the file size minus the payload offset (block/crypto.c getlength).
 *
 * LUKS2 (cryptsetup's LUKS2 on-disk format document) keeps only a small
 * binary header in front of a JSON area that holds everything else. We
 * read the binary header and the JSON area's size, never the JSON: an
 * encrypted image is unsupported whatever its JSON says.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"

#define LUKS_MAGIC "LUKS\xba\xbe"
#define LUKS_MAGIC_LEN 6
#define LUKS2_SECONDARY_MAGIC "SKUL\xba\xbe"
#define LUKS_SECTOR_SIZE 512

/* LUKS1 (spec 1.2, and qemu's QCryptoBlockLUKSHeader) */
#define LUKS1_HEADER_SIZE 592
#define LUKS1_NAME_LEN 32
#define LUKS1_UUID_LEN 40
#define LUKS1_NUM_KEY_SLOTS 8
#define LUKS1_KEY_SLOT_SIZE 48
#define LUKS1_KEY_SLOTS_AT 208
#define LUKS1_STRIPES 4000
/* key material starts after the first 4 KiB (8 sectors): cryptsetup's
 * alignment, which qemu also requires of every slot and the payload */
#define LUKS1_KEY_MATERIAL_SECTORS (4096 / LUKS_SECTOR_SIZE)
#define LUKS1_SLOT_ENABLED 0x00ac71f3u
#define LUKS1_SLOT_DISABLED 0x0000deadu

/* LUKS2 binary header (LUKS2 on-disk format, section 2) */
#define LUKS2_BINARY_HEADER_SIZE 4096
#define LUKS2_LABEL_LEN 48
#define LUKS2_CSUM_ALG_LEN 32
#define LUKS2_UUID_LEN 40
#define LUKS2_SUBSYSTEM_LEN 48
/* the only header sizes (binary + JSON) the format defines */
#define LUKS2_HDR_SIZE_MIN (16 * 1024)
#define LUKS2_HDR_SIZE_MAX (4 * 1024 * 1024)

static bool luks_match(const struct iw_view *v, const uint8_t *head,
		       size_t head_len)
{
	/* qemu's probe also wants version 1; we report every version */
	return head_len >= LUKS_MAGIC_LEN &&
	       memcmp(head, LUKS_MAGIC, LUKS_MAGIC_LEN) == 0;
}

/* A NUL-padded text field: report its bytes up to the NUL; false when
 * the field has no NUL (qemu refuses such a header). */
static bool luks_text_field(struct iw_report *r, const char *key,
			    const uint8_t *field, size_t len)
{
	size_t n = strnlen((const char *)field, len);

	if (key && n > 0)
		iw_fs_set_bytes(r, key, field, n);
	return n < len;
}

/*
 * qemu's key material length for a slot, in sectors: the split key
 * (key_bytes * stripes) rounded up to sectors, then to the 4 KiB key
 * material alignment (cryptsetup's rule, crypto/block-luks.c).
 */
static uint64_t luks1_slot_sectors(uint32_t key_bytes, uint32_t stripes)
{
	uint64_t split = (uint64_t)key_bytes * stripes; /* < 2^64 */
	uint64_t sectors = split / LUKS_SECTOR_SIZE +
			   (split % LUKS_SECTOR_SIZE != 0);

	return (sectors + LUKS1_KEY_MATERIAL_SECTORS - 1) /
	       LUKS1_KEY_MATERIAL_SECTORS * LUKS1_KEY_MATERIAL_SECTORS;
}

/* qemu's names: "cipher-mode" is the part before '-' ("xts"),
 * "ivgen-alg" the IV generator ("plain64"), "ivgen-hash-alg" the hash
 * after ':' ("essiv:sha256"). */
static void luks1_report_mode(struct iw_report *r, const uint8_t *mode)
{
	size_t n = strnlen((const char *)mode, LUKS1_NAME_LEN);
	const uint8_t *dash = memchr(mode, '-', n), *colon;

	iw_fs_set_bytes(r, "cipher-spec", mode, n);
	if (!dash) {
		iw_fs_set_bytes(r, "cipher-mode", mode, n);
		return;
	}
	iw_fs_set_bytes(r, "cipher-mode", mode, (size_t)(dash - mode));
	dash++;
	n -= (size_t)(dash - mode);
	colon = memchr(dash, ':', n);
	if (!colon) {
		iw_fs_set_bytes(r, "ivgen-alg", dash, n);
		return;
	}
	iw_fs_set_bytes(r, "ivgen-alg", dash, (size_t)(colon - dash));
	colon++;
	iw_fs_set_bytes(r, "ivgen-hash-alg", colon,
			n - (size_t)(colon - dash));
}

struct luks1_slot {
	uint32_t active, iterations, key_offset, stripes;
	uint64_t sectors;
};

static void luks1_check_slots(struct iw_report *r, const uint8_t *h,
			      uint32_t key_bytes, uint32_t payload_sectors)
{
	struct luks1_slot s[LUKS1_NUM_KEY_SLOTS];
	json_object *fs = iw_report_fs(r), *slots = NULL;
	unsigned active = 0;

	if (fs) {
		slots = json_object_new_array();
		if (slots && json_object_object_add(fs, "slots", slots) < 0) {
			json_object_put(slots);
			slots = NULL;
		}
	}

	for (unsigned i = 0; i < LUKS1_NUM_KEY_SLOTS; i++) {
		const uint8_t *p = h + LUKS1_KEY_SLOTS_AT +
				   i * LUKS1_KEY_SLOT_SIZE;
		json_object *o;

		s[i].active = get_be32(p);
		s[i].iterations = get_be32(p + 4);
		s[i].key_offset = get_be32(p + 40);
		s[i].stripes = get_be32(p + 44);
		s[i].sectors = luks1_slot_sectors(key_bytes, s[i].stripes);

		if (s[i].active == LUKS1_SLOT_ENABLED)
			active++;
		if (slots && (o = json_object_new_object())) {
			bool on = s[i].active == LUKS1_SLOT_ENABLED;

			json_object_object_add(o, "active",
					       json_object_new_boolean(on));
			if (on)
				json_object_object_add(
					o, "iters",
					json_object_new_int64(s[i].iterations));
			json_object_object_add(
				o, "key-offset",
				json_object_new_int64((int64_t)s[i].key_offset *
						      LUKS_SECTOR_SIZE));
			if (on)
				json_object_object_add(
					o, "stripes",
					json_object_new_int64(s[i].stripes));
			json_object_array_add(slots, o);
		}

		/* the checks of qemu's qcrypto_block_luks_check_header */
		if (s[i].stripes != LUKS1_STRIPES)
			iw_finding(r, IW_F_BAD_FIELD,
				   "LUKS key slot %u has %u stripes, not %u", i,
				   s[i].stripes, LUKS1_STRIPES);
		if (s[i].active != LUKS1_SLOT_ENABLED &&
		    s[i].active != LUKS1_SLOT_DISABLED)
			iw_finding(r, IW_F_BAD_FIELD,
				   "LUKS key slot %u state 0x%08x is neither "
				   "enabled nor disabled",
				   i, s[i].active);
		if (s[i].active == LUKS1_SLOT_ENABLED && s[i].iterations == 0)
			iw_finding(r, IW_F_BAD_FIELD,
				   "LUKS key slot %u has zero iterations", i);
		if (s[i].key_offset < LUKS1_KEY_MATERIAL_SECTORS)
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "LUKS key slot %u material overlaps the "
				   "header",
				   i);
		if ((uint64_t)s[i].key_offset + s[i].sectors > payload_sectors)
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "LUKS key slot %u material overlaps the "
				   "payload",
				   i);
	}
	for (unsigned i = 0; i < LUKS1_NUM_KEY_SLOTS; i++)
		for (unsigned j = i + 1; j < LUKS1_NUM_KEY_SLOTS; j++)
			if ((uint64_t)s[i].key_offset + s[i].sectors >
				    s[j].key_offset &&
			    (uint64_t)s[j].key_offset + s[j].sectors >
				    s[i].key_offset)
				iw_finding(r, IW_F_TABLE_OVERLAP,
					   "LUKS key slots %u and %u overlap",
					   i, j);
	iw_fs_set_int(r, "active-slots", active);
}

static int luks1_probe(const struct iw_view *v, struct iw_report *r)
{
	uint8_t h[LUKS1_HEADER_SIZE];
	uint32_t payload_sectors, key_bytes, mk_iters;
	uint64_t payload;
	int ret;

	ret = iw_read_struct(v, r, h, sizeof(h), 0, "LUKS1 header");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;

	if (!luks_text_field(r, "cipher-name", h + 8, LUKS1_NAME_LEN) ||
	    !luks_text_field(r, NULL, h + 40, LUKS1_NAME_LEN) ||
	    !luks_text_field(r, "hash-alg", h + 72, LUKS1_NAME_LEN))
		iw_finding(r, IW_F_BAD_FIELD,
			   "a LUKS cipher or hash name is not NUL-terminated");
	luks1_report_mode(r, h + 40);
	payload_sectors = get_be32(h + 104);
	key_bytes = get_be32(h + 108);
	mk_iters = get_be32(h + 164);
	if (!luks_text_field(r, "uuid", h + 168, LUKS1_UUID_LEN))
		iw_finding(r, IW_F_BAD_FIELD,
			   "the LUKS UUID is not NUL-terminated");

	payload = (uint64_t)payload_sectors * LUKS_SECTOR_SIZE;
	iw_fs_set_int(r, "payload-offset", (int64_t)payload);
	iw_fs_set_int(r, "master-key-iters", mk_iters);
	iw_fs_set_int(r, "key-bytes", key_bytes);

	if (payload_sectors < LUKS1_KEY_MATERIAL_SECTORS)
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "the LUKS payload (sector %u) overlaps the header",
			   payload_sectors);
	if (mk_iters == 0)
		iw_finding(r, IW_F_BAD_FIELD,
			   "the LUKS master key iteration count is zero");
	if (key_bytes == 0)
		iw_finding(r, IW_F_BAD_FIELD, "the LUKS key size is zero");
	luks1_check_slots(r, h, key_bytes, payload_sectors);

	if (payload <= v->size) {
		if (!v->partial)
			r->virtual_size = (int64_t)(v->size - payload);
	} else if (!v->partial) {
		/* block/crypto.c getlength fails: qemu cannot open it */
		iw_finding(r, IW_F_TRUNCATED,
			   "the LUKS payload starts at %llu, past the end of "
			   "the file (%llu bytes)",
			   (unsigned long long)payload,
			   (unsigned long long)v->size);
	}
	return 0;
}

static int luks2_probe(const struct iw_view *v, struct iw_report *r)
{
	uint8_t h[LUKS2_BINARY_HEADER_SIZE];
	uint8_t second[LUKS_MAGIC_LEN + 2];
	uint64_t hdr_size, hdr_offset;
	int ret;

	/* qemu 7.2 reads LUKS1 only */
	iw_finding(r, IW_F_UNSUPPORTED_VERSION,
		   "LUKS2 (qemu opens LUKS1 only)");
	ret = iw_read_struct(v, r, h, sizeof(h), 0, "LUKS2 binary header");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;

	hdr_size = get_be64(h + 8);
	hdr_offset = get_be64(h + 256);
	iw_fs_set_int(r, "header-size",
		      hdr_size > INT64_MAX ? -1 : (int64_t)hdr_size);
	iw_fs_set_int(r, "seqid", (int64_t)(get_be64(h + 16) & INT64_MAX));
	luks_text_field(r, "label", h + 24, LUKS2_LABEL_LEN);
	luks_text_field(r, "checksum-alg", h + 72, LUKS2_CSUM_ALG_LEN);
	luks_text_field(r, "uuid", h + 168, LUKS2_UUID_LEN);
	luks_text_field(r, "subsystem", h + 208, LUKS2_SUBSYSTEM_LEN);

	if (hdr_offset != 0)
		iw_finding(r, IW_F_BAD_FIELD,
			   "the LUKS2 header at offset 0 claims offset %llu",
			   (unsigned long long)hdr_offset);
	/* header size = binary header + JSON area, a power of two from
	 * 16 KiB to 4 MiB (LUKS2 format, section 2) */
	if (!is_power_of_2(hdr_size) || hdr_size < LUKS2_HDR_SIZE_MIN ||
	    hdr_size > LUKS2_HDR_SIZE_MAX) {
		iw_finding(r, IW_F_BAD_FIELD, "LUKS2 header size %llu",
			   (unsigned long long)hdr_size);
		return 0;
	}
	iw_fs_set_int(r, "json-area-size",
		      (int64_t)(hdr_size - LUKS2_BINARY_HEADER_SIZE));

	/* the secondary copy follows the primary area */
	ret = iw_read_struct(v, r, second, sizeof(second), hdr_size,
			     "LUKS2 secondary header");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;
	iw_fs_set_bool(r, "secondary-header",
		       memcmp(second, LUKS2_SECONDARY_MAGIC, LUKS_MAGIC_LEN) ==
				       0 &&
			       get_be16(second + LUKS_MAGIC_LEN) == 2);
	return 0;
}

static int luks_probe(const struct iw_view *v, const uint8_t *head,
		      size_t head_len, struct iw_report *r,
		      struct iw_probe_ctx *ctx)
{
	uint8_t h[LUKS_MAGIC_LEN + 2];
	uint16_t version;
	int ret;

	r->format = "luks";
	/* whatever the header holds, the guest data is ciphertext */
	iw_finding(r, IW_F_ENCRYPTED, "LUKS encrypted volume");
	ret = iw_read_struct(v, r, h, sizeof(h), 0, "LUKS version");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;

	version = get_be16(h + LUKS_MAGIC_LEN);
	iw_fs_set_int(r, "version", version);
	switch (version) {
	case 1:
		return luks1_probe(v, r);
	case 2:
		return luks2_probe(v, r);
	default:
		iw_finding(r, IW_F_UNSUPPORTED_VERSION, "LUKS version %u",
			   version);
		return 0;
	}
}

const struct iw_format iw_format_luks = {
	.name = "luks",
	.kind = IW_KIND_IMAGE,
	.match = luks_match,
	.probe = luks_probe,
};
