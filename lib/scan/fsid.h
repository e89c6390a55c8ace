/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What filesystem (or volume container) starts at the beginning of a
 * view: a partition, or a whole unpartitioned disk. Names and the UUID /
 * label forms are blkid's (`blkid -p -o export`), which users already
 * know and which the tests compare against:
 *
 *   ntfs, vfat (version FAT12/FAT16/FAT32), exfat, ext2/ext3/ext4, xfs,
 *   btrfs, swap, LVM2_member, crypto_LUKS (version 1/2), BitLocker,
 *   ReFS
 *
 * Every superblock field used is bounds-checked; a signature whose
 * superblock is impossible is reported as that type with `invalid` set
 * and a problem in d (filesystem-invalid), never as a different type.
 * Pure: reads only through the view, a few KiB per probe.
 */
#ifndef IW_SCAN_FSID_H
#define IW_SCAN_FSID_H

#include <stdbool.h>
#include <stdint.h>

#include "../view.h"
#include "diag.h"

/* Labels: the longest is btrfs's 256 bytes; UTF-16 labels (NTFS 32
 * units, exFAT 11) fit once converted. */
#define FSID_LABEL_MAX 257
/* UUIDs as blkid prints them: 36 for a standard UUID; "XXXX-XXXX" for
 * FAT and exFAT serials; 16 hex digits for NTFS; LVM's 38. */
#define FSID_UUID_MAX 64
/* LUKS2's subsystem field is 48 bytes. */
#define FSID_SUBSYSTEM_MAX 49

struct fsid {
	char type[16];	    /* blkid TYPE, "" when nothing is recognised */
	char version[16];   /* blkid VERSION where it has one, else "" */
	char label[FSID_LABEL_MAX]; /* UTF-8, unsanitised, "" if none */
	char uuid[FSID_UUID_MAX];   /* "" if none */
	uint64_t size;	    /* bytes the filesystem says it spans, 0 if
			     * unknown */
	uint32_t block_size; /* cluster / block size, 0 if unknown */
	bool invalid;	    /* signature found, superblock impossible */
	char subsystem[FSID_SUBSYSTEM_MAX]; /* LUKS2 SUBSYSTEM, else "" */
};

/* 0 with *out filled when something is recognised (also an invalid one:
 * out->invalid set and a filesystem-invalid problem in d), -ENOENT when
 * nothing is, -E2BIG (read budget) / I/O errors (recorded in d). Views
 * of 1 KiB or less hold nothing (as blkid). */
int fsid_probe(const struct iw_view *v, struct fsid *out, struct iw_diag *d);

/* Short names for partition types: MBR system IDs ("Linux",
 * "HPFS/NTFS/exFAT", "W95 FAT32 (LBA)", ...), NULL for unknown ones. */
const char *fsid_mbr_type_name(uint8_t type);

#endif
