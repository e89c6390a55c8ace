/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 v3 writer: see qcow2-writer.h for the layout and memory bounds.
 * Field offsets and flags are from docs/interop/qcow2.txt ("Header",
 * "Host cluster management", "Cluster mapping").
 */
#include "qcow2-writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "fd-util.h"
#include "util.h"

#define QW_MAGIC 0x514649fbu /* "QFI\xfb" */
#define QW_VERSION 3
#define QW_MIN_CLUSTER_BITS 9  /* qcow2.txt: cluster_bits >= 9 */
#define QW_MAX_CLUSTER_BITS 21 /* qemu refuses larger clusters */
#define QW_REFCOUNT_ORDER 4    /* 16-bit refcounts, qemu's default */
/* v3 header through compression_type, padded to 8 bytes, as qemu 7.2
 * writes it (header_length 112) */
#define QW_HEADER_LENGTH 112
/* qemu's QCOW_MAX_L1_SIZE and QCOW_MAX_REFTABLE_SIZE: qemu refuses to
 * open an image whose tables are larger */
#define QW_MAX_L1_BYTES (UINT64_C(32) << 20)
#define QW_MAX_REFTABLE_BYTES (UINT64_C(8) << 20)
/* L1/L2 entries keep host offsets in bits 9-55 (qcow2.txt) */
#define QW_MAX_HOST_OFFSET (UINT64_C(1) << 56)
/* "refcount is exactly one": set on every L1 and L2 entry we write, as
 * qemu-img check expects for clusters with refcount 1 */
#define QW_OFLAG_COPIED (UINT64_C(1) << 63)
#define QW_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
/* qemu writes its feature name table only above 4 KiB clusters (it
 * would crowd out the backing file name in a 512-byte header cluster) */
#define QW_FEATURE_TABLE_MIN_CLUSTER 4096u
#define QW_EXT_FEATURE_TABLE 0x6803f857u
#define QW_FEATURE_NAME_LEN 46

struct l2_slot {
	uint8_t *table;	     /* cluster_size bytes, big-endian entries */
	uint64_t l1_index;   /* which L2 table this is */
	uint64_t host;	     /* where it lives in the file */
	bool valid, dirty;
};

struct qcow2_writer {
	struct iw_sink sink; /* first: qcow2_writer_sink() hands it out */
	int fd;
	uint64_t size; /* virtual size in the header (a multiple of 512) */
	uint32_t cluster_size;
	unsigned cluster_bits;
	uint64_t l2_entries; /* entries per L2 table: cluster_size / 8 */
	uint64_t l1_size;    /* entries */
	uint64_t l1_offset;
	uint64_t l1_clusters;
	uint8_t *l1_present; /* bitmap: L1 entry written to the file */

	pthread_mutex_t lock; /* everything below */
	uint64_t next_free;   /* host offset of the next free cluster */
	struct l2_slot *slots;
	size_t n_slots;
	int error; /* sticky: after a metadata error nothing is trusted */

	uint64_t file_size; /* after finish */
};

static void qw_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint64_t div_round_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

/* Next free host cluster. Called with the lock held. */
static int alloc_cluster(struct qcow2_writer *w, uint64_t *ret_host)
{
	uint64_t host = w->next_free;

	if (host > QW_MAX_HOST_OFFSET - w->cluster_size)
		return -EFBIG;
	w->next_free = host + w->cluster_size;
	*ret_host = host;
	return 0;
}

static int slot_write_back(struct qcow2_writer *w, struct l2_slot *s)
{
	int r;

	if (!s->valid || !s->dirty)
		return 0;
	r = iw_pwrite_all(w->fd, s->table, w->cluster_size, s->host);
	if (r == 0)
		s->dirty = false;
	return r;
}

/*
 * The cached L2 table for l1_index: cached, read back, or allocated (its
 * L1 entry written through at once). Called with the lock held.
 */
static int get_l2(struct qcow2_writer *w, uint64_t l1_index,
		  struct l2_slot **ret)
{
	struct l2_slot *s = &w->slots[l1_index % w->n_slots];
	uint8_t entry[8];
	int r;

