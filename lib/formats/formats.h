/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The format readers.
 *
 * One file per format under lib/formats/, each exporting one
 * `const struct iw_format iw_format_<name>` that is listed in registry.c.
 * A reader is pure: it reads the image only through struct iw_view, keeps
 * no global state, and bounds every table and loop by the caps it
 * documents. It never follows a name it finds; it reports it.
 *
 * match() is the cheap signature test ("is this plausibly mine?"): it may
 * look at the head buffer (the first min(size, IW_HEAD_SIZE) bytes, read
 * once for all readers) and, if it must, read a few bytes through the
 * view (e.g. a VHD footer at the end). It must not report anything.
 *
 * probe() runs only when match() said yes. It validates the structure and
 * fills the report: format name, virtual size, cluster size, the
 * format-specific fields (qemu's names where qemu has them), references
 * and findings. It returns 0 when it produced a report (however bad the
 * image), and a negative errno only when it could not (ENOMEM, or an I/O
 * error from the view other than ERANGE/E2BIG, which readers turn into
 * findings).
 */
#ifndef IW_FORMATS_H
#define IW_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../report.h"
#include "../view.h"

#define IW_HEAD_SIZE (64 * 1024)

enum iw_format_kind {
	/* a disk image format qemu (or we) would interpret: qcow2, vmdk, ...
	 * Two of these matching the same file is a finding. */
	IW_KIND_IMAGE,
	/* structures found inside raw disk content: mbr, gpt, iso9660, udf.
	 * They describe a raw image and may coexist with each other. */
	IW_KIND_CONTENT,
	/* a stream wrapped around another file: gzip, xz, zstd, bzip2 */
	IW_KIND_WRAPPER,
	/* an archive of files: tar (and OVA, XenServer tgz chains) */
	IW_KIND_ARCHIVE,
};

struct iw_probe_ctx;

struct iw_format {
	const char *name; /* "qcow2", "vmdk", "vhd", "mbr", "gzip", ... */
	enum iw_format_kind kind;
	bool (*match)(const struct iw_view *v, const uint8_t *head,
		      size_t head_len);
	int (*probe)(const struct iw_view *v, const uint8_t *head,
		     size_t head_len, struct iw_report *r,
		     struct iw_probe_ctx *ctx);
};

/* Every reader, in the order the sniffer runs them. */
extern const struct iw_format *const iw_formats[];
extern const size_t iw_formats_count;
const struct iw_format *iw_format_by_name(const char *name);

#define IW_DECLARE_FORMAT(n) extern const struct iw_format iw_format_##n
IW_DECLARE_FORMAT(qcow2);
IW_DECLARE_FORMAT(qcow);
IW_DECLARE_FORMAT(qed);
IW_DECLARE_FORMAT(vmdk);
IW_DECLARE_FORMAT(vhd);
IW_DECLARE_FORMAT(vhdx);
IW_DECLARE_FORMAT(vdi);
IW_DECLARE_FORMAT(luks);
IW_DECLARE_FORMAT(parallels);
IW_DECLARE_FORMAT(bochs);
IW_DECLARE_FORMAT(cloop);
IW_DECLARE_FORMAT(dmg);
IW_DECLARE_FORMAT(mbr);
IW_DECLARE_FORMAT(gpt);
IW_DECLARE_FORMAT(iso9660);
IW_DECLARE_FORMAT(udf);
IW_DECLARE_FORMAT(gzip);
IW_DECLARE_FORMAT(xz);
IW_DECLARE_FORMAT(zstd);
IW_DECLARE_FORMAT(bzip2);
IW_DECLARE_FORMAT(tar);
#undef IW_DECLARE_FORMAT

/*
 * Recursion for wrappers and archives: sniff the bytes of `inner` (a
 * decompressed head, a tar member) as a whole image into `child`
 * (initialised by the caller). ctx carries the nesting depth and the
 * work budget; the call fails with -ELOOP past IW_MAX_NESTING.
 */
#define IW_MAX_NESTING 3
int iw_probe_nested(struct iw_probe_ctx *ctx, const struct iw_view *inner,
		    struct iw_report *child);

/* Small helpers shared by readers (lib/formats/common.c). */

/* Read `len` bytes at `off` for a structure called `what`; on ERANGE/E2BIG
 * emits TRUNCATED (or INSPECTION_INCOMPLETE for a partial view / spent
 * budget) and returns the negative errno; the caller then stops. */
int iw_read_struct(const struct iw_view *v, struct iw_report *r, void *buf,
		   size_t len, uint64_t off, const char *what);

/* Check a table [off, off+len) lies inside the view; emits TABLE_PAST_EOF
 * (skipped for partial views) and returns false if not. */
bool iw_check_table(const struct iw_view *v, struct iw_report *r,
		    uint64_t off, uint64_t len, const char *what);

/* CRC-32C (Castagnoli), as VHDX and GPT... (GPT uses plain CRC-32). */
uint32_t iw_crc32c(uint32_t crc, const void *buf, size_t len);
/* CRC-32 (IEEE 802.3, zlib's), for GPT and gzip. */
uint32_t iw_crc32(uint32_t crc, const void *buf, size_t len);

#endif
