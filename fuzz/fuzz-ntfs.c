/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the NTFS reader (lib/scan/ntfs.h) on a whole
 * volume in memory, as the scanner and the Windows inspector use it:
 * ntfs_open() and ntfs_get_info(), lookups of the paths an inspection
 * follows (the system root, the hives, drivers, hiberfil.sys) with
 * ntfs_stat(), the root directory listed, and every file found read
 * whole through its view (bounded). What comes back is checked: names
 * NUL-terminated and bounded, sizes consistent, problem codes known.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/ntfs.h"
#include "diag-check.h"

/* A small volume (mkntfs makes them from 1 MiB) with a few files;
 * structures further out are reached through LCNs, which the fuzzer
 * mutates anyway. */
#define MAX_INPUT (4 << 20)
#define FUZZ_READ_BUDGET (64ULL << 20)
#define FUZZ_FILE_CAP (256u << 10)
#define FUZZ_LIST_CAP 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"Windows",
	"\\Windows\\System32\\config\\SOFTWARE",
	"/windows/system32/CONFIG/system",
	"Windows\\System32\\cmd.exe",
	"Windows\\System32\\drivers\\viostor.sys",
	"hiberfil.sys",
	"boot.ini",
	"$MFT",
	"$UpCase",
	"a/b/c/d/e/f/g",
	"",
};

static void read_file(struct ntfs_vol *vol, uint64_t mft)
{
	static uint8_t buf[4096];
	struct ntfs_file *f = NULL;
	const struct iw_view *v;
	uint64_t n;

	if (ntfs_file_open(vol, mft, &f) < 0) {
		if (f)
			abort();
		return;
	}
	v = ntfs_file_view(f);
	n = v->size < FUZZ_FILE_CAP ? v->size : FUZZ_FILE_CAP;
	for (uint64_t off = 0; off < n; off += sizeof(buf)) {
		size_t k = n - off < sizeof(buf) ? (size_t)(n - off)
						 : sizeof(buf);
		if (iw_view_read(v, buf, k, off) < 0)
			break;
	}
	/* the last bytes, past the initialized size perhaps */
	if (v->size >= 16)
		(void)iw_view_read(v, buf, 16, v->size - 16);
	ntfs_file_close(f);
}

struct list_state {
	struct ntfs_vol *vol;
	unsigned n;
};

static int list_cb(void *ud, const char *name, uint64_t mft, bool is_dir)
{
	struct list_state *ls = ud;

	if (!memchr(name, '\0', NTFS_NAME_MAX) ||
	    mft >= (UINT64_C(1) << 48))
		abort();
	if (!is_dir && ls->n < 8)
		read_file(ls->vol, mft);
	return ++ls->n >= FUZZ_LIST_CAP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iw_diag d = { 0 };
	struct iw_view v;
	struct ntfs_vol *vol = NULL;
	const struct ntfs_info *info;
	struct list_state ls = { 0 };

	if (size > MAX_INPUT)
		return 0;
	iw_view_init_mem(&v, data, size);
	v.own_budget = FUZZ_READ_BUDGET;
	if (ntfs_open(&v, &d, &vol) < 0) {
		if (vol)
			abort();
		fuzz_check_diag(&d);
		return 0;
	}
	info = ntfs_get_info(vol);
	if (!memchr(info->label, '\0', sizeof(info->label)) ||
	    info->total_size > size || info->cluster_size == 0 ||
	    (info->cluster_size & (info->cluster_size - 1)))
		abort();
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct ntfs_stat st;
		uint64_t mft;

		if (ntfs_lookup(vol, paths[i], &mft) < 0)
			continue;
		if (ntfs_stat(vol, mft, &st) < 0)
			continue;
		if (st.mft != mft || (st.directory && st.size))
			abort();
		if (!st.directory)
			read_file(vol, mft);
	}
	ls.vol = vol;
	(void)ntfs_list_dir(vol, NTFS_MFT_RECORD_ROOT, list_cb, &ls);
	ntfs_close(vol);
	fuzz_check_diag(&d);
	return 0;
}
