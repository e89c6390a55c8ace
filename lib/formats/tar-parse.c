/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tar header, number and pax record parsing, and the member iterator
 * (see tar.h). References: POSIX.1-2017 pax "ustar Interchange Format"
 * and "pax Extended Header"; GNU tar manual "Basic Tar Format" (GNU
 * extensions 'L', 'K', base-256 numbers).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "../util.h"
#include "tar.h"

/* ustar header layout */
#define TAR_NAME_OFF 0
#define TAR_NAME_LEN 100
#define TAR_SIZE_OFF 124
#define TAR_SIZE_LEN 12
#define TAR_CHKSUM_OFF 148
#define TAR_CHKSUM_LEN 8
#define TAR_TYPE_OFF 156
#define TAR_LINK_OFF 157
#define TAR_LINK_LEN 100
#define TAR_PREFIX_OFF 345
#define TAR_PREFIX_LEN 155

bool tar_has_magic(const uint8_t block[TAR_BLOCK_SIZE])
{
	/* POSIX "ustar\0" + "00"; GNU "ustar " + " \0". Both start with
	 * "ustar" and a NUL or a space. */
	return memcmp(block + TAR_MAGIC_OFFSET, "ustar", 5) == 0 &&
	       (block[TAR_MAGIC_OFFSET + 5] == 0 ||
		block[TAR_MAGIC_OFFSET + 5] == ' ');
}

static bool tar_is_posix(const uint8_t *block)
{
	return memcmp(block + TAR_MAGIC_OFFSET, "ustar\0", 6) == 0;
}

bool tar_parse_number(const uint8_t *field, size_t len, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (len == 0)
		return false;
	if (field[0] & 0x80) {
		/* GNU base-256: big-endian two's complement; 0xff starts a
		 * negative number, which no size or checksum can be */
		if (field[0] != 0x80)
			return false;
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return false;
			v = v << 8 | field[i];
		}
		if (v > INT64_MAX)
			return false;
		*ret = v;
		return true;
	}
	while (i < len && field[i] == ' ')
		i++;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++) {
		if (v >> 61)
			return false;
		v = v << 3 | (uint64_t)(field[i] - '0');
	}
	/* the rest must be terminators */
	for (; i < len; i++)
		if (field[i] != ' ' && field[i] != 0)
			return false;
	if (v > INT64_MAX)
		return false;
	*ret = v;
	return true;
}

bool tar_checksum_ok(const uint8_t block[TAR_BLOCK_SIZE])
{
	uint64_t want;
	uint32_t sum_unsigned = 0;
	int32_t sum_signed = 0;

	if (!tar_parse_number(block + TAR_CHKSUM_OFF, TAR_CHKSUM_LEN, &want))
		return false;
	for (size_t i = 0; i < TAR_BLOCK_SIZE; i++) {
		uint8_t b = i >= TAR_CHKSUM_OFF &&
					    i < TAR_CHKSUM_OFF + TAR_CHKSUM_LEN
				    ? ' '
				    : block[i];
		sum_unsigned += b;
		sum_signed += (int8_t)b;
	}
	/* POSIX says unsigned; some historic tars summed signed chars, and
	 * GNU and Python accept either */
	return want == sum_unsigned || (int64_t)want == (int64_t)sum_signed;
}

