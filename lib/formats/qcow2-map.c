/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 block map (versions 2 and 3): guest offset -> L1 entry -> L2 entry
 * -> host cluster, compressed cluster, or zeros.
 *
 * Layout: qemu's docs/interop/qcow2.txt ("Cluster mapping", "Extended L2
 * Entries", "Compressed Clusters Descriptor"). What a read returns for each
 * kind of entry is qemu 7.2's block/qcow2-cluster.c qcow2_get_host_offset()
 * and qcow2.h qcow2_get_subcluster_type(): we must agree with qemu-img
 * convert byte for byte, so where qemu reads zeros (unallocated clusters
 * without a backing file, zero flags, bytes past the end of the file in
 * a semi-allocated last cluster) we return zeros, and where qemu fails
 * the read (unaligned L2 or data offsets, zero clusters in a v2 image,
 * invalid subcluster bitmaps) we fail with a finding.
 *
 * Memory is bounded whatever the image: the L1 table (up to 32 MiB) is
 * read in windows of QCOW2_MAP_L1_WINDOW entries, L2 tables one at a time
 * into a cache of at most QCOW2_MAP_L2_CACHE_BYTES, and the record of
 * metadata clusters used for overlap checks holds at most
 * QCOW2_MAP_MAX_META offsets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "map.h"
#include "qcow2.h"

/* qcow2.txt "Compressed Clusters Descriptor": sizes count 512-byte
 * sectors (QCOW2_COMPRESSED_SECTOR_SIZE) */
#define QCOW2_MAP_SECTOR 512u
/* qcow2.txt "Cluster mapping": L2 entry bits */
#define QCOW2_L2E_COPIED (UINT64_C(1) << 63)
#define QCOW2_L2E_COMPRESSED (UINT64_C(1) << 62)
#define QCOW2_L2E_ZERO (UINT64_C(1) << 0)
#define QCOW2_L2E_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
/* "Extended L2 Entries": 32 subclusters, allocation bits 0-31, reads-as-
 * zero bits 32-63 of the bitmap */
#define QCOW2_SUBCLUSTERS 32u
#define QCOW2_SC_ALL_ALLOC UINT64_C(0x00000000ffffffff)

/* L1 entries read at a time: 32 KiB, whatever l1_size (up to 4 Mi). */
#define QCOW2_MAP_L1_WINDOW 4096u
/* L2 tables cached: the engine walks the disk in order, so one table is
 * what it needs; a few absorb the back-and-forth of chunk boundaries. A
 * table is one cluster (up to 2 MiB), so the count is what fits in this
 * budget, at least 1 and at most QCOW2_MAP_L2_SLOTS. */
#define QCOW2_MAP_L2_CACHE_BYTES (4 * MiB)
#define QCOW2_MAP_L2_SLOTS 4u
/* Metadata clusters (L2 tables and refcount blocks) remembered for the
 * overlap checks: 2 MiB of offsets. With 512-byte clusters that is every
 * L2 table of an 8 GiB disk; with 64 KiB clusters, of 128 TiB. Past it
 * the rest are still validated, only not remembered. */
#define QCOW2_MAP_MAX_META (256u * 1024u)

struct qcow2_l2_slot {
	uint64_t off;	/* host offset of the table, 0: empty */
	uint64_t stamp; /* LRU */
	uint8_t *buf;	/* one cluster */
};

struct qcow2_map {
	struct iw_map m;
	struct qcow2_header h;
	uint64_t file_size;
	uint64_t cs;	     /* cluster size */
	unsigned l1_shift;   /* log2 of the guest bytes one L2 table maps */
	uint64_t l2_entries; /* per table */
	unsigned sc_bits;    /* log2 of the subcluster size */
	enum iw_codec codec;
	unsigned csize_shift; /* compressed descriptor: x = 62 - (bits - 8) */
	uint64_t csize_mask;
	uint64_t coffset_mask;
	uint64_t max_csize; /* largest compressed length we accept */

	/* the L1 window: entries [l1_win_start, l1_win_start + l1_win_n) */
	uint8_t *l1_win;
	uint64_t l1_win_start;
	uint32_t l1_win_n;

	struct qcow2_l2_slot l2[QCOW2_MAP_L2_SLOTS];
	unsigned n_l2;
	uint64_t clock;

