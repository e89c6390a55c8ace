/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Registry hive (regf) reader: see hive.h.
 *
 * Layout (libyal's "Windows NT Registry File (REGF) format", hivex's
 * lib/hivex-internal.h, Windows' own checks as CmCheckRegistry makes
 * them): a 4 KiB base block, then the hive data: bins ("hbin", 32-byte
 * header, a multiple of 4 KiB) packed with cells. A cell is an int32 size
 * (negative when allocated, a multiple of 8) and its content. Every cell
 * offset in the hive is relative to the start of the hive data (file
 * offset - 4096).
 *
 * Nothing is read whole: the base block at open, then 4 KiB pages of the
 * data on demand through a small cache (HIVE_CACHE_PAGES). A cell's bin
 * is found by looking back from the cell's page for the closest bin
 * header (a bin is usually one page, so this is the page already read),
 * at most HIVE_MAX_BIN_SIZE back, with a few recent bins remembered.
 */
#include "hive.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "../formats/utf16.h"
#include "../util.h"

#define HIVE_BASE_BLOCK 4096u
#define HIVE_PAGE 4096u
#define HIVE_BIN_HEADER 32u
#define HIVE_NONE UINT32_C(0xffffffff)

/* Cell offsets are 32-bit and Windows keeps the top bit for volatile
 * (memory-only) storage: stable hive data is below 2 GiB. */
#define HIVE_MAX_DATA_SIZE (UINT32_C(1) << 31)
/* A bin holds one cell bigger than a page; the biggest cells we accept
 * are value data (HIVE_MAX_VALUE_LEN) and lists of HIVE_MAX_VALUES
 * offsets. Looking back further for a cell's bin would only cost reads. */
#define HIVE_MAX_BIN_SIZE (16u << 20)
/* The same order as hivex's HIVEX_MAX_SUBKEYS / MAX_VALUES /
 * MAX_VALUE_LEN, chosen there from the biggest real hives seen (a
 * SOFTWARE hive's Classes key has ~15000 subkeys). */
#define HIVE_MAX_SUBKEYS 70000u
#define HIVE_MAX_VALUES 110000u
#define HIVE_MAX_VALUE_LEN 8000000u
/* Windows: "a registry tree can be 512 levels deep". */
#define HIVE_MAX_DEPTH 512u
/* Value names are at most 16383 characters (Windows' limit; key names
 * 255): a longer name is not one Windows wrote. */
#define HIVE_MAX_NAME_UNITS 16383u
#define HIVE_MAX_NAME_BYTES (2u * HIVE_MAX_NAME_UNITS)
#define HIVE_NAME_UTF8_MAX UTF16_UTF8_MAX(HIVE_MAX_NAME_UNITS)
/* A path component longer than any key name can never match. */
#define HIVE_MAX_KEY_NAME_UNITS 255u
/* Big data ("db") segments hold 16344 bytes each (CM_KEY_VALUE_BIG);
 * a value of at most HIVE_MAX_VALUE_LEN needs this many. */
#define HIVE_BIG_SEGMENT 16344u
#define HIVE_MAX_DB_SEGMENTS                                                   \
	((HIVE_MAX_VALUE_LEN + HIVE_BIG_SEGMENT - 1) / HIVE_BIG_SEGMENT)

/* 128 KiB: the pages of a lookup's path (nk, lists, vk, data) stay. */
#define HIVE_CACHE_PAGES 32
#define HIVE_BIN_CACHE 8

/* nk (CM_KEY_NODE) field offsets, from the cell content's start */
#define NK_FLAGS 2
#define NK_PARENT 16
#define NK_N_SUBKEYS 20
#define NK_SUBKEYS 28
#define NK_N_VALUES 36
#define NK_VALUES 40
#define NK_NAME_LEN 72
#define NK_NAME 76
#define NK_HIVE_ENTRY 0x0004
#define NK_COMP_NAME 0x0020
/* vk (CM_KEY_VALUE) */
#define VK_NAME_LEN 2
#define VK_DATA_LEN 4
#define VK_DATA 8
#define VK_TYPE 12
#define VK_FLAGS 16
#define VK_NAME 20
#define VK_COMP_NAME 0x0001
#define VK_DATA_INLINE UINT32_C(0x80000000)

struct hive_page {
	uint32_t off;
	uint32_t used; /* clock of the last use; 0: empty */
	uint8_t data[HIVE_PAGE];
};

struct hive_bin {
	uint32_t start, end;
};

struct hive {
	const struct iw_view *v;
	struct iw_diag *d;
	uint32_t data_size;
	uint32_t root;
	uint32_t minor;
	bool dirty;
	uint32_t clock;
	struct hive_page pages[HIVE_CACHE_PAGES];
	struct hive_bin bins[HIVE_BIN_CACHE];
	unsigned next_bin;
	uint8_t name_raw[HIVE_MAX_NAME_BYTES];
	char name_utf8[HIVE_NAME_UTF8_MAX];
};

/* A cell's content (after its size field). */
struct cell {
	uint32_t at;  /* the cell's offset, as referenced */
	uint32_t off; /* content offset in the hive data */
	uint32_t len; /* content bytes */
};

/* A name as UTF-16 code units, upper-cased (what lookups compare). */
struct uname {
	size_t n;
	uint16_t u[HIVE_MAX_KEY_NAME_UNITS];
};

static int io_fail(struct hive *h, int r, uint64_t off)
{
	return iw_diag_fail(h->d, r, SCAN_E_IO,
			    "hive: read at 0x%" PRIx64 " failed", off);
}

/* Record a bound that was reached and return -E2BIG: iw_diag_fail()
 * would file an -E2BIG under read-budget. */
