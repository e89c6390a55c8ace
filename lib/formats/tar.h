/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tar parsing shared by the sniffer (tar.c) and the converter (which
 * extracts OVA members and XenServer chain members from archives the
 * sniffer passed): header blocks, numbers, pax records, and a bounded
 * member iterator over a view.
 *
 * Formats: POSIX ustar ("ustar\0" "00", with the 155-byte prefix), GNU
 * ("ustar  \0", with 'L'/'K' long names and base-256 numbers) and pax
 * ('x' per-member and 'g' global extended headers: path, linkpath, size).
 * Old v7 archives (no magic) are not detected: qemu does not probe tar,
 * nothing produces v7 disk archives today, and a magic-less 512-byte
 * checksum is too weak a signature to claim arbitrary raw data is a tar.
 * Later headers in a detected archive are accepted without magic if their
 * checksum is right (GNU tar does the same).
 */
#ifndef IW_TAR_H
#define IW_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../view.h"

#define TAR_BLOCK_SIZE 512
#define TAR_MAGIC_OFFSET 257

/* GNU 'L'/'K' long names: Linux PATH_MAX is 4096; anything much longer
 * is not a name a tool would extract. */
#define TAR_LONG_NAME_MAX (64 * 1024)
/* pax extended headers: path, size, times, and xattrs (SELinux labels,
 * ACLs) fit easily; a cap keeps the allocation small. */
#define TAR_PAX_MAX (1024 * 1024)
/* Extension headers ('L', 'K', 'x', 'g') in a row before one member. */
#define TAR_MAX_EXTENSIONS 8

enum tar_type {
	TAR_TYPE_REGULAR,
	TAR_TYPE_HARDLINK,
	TAR_TYPE_SYMLINK,
	TAR_TYPE_CHAR,
	TAR_TYPE_BLOCK,
	TAR_TYPE_DIRECTORY,
	TAR_TYPE_FIFO,
	TAR_TYPE_VOLUME_LABEL, /* GNU 'V' */
	TAR_TYPE_GNU_SPARSE,   /* GNU 'S' (or pax GNU.sparse.*): data is
				  not laid out as the file's bytes */
	TAR_TYPE_GNU_MULTIVOL, /* GNU 'M': continuation of a member */
	TAR_TYPE_UNKNOWN,      /* POSIX: extract as a regular file */
};

/* true if the block carries ustar magic ("ustar\0" or GNU "ustar ") */
bool tar_has_magic(const uint8_t block[TAR_BLOCK_SIZE]);
bool tar_checksum_ok(const uint8_t block[TAR_BLOCK_SIZE]);
/* An octal (NUL/space terminated, leading spaces allowed) or GNU base-256
 * numeric field. false when malformed, negative or above INT64_MAX. */
bool tar_parse_number(const uint8_t *field, size_t len, uint64_t *ret);

struct tar_pax {
	const uint8_t *path, *linkpath; /* point into the parsed buffer */
	size_t path_len, linkpath_len;
	bool has_path, has_linkpath, has_size, sparse;
	uint64_t size;
};
/* Parse pax records ("%d %s=%s\n"). false if malformed. */
bool tar_parse_pax(const uint8_t *buf, size_t len, struct tar_pax *p);

/* A member as the iterator returns it. */
struct tar_member {
	enum tar_type type;
	uint8_t typeflag;	/* the raw type byte */
	uint64_t header_offset; /* its first header (extensions included) */
	uint64_t data_offset;
	uint64_t size;		/* data bytes following data_offset */
	uint64_t header_size;	/* the ustar header's own size field */
	char *name;		/* malloc'd raw bytes + NUL; name_len is
				   authoritative (pax paths may hold NUL) */
	size_t name_len;
	char *link;
	size_t link_len;
	bool ustar, gnu;
};
void tar_member_done(struct tar_member *m);

enum tar_next_result {
	TAR_NEXT_MEMBER,     /* *m filled */
	TAR_NEXT_END,	     /* end-of-archive zero block at c->pos */
	TAR_NEXT_EOF,	     /* the view ends at a header boundary */
	TAR_NEXT_TRUNCATED,  /* the view ends inside a header/extension */
	TAR_NEXT_INCOMPLETE, /* partial view or read budget: not inspected */
	TAR_NEXT_BAD,	     /* malformed: c->error says what, at c->pos */
};

struct tar_cursor {
	uint64_t pos; /* offset of the next header */
	const char *error;
	uint64_t error_offset;
};

/* Read the member whose headers start at c->pos and advance c->pos past
 * its data (padded to 512). Returns a tar_next_result, or -ENOMEM / -EIO.
 * The caller bounds the number of calls. */
int tar_next(const struct iw_view *v, struct tar_cursor *c,
	     struct tar_member *m);

/* Normalised member name for comparisons: leading "./" and "/" runs,
 * "." components, repeated and trailing slashes dropped. Writes at most
 * out_len bytes; returns the length. */
size_t tar_normalise_name(const char *name, size_t len, char *out,
			  size_t out_len);

/* Members tar_find_member walks before giving up: as the sniffer's walk. */
#define TAR_FIND_MAX_MEMBERS 10000

/*
 * The data of the regular member named name (compared normalised, see
 * tar_normalise_name: "./disk.vmdk" is "disk.vmdk"; there must be only
 * one). 0 with *offset and *size set;
 * -ENOENT if there is none; -EINVAL with *why set when the archive is
 * malformed, the member is not a regular file laid out as plain bytes
 * (links, GNU sparse members, ...), or another member has the same
 * normalised name; -ENOMEM, -EIO.
 */
int tar_find_member(const struct iw_view *v, const char *name,
		    uint64_t *offset, uint64_t *size, const char **why);

#endif
