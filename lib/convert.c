/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"


/* zeros shorter than this are written, as qemu-img's default -S 4k */
#define SPARSE_BLOCK 4096u
/* jobs mapped ahead of the workers: enough to keep them busy, little
 * memory (extent lists only) */
#define QUEUE_DEPTH 8
/* a chunk of 512-byte clusters has 8192 extents; more means a mapper
 * returning absurdly short extents */
#define MAX_EXTENTS_PER_CHUNK (IW_CONVERT_CHUNK / 512)

struct job {
	uint64_t start, length;
	size_t n_ext;
	struct iw_extent *ext;
};

struct engine {
	struct iw_map *map;
	const struct iw_convert_opts *o;
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	struct job queue[QUEUE_DEPTH];
	size_t head, count;
	bool done;		/* producer finished (or failed) */
	atomic_int error;	/* first worker error, negative errno */
	atomic_uint_fast64_t bad_offset; /* guest offset of that error */
	atomic_uint_fast64_t bytes_done, bytes_written, bytes_skipped,
		units;
	/* workers that may take jobs; the rest of a pool returns at once */
	atomic_int slots;
	/* Workers decompress in parallel but write one at a time: two
	 * threads writing one file contend in the kernel far more than they
	 * gain (3-8x the system time measured here). */
	pthread_mutex_t write_lock;
};

/*
 * What SEEK_DATA/SEEK_HOLE said about an image file, so that each answer
 * is asked once: on ext4 one call costs 150-200 us, and an image of
 * 64 KiB clusters has thousands of data extents, all inside one run of
 * data of the file. [lo, hi) of fd is all data or all hole.
 */
#define LAYOUT_SLOTS 4	/* a chain's layers alternate */
struct layout_cache {
	struct {
		int fd;		/* -1: empty */
		bool data;
		uint64_t lo, hi;
	} slot[LAYOUT_SLOTS];
	unsigned next;		/* the slot to replace */
};

struct worker_buffers {
	uint8_t *chunk;	 /* IW_CONVERT_CHUNK */
	uint8_t *unit;	 /* max_unit_size */
	uint8_t *comp;	 /* max_comp_length */
	struct layout_cache *layout;
};

static const uint8_t zero_block[SPARSE_BLOCK];

/* memcmp is vectorised and stops at the first difference: random data
 * costs a few bytes, zeros cost a fast scan */
static bool block_is_zero(const uint8_t *p, size_t n)
{
	return memcmp(p, zero_block, n) == 0;
}

static int write_run(struct engine *e, const uint8_t *buf, uint64_t len,
		     uint64_t guest_offset)
{
	int r;

	pthread_mutex_lock(&e->write_lock);
	if (e->o->output == IW_OUTPUT_SINK)
		r = e->o->sink->write(e->o->sink, buf, len, guest_offset);
	else
		r = iw_pwrite_all(e->o->dst_fd, buf, len, guest_offset);
	pthread_mutex_unlock(&e->write_lock);
	return r;
}

/*
 * Write guest bytes buf = [guest, guest+len) to a file or sink, leaving
 * out every all-zero block. Blocks are SPARSE_BLOCK-aligned in guest
 * offsets (so holes line up with the file system's), the first and last
 * may be partial; what is left out reads as zero in the output.
 */
static int write_sparse(struct engine *e, const uint8_t *buf, uint64_t guest,
			uint64_t len)
{
	uint64_t pos = 0, run_start = 0, written = 0;
	bool in_run = false;
	int r;

	while (pos < len) {
		uint64_t block_end = (guest + pos) / SPARSE_BLOCK * SPARSE_BLOCK +
				     SPARSE_BLOCK;
		uint64_t n = MIN(block_end - (guest + pos), len - pos);
		bool zero = block_is_zero(buf + pos, n);

		if (!zero && !in_run) {
			run_start = pos;
			in_run = true;
		} else if (zero && in_run) {
			r = write_run(e, buf + run_start, pos - run_start,
				      guest + run_start);
			if (r < 0)
				return r;
			written += pos - run_start;
			in_run = false;
		}
		pos += n;
	}
	if (in_run) {
		r = write_run(e, buf + run_start, len - run_start,
			      guest + run_start);
		if (r < 0)
			return r;
		written += len - run_start;
	}
	atomic_fetch_add(&e->bytes_written, written);
	atomic_fetch_add(&e->bytes_skipped, len - written);
	return 0;
}