_printf_(2, 3) static int hive_limit(struct hive *h, const char *fmt, ...)
{
	char msg[IW_DIAG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	iw_diag_fail(h->d, -ERANGE, SCAN_E_HIVE_LIMIT, "%s", msg);
	return -E2BIG;
}

static struct hive_page *page_get(struct hive *h, uint32_t page_off)
{
	struct hive_page *p, *victim = &h->pages[0];
	int r;

	if (++h->clock == 0) { /* wrapped: start the ages again */
		for (unsigned i = 0; i < HIVE_CACHE_PAGES; i++)
			h->pages[i].used = 0;
		h->clock = 1;
	}
	for (unsigned i = 0; i < HIVE_CACHE_PAGES; i++) {
		p = &h->pages[i];
		if (p->used && p->off == page_off) {
			p->used = h->clock;
			return p;
		}
		if (p->used < victim->used)
			victim = p;
	}
	victim->used = 0;
	/* data_size is a multiple of the page size and inside the view
	 * (checked at open), so a whole page is always there */
	r = iw_view_read(h->v, victim->data, HIVE_PAGE,
			 (uint64_t)HIVE_BASE_BLOCK + page_off);
	if (r < 0) {
		io_fail(h, r, (uint64_t)HIVE_BASE_BLOCK + page_off);
		errno = -r;
		return NULL;
	}
	victim->off = page_off;
	victim->used = h->clock;
	return victim;
}

/* Copy [off, off+len) of the hive data (inside data_size). */
static int hive_read(struct hive *h, uint32_t off, void *buf, size_t len)
{
	uint8_t *out = buf;
	uint64_t end = (uint64_t)off + len;

	if (end > h->data_size)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: read of %zu bytes at 0x%" PRIx32
				    " past the hive data",
				    len, off);
	while (len > 0) {
		uint32_t page = off & ~(HIVE_PAGE - 1), in = off - page;
		size_t n = MIN(len, (size_t)(HIVE_PAGE - in));
		struct hive_page *p = page_get(h, page);

		if (!p)
			return -errno;
		memcpy(out, p->data + in, n);
		out += n;
		off += (uint32_t)n;
		len -= n;
	}
	return 0;
}

static int read_u32(struct hive *h, uint32_t off, uint32_t *ret)
{
	uint8_t b[4];
	int r = hive_read(h, off, b, sizeof(b));

	if (r < 0)
		return r;
	*ret = get_le32(b);
	return 0;
}

/* Read a bin header candidate looking back through a big bin: from the
 * cache when its page is there, else only these bytes (not a page that
 * would evict the ones in use). */
static int bin_peek(struct hive *h, uint32_t off, void *buf, size_t len)
{
	uint32_t page = off & ~(HIVE_PAGE - 1);
	int r;

	for (unsigned i = 0; i < HIVE_CACHE_PAGES; i++)
		if (h->pages[i].used && h->pages[i].off == page)
			return hive_read(h, off, buf, len);
	r = iw_view_read(h->v, buf, len, (uint64_t)HIVE_BASE_BLOCK + off);
	if (r < 0)
		return io_fail(h, r, (uint64_t)HIVE_BASE_BLOCK + off);
	return 0;
}

/*
 * The bin holding the cell at off: the closest bin header at or before
 * it (headers sit on page boundaries). Its offset field must be its
 * position and its size a multiple of 4 KiB inside the data, as Windows'
 * HvpGetHiveHeader/HvLoadHive check every bin.
 */
static int find_bin(struct hive *h, uint32_t off, struct hive_bin *ret)
{
	uint32_t page = off & ~(HIVE_PAGE - 1);

	for (unsigned i = 0; i < HIVE_BIN_CACHE; i++)
		if (h->bins[i].end > off && h->bins[i].start <= off) {
			*ret = h->bins[i];
			return 0;
		}
	for (uint32_t back = 0; back < HIVE_MAX_BIN_SIZE; back += HIVE_PAGE) {
		uint8_t hdr[12];
		uint32_t start, size;
		int r;

		if (back > page)
			break;
		start = page - back;
		r = back == 0 ? hive_read(h, start, hdr, sizeof(hdr))
			      : bin_peek(h, start, hdr, sizeof(hdr));
		if (r < 0)
			return r;
		if (memcmp(hdr, "hbin", 4) != 0)
			continue;
		size = get_le32(hdr + 8);
		if (get_le32(hdr + 4) != start)
			return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
					    "hive: bin at 0x%" PRIx32
					    " says it is at 0x%" PRIx32,
					    start, get_le32(hdr + 4));
		if (size < HIVE_PAGE || size % HIVE_PAGE != 0 ||
		    size > h->data_size - start)
			return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
					    "hive: bin at 0x%" PRIx32
					    " has size 0x%" PRIx32,
					    start, size);
		if (off - start >= size)
			break; /* in no bin: a gap between bins */
		ret->start = start;
		ret->end = start + size;
		h->bins[h->next_bin++ % HIVE_BIN_CACHE] = *ret;
		return 0;
	}
	return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
			    "hive: no bin holds cell 0x%" PRIx32, off);
}

/* The allocated cell at off, of at least min_len content bytes. */
static int cell_get(struct hive *h, uint32_t off, uint32_t min_len,
		    const char *what, struct cell *ret)
{
	struct hive_bin bin;
	uint32_t raw, size;
	int r;

	/* bins are page-aligned, their header 32 bytes, cells multiples
	 * of 8: every cell starts 8-aligned */
	if (off >= h->data_size || off % 8 != 0)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: %s cell offset 0x%" PRIx32
				    " unaligned or outside the hive data "
				    "(0x%" PRIx32 ")",
				    what, off, h->data_size);
	r = find_bin(h, off, &bin);
	if (r < 0)
		return r;
	if (off - bin.start < HIVE_BIN_HEADER)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: %s cell 0x%" PRIx32
				    " inside a bin header",
				    what, off);
	r = read_u32(h, off, &raw);
	if (r < 0)
		return r;
	if (raw == 0)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: %s cell 0x%" PRIx32 " has size 0",
				    what, off);
	if ((int32_t)raw > 0)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: %s cell 0x%" PRIx32
				    " is free (size %" PRId32 ")",
				    what, off, (int32_t)raw);
	size = -raw; /* 0x80000000 stays itself: caught below */
	if (size < 8 || size % 8 != 0 || size > bin.end - off)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: %s cell 0x%" PRIx32
				    ": size %" PRIu32 " does not fit its bin "
				    "0x%" PRIx32 "-0x%" PRIx32,
				    what, off, size, bin.start, bin.end);
	if (size - 4 < min_len)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: %s cell 0x%" PRIx32
				    " too small (%" PRIu32 " bytes)",
				    what, off, size);
	ret->at = off;
	ret->off = off + 4;
	ret->len = size - 4;
	return 0;
}

