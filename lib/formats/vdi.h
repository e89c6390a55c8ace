/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VirtualBox VDI: the parsed header, shared by the sniffer's reader
 * (vdi.c) and the converter.
 *
 * There is no official specification; the layout is the one VirtualBox
 * writes and qemu 7.2 reads (block/vdi.c): a 512-byte header (all fields
 * little-endian), a block map of blocks_in_image 32-bit entries at
 * offset_bmap, and the data blocks from offset_data on. Entry i of the
 * block map is the physical block number holding virtual block i, or
 * VDI_BLOCK_UNALLOCATED / VDI_BLOCK_DISCARDED (both read as zeros in
 * qemu). Physical block n lives at offset_data + n * block_size.
 *
 * The parser only decodes; every check (and every finding) lives in the
 * reader, so a converter must only use a header whose probe was safe.
 */
#ifndef IW_FORMATS_VDI_H
#define IW_FORMATS_VDI_H

#include <stdbool.h>
#include <stdint.h>

#define VDI_HEADER_SIZE 512
#define VDI_SIGNATURE_OFFSET 0x40
#define VDI_SIGNATURE 0xbeda107fu
/* the only version qemu opens (major 1, minor 1) */
#define VDI_VERSION_1_1 0x00010001u
/* sizeof(VDIHEADER1) in VirtualBox: the smallest v1.1 header */
#define VDI_HEADER_V1_MIN_SIZE 0x180u
/* the pre-header (text, signature, version) header_size does not count */
#define VDI_PREHEADER_SIZE 0x48u

#define VDI_TYPE_DYNAMIC 1
#define VDI_TYPE_STATIC 2
#define VDI_TYPE_UNDO 3
#define VDI_TYPE_DIFF 4

#define VDI_SECTOR_SIZE 512
/* the only block size qemu opens */
#define VDI_DEFAULT_BLOCK_SIZE (1u << 20)

#define VDI_BLOCK_UNALLOCATED 0xffffffffu
#define VDI_BLOCK_DISCARDED 0xfffffffeu

/* qemu's cap (vdi.c VDI_BLOCKS_IN_IMAGE_MAX): the block map it reads
 * into memory must stay below 2 GiB. */
#define VDI_BLOCKS_IN_IMAGE_MAX ((UINT32_C(0x7fffffff) + 1u - 512u) / 4u)
#define VDI_DISK_SIZE_MAX                                                      \
	((uint64_t)VDI_BLOCKS_IN_IMAGE_MAX * VDI_DEFAULT_BLOCK_SIZE)

#define VDI_UUID_SIZE 16
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */
#define VDI_UUID_STRING_SIZE 37

struct vdi_header {
	uint32_t signature;
	uint32_t version;
	uint32_t header_size;
	uint32_t image_type;
	uint32_t image_flags;
	uint8_t description[256]; /* image bytes, not NUL-terminated */
	uint32_t offset_bmap;
	uint32_t offset_data;
	uint32_t cylinders, heads, sectors; /* geometry, unused */
	uint32_t sector_size;
	uint64_t disk_size;
	uint32_t block_size;
	uint32_t block_extra;
	uint32_t blocks_in_image;
	uint32_t blocks_allocated;
	/* as stored: RTUUID, the first three fields little-endian */
	uint8_t uuid_image[VDI_UUID_SIZE];
	uint8_t uuid_last_snap[VDI_UUID_SIZE];
	uint8_t uuid_link[VDI_UUID_SIZE];   /* parent image (differencing) */
	uint8_t uuid_parent[VDI_UUID_SIZE]; /* parent's modification UUID */
};

/* Decode the first VDI_HEADER_SIZE bytes of a file. Never fails: it does
 * not judge the values (see vdi_probe in vdi.c for that). */
void vdi_parse_header(const uint8_t *buf, struct vdi_header *ret_header);

/* The virtual size qemu reports: disk_size rounded up to a sector
 * (qemu accepts odd sizes from VBoxManage convertfromraw). false when
 * the rounding overflows. */
bool vdi_virtual_size(const struct vdi_header *h, uint64_t *ret_size);

/* A block map entry that names a physical block. */
static inline bool vdi_entry_allocated(uint32_t entry)
{
	return entry < VDI_BLOCK_DISCARDED;
}

/* File offset of physical block `entry`; false on overflow. */
bool vdi_block_offset(const struct vdi_header *h, uint32_t entry,
		      uint64_t *ret_offset);

/* Text form of an on-disk UUID (VirtualBox's mixed-endian RTUUID), as
 * VBoxManage prints it. */
void vdi_uuid_format(const uint8_t *uuid, char out[VDI_UUID_STRING_SIZE]);

#endif
