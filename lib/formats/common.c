/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers every format reader shares. */
#include <errno.h>
#include <zlib.h>

#include "formats.h"

int iw_read_struct(const struct iw_view *v, struct iw_report *r, void *buf,
		   size_t len, uint64_t off, const char *what)
{
	int ret = iw_view_read(v, buf, len, off);

	if (ret == -ERANGE) {
		if (v->partial)
			iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
				   "%s at offset %llu is beyond the inspected "
				   "part",
				   what, (unsigned long long)off);
		else
			iw_finding(r, IW_F_TRUNCATED,
				   "%s (%zu bytes at offset %llu) ends past "
				   "the end of the file (%llu bytes)",
				   what, len, (unsigned long long)off,
				   (unsigned long long)v->size);
	} else if (ret == -E2BIG) {
		iw_finding(r, IW_F_INSPECTION_INCOMPLETE,
			   "read budget spent before reading %s", what);
	}
	return ret;
}

bool iw_check_table(const struct iw_view *v, struct iw_report *r,
		    uint64_t off, uint64_t len, const char *what)
{
	if (iw_view_contains(v, off, len))
		return true;
	if (v->partial)
		return true;
	iw_finding(r, IW_F_TABLE_PAST_EOF,
		   "%s (%llu bytes at offset %llu) ends past the end of the "
		   "file (%llu bytes)",
		   what, (unsigned long long)len, (unsigned long long)off,
		   (unsigned long long)v->size);
	return false;
}

/* CRC-32C, reflected polynomial 0x82F63B78, table built on first use. */
uint32_t iw_crc32c(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const uint8_t *p = buf;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t iw_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* zlib takes uInt lengths */
	while (len > 0) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}