/* ---- names ---- */

/* Simple upper-casing of one UTF-16 unit: ASCII, Latin-1, Latin
 * Extended-A, Greek and Cyrillic, the letters Windows' upcase table
 * folds that key names use in practice. */
static uint16_t upcase(uint16_t c)
{
	if (c >= 'a' && c <= 'z')
		return (uint16_t)(c - 32);
	if (c < 0xe0)
		return c;
	if (c <= 0xfe)
		return c == 0xf7 ? c : (uint16_t)(c - 32);
	if (c == 0xff)
		return 0x178;
	if (c >= 0x100 && c <= 0x17f) {
		bool odd_lower = (c <= 0x137) || (c >= 0x14a && c <= 0x177);
		bool even_lower = (c >= 0x139 && c <= 0x148) ||
				  (c >= 0x179 && c <= 0x17e);
		if ((odd_lower && (c & 1)) || (even_lower && !(c & 1)))
			return (uint16_t)(c - 1);
		return c;
	}
	if ((c >= 0x3b1 && c <= 0x3c1) || (c >= 0x3c3 && c <= 0x3cb))
		return (uint16_t)(c - 32);
	if (c >= 0x430 && c <= 0x44f)
		return (uint16_t)(c - 32);
	if (c >= 0x450 && c <= 0x45f)
		return (uint16_t)(c - 80);
	return c;
}

/* UTF-8 (a lookup's path component, len bytes) → upper-cased UTF-16.
 * Invalid sequences become U+FFFD, which no stored name matches
 * unless it holds one too. false: longer than any key name. */
static bool uname_from_utf8(struct uname *n, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;

	n->n = 0;
	while (p < end) {
		uint32_t cp = *p++;
		unsigned more = 0;

		if (cp >= 0xf0 && cp < 0xf5) {
			more = 3;
			cp &= 0x07;
		} else if (cp >= 0xe0 && cp < 0xf0) {
			more = 2;
			cp &= 0x0f;
		} else if (cp >= 0xc2 && cp < 0xe0) {
			more = 1;
			cp &= 0x1f;
		} else if (cp >= 0x80) {
			cp = 0xfffd;
		}
		for (; more > 0; more--) {
			if (p == end || (*p & 0xc0) != 0x80) {
				cp = 0xfffd;
				break;
			}
			cp = cp << 6 | (*p++ & 0x3f);
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			cp = 0xfffd;
		if (n->n + (cp >= 0x10000 ? 2 : 1) > HIVE_MAX_KEY_NAME_UNITS)
			return false;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			n->u[n->n++] = (uint16_t)(0xd800 | cp >> 10);
			n->u[n->n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			n->u[n->n++] = upcase((uint16_t)cp);
		}
	}
	return true;
}

/* The lh hash of a name (libyal: h = h * 37 + upcase(unit)). */
static uint32_t uname_hash(const struct uname *n)
{
	uint32_t hash = 0;

	for (size_t i = 0; i < n->n; i++)
		hash = hash * 37 + n->u[i];
	return hash;
}

/* Read a stored name (name_len bytes at off; compressed: Latin-1, else
 * UTF-16LE) into h->name_raw. */
static int name_read(struct hive *h, uint32_t off, uint32_t name_len,
		     bool compressed, const char *what, uint32_t cell_at)
{
	if (name_len > HIVE_MAX_NAME_BYTES)
		return hive_limit(h, "hive: %s 0x%" PRIx32 ": name of %" PRIu32
				  " bytes", what, cell_at, name_len);
	if (!compressed && name_len % 2 != 0)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: %s 0x%" PRIx32
				    ": odd UTF-16 name length %" PRIu32,
				    what, cell_at, name_len);
	return hive_read(h, off, h->name_raw, name_len);
}

/* Does the name just read (h->name_raw) equal want, case-insensitively? */
static bool name_equal(const struct hive *h, uint32_t name_len,
		       bool compressed, const struct uname *want)
{
	size_t units = compressed ? name_len : name_len / 2;

	if (units != want->n)
		return false;
	for (size_t i = 0; i < units; i++) {
		uint16_t c = compressed ? h->name_raw[i]
					: get_le16(h->name_raw + 2 * i);
		if (upcase(c) != want->u[i])
			return false;
	}
	return true;
}

