/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a guest's bytes are: the block map the converter walks.
 *
 * A format's mapper (lib/formats/<fmt>-map.c) answers one question,
 * "what is at guest offset X?", with an extent: a run of the guest disk
 * that reads as zeros, or is stored as plain bytes at some offset of the
 * image file, or lies inside one compressed unit (a qcow2 compressed
 * cluster, a streamOptimized VMDK grain). Mappers are pure like readers:
 * they read the image only through struct iw_view, validate every table
 * entry they use (inside the file, aligned, not pointing into the
 * format's own metadata), and report what is wrong through a struct
 * iw_report before failing with -EINVAL. They never follow a name.
 *
 * The engine (lib/convert.c) turns extents into output: it reads DATA,
 * decompresses COMPRESSED units (in parallel), and leaves ZERO as holes.
 */
#ifndef IW_FORMATS_MAP_H
#define IW_FORMATS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../report.h"
#include "../view.h"

enum iw_extent_type {
	IW_EXTENT_ZERO,	      /* reads as zeros: unallocated, zero flag, ... */
	IW_EXTENT_DATA,	      /* plain bytes at host_offset in the file */
	IW_EXTENT_COMPRESSED, /* part of one compressed unit */
};

enum iw_codec {
	IW_CODEC_NONE,
	IW_CODEC_DEFLATE, /* raw deflate, no header (qcow2 zlib clusters) */
	IW_CODEC_ZLIB,	  /* zlib stream, RFC 1950 (VMDK grains) */
	IW_CODEC_ZSTD,	  /* one zstd frame (qcow2 compression_type=zstd) */
};

struct iw_extent {
	uint64_t offset; /* guest offset, == the offset asked for */
	uint64_t length; /* > 0, <= the length asked for */
	enum iw_extent_type type;
	/* DATA: [host_offset, host_offset + length) of the file.
	 * COMPRESSED: the unit's compressed bytes start at host_offset. */
	uint64_t host_offset;
	/* COMPRESSED only */
	uint64_t comp_length;  /* bytes to read at host_offset (may include
				* slack after the stream, as qcow2 rounds up
				* to sectors; the decoder stops at unit_size) */
	uint32_t unit_size;    /* decompressed size of the whole unit */
	uint32_t unit_skip;    /* where this extent starts inside the unit */
	enum iw_codec codec;
	/* DATA and COMPRESSED: which input file holds the bytes, for maps
	 * over several files (a VHD differencing chain: 0 = the leaf); the
	 * engine reads it from iw_convert_opts.src_fds[file]. Single-file
	 * mappers leave it 0. */
	unsigned file;
};

struct iw_map;

struct iw_map_ops {
	/* The extent that starts at offset (< virtual_size), at most
	 * max_length long (> 0). 0, or a negative errno: -EINVAL for a broken
	 * image (with a finding in the map's report), -ENOMEM, I/O errors. */
	int (*next)(struct iw_map *m, uint64_t offset, uint64_t max_length,
		    struct iw_extent *ret);
	void (*free)(struct iw_map *m);
};

struct iw_map {
	const struct iw_map_ops *ops;
	uint64_t virtual_size;		/* bytes of guest disk */
	const struct iw_view *view;	/* the image */
	struct iw_report *report;	/* findings go here */
	/* the largest unit_size this map returns (0: no compressed units),
	 * so the engine can size its buffers before it starts */
	uint32_t max_unit_size;
	/* the largest comp_length this map returns */
	uint64_t max_comp_length;
};

/*
 * Open a mapper for format (our name: "raw", "qcow2", "vmdk", "vhd",
 * "vhdx", "vdi") over v. The report receives findings for anything that
 * makes the image unconvertible. 0 with *ret set, -EPROTONOSUPPORT for a
 * format with no mapper, -EINVAL for an image that cannot be mapped,
 * other negative errnos.
 */
int iw_map_open(const char *format, const struct iw_view *v,
		struct iw_report *r, struct iw_map **ret);
void iw_map_free(struct iw_map *m);

/* Per-format constructors, listed in map.c. Each allocates a struct that
 * starts with struct iw_map. */
int iw_map_open_raw(const struct iw_view *v, struct iw_report *r,
		    struct iw_map **ret);
int iw_map_open_qcow2(const struct iw_view *v, struct iw_report *r,
		      struct iw_map **ret);
int iw_map_open_vmdk(const struct iw_view *v, struct iw_report *r,
		     struct iw_map **ret);
int iw_map_open_vhd(const struct iw_view *v, struct iw_report *r,
		    struct iw_map **ret);
int iw_map_open_vhdx(const struct iw_view *v, struct iw_report *r,
		     struct iw_map **ret);
int iw_map_open_vdi(const struct iw_view *v, struct iw_report *r,
		    struct iw_map **ret);

/*
 * A map over a part of a file (an OVA member: a sub-view starting at base)
 * seen from the whole file: the inner map's DATA and COMPRESSED host
 * offsets, which are relative to its view, move up by base, so the engine
 * can read them from the file's fd. Takes ownership of inner (freed with
 * the wrapper, also on failure). 0 or -ENOMEM.
 */
int iw_map_shift(struct iw_map *inner, uint64_t base, struct iw_map **ret);

/*
 * The same for a map over several parts of one file (a VHD chain whose
 * layers are members of one tar): extents of inner file i move up by
 * bases[i] and come from file 0. n <= IW_MAP_SHIFT_MAX_FILES.
 */
#define IW_MAP_SHIFT_MAX_FILES 256
int iw_map_shift_files(struct iw_map *inner, const uint64_t *bases, size_t n,
		       struct iw_map **ret);

/*
 * Decompress one unit: in[0..in_len) with codec into exactly out_len
 * bytes. Stops as soon as out_len bytes are produced (bytes after the
 * stream are slack, not an error); fewer bytes, or a corrupt stream, is
 * -EBADMSG. Bounded by out_len: a "bomb" cannot make it write more.
 */
int iw_decompress_unit(enum iw_codec codec, const void *in, size_t in_len,
		       void *out, size_t out_len);

#endif
