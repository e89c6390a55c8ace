/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMDK: hosted sparse extents ("KDMV": monolithicSparse, streamOptimized),
 * ESX 2.x "COWD" extents (detected, not accepted) and text descriptors.
 *
 * VMDK is the format of the best-known image leaks: a text descriptor
 * naming a host file as a FLAT extent makes `qemu-img convert` copy it
 * (OSSA-2023-002 / CVE-2022-47951), also when the descriptor hides in a
 * "raw" upload (OSSA-2024-002). So every extent name is reported and, where
 * qemu (or another VMDK reader) would open it, is an external-extent.
 *
 * We read descriptors twice: once with the VMDK 5.0 line grammar (what
 * VMware and strict readers see), once the way qemu 7.2 reads them
 * (block/vmdk.c: strstr() for createType, CID, parentCID and
 * parentFileNameHint anywhere in the text, comments included; sscanf()
 * from every line start for extents, with whitespace that may span
 * lines). Anything qemu would follow is reported even when the grammar
 * rejects the line, and a disagreement between the two readings is a
 * finding of its own.
 */
#include <errno.h>
#include <string.h>

#include "../bytes.h"
#include "formats.h"
#include "../probe.h"
#include "vmdk.h"

/* Bounds of our own (qemu has none, or bigger ones): */
/* GD bytes we read to check entries: 4 Mi entries cover 128 TiB at the
 * default 64 KiB grain, far above the 2 TiB a hosted sparse extent holds */
#define VMDK_GD_CHECK_MAX_BYTES (16u * 1024 * 1024)
/* grain tables we read to check grain offsets (2 KiB each: 8 MiB, i.e.
 * every GT of a 128 GiB disk at 64 KiB grains); beyond, sample stops */
#define VMDK_GT_CHECK_MAX 4096u
/* how many individual extent findings before one summary */
#define VMDK_MAX_EXTENT_FINDINGS 16u
#define VMDK_CHUNK (64u * 1024)

/* ---- decoding ------------------------------------------------------------ */

void vmdk4_parse_header(const uint8_t *s, struct vmdk4_header *h)
{
	/* VMDK 5.0 SparseExtentHeader, little-endian, packed */
	h->version = get_le32(s + 4);
	h->flags = get_le32(s + 8);
	h->capacity = get_le64(s + 12);
	h->grain_size = get_le64(s + 20);
	h->desc_offset = get_le64(s + 28);
	h->desc_size = get_le64(s + 36);
	h->num_gtes_per_gt = get_le32(s + 44);
	h->rgd_offset = get_le64(s + 48);
	h->gd_offset = get_le64(s + 56);
	h->overhead = get_le64(s + 64);
	h->unclean_shutdown = s[72];
	memcpy(h->nl_check, s + 73, 4);
	h->compress_algorithm = get_le16(s + 77);
}

int vmdk4_layout(const struct vmdk4_header *h, struct vmdk4_layout *ret)
{
	struct vmdk4_layout l = { 0 };
	uint64_t gt_cover;

	if (h->grain_size == 0 || h->num_gtes_per_gt == 0)
		return -EINVAL;
	if (MUL_OVERFLOW(h->capacity, (uint64_t)VMDK_SECTOR_SIZE,
			 &l.virtual_size) ||
	    MUL_OVERFLOW(h->grain_size, (uint64_t)VMDK_SECTOR_SIZE,
			 &l.grain_bytes) ||
	    MUL_OVERFLOW(h->grain_size, (uint64_t)h->num_gtes_per_gt,
			 &gt_cover))
		return -EOVERFLOW;
	l.gt_bytes = (uint64_t)h->num_gtes_per_gt * 4;
	/* ceil(capacity / gt_cover) without overflowing capacity + cover */
	l.gd_entries = h->capacity / gt_cover + (h->capacity % gt_cover != 0);
	if (MUL_OVERFLOW(l.gd_entries, (uint64_t)4, &l.gd_bytes))
		return -EOVERFLOW;
	if (MUL_OVERFLOW(h->gd_offset, (uint64_t)VMDK_SECTOR_SIZE,
			 &l.gd_offset))
		return -EOVERFLOW;
	if (h->flags & VMDK4_FLAG_RGD) {
		if (MUL_OVERFLOW(h->rgd_offset, (uint64_t)VMDK_SECTOR_SIZE,
				 &l.rgd_offset))
			return -EOVERFLOW;
	}
	l.compressed = h->compress_algorithm == VMDK4_COMPRESSION_DEFLATE;
	l.markers = h->flags & VMDK4_FLAG_MARKER;
	l.zero_grain = h->flags & VMDK4_FLAG_ZERO_GRAIN;
	*ret = l;
	return 0;
}

void vmdk3_parse_header(const uint8_t *s, struct vmdk3_header *h)
{
	h->version = get_le32(s + 4);
	h->flags = get_le32(s + 8);
	h->disk_sectors = get_le32(s + 12);
	h->granularity = get_le32(s + 16);
	h->l1dir_offset = get_le32(s + 20);
	h->l1dir_size = get_le32(s + 24);
	h->file_sectors = get_le32(s + 28);
}

/* ---- the descriptor grammar ---------------------------------------------- */

static const struct {
	const char *name;
	enum vmdk_extent_type type;
} vmdk_extent_types[] = {
	{ "SPARSE", VMDK_EXTENT_SPARSE },
	{ "FLAT", VMDK_EXTENT_FLAT },
	{ "ZERO", VMDK_EXTENT_ZERO },
	{ "VMFS", VMDK_EXTENT_VMFS },
	{ "VMFSSPARSE", VMDK_EXTENT_VMFSSPARSE },
	{ "VMFSRDM", VMDK_EXTENT_VMFSRDM },
	{ "VMFSRAW", VMDK_EXTENT_VMFSRAW },
	{ "SESPARSE", VMDK_EXTENT_SESPARSE },
};

const char *vmdk_extent_type_name(enum vmdk_extent_type t)
{
	for (size_t i = 0; i < ARRAY_SIZE(vmdk_extent_types); i++)
		if (vmdk_extent_types[i].type == t)
			return vmdk_extent_types[i].name;
	return "?";
}

static bool vmdk_text_eq(const char *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

static bool vmdk_text_caseeq(const char *p, size_t len, const char *s)
{
	return strlen(s) == len && strncasecmp(p, s, len) == 0;
}

static bool vmdk_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool vmdk_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int vmdk_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void vmdk_bad_line(struct vmdk_descriptor *d, unsigned line,
			  const char *why)
{
	if (d->n_bad_lines++ == 0) {
		d->first_bad_line = line;
		d->first_bad_reason = why;
	}
}

/* decimal, at most 20 digits, overflow-checked; false if not a number */
static bool vmdk_parse_dec(const char *p, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!vmdk_is_digit(p[i]) || MUL_OVERFLOW(v, (uint64_t)10, &v) ||
		    ADD_OVERFLOW(v, (uint64_t)(p[i] - '0'), &v))
			return false;
	}
	*ret = v;
	return true;
}

static bool vmdk_parse_hex32(const char *p, size_t len, uint32_t *ret)
{
	uint32_t v = 0;

	if (len == 0 || len > 8)
		return false;
	for (size_t i = 0; i < len; i++) {
		int x = vmdk_hex_value(p[i]);
		if (x < 0)
			return false;
		v = v << 4 | (uint32_t)x;
	}
	*ret = v;
	return true;
}

static void vmdk_parse_extent_line(struct vmdk_descriptor *d, const char *p,
				   size_t len, size_t access_len,
				   enum vmdk_access access, unsigned line)
{
	struct vmdk_extent_line e = { .access = access, .line = line };
	size_t i = access_len, start;
	bool known = false;

	/* ACCESS <blank>+ SECTORS */
	start = i;
	while (i < len && vmdk_blank(p[i]))
		i++;
	if (i == start)
		return vmdk_bad_line(d, line, "extent line without size");
	start = i;
	while (i < len && !vmdk_blank(p[i]))
		i++;
	if (!vmdk_parse_dec(p + start, i - start, &e.sectors))
		return vmdk_bad_line(d, line, "extent size is not a number");
	/* <blank>+ TYPE */
	start = i;
	while (i < len && vmdk_blank(p[i]))
		i++;
	if (i == start || i == len)
		return vmdk_bad_line(d, line, "extent line without type");
	start = i;
	while (i < len && !vmdk_blank(p[i]))
		i++;
	for (size_t k = 0; k < ARRAY_SIZE(vmdk_extent_types); k++) {
		if (vmdk_text_eq(p + start, i - start,
				 vmdk_extent_types[k].name)) {
			e.type = vmdk_extent_types[k].type;
			known = true;
		}
	}
	if (!known)
		return vmdk_bad_line(d, line, "unknown extent type");
	while (i < len && vmdk_blank(p[i]))
		i++;
	if (e.type == VMDK_EXTENT_ZERO) {
		/* a ZERO extent names no file */
		if (i != len)
			return vmdk_bad_line(d, line,
					     "ZERO extent with a file name");
	} else {
		/* "NAME" */
		if (i == len || p[i] != '"')
			return vmdk_bad_line(d, line,
					     "extent without a quoted file name");
		start = ++i;
		while (i < len && p[i] != '"')
			i++;
		if (i == len)
			return vmdk_bad_line(d, line,
					     "unterminated extent file name");
		if (i == start)
			return vmdk_bad_line(d, line, "empty extent file name");
		e.name = p + start;
		e.name_len = i - start;
		i++;
		/* [<blank>+ OFFSET] */
		start = i;
		while (i < len && vmdk_blank(p[i]))
			i++;
		if (i < len) {
			if (i == start)
				return vmdk_bad_line(
					d, line, "text after the extent name");
			start = i;
			while (i < len && !vmdk_blank(p[i]))
				i++;
			if (!vmdk_parse_dec(p + start, i - start, &e.offset))
				return vmdk_bad_line(
					d, line, "extent offset is not a number");
			e.has_offset = true;
			while (i < len && vmdk_blank(p[i]))
				i++;
			if (i != len)
				return vmdk_bad_line(
					d, line, "text after the extent offset");
		}
		/* qemu fails FLAT without an offset and the other types
		 * with one (vmdk_parse_extents) */
		if (e.type == VMDK_EXTENT_FLAT && !e.has_offset)
			return vmdk_bad_line(d, line,
					     "FLAT extent without an offset");
		if (e.type != VMDK_EXTENT_FLAT && e.has_offset)
			return vmdk_bad_line(
				d, line, "offset on an extent that is not FLAT");
	}
	if (d->n_extents < VMDK_DESC_MAX_EXTENTS)
		d->extents[d->n_extents] = e;
	d->n_extents++;
	if (ADD_OVERFLOW(d->total_sectors, e.sectors, &d->total_sectors))
		d->total_sectors = UINT64_MAX;
}

