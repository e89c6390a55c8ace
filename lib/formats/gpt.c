/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gpt: the GUID partition table (UEFI 2.10 chapter 5.3).
 *
 * Primary header at LBA 1 (512-byte sectors, or 4096 on 4Kn disks), its
 * partition entry array, and the backup header and array at the disk's
 * last LBA. Both headers and both arrays carry a CRC-32; a mismatch makes
 * this content report invalid (firmware and Linux then fall back to the
 * other copy, and so do we when we list partitions). The protective MBR
 * is checked here for presence; the mbr reader reports its details.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "part.h"
#include "utf16.h"

#define GPT_SIGNATURE "EFI PART"
#define GPT_HEADER_MIN_SIZE 92
#define GPT_CRC_OFF 16
#define GPT_ENTRY_MIN_SIZE 128
#define GPT_ENTRY_NAME_UNITS 36

/* Every partitioning tool writes 128 entries of 128 bytes (16 KiB).
 * 4096 entries is 32 times that; larger arrays are refused so a hostile
 * header cannot make us read and CRC megabytes. */
#define GPT_MAX_ENTRIES 4096
#define GPT_MAX_ENTRY_SIZE 4096
#define GPT_MAX_ARRAY_BYTES (1 * MiB)
/* The array is read in pieces of this size (CRC and entries). */
#define GPT_CHUNK (16 * KiB)

/* UEFI 2.10 table 5.8: "legacy BIOS bootable" */
#define GPT_ATTR_LEGACY_BOOTABLE (UINT64_C(1) << 2)

unsigned gpt_find_header(const struct iw_view *v, const uint8_t *head,
			 size_t head_len)
{
	static const unsigned sizes[] = { 512, 4096 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t sig[8];

		if (head && head_len >= sizes[i] + sizeof(sig))
			memcpy(sig, head + sizes[i], sizeof(sig));
		else if (iw_view_read(v, sig, sizeof(sig), sizes[i]) < 0)
			continue;
		if (memcmp(sig, GPT_SIGNATURE, sizeof(sig)) == 0)
			return sizes[i];
	}
	return 0;
}

struct gpt_ctx {
	const struct iw_view *v;
	struct iw_report *r;
	unsigned ss;		/* sector size */
	uint64_t disk_sectors;
};

/* Is there a GPT signature at lba? (a backup header at the disk's end
 * wins over a damaged primary's alternate-LBA pointer) */
static bool gpt_signature_at(struct gpt_ctx *c, uint64_t lba)
{
	uint8_t sig[8];
	uint64_t off;

	return !MUL_OVERFLOW(lba, (uint64_t)c->ss, &off) &&
	       iw_view_read(c->v, sig, sizeof(sig), off) == 0 &&
	       memcmp(sig, GPT_SIGNATURE, sizeof(sig)) == 0;
}

/* CRC-32 of the entry array at h->entries_lba; false if unreadable. */
static int gpt_array_crc(struct gpt_ctx *c, const struct part_gpt_header *h,
			 uint32_t *ret_crc)
{
	uint64_t off = h->entries_lba * c->ss;
	uint64_t len = (uint64_t)h->n_entries * h->entry_size;
	_cleanup_free_ uint8_t *buf = malloc(GPT_CHUNK);
	uint32_t crc = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t done = 0; done < len;) {
		size_t n = (size_t)MIN(len - done, (uint64_t)GPT_CHUNK);
		int ret = iw_view_read(c->v, buf, n, off + done);

		if (ret < 0)
			return ret;
		crc = iw_crc32(crc, buf, n);
		done += n;
	}
	*ret_crc = crc;
	return 0;
}

/*
 * Read and check the header at lba. Returns 1 if a header signature is
 * there (h filled, h->valid telling whether it can be trusted), 0 if
 * there is none, <0 on ENOMEM/I-O errors. `which` names it in findings.
 */
