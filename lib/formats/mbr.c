/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mbr: the DOS partition table in sector 0, its chain of extended boot
 * records (EBRs), and the protective/hybrid MBR in front of a GPT.
 *
 * An MBR is recognised by more than its 0x55AA trailer (random data ends
 * in 0x55AA once in 65536 sectors): every boot flag must be 0x00 or 0x80
 * (oslo.utils' rule), and a FAT/exFAT/NTFS volume boot record, which also
 * ends in 0x55AA, is not an MBR (oslo.utils 3c33e37, LP#2079850).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "part.h"

#define MBR_SECTOR_SIZE 512
#define MBR_DISK_SIGNATURE_OFF 440
#define MBR_TABLE_OFF 446
#define MBR_ENTRY_SIZE 16
#define MBR_SIGNATURE_OFF 510

/* EBRs followed across the whole disk. Linux stops at 256 partitions
 * (DISK_MAX_PARTS), fdisk at 60 logicals; 128 is more than either
 * tool creates and bounds a hostile chain. */
#define MBR_MAX_EBRS 128

#define MBR_TYPE_PROTECTIVE 0xee

struct mbr_entry {
	uint8_t boot;
	uint8_t type;
	uint32_t start_lba;
	uint32_t sectors;
};

static void mbr_decode_entry(const uint8_t *sector, unsigned i,
			     struct mbr_entry *e)
{
	const uint8_t *p = sector + MBR_TABLE_OFF + i * MBR_ENTRY_SIZE;

	/* bytes 1-3 and 5-7 are CHS addresses: ignored, as Linux does;
	 * every tool fills them with approximations on large disks */
	e->boot = p[0];
	e->type = p[4];
	e->start_lba = get_le32(p + 8);
	e->sectors = get_le32(p + 12);
}

static bool mbr_type_is_extended(uint8_t type)
{
	/* DOS extended, Win95 extended (LBA), Linux extended */
	return type == 0x05 || type == 0x0f || type == 0x85;
}

bool mbr_sector_is_vbr(const uint8_t *s)
{
	uint16_t bytes_per_sector = get_le16(s + 0x0b);
	uint8_t sectors_per_cluster = s[0x0d];
	uint16_t reserved = get_le16(s + 0x0e);
	uint8_t n_fats = s[0x10], media = s[0x15];

	/* a boot sector starts with a jump over its BPB; MBR boot code
	 * (xor ax,ax / cli) does not. GRUB's boot.img starts with a jump
	 * but keeps a zeroed BPB, which fails the tests below. */
	if (!((s[0] == 0xeb && s[2] == 0x90) || s[0] == 0xe9))
		return false;
	if (memcmp(s + 3, "NTFS    ", 8) == 0 ||
	    memcmp(s + 3, "EXFAT   ", 8) == 0)
		return true;
	/* FAT12/16/32 BPB (Microsoft FAT specification, section 3.1) */
	return (bytes_per_sector == 512 || bytes_per_sector == 1024 ||
		bytes_per_sector == 2048 || bytes_per_sector == 4096) &&
	       is_power_of_2(sectors_per_cluster) && reserved >= 1 &&
	       (n_fats == 1 || n_fats == 2) && (media == 0xf0 || media >= 0xf8);
}

bool mbr_sector_plausible(const uint8_t *s)
{
	if (s[MBR_SIGNATURE_OFF] != 0x55 || s[MBR_SIGNATURE_OFF + 1] != 0xaa)
		return false;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t boot = s[MBR_TABLE_OFF + i * MBR_ENTRY_SIZE];
		if (boot != 0x00 && boot != 0x80)
			return false;
	}
	return !mbr_sector_is_vbr(s);
}

static struct part_entry *mbr_add(struct part_table *t)
{
	if (t->n_entries >= PART_MAX_ENTRIES) {
		t->incomplete = true;
		return NULL;
	}
	return &t->entries[t->n_entries++];
}

/* Logical partitions of the extended partition [ext_lba, +ext_sectors):
 * Linux block/partitions/msdos.c and libfdisk semantics (the first data
 * entry of an EBR is the logical partition, relative to that EBR; the
 * first extended entry links to the next EBR, relative to the extended
 * partition's start). */
static int mbr_walk_ebrs(const struct iw_view *v, struct part_table *t,
			 struct iw_report *r, uint64_t ext_lba,
			 uint64_t ext_sectors, unsigned *next_index)
{
	uint64_t visited[MBR_MAX_EBRS];
	uint64_t ebr_lba = ext_lba, disk_sectors = v->size / t->sector_size;
	uint8_t s[MBR_SECTOR_SIZE];
	unsigned n;
	int ret;

	for (n = 0; n < MBR_MAX_EBRS; n++) {
		bool have_data = false, have_link = false;
		uint64_t next_lba = 0;

		for (unsigned i = 0; i < n; i++)
			if (visited[i] == ebr_lba) {
				iw_finding(r, IW_F_BAD_FIELD,
					   "the EBR chain loops back to "
					   "sector %llu",
					   (unsigned long long)ebr_lba);
				return 0;
			}
		visited[n] = ebr_lba;
		if (ebr_lba < ext_lba || ebr_lba - ext_lba >= ext_sectors) {
			iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
				   "EBR at sector %llu is outside its extended "
				   "partition",
				   (unsigned long long)ebr_lba);
			return 0;
		}
		/* ebr_lba < 2^33: the multiplication cannot overflow */
		ret = iw_read_struct(v, r, s, sizeof(s),
				     ebr_lba * t->sector_size, "EBR");
		if (ret == -ERANGE || ret == -E2BIG)
			return 0;
		if (ret < 0)
			return ret;
		if (s[MBR_SIGNATURE_OFF] != 0x55 ||
		    s[MBR_SIGNATURE_OFF + 1] != 0xaa) {
			iw_finding(r, IW_F_BAD_FIELD,
				   "EBR at sector %llu has no 0x55AA signature",
				   (unsigned long long)ebr_lba);
			return 0;
		}
		for (unsigned i = 0; i < 4; i++) {
			struct mbr_entry e;
			struct part_entry *p;
			uint64_t start, end;

			mbr_decode_entry(s, i, &e);
			if (e.sectors == 0)
				continue;
			if (mbr_type_is_extended(e.type)) {
				if (!have_link) {
					next_lba = ext_lba + e.start_lba;
					have_link = true;
				}
				continue;
			}
			if (have_data) {
				iw_finding(r, IW_F_BAD_FIELD,
					   "EBR at sector %llu describes more "
					   "than one logical partition",
					   (unsigned long long)ebr_lba);
				continue;
			}
			have_data = true;
			if (e.boot != 0x00 && e.boot != 0x80)
				iw_finding(r, IW_F_BAD_FIELD,
					   "logical partition %u has boot "
					   "flag 0x%02x",
					   *next_index, e.boot);
			start = ebr_lba + e.start_lba;
			end = start + e.sectors;
			if (e.start_lba == 0 || end > ext_lba + ext_sectors)
				iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
					   "logical partition %u (sectors "
					   "%llu-%llu) is not inside its "
					   "extended partition",
					   *next_index,
					   (unsigned long long)start,
					   (unsigned long long)end - 1);
			else if (!v->partial && end > disk_sectors)
				iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
					   "logical partition %u ends past the "
					   "end of the disk",
					   *next_index);
			p = mbr_add(t);
			if (!p)
				return 0;
			*p = (struct part_entry){
				.index = (*next_index)++,
				.start = start * t->sector_size,
				.size = (uint64_t)e.sectors * t->sector_size,
				.bootable = e.boot == 0x80,
				.logical = true,
				.mbr_type = e.type,
			};
		}
		if (!have_link)
			return 0;
		ebr_lba = next_lba;
	}
	iw_finding(r, IW_F_TABLE_TOO_LARGE,
		   "the EBR chain is longer than %d entries", MBR_MAX_EBRS);
	return 0;
}

