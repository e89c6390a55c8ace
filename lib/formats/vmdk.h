/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMware VMDK: parsed structures shared by the sniffer's reader (vmdk.c)
 * and the converter.
 *
 * Sources: VMware "Virtual Disk Format 5.0" (hosted sparse extent header,
 * grain directory/tables, stream-optimized markers and footer, the text
 * descriptor grammar) and what qemu 7.2 reads (block/vmdk.c).
 *
 * A hosted sparse extent ("KDMV") starts with a 512-byte little-endian
 * header; the grain directory (GD) at gd_offset holds one 32-bit sector
 * number per grain table (GT); each GT holds num_gtes_per_gt 32-bit
 * sector numbers of grains of grain_size sectors. With gd_offset ==
 * VMDK4_GD_AT_END (stream-optimized files written in one pass) the real
 * header is the footer at EOF - 1536 and qemu uses it instead.
 *
 * The parsers only decode; every judgement (and every finding) lives in
 * vmdk.c, so a converter must only use structures whose probe was safe.
 */
#ifndef IW_FORMATS_VMDK_H
#define IW_FORMATS_VMDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMDK_SECTOR_SIZE 512u
/* magics as read with get_be32() at offset 0 */
#define VMDK4_MAGIC 0x4b444d56u /* "KDMV": hosted sparse extent */
#define VMDK3_MAGIC 0x434f5744u /* "COWD": ESX 2.x vmfsSparse extent */

#define VMDK4_FLAG_NL_DETECT (1u << 0)	/* newline check bytes are valid */
#define VMDK4_FLAG_RGD (1u << 1)	/* redundant grain directory in use */
#define VMDK4_FLAG_ZERO_GRAIN (1u << 2) /* GTE 1 means "zeroed grain" */
#define VMDK4_FLAG_COMPRESS (1u << 16)	/* grains are compressed */
#define VMDK4_FLAG_MARKER (1u << 17)	/* grains/tables carry markers */
#define VMDK4_FLAGS_KNOWN                                                      \
	(VMDK4_FLAG_NL_DETECT | VMDK4_FLAG_RGD | VMDK4_FLAG_ZERO_GRAIN |       \
	 VMDK4_FLAG_COMPRESS | VMDK4_FLAG_MARKER)

#define VMDK4_COMPRESSION_NONE 0
#define VMDK4_COMPRESSION_DEFLATE 1

#define VMDK4_GD_AT_END UINT64_MAX
/* the spec's only value; qemu refuses more and divides by it */
#define VMDK4_GTES_PER_GT 512u
#define VMDK_GTE_ZEROED 1u

/* stream-optimized marker types (the 32-bit "type" of a metadata marker) */
#define VMDK_MARKER_EOS 0u
#define VMDK_MARKER_GT 1u
#define VMDK_MARKER_GD 2u
#define VMDK_MARKER_FOOTER 3u
/* grain marker: lba (8) + compressed size (4), then the deflate data */
#define VMDK_GRAIN_MARKER_SIZE 12u
/* footer marker sector, footer header sector, end-of-stream sector */
#define VMDK4_FOOTER_SIZE (3u * VMDK_SECTOR_SIZE)

/* qemu 7.2 limits (vmdk_add_extent): a grain above 1 GiB is "Invalid
 * granularity", a GD above 32 Mi entries is "L1 size too big". */
#define VMDK_MAX_GRAIN_SECTORS 0x200000u
#define VMDK_MAX_GD_ENTRIES (32u * 1024 * 1024)
/* qemu's vmdk_read_desc reads at most 1 MiB - 1 of a descriptor */
#define VMDK_DESC_MAX_SIZE ((1u << 20) - 1)
/* qemu's DESC_SIZE: the window it searches for CID, parentCID and
 * parentFileNameHint (at sector 1 of a sparse file, at 0 of a text file) */
#define VMDK_QEMU_DESC_WINDOW (20u * VMDK_SECTOR_SIZE)

struct vmdk4_header {
	uint32_t version;
	uint32_t flags;
	uint64_t capacity;	  /* sectors */
	uint64_t grain_size;	  /* sectors */
	uint64_t desc_offset;	  /* sectors */
	uint64_t desc_size;	  /* sectors */
	uint32_t num_gtes_per_gt;
	uint64_t rgd_offset;	  /* sectors */
	uint64_t gd_offset;	  /* sectors, or VMDK4_GD_AT_END */
	uint64_t overhead;	  /* sectors of metadata before the grains */
	uint8_t unclean_shutdown;
	uint8_t nl_check[4];	  /* '\n', ' ', '\r', '\n' when intact */
	uint16_t compress_algorithm;
};

