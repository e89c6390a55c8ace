/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NTFS, read-only and bounded: enough to find and read the files a
 * Windows inspection needs (the registry hives, hiberfil.sys, drivers)
 * from an untrusted volume, without mounting it.
 *
 * Layering (each layer is a pure function of bytes, fuzzed on its own):
 *   boot sector (BPB)  ->  MFT records (multi-sector fixups, header)
 *   -> attributes (resident / non-resident, $ATTRIBUTE_LIST)
 *   -> runlists (mapping pairs)  ->  directory indexes ($I30: root +
 *   INDX nodes)  ->  path lookup  ->  a file's $DATA as an iw_view.
 *
 * The volume is read only through the iw_view it is opened on (a
 * partition of the guest disk); every offset, length, count and
 * reference from the volume is checked, and every walk is bounded
 * (named caps below and in ntfs.c). Problems go to the iw_diag given at
 * open (codes ntfs-*); the functions return -EINVAL for a broken
 * volume, -ENOENT for "no such file", -ELOOP for loops, -EOPNOTSUPP
 * for compressed/encrypted data, -E2BIG for a bound, -ENOMEM.
 */
#ifndef IW_SCAN_NTFS_H
#define IW_SCAN_NTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../view.h"
#include "diag.h"

/* Well-known MFT record numbers */
#define NTFS_MFT_RECORD_MFT 0
#define NTFS_MFT_RECORD_VOLUME 3
#define NTFS_MFT_RECORD_ROOT 5
#define NTFS_MFT_RECORD_UPCASE 10

/* $Volume label: at most 128 UTF-16 units on disk (Windows allows 32). */
#define NTFS_LABEL_MAX (128 * 3 + 1)
/* File names: 255 UTF-16 units. */
#define NTFS_NAME_MAX (255 * 3 + 1)

/* $VOLUME_INFORMATION flags (ntfs-3g layout.h VOLUME_FLAGS) */
#define NTFS_VOLUME_IS_DIRTY 0x0001

/* What the boot sector and $Volume say about a volume. */
struct ntfs_info {
	uint32_t sector_size;	    /* 256..4096, power of 2 */
	uint32_t cluster_size;	    /* sector_size..2 MiB, power of 2 */
	uint32_t mft_record_size;   /* 512..64 KiB, power of 2 (fixups
				     * need whole 512-byte strides) */
	uint32_t index_record_size; /* 512..64 KiB, power of 2 */
	uint64_t total_size;	    /* bytes the boot sector claims */
	uint64_t mft_offset;	    /* bytes from the start of the volume */
	uint64_t mftmirr_offset;
	uint64_t serial;	    /* volume serial number */
	/* from $Volume (record 3); valid when have_volume_info */
	bool have_volume_info;
	char label[NTFS_LABEL_MAX]; /* UTF-8, unsanitised */
	uint8_t major, minor;	    /* NTFS version, 3.1 for XP and later */
	uint16_t volume_flags;
	bool dirty;		    /* volume_flags & NTFS_VOLUME_IS_DIRTY */
};

/*
 * Parse and check a boot sector (at least 512 bytes at p). part_size is
 * the size of the partition it was read from (the boot sector may claim
 * at most that, plus the one sector NTFS keeps for its backup boot
 * sector). Fills the geometry fields of info. 0, or -EINVAL with d set
 * (ntfs-boot-sector). Pure.
 */
int ntfs_parse_boot(const uint8_t *p, size_t len, uint64_t part_size,
		    struct ntfs_info *info, struct iw_diag *d);

struct ntfs_vol;

/*
 * Open the volume at the start of part: boot sector, $MFT record 0 and
 * its runlist (with its $ATTRIBUTE_LIST if it has one), $UpCase when
 * readable (else ASCII case folding), $Volume. 0, or a negative errno
 * with d set. The volume keeps pointers to part and d: both must outlive
 * it. Later failures (lookups, reads) are also recorded in d.
 */
int ntfs_open(const struct iw_view *part, struct iw_diag *d,
	      struct ntfs_vol **ret);