/* The fd an extent's bytes are read from (x->file was checked against
 * n_src_fds in map_job). */
static int extent_fd(const struct engine *e, const struct iw_extent *x)
{
	return e->o->src_fds ? e->o->src_fds[x->file] : e->o->src_fd;
}

/* The bytes of one COMPRESSED extent, into dst. */
static int read_compressed(struct engine *e, const struct iw_extent *x,
			   struct worker_buffers *b, uint8_t *dst)
{
	int fd = extent_fd(e, x);
	int r;

	r = iw_pread_all(fd, b->comp, x->comp_length, x->host_offset);
	if (r < 0)
		return r;
	r = iw_decompress_unit(x->codec, b->comp, x->comp_length, b->unit,
			       x->unit_size);
	if (r < 0)
		return r;
	memcpy(dst, b->unit + x->unit_skip, x->length);
	atomic_fetch_add(&e->units, 1);
	return 0;
}

/*
 * How much of [off, off+len) of fd, from off, is data (true) or a hole
 * (false). Formats allocate whole blocks (VHDX: up to 256 MiB) of which
 * the writer filled a part: the rest is a hole in the image file and
 * reads as zeros without being read - what qemu learns from the file
 * layer's block status. Anything lseek cannot answer counts as data.
 * Answers go into c; a cached one is used while off stays inside it.
 */
static uint64_t host_run(struct layout_cache *c, int fd, uint64_t off,
			 uint64_t len, bool *ret_data)
{
	uint64_t lo = off, hi;
	bool data;
	off_t d, h;

	for (unsigned i = 0; i < LAYOUT_SLOTS; i++) {
		if (c->slot[i].fd == fd && c->slot[i].lo <= off &&
		    off < c->slot[i].hi) {
			*ret_data = c->slot[i].data;
			return MIN(len, c->slot[i].hi - off);
		}
	}
	*ret_data = true;
	if (off > (uint64_t)INT64_MAX)
		return len;
	d = lseek(fd, (off_t)off, SEEK_DATA);
	if (d < 0) {
		if (errno != ENXIO)
			return len;	/* not answered: data, not cached */
		data = false;	/* a hole to the end of the file */
		hi = UINT64_MAX;
	} else if ((uint64_t)d > off) {
		data = false;
		hi = (uint64_t)d;
	} else {
		h = lseek(fd, (off_t)off, SEEK_HOLE);
		if (h < 0 || (uint64_t)h <= off)
			return len;
		data = true;
		hi = (uint64_t)h;
	}
	c->slot[c->next].fd = fd;
	c->slot[c->next].data = data;
	c->slot[c->next].lo = lo;
	c->slot[c->next].hi = hi;
	c->next = (c->next + 1) % LAYOUT_SLOTS;
	*ret_data = data;
	return MIN(len, hi - off);
}

/* A DATA extent: the image file's holes inside it are zeros, not read. */
static int copy_data_extent(struct engine *e, const struct iw_extent *x,
			    struct worker_buffers *b, uint8_t *dst, bool sparse)
{
	int fd = extent_fd(e, x);
	uint64_t pos = 0;
	int r;

	while (pos < x->length) {
		bool data;
		uint64_t n = host_run(b->layout, fd, x->host_offset + pos,
				      x->length - pos, &data);

		if (!data) {
			if (sparse)
				atomic_fetch_add(&e->bytes_skipped, n);
			else
				memset(dst + pos, 0, n);
		} else {
			r = iw_pread_all(fd, dst + pos, n, x->host_offset + pos);
			if (r < 0)
				return r;
			if (sparse) {
				r = write_sparse(e, dst + pos, x->offset + pos, n);
				if (r < 0)
					return r;
			}
		}
		pos += n;
	}
	return 0;
}

static int process_job(struct engine *e, const struct job *j,
		       struct worker_buffers *b)
{
	bool sparse = e->o->output == IW_OUTPUT_FILE ||
		      e->o->output == IW_OUTPUT_SINK;
	uint64_t bad = j->start;
	int r = 0;