	/* sorted, unique host offsets of L2 tables and refcount blocks */
	uint64_t *meta;
	size_t n_meta;
};

/* What one (sub)cluster run reads as. */
struct qcow2_piece {
	enum iw_extent_type type;
	uint64_t len;	      /* bytes from the asked position, same kind */
	uint64_t host;	      /* DATA: file offset of the asked position */
	uint64_t coffset;     /* COMPRESSED */
	uint64_t comp_length; /* COMPRESSED */
};

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	/* both ranges were checked not to wrap */
	return alen && blen && a < b + blen && b < a + alen;
}

static bool meta_contains(const struct qcow2_map *m, uint64_t off)
{
	size_t lo = 0, hi = m->n_meta;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->meta[mid] == off)
			return true;
		if (m->meta[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Which fixed metadata range [off, off+len) overlaps, or NULL: the header
 * cluster, the L1 table, the refcount table, the bitmap directory (all
 * validated against the file by qcow2_parse_header). */
static const char *qcow2_fixed_overlap(const struct qcow2_map *m, uint64_t off,
				       uint64_t len)
{
	const struct qcow2_header *h = &m->h;

	if (ranges_overlap(off, len, 0, m->cs))
		return "the header cluster";
	if (ranges_overlap(off, len, h->l1_table_offset,
			   (uint64_t)h->l1_size * 8))
		return "the L1 table";
	if (ranges_overlap(off, len, h->refcount_table_offset,
			   (uint64_t)h->refcount_table_clusters * m->cs))
		return "the refcount table";
	if (h->has_bitmaps &&
	    ranges_overlap(off, len, h->bitmap_directory_offset,
			   h->bitmap_directory_size))
		return "the bitmap directory";
	return NULL;
}

/* Any metadata in [off, off+len): the fixed ranges, then every cluster of
 * the range against the recorded L2 tables and refcount blocks (len is at
 * most a cluster plus a sector, so at most three clusters). */
static const char *qcow2_meta_overlap(const struct qcow2_map *m, uint64_t off,
				      uint64_t len)
{
	const char *what = qcow2_fixed_overlap(m, off, len);

	if (what || len == 0)
		return what;
	for (uint64_t c = off & ~(m->cs - 1); c < off + len; c += m->cs)
		if (meta_contains(m, c))
			return "an L2 table or refcount block";
	return NULL;
}

/* An L2 table offset from L1 entry index: 0 (unallocated) or a cluster
 * that lies inside the file and overlaps no fixed metadata. qemu fails
 * the read on an unaligned one (qcow2_get_host_offset). */
static int qcow2_check_l2_offset(struct qcow2_map *m, uint64_t index,
				 uint64_t l2_off)
{
	const char *what;

	if (l2_off == 0)
		return 0;
	if (l2_off & (m->cs - 1)) {
		iw_finding(m->m.report, IW_F_ENTRY_OUT_OF_RANGE,
			   "L1 entry %" PRIu64 ": L2 table offset %#" PRIx64
			   " is not cluster aligned",
			   index, l2_off);
		return -EINVAL;
	}
	if (!range_ok(l2_off, m->cs, m->file_size)) {
		iw_finding(m->m.report, IW_F_ENTRY_OUT_OF_RANGE,
			   "L1 entry %" PRIu64 ": L2 table at %#" PRIx64
			   " is past the end of the file (%" PRIu64 " bytes)",
			   index, l2_off, m->file_size);
		return -EINVAL;
	}
	what = qcow2_fixed_overlap(m, l2_off, m->cs);
	if (what) {
		iw_finding(m->m.report, IW_F_TABLE_OVERLAP,
			   "L1 entry %" PRIu64 ": L2 table at %#" PRIx64
			   " overlaps %s",
			   index, l2_off, what);
		return -EINVAL;
	}
	return 0;
}

/* The validated L2 table offset of L1 entry index (< l1_size), through
 * the window. */
static int qcow2_l1_entry(struct qcow2_map *m, uint64_t index,
			  uint64_t *ret_off)
{
	int ret;

	if (index < m->l1_win_start ||
	    index - m->l1_win_start >= m->l1_win_n) {
		uint64_t start = index - index % QCOW2_MAP_L1_WINDOW;
		uint32_t n = (uint32_t)MIN((uint64_t)QCOW2_MAP_L1_WINDOW,
					   m->h.l1_size - start);

		m->l1_win_n = 0;
		ret = iw_read_struct(m->m.view, m->m.report, m->l1_win,
				     (size_t)n * 8,
				     m->h.l1_table_offset + start * 8,
				     "L1 table");
		if (ret < 0)
			return ret == -ERANGE || ret == -E2BIG ? -EINVAL : ret;
		m->l1_win_start = start;
		m->l1_win_n = n;
	}
	*ret_off = get_be64(m->l1_win + (index - m->l1_win_start) * 8) &
		   QCOW2_L1E_OFFSET_MASK;
	return qcow2_check_l2_offset(m, index, *ret_off);
}

/* The L2 table at l2_off (validated), from the cache or read into the
 * least recently used slot. */
static int qcow2_l2_table(struct qcow2_map *m, uint64_t l2_off,
			  const uint8_t **ret_table)
{
	struct qcow2_l2_slot *s = &m->l2[0];
	int ret;

	for (unsigned i = 0; i < m->n_l2; i++) {
		if (m->l2[i].off == l2_off) {
			m->l2[i].stamp = ++m->clock;
			*ret_table = m->l2[i].buf;
			return 0;
		}
		if (m->l2[i].stamp < s->stamp)
			s = &m->l2[i];
	}
	s->off = 0;
	ret = iw_read_struct(m->m.view, m->m.report, s->buf, (size_t)m->cs,
			     l2_off, "L2 table");
	if (ret < 0)
		return ret == -ERANGE || ret == -E2BIG ? -EINVAL : ret;
	s->off = l2_off;
	s->stamp = ++m->clock;
	*ret_table = s->buf;
	return 0;
}

/* A host cluster used for data (or an allocated zero cluster): aligned
 * (qemu fails the read otherwise), starting inside the file (the last
 * cluster of an image may be "semi-allocated", as qemu's check puts it:
 * the bytes past the end read as zeros), and not metadata. */
static int qcow2_check_host_cluster(struct qcow2_map *m, uint64_t guest,
				    uint64_t host)
{
	const char *what;

	if (host & (m->cs - 1)) {
		iw_finding(m->m.report, IW_F_ENTRY_OUT_OF_RANGE,
			   "guest offset %" PRIu64 ": data cluster offset %#" PRIx64
			   " is not cluster aligned",
			   guest, host);
		return -EINVAL;
	}
	if (host >= m->file_size) {
		iw_finding(m->m.report, IW_F_ENTRY_OUT_OF_RANGE,
			   "guest offset %" PRIu64 ": data cluster at %#" PRIx64
			   " is past the end of the file (%" PRIu64 " bytes)",
			   guest, host, m->file_size);
		return -EINVAL;
	}
	what = qcow2_meta_overlap(m, host, MIN(m->cs, m->file_size - host));
	if (what) {
		iw_finding(m->m.report, IW_F_TABLE_OVERLAP,
			   "guest offset %" PRIu64 ": data cluster at %#" PRIx64
			   " overlaps %s",
			   guest, host, what);
		return -EINVAL;
	}
	return 0;
}

/* qcow2.txt "Compressed Clusters Descriptor" and qemu's
 * qcow2_parse_compressed_l2_entry(): the host offset is in bits 0..x-1,
 * the count of additional sectors in bits x..61, and the length runs
 * from the offset to the end of the last sector. */
static int qcow2_compressed(struct qcow2_map *m, uint64_t guest,
			    uint64_t entry, struct qcow2_piece *p)
{
	uint64_t coffset = entry & m->coffset_mask;
	uint64_t sectors = ((entry >> m->csize_shift) & m->csize_mask) + 1;
	uint64_t csize = sectors * QCOW2_MAP_SECTOR -
			 (coffset & (QCOW2_MAP_SECTOR - 1));
	const char *what;

	/* qemu's writer stores a cluster compressed only when the stream is
	 * shorter than the cluster, so it spans at most cluster/512 + 1
	 * sectors; more is a descriptor no qemu wrote */
	if (csize > m->max_csize) {
		iw_finding(m->m.report, IW_F_BAD_FIELD,
			   "guest offset %" PRIu64 ": compressed cluster at %#" PRIx64
			   " claims %" PRIu64 " bytes (a %" PRIu64
			   "-byte cluster needs at most %" PRIu64 ")",
			   guest, coffset, csize, m->cs, m->max_csize);
		return -EINVAL;
	}
	if (coffset >= m->file_size) {
		iw_finding(m->m.report, IW_F_ENTRY_OUT_OF_RANGE,
			   "guest offset %" PRIu64 ": compressed cluster at %#" PRIx64
			   " is past the end of the file (%" PRIu64 " bytes)",
			   guest, coffset, m->file_size);
		return -EINVAL;
	}
	/* the last sector may run past the end of the file: qemu reads
	 * zeros there, and the stream ends before them */
	csize = MIN(csize, m->file_size - coffset);
	what = qcow2_meta_overlap(m, coffset, csize);
	if (what) {
		iw_finding(m->m.report, IW_F_TABLE_OVERLAP,
			   "guest offset %" PRIu64 ": compressed cluster at %#" PRIx64
			   " (%" PRIu64 " bytes) overlaps %s",
			   guest, coffset, csize, what);
		return -EINVAL;
	}
	p->type = IW_EXTENT_COMPRESSED;
	p->coffset = coffset;
	p->comp_length = csize;
	return 0;
}

/* Kind of subcluster sc of an extended L2 entry whose cluster is
 * allocated (qcow2_get_subcluster_type, QCOW2_CLUSTER_NORMAL). */
static enum iw_extent_type qcow2_sc_type(uint64_t bitmap, unsigned sc)
{
	if (bitmap & (UINT64_C(1) << (sc + 32)))
		return IW_EXTENT_ZERO; /* ZERO_ALLOC */
	if (bitmap & (UINT64_C(1) << sc))
		return IW_EXTENT_DATA; /* NORMAL */
	return IW_EXTENT_ZERO;	       /* UNALLOCATED_ALLOC: no backing file */
}

/* What guest offset `guest` (in_cluster bytes into its cluster, whose L2
 * entry is index idx of table t) reads as, and for how long within the
 * cluster. */
static int qcow2_classify(struct qcow2_map *m, const uint8_t *t, uint64_t idx,
			  uint64_t guest, uint64_t in_cluster,
			  struct qcow2_piece *p)
{
	uint64_t entry, bitmap = 0, host;
	int ret;

	*p = (struct qcow2_piece){ .type = IW_EXTENT_ZERO,
				   .len = m->cs - in_cluster };
	if (m->h.extended_l2) {
		entry = get_be64(t + idx * 16);
		bitmap = get_be64(t + idx * 16 + 8);
	} else {
		entry = get_be64(t + idx * 8);
	}

	if (entry & QCOW2_L2E_COMPRESSED)
		return qcow2_compressed(m, guest, entry, p);

	host = entry & QCOW2_L2E_OFFSET_MASK;
	if (!m->h.extended_l2) {
		if (entry & QCOW2_L2E_ZERO) {
			/* qemu: "Zero cluster entry found in pre-v3 image" */
			if (m->h.version < 3) {
				iw_finding(m->m.report, IW_F_BAD_FIELD,
					   "guest offset %" PRIu64
					   ": zero cluster in a version 2 image",
					   guest);
				return -EINVAL;
			}
			/* ZERO_ALLOC: qemu still checks the offset */
			return host ? qcow2_check_host_cluster(m, guest, host)
				    : 0;
		}
		if (!host)
			return 0; /* unallocated, no backing file */
		ret = qcow2_check_host_cluster(m, guest, host);
		if (ret < 0)
			return ret;
		p->type = IW_EXTENT_DATA;
		p->host = host + in_cluster;
	} else {
		unsigned sc = (unsigned)(in_cluster >> m->sc_bits), end;
		enum iw_extent_type type;

		/* qcow2_get_subcluster_type: QCOW2_SUBCLUSTER_INVALID, for
		 * the whole entry whichever subcluster is asked */
		if ((!host && (bitmap & QCOW2_SC_ALL_ALLOC)) ||
		    (host && ((bitmap >> 32) & bitmap))) {
			iw_finding(m->m.report, IW_F_BAD_FIELD,
				   "guest offset %" PRIu64
				   ": invalid extended L2 entry (entry %#" PRIx64
				   ", bitmap %#" PRIx64 ")",
				   guest, entry, bitmap);
			return -EINVAL;
		}
		if (!host)
			return 0; /* ZERO_PLAIN or UNALLOCATED_PLAIN */
		ret = qcow2_check_host_cluster(m, guest, host);
		if (ret < 0)
			return ret;
		type = qcow2_sc_type(bitmap, sc);
		for (end = sc + 1; end < QCOW2_SUBCLUSTERS; end++)
			if (qcow2_sc_type(bitmap, end) != type)
				break;
		p->type = type;
		p->len = ((uint64_t)end << m->sc_bits) - in_cluster;
		p->host = host + in_cluster;
	}

	/* a semi-allocated last cluster: what lies past the end of the file
	 * reads as zeros (qemu's block layer pads short reads at EOF) */
	if (p->type == IW_EXTENT_DATA) {
		if (p->host >= m->file_size)
			p->type = IW_EXTENT_ZERO;
		else
			p->len = MIN(p->len, m->file_size - p->host);
	}
	return 0;
}

static int qcow2_next(struct iw_map *mm, uint64_t offset, uint64_t max_length,
		      struct iw_extent *ret)
{
	struct qcow2_map *m = (struct qcow2_map *)mm;
	uint64_t limit, l1_index, span_end, l2_off, idx, in_cluster;
	const uint8_t *t;
	struct qcow2_piece p;
	int r;

	if (offset >= mm->virtual_size || max_length == 0)
		return -EINVAL;
	limit = MIN(max_length, mm->virtual_size - offset);
	/* virtual_size < 2^63 and one table maps at most 2^39 bytes: no
	 * wrap */
	l1_index = offset >> m->l1_shift;
	span_end = (l1_index + 1) << m->l1_shift;
	limit = MIN(limit, span_end - offset);

	*ret = (struct iw_extent){ .offset = offset,
				   .length = limit,
				   .type = IW_EXTENT_ZERO };
	/* qcow2_get_host_offset: past l1_size is unallocated (the header
	 * parser makes l1_size cover the disk, but do not rely on it) */
	if (l1_index >= m->h.l1_size)
		return 0;
	r = qcow2_l1_entry(m, l1_index, &l2_off);
	if (r < 0)
		return r;
	if (!l2_off)
		return 0;
	r = qcow2_l2_table(m, l2_off, &t);
	if (r < 0)
		return r;

	idx = (offset >> m->h.cluster_bits) & (m->l2_entries - 1);
	in_cluster = offset & (m->cs - 1);
	r = qcow2_classify(m, t, idx, offset, in_cluster, &p);
	if (r < 0)
		return r;
	ret->type = p.type;
	ret->length = MIN(p.len, limit);
	if (p.type == IW_EXTENT_COMPRESSED) {
		/* one unit per extent: a whole cluster, padded with zeros by
		 * qemu's writer when it is the disk's last */
		ret->host_offset = p.coffset;
		ret->comp_length = p.comp_length;
		ret->unit_size = (uint32_t)m->cs;
		ret->unit_skip = (uint32_t)in_cluster;
		ret->codec = m->codec;
		return 0;
	}
	ret->host_offset = p.type == IW_EXTENT_DATA ? p.host : 0;

	/* extend over the following clusters of the same table while they
	 * read the same way (and, for data, continue on the host); bounded
	 * by limit, which ends inside this table */
	while (ret->length < limit &&
	       ((offset + ret->length) & (m->cs - 1)) == 0) {
		uint64_t pos = offset + ret->length;

		idx++;
		r = qcow2_classify(m, t, idx, pos, 0, &p);
		if (r < 0)
			return r;
		if (p.type != ret->type)
			break;
		if (p.type == IW_EXTENT_DATA &&
		    p.host != ret->host_offset + ret->length)
			break;
		ret->length += MIN(p.len, limit - ret->length);
	}
	return 0;
}

static void qcow2_map_free(struct iw_map *mm)
{
	struct qcow2_map *m = (struct qcow2_map *)mm;

	for (unsigned i = 0; i < QCOW2_MAP_L2_SLOTS; i++)
		free(m->l2[i].buf);
	free(m->l1_win);
	free(m->meta);
	free(m);
}

static const struct iw_map_ops qcow2_map_ops = {
	.next = qcow2_next,
	.free = qcow2_map_free,
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void meta_add(struct qcow2_map *m, uint64_t off)
{
	if (m->n_meta < QCOW2_MAP_MAX_META)
		m->meta[m->n_meta++] = off;
}

/* Sort the record and drop duplicates (two L1 entries may share an L2
 * table; that only matters to refcounts). */
static void meta_sort(struct qcow2_map *m)
{
	size_t n = 0;

	qsort(m->meta, m->n_meta, sizeof(*m->meta), cmp_u64);
	for (size_t i = 0; i < m->n_meta; i++)
		if (n == 0 || m->meta[n - 1] != m->meta[i])
			m->meta[n++] = m->meta[i];
	m->n_meta = n;
}

/* Before mapping anything: validate every L1 entry (so a broken table
 * fails before any output), record the L2 tables, then the refcount
 * blocks, and refuse an L2 table that is also a refcount block. */
static int qcow2_scan_metadata(struct qcow2_map *m)
{
	const struct qcow2_header *h = &m->h;
	uint64_t n_reft = (uint64_t)h->refcount_table_clusters * m->cs / 8;
	size_t n_l2;
	int ret;

	/* bounded: l1_size <= 4 Mi (QCOW2_MAX_L1_BYTES / 8) */
	for (uint64_t i = 0; i < h->l1_size; i++) {
		uint64_t l2_off;

		ret = qcow2_l1_entry(m, i, &l2_off);
		if (ret < 0)
			return ret;
		if (l2_off)
			meta_add(m, l2_off);
	}
	meta_sort(m);
	n_l2 = m->n_meta;

	/* bounded: the refcount table is at most 8 MiB; read in windows
	 * through the L1 window buffer, which is reloaded on demand */
	for (uint64_t i = 0; i < n_reft; i += QCOW2_MAP_L1_WINDOW) {
		uint64_t n = MIN((uint64_t)QCOW2_MAP_L1_WINDOW, n_reft - i);

		m->l1_win_n = 0;
		ret = iw_read_struct(m->m.view, m->m.report, m->l1_win,
				     (size_t)n * 8,
				     h->refcount_table_offset + i * 8,
				     "refcount table");
		if (ret < 0)
			return ret == -ERANGE || ret == -E2BIG ? -EINVAL : ret;
		for (uint64_t k = 0; k < n; k++) {
			uint64_t off = get_be64(m->l1_win + k * 8) &
				       QCOW2_REFT_OFFSET_MASK;
			size_t lo = 0, hi = n_l2;

			/* refcounts are not used to read; blocks the
			 * sniffer calls out of range are only not recorded */
			if (!off || (off & (m->cs - 1)) ||
			    !range_ok(off, m->cs, m->file_size))
				continue;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (m->meta[mid] == off)
					break;
				if (m->meta[mid] < off)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < hi) {
				iw_finding(m->m.report, IW_F_TABLE_OVERLAP,
					   "refcount table entry %" PRIu64
					   ": refcount block at %#" PRIx64
					   " is also an L2 table",
					   i + k, off);
				return -EINVAL;
			}
			meta_add(m, off);
		}
	}
	meta_sort(m);
	return 0;
}

/* has the report a finding with this code already (from the parser)? */
static bool qcow2_has_finding(const struct iw_report *r, enum iw_code code)
{
	const char *name = iw_code_name(code);
	size_t n = r->findings ? json_object_array_length(r->findings) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(r->findings, i), *c;

		if (json_object_object_get_ex(f, "code", &c) &&
		    strcmp(json_object_get_string(c), name) == 0)
			return true;
	}
	return false;
}

/* Findings the parser may already have made: add ours only if not. */
static void qcow2_refuse(struct iw_report *r, enum iw_code code,
			 const char *detail)
{
	if (!qcow2_has_finding(r, code))
		iw_finding(r, code, "%s", detail);
}

/* What the converter must not handle, even in a well-formed image:
 * -EPROTONOSUPPORT for features we refuse, -EINVAL for a corrupt image. */
static int qcow2_map_refusals(const struct qcow2_header *h,
			      struct iw_report *r)
{
	int ret = 0;

	if (h->backing_file_offset != 0 && h->backing_file_size != 0) {
		/* an empty name is no backing file to qemu */
		qcow2_refuse(r, IW_F_BACKING_FILE,
			     "the image has a backing file: never followed");
		ret = -EPROTONOSUPPORT;
	}
	if ((h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE) ||
	    h->has_data_file_name) {
		qcow2_refuse(r, IW_F_DATA_FILE,
			     "the image keeps its data in an external file");
		ret = -EPROTONOSUPPORT;
	}
	if (h->crypt_method != QCOW2_CRYPT_NONE) {
		qcow2_refuse(r, IW_F_ENCRYPTED, "the image is encrypted");
		ret = -EPROTONOSUPPORT;
	}
	if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT) {
		qcow2_refuse(r, IW_F_CORRUPT_FLAG,
			     "the image marks itself as corrupt");
		if (!ret)
			ret = -EINVAL;
	}
	return ret;
}