/* Keys whose value decides something; repeated or wrongly cased they
 * would let two readers see different disks. */
static const char *const vmdk_special_keys[] = {
	"version", "CID", "parentCID", "createType", "parentFileNameHint",
	"changeTrackPath",
};

static void vmdk_parse_key_line(struct vmdk_descriptor *d, const char *p,
				size_t len, unsigned line)
{
	size_t i = 0, key_len, val_start, val_len;
	bool quoted = false;
	const char *key = p, *val;

	while (i < len && (vmdk_is_digit(p[i]) || (p[i] >= 'a' && p[i] <= 'z') ||
			   (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_' ||
			   p[i] == '.'))
		i++;
	key_len = i;
	while (i < len && vmdk_blank(p[i]))
		i++;
	if (key_len == 0 || i == len || p[i] != '=')
		return vmdk_bad_line(d, line,
				     "neither a key = value nor an extent line");
	i++;
	while (i < len && vmdk_blank(p[i]))
		i++;
	if (i < len && p[i] == '"') {
		quoted = true;
		val_start = ++i;
		while (i < len && p[i] != '"')
			i++;
		if (i == len)
			return vmdk_bad_line(d, line, "unterminated quoted value");
		val_len = i - val_start;
		i++;
	} else {
		val_start = i;
		while (i < len && !vmdk_blank(p[i]) && p[i] != '"')
			i++;
		val_len = i - val_start;
		if (val_len == 0)
			return vmdk_bad_line(d, line, "key without a value");
	}
	while (i < len && vmdk_blank(p[i]))
		i++;
	if (i != len)
		return vmdk_bad_line(d, line, "text after the value");
	val = p + val_start;

	for (size_t k = 0; k < ARRAY_SIZE(vmdk_special_keys); k++) {
		if (vmdk_text_caseeq(key, key_len, vmdk_special_keys[k]) &&
		    !vmdk_text_eq(key, key_len, vmdk_special_keys[k]))
			return vmdk_bad_line(
				d, line, "a descriptor key is wrongly cased");
	}
	if (vmdk_text_eq(key, key_len, "version")) {
		uint64_t v;
		if (d->has_version)
			return vmdk_bad_line(d, line, "version repeated");
		if (quoted || !vmdk_parse_dec(val, val_len, &v) || v < 1 ||
		    v > 3)
			return vmdk_bad_line(d, line,
					     "version is not 1, 2 or 3");
		d->has_version = true;
		d->version = (unsigned)v;
	} else if (vmdk_text_eq(key, key_len, "CID")) {
		if (d->has_cid)
			return vmdk_bad_line(d, line, "CID repeated");
		if (quoted || !vmdk_parse_hex32(val, val_len, &d->cid))
			return vmdk_bad_line(d, line,
					     "CID is not a 32-bit hex number");
		d->has_cid = true;
	} else if (vmdk_text_eq(key, key_len, "parentCID")) {
		if (d->has_parent_cid)
			return vmdk_bad_line(d, line, "parentCID repeated");
		if (quoted || !vmdk_parse_hex32(val, val_len, &d->parent_cid))
			return vmdk_bad_line(
				d, line, "parentCID is not a 32-bit hex number");
		d->has_parent_cid = true;
	} else if (vmdk_text_eq(key, key_len, "createType")) {
		if (d->create_type.p)
			return vmdk_bad_line(d, line, "createType repeated");
		if (!quoted || val_len == 0)
			return vmdk_bad_line(d, line,
					     "createType is not a quoted name");
		d->create_type = (struct vmdk_text){ val, val_len };
	} else if (vmdk_text_eq(key, key_len, "parentFileNameHint")) {
		if (d->parent_hint.p)
			return vmdk_bad_line(d, line,
					     "parentFileNameHint repeated");
		d->parent_hint = (struct vmdk_text){ val, val_len };
	} else if (vmdk_text_eq(key, key_len, "changeTrackPath")) {
		if (d->change_track.p)
			return vmdk_bad_line(d, line, "changeTrackPath repeated");
		d->change_track = (struct vmdk_text){ val, val_len };
	}
}

/* A malformed extent line still names something another reader may
 * open (a json: name with quotes inside, a lowercase "rw" oslo accepts):
 * keep what lies between its first and last quote. */
static void vmdk_salvage_name(struct vmdk_descriptor *d, const char *p,
			      size_t len)
{
	const char *q1 = memchr(p, '"', len), *q2;

	if (!q1 || d->n_salvaged >= VMDK_DESC_MAX_SALVAGED)
		return;
	q1++;
	q2 = memrchr(q1, '"', len - (size_t)(q1 - p));
	if (!q2)
		q2 = p + len;
	if (q2 > q1)
		d->salvaged[d->n_salvaged++] =
			(struct vmdk_text){ q1, (size_t)(q2 - q1) };
}

static void vmdk_parse_line(struct vmdk_descriptor *d, const char *p,
			    size_t len, unsigned line)
{
	static const struct {
		const char *word;
		enum vmdk_access access;
	} accesses[] = {
		{ "RW", VMDK_ACCESS_RW },
		{ "RDONLY", VMDK_ACCESS_RDONLY },
		{ "NOACCESS", VMDK_ACCESS_NOACCESS },
	};
	size_t word;

	/* a descriptor is text: control bytes mean binary junk, or a
	 * second line hidden from line-based readers behind a lone CR */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return vmdk_bad_line(d, line, "control character");
	}
	while (len > 0 && vmdk_blank(*p)) {
		p++;
		len--;
	}
	while (len > 0 && vmdk_blank(p[len - 1]))
		len--;
	if (len == 0 || p[0] == '#')
		return;
	for (word = 0; word < len && !vmdk_blank(p[word]); word++)
		;
	for (size_t k = 0; k < ARRAY_SIZE(accesses); k++) {
		unsigned bad = d->n_bad_lines;

		if (vmdk_text_eq(p, word, accesses[k].word))
			vmdk_parse_extent_line(d, p, len, word,
					       accesses[k].access, line);
		else if (vmdk_text_caseeq(p, word, accesses[k].word))
			/* oslo lowercases; qemu wants "RW": do not let
			 * them differ */
			vmdk_bad_line(d, line,
				      "extent access word wrongly cased");
		else
			continue;
		if (d->n_bad_lines != bad)
			vmdk_salvage_name(d, p, len);
		return;
	}
	vmdk_parse_key_line(d, p, len, line);
}

void vmdk_parse_descriptor(const char *text, size_t len,
			   struct vmdk_descriptor *d)
{
	size_t pos = 0;

	memset(d, 0, sizeof(*d));
	while (pos < len) {
		const char *line = text + pos, *nl;
		size_t n;

		nl = memchr(line, '\n', len - pos);
		n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		d->n_lines++;
		vmdk_parse_line(d, line, n, d->n_lines);
	}
}

/* ---- how qemu 7.2 reads a descriptor ------------------------------------ */

/* strstr() over text[0..len), which holds no NUL */
static const char *vmdk_qemu_strstr(const char *text, size_t len,
				    const char *needle)
{
	return memmem(text, len, needle, strlen(needle));
}