/* h->name_raw as UTF-8 in h->name_utf8. */
static const char *name_utf8(struct hive *h, uint32_t name_len,
			     bool compressed)
{
	if (!compressed) {
		utf16_to_utf8(h->name_raw, name_len / 2, false, h->name_utf8);
		return h->name_utf8;
	}
	size_t o = 0;
	for (uint32_t i = 0; i < name_len; i++) {
		uint8_t c = h->name_raw[i];

		if (c == 0)
			break;
		if (c < 0x80) {
			h->name_utf8[o++] = (char)c;
		} else {
			h->name_utf8[o++] = (char)(0xc0 | c >> 6);
			h->name_utf8[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	h->name_utf8[o] = '\0';
	return h->name_utf8;
}

/* ---- keys ---- */

struct nk {
	uint32_t at;
	uint16_t flags;
	uint32_t parent;
	uint32_t n_subkeys, subkeys;
	uint32_t n_values, values;
	uint32_t name_len;
	uint32_t name_off;
};

static int nk_get(struct hive *h, uint32_t off, struct nk *nk)
{
	uint8_t b[NK_NAME];
	struct cell c;
	int r;

	r = cell_get(h, off, NK_NAME, "key", &c);
	if (r < 0)
		return r;
	r = hive_read(h, c.off, b, sizeof(b));
	if (r < 0)
		return r;
	if (memcmp(b, "nk", 2) != 0)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: cell 0x%" PRIx32
				    " is not a key (\"%.2s\")",
				    off, (const char *)b);
	nk->at = off;
	nk->flags = get_le16(b + NK_FLAGS);
	nk->parent = get_le32(b + NK_PARENT);
	nk->n_subkeys = get_le32(b + NK_N_SUBKEYS);
	nk->subkeys = get_le32(b + NK_SUBKEYS);
	nk->n_values = get_le32(b + NK_N_VALUES);
	nk->values = get_le32(b + NK_VALUES);
	nk->name_len = get_le16(b + NK_NAME_LEN);
	nk->name_off = c.off + NK_NAME;
	if (nk->name_len > c.len - NK_NAME)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: key 0x%" PRIx32 ": name of %" PRIu32
				    " bytes past its cell (%" PRIu32 ")",
				    off, nk->name_len, c.len);
	if (nk->n_subkeys > HIVE_MAX_SUBKEYS)
		return hive_limit(h, "hive: key 0x%" PRIx32 ": %" PRIu32
				  " subkeys", off, nk->n_subkeys);
	if (nk->n_values > HIVE_MAX_VALUES)
		return hive_limit(h, "hive: key 0x%" PRIx32 ": %" PRIu32
				  " values", off, nk->n_values);
	return 0;
}

static int nk_name(struct hive *h, const struct nk *nk)
{
	return name_read(h, nk->name_off, nk->name_len,
			 nk->flags & NK_COMP_NAME, "key", nk->at);
}

/*
 * Every entry of a key's subkey lists: visit(ud, child, hash, has_hash)
 * for each (has_hash for lh entries). lf/lh/li lists, or an ri list of
 * those (one level, as Windows writes them: an ri naming an ri is
 * refused, itself a loop). The entries must add up to the key's
 * count. A non-zero visit() return stops the walk and is returned.
 */
typedef int (*list_visit)(struct hive *h, void *ud, uint32_t child,
			  uint32_t hash, bool has_hash);

struct list_walk {
	const struct nk *key;
	list_visit visit;
	void *ud;
	uint32_t seen;
};

static int walk_leaf(struct hive *h, struct list_walk *w, uint32_t off,
		     uint32_t parent_ri)
{
	uint8_t b[8];
	struct cell c;
	uint32_t count, width;
	bool hashed;
	int r;

	r = cell_get(h, off, 4, "subkey list", &c);
	if (r < 0)
		return r;
	r = hive_read(h, c.off, b, 4);
	if (r < 0)
		return r;
	count = get_le16(b + 2);
	if (memcmp(b, "lf", 2) == 0 || memcmp(b, "lh", 2) == 0) {
		width = 8;
	} else if (memcmp(b, "li", 2) == 0) {
		width = 4;
	} else if (memcmp(b, "ri", 2) == 0) {
		if (parent_ri == HIVE_NONE) {
			if ((uint64_t)count * 4 > c.len - 4)
				return iw_diag_fail(
					h->d, -EINVAL, SCAN_E_HIVE_CELL,
					"hive: ri list 0x%" PRIx32
					": %" PRIu32 " entries past its cell",
					off, count);
			for (uint32_t i = 0; i < count; i++) {
				uint32_t leaf;

				r = read_u32(h, c.off + 4 + 4 * i, &leaf);
				if (r < 0)
					return r;
				r = walk_leaf(h, w, leaf, off);
				if (r != 0)
					return r;
			}
			return 0;
		}
		if (off == parent_ri)
			return iw_diag_fail(h->d, -ELOOP, SCAN_E_HIVE_LOOP,
					    "hive: ri list 0x%" PRIx32
					    " names itself",
					    off);
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: ri list 0x%" PRIx32
				    " names another ri list 0x%" PRIx32,
				    parent_ri, off);
	} else {
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: cell 0x%" PRIx32
				    " is not a subkey list (\"%.2s\")",
				    off, (const char *)b);
	}
	if ((uint64_t)count * width > c.len - 4)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: subkey list 0x%" PRIx32 ": %" PRIu32
				    " entries past its cell",
				    off, count);
	if (count > w->key->n_subkeys - w->seen)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: key 0x%" PRIx32
				    ": subkey lists hold more than its %" PRIu32
				    " subkeys",
				    w->key->at, w->key->n_subkeys);
	hashed = memcmp(b, "lh", 2) == 0;
	for (uint32_t i = 0; i < count; i++) {
		r = hive_read(h, c.off + 4 + width * i, b, width);
		if (r < 0)
			return r;
		w->seen++;
		if (get_le32(b) == w->key->at)
			return iw_diag_fail(h->d, -ELOOP, SCAN_E_HIVE_LOOP,
					    "hive: key 0x%" PRIx32
					    " lists itself as a subkey",
					    w->key->at);
		r = w->visit(h, w->ud, get_le32(b),
			     hashed ? get_le32(b + 4) : 0, hashed);
		if (r != 0)
			return r;
	}
	return 0;
}

static int walk_subkeys(struct hive *h, const struct nk *key,
			list_visit visit, void *ud)
{
	struct list_walk w = { .key = key, .visit = visit, .ud = ud };
	int r;

	if (key->n_subkeys == 0)
		return 0;
	r = walk_leaf(h, &w, key->subkeys, HIVE_NONE);
	if (r != 0)
		return r;
	if (w.seen != key->n_subkeys)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: key 0x%" PRIx32 ": %" PRIu32
				    " subkeys listed, %" PRIu32 " counted",
				    key->at, w.seen, key->n_subkeys);
	return 0;
}

struct find_child {
	const struct uname *want;
	uint32_t hash;
	bool second_pass;
	uint32_t found;
};