void ntfs_close(struct ntfs_vol *vol);
const struct ntfs_info *ntfs_get_info(const struct ntfs_vol *vol);

/*
 * Look a path up from the root directory: components separated by '\\'
 * or '/', UTF-8, compared as NTFS compares names (upcase table, so
 * "windows\\SYSTEM32" finds \Windows\System32). Follows only directory
 * index entries, never reparse points or links. Returns 0 with
 * *ret_mft the record number, -ENOENT, or another negative errno.
 */
int ntfs_lookup(struct ntfs_vol *vol, const char *path, uint64_t *ret_mft);

struct ntfs_stat {
	uint64_t mft;
	bool directory;
	uint64_t size;	 /* unnamed $DATA's data size (0 for directories) */
	bool resident;
	bool compressed; /* attribute flags of the unnamed $DATA */
	bool encrypted;
	bool sparse;
};
int ntfs_stat(struct ntfs_vol *vol, uint64_t mft, struct ntfs_stat *st);

/*
 * List a directory: cb(ud, name, mft, is_directory) for each entry of
 * its $I30 index (Win32 and POSIX names; DOS 8.3 duplicates skipped),
 * at most NTFS_MAX_DIR_ENTRIES of them. A non-zero return from cb stops
 * the walk and is returned.
 */
#define NTFS_MAX_DIR_ENTRIES 65536
typedef int (*ntfs_dir_cb)(void *ud, const char *name, uint64_t mft,
			   bool is_directory);
int ntfs_list_dir(struct ntfs_vol *vol, uint64_t dir_mft, ntfs_dir_cb cb,
		  void *ud);

/*
 * A file's unnamed $DATA as a view: size = the data size; bytes between
 * the initialized size and the data size, and sparse runs, read as
 * zeros. Reads go through the volume's view (and its budget).
 * Compressed or encrypted data: -EOPNOTSUPP (ntfs-unsupported).
 */
struct ntfs_file;
int ntfs_file_open(struct ntfs_vol *vol, uint64_t mft,
		   struct ntfs_file **ret);
const struct iw_view *ntfs_file_view(const struct ntfs_file *f);
void ntfs_file_close(struct ntfs_file *f);

/* ---- the layers below, exported for the fuzz harnesses and tests ---- */

/*
 * Multi-sector fixups of a record of `size` bytes (MFT record or INDX
 * node) in place: magic checked against `magic` (4 bytes, "FILE" or
 * "INDX"), the update sequence array bounds-checked and every stride's
 * last two bytes compared with the USN before they are restored. The
 * stride is 512 bytes (NTFS uses 512 whatever the sector size). 0 or
 * -EINVAL with d set: ntfs-fixup for the update sequence itself and for
 * a "BAAD" record (a torn multi-sector write), ntfs-record (FILE) or
 * ntfs-index (INDX) when the magic is something else. Nothing is
 * restored unless every stride matched.
 */
int ntfs_apply_fixups(uint8_t *rec, size_t size, const char *magic,
		      struct iw_diag *d);

/* A sparse run (no clusters on disk). */
#define NTFS_LCN_HOLE UINT64_MAX

struct ntfs_run {
	uint64_t vcn;	 /* first virtual cluster of the run */
	uint64_t lcn;	 /* first cluster on the volume, or NTFS_LCN_HOLE */
	uint64_t length; /* clusters, > 0 */
};

/*
 * Decode mapping pairs (p, len: the runlist bytes of one attribute
 * extent) that start at lowest_vcn and must end at highest_vcn + 1
 * (as the attribute header says). Every LCN must lie in
 * [0, total_clusters) with its run, lengths and offsets fit 8 bytes,
 * deltas never go negative or overflow; a zero-length data run is an
 * error, a zero-length hole is skipped (as ntfs-3g). highest_vcn may be
 * lowest_vcn - 1 (UINT64_MAX for an empty attribute). Appends to
 * runs[*n] (at most max_runs). 0, -EINVAL with d set (ntfs-runlist),
 * or -E2BIG past max_runs (recorded as ntfs-limit). Pure.
 */