	if (s->valid && s->l1_index == l1_index) {
		*ret = s;
		return 0;
	}
	if (!s->table) {
		s->table = malloc(w->cluster_size);
		if (!s->table)
			return -ENOMEM;
	}
	r = slot_write_back(w, s);
	if (r < 0)
		return r;
	s->valid = false;

	if (w->l1_present[l1_index / 8] & (1u << (l1_index % 8))) {
		/* evicted earlier: read it back (rare, see the header) */
		r = iw_pread_all(w->fd, entry, sizeof(entry),
			     w->l1_offset + 8 * l1_index);
		if (r < 0)
			return r;
		s->host = get_be64(entry) & QW_OFFSET_MASK;
		r = iw_pread_all(w->fd, s->table, w->cluster_size, s->host);
		if (r < 0)
			return r;
		s->dirty = false;
	} else {
		r = alloc_cluster(w, &s->host);
		if (r < 0)
			return r;
		put_be64(entry, s->host | QW_OFLAG_COPIED);
		r = iw_pwrite_all(w->fd, entry, sizeof(entry),
			      w->l1_offset + 8 * l1_index);
		if (r < 0)
			return r;
		w->l1_present[l1_index / 8] |= (uint8_t)(1u << (l1_index % 8));
		memset(s->table, 0, w->cluster_size);
		s->dirty = true;
	}
	s->l1_index = l1_index;
	s->valid = true;
	*ret = s;
	return 0;
}

/* Host offset of guest cluster g, allocated if new. Lock held. */
static int cluster_host(struct qcow2_writer *w, uint64_t g, uint64_t *ret)
{
	uint64_t l2_index = g % w->l2_entries, host;
	struct l2_slot *s;
	uint8_t *e;
	int r;

	r = get_l2(w, g / w->l2_entries, &s);
	if (r < 0)
		return r;
	e = s->table + 8 * l2_index;
	host = get_be64(e) & QW_OFFSET_MASK;
	if (host == 0) {
		r = alloc_cluster(w, &host);
		if (r < 0)
			return r;
		put_be64(e, host | QW_OFLAG_COPIED);
		s->dirty = true;
	}
	*ret = host;
	return 0;
}

/*
 * The sink: map the run's clusters under the lock, extending a segment
 * while their host clusters are contiguous (fresh allocations are), then
 * write the segment's data outside the lock.
 */
static int qw_sink_write(struct iw_sink *sink, const void *buf, size_t len,
			 uint64_t guest_offset)
{
	struct qcow2_writer *w = (struct qcow2_writer *)(void *)
		((uint8_t *)sink - offsetof(struct qcow2_writer, sink));
	const uint8_t *p = buf;
	uint64_t mask = w->cluster_size - 1;

	if (!range_ok(guest_offset, len, w->size))
		return -EINVAL;
	while (len > 0) {
		uint64_t host = 0, next_host, seg;
		int r;

		pthread_mutex_lock(&w->lock);
		r = w->error;
		if (r == 0)
			r = cluster_host(w, guest_offset >> w->cluster_bits,
					 &host);
		host += guest_offset & mask;
		seg = MIN((uint64_t)len, w->cluster_size - (guest_offset & mask));
		while (r == 0 && seg < len) {
			r = cluster_host(w, (guest_offset + seg) >> w->cluster_bits,
					 &next_host);
			if (r < 0 || next_host != host + seg)
				break; /* found again by the next round */
			seg += MIN((uint64_t)len - seg, (uint64_t)w->cluster_size);
		}
		if (r < 0 && w->error == 0)
			w->error = r;
		pthread_mutex_unlock(&w->lock);
		if (r < 0)
			return r;

		r = iw_pwrite_all(w->fd, p, seg, host);
		if (r < 0)
			return r;
		p += seg;
		len -= seg;
		guest_offset += seg;
	}
	return 0;
}

int qcow2_writer_new(int fd, uint64_t virtual_size, uint32_t cluster_size,
		     struct qcow2_writer **ret)
{
	struct qcow2_writer *w;
	uint64_t size, l2_coverage, l1_size;
	unsigned bits;

