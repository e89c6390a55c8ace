/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the registry hive reader (lib/scan/hive.h) over a
 * memory view, as the Windows inspector uses it: hive_open(), the
 * SOFTWARE and SYSTEM lookups of lib/scan/windows.c read as strings and
 * DWORDs, a raw value, then a bounded walk of the whole tree reading
 * every key's name and every value. What comes back is checked: strings
 * NUL-terminated inside their buffer, lengths within the caps asked for,
 * every problem code a known one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/hive.h"
#include "diag-check.h"

/* A hive's structures are reached through 32-bit offsets: a 1 MiB input
 * holds every kind of cell many times over. */
#define MAX_INPUT (1 << 20)
/* keys walked and bytes read per input: enough for the seeds' trees,
 * small enough that a list of 70000 entries stays fast */
#define FUZZ_MAX_KEYS 2000
#define FUZZ_VALUE_CAP (64u << 10)
#define FUZZ_READ_BUDGET (32ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *key, *value;
} lookups[] = {
	{ "Microsoft\\Windows NT\\CurrentVersion", "ProductName" },
	{ "Microsoft\\Windows NT\\CurrentVersion", "CurrentMajorVersionNumber" },
	{ "Microsoft\\Windows NT\\CurrentVersion", "CurrentMinorVersionNumber" },
	{ "Microsoft\\Windows NT\\CurrentVersion", "CurrentVersion" },
	{ "Microsoft\\Windows NT\\CurrentVersion", "CurrentBuildNumber" },
	{ "Microsoft\\Windows NT\\CurrentVersion", "EditionID" },
	{ "Microsoft\\Windows NT\\CurrentVersion", "InstallationType" },
	{ "Select", "Current" },
	{ "ControlSet001\\Control\\Session Manager\\Environment",
	  "PROCESSOR_ARCHITECTURE" },
	{ "ControlSet001\\Control\\ComputerName\\ComputerName", "ComputerName" },
	{ "ControlSet001\\Services\\Tcpip\\Parameters", "Hostname" },
	{ "ControlSet001\\Services\\viostor", "Start" },
	{ "ControlSet001\\Services\\vioscsi", "Start" },
	{ "ControlSet001\\Services\\netkvm", "ImagePath" },
	{ "K", "" },
};

static void check_ret(int r)
{
	if (r > 0 || (r < 0 && r != -EINVAL && r != -ENOENT && r != -ELOOP &&
		      r != -E2BIG && r != -ENOMEM && r != -EIO && r != -ERANGE))
		abort();
}

static void check_string(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	if (!nul)
		abort();
}

static int touch(const void *p, size_t len)
{
	volatile uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum ^= ((const uint8_t *)p)[i];
	return sum;
}

static int on_value(void *ud, const char *name, uint32_t type,
		    const void *data, size_t len)
{
	char s[64];

	if (len > FUZZ_VALUE_CAP)
		abort();
	touch(name, strlen(name));
	touch(data, len);
	if (type == HIVE_REG_SZ) {
		hive_sz_to_utf8(data, len, s, sizeof(s));
		check_string(s, sizeof(s));
	}
	return 0;
}

struct walk {
	struct hive *h;
	size_t keys;
};

static int on_key(void *ud, const char *name, hive_node node, unsigned depth)
{
	struct walk *w = ud;
	char n[32];
	int r;

	if (++w->keys > FUZZ_MAX_KEYS || depth > 512)
		abort();
	touch(name, strlen(name));
	r = hive_key_name(w->h, node, n, sizeof(n));
	check_ret(r);
	if (r == 0)
		check_string(n, sizeof(n));
	r = hive_values(w->h, node, FUZZ_VALUE_CAP, on_value, NULL);
	check_ret(r);
	/* a broken value does not stop the walk: the rest is still fuzzed */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iw_diag d = { 0 };
	struct hive *h = NULL;
	struct iw_view v;
	int r;

	if (size > MAX_INPUT)
		return 0;
	iw_view_init_mem(&v, data, size);
	v.own_budget = FUZZ_READ_BUDGET;
	r = hive_open(&v, &d, &h);
	check_ret(r);
	fuzz_check_diag(&d);
	if (r < 0)
		return 0;

	for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		hive_node key;
		char s[40];
		uint32_t dw, type;
		void *raw;
		size_t len;

		r = hive_lookup(h, hive_root(h), lookups[i].key, &key);
		check_ret(r);
		if (r < 0)
			continue;
		r = hive_value_string(h, key, lookups[i].value, s, sizeof(s));
		check_ret(r);
		check_string(s, sizeof(s));
		check_ret(hive_value_dword(h, key, lookups[i].value, &dw));
		r = hive_value(h, key, lookups[i].value, FUZZ_VALUE_CAP, &type,
			       &raw, &len);
		check_ret(r);
		if (r == 0) {
			if (len > FUZZ_VALUE_CAP)
				abort();
			touch(raw, len);
			free(raw);
		}
	}
	struct walk w = { .h = h };
	check_ret(hive_walk(h, hive_root(h), FUZZ_MAX_KEYS, on_key, &w));
	fuzz_check_diag(&d);
	hive_close(h);
	return 0;
}