static bool vmdk_c_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* vmdk_parse_description(desc, "createType"): the first "createType"
 * anywhere, skip two bytes (="), take up to the next quote, < 128 bytes */
static bool vmdk_qemu_create_type(const char *text, size_t len,
				  struct vmdk_text *ret)
{
	const char *p = vmdk_qemu_strstr(text, len, "createType");
	const char *end = text + len, *q;

	if (!p)
		return false;
	p += strlen("createType") + 2;
	if (p >= end)
		return false;
	q = memchr(p, '"', (size_t)(end - p));
	if (!q || q - p + 1 > 128)
		return false;
	*ret = (struct vmdk_text){ p, (size_t)(q - p) };
	return true;
}

/* vmdk_read_cid(): strstr(key), skip key and one byte, sscanf("%x").
 * glibc's %x: blanks, sign, optional 0x, hex digits, strtoul overflow
 * saturates; the result is stored truncated to 32 bits. */
static bool vmdk_qemu_hex(const char *text, size_t len, const char *key,
			  uint32_t *ret)
{
	const char *p = vmdk_qemu_strstr(text, len, key), *end = text + len;
	bool neg = false, overflow = false;
	uint64_t v = 0;
	int digits = 0;

	if (!p)
		return false;
	p += strlen(key) + 1;
	while (p < end && vmdk_c_isspace(*p))
		p++;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (end - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    vmdk_hex_value(p[2]) >= 0)
		p += 2;
	for (; p < end && vmdk_hex_value(*p) >= 0; p++, digits++) {
		if (v > UINT64_MAX >> 4)
			overflow = true;
		v = v << 4 | (uint64_t)vmdk_hex_value(*p);
	}
	if (digits == 0)
		return false;
	if (overflow)
		v = UINT64_MAX;
	else if (neg)
		v = -v;
	*ret = (uint32_t)v;
	return true;
}

enum vmdk_qemu_parent {
	VMDK_QEMU_PARENT_NONE,
	VMDK_QEMU_PARENT_NAME,
	VMDK_QEMU_PARENT_FAILS, /* qemu refuses to open the image */
};

/* vmdk_parent_open(): strstr("parentFileNameHint"), skip 20 bytes
 * (the key and =" whatever they are), up to the next quote, < 4096 */
static enum vmdk_qemu_parent vmdk_qemu_parent(const char *text, size_t len,
					      struct vmdk_text *ret)
{
	const char *p = vmdk_qemu_strstr(text, len, "parentFileNameHint");
	const char *end = text + len, *q;

	if (!p)
		return VMDK_QEMU_PARENT_NONE;
	p += strlen("parentFileNameHint") + 2;
	if (p > end)
		return VMDK_QEMU_PARENT_FAILS;
	q = memchr(p, '"', (size_t)(end - p));
	if (!q || q - p > 4095)
		return VMDK_QEMU_PARENT_FAILS;
	if (q == p)
		return VMDK_QEMU_PARENT_NONE; /* empty: no backing file */
	*ret = (struct vmdk_text){ p, (size_t)(q - p) };
	return VMDK_QEMU_PARENT_NAME;
}

/* Runs of characters of one class ([start, end), end the first one
 * outside it), remembered: sscanf's conversions skip blanks across line
 * ends, so every line of a descriptor that is mostly blank lines (or one
 * long number) would otherwise rescan the same runs, quadratic in the
 * descriptor's size (a fuzzer found a 752-byte gzip taking seconds). One
 * line's scan crosses at most a handful of runs (five conversions), and
 * the next line, starting inside the same run, crosses the same ones: a
 * small cache of the long runs makes the whole scan linear. Short runs
 * are cheaper to walk than to look up. */
#define VMDK_RUN_CACHE 8
#define VMDK_RUN_MIN 64

struct vmdk_run {
	const char *start, *end;
};

struct vmdk_run_cache {
	struct vmdk_run r[VMDK_RUN_CACHE];
	unsigned next;
};

struct vmdk_runs {
	struct vmdk_run_cache blank, digit, zero;
};

static bool vmdk_is_zero(char c)
{
	return c == '0';
}

static bool vmdk_is_blank(char c)
{
	return vmdk_c_isspace(c);
}

static bool vmdk_is_digit_c(char c)
{
	return vmdk_is_digit(c);
}

static const char *vmdk_run_end(struct vmdk_run_cache *c, const char *p,
				const char *end, bool (*in)(char))
{
	const char *q = p;

	for (unsigned i = 0; i < VMDK_RUN_CACHE; i++)
		if (c->r[i].start && p >= c->r[i].start && p < c->r[i].end)
			return c->r[i].end;
	while (q < end && in(*q))
		q++;
	if (q - p >= VMDK_RUN_MIN) {
		c->r[c->next] = (struct vmdk_run){ p, q };
		c->next = (c->next + 1) % VMDK_RUN_CACHE;
	}
	return q;
}

/* sscanf() conversions over [p, end): the text holds no NUL, so end is
 * where qemu's string ends. */
struct vmdk_scan {
	const char *p, *end;
	struct vmdk_runs *runs;
};

static void vmdk_scan_blanks(struct vmdk_scan *s)
{
	s->p = vmdk_run_end(&s->runs->blank, s->p, s->end, vmdk_is_blank);
}

/* %<width>s */
static bool vmdk_scan_word(struct vmdk_scan *s, size_t width,
			   struct vmdk_text *ret)
{
	const char *start;

	vmdk_scan_blanks(s);
	start = s->p;
	while (s->p < s->end && !vmdk_c_isspace(*s->p) &&
	       (size_t)(s->p - start) < width)
		s->p++;
	*ret = (struct vmdk_text){ start, (size_t)(s->p - start) };
	return s->p > start;
}

/* %ld (strtoll: saturates on overflow, still a match) */
static bool vmdk_scan_long(struct vmdk_scan *s, int64_t *ret)
{
	bool neg = false, overflow = false;
	const char *digits, *sig, *q;
	uint64_t v = 0;

	vmdk_scan_blanks(s);
	if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
		neg = *s->p++ == '-';
	/* the whole number is consumed, as strtoll does; its value depends
	 * only on the digits after the leading zeros, and past 20 of those
	 * it has overflowed: neither run is walked twice */
	digits = s->p;
	s->p = vmdk_run_end(&s->runs->digit, s->p, s->end, vmdk_is_digit_c);
	if (s->p == digits)
		return false;
	sig = vmdk_run_end(&s->runs->zero, digits, s->p, vmdk_is_zero);
	if (s->p - sig > 20)
		overflow = true;
	for (q = sig; !overflow && q < s->p; q++) {
		if (MUL_OVERFLOW(v, (uint64_t)10, &v) ||
		    ADD_OVERFLOW(v, (uint64_t)(*q - '0'), &v))
			overflow = true;
	}
	if (overflow || v > (uint64_t)INT64_MAX)
		*ret = neg ? INT64_MIN : INT64_MAX;
	else
		*ret = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static bool vmdk_scan_char(struct vmdk_scan *s, char c)
{
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

struct vmdk_qemu_line {
	int matches;
	struct vmdk_text access, type, name;
	int64_t sectors, offset;
};

/* sscanf(p, "%10s %" SCNd64 " %10s \"%511[^\n\r\"]\" %" SCNd64, ...) */
static void vmdk_qemu_scan_line(const char *p, const char *end,
				struct vmdk_runs *runs,
				struct vmdk_qemu_line *l)
{
	struct vmdk_scan s = { p, end, runs };
	const char *start;

	memset(l, 0, sizeof(*l));
	l->offset = -1;
	if (!vmdk_scan_word(&s, 10, &l->access))
		return;
	l->matches = 1;
	if (!vmdk_scan_long(&s, &l->sectors))
		return;
	l->matches = 2;
	if (!vmdk_scan_word(&s, 10, &l->type))
		return;
	l->matches = 3;
	vmdk_scan_blanks(&s);
	if (!vmdk_scan_char(&s, '"'))
		return;
	start = s.p;
	while (s.p < s.end && *s.p != '\n' && *s.p != '\r' && *s.p != '"' &&
	       s.p - start < 511)
		s.p++;
	if (s.p == start)
		return;
	l->name = (struct vmdk_text){ start, (size_t)(s.p - start) };
	l->matches = 4;
	if (!vmdk_scan_char(&s, '"'))
		return;
	if (!vmdk_scan_long(&s, &l->offset))
		return;
	l->matches = 5;
}

struct vmdk_qemu_extents {
	size_t n_opened;
	struct {
		struct vmdk_text name;
		struct vmdk_text type;
		int64_t sectors;
		bool flat;
	} e[VMDK_DESC_MAX_EXTENTS];
	uint64_t total_sectors; /* saturates */
	bool fails;		/* an "Invalid extent line" stops the open */
	unsigned fail_line;
};

/* vmdk_parse_extents(): which files qemu opens, in order, until a line
 * makes it fail (the files opened before that were opened anyway). */
static void vmdk_qemu_extents(const char *text, size_t len,
			      struct vmdk_qemu_extents *q)
{
	const char *p = text, *end = text + len;
	struct vmdk_runs runs = { 0 };
	unsigned line = 1;

	memset(q, 0, sizeof(*q));
	while (p < end) {
		struct vmdk_qemu_line l;
		const char *nl;
		bool flat = false, vmfs = false;

		vmdk_qemu_scan_line(p, end, &runs, &l);
		if (l.matches >= 4 && vmdk_text_eq(l.access.p, l.access.len,
						   "RW")) {
			flat = vmdk_text_eq(l.type.p, l.type.len, "FLAT");
			vmfs = vmdk_text_eq(l.type.p, l.type.len, "VMFS");
			if ((flat && (l.matches != 5 || l.offset < 0)) ||
			    (vmfs && l.matches != 4) ||
			    (!flat && !vmfs && l.matches != 4)) {
				q->fails = true;
				q->fail_line = line;
				return;
			}
			if (l.sectors > 0 &&
			    (flat || vmfs ||
			     vmdk_text_eq(l.type.p, l.type.len, "SPARSE") ||
			     vmdk_text_eq(l.type.p, l.type.len, "VMFSSPARSE") ||
			     vmdk_text_eq(l.type.p, l.type.len, "SESPARSE"))) {
				if (q->n_opened < VMDK_DESC_MAX_EXTENTS) {
					q->e[q->n_opened].name = l.name;
					q->e[q->n_opened].type = l.type;
					q->e[q->n_opened].sectors = l.sectors;
					q->e[q->n_opened].flat = flat || vmfs;
				}
				q->n_opened++;
				if (ADD_OVERFLOW(q->total_sectors,
						 (uint64_t)l.sectors,
						 &q->total_sectors))
					q->total_sectors = UINT64_MAX;
			}
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
		line++;
	}
}

/* ---- shared report pieces ------------------------------------------------- */

static void vmdk_report_bad_lines(struct iw_report *r,
				  const struct vmdk_descriptor *d,
				  const char *where)
{
	if (d->n_bad_lines == 0)
		return;
	iw_finding(r, IW_F_BAD_DESCRIPTOR, "%s: line %u: %s (%u bad lines)",
		   where, d->first_bad_line, d->first_bad_reason,
		   d->n_bad_lines);
}

static bool vmdk_name_is_local(const char *p, size_t len)
{
	/* a sparse file's own extent is named by its bare file name: a path,
	 * a drive letter, a protocol or json: cannot be the file itself */
	return !memchr(p, '/', len) && !memchr(p, '\\', len) &&
	       !memchr(p, ':', len);
}

static void vmdk_external_extent(struct iw_report *r, unsigned *n_found,
				 const char *p, size_t len, const char *what)
{
	_cleanup_free_ char *clean = iw_sanitize(p, len, NULL);

	iw_reference(r, "extent", p, len);
	if (*n_found < VMDK_MAX_EXTENT_FINDINGS)
		iw_finding(r, IW_F_EXTERNAL_EXTENT, "%s \"%.120s\"", what,
			   clean ? clean : "?");
	else if (*n_found == VMDK_MAX_EXTENT_FINDINGS)
		iw_finding(r, IW_F_EXTERNAL_EXTENT,
			   "more extents name other files");
	(*n_found)++;
}

static void vmdk_fs_extent(json_object *arr, const char *name, size_t name_len,
			   const char *format, size_t format_len,
			   uint64_t sectors, int64_t cluster_size,
			   bool compressed)
{
	json_object *o = json_object_new_object();
	uint64_t bytes;

	if (!o)
		return;
	if (name) {
		_cleanup_free_ char *clean = iw_sanitize(name, name_len, NULL);
		if (clean)
			json_object_object_add(o, "filename",
					       json_object_new_string(clean));
	}
	{
		_cleanup_free_ char *clean =
			iw_sanitize(format, format_len, NULL);
		if (clean)
			json_object_object_add(o, "format",
					       json_object_new_string(clean));
	}
	if (!MUL_OVERFLOW(sectors, (uint64_t)VMDK_SECTOR_SIZE, &bytes) &&
	    bytes <= INT64_MAX)
		json_object_object_add(o, "virtual-size",
				       json_object_new_int64((int64_t)bytes));
	if (cluster_size > 0)
		json_object_object_add(o, "cluster-size",
				       json_object_new_int64(cluster_size));
	if (compressed)
		json_object_object_add(o, "compressed",
				       json_object_new_boolean(true));
	if (json_object_array_add(arr, o) < 0)
		json_object_put(o);
}

static json_object *vmdk_fs_extents(struct iw_report *r)
{
	json_object *fs = iw_report_fs(r), *arr;

	if (!fs)
		return NULL;
	arr = json_object_new_array();
	if (!arr)
		return NULL;
	json_object_object_add(fs, "extents", arr);
	return arr;
}

/*
 * CID, parentCID and parentFileNameHint as qemu finds them in its
 * 10 KiB window (window[0..len), no NUL), cross-checked with the parsed
 * descriptor d (NULL when there is none).
 */
static void vmdk_check_ids(struct iw_report *r, const struct vmdk_descriptor *d,
			   const char *window, size_t len)
{
	uint32_t cid = 0, parent_cid = 0;
	struct vmdk_text hint;
	enum vmdk_qemu_parent parent;
	bool has_cid, has_parent_cid;

	/* qemu fails the open without them (vmdk_read_cid) */
	has_cid = vmdk_qemu_hex(window, len, "CID", &cid);
	has_parent_cid = vmdk_qemu_hex(window, len, "parentCID", &parent_cid);
	if (!has_cid || !has_parent_cid)
		iw_finding(r, IW_F_BAD_DESCRIPTOR,
			   "no %s in the descriptor: qemu cannot open the image",
			   !has_cid ? "CID" : "parentCID");
	if (has_cid)
		iw_fs_set_int(r, "cid", cid);
	else if (d && d->has_cid)
		iw_fs_set_int(r, "cid", d->cid);
	if (has_parent_cid)
		iw_fs_set_int(r, "parent-cid", parent_cid);
	else if (d && d->has_parent_cid)
		iw_fs_set_int(r, "parent-cid", d->parent_cid);

	if (has_parent_cid && parent_cid != UINT32_MAX)
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "parentCID is %08x: a delta disk needs its parent",
			   parent_cid);
	else if (d && d->has_parent_cid && d->parent_cid != UINT32_MAX)
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "parentCID is %08x: a delta disk needs its parent",
			   d->parent_cid);
	if (d && d->has_cid && has_cid && d->cid != cid)
		iw_finding(r, IW_F_BAD_DESCRIPTOR,
			   "qemu reads CID %08x, the CID line says %08x", cid,
			   d->cid);

	/* qemu opens parentFileNameHint as a vmdk backing file, wherever
	 * the string is (a comment line counts) */
	parent = vmdk_qemu_parent(window, len, &hint);
	if (parent == VMDK_QEMU_PARENT_FAILS) {
		iw_finding(r, IW_F_BAD_DESCRIPTOR,
			   "malformed parentFileNameHint: qemu cannot open "
			   "the image");
	} else if (parent == VMDK_QEMU_PARENT_NAME) {
		iw_report_set_backing(r, hint.p, hint.len, "vmdk");
		iw_finding(r, IW_F_BACKING_FILE,
			   "parentFileNameHint names a parent image qemu opens");
	}
	if (d && d->parent_hint.p && d->parent_hint.len > 0 &&
	    !(parent == VMDK_QEMU_PARENT_NAME &&
	      hint.len == d->parent_hint.len &&
	      memcmp(hint.p, d->parent_hint.p, hint.len) == 0)) {
		iw_reference(r, "parent", d->parent_hint.p, d->parent_hint.len);
		iw_finding(r, IW_F_PARENT_REFERENCE,
			   "parentFileNameHint names a parent image");
	}
	if (d && d->change_track.p && d->change_track.len > 0)
		iw_reference(r, "change-track-file", d->change_track.p,
			     d->change_track.len);
}

/* createType values VMware defines; only the first two are single-file
 * hosted sparse formats. */
static const char *const vmdk_sparse_types[] = { "monolithicSparse",
						 "streamOptimized" };
/* what qemu 7.2's vmdk_open_desc_file accepts for a descriptor file */
static const char *const vmdk_qemu_desc_types[] = {
	"monolithicFlat",	"vmfs",			"vmfsSparse",
	"seSparse",		"twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
};
static const char *const vmdk_other_types[] = {
	"vmfsThin",	     "vmfsRaw",		"vmfsRawDeviceMap",
	"vmfsPassthroughRawDeviceMap",		"vmfsPreallocated",
	"vmfsEagerZeroedThick",			"fullDevice",
	"partitionedDevice", "custom",
};

static bool vmdk_type_in(const struct vmdk_text *t, const char *const *list,
			 size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vmdk_text_eq(t->p, t->len, list[i]))
			return true;
	return false;
}

static void vmdk_fs_create_type(struct iw_report *r, const struct vmdk_text *t)
{
	iw_fs_set_bytes(r, "create-type", t->p, t->len);
}

/*
 * A descriptor qemu treats as a descriptor file: a stand-alone text file,
 * or the descriptor embedded in a KDMV file whose capacity is 0
 * (vmdk_open_vmdk4 then hands it to vmdk_open_desc_file). Every extent
 * that names a file is opened by name.
 */
static void vmdk_check_descriptor_file(struct iw_report *r, const char *text,
				       size_t len, bool in_kdmv)
{
	_cleanup_free_ struct vmdk_descriptor *d = malloc(sizeof(*d));
	_cleanup_free_ struct vmdk_qemu_extents *q = malloc(sizeof(*q));
	struct vmdk_text qct = { NULL, 0 }, ct;
	bool has_qct, qemu_opens;
	unsigned n_found = 0;
	json_object *arr;
	uint64_t total;

	if (!d || !q) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE, "out of memory");
		return;
	}
	vmdk_parse_descriptor(text, len, d);
	vmdk_qemu_extents(text, len, q);
	vmdk_report_bad_lines(r, d, "descriptor");

	has_qct = vmdk_qemu_create_type(text, len, &qct);
	ct = d->create_type;
	if (!ct.p) {
		iw_finding(r, IW_F_BAD_DESCRIPTOR, "no createType line");
	} else if (vmdk_type_in(&ct, vmdk_sparse_types,
				ARRAY_SIZE(vmdk_sparse_types))) {
		/* a single sparse file cannot be a stand-alone descriptor
		 * (qemu refuses it; oslo's inspector accepted it) */
		_cleanup_free_ char *clean = iw_sanitize(ct.p, ct.len, NULL);
		iw_finding(r, IW_F_CREATE_TYPE_MISMATCH,
			   "createType \"%s\" in a %s", clean ? clean : "?",
			   in_kdmv ? "zero-capacity sparse file read as a "
				     "descriptor file"
				   : "text descriptor file");
	} else if (vmdk_type_in(&ct, vmdk_qemu_desc_types,
				ARRAY_SIZE(vmdk_qemu_desc_types)) ||
		   vmdk_type_in(&ct, vmdk_other_types,
				ARRAY_SIZE(vmdk_other_types))) {
		_cleanup_free_ char *clean = iw_sanitize(ct.p, ct.len, NULL);
		iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
			   "createType \"%s\" keeps the data in other files",
			   clean ? clean : "?");
		if (in_kdmv)
			iw_finding(r, IW_F_CREATE_TYPE_MISMATCH,
				   "a sparse (KDMV) file whose descriptor says "
				   "\"%s\"", clean ? clean : "?");
	} else {
		_cleanup_free_ char *clean = iw_sanitize(ct.p, ct.len, NULL);
		iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
			   "unknown createType \"%.64s\"", clean ? clean : "?");
	}
	if (ct.p && has_qct &&
	    !(qct.len == ct.len && memcmp(qct.p, ct.p, ct.len) == 0))
		iw_finding(r, IW_F_CREATE_TYPE_MISMATCH,
			   "qemu reads a different createType than the "
			   "createType line (an earlier comment or key?)");
	if (has_qct)
		vmdk_fs_create_type(r, &qct);

	/* every named extent; qemu opens them relative to the descriptor */
	for (size_t i = 0; i < MIN(d->n_extents, (size_t)VMDK_DESC_MAX_EXTENTS);
	     i++) {
		const struct vmdk_extent_line *e = &d->extents[i];
		if (e->name)
			vmdk_external_extent(r, &n_found, e->name, e->name_len,
					     "the descriptor names an extent");
	}
	if (d->n_extents > VMDK_DESC_MAX_EXTENTS)
		iw_finding(r, IW_F_EXTERNAL_EXTENT,
			   "%zu extents (only the first %d are listed)",
			   d->n_extents, VMDK_DESC_MAX_EXTENTS);
	/* ... and what qemu would open from lines the grammar rejects */
	for (size_t i = 0; i < MIN(q->n_opened, (size_t)VMDK_DESC_MAX_EXTENTS);
	     i++) {
		bool seen = false;
		for (size_t k = 0;
		     k < MIN(d->n_extents, (size_t)VMDK_DESC_MAX_EXTENTS); k++)
			if (d->extents[k].name &&
			    d->extents[k].name_len == q->e[i].name.len &&
			    memcmp(d->extents[k].name, q->e[i].name.p,
				   q->e[i].name.len) == 0)
				seen = true;
		if (!seen)
			vmdk_external_extent(r, &n_found, q->e[i].name.p,
					     q->e[i].name.len,
					     "qemu opens an extent from a line "
					     "the grammar rejects:");
	}
	for (size_t i = 0; i < d->n_salvaged; i++)
		vmdk_external_extent(r, &n_found, d->salvaged[i].p,
				     d->salvaged[i].len,
				     "a malformed extent line names");
	if (!d->has_version)
		iw_finding(r, IW_F_BAD_DESCRIPTOR, "no valid version line");
	if (d->n_extents == 0 && q->n_opened == 0 && d->n_salvaged == 0)
		iw_finding(r, IW_F_BAD_DESCRIPTOR, "no extent lines");
	if (q->fails)
		iw_finding(r, IW_F_BAD_DESCRIPTOR,
			   "line %u is an extent line qemu rejects",
			   q->fail_line);

	/* qemu's view when qemu opens it: RW extents of the types it knows
	 * (RDONLY, NOACCESS and ZERO lines are skipped by qemu 7.2) */
	qemu_opens = has_qct && vmdk_type_in(&qct, vmdk_qemu_desc_types,
					     ARRAY_SIZE(vmdk_qemu_desc_types)) &&
		     !q->fails;
	total = qemu_opens ? q->total_sectors : d->total_sectors;
	if (total > (uint64_t)INT64_MAX / VMDK_SECTOR_SIZE)
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "the extents add up to more than 2^63 bytes");
	else
		r->virtual_size = (int64_t)(total * VMDK_SECTOR_SIZE);

	arr = vmdk_fs_extents(r);
	if (!arr)
		return;
	if (qemu_opens) {
		for (size_t i = 0;
		     i < MIN(q->n_opened, (size_t)VMDK_DESC_MAX_EXTENTS); i++)
			vmdk_fs_extent(arr, q->e[i].name.p, q->e[i].name.len,
				       q->e[i].type.p, q->e[i].type.len,
				       (uint64_t)q->e[i].sectors, -1, false);
	} else {
		for (size_t i = 0;
		     i < MIN(d->n_extents, (size_t)VMDK_DESC_MAX_EXTENTS); i++) {
			const struct vmdk_extent_line *e = &d->extents[i];
			const char *t = vmdk_extent_type_name(e->type);
			vmdk_fs_extent(arr, e->name, e->name_len, t, strlen(t),
				       e->sectors, -1, false);
		}
	}
}