int iw_map_open_qcow2(const struct iw_view *v, struct iw_report *r,
		      struct iw_map **ret)
{
	struct qcow2_map *m;
	unsigned slots;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->m = (struct iw_map){ .ops = &qcow2_map_ops, .view = v, .report = r };

	err = qcow2_parse_header(v, &m->h, r);
	if (err == -ENOTSUP) {
		/* version or unknown incompatible features: reported */
		err = -EPROTONOSUPPORT;
		goto fail;
	}
	if (err < 0)
		goto fail;
	err = qcow2_map_refusals(&m->h, r);
	if (err < 0)
		goto fail;
	/* the parser returns 0 only with these; check what we rely on */
	if (!m->h.l1_ok || !m->h.refcount_table_ok ||
	    m->h.cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    m->h.cluster_bits > QCOW2_MAX_CLUSTER_BITS ||
	    m->h.l2_bits + m->h.cluster_bits > 40 ||
	    m->h.compression_type > QCOW2_COMPRESSION_ZSTD ||
	    (m->h.extended_l2 && m->h.cluster_bits < 14)) {
		iw_finding(r, IW_F_BAD_FIELD, "qcow2 header not usable");
		err = -EINVAL;
		goto fail;
	}

	m->file_size = v->size;
	m->cs = m->h.cluster_size;
	m->l1_shift = m->h.cluster_bits + m->h.l2_bits;
	m->l2_entries = UINT64_C(1) << m->h.l2_bits;
	m->sc_bits = m->h.cluster_bits - (m->h.extended_l2 ? 5 : 0);
	m->codec = m->h.compression_type == QCOW2_COMPRESSION_ZSTD
			   ? IW_CODEC_ZSTD
			   : IW_CODEC_DEFLATE;
	m->csize_shift = 62 - (m->h.cluster_bits - 8);
	m->csize_mask = (UINT64_C(1) << (m->h.cluster_bits - 8)) - 1;
	m->coffset_mask = (UINT64_C(1) << m->csize_shift) - 1;
	m->max_csize = m->cs + QCOW2_MAP_SECTOR;