static int gpt_read_header(struct gpt_ctx *c, uint64_t lba, const char *which,
			   bool quiet_if_absent, struct part_gpt_header *h)
{
	struct iw_report *r = c->r;
	_cleanup_free_ uint8_t *s = NULL;
	uint64_t off, array_bytes, array_sectors;
	uint32_t stored_crc, crc;
	bool ok = true;
	int ret;

	memset(h, 0, sizeof(*h));
	if (MUL_OVERFLOW(lba, (uint64_t)c->ss, &off) ||
	    (quiet_if_absent && !iw_view_contains(c->v, off, c->ss)))
		return 0;
	s = malloc(c->ss);
	if (!s)
		return -ENOMEM;
	ret = iw_read_struct(c->v, r, s, c->ss, off, "GPT header");
	if (ret == -ERANGE || ret == -E2BIG)
		return 0;
	if (ret < 0)
		return ret;
	if (memcmp(s, GPT_SIGNATURE, 8) != 0)
		return 0;

	h->revision = get_le32(s + 8);
	h->header_size = get_le32(s + 12);
	stored_crc = get_le32(s + GPT_CRC_OFF);
	h->my_lba = get_le64(s + 24);
	h->alternate_lba = get_le64(s + 32);
	h->first_usable_lba = get_le64(s + 40);
	h->last_usable_lba = get_le64(s + 48);
	memcpy(h->disk_guid, s + 56, 16);
	h->entries_lba = get_le64(s + 72);
	h->n_entries = get_le32(s + 80);
	h->entry_size = get_le32(s + 84);
	h->entries_crc = get_le32(s + 88);

	/* Only revision 1.x exists; Linux (efi.c) and EDK2 accept any
	 * minor. */
	if (h->revision >> 16 != 1)
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "%s GPT header revision 0x%08x", which,
			   h->revision);
	if (h->header_size < GPT_HEADER_MIN_SIZE || h->header_size > c->ss) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s GPT header size %u is not in %d..%u", which,
			   h->header_size, GPT_HEADER_MIN_SIZE, c->ss);
		return 1;
	}
	/* the CRC covers header_size bytes with its own field zeroed */
	put_le32(s + GPT_CRC_OFF, 0);
	crc = iw_crc32(0, s, h->header_size);
	if (crc != stored_crc) {
		iw_finding(r, IW_F_BAD_CHECKSUM,
			   "%s GPT header CRC-32 is 0x%08x, computed 0x%08x",
			   which, stored_crc, crc);
		ok = false;
	}
	if (h->my_lba != lba) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s GPT header at LBA %llu says it is at LBA %llu",
			   which, (unsigned long long)lba,
			   (unsigned long long)h->my_lba);
		ok = false;
	}
	if (h->first_usable_lba > h->last_usable_lba ||
	    (!c->v->partial && h->last_usable_lba >= c->disk_sectors)) {
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "%s GPT usable range %llu-%llu does not fit a "
			   "disk of %llu sectors",
			   which, (unsigned long long)h->first_usable_lba,
			   (unsigned long long)h->last_usable_lba,
			   (unsigned long long)c->disk_sectors);
		ok = false;
	}
	/* UEFI 2.10 5.3.2: SizeOfPartitionEntry is 128 * 2^n */
	if (h->entry_size < GPT_ENTRY_MIN_SIZE ||
	    h->entry_size % GPT_ENTRY_MIN_SIZE != 0 ||
	    !is_power_of_2(h->entry_size / GPT_ENTRY_MIN_SIZE)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%s GPT partition entry size %u is not 128 * 2^n",
			   which, h->entry_size);
		return 1;
	}
	if (h->entry_size > GPT_MAX_ENTRY_SIZE ||
	    h->n_entries > GPT_MAX_ENTRIES ||
	    (uint64_t)h->n_entries * h->entry_size > GPT_MAX_ARRAY_BYTES) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "%s GPT partition array of %u entries of %u bytes",
			   which, h->n_entries, h->entry_size);
		return 1;
	}
	array_bytes = (uint64_t)h->n_entries * h->entry_size;
	array_sectors = (array_bytes + c->ss - 1) / c->ss;
	if (MUL_OVERFLOW(h->entries_lba, (uint64_t)c->ss, &off) ||
	    !iw_check_table(c->v, r, off, array_bytes,
			    "GPT partition entry array"))
		return 1;
	/* the array must not hold a header nor reach into the partitions */
	if ((lba >= h->entries_lba && lba - h->entries_lba < array_sectors) ||
	    h->entries_lba < 2 ||
	    (h->entries_lba < h->first_usable_lba &&
	     h->entries_lba + array_sectors > h->first_usable_lba) ||
	    (h->entries_lba >= h->first_usable_lba &&
	     h->entries_lba <= h->last_usable_lba)) {
		iw_finding(r, IW_F_TABLE_OVERLAP,
			   "%s GPT partition array (LBA %llu, %llu sectors) "
			   "overlaps a header or the usable area",
			   which, (unsigned long long)h->entries_lba,
			   (unsigned long long)array_sectors);
		ok = false;
	}
	h->array_checked = true;
	ret = gpt_array_crc(c, h, &crc);
	if (ret == -ERANGE || ret == -E2BIG) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "%s GPT partition array not read", which);
		return 1;
	}
	if (ret < 0)
		return ret;
	if (crc != h->entries_crc) {
		iw_finding(r, IW_F_BAD_CHECKSUM,
			   "%s GPT partition array CRC-32 is 0x%08x, computed "
			   "0x%08x",
			   which, h->entries_crc, crc);
		ok = false;
	}
	h->valid = ok;
	return 1;
}