/* Read [off, off+len) clamped to the view, zero-filled past its end, as
 * qemu's block layer does for reads past EOF. Returns the bytes that
 * came from the file, or a negative errno (E2BIG: budget spent). */
static int vmdk_read_zero_filled(const struct iw_view *v, void *buf,
				 size_t len, uint64_t off, size_t *ret_got)
{
	size_t got = 0;
	int ret = 0;

	memset(buf, 0, len);
	if (off < v->size)
		ret = iw_view_read_upto(v, buf, len, off, &got);
	*ret_got = got;
	return ret;
}

/* the text qemu sees: up to the first NUL */
static size_t vmdk_text_len(const char *buf, size_t len)
{
	const char *nul = memchr(buf, '\0', len);

	return nul ? (size_t)(nul - buf) : len;
}

/* qemu's 10 KiB window at off (sector 1 for sparse files, 0 for text) */
static int vmdk_check_qemu_window(const struct iw_view *v, struct iw_report *r,
				  const struct vmdk_descriptor *d, uint64_t off)
{
	_cleanup_free_ char *win = malloc(VMDK_QEMU_DESC_WINDOW);
	size_t got;
	int ret;

	if (!win)
		return -ENOMEM;
	ret = vmdk_read_zero_filled(v, win, VMDK_QEMU_DESC_WINDOW, off, &got);
	if (ret == -E2BIG) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "read budget spent before the descriptor");
		return 0;
	}
	if (ret < 0 && ret != -ERANGE)
		return ret;
	/* vmdk_read_cid terminates the window at its last byte */
	vmdk_check_ids(r, d, win, vmdk_text_len(win, VMDK_QEMU_DESC_WINDOW - 1));
	return 0;
}