	for (size_t i = 0; i < j->n_ext; i++) {
		const struct iw_extent *x = &j->ext[i];
		uint8_t *dst = b->chunk + (x->offset - j->start);

		bad = x->offset;
		if (x->type == IW_EXTENT_ZERO) {
			/* a new file or a sink reads zeros where nothing is
			 * written; a device or a stream gets them */
			if (sparse)
				atomic_fetch_add(&e->bytes_skipped, x->length);
			else
				memset(dst, 0, x->length);
			continue;
		}
		if (x->type == IW_EXTENT_DATA) {
			r = copy_data_extent(e, x, b, dst, sparse);
			if (r < 0)
				goto out;
			continue;
		}
		r = read_compressed(e, x, b, dst);
		if (r < 0)
			goto out;
		if (sparse) {
			r = write_sparse(e, dst, x->offset, x->length);
			if (r < 0)
				goto out;
		}
	}
	if (e->o->output == IW_OUTPUT_DEVICE) {
		pthread_mutex_lock(&e->write_lock);
		r = iw_pwrite_all(e->o->dst_fd, b->chunk, j->length, j->start);
		pthread_mutex_unlock(&e->write_lock);
		if (r == 0)
			atomic_fetch_add(&e->bytes_written, j->length);
	} else if (e->o->output == IW_OUTPUT_STREAM) {
		r = iw_write_all(e->o->dst_fd, b->chunk, j->length);
		if (r == 0)
			atomic_fetch_add(&e->bytes_written, j->length);
	}
out:
	if (r < 0) {
		int expected = 0;
		if (atomic_compare_exchange_strong(&e->error, &expected, r))
			atomic_store(&e->bad_offset, bad);
	}
	atomic_fetch_add(&e->bytes_done, j->length);
	return r;
}

static void *worker(void *arg)
{
	struct engine *e = arg;
	struct layout_cache layout;
	struct worker_buffers b = { .layout = &layout };

	for (unsigned i = 0; i < LAYOUT_SLOTS; i++)
		layout.slot[i].fd = -1;
	layout.next = 0;

	if (atomic_fetch_sub(&e->slots, 1) <= 0)
		return NULL;
	b.chunk = malloc(IW_CONVERT_CHUNK);
	b.unit = malloc(e->map->max_unit_size ? e->map->max_unit_size : 1);
	b.comp = malloc(e->map->max_comp_length ? e->map->max_comp_length : 1);
	if (!b.chunk || !b.unit || !b.comp) {
		int expected = 0;
		atomic_compare_exchange_strong(&e->error, &expected, -ENOMEM);
	}
	for (;;) {
		struct job j;

		pthread_mutex_lock(&e->lock);
		while (e->count == 0 && !e->done)
			pthread_cond_wait(&e->not_empty, &e->lock);
		if (e->count == 0) {
			pthread_mutex_unlock(&e->lock);
			break;
		}
		j = e->queue[e->head];
		e->head = (e->head + 1) % QUEUE_DEPTH;
		e->count--;
		pthread_cond_signal(&e->not_full);
		pthread_mutex_unlock(&e->lock);

		/* after an error, drain without working */
		if (atomic_load(&e->error) == 0 && b.chunk && b.unit && b.comp)
			process_job(e, &j, &b);
		free(j.ext);
	}
	free(b.chunk);
	free(b.unit);
	free(b.comp);
	return NULL;
}

/* Map [start, start+length) into j (called by the producer only). */
static int map_job(struct engine *e, uint64_t start, uint64_t length,
		   struct job *j)
{
	size_t cap = 64;
	uint64_t pos = start;
	int r;