/* 1 when child is the one wanted. First pass: only lh entries whose hash
 * matches; second: every other entry (a hash is a hint: an editor may
 * have computed it differently, e.g. hivex folds ASCII only). */
static int find_child_visit(struct hive *h, void *ud, uint32_t child,
			    uint32_t hash, bool has_hash)
{
	struct find_child *f = ud;
	bool hint = has_hash && hash == f->hash;
	struct nk nk;
	int r;

	if (hint == f->second_pass)
		return 0;
	r = nk_get(h, child, &nk);
	if (r < 0)
		return r;
	if ((nk.flags & NK_COMP_NAME ? nk.name_len : nk.name_len / 2) !=
	    f->want->n)
		return 0;
	r = nk_name(h, &nk);
	if (r < 0)
		return r;
	if (!name_equal(h, nk.name_len, nk.flags & NK_COMP_NAME, f->want))
		return 0;
	f->found = child;
	return 1;
}

static int find_child(struct hive *h, const struct nk *key,
		      const struct uname *want, uint32_t *ret)
{
	struct find_child f = { .want = want, .hash = uname_hash(want) };
	int r;

	for (int pass = 0; pass < 2; pass++) {
		f.second_pass = pass == 1;
		r = walk_subkeys(h, key, find_child_visit, &f);
		if (r < 0)
			return r;
		if (r > 0) {
			*ret = f.found;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- values ---- */

struct vk {
	uint32_t at;
	uint32_t name_len;
	uint32_t name_off;
	bool compressed;
	uint32_t raw_len; /* with the inline flag */
	uint32_t data;
	uint32_t type;
};

static int vk_get(struct hive *h, uint32_t off, struct vk *vk)
{
	uint8_t b[VK_NAME];
	struct cell c;
	int r;

	r = cell_get(h, off, VK_NAME, "value", &c);
	if (r < 0)
		return r;
	r = hive_read(h, c.off, b, sizeof(b));
	if (r < 0)
		return r;
	if (memcmp(b, "vk", 2) != 0)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: cell 0x%" PRIx32
				    " is not a value (\"%.2s\")",
				    off, (const char *)b);
	vk->at = off;
	vk->name_len = get_le16(b + VK_NAME_LEN);
	vk->name_off = c.off + VK_NAME;
	vk->compressed = get_le16(b + VK_FLAGS) & VK_COMP_NAME;
	vk->raw_len = get_le32(b + VK_DATA_LEN);
	vk->data = get_le32(b + VK_DATA);
	vk->type = get_le32(b + VK_TYPE);
	if (vk->name_len > c.len - VK_NAME)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: value 0x%" PRIx32
				    ": name of %" PRIu32
				    " bytes past its cell (%" PRIu32 ")",
				    off, vk->name_len, c.len);
	return 0;
}

/* Each value of a key: visit(ud, vk); non-zero stops. */
typedef int (*value_visit)(struct hive *h, void *ud, const struct vk *vk);

static int walk_values(struct hive *h, const struct nk *key,
		       value_visit visit, void *ud)
{
	struct cell c;
	int r;

	if (key->n_values == 0)
		return 0;
	r = cell_get(h, key->values, 0, "value list", &c);
	if (r < 0)
		return r;
	if ((uint64_t)key->n_values * 4 > c.len)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_CELL,
				    "hive: key 0x%" PRIx32 ": %" PRIu32
				    " values past its value list's cell",
				    key->at, key->n_values);
	for (uint32_t i = 0; i < key->n_values; i++) {
		uint32_t off;
		struct vk vk;

		r = read_u32(h, c.off + 4 * i, &off);
		if (r < 0)
			return r;
		r = vk_get(h, off, &vk);
		if (r < 0)
			return r;
		r = visit(h, ud, &vk);
		if (r != 0)
			return r;
	}
	return 0;
}

struct find_value {
	struct uname want;
	struct vk found;
};

static int find_value_visit(struct hive *h, void *ud, const struct vk *vk)
{
	struct find_value *f = ud;
	int r;

	if ((vk->compressed ? vk->name_len : vk->name_len / 2) != f->want.n)
		return 0;
	r = name_read(h, vk->name_off, vk->name_len, vk->compressed, "value",
		      vk->at);
	if (r < 0)
		return r;
	if (!name_equal(h, vk->name_len, vk->compressed, &f->want))
		return 0;
	f->found = *vk;
	return 1;
}

static int find_value(struct hive *h, hive_node key, const char *name,
		      struct vk *ret)
{
	struct find_value *f;
	struct nk nk;
	int r;

	r = nk_get(h, key, &nk);
	if (r < 0)
		return r;
	f = malloc(sizeof(*f));
	if (!f)
		return iw_diag_fail(h->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "hive: no memory");
	/* a value name longer than a key name is not one we look up */
	if (!uname_from_utf8(&f->want, name, strlen(name))) {
		free(f);
		return -ENOENT;
	}
	r = walk_values(h, &nk, find_value_visit, f);
	if (r > 0)
		*ret = f->found;
	free(f);
	if (r < 0)
		return r;
	return r > 0 ? 0 : -ENOENT;
}

/*
 * Read up to `want` bytes of a value's data into buf (which holds want
 * bytes); *ret_total gets the data's full length. Inline data (length
 * flag 0x80000000, at most 4 bytes in the offset field), one data cell,
 * or big data: a db cell, its segment list, segments of 16344 bytes.
 */
