/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Endian readers for on-disk structures. The unchecked readers take a
 * pointer the caller has already bounds-checked (a fixed-size header
 * read whole); the _at variants check [off, off+width) against len and
 * return false instead of reading out of bounds.
 */
#ifndef IW_BYTES_H
#define IW_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t get_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | b[1] << 8);
}
static inline uint32_t get_le32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}
static inline uint64_t get_le64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)get_le32(b) | (uint64_t)get_le32(b + 4) << 32;
}
static inline uint16_t get_be16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] << 8 | b[1]);
}
static inline uint32_t get_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
}
static inline uint64_t get_be64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)get_be32(b) << 32 | (uint64_t)get_be32(b + 4);
}

static inline void put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}
static inline void put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}
static inline void put_le64(void *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}
static inline void put_be32(void *p, uint32_t v)
{
	uint8_t *b = p;
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (24 - 8 * i));
}
static inline void put_be64(void *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32((uint8_t *)p + 4, (uint32_t)v);
}

#define IW_DEFINE_GET_AT(name, type, width)                                    \
	static inline bool name##_at(const void *buf, size_t len, size_t off,  \
				     type *ret)                                \
	{                                                                      \
		if (off > len || len - off < (width))                          \
			return false;                                          \
		*ret = name((const uint8_t *)buf + off);                       \
		return true;                                                   \
	}
IW_DEFINE_GET_AT(get_le16, uint16_t, 2)
IW_DEFINE_GET_AT(get_le32, uint32_t, 4)
IW_DEFINE_GET_AT(get_le64, uint64_t, 8)
IW_DEFINE_GET_AT(get_be16, uint16_t, 2)
IW_DEFINE_GET_AT(get_be32, uint32_t, 4)
IW_DEFINE_GET_AT(get_be64, uint64_t, 8)
#undef IW_DEFINE_GET_AT

/* true if the len bytes at p are all zero */
static inline bool mem_is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

#endif
