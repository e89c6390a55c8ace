/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Partition tables (MBR with its EBR chain, GPT): pure parsers shared by
 * the mbr/gpt content readers and by the NTFS scanner, which lists the
 * partitions of a raw disk before it looks for volumes in them.
 *
 * The parsers read only through the view, bound every loop (EBR chain
 * length, GPT entry count and size) and report what is wrong with the
 * table as findings in the report they are given; they still fill in
 * whatever partitions they could read, so a caller can decide how much
 * to trust a damaged table.
 */
#ifndef IW_FORMATS_PART_H
#define IW_FORMATS_PART_H

#include <stdbool.h>
#include <stdint.h>

#include "formats.h"

/* More partitions than any real disk has (GPT's default array holds 128,
 * MBR's logical partitions are bounded by MBR_MAX_EBRS); past this the
 * table is listed in part and `incomplete` is set. */
#define PART_MAX_ENTRIES 256

/* A GPT name is 36 UTF-16 code units: at most 36 * 3 bytes of UTF-8 (a
 * surrogate pair is 2 units and 4 bytes, less than 2 * 3), plus NUL. */
#define PART_NAME_MAX (36 * 3 + 1)

enum part_scheme {
	PART_SCHEME_NONE,
	PART_SCHEME_MBR,
	PART_SCHEME_GPT,
};

struct part_entry {
	unsigned index;	 /* Linux numbering: MBR primaries 1-4, logicals 5.. */
	uint64_t start;	 /* bytes from the start of the disk */
	uint64_t size;	 /* bytes */
	bool bootable;	 /* MBR boot flag 0x80; GPT attribute bit 2 */
	bool logical;	 /* MBR: described by an EBR */
	bool extended;	 /* MBR: the container of logical partitions */
	uint8_t mbr_type;
	/* GPT only */
	uint8_t type_guid[16];
	uint8_t guid[16];
	uint64_t attributes;
	char name[PART_NAME_MAX]; /* UTF-8, not yet sanitised for output */
};

struct part_gpt_header {
	uint32_t revision;
	uint32_t header_size;
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t first_usable_lba;
	uint64_t last_usable_lba;
	uint8_t disk_guid[16];
	uint64_t entries_lba;
	uint32_t n_entries;
	uint32_t entry_size;
	uint32_t entries_crc;
	bool array_checked; /* entry size/count/location passed the checks */
	bool valid; /* and both CRCs are correct */
};

struct part_table {
	enum part_scheme scheme;
	unsigned sector_size;
	size_t n_entries;
	bool incomplete; /* more partitions than PART_MAX_ENTRIES */
	/* An ISO 9660 follows at 32 KiB: a hybrid ISO whose first partition
	 * may start at sector 0 and span the whole image, the ISO itself,
	 * with the others inside it (xorriso -isohybrid-gpt-basdat,
	 * syslinux isohybrid). That partition is not an overlap, and a GPT
	 * beside a non-protective MBR is that tool's design. */
	bool isohybrid;
	/* MBR */
	uint32_t disk_signature;
	bool protective; /* an 0xEE entry: the disk is really GPT */
	bool hybrid;	 /* 0xEE next to other primary entries */
	/* GPT: the header the partitions were read from */
	struct part_gpt_header gpt;
	bool gpt_used_backup; /* the primary header was unusable */
	const char *gpt_pmbr; /* "protective", "hybrid" or "missing" */
	struct part_entry entries[PART_MAX_ENTRIES];
};

/* Is this 512-byte sector a plausible MBR (and not a FAT/NTFS boot
 * sector, whose BPB also ends in 0x55AA)? */
bool mbr_sector_plausible(const uint8_t *sector);
/* Is it a FAT/exFAT/NTFS volume boot record? */
bool mbr_sector_is_vbr(const uint8_t *sector);

/*
 * Parse the MBR at sector 0 and its EBR chain into t (zeroed by the
 * callee). Returns 0 when sector 0 holds a plausible MBR (findings about
 * its defects go to r), -ENOENT when it does not, -ENOMEM or a view I/O
 * error. Sizes use 512-byte sectors, or 4096 when the disk carries its
 * GPT at 4096 (a 4Kn disk).
 */
int mbr_parse(const struct iw_view *v, struct part_table *t,
	      struct iw_report *r);

/*
 * Parse the GPT (512- or 4096-byte sectors, whichever carries "EFI PART"
 * at LBA 1) into t: headers, both CRCs, the backup header, the protective
 * MBR, every used entry. Returns 0 when a primary GPT header signature
 * was found (however damaged), -ENOENT when none, -ENOMEM or an I/O
 * error.
 */
int gpt_parse(const struct iw_view *v, struct part_table *t,
	      struct iw_report *r);

/*
 * The partitions of a disk, as Linux would see them: the GPT when there is
 * one, else the MBR. Returns -ENOENT for an unpartitioned disk (a bare
 * filesystem, e.g. a FAT or NTFS boot sector at 0). Callers that look for
 * volumes skip `extended` entries and MBR type 0xEE. r receives the
 * findings (pass a scratch report when they are not wanted).
 */
int part_parse(const struct iw_view *v, struct part_table *t,
	       struct iw_report *r);

/* Where "EFI PART" is: 512 or 4096 (the sector size), 0 if nowhere. */
unsigned gpt_find_header(const struct iw_view *v, const uint8_t *head,
			 size_t head_len);

/* Does an ISO 9660 volume descriptor follow at 32 KiB? */
bool part_disk_has_iso9660(const struct iw_view *v);

/* "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" (GPT's mixed-endian layout). */
#define PART_GUID_STRING_MAX 37
void part_guid_to_string(const uint8_t *guid, char *out);
/* Short name of a well-known GPT partition type, or NULL. */
const char *part_gpt_type_name(const uint8_t *type_guid);

/* TABLE_OVERLAP for every pair of (non-container) partitions that share
 * bytes; extended containers are checked only against primaries. */
void part_check_overlaps(const struct part_table *t, struct iw_report *r);

/* Add "partitions": [...] to r's format-specific data. */
void part_report_entries(const struct part_table *t, struct iw_report *r);

#endif