int ntfs_decode_runlist(const uint8_t *p, size_t len, uint64_t lowest_vcn,
			uint64_t highest_vcn, uint64_t total_clusters,
			struct ntfs_run *runs, size_t max_runs, size_t *n,
			struct iw_diag *d);

/* One attribute of a (fixed-up) MFT record, every field range-checked
 * against the record before it is returned. */
struct ntfs_attr {
	uint32_t type;	     /* 0x10 $STANDARD_INFORMATION ... */
	uint32_t length;     /* of the whole attribute record */
	bool non_resident;
	uint16_t flags;	     /* 0x0001 compressed, 0x4000 encrypted,
			      * 0x8000 sparse */
	uint16_t instance;
	const uint8_t *name; /* UTF-16LE, name_len units (NULL if none) */
	uint8_t name_len;
	/* resident */
	const uint8_t *value;
	uint32_t value_len;
	/* non-resident */
	uint64_t lowest_vcn, highest_vcn;
	const uint8_t *runlist; /* mapping pairs, runlist_len bytes */
	uint32_t runlist_len;
	uint8_t compression_unit;
	uint64_t allocated_size, data_size, initialized_size;
};

/*
 * Walk the attributes of a fixed-up MFT record (rec, size: the whole
 * record). *pos starts at 0; each call returns 1 with *a filled, 0 at
 * the end marker, or -EINVAL with d set (ntfs-record, ntfs-attribute).
 * Checks the record header first (FILE magic already fixed up,
 * bytes_allocated == size, attrs_offset <= bytes_in_use <= size with
 * room for the end marker, 8-aligned, past the update sequence array).
 * Every returned pointer lies inside the attribute, and the attribute
 * inside bytes_in_use.
 */
int ntfs_attr_next(const uint8_t *rec, size_t size, size_t *pos,
		   struct ntfs_attr *a, struct iw_diag *d);

/* One entry of an $ATTRIBUTE_LIST value. */
struct ntfs_attr_list_entry {
	uint32_t type;
	uint16_t length;
	const uint8_t *name; /* UTF-16LE, name_len units (NULL if none) */
	uint8_t name_len;
	uint64_t lowest_vcn; /* the extent's first VCN */
	uint64_t mft;	     /* the record holding it (48 bits) */
	uint16_t seq;	     /* and its sequence number */
	uint16_t instance;
};

/*
 * Walk an $ATTRIBUTE_LIST value (p, len). *pos starts at 0; 1 per entry,
 * 0 at the end, -EINVAL with d set (ntfs-attribute) for an entry that
 * is truncated, not 8-aligned, shorter than its fixed part, or whose
 * name lies outside it. Pure.
 */
int ntfs_attr_list_next(const uint8_t *p, size_t len, size_t *pos,
			struct ntfs_attr_list_entry *e, struct iw_diag *d);

/* One entry of a directory index node. */
struct ntfs_index_entry {
	uint64_t mft;		 /* file reference, record number (48 bits) */
	uint16_t seq;		 /* and its sequence number */
	const uint8_t *name;	 /* UTF-16LE $FILE_NAME name, name_len units */
	uint8_t name_len;
	uint8_t name_space;	 /* 0 POSIX, 1 Win32, 2 DOS, 3 Win32+DOS */
	uint32_t file_attributes; /* $FILE_NAME flags: 0x10000000 directory */
	bool has_subnode;
	uint64_t subnode_vcn;	 /* when has_subnode */
	bool last;		 /* the end entry (no name) */
};

/*
 * Walk the entries of one index node: p, len are the bytes from the
 * index header (INDEX_HEADER: entries_offset, index_length, ...) to the
 * end of the node as stored ($INDEX_ROOT value after its 16-byte root
 * header, or an INDX block after fixups, from offset 0x18). *pos starts
 * at 0 and is then the offset of the next entry, SIZE_MAX once the
 * last entry was returned; 1 per entry (the last entry included,
 * e->last set), 0 after the last entry, -EINVAL with d set
 * (ntfs-index). Pure.
 */
int ntfs_index_next(const uint8_t *p, size_t len, size_t *pos,
		    struct ntfs_index_entry *e, struct iw_diag *d);

#endif
