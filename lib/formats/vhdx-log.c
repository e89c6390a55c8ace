/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHDX log replay in memory (see vhdx-log.h for the overlay).
 *
 * The log ([MS-VHDX] 2.3) is a circular buffer of 4 KiB sectors at
 * LogOffset, LogLength bytes long. An entry is a 64-byte header ("loge",
 * CRC-32C of the whole entry with its checksum field zeroed, length,
 * sequence number, LogGuid, FlushedFileOffset, LastFileOffset), then
 * descriptors of 32 bytes in the rest of the first sector and in as many
 * sectors as they need ("desc": one 4 KiB sector whose bytes 0-7 and
 * 4092-4095 the descriptor holds; "zero": a run of zeros), then one data
 * sector per data descriptor ("data", sequence high, bytes 8-4091,
 * sequence low). Entries may wrap around the end of the log.
 *
 * What qemu 7.2 does, which we follow (and where we refuse instead):
 *  - search (vhdx_log_search): start at log offset 0 with "no expected
 *    sequence"; an entry whose header is not valid (signature, length a
 *    multiple of 4 KiB and at most the log, sequence > 0, the header's
 *    LogGuid, descriptors fitting the length) or whose sequence number
 *    is not the expected one moves the search one sector on; a valid
 *    header whose descriptors are invalid (sequence, 4 KiB-aligned
 *    offset, zero length a multiple of 4 KiB, signature) fails the whole
 *    open - we refuse the image; a bad CRC moves past the entry. From each
 *    valid entry the sequence continues while entries follow with
 *    contiguous numbers, and the sequence whose first entry has the
 *    highest number is the active one. The scan ends when it wraps.
 *    qemu does not check the second entry's number (its expected number
 *    is still "none"): a sequence relying on that is refused, as is one
 *    followed by a newer valid entry, one whose last entry's Tail is not
 *    its first entry (qemu would replay part of a sequence), and one
 *    that fills the whole log (qemu's replay of it would find the log
 *    "empty" and fail).
 *  - replay (vhdx_log_flush): per entry, FlushedFileOffset above the
 *    file's current size fails (truncated file); descriptors are applied
 *    in order (a data sector whose sequence halves differ from the
 *    descriptor's fails), writes past the end grow the file, and when the
 *    size before the entry is below LastFileOffset and LastFileOffset is
 *    not a multiple of 1 MiB, the file is resized to it rounded up to
 *    1 MiB. We also refuse, where qemu would write blindly: targets in the
 *    1 MiB header section (headers, region tables) or in the log itself,
 *    targets past both the file's end and the entry's LastFileOffset,
 *    data sectors without "data", entries whose data sector count differs
 *    from their data descriptor count.
 */
#include "vhdx-log.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"

#define LOG_SECTOR 4096u
#define LOG_HDR_SIZE 64u
#define LOG_DESC_SIZE 32u
#define LOG_DESC_PER_SECTOR (LOG_SECTOR / LOG_DESC_SIZE)
/* a data sector's payload: bytes 8..4091 of the replayed sector */
#define LOG_DATA_LEAD 8u
#define LOG_DATA_TRAIL_AT 4092u
#define LOG_SIG_ENTRY 0x65676f6cu /* "loge" */
#define LOG_SIG_DESC 0x63736564u  /* "desc" */
#define LOG_SIG_ZERO 0x6f72657au  /* "zero" */
#define LOG_SIG_DATA 0x61746164u  /* "data" */
#define MiB (UINT64_C(1) << 20)

struct log_hdr {
	uint32_t signature, checksum, entry_length, tail;
	uint64_t sequence;
	uint32_t desc_count;
	uint8_t guid[16];
	uint64_t flushed_file_offset, last_file_offset;
};

/* One descriptor of the active sequence, in replay order. */
struct log_op {
	uint64_t start, length; /* target range of the file */
	bool zero;
	uint64_t data; /* data descriptor: file offset of the data sector */
	uint64_t desc; /* and of the descriptor */
};

/* The replayed file, sorted and disjoint; gaps are the original file
 * (zeros past its end). */
struct log_seg {
	uint64_t start, length;
	size_t op; /* the last descriptor that wrote these bytes */
};

struct vhdx_log {
	struct iw_view view; /* the replayed file */
	const struct iw_view *file;
	uint64_t file_size; /* of the real file */
	struct log_op *ops;
	size_t n_ops;
	struct log_seg *segs;
	size_t n_segs;
	uint32_t entries;
};

struct log_scan {
	const struct iw_view *v;
	struct iw_report *r;
	const struct vhdx_header *h;
	uint64_t off; /* file offset of the log */
	uint32_t len; /* its length, a non-zero multiple of 1 MiB */
	uint8_t sec[LOG_SECTOR];
	uint8_t data[LOG_SECTOR];
};

/* a candidate or active sequence */
struct log_seq {
	bool valid;
	uint32_t start; /* log offset of the first entry */
	uint32_t count;
	uint64_t first_seq, last_seq;
	uint64_t bytes; /* log bytes the entries take */
	bool gap;	/* a number out of order inside or right after it */
	uint64_t gap_seq;
	uint32_t last_tail; /* the last entry's Tail */
};

static void log_hdr_decode(const uint8_t *b, struct log_hdr *h)
{
	h->signature = get_le32(b);
	h->checksum = get_le32(b + 4);
	h->entry_length = get_le32(b + 8);
	h->tail = get_le32(b + 12);
	h->sequence = get_le64(b + 16);
	h->desc_count = get_le32(b + 24);
	memcpy(h->guid, b + 32, 16);
	h->flushed_file_offset = get_le64(b + 48);
	h->last_file_offset = get_le64(b + 56);
}

/* log offset idx advanced by n sectors, around the circle */
static uint32_t log_adv(const struct log_scan *s, uint32_t idx, uint64_t n)
{
	return (uint32_t)(((uint64_t)idx + n % (s->len / LOG_SECTOR) *
					       LOG_SECTOR) %
			  s->len);
}

/* sectors that hold the header and count descriptors (qemu's
 * vhdx_compute_desc_sectors: the header takes two descriptor slots) */
static uint64_t log_desc_sectors(uint32_t count)
{
	return ((uint64_t)count + 2 + LOG_DESC_PER_SECTOR - 1) /
	       LOG_DESC_PER_SECTOR;
}

static int log_read(struct log_scan *s, uint32_t idx, uint8_t *buf)
{
	int err = iw_view_read(s->v, buf, LOG_SECTOR, s->off + idx);

	if (err == -E2BIG) {
		iw_finding(s->r, IW_F_LOG_REPLAY_NEEDED,
			   "the log could not be searched within the read "
			   "budget: not replayed");
		return -EINVAL;
	}
	if (err == -ERANGE) {
		iw_finding(s->r, IW_F_TRUNCATED,
			   "log sector at log offset %" PRIu32
			   " lies past the end of the file",
			   idx);
		return -EINVAL;
	}
	return err;
}

/* qemu's vhdx_log_hdr_is_valid */
static bool log_hdr_valid(const struct log_scan *s, const struct log_hdr *h)
{
	return h->signature == LOG_SIG_ENTRY && h->entry_length <= s->len &&
	       h->entry_length % LOG_SECTOR == 0 && h->sequence != 0 &&
	       memcmp(h->guid, s->h->log_guid, 16) == 0 &&
	       (uint64_t)h->desc_count * LOG_DESC_SIZE <= h->entry_length;
}

/* qemu's vhdx_log_desc_is_valid, for descriptor g of the entry at idx;
 * an invalid one makes qemu refuse the file */
static int log_check_desc(struct log_scan *s, uint32_t idx,
			  const struct log_hdr *h, uint32_t g, const uint8_t *d)
{
	uint32_t sig = get_le32(d);
	const char *why = NULL;

	if (get_le64(d + 24) != h->sequence)
		why = "its sequence number is not the entry's";
	else if (get_le64(d + 16) % LOG_SECTOR)
		why = "its file offset is not a multiple of 4 KiB";
	else if (sig == LOG_SIG_ZERO && get_le64(d + 8) % LOG_SECTOR)
		why = "its zero length is not a multiple of 4 KiB";
	else if (sig != LOG_SIG_ZERO && sig != LOG_SIG_DESC)
		why = "its signature is neither \"desc\" nor \"zero\"";
	if (!why)
		return 0;
	iw_finding(s->r, IW_F_BAD_FIELD,
		   "log entry at log offset %" PRIu32 " (sequence %" PRIu64
		   "): descriptor %" PRIu32 ": %s",
		   idx, h->sequence, g, why);
	return -EINVAL;
}

/*
 * qemu's vhdx_validate_log_entry at *idx, expecting sequence number
 * seq + 1 (any when seq is 0). Moves *idx like qemu: one sector on for an
 * invalid header, past the entry otherwise. *ret_valid: header, numbers
 * and CRC good. *ret_hdr_ok: the header alone is valid (ret filled).
 */
static int log_validate_entry(struct log_scan *s, uint32_t *idx, uint64_t seq,
			      bool *ret_valid, bool *ret_hdr_ok,
			      struct log_hdr *ret)
{
	uint64_t dsec, total, n;
	uint32_t pos = *idx, crc = 0;
	struct log_hdr h;
	int err;

	*ret_valid = false;
	*ret_hdr_ok = false;
	err = log_read(s, pos, s->sec);
	if (err < 0)
		return err;
	log_hdr_decode(s->sec, &h);
	if (!log_hdr_valid(s, &h)) {
		*idx = log_adv(s, pos, 1);
		return 0;
	}
	*ret_hdr_ok = true;
	*ret = h;
	if (seq > 0 && h.sequence != seq + 1) {
		*idx = log_adv(s, pos, 1);
		return 0;
	}
	dsec = log_desc_sectors(h.desc_count);
	total = h.entry_length / LOG_SECTOR;
	n = MAX(dsec, total);
	for (uint64_t k = 0; k < n; k++) {
		if (k > 0) {
			err = log_read(s, pos, s->sec);
			if (err < 0)
				return err;
		}
		if (k < dsec) {
			for (uint32_t j = 0; j < LOG_DESC_PER_SECTOR; j++) {
				uint64_t g = k * LOG_DESC_PER_SECTOR + j;

				if (g < 2 || g - 2 >= h.desc_count)
					continue;
				err = log_check_desc(s, *idx, &h,
						     (uint32_t)(g - 2),
						     s->sec + LOG_DESC_SIZE * j);
				if (err < 0)
					return err;
			}
		}
		if (k == 0)
			put_le32(s->sec + 4, 0);
		crc = iw_crc32c(crc, s->sec, LOG_SECTOR);
		pos = log_adv(s, pos, 1);
	}
	*idx = pos;
	*ret_valid = crc == h.checksum;
	return 0;
}

/* log bytes an entry takes: qemu reads at least its descriptor sectors,
 * even when EntryLength says less */
static uint64_t log_entry_bytes(const struct log_hdr *h)
{
	return MAX(log_desc_sectors(h->desc_count),
		   (uint64_t)h->entry_length / LOG_SECTOR) *
	       LOG_SECTOR;
}

/* qemu's vhdx_log_search, with the checks it lacks noted in *ret. */
static int log_search(struct log_scan *s, struct log_seq *ret)
{
	struct log_seq cand = { 0 };
	uint32_t idx = 0;
	struct log_hdr h;
	bool valid, hdr_ok;
	int err;

	for (;;) {
		uint32_t tail = idx;
		struct log_seq cur = { 0 };
		uint64_t expect = 0;

		err = log_validate_entry(s, &idx, 0, &valid, &hdr_ok, &h);
		if (err < 0)
			return err;
		if (valid) {
			cur = (struct log_seq){
				.valid = true,
				.start = tail,
				.count = 1,
				.first_seq = h.sequence,
				.last_seq = h.sequence,
				.bytes = log_entry_bytes(&h),
				.last_tail = h.tail,
			};
			for (;;) {
				err = log_validate_entry(s, &idx, expect,
							 &valid, &hdr_ok, &h);
				if (err < 0)
					return err;
				if (!valid) {
					/* a newer entry right after the
					 * sequence: the log is inconsistent */
					if (hdr_ok && expect &&
					    h.sequence > expect + 1 &&
					    !cur.gap) {
						cur.gap = true;
						cur.gap_seq = h.sequence;
					}
					break;
				}
				if (cur.count == 1 &&
				    h.sequence != cur.first_seq + 1 && !cur.gap) {
					/* qemu accepts any number here */
					cur.gap = true;
					cur.gap_seq = h.sequence;
				}
				cur.bytes += log_entry_bytes(&h);
				cur.count++;
				cur.last_seq = h.sequence;
				cur.last_tail = h.tail;
				expect = h.sequence;
				/* each entry takes a sector: more than the
				 * log holds means it went round */
				if (cur.count > VHDX_LOG_MAX_ENTRIES ||
				    cur.bytes >= s->len)
					break;
			}
			if (!cand.valid || cur.first_seq > cand.first_seq)
				cand = cur;
		}
		/* qemu stops when the scan wrapped; an entry exactly as long
		 * as the log brings it back to where it started (qemu then
		 * loops for ever): that is a wrap too */
		if (idx <= tail)
			break;
	}
	*ret = cand;
	return 0;
}

/* Check a descriptor's target [t, t + n) and grow *ret_end. */
static int log_check_target(struct log_scan *s, uint64_t seq, uint32_t g,
			    uint64_t t, uint64_t n, uint64_t limit,
			    uint64_t *ret_end)
{
	uint64_t end;

	if (ADD_OVERFLOW(t, n, &end) || end > limit) {
		iw_finding(s->r, IW_F_ENTRY_OUT_OF_RANGE,
			   "log entry %" PRIu64 ", descriptor %" PRIu32
			   ": %" PRIu64 " bytes at file offset %" PRIu64
			   " lie past the end of the file (%" PRIu64
			   " bytes with the entry's LastFileOffset)",
			   seq, g, n, t, limit);
		return -EINVAL;
	}
	if (t < VHDX_HEADER_SECTION_END) {
		iw_finding(s->r, IW_F_ENTRY_OUT_OF_RANGE,
			   "log entry %" PRIu64 ", descriptor %" PRIu32
			   ": writes file offset %" PRIu64
			   " in the header section (headers and region tables "
			   "are never journalled)",
			   seq, g, t);
		return -EINVAL;
	}
	if (t < s->off + s->len && s->off < end) {
		iw_finding(s->r, IW_F_TABLE_OVERLAP,
			   "log entry %" PRIu64 ", descriptor %" PRIu32
			   ": writes file offset %" PRIu64 " inside the log",
			   seq, g, t);
		return -EINVAL;
	}
	*ret_end = MAX(*ret_end, end);
	return 0;
}

static int log_add_op(struct log_scan *s, struct vhdx_log *l,
		      const struct log_op *op)
{
	if (l->n_ops >= VHDX_LOG_MAX_DESCRIPTORS) {
		iw_finding(s->r, IW_F_TABLE_TOO_LARGE,
			   "the log's active sequence has more than %u "
			   "descriptors",
			   (unsigned)VHDX_LOG_MAX_DESCRIPTORS);
		return -EINVAL;
	}
	l->ops[l->n_ops++] = *op;
	return 0;
}

/* Replay one entry at *idx (qemu's vhdx_log_flush loop body) into l;
 * *size is the file's size, updated. */
static int log_replay_entry(struct log_scan *s, struct vhdx_log *l,
			    uint32_t *idx, uint64_t *size, uint64_t *data_bytes)
{
	uint64_t dsec, total, ndata = 0, size_before = *size, limit, grown;
	uint64_t end = *size;
	uint32_t pos = *idx, data_at;
	struct log_hdr h;
	int err;

	err = log_read(s, pos, s->sec);
	if (err < 0)
		return err;
	log_hdr_decode(s->sec, &h);
	if (!log_hdr_valid(s, &h))
		return -EIO; /* the search read the same bytes */
	if (h.flushed_file_offset > *size) {
		iw_finding(s->r, IW_F_TRUNCATED,
			   "log entry %" PRIu64 ": the file was %" PRIu64
			   " bytes when it was written (FlushedFileOffset), "
			   "it is %" PRIu64 " now",
			   h.sequence, h.flushed_file_offset, *size);
		return -EINVAL;
	}
	if (h.last_file_offset > VHDX_LOG_MAX_FILE_SIZE) {
		iw_finding(s->r, IW_F_BAD_FIELD,
			   "log entry %" PRIu64 ": LastFileOffset %" PRIu64
			   " is beyond any VHDX file",
			   h.sequence, h.last_file_offset);
		return -EINVAL;
	}
	/* qemu rounds LastFileOffset up to 1 MiB when it grows the file */
	grown = (h.last_file_offset + MiB - 1) / MiB * MiB;
	limit = MAX(size_before, grown);
	dsec = log_desc_sectors(h.desc_count);
	total = h.entry_length / LOG_SECTOR;
	data_at = log_adv(s, pos, dsec);

	for (uint64_t k = 0; k < dsec; k++) {
		uint32_t sec_at = log_adv(s, pos, k);

		if (k > 0) {
			err = log_read(s, sec_at, s->sec);
			if (err < 0)
				return err;
		}
		for (uint32_t j = 0; j < LOG_DESC_PER_SECTOR; j++) {
			uint64_t g = k * LOG_DESC_PER_SECTOR + j;
			const uint8_t *d = s->sec + LOG_DESC_SIZE * j;
			struct log_op op = {
				.start = get_le64(d + 16),
				.desc = s->off + sec_at + LOG_DESC_SIZE * j,
			};

			if (g < 2 || g - 2 >= h.desc_count)
				continue;
			if (get_le32(d) == LOG_SIG_ZERO) {
				op.zero = true;
				op.length = get_le64(d + 8);
				if (op.length == 0)
					continue; /* writes nothing */
				err = log_check_target(s, h.sequence,
						       (uint32_t)(g - 2),
						       op.start, op.length,
						       limit, &end);
				if (err == 0)
					err = log_add_op(s, l, &op);
				if (err < 0)
					return err;
				continue;
			}
			/* a data descriptor (the search checked the
			 * signature): its sector follows the descriptors */
			if (++ndata > (total > dsec ? total - dsec : 0)) {
				iw_finding(s->r, IW_F_BAD_FIELD,
					   "log entry %" PRIu64 ": more data "
					   "descriptors than data sectors",
					   h.sequence);
				return -EINVAL;
			}
			err = log_read(s, data_at, s->data);
			if (err < 0)
				return err;
			if (get_le32(s->data) != LOG_SIG_DATA ||
			    ((uint64_t)get_le32(s->data + 4) << 32 |
			     get_le32(s->data + LOG_DATA_TRAIL_AT)) !=
				    h.sequence) {
				iw_finding(s->r, IW_F_BAD_FIELD,
					   "log entry %" PRIu64 ": data sector "
					   "at log offset %" PRIu32 " has no "
					   "\"data\" signature or another "
					   "sequence number",
					   h.sequence, data_at);
				return -EINVAL;
			}
			op.length = LOG_SECTOR;
			op.data = s->off + data_at;
			err = log_check_target(s, h.sequence, (uint32_t)(g - 2),
					       op.start, op.length, limit, &end);
			if (err < 0)
				return err;
			*data_bytes += LOG_SECTOR;
			if (*data_bytes > VHDX_LOG_MAX_REPLAY_BYTES) {
				iw_finding(s->r, IW_F_TABLE_TOO_LARGE,
					   "the log replays more than %u bytes",
					   (unsigned)VHDX_LOG_MAX_REPLAY_BYTES);
				return -EINVAL;
			}
			err = log_add_op(s, l, &op);
			if (err < 0)
				return err;
			data_at = log_adv(s, data_at, 1);
		}
	}
	if (ndata != (total > dsec ? total - dsec : 0) || total < dsec) {
		iw_finding(s->r, IW_F_BAD_FIELD,
			   "log entry %" PRIu64 ": %" PRIu64 " data sectors "
			   "for %" PRIu64 " data descriptors",
			   h.sequence, total > dsec ? total - dsec : 0, ndata);
		return -EINVAL;
	}
	*size = end;
	if (size_before < h.last_file_offset && h.last_file_offset % MiB)
		*size = grown; /* >= end: targets stay below limit */
	*idx = log_adv(s, pos, MAX(dsec, total));
	return 0;
}

/* ---- the overlay: the last write of every byte, as sorted segments ---- */

struct log_event {
	uint64_t at;
	size_t op;
	bool start;
};

static int log_event_cmp(const void *a, const void *b)
{
	const struct log_event *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

static void heap_push(size_t *heap, size_t *n, size_t v)
{
	size_t i = (*n)++;

	heap[i] = v;
	while (i > 0 && heap[(i - 1) / 2] < heap[i]) {
		size_t p = (i - 1) / 2, t = heap[p];

		heap[p] = heap[i];
		heap[i] = t;
		i = p;
	}
}

static void heap_pop(size_t *heap, size_t *n)
{
	size_t i = 0;

	heap[0] = heap[--(*n)];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;

		if (l < *n && heap[l] > heap[m])
			m = l;
		if (r < *n && heap[r] > heap[m])
			m = r;
		if (m == i)
			break;
		t = heap[m];
		heap[m] = heap[i];
		heap[i] = t;
		i = m;
	}
}

/* Sweep the ops' boundaries; between two, the op with the highest index
 * (the last applied) among those covering the range owns it. */
static int log_build_segments(struct vhdx_log *l)
{
	_cleanup_free_ struct log_event *ev = NULL;
	_cleanup_free_ size_t *heap = NULL;
	_cleanup_free_ bool *ended = NULL;
	size_t n_ev = 2 * l->n_ops, n_heap = 0;

	if (l->n_ops == 0)
		return 0;
	ev = calloc(n_ev, sizeof(*ev));
	heap = calloc(l->n_ops, sizeof(*heap));
	ended = calloc(l->n_ops, sizeof(*ended));
	l->segs = calloc(n_ev, sizeof(*l->segs));
	if (!ev || !heap || !ended || !l->segs)
		return -ENOMEM;
	for (size_t i = 0; i < l->n_ops; i++) {
		ev[2 * i] = (struct log_event){ l->ops[i].start, i, true };
		ev[2 * i + 1] = (struct log_event){
			l->ops[i].start + l->ops[i].length, i, false
		};
	}
	qsort(ev, n_ev, sizeof(*ev), log_event_cmp);
	for (size_t i = 0; i < n_ev;) {
		uint64_t at = ev[i].at;

		for (; i < n_ev && ev[i].at == at; i++) {
			if (ev[i].start)
				heap_push(heap, &n_heap, ev[i].op);
			else
				ended[ev[i].op] = true;
		}
		while (n_heap && ended[heap[0]])
			heap_pop(heap, &n_heap);
		if (!n_heap || i == n_ev)
			continue;
		{
			struct log_seg seg = { at, ev[i].at - at, heap[0] };
			struct log_seg *prev =
				l->n_segs ? &l->segs[l->n_segs - 1] : NULL;

			/* adjacent zero runs make one segment */
			if (prev && prev->start + prev->length == at &&
			    l->ops[prev->op].zero && l->ops[seg.op].zero)
				prev->length += seg.length;
			else
				l->segs[l->n_segs++] = seg;
		}
	}
	return 0;
}

int vhdx_log_locate(const struct vhdx_log *l, uint64_t off, uint64_t len,
		    struct vhdx_log_run *ret)
{
	size_t lo = 0, hi = l->n_segs;
	uint64_t next = UINT64_MAX;

	if (len == 0 || !iw_view_contains(&l->view, off, len))
		return -ERANGE;
	/* the first segment ending after off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->segs[mid].start + l->segs[mid].length <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < l->n_segs && l->segs[lo].start <= off) {
		const struct log_seg *sg = &l->segs[lo];
		const struct log_op *op = &l->ops[sg->op];
		uint64_t n = MIN(len, sg->start + sg->length - off);
		uint64_t in = off - op->start;

		if (op->zero) {
			*ret = (struct vhdx_log_run){ .length = n, .zero = true };
			return 0;
		}
		/* a data sector: 8 bytes from the descriptor, 4084 from the
		 * log's data sector, 4 from the descriptor */
		if (in < LOG_DATA_LEAD) {
			ret->src = op->desc + 8 + in;
			n = MIN(n, LOG_DATA_LEAD - in);
		} else if (in < LOG_DATA_TRAIL_AT) {
			ret->src = op->data + in;
			n = MIN(n, LOG_DATA_TRAIL_AT - in);
		} else {
			ret->src = op->desc + 4 + (in - LOG_DATA_TRAIL_AT);
			n = MIN(n, LOG_SECTOR - in);
		}
		ret->length = n;
		ret->zero = false;
		return 0;
	}
	if (lo < l->n_segs)
		next = l->segs[lo].start;
	len = MIN(len, next - off);
	if (off >= l->file_size) {
		/* the file grew: a hole */
		*ret = (struct vhdx_log_run){ .length = len, .zero = true };
		return 0;
	}
	*ret = (struct vhdx_log_run){ .length = MIN(len, l->file_size - off),
				      .src = off };
	return 0;
}

