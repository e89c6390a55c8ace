/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared body of the block-map harnesses (fuzz-map-*.c): walk a map the
 * way the converter's producer does (lib/convert.c map_job: 4 MiB chunks,
 * next() asked for the rest of the chunk), check every extent against the
 * mapper's contract (lib/formats/map.h) and abort() on a violation - a
 * broken contract is a bug even where the engine would catch it - then do
 * what the engine's workers would do with the extent: read DATA through
 * the file's view, decompress COMPRESSED units with iw_decompress_unit()
 * into a buffer of exactly unit_size bytes (so ASan sees an overrun).
 *
 * Static functions in a header so each harness stays one file for
 * fuzz/Makefile and the replay build.
 */
#ifndef IW_FUZZ_MAP_WALK_H
#define IW_FUZZ_MAP_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/map.h"
#include "report.h"
#include "view.h"

/* Input caps: each harness has its own (the smallest file with an
 * allocated data block differs by format); this is the default. Every
 * table a map walks is read from the input, and a small file already
 * holds many tables: 256 KiB keeps one execution in milliseconds. */
#define MAP_WALK_MAX_INPUT (256 * 1024)
/* The converter's chunk (IW_CONVERT_CHUNK): next() is asked for at most
 * the rest of the current chunk, as map_job asks. */
#define MAP_WALK_CHUNK (4u << 20)
/* next() calls per input: a disk of many TiB must not make one input
 * time out. Most are spent from guest offset 0; the rest on the last
 * chunks of the disk, where size arithmetic overflows if it does. */
#define MAP_WALK_MAX_CALLS 4096
#define MAP_WALK_TAIL_CALLS 512
/* Units decompressed: qcow2 clusters are at most 2 MiB; VMDK grains can
 * claim up to 1 GiB, which the harness checks but does not inflate. */
#define MAP_WALK_MAX_UNIT (2u << 20)
/* Decompressed bytes per input, so a disk of valid compressed clusters
 * stays fast. */
#define MAP_WALK_MAX_UNIT_BYTES (32u << 20)

struct map_walk {
	struct iw_map *m;
	const struct iw_view *const *files; /* extent.file indexes these */
	size_t n_files;
	unsigned calls;
	uint64_t unit_bytes;
};

static inline void map_walk_violation(const struct map_walk *w, uint64_t pos,
				      const struct iw_extent *x,
				      const char *why)
{
	fprintf(stderr,
		"block map contract broken at guest offset %llu: %s (offset "
		"%llu length %llu type %d host %llu comp %llu unit %u skip %u "
		"codec %d file %u; virtual size %llu)\n",
		(unsigned long long)pos, why, (unsigned long long)x->offset,
		(unsigned long long)x->length, (int)x->type,
		(unsigned long long)x->host_offset,
		(unsigned long long)x->comp_length, x->unit_size, x->unit_skip,
		(int)x->codec, x->file,
		(unsigned long long)w->m->virtual_size);
	abort();
}

/* What the engine's worker would read for a DATA extent: touch both ends
 * of it through the view (which range-checks). */
static inline void map_walk_data(const struct map_walk *w, uint64_t pos,
				 const struct iw_extent *x)
{
	const struct iw_view *v = w->files[x->file];
	uint8_t buf[16];
	size_t n = x->length < sizeof(buf) ? (size_t)x->length : sizeof(buf);

	/* maps clip DATA to the file (qcow2's semi-allocated last cluster
	 * becomes ZERO past EOF): bytes past the end are a broken contract */
	if (!iw_view_contains(v, x->host_offset, x->length))
		map_walk_violation(w, pos, x, "DATA past the end of its file");
	if (iw_view_read(v, buf, n, x->host_offset) < 0 ||
	    iw_view_read(v, buf, n, x->host_offset + x->length - n) < 0)
		map_walk_violation(w, pos, x, "DATA unreadable");
}

static inline void map_walk_compressed(struct map_walk *w, uint64_t pos,
				       const struct iw_extent *x)
{
	const struct iw_view *v = w->files[x->file];
	uint8_t *in, *out;

	if (x->codec != IW_CODEC_DEFLATE && x->codec != IW_CODEC_ZLIB &&
	    x->codec != IW_CODEC_ZSTD)
		map_walk_violation(w, pos, x, "COMPRESSED without a codec");
	if (x->comp_length == 0)
		map_walk_violation(w, pos, x, "COMPRESSED with no bytes");
	if (!iw_view_contains(v, x->host_offset, x->comp_length))
		map_walk_violation(w, pos, x,
				   "compressed bytes past the end of its file");
	if (x->unit_size > MAP_WALK_MAX_UNIT ||
	    w->unit_bytes + x->unit_size > MAP_WALK_MAX_UNIT_BYTES)
		return;
	w->unit_bytes += x->unit_size;
	/* exact sizes: an overrun of either buffer is an ASan report */
	in = malloc((size_t)x->comp_length);
	out = malloc(x->unit_size);
	if (in && out &&
	    iw_view_read(v, in, (size_t)x->comp_length, x->host_offset) == 0)
		(void)iw_decompress_unit(x->codec, in, (size_t)x->comp_length,
					 out, x->unit_size);
	free(in);
	free(out);
}