int mbr_parse(const struct iw_view *v, struct part_table *t,
	      struct iw_report *r)
{
	uint8_t s[MBR_SECTOR_SIZE];
	uint64_t disk_sectors;
	unsigned n_protective = 0, n_others = 0, next_logical = 5, gpt_ss;
	int ext_index = -1;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = iw_view_read(v, s, sizeof(s), 0);
	if (ret == -ERANGE)
		return -ENOENT;
	if (ret < 0)
		return ret;
	if (!mbr_sector_plausible(s))
		return -ENOENT;

	t->scheme = PART_SCHEME_MBR;
	/* An MBR counts in logical sectors: 4096 bytes on a 4Kn disk,
	 * which is where such a disk keeps its GPT header. */
	gpt_ss = gpt_find_header(v, NULL, 0);
	t->sector_size = gpt_ss == 4096 ? 4096 : MBR_SECTOR_SIZE;
	t->disk_signature = get_le32(s + MBR_DISK_SIGNATURE_OFF);
	t->isohybrid = part_disk_has_iso9660(v);
	disk_sectors = v->size / t->sector_size;

	for (unsigned i = 0; i < 4; i++) {
		struct mbr_entry e;
		struct part_entry *p;
		uint64_t end;

		mbr_decode_entry(s, i, &e);
		/* Linux and libfdisk: an entry is used when it has a size */
		if (e.sectors == 0)
			continue;
		if (e.type == MBR_TYPE_PROTECTIVE) {
			n_protective++;
			/* UEFI 2.10 section 5.2.3: the protective entry starts
			 * at LBA 1 and covers the disk (or 2^32-1 sectors). */
			if (e.start_lba != 1)
				iw_finding(r, IW_F_BAD_FIELD,
					   "protective MBR entry %u starts at "
					   "sector %u, not 1",
					   i + 1, e.start_lba);
		} else {
			n_others++;
		}
		end = (uint64_t)e.start_lba + e.sectors;
		if (!v->partial && end > disk_sectors &&
		    !(e.type == MBR_TYPE_PROTECTIVE &&
		      e.sectors == UINT32_MAX))
			iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
				   "partition %u (sectors %u-%llu) ends past "
				   "the end of the disk (%llu sectors)",
				   i + 1, e.start_lba,
				   (unsigned long long)end - 1,
				   (unsigned long long)disk_sectors);
		p = mbr_add(t);
		if (!p)
			break;
		*p = (struct part_entry){
			.index = i + 1,
			.start = (uint64_t)e.start_lba * t->sector_size,
			.size = (uint64_t)e.sectors * t->sector_size,
			.bootable = e.boot == 0x80,
			.mbr_type = e.type,
			.extended = mbr_type_is_extended(e.type),
		};
		if (p->extended) {
			/* libfdisk: "ignoring extra extended partition" */
			if (ext_index >= 0)
				iw_finding(r, IW_F_BAD_FIELD,
					   "partitions %d and %u are both "
					   "extended partitions",
					   ext_index + 1, i + 1);
			else
				ext_index = (int)i;
		}
	}

	t->protective = n_protective > 0;
	t->hybrid = n_protective > 0 && n_others > 0;
	if (n_protective > 1)
		iw_finding(r, IW_F_BAD_FIELD,
			   "%u protective (0xEE) entries", n_protective);
	if (t->protective && gpt_ss == 0)
		iw_finding(r, IW_F_BAD_FIELD,
			   "protective MBR, but no GPT header at LBA 1");

	if (ext_index >= 0) {
		struct mbr_entry e;

		mbr_decode_entry(s, (unsigned)ext_index, &e);
		ret = mbr_walk_ebrs(v, t, r, e.start_lba, e.sectors,
				    &next_logical);
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

static bool mbr_match(const struct iw_view *v, const uint8_t *head,
		      size_t head_len)
{
	return head_len >= MBR_SECTOR_SIZE && mbr_sector_plausible(head);
}

static int mbr_probe(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx)
{
	_cleanup_free_ struct part_table *t = NULL;
	char sig[16];
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	ret = mbr_parse(v, t, r);
	if (ret == -ENOENT) {
		iw_finding(r, IW_F_BAD_FIELD, "sector 0 is not an MBR");
		return 0;
	}
	if (ret == -ERANGE || ret == -E2BIG) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "could not read the MBR");
		return 0;
	}
	if (ret < 0)
		return ret;
	snprintf(sig, sizeof(sig), "0x%08x", t->disk_signature);
	iw_fs_set_str(r, "disk-signature", sig);
	iw_fs_set_int(r, "sector-size", t->sector_size);
	if (t->protective)
		iw_fs_set_str(r, "protective",
			      t->hybrid ? "hybrid" : "protective");
	if (t->isohybrid)
		iw_fs_set_bool(r, "isohybrid", true);
	part_report_entries(t, r);
	return 0;
}

const struct iw_format iw_format_mbr = {
	.name = "mbr",
	.kind = IW_KIND_CONTENT,
	.match = mbr_match,
	.probe = mbr_probe,
};