/* ---- hosted sparse extents (KDMV) ----------------------------------------- */

static int vmdk_check_footer(const struct iw_view *v, struct iw_report *r,
			     struct vmdk4_header *h)
{
	uint8_t f[VMDK4_FOOTER_SIZE];
	const uint8_t *fm = f, *fh = f + 512, *eos = f + 1024;
	struct vmdk4_header fhd;
	uint64_t end, off;
	size_t got;
	int ret;

	if (v->partial) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "the footer at the end of the file was not "
			   "inspected");
		return 1;
	}
	/* qemu reads it at nb_sectors * 512 - 1536 */
	end = v->size / VMDK_SECTOR_SIZE * VMDK_SECTOR_SIZE +
	      (v->size % VMDK_SECTOR_SIZE ? VMDK_SECTOR_SIZE : 0);
	if (end < VMDK_SECTOR_SIZE + VMDK4_FOOTER_SIZE) {
		iw_finding(r, IW_F_TRUNCATED,
			   "gdOffset is GD_AT_END but the file has no room "
			   "for a footer");
		return 1;
	}
	off = end - VMDK4_FOOTER_SIZE;
	ret = vmdk_read_zero_filled(v, f, sizeof(f), off, &got);
	if (ret == -E2BIG) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "read budget spent before the footer");
		return 1;
	}
	if (ret < 0 && ret != -ERANGE)
		return ret;

	/* qemu's "Invalid footer" checks, plus oslo's zero padding */
	if (get_be32(fh) != VMDK4_MAGIC || get_le32(fm + 8) != 0 ||
	    get_le32(fm + 12) != VMDK_MARKER_FOOTER ||
	    !mem_is_zero(fm + 16, 496) || get_le64(eos) != 0 ||
	    get_le32(eos + 8) != 0 || get_le32(eos + 12) != VMDK_MARKER_EOS ||
	    !mem_is_zero(eos + 16, 496)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "gdOffset is GD_AT_END but the last 1536 bytes are "
			   "not footer marker, footer and end-of-stream "
			   "marker");
		return 1;
	}
	vmdk4_parse_header(fh, &fhd);
	if (fhd.gd_offset == VMDK4_GD_AT_END) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "the footer's gdOffset is GD_AT_END too");
		return 1;
	}
	/* the footer takes precedence in qemu: a footer that moves the
	 * descriptor or changes the geometry would make readers disagree
	 * (oslo.utils cfc0e10, LP#2073262) */
