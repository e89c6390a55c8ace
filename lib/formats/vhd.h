/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD (Microsoft Virtual Hard Disk, qemu's "vpc") structures, shared by
 * the sniffer's reader (vhd.c) and the converter.
 *
 * Layout (Microsoft "Virtual Hard Disk Image Format Specification" 1.0):
 *   fixed:        [guest disk bytes][512-byte footer]
 *   dynamic/diff: [footer copy][dynamic header (1 KiB)][BAT]...
 *                 [blocks: sector bitmap + data]...[footer]
 * Every field is big-endian.
 *
 * vhd_parse() is the whole validation: it fills struct vhd_info and puts
 * its findings into a report; a caller (the converter) may use the info
 * only when the report's verdict is not invalid/unsafe.
 */
#ifndef IW_FORMATS_VHD_H
#define IW_FORMATS_VHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats.h"

#define VHD_FOOTER_SIZE 512
/* Virtual PC before 2004 wrote a 511-byte footer (spec 1.0 "Hard Disk
 * Footer Format"); qemu does not read it. */
#define VHD_OLD_FOOTER_SIZE 511
#define VHD_DYN_HEADER_SIZE 1024
#define VHD_SECTOR_SIZE 512
#define VHD_BAT_UNALLOCATED 0xffffffffu
#define VHD_VERSION 0x00010000u
#define VHD_PARENT_LOCATORS 8
#define VHD_PARENT_NAME_SIZE 512

/* footer field offsets */
#define VHD_FOOTER_CHECKSUM_OFFSET 64
/* dynamic header field offsets */
#define VHD_DYN_CHECKSUM_OFFSET 36

enum vhd_disk_type {
	VHD_TYPE_FIXED = 2,
	VHD_TYPE_DYNAMIC = 3,
	VHD_TYPE_DIFFERENCING = 4,
};

/* qemu 7.2 refuses images above 0xff000000 sectors (VHD_MAX_SECTORS,
 * "2040 GiB") and treats 65535/16/255 as "geometry maxed out". */
#define VHD_MAX_SECTORS UINT64_C(0xff000000)
#define VHD_MAX_GEOMETRY_SECTORS (UINT64_C(65535) * 16 * 255)

struct vhd_footer {
	uint32_t features;
	uint32_t version;
	uint64_t data_offset;
	uint32_t timestamp; /* seconds since 2000-01-01 00:00:00 UTC */
	uint8_t creator_app[4];
	uint16_t creator_major, creator_minor;
	uint8_t creator_os[4];
	uint64_t original_size;
	uint64_t current_size;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors_per_track;
	uint32_t disk_type;
	uint32_t checksum;	/* as stored */
	bool checksum_ok;	/* stored == computed */
	uint8_t unique_id[16];
	uint8_t saved_state;
	/* blktap/XenServer keep a "hidden" flag in the first reserved byte
	 * (libvhd vhd_footer_t.hidden): set on chain members that are not
	 * the leaf */
	uint8_t hidden;
};

struct vhd_parent_locator {
	uint32_t platform;    /* 'W2ku', 'W2ru', 'Mac ', 'MacX', 0 = unused */
	uint32_t data_space;  /* sectors (spec); some writers store bytes */
	uint32_t data_length; /* bytes */
	uint64_t data_offset; /* absolute file offset */
};

struct vhd_dyn_header {
	uint64_t data_offset; /* unused, 0xFFFFFFFFFFFFFFFF */
	uint64_t table_offset;
	uint32_t version;
	uint32_t max_table_entries;
	uint32_t block_size;
	uint32_t checksum;
	bool checksum_ok;
	uint8_t parent_uuid[16];
	uint32_t parent_timestamp;
	uint8_t parent_name[VHD_PARENT_NAME_SIZE]; /* UTF-16BE */
	struct vhd_parent_locator locators[VHD_PARENT_LOCATORS];
};

struct vhd_info {
	bool have_footer;	/* footer found and decoded */
	bool old_footer;	/* the 511-byte pre-2004 variant */
	struct vhd_footer footer;
	/* qemu's rule: a footer copy at offset 0 means "dynamic" whatever
	 * its disk type says; otherwise the footer at EOF-512 must say
	 * fixed. */
	bool dynamic;
	bool have_dyn_header;
	struct vhd_dyn_header dyn;
	uint64_t virtual_size; /* bytes, as qemu 7.2 computes it */
	/* dynamic/differencing only, valid when have_dyn_header */
	uint64_t bat_offset;
	uint32_t bat_entries;  /* = max_table_entries */
	uint32_t block_size;
	uint32_t bitmap_size;  /* bytes of sector bitmap before each block */
};

/* The footer checksum rule: one's complement of the byte sum with the
 * 4-byte checksum field at checksum_off counted as zero. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t checksum_off);

/* Decode a 512-byte footer. false when the cookie is not "conectix". */
bool vhd_footer_decode(const uint8_t *buf, struct vhd_footer *ret);
/* Decode a 1024-byte dynamic header. false when the cookie is not
 * "cxsparse". */
bool vhd_dyn_header_decode(const uint8_t *buf, struct vhd_dyn_header *ret);

/* qemu 7.2's virtual size of a footer, in bytes (see vhd.c). */
uint64_t vhd_virtual_size(const struct vhd_footer *f);
/* Bytes of sector bitmap in front of each data block (qemu's rounding:
 * one bit per sector, padded to a whole sector). */
uint32_t vhd_bitmap_size(uint32_t block_size);

/* UTF-16 (big or little endian) → UTF-8, stopping at the first NUL code
 * unit. Unpaired surrogates become U+FFFD. Writes at most out_size - 1
 * bytes plus a NUL; returns the number of bytes written. out_size >=
 * 3 * (len / 2) + 1 never truncates. */
size_t vhd_utf16_to_utf8(const uint8_t *in, size_t len, bool big_endian,
			 char *out, size_t out_size);

/* Validate the whole image and fill ret; findings go to r. Returns 0 or
 * -ENOMEM / an unexpected I/O error. */
int vhd_parse(const struct iw_view *v, struct iw_report *r,
	      struct vhd_info *ret);

/* Read BAT entry `index` (< info->bat_entries) of a parsed dynamic image:
 * VHD_BAT_UNALLOCATED or the block's sector number (bitmap first). */
int vhd_read_bat_entry(const struct iw_view *v, const struct vhd_info *info,
		       uint32_t index, uint32_t *ret_entry);

#endif
