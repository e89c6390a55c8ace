/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows registry hives (regf), read-only and bounded: enough to read
 * a handful of keys and values (the Windows version from SOFTWARE,
 * the architecture, control set and services from SYSTEM) out of an
 * untrusted hive.
 *
 * The hive is read through an iw_view (a file inside an NTFS volume, or
 * memory in tests and fuzzers): nothing is loaded whole, cells are read
 * on demand. Checked: the base block (signature, checksum, sizes), every
 * bin ("hbin", offset, size inside the hive data), every cell (size,
 * inside its bin, the expected signature: nk, vk, lf, lh, li, ri, db),
 * every offset before it is followed; counts, name lengths, value sizes
 * and depths are capped (HIVE_MAX_* in hive.c, near hivex's own limits:
 * 70000 subkeys, 110000 values, 8000000 bytes of value data, 512 levels);
 * loops in key paths and subkey lists end in -ELOOP. Problems go to the
 * iw_diag given at open (codes hive-*).
 *
 * Names are compared case-insensitively (ASCII and Latin-1 folding for
 * "compressed" names, simple UTF-16 folding otherwise), as Windows does
 * for the keys and values we look up.
 */
#ifndef IW_SCAN_HIVE_H
#define IW_SCAN_HIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../view.h"
#include "diag.h"

/* Registry value types (winnt.h) */
#define HIVE_REG_NONE 0
#define HIVE_REG_SZ 1
#define HIVE_REG_EXPAND_SZ 2
#define HIVE_REG_BINARY 3
#define HIVE_REG_DWORD 4
#define HIVE_REG_DWORD_BIG_ENDIAN 5
#define HIVE_REG_LINK 6
#define HIVE_REG_MULTI_SZ 7
#define HIVE_REG_QWORD 11

/* A key: the offset of its nk cell in the hive data. */
typedef uint32_t hive_node;

struct hive;

/* Check the base block and the first bin; find the root key. 0, or
 * -EINVAL with d set (hive-header). Keeps pointers to v and d. */
int hive_open(const struct iw_view *v, struct iw_diag *d, struct hive **ret);
void hive_close(struct hive *h);
hive_node hive_root(const struct hive *h);

/* Follow a path of subkey names separated by '\\' from `from`
 * ("Microsoft\\Windows NT\\CurrentVersion"). 0 with *ret, -ENOENT,
 * -EINVAL/-ELOOP/-E2BIG with d set. */
int hive_lookup(struct hive *h, hive_node from, const char *path,
		hive_node *ret);

/* The subkeys of a key: cb(ud, name UTF-8, child) for each, through
 * lf/lh/li/ri lists (ri one level deep, as Windows writes them), at most
 * HIVE_MAX_SUBKEYS. A non-zero return from cb stops and is returned. */
typedef int (*hive_subkey_cb)(void *ud, const char *name, hive_node child);
int hive_subkeys(struct hive *h, hive_node key, hive_subkey_cb cb, void *ud);

/*
 * A value of a key, by name ("" is the default value). *ret_type gets
 * the value's type; the data (at most cap bytes; longer: -E2BIG with d
 * set) is copied into a malloc'd buffer, *ret_len its length. Big data
 * ("db" cells, values > 16344 bytes) is assembled. -ENOENT when the key
 * has no such value.
 */
int hive_value(struct hive *h, hive_node key, const char *name,
	       size_t cap, uint32_t *ret_type, void **ret_data,
	       size_t *ret_len);

/* REG_SZ / REG_EXPAND_SZ as UTF-8 (NUL-terminated, at most out_len - 1
 * bytes: longer strings are cut at a character boundary; the string ends
 * at its first NUL; an odd trailing byte is ignored, as Windows'
 * RegQueryValueEx callers see it), -ENOENT, or -EINVAL (hive-value) for
 * another type. */
int hive_value_string(struct hive *h, hive_node key, const char *name,
		      char *out, size_t out_len);
/* REG_DWORD (or DWORD_BIG_ENDIAN), -ENOENT, or -EINVAL (hive-value). */
int hive_value_dword(struct hive *h, hive_node key, const char *name,
		     uint32_t *ret);

/* The base block's sequence numbers differ: Windows was writing the hive
 * (its log holds changes not in it). Still readable, maybe stale. */
bool hive_dirty(const struct hive *h);

/* A key's own name as UTF-8 (cut to out_len - 1 bytes). */
int hive_key_name(struct hive *h, hive_node key, char *out, size_t out_len);

/* Every value of a key, in the order of its value list:
 * cb(ud, name UTF-8, type, data, len); data longer than cap (or than
 * HIVE_MAX_VALUE_LEN): -E2BIG (hive-limit). A non-zero cb return stops
 * and is returned. */
typedef int (*hive_value_cb)(void *ud, const char *name, uint32_t type,
			     const void *data, size_t len);
int hive_values(struct hive *h, hive_node key, size_t cap, hive_value_cb cb,
		void *ud);

/* Depth first, the key (depth 0, name "") and every key under it:
 * cb(ud, name, node, depth). At most max_keys keys and HIVE_MAX_DEPTH
 * levels (-E2BIG, hive-limit); a key under itself: -ELOOP (hive-loop).
 * A non-zero cb return stops and is returned. Recursive: a few hundred
 * bytes of stack a level, at most HIVE_MAX_DEPTH (512) levels. */
typedef int (*hive_walk_cb)(void *ud, const char *name, hive_node node,
			    unsigned depth);
int hive_walk(struct hive *h, hive_node key, size_t max_keys,
	      hive_walk_cb cb, void *ud);

/* REG_SZ data (UTF-16LE, len bytes) as UTF-8 into out, as
 * hive_value_string() does; the length written. */
size_t hive_sz_to_utf8(const void *data, size_t len, char *out,
		       size_t out_len);

#endif