#define VMDK_FOOTER_FIELD(f)                                                   \
	if (fhd.f != h->f) {                                                   \
		iw_finding(r, IW_F_INCONSISTENT_HEADER,                        \
			   "footer " #f " %llu differs from the header's %llu",  \
			   (unsigned long long)fhd.f,                          \
			   (unsigned long long)h->f);                          \
	}
	VMDK_FOOTER_FIELD(version)
	VMDK_FOOTER_FIELD(flags)
	VMDK_FOOTER_FIELD(capacity)
	VMDK_FOOTER_FIELD(grain_size)
	VMDK_FOOTER_FIELD(desc_offset)
	VMDK_FOOTER_FIELD(desc_size)
	VMDK_FOOTER_FIELD(num_gtes_per_gt)
	VMDK_FOOTER_FIELD(compress_algorithm)
#undef VMDK_FOOTER_FIELD
	*h = fhd;
	return 0;
}

/* GD entries point at grain tables inside the file; a sample of GTs
 * point at grains inside the file. */
static int vmdk_check_tables(const struct iw_view *v, struct iw_report *r,
			     const struct vmdk4_header *h,
			     const struct vmdk4_layout *l)
{
	_cleanup_free_ uint8_t *buf = malloc(VMDK_CHUNK);
	_cleanup_free_ uint8_t *gt = malloc(l->gt_bytes);
	uint64_t n = MIN(l->gd_bytes, (uint64_t)VMDK_GD_CHECK_MAX_BYTES) / 4;
	uint64_t bad_gd = 0, bad_gte = 0, first_bad_gd = 0, first_bad_gte = 0;
	uint64_t grain_need = l->compressed && l->markers
				      ? VMDK_GRAIN_MARKER_SIZE
				      : l->grain_bytes;
	unsigned gts_checked = 0;
	int ret;

	if (!buf || !gt)
		return -ENOMEM;
	if (n < l->gd_entries)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "checked the first %llu of %llu grain directory "
			   "entries",
			   (unsigned long long)n,
			   (unsigned long long)l->gd_entries);
	for (uint64_t i = 0; i < n; i += VMDK_CHUNK / 4) {
		size_t cnt = (size_t)MIN(n - i, (uint64_t)VMDK_CHUNK / 4);

		ret = iw_read_struct(v, r, buf, cnt * 4, l->gd_offset + i * 4,
				     "grain directory");
		if (ret < 0)
			return ret == -ERANGE || ret == -E2BIG ? 0 : ret;
		for (size_t k = 0; k < cnt; k++) {
			uint64_t e = get_le32(buf + 4 * k), off = e * 512;

			if (e == 0)
				continue;
			if (!range_ok(off, l->gt_bytes, v->size)) {
				/* past a partial view is "not inspected" */
				if (v->partial)
					continue;
				if (bad_gd++ == 0)
					first_bad_gd = i + k;
				continue;
			}
			if (gts_checked >= VMDK_GT_CHECK_MAX)
				continue;
			gts_checked++;
			ret = iw_read_struct(v, r, gt, l->gt_bytes, off,
					     "grain table");
			if (ret < 0)
				return ret == -ERANGE || ret == -E2BIG ? 0
									: ret;
			for (uint32_t g = 0; g < h->num_gtes_per_gt; g++) {
				uint64_t ge = get_le32(gt + 4 * g);
				if (ge == 0 ||
				    (ge == VMDK_GTE_ZEROED && l->zero_grain))
					continue;
				if (!range_ok(ge * 512, grain_need, v->size) &&
				    !v->partial) {
					if (bad_gte++ == 0)
						first_bad_gte = (i + k) *
							h->num_gtes_per_gt + g;
				}
			}
		}
	}
	if (bad_gd)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "%llu grain directory entries point past the end "
			   "of the file (first: entry %llu)",
			   (unsigned long long)bad_gd,
			   (unsigned long long)first_bad_gd);
	if (bad_gte)
		iw_finding(r, IW_F_ENTRY_OUT_OF_RANGE,
			   "%llu grain table entries point past the end of "
			   "the file (first: grain %llu)",
			   (unsigned long long)bad_gte,
			   (unsigned long long)first_bad_gte);
	if (gts_checked >= VMDK_GT_CHECK_MAX)
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "checked the grains of the first %u grain tables",
			   VMDK_GT_CHECK_MAX);
	return 0;
}

static bool vmdk_ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
				uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* The descriptor embedded in a sparse file whose capacity is not 0:
 * qemu ignores its extent lines, VMware and other readers do not. */
static void vmdk_check_embedded(struct iw_report *r, const char *text,
				size_t len, const struct vmdk4_header *h)
{
	bool compressed = h->compress_algorithm == VMDK4_COMPRESSION_DEFLATE;
	bool markers = h->flags & VMDK4_FLAG_MARKER;

	_cleanup_free_ struct vmdk_descriptor *d = malloc(sizeof(*d));
	const struct vmdk_extent_line *self = NULL;
	unsigned n_found = 0;

	if (!d) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE, "out of memory");
		return;
	}
	vmdk_parse_descriptor(text, len, d);
	vmdk_report_bad_lines(r, d, "embedded descriptor");
	if (len == 0 || (!d->create_type.p && d->n_extents == 0)) {
		iw_finding(r, IW_F_BAD_DESCRIPTOR,
			   "the embedded descriptor is empty (one extent of "
			   "a multi-file disk?)");
		return;
	}
	if (!d->create_type.p) {
		iw_finding(r, IW_F_BAD_DESCRIPTOR, "no createType line");
	} else if (vmdk_text_eq(d->create_type.p, d->create_type.len,
				"monolithicSparse")) {
		if (compressed || markers || (h->flags & VMDK4_FLAG_COMPRESS))
			iw_finding(r, IW_F_CREATE_TYPE_MISMATCH,
				   "createType monolithicSparse but the grains "
				   "are compressed or carry markers");
	} else if (vmdk_text_eq(d->create_type.p, d->create_type.len,
				"streamOptimized")) {
		if (!compressed || !markers ||
		    !(h->flags & VMDK4_FLAG_COMPRESS))
			iw_finding(r, IW_F_CREATE_TYPE_MISMATCH,
				   "createType streamOptimized but the header "
				   "lacks deflate compression or markers");
	} else {
		_cleanup_free_ char *clean =
			iw_sanitize(d->create_type.p, d->create_type.len, NULL);
		if (vmdk_type_in(&d->create_type, vmdk_qemu_desc_types,
				 ARRAY_SIZE(vmdk_qemu_desc_types)) ||
		    vmdk_type_in(&d->create_type, vmdk_other_types,
				 ARRAY_SIZE(vmdk_other_types)))
			iw_finding(r, IW_F_CREATE_TYPE_MISMATCH,
				   "a single sparse file whose descriptor says "
				   "\"%.64s\"",
				   clean ? clean : "?");
		else
			iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
				   "unknown createType \"%.64s\"",
				   clean ? clean : "?");
	}

	/* exactly one extent: this file, SPARSE, as big as the header */
	for (size_t i = 0; i < MIN(d->n_extents, (size_t)VMDK_DESC_MAX_EXTENTS);
	     i++) {
		const struct vmdk_extent_line *e = &d->extents[i];

		if (!self && e->type == VMDK_EXTENT_SPARSE &&
		    e->access != VMDK_ACCESS_NOACCESS &&
		    vmdk_name_is_local(e->name, e->name_len)) {
			self = e;
			continue;
		}
		if (e->name)
			vmdk_external_extent(
				r, &n_found, e->name, e->name_len,
				"the embedded descriptor names another extent "
				"(qemu ignores it, VMware follows it)");
		else
			iw_finding(r, IW_F_BAD_DESCRIPTOR,
				   "extra ZERO extent on line %u", e->line);
	}
	if (d->n_extents > VMDK_DESC_MAX_EXTENTS)
		iw_finding(r, IW_F_EXTERNAL_EXTENT, "%zu extents in a sparse file",
			   d->n_extents);
	for (size_t i = 0; i < d->n_salvaged; i++)
		vmdk_external_extent(r, &n_found, d->salvaged[i].p,
				     d->salvaged[i].len,
				     "a malformed extent line names");
	if (!d->has_version)
		iw_finding(r, IW_F_BAD_DESCRIPTOR, "no valid version line");
	if (!self)
		iw_finding(r, IW_F_BAD_DESCRIPTOR,
			   "the embedded descriptor has no extent for this "
			   "file");
	else if (self->sectors != h->capacity)
		iw_finding(r, IW_F_INCONSISTENT_HEADER,
			   "the descriptor's extent has %llu sectors, the "
			   "header's capacity is %llu",
			   (unsigned long long)self->sectors,
			   (unsigned long long)h->capacity);
}

/* A KDMV header with capacity 0 and a descriptor: qemu reads that
 * descriptor as a descriptor file and opens its extents by name, so an
 * innocent-looking sparse file can leak host files like a text one. */
