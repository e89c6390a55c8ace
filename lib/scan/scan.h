/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scanner: what is on a guest disk. Partitions (part_parse: MBR with
 * its logical partitions, GPT), the filesystem in each (fsid_probe; the
 * whole disk when it has no partition table), every NTFS volume opened
 * (ntfs_open) and inspected for Windows (win_inspect), as the JSON
 * `imgward scan` prints (README "Scanning"):
 *
 *   {"partition-table": {...} | null, "partitions": [...],
 *    "windows": {...} | null, "hibernated": bool, "problems": [...]}
 *
 * Pure: reads only through the view (a raw file, or a format's guest
 * disk through lib/scan/map-view.h); every string from the guest is
 * sanitised (iw_sanitize) and bounded. A broken partition table, volume
 * or hive is a problem in the JSON (codes: scan-errors.def), never a
 * failure of the scan.
 */
#ifndef IW_SCAN_SCAN_H
#define IW_SCAN_SCAN_H

#include <json-c/json.h>

#include "../view.h"

/* What one scan may read through the disk view (iw_scan lowers the
 * view's budget to this): a Windows inspection reads the partition
 * tables, a few MFT records and index nodes per volume, and cells of
 * two hives, tens of MiB on a real system even with a 100 MiB SOFTWARE
 * hive; 1 GiB leaves room for 256 partitions while a hostile disk that
 * makes every lookup walk long chains still ends in seconds (the
 * helper's CPU limit and deadline are the backstop). Decompressed
 * units are charged at their full size (map-view.h). */
#define IW_SCAN_READ_BUDGET (1ULL << 30)

/* The filesystem names a scan reports (lib/scan/fsid.h, blkid's TYPE
 * names); the broker refuses any other (broker/validate.c), so a name
 * fsid_probe learns later must be added here too. */
#define IW_SCAN_FILESYSTEMS                                                    \
	{ "ntfs", "vfat", "exfat", "ext2", "ext3", "ext4", "xfs", "btrfs",     \
	  "swap", "LVM2_member", "crypto_LUKS", "BitLocker", "ReFS" }

/*
 * Scan disk (its read budget lowered to IW_SCAN_READ_BUDGET if higher;
 * callers set it, see imgward-ntfs). 0 with *ret the JSON object above (the caller adds
 * "format" and "virtual-size"), or -ENOMEM. Read errors, spent budgets
 * and broken structures end up in "problems" (disk or partition).
 */
int iw_scan(const struct iw_view *disk, json_object **ret);

#endif