bool tar_parse_pax(const uint8_t *buf, size_t len, struct tar_pax *p)
{
	size_t pos = 0;

	*p = (struct tar_pax){ 0 };
	/* each record advances pos by at least its 5-byte minimum */
	while (pos < len) {
		const uint8_t *rec = buf + pos, *key, *eq, *val;
		size_t rec_len = 0, i = 0, key_len, val_len;

		/* trailing NUL padding after the last record is tolerated */
		if (rec[0] == 0 && mem_is_zero(rec, len - pos))
			break;
		for (; i < len - pos && i < 20 && rec[i] >= '0' && rec[i] <= '9';
		     i++)
			rec_len = rec_len * 10 + (size_t)(rec[i] - '0');
		if (i == 0 || i >= len - pos || rec[i] != ' ')
			return false;
		if (rec_len < i + 3 || rec_len > len - pos ||
		    rec[rec_len - 1] != '\n')
			return false;
		key = rec + i + 1;
		eq = memchr(key, '=', rec_len - i - 2);
		if (!eq || eq == key)
			return false;
		key_len = (size_t)(eq - key);
		val = eq + 1;
		val_len = (size_t)(rec + rec_len - 1 - val);

		if (key_len == 4 && memcmp(key, "path", 4) == 0) {
			p->path = val;
			p->path_len = val_len;
			p->has_path = true;
		} else if (key_len == 8 && memcmp(key, "linkpath", 8) == 0) {
			p->linkpath = val;
			p->linkpath_len = val_len;
			p->has_linkpath = true;
		} else if (key_len == 4 && memcmp(key, "size", 4) == 0) {
			uint64_t v = 0;

			if (val_len == 0 || val_len > 19)
				return false;
			for (size_t k = 0; k < val_len; k++) {
				if (val[k] < '0' || val[k] > '9')
					return false;
				v = v * 10 + (uint64_t)(val[k] - '0');
			}
			p->size = v;
			p->has_size = true;
		} else if (key_len > 11 && memcmp(key, "GNU.sparse.", 11) == 0) {
			p->sparse = true;
		}
		pos += rec_len;
	}
	return true;
}

void tar_member_done(struct tar_member *m)
{
	free(m->name);
	free(m->link);
	*m = (struct tar_member){ 0 };
}

static enum tar_type tar_type_of(uint8_t flag)
{
	switch (flag) {
	case '0':
	case '\0':
	case '7': /* contiguous file: a regular file everywhere */
		return TAR_TYPE_REGULAR;
	case '1':
		return TAR_TYPE_HARDLINK;
	case '2':
		return TAR_TYPE_SYMLINK;
	case '3':
		return TAR_TYPE_CHAR;
	case '4':
		return TAR_TYPE_BLOCK;
	case '5':
	case 'D': /* GNU dumpdir: a directory with a listing as data */
		return TAR_TYPE_DIRECTORY;
	case '6':
		return TAR_TYPE_FIFO;
	case 'V':
		return TAR_TYPE_VOLUME_LABEL;
	case 'S':
		return TAR_TYPE_GNU_SPARSE;
	case 'M':
		return TAR_TYPE_GNU_MULTIVOL;
	default:
		return TAR_TYPE_UNKNOWN;
	}
}

/* Bytes that follow the header as data. POSIX: none for links, devices,
 * FIFOs and directories whatever the size field says (GNU 'D' is the
 * exception: its listing is data). */
static bool tar_type_has_data(uint8_t flag)
{
	return !(flag >= '1' && flag <= '6');
}

static char *dup_bytes(const void *b, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	memcpy(s, b, len);
	s[len] = 0;
	return s;
}

static int tar_read(const struct iw_view *v, void *buf, size_t len,
		    uint64_t off)
{
	int ret = iw_view_read(v, buf, len, off);

	if (ret == -ERANGE)
		return v->partial ? TAR_NEXT_INCOMPLETE : TAR_NEXT_TRUNCATED;
	if (ret == -E2BIG)
		return TAR_NEXT_INCOMPLETE;
	return ret;
}

static int tar_bad(struct tar_cursor *c, uint64_t off, const char *what)
{
	c->error = what;
	c->error_offset = off;
	return TAR_NEXT_BAD;
}

int tar_next(const struct iw_view *v, struct tar_cursor *c,
	     struct tar_member *m)
{
	_cleanup_free_ char *long_name = NULL, *long_link = NULL;
	_cleanup_free_ uint8_t *pax_buf = NULL;
	size_t long_name_len = 0, long_link_len = 0;
	struct tar_pax pax = { 0 };
	uint8_t block[TAR_BLOCK_SIZE];
	uint64_t pos = c->pos, size, padded;
	int ret;