/* The backup header must mirror the primary (UEFI 2.10 5.3.2). */
static void gpt_compare(struct gpt_ctx *c, const struct part_gpt_header *p,
			const struct part_gpt_header *b)
{
	const char *what = NULL;

	if (b->alternate_lba != p->my_lba || b->my_lba != p->alternate_lba)
		what = "location";
	else if (b->first_usable_lba != p->first_usable_lba ||
		 b->last_usable_lba != p->last_usable_lba)
		what = "usable range";
	else if (memcmp(b->disk_guid, p->disk_guid, 16) != 0)
		what = "disk GUID";
	else if (b->n_entries != p->n_entries ||
		 b->entry_size != p->entry_size)
		what = "partition array geometry";
	else if (b->entries_crc != p->entries_crc)
		what = "partition array CRC";
	if (what)
		iw_finding(c->r, IW_F_INCONSISTENT_HEADER,
			   "the backup GPT header's %s differs from the "
			   "primary's",
			   what);
}

static struct part_entry *gpt_add(struct part_table *t)
{
	if (t->n_entries >= PART_MAX_ENTRIES) {
		t->incomplete = true;
		return NULL;
	}
	return &t->entries[t->n_entries++];
}

static int gpt_read_entries(struct gpt_ctx *c, const struct part_gpt_header *h,
			    struct part_table *t)
{
	uint64_t off = h->entries_lba * c->ss; /* checked by the caller */
	_cleanup_free_ uint8_t *buf = malloc(GPT_CHUNK);
	/* entry_size divides GPT_CHUNK: both are powers of 2 times 128 */
	unsigned per_chunk = GPT_CHUNK / h->entry_size;
	struct iw_report *r = c->r;
	int ret;

	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->n_entries; i++) {
		const uint8_t *e;
		struct part_entry *p;
		uint64_t first, last, start, size;

		if (i % per_chunk == 0) {
			size_t n = (size_t)MIN(h->n_entries - i, per_chunk) *
				   h->entry_size;

			ret = iw_read_struct(c->v, r, buf, n,
					     off + (uint64_t)i * h->entry_size,
					     "GPT partition entries");
			if (ret == -ERANGE || ret == -E2BIG)
				return 0;
			if (ret < 0)
				return ret;
		}
		e = buf + (size_t)(i % per_chunk) * h->entry_size;
		if (mem_is_zero(e, 16))
			continue; /* unused entry */
		first = get_le64(e + 32);
		last = get_le64(e + 40);
		if (first > last) {
			iw_finding(r, IW_F_BAD_FIELD,
				   "GPT partition %u ends (LBA %llu) before it "
				   "starts (LBA %llu)",
				   i + 1, (unsigned long long)last,
				   (unsigned long long)first);
			continue;
		}
		/* part.h: a hybrid ISO's partition 0 spans the image */
		if ((first < h->first_usable_lba &&
		     !(t->isohybrid && first == 0)) ||
		    last > h->last_usable_lba)
			iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
				   "GPT partition %u (LBA %llu-%llu) is outside "
				   "the usable range %llu-%llu",
				   i + 1, (unsigned long long)first,
				   (unsigned long long)last,
				   (unsigned long long)h->first_usable_lba,
				   (unsigned long long)h->last_usable_lba);
		if (!c->v->partial && last >= c->disk_sectors)
			iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
				   "GPT partition %u (LBA %llu-%llu) ends past "
				   "the end of the disk (%llu sectors)",
				   i + 1, (unsigned long long)first,
				   (unsigned long long)last,
				   (unsigned long long)c->disk_sectors);
		/* keep only entries whose byte range is representable */
		if (MUL_OVERFLOW(first, (uint64_t)c->ss, &start) ||
		    MUL_OVERFLOW(last - first + 1, (uint64_t)c->ss, &size) ||
		    start + size < start || start + size > (uint64_t)INT64_MAX)
			continue;
		p = gpt_add(t);
		if (!p)
			return 0;
		*p = (struct part_entry){
			.index = i + 1,
			.start = start,
			.size = size,
			.attributes = get_le64(e + 48),
		};
		p->bootable = p->attributes & GPT_ATTR_LEGACY_BOOTABLE;
		memcpy(p->type_guid, e, 16);
		memcpy(p->guid, e + 16, 16);
		utf16_to_utf8(e + 56, GPT_ENTRY_NAME_UNITS, false, p->name);
	}
	return 0;
}