/* Walk [start, end) in chunks as map_job does: 1 when done, 0 when the
 * call budget is spent, -1 once next() failed (the engine stops there). */
static inline int map_walk_range(struct map_walk *w, uint64_t start,
				 uint64_t end, unsigned max_calls)
{
	struct iw_map *m = w->m;
	uint64_t pos = start;

	while (pos < end) {
		uint64_t chunk_end =
			(pos / MAP_WALK_CHUNK + 1) * MAP_WALK_CHUNK;
		uint64_t want;
		struct iw_extent x;

		if (chunk_end > end || chunk_end < pos)
			chunk_end = end;
		want = chunk_end - pos;
		if (w->calls >= max_calls)
			return 0;
		w->calls++;
		/* poison what the map must fill */
		memset(&x, 0xa5, sizeof(x));
		if (m->ops->next(m, pos, want, &x) < 0)
			return -1;
		if (x.offset != pos)
			map_walk_violation(w, pos, &x, "offset != asked");
		if (x.length == 0 || x.length > want)
			map_walk_violation(w, pos, &x,
					   "length not in (0, asked]");
		switch (x.type) {
		case IW_EXTENT_ZERO:
			break;
		case IW_EXTENT_DATA:
			if (x.file >= w->n_files)
				map_walk_violation(w, pos, &x, "no such file");
			map_walk_data(w, pos, &x);
			break;
		case IW_EXTENT_COMPRESSED:
			if (x.file >= w->n_files)
				map_walk_violation(w, pos, &x, "no such file");
			if (x.unit_size > m->max_unit_size ||
			    x.comp_length > m->max_comp_length)
				map_walk_violation(w, pos, &x,
						   "unit above the maxima");
			if (x.unit_skip > x.unit_size ||
			    x.length > x.unit_size - x.unit_skip)
				map_walk_violation(w, pos, &x,
						   "extent outside its unit");
			map_walk_compressed(w, pos, &x);
			break;
		default:
			map_walk_violation(w, pos, &x, "unknown extent type");
		}
		pos += x.length;
	}
	return 1;
}

/* Walk the head of the disk, then its last chunks (where size arithmetic
 * overflows if it does). The caller frees the map. */
static inline void map_walk(struct iw_map *m,
			    const struct iw_view *const *files, size_t n_files)
{
	struct map_walk w = { .m = m, .files = files, .n_files = n_files };
	uint64_t vs = m->virtual_size, tail;

	if (map_walk_range(&w, 0, vs,
			   MAP_WALK_MAX_CALLS - MAP_WALK_TAIL_CALLS) != 0)
		return; /* all walked, or next() failed */
	tail = vs > 2 * (uint64_t)MAP_WALK_CHUNK
		       ? vs - 2 * (uint64_t)MAP_WALK_CHUNK : 0;
	/* the engine's chunks start on chunk boundaries */
	tail -= tail % MAP_WALK_CHUNK;
	w.calls = 0;
	(void)map_walk_range(&w, tail, vs, MAP_WALK_TAIL_CALLS);
}

/* Serialise a report: walks every string the map's findings hold. */
static inline void map_walk_report_json(const struct iw_report *r)
{
	json_object *j = iw_report_to_json(r);

	if (j)
		(void)json_object_to_json_string(j);
	json_object_put(j);
}

/* The single-file harnesses (which cap the input size): open format's
 * map over the input as the converter opens it (a view with no read
 * budget: converting reads what it must; the walk's caps bound the
 * work), and walk it. */
static inline void map_walk_one(const char *format, const uint8_t *data,
				size_t size)
{
	const struct iw_view *files[1];
	struct iw_map *m = NULL;
	struct iw_report r;
	struct iw_view v;

	iw_view_init_mem(&v, data, size);
	v.own_budget = UINT64_MAX;
	files[0] = &v;
	if (iw_report_init(&r) < 0)
		return;
	if (iw_map_open(format, &v, &r, &m) == 0) {
		map_walk(m, files, 1);
		iw_map_free(m);
	}
	map_walk_report_json(&r);
	iw_report_done(&r);
}

/* A single-file map harness's whole entry point. */
#define FUZZ_MAP_HARNESS(max_input, format)                                  \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);         \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)          \
	{                                                                     \
		if (size <= (max_input))                                      \
			map_walk_one((format), data, size);                   \
		return 0;                                                     \
	}

#endif