static int log_view_read(const struct iw_view *v, void *buf, size_t len,
			 uint64_t off)
{
	const struct vhdx_log *l = (const struct vhdx_log *)(const void *)(
		(const char *)v - offsetof(struct vhdx_log, view));
	uint8_t *p = buf;

	/* iw_view_read checked the range and charged the shared budget:
	 * the real file is read through its backend directly */
	while (len > 0) {
		struct vhdx_log_run run;
		int err = vhdx_log_locate(l, off, len, &run);

		if (err < 0)
			return err;
		if (run.zero) {
			memset(p, 0, run.length);
		} else {
			if (!iw_view_contains(l->file, run.src, run.length))
				return -ERANGE;
			err = l->file->read(l->file, p, run.length, run.src);
			if (err < 0)
				return err;
		}
		p += run.length;
		off += run.length;
		len -= run.length;
	}
	return 0;
}

const struct iw_view *vhdx_log_view(const struct vhdx_log *l)
{
	return &l->view;
}

uint32_t vhdx_log_entries(const struct vhdx_log *l)
{
	return l->entries;
}

void vhdx_log_free(struct vhdx_log *l)
{
	if (!l)
		return;
	free(l->ops);
	free(l->segs);
	free(l);
}

static void log_freep(struct vhdx_log **l)
{
	vhdx_log_free(*l);
}

