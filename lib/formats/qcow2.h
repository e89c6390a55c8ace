/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 header parsing, shared by the sniffer (qcow2.c) and the converter.
 *
 * Layout: docs/interop/qcow2.txt in qemu. qcow2_parse_header() reads the
 * fixed header, the header extensions and the backing file name through a
 * view, checks every field against the spec and against what qemu 7.2's
 * qcow2_do_open() refuses, and reports what it finds (backing file, data
 * file, encryption, feature bits, bad fields) into a report. It reads no
 * table: the caller walks L1/L2/refcount/snapshot tables itself, using
 * the *_ok flags to know which table positions passed validation.
 */
#ifndef IW_FORMATS_QCOW2_H
#define IW_FORMATS_QCOW2_H

#include <stdbool.h>
#include <stdint.h>

#include "formats.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

#define QCOW2_V2_HEADER_SIZE 72
#define QCOW2_V3_HEADER_SIZE 104 /* through header_length */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21 /* qemu's implementation limit (2 MiB) */

/* incompatible_features (qcow2.txt "Header", bytes 72-79) */
#define QCOW2_INCOMPAT_DIRTY (UINT64_C(1) << 0)
#define QCOW2_INCOMPAT_CORRUPT (UINT64_C(1) << 1)
#define QCOW2_INCOMPAT_DATA_FILE (UINT64_C(1) << 2)
#define QCOW2_INCOMPAT_COMPRESSION (UINT64_C(1) << 3)
#define QCOW2_INCOMPAT_EXTL2 (UINT64_C(1) << 4)
#define QCOW2_INCOMPAT_KNOWN (UINT64_C(0x1f))
/* compatible_features */
#define QCOW2_COMPAT_LAZY_REFCOUNTS (UINT64_C(1) << 0)
/* autoclear_features */
#define QCOW2_AUTOCLEAR_BITMAPS (UINT64_C(1) << 0)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW (UINT64_C(1) << 1)

#define QCOW2_CRYPT_NONE 0
#define QCOW2_CRYPT_AES 1
#define QCOW2_CRYPT_LUKS 2

#define QCOW2_COMPRESSION_ZLIB 0
#define QCOW2_COMPRESSION_ZSTD 1

/* L1 and refcount table entries: host offset bits 9-55 (qcow2.txt
 * "Cluster mapping"); everything else is a flag or reserved. */
#define QCOW2_L1E_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
#define QCOW2_REFT_OFFSET_MASK UINT64_C(0xfffffffffffffe00)

struct qcow2_header {
	/* the on-disk fields (version 2 images get the v3 defaults) */
	uint32_t version;
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t incompatible_features;
	uint64_t compatible_features;
	uint64_t autoclear_features;
	uint32_t refcount_order;
	uint32_t header_length;
	uint8_t compression_type;

	/* derived */
	uint64_t cluster_size;
	bool extended_l2;
	unsigned l2_entry_size; /* 8, or 16 with extended L2 entries */
	unsigned l2_bits;	/* log2(L2 entries per table) */
	uint64_t l1_needed;	/* L1 entries needed to map size */
	uint64_t ext_end;	/* the extension area is [header_length, ext_end) */

	/* from the header extensions */
	bool has_backing_format;
	char backing_format[16]; /* NUL-terminated, as qemu's bs->backing_format */
	bool has_data_file_name;
	uint64_t data_file_name_offset; /* file offset of the name bytes */
	uint32_t data_file_name_size;
	bool has_crypto_header;
	uint64_t crypto_header_offset;
	uint64_t crypto_header_length;
	bool has_bitmaps; /* extension present and the autoclear bit set */
	uint32_t nb_bitmaps;
	uint64_t bitmap_directory_size;
	uint64_t bitmap_directory_offset;

	/* table positions that passed validation (aligned, within qemu's
	 * caps, inside the file): a caller may read them */
	bool l1_ok;
	bool refcount_table_ok;
	bool snapshots_ok;
};

/*
 * Parse and validate the header of the qcow2 image in v; findings go to r.
 * Returns 0 when the header is usable (cluster size, size and table
 * positions valid; r may still carry findings, e.g. a backing file),
 * -ENOTSUP for a version other than 2 or 3 or unknown incompatible
 * features, -EINVAL when a field makes the image unusable (truncated or
 * impossible header; the findings say why), other negative errnos for
 * allocation or I/O failures.
 */
int qcow2_parse_header(const struct iw_view *v, struct qcow2_header *h,
		       struct iw_report *r);

#endif
