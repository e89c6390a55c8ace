/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small macros shared by every part of imgward: cleanup attributes,
 * ownership transfer, overflow-checked arithmetic.
 *
 * Ownership rule (HACKING.md): a variable declared with a _cleanup_
 * attribute is always initialised where it is declared; ownership leaves
 * the scope only through TAKE_PTR()/TAKE_FD().
 */
#ifndef IW_UTIL_H
#define IW_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_ __attribute__((warn_unused_result))

/* Hand a pointer or fd on: returns the value and clears the variable. */
#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _take_p = (p);                                   \
		(p) = NULL;                                                    \
		_take_p;                                                       \
	})
#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int _take_fd = (fd);                                           \
		(fd) = -1;                                                     \
		_take_fd;                                                      \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* close() that keeps errno and accepts -1. Returns -1 for assignment. */
static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}
static inline void closep(int *fd)
{
	safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Overflow-checked arithmetic on untrusted numbers: true on overflow. */
#define ADD_OVERFLOW(a, b, res) __builtin_add_overflow(a, b, res)
#define MUL_OVERFLOW(a, b, res) __builtin_mul_overflow(a, b, res)

/* true when [off, off+len) fits inside [0, size) without wrapping. */
static inline bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	uint64_t end;

	if (ADD_OVERFLOW(off, len, &end))
		return false;
	return end <= size;
}

static inline bool is_power_of_2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)

#endif
