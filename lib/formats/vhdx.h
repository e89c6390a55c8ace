/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHDX structures ([MS-VHDX] v20160714), shared by the sniffer's reader
 * (vhdx.c) and the converter.
 *
 * Layout: a 1 MiB header section (file identifier at 0, headers at 64 and
 * 128 KiB, region tables at 192 and 256 KiB), then the objects the region
 * table places anywhere at 1 MiB granularity: the log, the BAT and the
 * metadata region. Every field is little-endian; GUIDs are stored as
 * Microsoft GUIDs (first three fields little-endian).
 *
 * vhdx_parse() is the whole validation: it fills struct vhdx_info and
 * puts its findings into a report; a caller (the converter) may use the
 * info only when the report's verdict is not invalid/unsafe.
 */
#ifndef IW_FORMATS_VHDX_H
#define IW_FORMATS_VHDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats.h"

#define VHDX_HEADER1_OFFSET (64 * 1024)
#define VHDX_HEADER2_OFFSET (128 * 1024)
#define VHDX_REGION_TABLE1_OFFSET (192 * 1024)
#define VHDX_REGION_TABLE2_OFFSET (256 * 1024)
#define VHDX_HEADER_SECTION_END (1024 * 1024)
/* the header's CRC covers its first 4 KiB; a region table's all 64 KiB */
#define VHDX_HEADER_SIZE 4096
#define VHDX_REGION_TABLE_SIZE (64 * 1024)
#define VHDX_METADATA_TABLE_SIZE (64 * 1024)
/* objects (regions, log, payload blocks) sit on 1 MiB boundaries */
#define VHDX_ALIGNMENT (1024 * 1024)

#define VHDX_BLOCK_SIZE_MIN (1024 * 1024)
#define VHDX_BLOCK_SIZE_MAX (256 * 1024 * 1024)
/* [MS-VHDX] 2.6.2.2: 64 TiB */
#define VHDX_MAX_VIRTUAL_SIZE (UINT64_C(64) << 40)
/* chunk ratio = 2^23 sectors (one sector bitmap block) * sector size /
 * block size */
#define VHDX_SECTORS_PER_BITMAP (UINT64_C(1) << 23)

/* BAT entries */
#define VHDX_BAT_STATE(e) ((unsigned)((e)&7))
#define VHDX_BAT_OFFSET(e) ((e)&UINT64_C(0xFFFFFFFFFFF00000))
enum vhdx_block_state {
	VHDX_PAYLOAD_NOT_PRESENT = 0,
	VHDX_PAYLOAD_UNDEFINED = 1,
	VHDX_PAYLOAD_ZERO = 2,
	VHDX_PAYLOAD_UNMAPPED = 3,
	VHDX_PAYLOAD_UNMAPPED_V095 = 5, /* pre-release spec; qemu reads zeros */
	VHDX_PAYLOAD_FULLY_PRESENT = 6,
	VHDX_PAYLOAD_PARTIALLY_PRESENT = 7, /* differencing disks only */
	VHDX_SB_NOT_PRESENT = 0,
	VHDX_SB_PRESENT = 6,
};

struct vhdx_header {
	bool valid; /* signature "head", CRC-32C, version 1 */
	bool crc_ok;
	uint32_t checksum;
	uint64_t sequence_number;
	uint8_t file_write_guid[16];
	uint8_t data_write_guid[16];
	uint8_t log_guid[16];
	uint16_t log_version;
	uint16_t version;
	uint32_t log_length;
	uint64_t log_offset;
};

struct vhdx_region {
	bool present;
	uint64_t file_offset;
	uint32_t length;
	bool required;
};

struct vhdx_info {
	struct vhdx_header headers[2];
	int current_header; /* 0, 1, or -1 when neither is valid */
	bool have_regions;
	struct vhdx_region bat_region, metadata_region;
	bool have_metadata; /* all required items read and in range */
	uint32_t block_size;
	bool leave_blocks_allocated;
	bool has_parent;
	bool have_parent_locator;
	uint64_t virtual_disk_size; /* as stored */
	uint32_t logical_sector_size;
	uint32_t physical_sector_size;
	uint8_t page83[16];
	/* derived, valid when have_metadata */
	uint64_t virtual_size;	/* qemu's: rounded down to 512 */
	uint64_t chunk_ratio;	/* payload blocks per sector bitmap block */
	uint64_t data_blocks;
	uint64_t bat_entries;	/* entries the virtual size needs */
	bool have_bat;		/* BAT region holds bat_entries */
	uint32_t log_entries;	/* log entries replayed in memory (0: none) */
};

struct vhdx_log; /* vhdx-log.h */

/* CRC-32C of len bytes with the 4-byte field at crc_off counted as zero
 * (how every VHDX checksum is defined). */
uint32_t vhdx_checksum(const uint8_t *buf, size_t len, size_t crc_off);

/* Decode one 4 KiB header block. */
void vhdx_header_decode(const uint8_t *buf, struct vhdx_header *ret);

/* BAT index of payload block `block`: a sector bitmap entry follows every
 * chunk_ratio payload entries. */
static inline uint64_t vhdx_bat_index(const struct vhdx_info *info,
				      uint64_t block)
{
	return block + block / info->chunk_ratio;
}

/* Validate the whole image and fill ret; findings go to r. Returns 0 or
 * -ENOMEM / an unexpected I/O error.
 * A dirty log (non-zero LogGuid with a valid active sequence) is replayed
 * in memory (vhdx-log.h): *ret_log is then the overlay, and ret describes
 * the image after the replay, read through vhdx_log_view(*ret_log), which
 * the caller must use for every later read (and free with
 * vhdx_log_free()). Otherwise *ret_log is NULL and v is the image. */
int vhdx_parse(const struct iw_view *v, struct iw_report *r,
	       struct vhdx_info *ret, struct vhdx_log **ret_log);

/* Read BAT entry `index` (< info->bat_entries) of a parsed image, through
 * the view vhdx_parse() says holds it. */
int vhdx_read_bat_entry(const struct iw_view *v, const struct vhdx_info *info,
			uint64_t index, uint64_t *ret_entry);

#endif