/* UEFI 2.10 5.2.3: a GPT disk starts with a protective MBR (one 0xEE
 * entry); without one, Linux ignores the GPT unless forced. */
static int gpt_check_pmbr(struct gpt_ctx *c, struct part_table *t)
{
	uint8_t s[512];
	bool protective = false, others = false;
	int ret;

	ret = iw_view_read(c->v, s, sizeof(s), 0);
	if (ret < 0)
		return ret;
	if (s[510] == 0x55 && s[511] == 0xaa) {
		for (unsigned i = 0; i < 4; i++) {
			const uint8_t *e = s + 446 + 16 * i;

			if (get_le32(e + 12) == 0)
				continue;
			if (e[4] == 0xee)
				protective = true;
			else
				others = true;
		}
	}
	if (!protective) {
		t->gpt_pmbr = "missing";
		if (!t->isohybrid)
			iw_finding(c->r, IW_F_BAD_FIELD,
				   "GPT disk without a protective MBR");
	} else {
		t->gpt_pmbr = others ? "hybrid" : "protective";
	}
	return 0;
}

int gpt_parse(const struct iw_view *v, struct part_table *t,
	      struct iw_report *r)
{
	struct part_gpt_header primary, backup;
	const struct part_gpt_header *use;
	struct gpt_ctx c = { .v = v, .r = r };
	uint64_t last_lba, backup_lba;
	int ret, have_backup;

	memset(t, 0, sizeof(*t));
	c.ss = gpt_find_header(v, NULL, 0);
	if (c.ss == 0)
		return -ENOENT;
	c.disk_sectors = v->size / c.ss;
	t->scheme = PART_SCHEME_GPT;
	t->sector_size = c.ss;
	t->isohybrid = part_disk_has_iso9660(v);

	ret = gpt_check_pmbr(&c, t);
	if (ret < 0)
		return ret;
	ret = gpt_read_header(&c, 1, "primary", false, &primary);
	if (ret <= 0)
		return ret; /* 0: truncated or budget spent, already reported */