/* Decode a 512-byte sector that starts with "KDMV" (the header, or the
 * footer's header sector). Does not judge the values. */
void vmdk4_parse_header(const uint8_t *sector, struct vmdk4_header *ret);

/* Where the grain directory is and how big, from a (footer-resolved)
 * header. */
struct vmdk4_layout {
	uint64_t virtual_size; /* bytes */
	uint64_t grain_bytes;
	uint64_t gt_bytes;     /* one grain table */
	uint64_t gd_entries;   /* grain tables covering the capacity */
	uint64_t gd_bytes;
	uint64_t gd_offset;    /* bytes */
	uint64_t rgd_offset;   /* bytes; 0 when no redundant GD is used */
	bool compressed;       /* deflate grains (qemu: compressAlgorithm) */
	bool markers;
	bool zero_grain;
};

/* 0, or -EINVAL for a zero grain size / GT size, -EOVERFLOW when a size
 * or offset does not fit in 64 bits. */
int vmdk4_layout(const struct vmdk4_header *h, struct vmdk4_layout *ret);

/* VMDK3 "COWD" header (ESX 2.x), decoded from the 512-byte first sector. */
struct vmdk3_header {
	uint32_t version;
	uint32_t flags;
	uint32_t disk_sectors;
	uint32_t granularity;	/* sectors */
	uint32_t l1dir_offset;	/* sectors */
	uint32_t l1dir_size;	/* entries */
	uint32_t file_sectors;
};
void vmdk3_parse_header(const uint8_t *sector, struct vmdk3_header *ret);

/* ---- the text descriptor ----------------------------------------------- */

enum vmdk_access {
	VMDK_ACCESS_RW,
	VMDK_ACCESS_RDONLY,
	VMDK_ACCESS_NOACCESS,
};

enum vmdk_extent_type {
	VMDK_EXTENT_SPARSE,
	VMDK_EXTENT_FLAT,
	VMDK_EXTENT_ZERO,
	VMDK_EXTENT_VMFS,
	VMDK_EXTENT_VMFSSPARSE,
	VMDK_EXTENT_VMFSRDM,
	VMDK_EXTENT_VMFSRAW,
	VMDK_EXTENT_SESPARSE,
};
const char *vmdk_extent_type_name(enum vmdk_extent_type t);

struct vmdk_extent_line {
	enum vmdk_access access;
	enum vmdk_extent_type type;
	uint64_t sectors;
	uint64_t offset; /* sectors into the file; FLAT only */
	bool has_offset;
	const char *name; /* points into the parsed text; NULL for ZERO */
	size_t name_len;
	unsigned line;	  /* 1-based */
};

/* extents kept in the parsed struct (a 2 TB twoGbMaxExtent disk has
 * ~1000, but a converter only accepts single-file VMDKs; the rest are
 * counted and summed) */
#define VMDK_DESC_MAX_EXTENTS 64
/* names kept from extent lines that break the grammar */
#define VMDK_DESC_MAX_SALVAGED 16

struct vmdk_text {
	const char *p;
	size_t len;
};

struct vmdk_descriptor {
	bool has_version, has_cid, has_parent_cid;
	unsigned version;
	uint32_t cid, parent_cid;
	struct vmdk_text create_type;	/* p == NULL when absent */
	struct vmdk_text parent_hint;	/* parentFileNameHint */
	struct vmdk_text change_track;	/* changeTrackPath (CBT file) */
	size_t n_extents;		/* all extent lines */
	struct vmdk_extent_line extents[VMDK_DESC_MAX_EXTENTS];
	uint64_t total_sectors;		/* saturates at UINT64_MAX */
	/* what a malformed extent line names (between its first and last
	 * quote): still an external name to report, never to use */
	size_t n_salvaged;
	struct vmdk_text salvaged[VMDK_DESC_MAX_SALVAGED];
	unsigned n_lines;
	unsigned n_bad_lines;
	unsigned first_bad_line;
	const char *first_bad_reason;	/* static string */
};

/*
 * Parse a descriptor with the VMDK 5.0 line grammar: blank lines,
 * comments, `key = value` (value bare or "quoted"), and extent lines
 * `ACCESS SECTORS TYPE ["NAME" [OFFSET]]`. text[0..len) must not hold a
 * NUL (callers cut at the first one, as qemu does). Lines that break the
 * grammar, bad values for version/CID/parentCID/createType and repeated
 * keys are counted in n_bad_lines. Never fails; O(len).
 */
void vmdk_parse_descriptor(const char *text, size_t len,
			   struct vmdk_descriptor *ret);

#endif