	*m = (struct tar_member){ .header_offset = pos };
	c->error = NULL;
	for (unsigned ext = 0;; ext++) {
		uint8_t flag;

		if (pos == v->size && ext == 0 && !v->partial)
			return TAR_NEXT_EOF;
		ret = tar_read(v, block, sizeof(block), pos);
		if (ret != 0)
			return ret;
		if (mem_is_zero(block, sizeof(block))) {
			if (ext > 0)
				return tar_bad(c, pos,
					       "an extended header is followed "
					       "by the end of the archive");
			c->pos = pos;
			return TAR_NEXT_END;
		}
		if (!tar_checksum_ok(block))
			return tar_bad(c, pos, "header checksum mismatch");
		if (!tar_parse_number(block + TAR_SIZE_OFF, TAR_SIZE_LEN,
				      &size))
			return tar_bad(c, pos, "malformed size field");
		flag = block[TAR_TYPE_OFF];
		/* size is at most INT64_MAX, so padding cannot wrap */
		padded = (size + TAR_BLOCK_SIZE - 1) / TAR_BLOCK_SIZE *
			 TAR_BLOCK_SIZE;

		if (flag == 'L' || flag == 'K' || flag == 'x' || flag == 'g') {
			size_t cap = flag == 'x' || flag == 'g'
					     ? TAR_PAX_MAX
					     : TAR_LONG_NAME_MAX;
			_cleanup_free_ uint8_t *data = NULL;

			if (ext >= TAR_MAX_EXTENSIONS)
				return tar_bad(c, pos,
					       "too many extended headers "
					       "in a row");
			if (size > cap)
				return tar_bad(c, pos,
					       "extended header larger than "
					       "any real one");
			data = malloc(size ? size : 1);
			if (!data)
				return -ENOMEM;
			ret = tar_read(v, data, (size_t)size,
				       pos + TAR_BLOCK_SIZE);
			if (ret != 0)
				return ret;
			if (flag == 'L' || flag == 'K') {
				/* the name ends at the first NUL */
				const uint8_t *nul = memchr(data, 0, size);
				size_t n = nul ? (size_t)(nul - data)
					       : (size_t)size;
				char *s = dup_bytes(data, n);

				if (!s)
					return -ENOMEM;
				if (flag == 'L') {
					free(long_name);
					long_name = s;
					long_name_len = n;
				} else {
					free(long_link);
					long_link = s;
					long_link_len = n;
				}
			} else {
				struct tar_pax p;

				if (!tar_parse_pax(data, (size_t)size, &p))
					return tar_bad(c, pos,
						       "malformed pax extended "
						       "header");
				/* 'g' applies to every later member; a
				 * global path or size makes no sense and is
				 * ignored (as GNU tar does for path) */
				if (flag == 'x') {
					free(pax_buf);
					pax_buf = TAKE_PTR(data);
					pax = p;
				} else if (p.sparse) {
					pax.sparse = true;
				}
			}
			pos += TAR_BLOCK_SIZE + padded;
			continue;
		}

		/* the member itself */
		m->typeflag = flag;
		m->type = tar_type_of(flag);
		m->ustar = tar_is_posix(block);
		m->gnu = tar_has_magic(block) && !m->ustar;
		m->header_size = size;
		if (pax.has_size)
			size = pax.size;
		if (pax.sparse && m->type == TAR_TYPE_REGULAR)
			m->type = TAR_TYPE_GNU_SPARSE;
		if (!tar_type_has_data(flag))
			size = 0;
		if (size > INT64_MAX - pos)
			return tar_bad(c, pos, "member size overflows");
		m->data_offset = pos + TAR_BLOCK_SIZE;
		m->size = size;

		if (pax.has_path) {
			m->name = dup_bytes(pax.path, pax.path_len);
			m->name_len = pax.path_len;
		} else if (long_name) {
			m->name = TAKE_PTR(long_name);
			m->name_len = long_name_len;
		} else {
			/* name[100] (+ "/" + prefix[155] in POSIX ustar) */
			uint8_t buf[TAR_PREFIX_LEN + 1 + TAR_NAME_LEN];
			size_t n = 0, nl = strnlen((const char *)block,
						   TAR_NAME_LEN);
			size_t pl = m->ustar ? strnlen((const char *)block +
							       TAR_PREFIX_OFF,
						       TAR_PREFIX_LEN)
					     : 0;

			if (pl) {
				memcpy(buf, block + TAR_PREFIX_OFF, pl);
				buf[pl] = '/';
				n = pl + 1;
			}
			memcpy(buf + n, block + TAR_NAME_OFF, nl);
			n += nl;
			m->name = dup_bytes(buf, n);
			m->name_len = n;
		}
		if (pax.has_linkpath) {
			m->link = dup_bytes(pax.linkpath, pax.linkpath_len);
			m->link_len = pax.linkpath_len;
		} else if (long_link) {
			m->link = TAKE_PTR(long_link);
			m->link_len = long_link_len;
		} else {
			size_t n = strnlen((const char *)block + TAR_LINK_OFF,
					   TAR_LINK_LEN);
			m->link = dup_bytes(block + TAR_LINK_OFF, n);
			m->link_len = n;
		}
		if (!m->name || !m->link) {
			tar_member_done(m);
			return -ENOMEM;
		}
		padded = (size + TAR_BLOCK_SIZE - 1) / TAR_BLOCK_SIZE *
			 TAR_BLOCK_SIZE;
		c->pos = m->data_offset + padded;
		return TAR_NEXT_MEMBER;
	}
}