	*j = (struct job){ .start = start, .length = length };
	j->ext = malloc(cap * sizeof(*j->ext));
	if (!j->ext)
		return -ENOMEM;
	while (pos < start + length) {
		struct iw_extent x;

		r = e->map->ops->next(e->map, pos, start + length - pos, &x);
		if (r < 0)
			goto fail;
		/* the mapper's contract, checked: a broken mapper must not
		 * make the engine read or write out of bounds */
		if (x.offset != pos || x.length == 0 ||
		    x.length > start + length - pos ||
		    (x.type != IW_EXTENT_ZERO &&
		     x.file >= (e->o->src_fds ? e->o->n_src_fds : 1)) ||
		    (x.type == IW_EXTENT_COMPRESSED &&
		     (x.unit_size > e->map->max_unit_size ||
		      x.comp_length > e->map->max_comp_length ||
		      x.unit_skip > x.unit_size ||
		      x.length > x.unit_size - x.unit_skip))) {
			r = -EINVAL;
			iw_finding(e->map->report, IW_F_BAD_FIELD,
				   "internal: the block map broke its contract "
				   "at guest offset %llu",
				   (unsigned long long)pos);
			goto fail;
		}
		/* merge with the previous extent where it continues it */
		if (j->n_ext > 0) {
			struct iw_extent *p = &j->ext[j->n_ext - 1];
			if (p->type == x.type && x.type != IW_EXTENT_COMPRESSED &&
			    (x.type == IW_EXTENT_ZERO ||
			     (p->file == x.file &&
			      p->host_offset + p->length == x.host_offset))) {
				p->length += x.length;
				pos += x.length;
				continue;
			}
		}
		if (j->n_ext == cap) {
			struct iw_extent *n;
			if (cap >= MAX_EXTENTS_PER_CHUNK) {
				r = -EINVAL;
				iw_finding(e->map->report, IW_F_BAD_FIELD,
					   "more than %u extents in 4 MiB at "
					   "guest offset %llu",
					   (unsigned)MAX_EXTENTS_PER_CHUNK,
					   (unsigned long long)start);
				goto fail;
			}
			n = realloc(j->ext, 2 * cap * sizeof(*j->ext));
			if (!n) {
				r = -ENOMEM;
				goto fail;
			}
			j->ext = n;
			cap *= 2;
		}
		j->ext[j->n_ext++] = x;
		pos += x.length;
	}
	return 0;
fail:
	free(j->ext);
	j->ext = NULL;
	return r;
}

static void report_worker_error(struct engine *e, int r)
{
	unsigned long long at = atomic_load(&e->bad_offset);

	if (r == -EBADMSG)
		iw_finding(e->map->report, IW_F_BAD_FIELD,
			   "a compressed unit at guest offset %llu does not "
			   "decompress to its size",
			   at);
}

/* ---- a pool of threads started before the sandbox ---------------------- */

struct iw_convert_pool {
	pthread_t threads[IW_CONVERT_MAX_THREADS];
	unsigned n;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	unsigned ready;		/* threads past thread_init */
	int init_error;
	int (*thread_init)(void);
	struct engine *engine;	/* set by iw_convert() */
	bool quit;
	bool used;
};

static void *pool_thread(void *arg)
{
	struct iw_convert_pool *p = arg;
	struct engine *e;
	int r = p->thread_init ? p->thread_init() : 0;

	pthread_mutex_lock(&p->lock);
	if (r < 0 && p->init_error == 0)
		p->init_error = r;
	p->ready++;
	pthread_cond_broadcast(&p->cv);
	while (!p->engine && !p->quit)
		pthread_cond_wait(&p->cv, &p->lock);
	e = p->engine;
	pthread_mutex_unlock(&p->lock);
	if (e && r == 0)
		worker(e);
	return NULL;
}

static unsigned default_threads(unsigned asked)
{
	if (asked == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		asked = cpus > 0 ? (unsigned)cpus : 1;
	}
	return MIN(asked, (unsigned)IW_CONVERT_MAX_THREADS);
}

int iw_convert_pool_start(unsigned threads, int (*thread_init)(void),
			  struct iw_convert_pool **ret)
{
	struct iw_convert_pool *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->thread_init = thread_init;
	threads = default_threads(threads);
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_thread, p) != 0)
			break;
		p->n++;
	}
	pthread_mutex_lock(&p->lock);
	while (p->ready < p->n)
		pthread_cond_wait(&p->cv, &p->lock);
	r = p->n == 0 ? -EAGAIN : p->init_error;
	pthread_mutex_unlock(&p->lock);
	if (r < 0) {
		iw_convert_pool_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void iw_convert_pool_free(struct iw_convert_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cv);
	free(p);
}

