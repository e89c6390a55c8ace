/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The conversion engine: walk a block map (lib/formats/map.h) and write
 * the guest disk as raw bytes to an fd.
 *
 * The map is walked by the calling thread in chunks of IW_CONVERT_CHUNK
 * guest bytes; worker threads read, decompress, and write each chunk with
 * pread/pwrite, so chunks complete in any order and both cores work on
 * compressed images. All-zero 4 KiB blocks are not written to a file
 * output (it was created empty and sized with ftruncate, so they stay
 * holes); a block device gets zeros written explicitly; a stream gets
 * every byte, in order, from one thread.
 */
#ifndef IW_CONVERT_H
#define IW_CONVERT_H

#include <stdint.h>

#include "formats/map.h"

#define IW_CONVERT_CHUNK (4u << 20)
#define IW_CONVERT_MAX_THREADS 8

enum iw_output_kind {
	IW_OUTPUT_FILE,	  /* a new, empty regular file: holes for zeros */
	IW_OUTPUT_DEVICE, /* a block device: zeros are written */
	IW_OUTPUT_STREAM, /* a pipe or terminal: every byte, in order */
	IW_OUTPUT_SINK,	  /* an image writer (e.g. qcow2): non-zero runs */
};

/*
 * An output format writer. write() receives the guest's non-zero data in
 * runs of whole 4 KiB blocks (the last block of a disk may be shorter),
 * at 4 KiB-aligned guest offsets, from several worker threads at once:
 * the sink does its own locking. Ranges never overlap. Everything not
 * written reads as zeros. The caller runs its finish step after
 * iw_convert() returns 0.
 */
struct iw_sink {
	int (*write)(struct iw_sink *s, const void *buf, size_t len,
		     uint64_t guest_offset);
};

/*
 * Worker threads started before the sandbox, so that a helper's seccomp
 * policy need not allow clone at all: each thread runs thread_init (e.g.
 * entering Landlock, which is per thread) and waits for iw_convert().
 * iw_convert_pool_start() returns once every thread has run thread_init;
 * 0, or the first negative errno (threads, or thread_init). A pool serves
 * one iw_convert() call; free it (joins its threads) afterwards. The
 * engine may use fewer of them than it has (one for a stream, or when
 * there is nothing to decompress).
 */
struct iw_convert_pool;
int iw_convert_pool_start(unsigned threads, int (*thread_init)(void),
			  struct iw_convert_pool **ret);
void iw_convert_pool_free(struct iw_convert_pool *p);

struct iw_convert_opts {
	int src_fd; /* the image, read with pread (thread-safe) */
	/* a map over several files (extents' .file): their fds, in the
	 * map's order; when set, src_fd is not used */
	const int *src_fds;
	size_t n_src_fds;
	int dst_fd;
	enum iw_output_kind output;
	struct iw_sink *sink; /* IW_OUTPUT_SINK */
	unsigned threads; /* 0: one per online CPU, at most MAX_THREADS */
	struct iw_convert_pool *pool; /* if set, its threads do the work */
	/* called from the calling thread with guest bytes done so far */
	void (*progress)(uint64_t done, uint64_t total, void *userdata);
	void *userdata;
};

struct iw_convert_stats {
	uint64_t bytes_written;	 /* data written to dst */
	uint64_t bytes_skipped;	 /* zeros left as holes */
	uint64_t units_decompressed;
};

/* 0, or a negative errno: -EINVAL when the map found the image broken
 * (findings are in the map's report), -EBADMSG for a corrupt compressed
 * unit (also reported), I/O errors from the fds. On failure dst holds
 * partial data: the caller discards it. */
int iw_convert(struct iw_map *map, const struct iw_convert_opts *o,
	       struct iw_convert_stats *ret_stats);

#endif