size_t tar_normalise_name(const char *name, size_t len, char *out,
			  size_t out_len)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t start, clen;

		while (i < len && name[i] == '/')
			i++;
		start = i;
		while (i < len && name[i] != '/')
			i++;
		clen = i - start;
		if (clen == 0 || (clen == 1 && name[start] == '.'))
			continue;
		if (n > 0 && n < out_len)
			out[n++] = '/';
		for (size_t k = 0; k < clen && n < out_len; k++)
			out[n++] = name[start + k];
	}
	return n;
}

int tar_find_member(const struct iw_view *v, const char *name,
		    uint64_t *offset, uint64_t *size, const char **why)
{
	struct tar_cursor c = { 0 };
	size_t name_len = strlen(name), want_len;
	char want[512], norm[512];
	bool found = false;
	unsigned same = 0;
	int r = 0;

	*why = NULL;
	/* names longer than this are not images anyone converts */
	if (name_len >= sizeof(want)) {
		*why = "the member name is too long";
		return -EINVAL;
	}
	want_len = tar_normalise_name(name, name_len, want, sizeof(want));
	for (unsigned i = 0; i < TAR_FIND_MAX_MEMBERS; i++) {
		struct tar_member m = { 0 };
		size_t n;

		r = tar_next(v, &c, &m);
		if (r < 0)
			return r;
		if (r != TAR_NEXT_MEMBER) {
			tar_member_done(&m);
			if (r == TAR_NEXT_END || r == TAR_NEXT_EOF)
				break;
			*why = c.error ? c.error : "the archive is malformed";
			return -EINVAL;
		}
		n = tar_normalise_name(m.name, m.name_len, norm, sizeof(norm));
		if (n == want_len && memcmp(norm, want, n) == 0) {
			/* "./disk.vmdk" and "disk.vmdk": which one a tool
			 * extracts depends on the tool */
			if (++same > 1) {
				*why = "two members have that name";
				tar_member_done(&m);
				return -EINVAL;
			}
			if (m.type != TAR_TYPE_REGULAR) {
				*why = "the member is not a regular file";
				tar_member_done(&m);
				return -EINVAL;
			}
			found = true;
			*offset = m.data_offset;
			*size = m.size;
		}
		tar_member_done(&m);
		if (i + 1 == TAR_FIND_MAX_MEMBERS) {
			*why = "the archive has too many members";
			return -EINVAL;
		}
	}
	return found ? 0 : -ENOENT;
}