int vhdx_log_open(const struct iw_view *v, struct iw_report *r,
		  const struct vhdx_header *h, struct vhdx_log **ret)
{
	_cleanup_free_ struct log_scan *s = NULL;
	_cleanup_(log_freep) struct vhdx_log *l = NULL;
	struct log_seq seq;
	uint64_t size, data_bytes = 0;
	uint32_t idx;
	int err;

	*ret = NULL;
	/* qemu: a zero LogGuid or LogLength means there is no log */
	if (mem_is_zero(h->log_guid, sizeof(h->log_guid)))
		return 0;
	if (h->log_length == 0) {
		iw_finding(r, IW_F_DIRTY,
			   "the log GUID is set but the log is empty: nothing "
			   "to replay");
		return 0;
	}
	/* qemu refuses these whatever the log holds (vhdx.c reports
	 * them) */
	if (h->log_version != 0 || h->log_offset < VHDX_ALIGNMENT ||
	    h->log_offset % VHDX_ALIGNMENT || h->log_length % VHDX_ALIGNMENT) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "the log's offset, length or version is invalid");
		return -EINVAL;
	}
	if (!range_ok(h->log_offset, h->log_length, v->size)) {
		iw_finding(r, v->partial ? IW_F_LOG_REPLAY_NEEDED
					 : IW_F_TABLE_PAST_EOF,
			   "the log (%" PRIu32 " bytes at %" PRIu64
			   ") lies past the end of the file",
			   h->log_length, h->log_offset);
		return -EINVAL;
	}
	if (h->log_length > VHDX_LOG_MAX_LENGTH) {
		iw_finding(r, IW_F_LOG_REPLAY_NEEDED,
			   "the log is %" PRIu32 " bytes; imgward replays logs "
			   "of at most %u bytes",
			   h->log_length, (unsigned)VHDX_LOG_MAX_LENGTH);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct log_scan){ .v = v,
				.r = r,
				.h = h,
				.off = h->log_offset,
				.len = h->log_length };
	err = log_search(s, &seq);
	if (err < 0)
		return err;
	if (!seq.valid) {
		iw_finding(r, IW_F_DIRTY,
			   "the log GUID is set but the log holds no valid "
			   "entry: nothing to replay (qemu opens it as is)");
		return 0;
	}
	if (seq.gap) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "the log's sequence numbers are not contiguous: "
			   "an entry numbered %" PRIu64 " follows the "
			   "sequence that starts at %" PRIu64,
			   seq.gap_seq, seq.first_seq);
		return -EINVAL;
	}
	if (seq.last_tail != seq.start) {
		/* [MS-VHDX] 2.3.1.1: the last entry's Tail is the first
		 * entry of its sequence. qemu ignores it and may replay part
		 * of a sequence (one after a torn entry, the newer half of a
		 * wrapped one): neither it nor the spec's answer is safe */
		iw_finding(r, IW_F_BAD_FIELD,
			   "the log's sequence %" PRIu64 "..%" PRIu64
			   " starts at log offset %" PRIu32
			   " but its last entry's Tail is %" PRIu32,
			   seq.first_seq, seq.last_seq, seq.start,
			   seq.last_tail);
		return -EINVAL;
	}
	if (seq.count > VHDX_LOG_MAX_ENTRIES) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "the log's active sequence has more than %u entries",
			   (unsigned)VHDX_LOG_MAX_ENTRIES);
		return -EINVAL;
	}
	if (seq.bytes >= s->len) {
		/* qemu's replay would find the log empty and fail */
		iw_finding(r, IW_F_BAD_FIELD,
			   "the log's active sequence (%" PRIu64 " bytes) "
			   "fills the whole log",
			   seq.bytes);
		return -EINVAL;
	}

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ops = calloc(VHDX_LOG_MAX_DESCRIPTORS, sizeof(*l->ops));
	if (!l->ops)
		return -ENOMEM;
	l->file = v;
	l->file_size = v->size;
	l->entries = seq.count;
	size = v->size;
	idx = seq.start;
	for (uint32_t i = 0; i < seq.count; i++) {
		err = log_replay_entry(s, l, &idx, &size, &data_bytes);
		if (err == -EIO)
			iw_finding(r, IW_F_BAD_FIELD,
				   "log entry at log offset %" PRIu32
				   " changed between reads",
				   idx);
		if (err < 0)
			return err == -EIO ? -EINVAL : err;
	}
	err = log_build_segments(l);
	if (err < 0)
		return err;
	l->view = (struct iw_view){
		.size = size,
		.partial = v->partial,
		.read = log_view_read,
		.fd = -1,
		.parent = v,
		.budget = v->budget,
	};
	iw_finding(r, IW_F_DIRTY,
		   "the log holds %" PRIu32 " entries (sequence %" PRIu64
		   "..%" PRIu64 ", %" PRIu64 " data bytes, %zu descriptors) "
		   "that imgward replays in memory; qemu-img needs "
		   "`qemu-img check -r all` first",
		   seq.count, seq.first_seq, seq.last_seq, data_bytes,
		   l->n_ops);
	*ret = TAKE_PTR(l);
	return 0;
}