static int vk_data(struct hive *h, const struct vk *vk, uint8_t *buf,
		   size_t want, size_t *ret_total)
{
	uint32_t len = vk->raw_len & ~VK_DATA_INLINE;
	uint8_t b[8];
	struct cell c, list;
	uint32_t count;
	size_t done;
	int r;

	if (len > HIVE_MAX_VALUE_LEN)
		return hive_limit(h, "hive: value 0x%" PRIx32
				  ": %" PRIu32 " bytes of data",
				  vk->at, len);
	*ret_total = len;
	want = MIN(want, (size_t)len);
	if (vk->raw_len & VK_DATA_INLINE) {
		if (len > 4)
			return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_VALUE,
					    "hive: value 0x%" PRIx32
					    ": %" PRIu32
					    " bytes of inline data",
					    vk->at, len);
		put_le32(b, vk->data);
		memcpy(buf, b, want);
		return 0;
	}
	if (len == 0)
		return 0;
	r = cell_get(h, vk->data, 0, "value data", &c);
	if (r < 0)
		return r;
	if (len <= c.len)
		return hive_read(h, c.off, buf, want);
	/* longer than its cell: only big data may be (Windows writes it for
	 * more than 16344 bytes in hives of version 1.4 and later; hivex
	 * reads it whatever the version) */
	if (len <= HIVE_BIG_SEGMENT || c.len < 8)
		goto past_cell;
	r = hive_read(h, c.off, b, 8);
	if (r < 0)
		return r;
	if (memcmp(b, "db", 2) != 0)
		goto past_cell;
	count = get_le16(b + 2);
	if (count > HIVE_MAX_DB_SEGMENTS)
		return hive_limit(h, "hive: value 0x%" PRIx32
				  ": big data in %" PRIu32 " segments",
				  vk->at, count);
	if ((uint64_t)count * HIVE_BIG_SEGMENT < len)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_VALUE,
				    "hive: value 0x%" PRIx32 ": %" PRIu32
				    " bytes in %" PRIu32 " big-data segments",
				    vk->at, len, count);
	r = cell_get(h, get_le32(b + 4), 4 * count, "big-data list", &list);
	if (r < 0)
		return r;
	done = 0;
	for (uint32_t i = 0; i < count && done < want; i++) {
		uint32_t seg_off;
		size_t n = MIN((size_t)HIVE_BIG_SEGMENT, want - done);
		struct cell seg;

		r = read_u32(h, list.off + 4 * i, &seg_off);
		if (r < 0)
			return r;
		r = cell_get(h, seg_off, 0, "big-data segment", &seg);
		if (r < 0)
			return r;
		if (n > seg.len)
			return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_VALUE,
					    "hive: value 0x%" PRIx32
					    ": big-data segment 0x%" PRIx32
					    " holds %" PRIu32 " bytes",
					    vk->at, seg_off, seg.len);
		r = hive_read(h, seg.off, buf + done, n);
		if (r < 0)
			return r;
		done += n;
	}
	return 0;

past_cell:
	return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_VALUE,
			    "hive: value 0x%" PRIx32 ": %" PRIu32
			    " bytes of data past its cell 0x%" PRIx32
			    " (%" PRIu32 ")",
			    vk->at, len, vk->data, c.len);
}

/* ---- the API ---- */

int hive_open(const struct iw_view *v, struct iw_diag *d, struct hive **ret)
{
	_cleanup_free_ struct hive *h = NULL;
	uint8_t b[512];
	uint32_t sum = 0, stored, major, type, format;
	struct nk root;
	int r;

	r = iw_view_read(v, b, sizeof(b), 0);
	if (r == -ERANGE)
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: %" PRIu64 " bytes: no base block",
				    v->size);
	if (r < 0)
		return iw_diag_fail(d, r, SCAN_E_IO,
				    "hive: base block unreadable");
	if (memcmp(b, "regf", 4) != 0)
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: no regf signature");
	/* XOR of the first 127 dwords; Windows stores 0xfffffffe for
	 * 0xffffffff and 1 for 0 (HvpHeaderCheckSum), hivex the plain XOR */
	for (unsigned i = 0; i < 508; i += 4)
		sum ^= get_le32(b + i);
	stored = get_le32(b + 508);
	if (stored != sum && !(sum == UINT32_MAX && stored == UINT32_MAX - 1) &&
	    !(sum == 0 && stored == 1))
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: base block checksum 0x%08" PRIx32
				    ", computed 0x%08" PRIx32,
				    stored, sum);
	major = get_le32(b + 20);
	h = calloc(1, sizeof(*h));
	if (!h)
		return iw_diag_fail(d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "hive: no memory");
	h->v = v;
	h->d = d;
	h->minor = get_le32(b + 24);
	type = get_le32(b + 28);
	format = get_le32(b + 32);
	h->root = get_le32(b + 36);
	h->data_size = get_le32(b + 40);
	/* a primary file (not a log), "direct memory load" format, versions
	 * 1.2 (NT 3.5) to 1.6 (Windows 10), as HvpGetHiveHeader requires */
	if (major != 1 || h->minor < 2 || h->minor > 6)
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: version %" PRIu32 ".%" PRIu32,
				    major, h->minor);
	if (type != 0 || format != 1)
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: file type %" PRIu32
				    ", format %" PRIu32
				    " (not a primary hive)",
				    type, format);
	if (h->data_size < HIVE_PAGE || h->data_size % HIVE_PAGE != 0 ||
	    h->data_size > HIVE_MAX_DATA_SIZE)
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: hive bins data size 0x%" PRIx32,
				    h->data_size);
	if (!iw_view_contains(v, HIVE_BASE_BLOCK, h->data_size))
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: bins end at %" PRIu64
				    ", past the end of the file "
				    "(%" PRIu64 " bytes)",
				    (uint64_t)HIVE_BASE_BLOCK + h->data_size,
				    v->size);
	if (h->root >= h->data_size)
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: root cell offset 0x%" PRIx32
				    " past the bins (0x%" PRIx32 ")",
				    h->root, h->data_size);
	/* the sequence numbers differ while a write is in flight: the
	 * hive is as the log left it unreplayed (still readable) */
	h->dirty = get_le32(b + 4) != get_le32(b + 8);
	r = hive_read(h, 0, b, 4);
	if (r < 0)
		return r;
	if (memcmp(b, "hbin", 4) != 0)
		return iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_HEADER,
				    "hive: no bin at the start of the data");
	r = nk_get(h, h->root, &root);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(h);
	return 0;
}