static int vmdk_probe_desc_in_kdmv(const struct iw_view *v,
				   struct iw_report *r,
				   const struct vmdk4_header *h)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ struct vmdk_descriptor *d = NULL;
	uint64_t off;
	size_t len, got;
	int ret;

	/* qemu shifts the offset left by 9 without a check: a huge value
	 * wraps around to a small one (that it then reads), unless the
	 * result is negative as an int64 (the read fails) */
	off = h->desc_offset << 9;
	if (h->desc_offset > UINT64_MAX >> 9)
		iw_finding(r, IW_F_BAD_FIELD,
			   "descriptor offset %llu sectors overflows (qemu "
			   "reads at %llu)",
			   (unsigned long long)h->desc_offset,
			   (unsigned long long)off);
	if (off > (uint64_t)INT64_MAX)
		return 0;
	/* vmdk_read_desc: min(file size, 1 MiB - 1) bytes at the offset */
	len = (size_t)MIN(v->size, (uint64_t)VMDK_DESC_MAX_SIZE);
	buf = malloc(len + 1);
	d = malloc(sizeof(*d));
	if (!buf || !d)
		return -ENOMEM;
	ret = vmdk_read_zero_filled(v, buf, len, off, &got);
	if (ret == -E2BIG) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "read budget spent before the descriptor");
		return 0;
	}
	if (ret < 0 && ret != -ERANGE)
		return ret;
	len = vmdk_text_len(buf, len);

	/* the one harmless case: qemu's own zero-sized monolithicSparse,
	 * whose only extent (itself, 0 sectors) qemu skips; qemu still
	 * refuses to open it ("Unsupported image type") */
	vmdk_parse_descriptor(buf, len, d);
	if (d->n_bad_lines == 0 && d->create_type.p &&
	    vmdk_type_in(&d->create_type, vmdk_sparse_types,
			 ARRAY_SIZE(vmdk_sparse_types)) &&
	    d->n_extents == 1 && d->extents[0].sectors == 0 &&
	    d->extents[0].type == VMDK_EXTENT_SPARSE &&
	    vmdk_name_is_local(d->extents[0].name, d->extents[0].name_len)) {
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "a zero-capacity sparse file: qemu reads its "
			   "descriptor as a descriptor file and refuses it");
		r->virtual_size = 0;
		vmdk_fs_create_type(r, &d->create_type);
		return vmdk_check_qemu_window(v, r, d, VMDK_SECTOR_SIZE);
	}
	vmdk_check_descriptor_file(r, buf, len, true);
	return vmdk_check_qemu_window(v, r, NULL, VMDK_SECTOR_SIZE);
}

static int vmdk_probe_kdmv(const struct iw_view *v, struct iw_report *r)
{
	uint8_t sector[VMDK_SECTOR_SIZE];
	struct vmdk4_header h;
	struct vmdk4_layout l = { 0 };
	uint64_t desc_off = 0, desc_len = 0, file_sectors;
	bool stop = false;
	int ret;

	ret = iw_read_struct(v, r, sector, sizeof(sector), 0,
			     "VMDK sparse extent header");
	if (ret < 0)
		return ret == -ERANGE || ret == -E2BIG ? 0 : ret;
	vmdk4_parse_header(sector, &h);

	/* vmdk_open_vmdk4 looks at the header's capacity before any
	 * footer: 0 with a descriptor means "descriptor file" */
	if (h.capacity == 0 && h.desc_offset != 0)
		return vmdk_probe_desc_in_kdmv(v, r, &h);

	if (h.gd_offset == VMDK4_GD_AT_END) {
		ret = vmdk_check_footer(v, r, &h);
		if (ret < 0)
			return ret;
		if (ret > 0)
			stop = true;
	}

	if (h.version == 0 || h.version > 3)
		iw_finding(r, IW_F_UNSUPPORTED_VERSION,
			   "sparse extent version %u (1 to 3 exist)",
			   h.version);
	if (h.flags & ~VMDK4_FLAGS_KNOWN)
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "unknown header flags 0x%08x",
			   h.flags & ~VMDK4_FLAGS_KNOWN);
	/* the check bytes exist to catch a text-mode (CR/LF) transfer */
	if ((h.flags & VMDK4_FLAG_NL_DETECT) &&
	    memcmp(h.nl_check, "\n \r\n", 4) != 0)
		iw_finding(r, IW_F_BAD_FIELD,
			   "newline check bytes are corrupt (transferred in "
			   "text mode?)");
	if (h.compress_algorithm > VMDK4_COMPRESSION_DEFLATE)
		iw_finding(r, IW_F_UNSUPPORTED_FEATURE,
			   "unknown compression algorithm %u",
			   h.compress_algorithm);
	if (!!(h.flags & VMDK4_FLAG_COMPRESS) !=
	    (h.compress_algorithm == VMDK4_COMPRESSION_DEFLATE))
		iw_finding(r, IW_F_BAD_FIELD,
			   "the compressed flag and compressAlgorithm %u "
			   "disagree",
			   h.compress_algorithm);
	if ((h.flags & VMDK4_FLAG_MARKER) &&
	    h.compress_algorithm != VMDK4_COMPRESSION_DEFLATE)
		iw_finding(r, IW_F_BAD_FIELD,
			   "grain markers without compression");
	if (h.unclean_shutdown)
		iw_finding(r, IW_F_DIRTY, "uncleanShutdown is set");

	/* grain size: qemu divides by it and caps it at 1 GiB; the spec
	 * wants a power of 2 */
	if (h.grain_size == 0) {
		iw_finding(r, IW_F_BAD_FIELD, "grain size is 0");
		stop = true;
	} else if (h.grain_size > VMDK_MAX_GRAIN_SECTORS) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "grain size %llu sectors is above qemu's 1 GiB",
			   (unsigned long long)h.grain_size);
		stop = true;
	} else if (!is_power_of_2(h.grain_size)) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "grain size %llu sectors is not a power of 2",
			   (unsigned long long)h.grain_size);
	} else {
		r->cluster_size = (int64_t)(h.grain_size * VMDK_SECTOR_SIZE);
	}
	if (h.num_gtes_per_gt != VMDK4_GTES_PER_GT) {
		iw_finding(r, IW_F_BAD_FIELD,
			   "%u entries per grain table (the spec fixes 512)",
			   h.num_gtes_per_gt);
		if (h.num_gtes_per_gt == 0 ||
		    h.num_gtes_per_gt > VMDK4_GTES_PER_GT)
			stop = true;
	}

	if (h.capacity > (uint64_t)INT64_MAX / VMDK_SECTOR_SIZE) {
		iw_finding(r, IW_F_IMPOSSIBLE_SIZE,
			   "capacity %llu sectors is beyond 2^63 bytes",
			   (unsigned long long)h.capacity);
		stop = true;
	} else {
		r->virtual_size = (int64_t)(h.capacity * VMDK_SECTOR_SIZE);
	}

	/* the qemu-visible create-type follows compressAlgorithm */
	iw_fs_set_str(r, "create-type",
		      h.compress_algorithm == VMDK4_COMPRESSION_DEFLATE
			      ? "streamOptimized"
			      : "monolithicSparse");

	/* qemu: "File truncated, expecting at least ..." */
	file_sectors = v->size / VMDK_SECTOR_SIZE +
		       (v->size % VMDK_SECTOR_SIZE != 0);
	if (!v->partial && file_sectors < h.overhead)
		iw_finding(r, IW_F_TRUNCATED,
			   "the header's overhead is %llu sectors, the file "
			   "has %llu",
			   (unsigned long long)h.overhead,
			   (unsigned long long)file_sectors);

	/* the embedded descriptor: at sector 1 (qemu reads it there
	 * whatever the header says; oslo refuses other places), bounded */
	if (h.desc_offset == 0) {
		if (h.desc_size != 0)
			iw_finding(r, IW_F_BAD_FIELD,
				   "descriptor size without a descriptor");
	} else {
		if (h.desc_offset != 1)
			iw_finding(r, IW_F_BAD_FIELD,
				   "descriptor at sector %llu: qemu reads it at "
				   "sector 1",
				   (unsigned long long)h.desc_offset);
		if (h.desc_size == 0)
			iw_finding(r, IW_F_BAD_FIELD, "descriptor size is 0");
		if (MUL_OVERFLOW(h.desc_offset, (uint64_t)VMDK_SECTOR_SIZE,
				 &desc_off) ||
		    MUL_OVERFLOW(h.desc_size, (uint64_t)VMDK_SECTOR_SIZE,
				 &desc_len)) {
			iw_finding(r, IW_F_BAD_FIELD,
				   "descriptor location overflows");
			desc_len = 0;
		} else if (desc_len > VMDK_DESC_MAX_SIZE + 1) {
			iw_finding(r, IW_F_TABLE_TOO_LARGE,
				   "descriptor of %llu bytes (qemu reads at "
				   "most 1 MiB)",
				   (unsigned long long)desc_len);
			desc_len = VMDK_DESC_MAX_SIZE;
		}
		if (desc_len &&
		    !iw_check_table(v, r, desc_off, desc_len, "descriptor"))
			desc_len = 0;
	}

	ret = vmdk4_layout(&h, &l);
	if (!stop && ret < 0) {
		iw_finding(r, IW_F_BAD_FIELD, "grain directory size overflows");
		stop = true;
	}
	if (!stop && l.gd_entries > VMDK_MAX_GD_ENTRIES) {
		/* qemu: "L1 size too big" */
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "grain directory of %llu entries (qemu allows %u)",
			   (unsigned long long)l.gd_entries,
			   VMDK_MAX_GD_ENTRIES);
		stop = true;
	}
	if (!stop) {
		bool gd_ok = true;

		if (h.gd_offset == 0) {
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "the grain directory overlaps the header");
			gd_ok = false;
		} else if (!iw_check_table(v, r, l.gd_offset, l.gd_bytes,
					   "grain directory")) {
			gd_ok = false;
		}
		if (h.flags & VMDK4_FLAG_RGD) {
			if (h.rgd_offset == 0)
				iw_finding(r, IW_F_TABLE_OVERLAP,
					   "the redundant grain directory "
					   "overlaps the header");
			else
				iw_check_table(v, r, l.rgd_offset, l.gd_bytes,
					       "redundant grain directory");
			if (vmdk_ranges_overlap(l.gd_offset, l.gd_bytes,
						l.rgd_offset, l.gd_bytes))
				iw_finding(r, IW_F_TABLE_OVERLAP,
					   "the grain directory and its "
					   "copy overlap");
		}
		if (desc_len &&
		    (vmdk_ranges_overlap(desc_off, desc_len, l.gd_offset,
					 l.gd_bytes) ||
		     ((h.flags & VMDK4_FLAG_RGD) &&
		      vmdk_ranges_overlap(desc_off, desc_len, l.rgd_offset,
					  l.gd_bytes))))
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "the descriptor overlaps a grain directory");
		if (gd_ok) {
			ret = vmdk_check_tables(v, r, &h, &l);
			if (ret < 0)
				return ret;
		}
	}

	{
		json_object *arr = vmdk_fs_extents(r);
		if (arr)
			vmdk_fs_extent(arr, NULL, 0, "", 0, h.capacity,
				       r->cluster_size,
				       h.compress_algorithm ==
					       VMDK4_COMPRESSION_DEFLATE);
	}

	if (desc_len) {
		_cleanup_free_ char *desc = NULL;

		ret = iw_view_read_alloc(v, desc_off, (size_t)desc_len,
					 (void **)&desc);
		if (ret == -E2BIG) {
			iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
				   "read budget spent before the descriptor");
		} else if (ret == -ERANGE) {
			/* only a partial view gets here (iw_check_table) */
			iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
				   "the descriptor is beyond the inspected part");
		} else if (ret < 0) {
			return ret;
		} else {
			vmdk_check_embedded(r, desc,
					    vmdk_text_len(desc, desc_len), &h);
		}
	} else if (h.desc_offset == 0) {
		iw_finding(r, IW_F_BAD_DESCRIPTOR,
			   "no embedded descriptor (one extent of a "
			   "multi-file disk?)");
	}
	return vmdk_check_qemu_window(v, r, NULL, VMDK_SECTOR_SIZE);
}

