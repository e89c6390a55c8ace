/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-16 names found in images (GPT partition names, UDF and Joliet
 * identifiers) → UTF-8. Unpaired surrogates become U+FFFD; the result
 * still goes through iw_sanitize() before it reaches a report.
 */
#ifndef IW_FORMATS_UTF16_H
#define IW_FORMATS_UTF16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bytes.h"

/* Bytes of UTF-8 that `units` UTF-16 code units can need, plus NUL: a
 * BMP unit takes at most 3, a surrogate pair (2 units) 4. */
#define UTF16_UTF8_MAX(units) ((units) * 3 + 1)

/* Decode up to `units` code units at p (stopping at a NUL unit) into out,
 * which holds UTF16_UTF8_MAX(units) bytes. Returns the length written. */
static inline size_t utf16_to_utf8(const uint8_t *p, size_t units,
				   bool big_endian, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < units; i++) {
		uint32_t cp = big_endian ? get_be16(p + 2 * i)
					 : get_le16(p + 2 * i);

		if (cp == 0)
			break;
		if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < units) {
			uint32_t lo = big_endian ? get_be16(p + 2 * i + 2)
						 : get_le16(p + 2 * i + 2);
			if (lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				i++;
			} else {
				cp = 0xfffd;
			}
		} else if (cp >= 0xd800 && cp < 0xe000) {
			cp = 0xfffd;
		}
		if (cp < 0x80) {
			out[o++] = (char)cp;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xc0 | cp >> 6);
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xe0 | cp >> 12);
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | cp >> 18);
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	out[o] = '\0';
	return o;
}

#endif