void hive_close(struct hive *h)
{
	free(h);
}

hive_node hive_root(const struct hive *h)
{
	return h->root;
}

bool hive_dirty(const struct hive *h)
{
	return h->dirty;
}

int hive_lookup(struct hive *h, hive_node from, const char *path,
		hive_node *ret)
{
	_cleanup_free_ struct uname *want = NULL;
	/* the keys of the path so far: a subkey that is one of them is a
	 * loop (a list naming an ancestor) */
	_cleanup_free_ uint32_t *stack = NULL;
	unsigned depth = 0;
	uint32_t cur = from;
	struct nk nk;
	int r;

	want = malloc(sizeof(*want));
	stack = malloc(HIVE_MAX_DEPTH * sizeof(*stack));
	if (!want || !stack)
		return iw_diag_fail(h->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "hive: no memory");
	r = nk_get(h, cur, &nk);
	if (r < 0)
		return r;
	stack[depth++] = cur;
	while (*path) {
		const char *sep = strchr(path, '\\');
		size_t len = sep ? (size_t)(sep - path) : strlen(path);
		uint32_t child;

		if (len == 0) { /* "\\a", "a\\\\b": empty components */
			path++;
			continue;
		}
		if (!uname_from_utf8(want, path, len))
			return -ENOENT;
		path += len;
		if (depth >= HIVE_MAX_DEPTH)
			return hive_limit(h, "hive: path deeper than %u keys",
					  HIVE_MAX_DEPTH);
		r = find_child(h, &nk, want, &child);
		if (r < 0)
			return r;
		for (unsigned i = 0; i < depth; i++)
			if (stack[i] == child)
				return iw_diag_fail(h->d, -ELOOP,
						    SCAN_E_HIVE_LOOP,
						    "hive: key 0x%" PRIx32
						    " lists its ancestor 0x%"
						    PRIx32 " as a subkey",
						    cur, child);
		r = nk_get(h, child, &nk);
		if (r < 0)
			return r;
		stack[depth++] = child;
		cur = child;
	}
	*ret = cur;
	return 0;
}

struct subkeys_ctx {
	const struct nk *key;
	hive_subkey_cb cb;
	void *ud;
};

static int subkeys_visit(struct hive *h, void *ud, uint32_t child,
			 uint32_t hash, bool has_hash)
{
	struct subkeys_ctx *s = ud;
	struct nk nk;
	int r;

	/* (a root's parent field names a cell of the master hive) */
	if (!(s->key->flags & NK_HIVE_ENTRY) && child == s->key->parent)
		return iw_diag_fail(h->d, -ELOOP, SCAN_E_HIVE_LOOP,
				    "hive: key 0x%" PRIx32
				    " lists its parent 0x%" PRIx32
				    " as a subkey",
				    s->key->at, child);
	r = nk_get(h, child, &nk);
	if (r < 0)
		return r;
	r = nk_name(h, &nk);
	if (r < 0)
		return r;
	return s->cb(s->ud, name_utf8(h, nk.name_len, nk.flags & NK_COMP_NAME),
		     child);
}

int hive_subkeys(struct hive *h, hive_node key, hive_subkey_cb cb, void *ud)
{
	struct nk nk;
	struct subkeys_ctx s = { .key = &nk, .cb = cb, .ud = ud };
	int r;

	r = nk_get(h, key, &nk);
	if (r < 0)
		return r;
	return walk_subkeys(h, &nk, subkeys_visit, &s);
}