	/* The backup lives at the last LBA. A disk grown after partitioning
	 * keeps it earlier (and tools move it on the next write); a header
	 * pointing past the end means the image was cut short. */
	last_lba = c.disk_sectors - 1;
	backup_lba = last_lba;
	if (primary.alternate_lba < last_lba && primary.alternate_lba > 1 &&
	    !gpt_signature_at(&c, last_lba)) {
		iw_finding(r, IW_F_TRAILING_DATA,
			   "the disk continues %llu bytes past the backup "
			   "GPT header",
			   (unsigned long long)(last_lba -
						primary.alternate_lba) *
				   c.ss);
		backup_lba = primary.alternate_lba;
	} else if (primary.alternate_lba > last_lba && !v->partial) {
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "the backup GPT header's LBA %llu is past the end "
			   "of the disk (%llu sectors)",
			   (unsigned long long)primary.alternate_lba,
			   (unsigned long long)c.disk_sectors);
	}
	have_backup = 0;
	if (!v->partial) {
		have_backup = gpt_read_header(&c, backup_lba, "backup", true,
					      &backup);
		if (have_backup < 0)
			return have_backup;
		if (have_backup == 0)
			iw_finding(r, IW_F_INCONSISTENT_HEADER,
				   "no backup GPT header at LBA %llu",
				   (unsigned long long)backup_lba);
		else
			gpt_compare(&c, &primary, &backup);
	}

	use = &primary;
	if (!primary.valid && have_backup == 1 && backup.valid) {
		use = &backup;
		t->gpt_used_backup = true;
	}
	t->gpt = *use;
	/* entries are listed only from a header whose array passed the
	 * structural checks (size, count, inside the disk) */
	if (use->array_checked) {
		ret = gpt_read_entries(&c, use, t);
		if (ret < 0)
			return ret;
	}
	if (t->incomplete)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "more than %d partitions; the rest are not listed",
			   PART_MAX_ENTRIES);
	part_check_overlaps(t, r);
	return 0;
}

static bool gpt_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	return gpt_find_header(v, head, head_len) != 0;
}

static int gpt_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	_cleanup_free_ struct part_table *t = NULL;
	char guid[PART_GUID_STRING_MAX], rev[16];
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	ret = gpt_parse(v, t, r);
	if (ret == -ENOENT) {
		iw_finding(r, IW_F_BAD_FIELD, "no GPT header at LBA 1");
		return 0;
	}
	if (ret == -ERANGE || ret == -E2BIG) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "could not read the GPT");
		return 0;
	}
	if (ret < 0)
		return ret;
	iw_fs_set_int(r, "sector-size", t->sector_size);
	if (t->gpt_pmbr)
		iw_fs_set_str(r, "protective-mbr", t->gpt_pmbr);
	if (t->gpt.header_size == 0)
		return 0;
	snprintf(rev, sizeof(rev), "%u.%u", t->gpt.revision >> 16,
		 t->gpt.revision & 0xffff);
	iw_fs_set_str(r, "revision", rev);
	part_guid_to_string(t->gpt.disk_guid, guid);
	iw_fs_set_str(r, "disk-guid", guid);
	iw_fs_set_int(r, "first-usable-lba",
		      (int64_t)MIN(t->gpt.first_usable_lba, (uint64_t)INT64_MAX));
	iw_fs_set_int(r, "last-usable-lba",
		      (int64_t)MIN(t->gpt.last_usable_lba, (uint64_t)INT64_MAX));
	iw_fs_set_int(r, "partition-entries", t->gpt.n_entries);
	iw_fs_set_int(r, "partition-entry-size", t->gpt.entry_size);
	if (t->isohybrid)
		iw_fs_set_bool(r, "isohybrid", true);
	if (t->gpt_used_backup)
		iw_fs_set_bool(r, "from-backup", true);
	part_report_entries(t, r);
	return 0;
}

const struct iw_format iw_format_gpt = {
	.name = "gpt",
	.kind = IW_KIND_CONTENT,
	.match = gpt_match,
	.probe = gpt_probe,
};