/* ---- ESX 2.x "COWD" extents ------------------------------------------------ */

static int vmdk_probe_cowd(const struct iw_view *v, struct iw_report *r)
{
	uint8_t sector[VMDK_SECTOR_SIZE];
	struct vmdk3_header h;
	uint64_t l1_off, l1_len;
	int ret;

	ret = iw_read_struct(v, r, sector, sizeof(sector), 0,
			     "VMDK3 (COWD) header");
	if (ret < 0)
		return ret == -ERANGE || ret == -E2BIG ? 0 : ret;
	vmdk3_parse_header(sector, &h);
	iw_finding(r, IW_F_UNSUPPORTED_SUBFORMAT,
		   "VMDK3 (COWD, ESX 2.x vmfsSparse) extent, version %u",
		   h.version);
	/* qemu sets no create type for COWD and reports "" */
	iw_fs_set_str(r, "create-type", "");
	r->virtual_size = (int64_t)h.disk_sectors * VMDK_SECTOR_SIZE;
	if (h.granularity == 0 || h.granularity > VMDK_MAX_GRAIN_SECTORS)
		iw_finding(r, IW_F_BAD_FIELD, "grain size %u sectors",
			   h.granularity);
	else
		r->cluster_size = (int64_t)h.granularity * VMDK_SECTOR_SIZE;
	if (h.l1dir_size > VMDK_MAX_GD_ENTRIES) {
		iw_finding(r, IW_F_TABLE_TOO_LARGE,
			   "grain directory of %u entries (qemu allows %u)",
			   h.l1dir_size, VMDK_MAX_GD_ENTRIES);
	} else {
		l1_off = (uint64_t)h.l1dir_offset * VMDK_SECTOR_SIZE;
		l1_len = (uint64_t)h.l1dir_size * 4;
		iw_check_table(v, r, l1_off, l1_len, "grain directory");
	}
	return vmdk_check_qemu_window(v, r, NULL, VMDK_SECTOR_SIZE);
}

/* ---- text descriptor files ------------------------------------------------- */

static int vmdk_probe_text(const struct iw_view *v, struct iw_report *r)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ struct vmdk_descriptor *d = NULL;
	size_t len = (size_t)MIN(v->size, (uint64_t)VMDK_DESC_MAX_SIZE);
	size_t text_len;
	int ret;

	r->virtual_size = 0;
	buf = malloc(len + 1);
	d = malloc(sizeof(*d));
	if (!buf || !d)
		return -ENOMEM;
	ret = iw_read_struct(v, r, buf, len, 0, "descriptor");
	if (ret < 0)
		return ret == -ERANGE || ret == -E2BIG ? 0 : ret;
	text_len = vmdk_text_len(buf, len);
	/* a descriptor is text; bytes after it are what OSSA-2024-002
	 * hides behind (a descriptor in sector 0 of a "raw" disk) */
	if (!mem_is_zero(buf + text_len, len - text_len) ||
	    v->size > VMDK_DESC_MAX_SIZE)
		iw_finding(r, IW_F_TRAILING_DATA,
			   "data after the descriptor text (a descriptor in "
			   "the first sector of a disk?)");
	vmdk_check_descriptor_file(r, buf, text_len, false);
	/* the CID/parent window is the first 10 KiB */
	vmdk_parse_descriptor(buf, text_len, d);
	vmdk_check_ids(r, d, buf,
		       MIN(text_len, (size_t)VMDK_QEMU_DESC_WINDOW - 1));
	return 0;
}

/* ---- match and probe ------------------------------------------------------- */

/* Text up to the first NUL with a createType line or an extent line: a
 * descriptor qemu would read with -f vmdk even if its probe would not
 * pick it (e.g. "# Disk DescriptorFile" then createType=, no version). */
static bool vmdk_text_looks_like_descriptor(const uint8_t *head,
					    size_t head_len)
{
	const char *text = (const char *)head;
	size_t len = vmdk_text_len(text, head_len), pos = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = head[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f)
			return false;
	}
	while (pos < len) {
		const char *line = text + pos, *nl;
		size_t n, i = 0, w;

		nl = memchr(line, '\n', len - pos);
		n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		while (i < n && vmdk_blank(line[i]))
			i++;
		if (n - i >= 10 && memcmp(line + i, "createType", 10) == 0) {
			size_t k = i + 10;
			while (k < n && vmdk_blank(line[k]))
				k++;
			if (k < n && line[k] == '=')
				return true;
		}
		/* ACCESS <blank>+ DIGITS <blank>+ UPPERCASE */
		for (w = i; w < n && !vmdk_blank(line[w]); w++)
			;
		if (vmdk_text_caseeq(line + i, w - i, "RW") ||
		    vmdk_text_caseeq(line + i, w - i, "RDONLY") ||
		    vmdk_text_caseeq(line + i, w - i, "NOACCESS")) {
			size_t k = w, d0, t0;
			while (k < n && vmdk_blank(line[k]))
				k++;
			d0 = k;
			while (k < n && vmdk_is_digit(line[k]))
				k++;
			if (k == d0 || k == n || !vmdk_blank(line[k]))
				continue;
			while (k < n && vmdk_blank(line[k]))
				k++;
			t0 = k;
			while (k < n && line[k] >= 'A' && line[k] <= 'Z')
				k++;
			if (k > t0)
				return true;
		}
	}
	return false;
}

static bool vmdk_match(const struct iw_view *v, const uint8_t *head,
		       size_t head_len)
{
	if (head_len >= 4 && (get_be32(head) == VMDK4_MAGIC ||
			      get_be32(head) == VMDK3_MAGIC))
		return true;
	if (head_len == 0)
		return false;
	return iw_qemu_probes_vmdk_text(head, head_len) ||
	       vmdk_text_looks_like_descriptor(head, head_len);
}

static int vmdk_probe(const struct iw_view *v, const uint8_t *head,
		      size_t head_len, struct iw_report *r,
		      struct iw_probe_ctx *ctx)
{
	r->format = "vmdk";
	if (head_len >= 4 && get_be32(head) == VMDK4_MAGIC)
		return vmdk_probe_kdmv(v, r);
	if (head_len >= 4 && get_be32(head) == VMDK3_MAGIC)
		return vmdk_probe_cowd(v, r);
	return vmdk_probe_text(v, r);
}

const struct iw_format iw_format_vmdk = {
	.name = "vmdk",
	.kind = IW_KIND_IMAGE,
	.match = vmdk_match,
	.probe = vmdk_probe,
};