	if (!is_power_of_2(cluster_size))
		return -EINVAL;
	bits = (unsigned)__builtin_ctz(cluster_size);
	if (bits < QW_MIN_CLUSTER_BITS || bits > QW_MAX_CLUSTER_BITS)
		return -EINVAL;
	/* qemu reads header.size / 512 sectors: round up so the last
	 * partial sector is part of the disk, as qemu-img convert does */
	if (ADD_OVERFLOW(virtual_size, UINT64_C(511), &size))
		return -EFBIG;
	size &= ~UINT64_C(511);
	l2_coverage = (uint64_t)cluster_size / 8 * cluster_size;
	l1_size = div_round_up(size, l2_coverage);
	if (l1_size > QW_MAX_L1_BYTES / 8)
		return -EFBIG;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	w->sink.write = qw_sink_write;
	w->fd = fd;
	w->size = size;
	w->cluster_size = cluster_size;
	w->cluster_bits = bits;
	w->l2_entries = cluster_size / 8;
	w->l1_size = l1_size;
	w->l1_offset = cluster_size; /* right after the header cluster */
	w->l1_clusters = div_round_up(l1_size * 8, cluster_size);
	w->next_free = (1 + w->l1_clusters) * cluster_size;
	/* no more slots than tables, at least one */
	w->n_slots = MAX(QCOW2_WRITER_L2_CACHE / cluster_size, 2u);
	if (w->n_slots > l1_size)
		w->n_slots = l1_size ? (size_t)l1_size : 1;
	w->slots = calloc(w->n_slots, sizeof(*w->slots));
	w->l1_present = calloc(div_round_up(l1_size, 8) + 1, 1);
	if (!w->slots || !w->l1_present) {
		qcow2_writer_free(w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

int qcow2_writer_set_l2_cache(struct qcow2_writer *w, size_t tables)
{
	struct l2_slot *slots;

	if (tables == 0)
		return -EINVAL;
	if (w->next_free != (1 + w->l1_clusters) * w->cluster_size)
		return -EBUSY; /* something was written already */
	slots = calloc(tables, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < w->n_slots; i++)
		free(w->slots[i].table);
	free(w->slots);
	w->slots = slots;
	w->n_slots = tables;
	return 0;
}

struct iw_sink *qcow2_writer_sink(struct qcow2_writer *w)
{
	return &w->sink;
}

/* The header cluster's bytes (docs/interop/qcow2.txt, "Header"). */
static void build_header(const struct qcow2_writer *w, uint8_t *h,
			 uint64_t reftable_offset, uint64_t reftable_clusters)
{
	/* qemu's feature name table, in qemu's order: type (0 incompatible,
	 * 1 compatible, 2 autoclear), bit number, name */
	static const struct {
		uint8_t type, bit;
		const char *name;
	} features[] = {
		{ 0, 0, "dirty bit" },
		{ 0, 1, "corrupt bit" },
		{ 0, 2, "external data file" },
		{ 0, 3, "compression type" },
		{ 0, 4, "extended L2 entries" },
		{ 1, 0, "lazy refcounts" },
		{ 2, 0, "bitmaps" },
		{ 2, 1, "raw external data" },
	};
	size_t pos = QW_HEADER_LENGTH;

	memset(h, 0, w->cluster_size);
	put_be32(h + 0, QW_MAGIC);
	put_be32(h + 4, QW_VERSION);
	/* 8: backing_file_offset, 16: backing_file_size: none */
	put_be32(h + 20, w->cluster_bits);
	put_be64(h + 24, w->size);
	/* 32: crypt_method none */
	put_be32(h + 36, (uint32_t)w->l1_size);
	put_be64(h + 40, w->l1_offset);
	put_be64(h + 48, reftable_offset);
	put_be32(h + 56, (uint32_t)reftable_clusters);
	/* 60: nb_snapshots, 64: snapshots_offset, 72: incompatible,
	 * 80: compatible, 88: autoclear features: all zero */
	put_be32(h + 96, QW_REFCOUNT_ORDER);
	put_be32(h + 100, QW_HEADER_LENGTH);
	/* 104: compression_type zlib (0), then padding */

	if (w->cluster_size > QW_FEATURE_TABLE_MIN_CLUSTER) {
		size_t len = ARRAY_SIZE(features) * (2 + QW_FEATURE_NAME_LEN);

		put_be32(h + pos, QW_EXT_FEATURE_TABLE);
		put_be32(h + pos + 4, (uint32_t)len);
		pos += 8;
		for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
			h[pos] = features[i].type;
			h[pos + 1] = features[i].bit;
			memcpy(h + pos + 2, features[i].name,
			       strlen(features[i].name));
			pos += 2 + QW_FEATURE_NAME_LEN;
		}
		/* len is a multiple of 8: no padding */
	}
	/* end of extensions: magic 0, length 0 (already zero) */
}

int qcow2_writer_finish(struct qcow2_writer *w)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t n, total, refblocks = 0, reftable_clusters = 0, per_block;
	uint64_t reftable_offset;
	int r;

	pthread_mutex_lock(&w->lock);
	r = w->error;
	for (size_t i = 0; r == 0 && i < w->n_slots; i++)
		r = slot_write_back(w, &w->slots[i]);
	if (r < 0 && w->error == 0)
		w->error = r;
	pthread_mutex_unlock(&w->lock);
	if (r < 0)
		return r;

	buf = malloc(w->cluster_size);
	if (!buf)
		return -ENOMEM;

	/*
	 * Refcount blocks and table go after everything else; they count
	 * themselves, so grow them until they cover the whole file
	 * (qcow2.txt, "Host cluster management"). Every cluster is used
	 * exactly once: refcount 1 from cluster 0 to the end.
	 */
	n = w->next_free >> w->cluster_bits;
	per_block = w->cluster_size / 2; /* 16-bit entries */
	for (;;) {
		uint64_t rb, rt;

		total = n + refblocks + reftable_clusters;
		rb = div_round_up(total, per_block);
		rt = div_round_up(rb * 8, w->cluster_size);
		if (rb == refblocks && rt == reftable_clusters)
			break;
		refblocks = rb;
		reftable_clusters = rt;
	}
	if (reftable_clusters * w->cluster_size > QW_MAX_REFTABLE_BYTES ||
	    total > QW_MAX_HOST_OFFSET >> w->cluster_bits)
		return -EFBIG;

	for (uint64_t i = 0; i < refblocks; i++) {
		uint64_t first = i * per_block;
		uint64_t used = MIN(per_block, total - first);

		memset(buf, 0, w->cluster_size);
		for (uint64_t j = 0; j < used; j++)
			qw_put_be16(buf + 2 * j, 1);
		r = iw_pwrite_all(w->fd, buf, w->cluster_size,
			      (n + i) << w->cluster_bits);
		if (r < 0)
			return r;
	}
	reftable_offset = (n + refblocks) << w->cluster_bits;
	for (uint64_t c = 0; c < reftable_clusters; c++) {
		uint64_t first = c * w->l2_entries;

		memset(buf, 0, w->cluster_size);
		for (uint64_t j = 0; j < w->l2_entries && first + j < refblocks;
		     j++)
			put_be64(buf + 8 * j, (n + first + j) << w->cluster_bits);
		r = iw_pwrite_all(w->fd, buf, w->cluster_size,
			      reftable_offset + (c << w->cluster_bits));
		if (r < 0)
			return r;
	}

	/* the header last: until then the file is no valid image */
	build_header(w, buf, reftable_offset, reftable_clusters);
	r = iw_pwrite_all(w->fd, buf, w->cluster_size, 0);
	if (r < 0)
		return r;
	w->file_size = total << w->cluster_bits;
	if (ftruncate(w->fd, (off_t)w->file_size) < 0)
		return -errno;
	return 0;
}

uint64_t qcow2_writer_file_size(const struct qcow2_writer *w)
{
	return w->file_size;
}

void qcow2_writer_free(struct qcow2_writer *w)
{
	if (!w)
		return;
	if (w->slots)
		for (size_t i = 0; i < w->n_slots; i++)
			free(w->slots[i].table);
	free(w->slots);
	pthread_mutex_destroy(&w->lock);
	free(w->l1_present);
	free(w);
}