	/* qemu's disk is the header's size in whole sectors */
	m->m.virtual_size = m->h.size & ~(uint64_t)(QCOW2_MAP_SECTOR - 1);
	m->m.max_unit_size = (uint32_t)m->cs;
	m->m.max_comp_length = m->max_csize;

	slots = (unsigned)MIN((uint64_t)QCOW2_MAP_L2_SLOTS,
			      MAX(UINT64_C(1),
				  QCOW2_MAP_L2_CACHE_BYTES / m->cs));
	for (unsigned i = 0; i < slots; i++) {
		m->l2[i].buf = malloc((size_t)m->cs);
		if (!m->l2[i].buf) {
			err = -ENOMEM;
			goto fail;
		}
	}
	m->n_l2 = slots;
	m->l1_win = malloc(QCOW2_MAP_L1_WINDOW * 8);
	m->meta = malloc(sizeof(*m->meta) *
			 MIN((uint64_t)QCOW2_MAP_MAX_META,
			     (uint64_t)m->h.l1_size +
				     (uint64_t)m->h.refcount_table_clusters *
					     m->cs / 8 + 1));
	if (!m->l1_win || !m->meta) {
		err = -ENOMEM;
		goto fail;
	}
	err = qcow2_scan_metadata(m);
	if (err < 0)
		goto fail;
	*ret = &m->m;
	return 0;
fail:
	qcow2_map_free(&m->m);
	return err;
}