int hive_key_name(struct hive *h, hive_node key, char *out, size_t out_len)
{
	struct nk nk;
	int r;

	r = nk_get(h, key, &nk);
	if (r < 0)
		return r;
	r = nk_name(h, &nk);
	if (r < 0)
		return r;
	if (out_len == 0)
		return -EINVAL;
	const char *name = name_utf8(h, nk.name_len, nk.flags & NK_COMP_NAME);
	size_t n = strlen(name);

	if (n >= out_len) { /* cut at a character boundary */
		n = out_len - 1;
		while (n > 0 && ((uint8_t)name[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, name, n);
	out[n] = '\0';
	return 0;
}

struct walk_ctx {
	struct hive *h;
	hive_walk_cb cb;
	void *ud;
	size_t max_keys, n_keys;
	unsigned depth;
	uint32_t stack[HIVE_MAX_DEPTH];
};

static int walk_visit(void *ud, const char *name, hive_node child);

static int walk_key(struct walk_ctx *w, const char *name, hive_node key)
{
	struct hive *h = w->h;
	int r;

	for (unsigned i = 0; i < w->depth; i++)
		if (w->stack[i] == key)
			return iw_diag_fail(h->d, -ELOOP, SCAN_E_HIVE_LOOP,
					    "hive: key 0x%" PRIx32
					    " is its own ancestor",
					    key);
	if (w->depth >= HIVE_MAX_DEPTH)
		return hive_limit(h, "hive: keys deeper than %u levels",
				  HIVE_MAX_DEPTH);
	if (w->n_keys >= w->max_keys)
		return hive_limit(h, "hive: more than %zu keys", w->max_keys);
	w->n_keys++;
	r = w->cb(w->ud, name, key, w->depth);
	if (r != 0)
		return r;
	w->stack[w->depth++] = key;
	/* hive_subkeys() calls walk_visit() → walk_key(): the recursion
	 * is bounded by HIVE_MAX_DEPTH above */
	r = hive_subkeys(h, key, walk_visit, w);
	w->depth--;
	return r;
}

static int walk_visit(void *ud, const char *name, hive_node child)
{
	return walk_key(ud, name, child);
}

int hive_walk(struct hive *h, hive_node key, size_t max_keys,
	      hive_walk_cb cb, void *ud)
{
	_cleanup_free_ struct walk_ctx *w = calloc(1, sizeof(*w));

	if (!w)
		return iw_diag_fail(h->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "hive: no memory");
	w->h = h;
	w->cb = cb;
	w->ud = ud;
	w->max_keys = max_keys;
	return walk_key(w, "", key);
}

int hive_value(struct hive *h, hive_node key, const char *name,
	       size_t cap, uint32_t *ret_type, void **ret_data,
	       size_t *ret_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct vk vk;
	size_t total;
	uint32_t len;
	int r;

	r = find_value(h, key, name, &vk);
	if (r < 0)
		return r;
	len = vk.raw_len & ~VK_DATA_INLINE;
	if (len > cap || len > HIVE_MAX_VALUE_LEN)
		return hive_limit(h, "hive: value 0x%" PRIx32 ": %" PRIu32
				  " bytes of data (at most %zu read)",
				  vk.at, len, MIN(cap, (size_t)HIVE_MAX_VALUE_LEN));
	buf = malloc(len ? len : 1);
	if (!buf)
		return iw_diag_fail(h->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "hive: no memory for %" PRIu32 " bytes",
				    len);
	r = vk_data(h, &vk, buf, len, &total);
	if (r < 0)
		return r;
	*ret_type = vk.type;
	*ret_len = len;
	*ret_data = TAKE_PTR(buf);
	return 0;
}

struct values_ctx {
	size_t cap;
	hive_value_cb cb;
	void *ud;
	uint8_t *buf;
};

static int values_visit(struct hive *h, void *ud, const struct vk *vk)
{
	struct values_ctx *s = ud;
	uint32_t len = vk->raw_len & ~VK_DATA_INLINE;
	size_t total;
	int r;

	if (len > s->cap || len > HIVE_MAX_VALUE_LEN)
		return hive_limit(h, "hive: value 0x%" PRIx32 ": %" PRIu32
				  " bytes of data (at most %zu read)",
				  vk->at, len,
				  MIN(s->cap, (size_t)HIVE_MAX_VALUE_LEN));
	r = vk_data(h, vk, s->buf, len, &total);
	if (r < 0)
		return r;
	r = name_read(h, vk->name_off, vk->name_len, vk->compressed, "value",
		      vk->at);
	if (r < 0)
		return r;
	return s->cb(s->ud, name_utf8(h, vk->name_len, vk->compressed),
		     vk->type, s->buf, len);
}

int hive_values(struct hive *h, hive_node key, size_t cap, hive_value_cb cb,
		void *ud)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct values_ctx s = { .cap = cap, .cb = cb, .ud = ud };
	struct nk nk;
	int r;

	r = nk_get(h, key, &nk);
	if (r < 0)
		return r;
	if (nk.n_values == 0)
		return 0;
	s.cap = MIN(cap, (size_t)HIVE_MAX_VALUE_LEN);
	buf = malloc(s.cap ? s.cap : 1);
	if (!buf)
		return iw_diag_fail(h->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "hive: no memory");
	s.buf = buf;
	return walk_values(h, &nk, values_visit, &s);
}

size_t hive_sz_to_utf8(const void *data, size_t len, char *out,
		       size_t out_len)
{
	size_t units = len / 2, o, cut;
	_cleanup_free_ char *tmp = NULL;

	if (out_len == 0)
		return 0;
	/* each unit is at least one byte of UTF-8: more than out_len units
	 * cannot fit (an odd trailing byte is not a unit: ignored) */
	units = MIN(units, out_len);
	tmp = malloc(UTF16_UTF8_MAX(units));
	if (!tmp) {
		out[0] = '\0';
		return 0;
	}
	o = utf16_to_utf8(data, units, false, tmp);
	cut = MIN(o, out_len - 1);
	/* back to a character boundary: not inside a sequence */
	while (cut > 0 && cut < o && ((uint8_t)tmp[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(out, tmp, cut);
	out[cut] = '\0';
	return cut;
}

int hive_value_string(struct hive *h, hive_node key, const char *name,
		      char *out, size_t out_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct vk vk;
	size_t total, want;
	int r;

	if (out_len == 0)
		return -EINVAL;
	out[0] = '\0';
	r = find_value(h, key, name, &vk);
	if (r < 0)
		return r;
	if (vk.type != HIVE_REG_SZ && vk.type != HIVE_REG_EXPAND_SZ)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_VALUE,
				    "hive: value \"%s\" has type %" PRIu32
				    ", not a string",
				    name, vk.type);
	/* only as much as out can show (2 bytes a unit, one unit at least
	 * one byte of UTF-8): a long string is cut, not refused */
	want = MIN((size_t)(vk.raw_len & ~VK_DATA_INLINE),
		   MIN(out_len, (size_t)HIVE_MAX_VALUE_LEN) * 2);
	buf = malloc(want ? want : 1);
	if (!buf)
		return iw_diag_fail(h->d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "hive: no memory");
	r = vk_data(h, &vk, buf, want, &total);
	if (r < 0)
		return r;
	hive_sz_to_utf8(buf, want, out, out_len);
	return 0;
}

int hive_value_dword(struct hive *h, hive_node key, const char *name,
		     uint32_t *ret)
{
	uint8_t b[4];
	struct vk vk;
	size_t total;
	int r;

	r = find_value(h, key, name, &vk);
	if (r < 0)
		return r;
	if ((vk.type != HIVE_REG_DWORD && vk.type != HIVE_REG_DWORD_BIG_ENDIAN) ||
	    (vk.raw_len & ~VK_DATA_INLINE) != 4)
		return iw_diag_fail(h->d, -EINVAL, SCAN_E_HIVE_VALUE,
				    "hive: value \"%s\": type %" PRIu32
				    ", %" PRIu32 " bytes: not a DWORD",
				    name, vk.type, vk.raw_len & ~VK_DATA_INLINE);
	r = vk_data(h, &vk, b, 4, &total);
	if (r < 0)
		return r;
	*ret = vk.type == HIVE_REG_DWORD ? get_le32(b) : get_be32(b);
	return 0;
}