int iw_convert(struct iw_map *map, const struct iw_convert_opts *o,
	       struct iw_convert_stats *ret_stats)
{
	pthread_t threads[IW_CONVERT_MAX_THREADS];
	struct engine e = { .map = map, .o = o };
	/* sysconf() reads /sys: not under a sandbox (a pool was sized
	 * before it) */
	unsigned n_threads = o->pool ? o->pool->n : default_threads(o->threads);
	uint64_t vsize = map->virtual_size;
	size_t started = 0;
	int r = 0;

	/* a stream's bytes must leave in order: one worker. Without
	 * compressed units the work is copying, which one thread does best:
	 * two threads writing one file mostly contend for it (measured here:
	 * 3-8x the system time). Parallelism pays for decompression. */
	if (o->output == IW_OUTPUT_STREAM || map->max_unit_size == 0)
		n_threads = 1;
	atomic_store(&e.slots, (int)n_threads);
	if (o->pool && (o->pool->used || o->pool->n == 0))
		return -EINVAL;

	if (o->output == IW_OUTPUT_FILE && ftruncate(o->dst_fd, (off_t)vsize) < 0)
		return -errno;

	pthread_mutex_init(&e.lock, NULL);
	pthread_mutex_init(&e.write_lock, NULL);
	pthread_cond_init(&e.not_empty, NULL);
	pthread_cond_init(&e.not_full, NULL);
	if (o->pool) {
		/* all the pool's threads start; only `slots` of them work */
		pthread_mutex_lock(&o->pool->lock);
		o->pool->used = true;
		o->pool->engine = &e;
		pthread_cond_broadcast(&o->pool->cv);
		pthread_mutex_unlock(&o->pool->lock);
		started = o->pool->n;
	} else {
		for (unsigned i = 0; i < n_threads; i++) {
			if (pthread_create(&threads[i], NULL, worker, &e) != 0)
				break;
			started++;
		}
	}
	if (started == 0) {
		r = -EAGAIN;
		goto out;
	}

	for (uint64_t start = 0; start < vsize && atomic_load(&e.error) == 0;
	     start += IW_CONVERT_CHUNK) {
		struct job j;

		r = map_job(&e, start, MIN((uint64_t)IW_CONVERT_CHUNK, vsize - start),
			    &j);
		if (r < 0)
			break;
		pthread_mutex_lock(&e.lock);
		while (e.count == QUEUE_DEPTH)
			pthread_cond_wait(&e.not_full, &e.lock);
		e.queue[(e.head + e.count) % QUEUE_DEPTH] = j;
		e.count++;
		pthread_cond_signal(&e.not_empty);
		pthread_mutex_unlock(&e.lock);
		if (o->progress)
			o->progress(atomic_load(&e.bytes_done), vsize,
				    o->userdata);
	}
	pthread_mutex_lock(&e.lock);
	e.done = true;
	pthread_cond_broadcast(&e.not_empty);
	pthread_mutex_unlock(&e.lock);
out:
	if (o->pool) {
		for (unsigned i = 0; i < o->pool->n; i++)
			pthread_join(o->pool->threads[i], NULL);
		o->pool->n = 0; /* joined: nothing left for pool_free */
	} else {
		for (size_t i = 0; i < started; i++)
			pthread_join(threads[i], NULL);
	}
	pthread_mutex_destroy(&e.lock);
	pthread_mutex_destroy(&e.write_lock);
	pthread_cond_destroy(&e.not_empty);
	pthread_cond_destroy(&e.not_full);

	if (r == 0 && atomic_load(&e.error) != 0) {
		r = atomic_load(&e.error);
		report_worker_error(&e, r);
	}
	if (r == 0 && o->progress)
		o->progress(vsize, vsize, o->userdata);
	if (ret_stats)
		*ret_stats = (struct iw_convert_stats){
			.bytes_written = atomic_load(&e.bytes_written),
			.bytes_skipped = atomic_load(&e.bytes_skipped),
			.units_decompressed = atomic_load(&e.units),
		};
	return r;
}
