/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny TAP emitter for C unit tests: ok()/is_int()/is_str(), then
 * tap_done() prints the plan and returns the exit status.
 */
#ifndef IW_TAP_H
#define IW_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...)                                                 \
	({                                                                     \
		long long _g = (long long)(got), _w = (long long)(want);      \
		int _c = ok(_g == _w, __VA_ARGS__);                            \
		if (!_c)                                                       \
			printf("#   got %lld, want %lld\n", _g, _w);           \
		_c;                                                            \
	})
#define is_str(got, want, ...)                                                 \
	({                                                                     \
		const char *_g = (got), *_w = (want);                          \
		int _c = ok(_g && _w && strcmp(_g, _w) == 0, __VA_ARGS__);     \
		if (!_c)                                                       \
			printf("#   got '%s', want '%s'\n", _g ? _g : "(null)", \
			       _w ? _w : "(null)");                            \
		_c;                                                            \
	})

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
