/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the NTFS reader's layers (lib/scan/ntfs.h) on buffers
 * built here: the boot sector (cluster size encodings, record sizes,
 * bounds), multi-sector fixups, the record header and attribute walk,
 * runlist decoding, $ATTRIBUTE_LIST entries, index entries. Every
 * failure must carry its problem code.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "scan/ntfs.h"
#include "tap.h"

static struct iw_diag d;

static const char *last_code(void)
{
	return d.n ? iw_diag_code_name(d.e[d.n - 1].code) : "(none)";
}

static void reset(void)
{
	memset(&d, 0, sizeof(d));
}

/* ---- boot sector ---- */

static void make_boot(uint8_t *b, uint8_t spc, uint64_t sectors,
		      int8_t mft_rec, uint64_t mft_lcn)
{
	memset(b, 0, 512);
	memcpy(b + 3, "NTFS    ", 8);
	put_le16(b + 0x0b, 512);
	b[0x0d] = spc;
	b[0x15] = 0xf8;
	put_le64(b + 0x28, sectors);
	put_le64(b + 0x30, mft_lcn);
	put_le64(b + 0x38, 2);
	b[0x40] = (uint8_t)mft_rec;
	b[0x44] = 1;
	put_le64(b + 0x48, 0x1122334455667788ull);
	put_le16(b + 0x1fe, 0xaa55);
}

static void test_boot(void)
{
	uint8_t b[512];
	struct ntfs_info info;

	reset();
	make_boot(b, 8, 131071, -10, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), 0,
	       "boot: a 64 MiB volume");
	is_int(info.cluster_size, 4096, "boot: 4 KiB clusters");
	is_int(info.mft_record_size, 1024, "boot: 0xf6 is 1 KiB records");
	is_int(info.index_record_size, 4096, "boot: 1 cluster per index block");
	ok(info.mft_offset == 4 * 4096, "boot: $MFT offset");
	ok(info.serial == 0x1122334455667788ull, "boot: serial");

	/* 0xf4: 2^(256-244) = 4096 sectors = 2 MiB clusters */
	make_boot(b, 0xf4, 131071, -10, 4);
	b[0x44] = 0xf4; /* 4 KiB index blocks: one cluster is too big */
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), 0,
	       "boot: sectors per cluster 0xf4");
	is_int(info.cluster_size, 2 << 20, "boot: 0xf4 is 2 MiB clusters");
	is_int(info.index_record_size, 4096, "boot: 0xf4 is 4 KiB blocks");
	b[0x44] = 1;
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: a 2 MiB index block");
	make_boot(b, 0x80, 131071, -10, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), 0,
	       "boot: sectors per cluster 0x80 (128, not an exponent)");
	is_int(info.cluster_size, 65536, "boot: 0x80 is 64 KiB clusters");

	reset();
	make_boot(b, 0xf3, 131071, -10, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: 0xf3 encodes nothing");
	is_str(last_code(), "ntfs-boot-sector", "boot: ... ntfs-boot-sector");
	reset();
	make_boot(b, 3, 131071, -10, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: 3 sectors per cluster");
	reset();
	make_boot(b, 8, 131071, 0, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: 0 clusters per MFT record");
	make_boot(b, 8, 131071, -8, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: 256-byte MFT records (no whole stride)");
	make_boot(b, 8, 131071, -17, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: 128 KiB MFT records");
	make_boot(b, 8, 131071, 32, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: 32 clusters per record (128 KiB)");
	make_boot(b, 8, 131072 * 2, -10, 4);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: more sectors than the partition");
	make_boot(b, 8, UINT64_MAX, -10, 4);
	is_int(ntfs_parse_boot(b, 512, UINT64_MAX, &info, &d), -EINVAL,
	       "boot: negative sector count");
	make_boot(b, 8, 131071, -10, 16383);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: $MFT LCN past the clusters");
	make_boot(b, 8, 131071, -10, 4);
	memcpy(b + 3, "NTFS   X", 8);
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: OEM ID");
	make_boot(b, 8, 131071, -10, 4);
	b[0x10] = 2; /* FATs */
	is_int(ntfs_parse_boot(b, 512, 131072 * 512, &info, &d), -EINVAL,
	       "boot: a FAT count");
	is_int(ntfs_parse_boot(b, 511, 131072 * 512, &info, &d), -EINVAL,
	       "boot: truncated");
	is_str(last_code(), "ntfs-boot-sector", "boot: ... ntfs-boot-sector");
}

/* ---- fixups ---- */

/* A 1 KiB FILE record with its update sequence applied (as stored):
 * USN 0x0707, the stride ends saved in the array. */
static void make_record(uint8_t *r)
{
	memset(r, 0, 1024);
	memcpy(r, "FILE", 4);
	put_le16(r + 4, 0x30);
	put_le16(r + 6, 3);
	put_le16(r + 16, 1);
	put_le16(r + 20, 0x38);
	put_le16(r + 22, 1);
	put_le32(r + 24, 0x38 + 8);
	put_le32(r + 28, 1024);
	put_le32(r + 0x38, 0xffffffff);
}

static void protect(uint8_t *r, size_t size)
{
	uint16_t ofs = get_le16(r + 4);

	put_le16(r + ofs, 0x0707);
	for (size_t i = 1; i <= size / 512; i++) {
		memcpy(r + ofs + 2 * i, r + i * 512 - 2, 2);
		put_le16(r + i * 512 - 2, 0x0707);
	}
}

static void test_fixups(void)
{
	uint8_t r[1024], raw[1024];

	reset();
	make_record(r);
	put_le16(r + 510, 0xabcd);
	put_le16(r + 1022, 0x1234);
	memcpy(raw, r, sizeof(r));
	protect(raw, sizeof(raw));
	memcpy(r, raw, sizeof(r));
	is_int(ntfs_apply_fixups(r, 1024, "FILE", &d), 0, "fixups: applied");
	ok(get_le16(r + 510) == 0xabcd && get_le16(r + 1022) == 0x1234,
	   "fixups: stride ends restored");

	memcpy(r, raw, sizeof(r));
	r[1022] ^= 1;
	is_int(ntfs_apply_fixups(r, 1024, "FILE", &d), -EINVAL,
	       "fixups: second stride mismatch");
	is_str(last_code(), "ntfs-fixup", "fixups: ... ntfs-fixup");
	ok(get_le16(r + 510) == 0x0707, "fixups: nothing restored on failure");

	memcpy(r, raw, sizeof(r));
	put_le16(r + 6, 0);
	is_int(ntfs_apply_fixups(r, 1024, "FILE", &d), -EINVAL,
	       "fixups: count 0");
	memcpy(r, raw, sizeof(r));
	put_le16(r + 6, 2);
	is_int(ntfs_apply_fixups(r, 1024, "FILE", &d), -EINVAL,
	       "fixups: count short of the strides");
	memcpy(r, raw, sizeof(r));
	put_le16(r + 4, 0x31);
	is_int(ntfs_apply_fixups(r, 1024, "FILE", &d), -EINVAL,
	       "fixups: odd offset");
	memcpy(r, raw, sizeof(r));
	put_le16(r + 4, 506);
	is_int(ntfs_apply_fixups(r, 1024, "FILE", &d), -EINVAL,
	       "fixups: array over the first stride's end");
	memcpy(r, raw, sizeof(r));
	put_le16(r + 4, 0xfff0);
	is_int(ntfs_apply_fixups(r, 1024, "FILE", &d), -EINVAL,
	       "fixups: array past the record");
	is_str(last_code(), "ntfs-fixup", "fixups: ... ntfs-fixup");
	memcpy(r, raw, sizeof(r));
	memcpy(r, "BAAD", 4);
	is_int(ntfs_apply_fixups(r, 1024, "FILE", &d), -EINVAL, "fixups: BAAD");
	is_str(last_code(), "ntfs-fixup", "fixups: BAAD is ntfs-fixup");
	memcpy(r, raw, sizeof(r));
	is_int(ntfs_apply_fixups(r, 1024, "INDX", &d), -EINVAL,
	       "fixups: wrong magic");
	is_str(last_code(), "ntfs-index", "fixups: INDX magic is ntfs-index");
	is_int(ntfs_apply_fixups(r, 1000, "FILE", &d), -EINVAL,
	       "fixups: size not whole strides");
}

/* ---- attributes ---- */

/* Record with: a resident $DATA named "ab" holding "hello", a
 * non-resident unnamed $DATA (runs 0x11 0x04 0x10, 0x01 0x02: 4
 * clusters at 16, 2 sparse), the end marker. */
static size_t build_attrs(uint8_t *r)
{
	uint8_t *a;

	make_record(r);
	a = r + 0x38;
	put_le32(a, 0x80);
	put_le32(a + 4, 0x28);
	a[8] = 0;
	a[9] = 2;
	put_le16(a + 10, 0x18);
	put_le32(a + 0x10, 5);
	put_le16(a + 0x14, 0x20);
	put_le16(a + 0x18, 'a');
	put_le16(a + 0x1a, 'b');
	memcpy(a + 0x20, "hello", 5);
	a += 0x28;
	put_le32(a, 0x80);
	put_le32(a + 4, 0x48);
	a[8] = 1;
	put_le16(a + 10, 0x40);
	put_le64(a + 0x10, 0);
	put_le64(a + 0x18, 5);
	put_le16(a + 0x20, 0x40);
	put_le64(a + 0x28, 6 * 4096);
	put_le64(a + 0x30, 6 * 4096 - 100);
	put_le64(a + 0x38, 4 * 4096);
	memcpy(a + 0x40, "\x11\x04\x10\x01\x02\x00", 6);
	a += 0x48;
	put_le32(a, 0xffffffff);
	put_le32(r + 24, (uint32_t)(a + 8 - r));
	return (size_t)(a - r);
}

static void test_attrs(void)
{
	uint8_t r[1024];
	struct ntfs_attr a;
	size_t pos = 0, end;
	struct ntfs_run runs[8];
	size_t n = 0;

	reset();
	end = build_attrs(r);
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), 1, "attrs: first");
	ok(a.type == 0x80 && !a.non_resident && a.value_len == 5 &&
	   memcmp(a.value, "hello", 5) == 0 && a.name_len == 2 &&
	   get_le16(a.name) == 'a', "attrs: resident, named, its value");
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), 1, "attrs: second");
	ok(a.non_resident && a.highest_vcn == 5 && a.runlist_len == 8 &&
	   a.initialized_size == 4 * 4096, "attrs: non-resident fields");
	is_int(ntfs_decode_runlist(a.runlist, a.runlist_len, a.lowest_vcn,
				   a.highest_vcn, 100, runs, 8, &n, &d), 0,
	       "attrs: its runlist");
	ok(n == 2 && runs[0].lcn == 16 && runs[0].length == 4 &&
	   runs[1].lcn == NTFS_LCN_HOLE && runs[1].vcn == 4 &&
	   runs[1].length == 2, "attrs: a run and a hole");
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), 0, "attrs: end marker");
	ok(pos == end, "attrs: ... where it is");

	/* the 2025 Linux bug class: attrs_offset past bytes_in_use */
	build_attrs(r);
	put_le16(r + 20, (uint16_t)(get_le32(r + 24) + 8));
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: attrs_offset past bytes_in_use");
	is_str(last_code(), "ntfs-record", "attrs: ... ntfs-record");
	build_attrs(r);
	put_le16(r + 20, 0x3c);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: attrs_offset not aligned");
	build_attrs(r);
	put_le32(r + 24, 2048);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: bytes_in_use past bytes_allocated");
	build_attrs(r);
	put_le32(r + 28, 4096);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: bytes_allocated is not the record size");
	is_str(last_code(), "ntfs-record", "attrs: ... ntfs-record");

	build_attrs(r);
	put_le32(r + 0x38 + 4, 0);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: length 0");
	is_str(last_code(), "ntfs-attribute", "attrs: ... ntfs-attribute");
	build_attrs(r);
	put_le32(r + 0x38 + 4, 0x1000);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: length past the record");
	build_attrs(r);
	put_le32(r + 0x38 + 4, 0x2c);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: length not 8-aligned");
	build_attrs(r);
	put_le32(r + 0x38 + 0x10, 9);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: resident value past the attribute");
	build_attrs(r);
	put_le16(r + 0x38 + 0x14, 0xfff8);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: value offset past the attribute");
	build_attrs(r);
	put_le16(r + 0x38 + 10, 0x26);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: name past the attribute");
	build_attrs(r);
	put_le16(r + 0x38 + 10, 0x08);
	pos = 0;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: name over the header");
	build_attrs(r);
	put_le16(r + 0x38 + 0x28 + 0x20, 0x48);
	pos = 0;
	(void)ntfs_attr_next(r, 1024, &pos, &a, &d);
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: mapping pairs offset at the attribute's end");
	is_str(last_code(), "ntfs-attribute", "attrs: ... ntfs-attribute");
	build_attrs(r);
	put_le32(r + 24, (uint32_t)(end + 2));
	pos = end;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: no room for the end marker");
	build_attrs(r);
	pos = 5000;
	is_int(ntfs_attr_next(r, 1024, &pos, &a, &d), -EINVAL,
	       "attrs: a position past the record");
}

/* ---- runlists ---- */

static int decode(const char *bytes, size_t len, uint64_t lo, uint64_t hi,
		  uint64_t total, struct ntfs_run *runs, size_t max, size_t *n)
{
	*n = 0;
	return ntfs_decode_runlist((const uint8_t *)bytes, len, lo, hi, total,
				   runs, max, n, &d);
}

static void test_runlists(void)
{
	struct ntfs_run runs[8];
	size_t n;

	reset();
	/* 16 clusters at 100, then 8 at 100-20 = 80 (negative delta) */
	is_int(decode("\x11\x10\x64\x11\x08\xec\x00", 7, 0, 23, 1000, runs, 8,
		      &n), 0, "runs: a negative delta");
	ok(n == 2 && runs[1].lcn == 80 && runs[1].vcn == 16,
	   "runs: ... relative to the previous run");
	is_int(decode("\x00", 1, 0, UINT64_MAX, 1000, runs, 8, &n), 0,
	       "runs: empty attribute (highest VCN -1)");
	is_int(decode("\x11\x10\x64\x00", 4, 5, 20, 1000, runs, 8, &n), 0,
	       "runs: an extent from VCN 5");
	ok(runs[0].vcn == 5, "runs: ... starts there");
	is_int(decode("\x01\x00\x11\x10\x64\x00", 6, 0, 15, 1000, runs, 8,
		      &n), 0, "runs: a zero-length hole is skipped");

	is_int(decode("\x19\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00", 12,
		      0, 0, 1000, runs, 8, &n), -EINVAL,
	       "runs: a 9-byte length");
	is_str(last_code(), "ntfs-runlist", "runs: ... ntfs-runlist");
	is_int(decode("\x91\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00", 12,
		      0, 0, 1000, runs, 8, &n), -EINVAL,
	       "runs: a 9-byte offset");
	is_int(decode("\x10\x00", 2, 0, 0, 1000, runs, 8, &n), -EINVAL,
	       "runs: no length field");
	is_int(decode("\x11\x00\x10\x00", 4, 0, UINT64_MAX, 1000, runs, 8, &n),
	       -EINVAL, "runs: a zero-length data run");
	is_int(decode("\x11\xff\x10\x00", 4, 0, 0, 1000, runs, 8, &n), -EINVAL,
	       "runs: a negative length");
	is_int(decode("\x11\x01\xf0\x00", 4, 0, 0, 1000, runs, 8, &n), -EINVAL,
	       "runs: a negative LCN");
	is_int(decode("\x12\x10\xe0\x03\x00", 5, 0, 15, 1000, runs, 8, &n),
	       -EINVAL, "runs: a run past the volume");
	is_int(decode("\x18\x01\x7f\xff\xff\xff\xff\xff\xff\xff\x00", 11, 0, 0,
		      UINT64_MAX, runs, 8, &n), -EINVAL,
	       "runs: LCN + length wraps");
	is_int(decode("\x81\x01\xff\xff\xff\xff\xff\xff\xff\x7f\x81\x01\xff"
		      "\xff\xff\xff\xff\xff\xff\x7f\x00", 21, 0, 1, UINT64_MAX,
		      runs, 8, &n), -EINVAL, "runs: LCN delta overflow");
	is_int(decode("\x11\x10\x64\x00", 4, 0, 7, 1000, runs, 8, &n), -EINVAL,
	       "runs: more VCNs than the attribute says");
	is_int(decode("\x11\x10\x64\x00", 4, 0, 31, 1000, runs, 8, &n), -EINVAL,
	       "runs: fewer VCNs than the attribute says");
	is_int(decode("\x11\x10\x64", 3, 0, 15, 1000, runs, 8, &n), -EINVAL,
	       "runs: not terminated");
	is_int(decode("\x31\x10\x64", 3, 0, 15, 1000, runs, 8, &n), -EINVAL,
	       "runs: a field past the attribute");
	is_int(decode("\x11\x10\x64\x00", 4, 20, 10, 1000, runs, 8, &n),
	       -EINVAL, "runs: highest VCN below lowest");
	is_str(last_code(), "ntfs-runlist", "runs: ... ntfs-runlist");
	reset();
	is_int(decode("\x11\x01\x01\x11\x01\x01\x11\x01\x01\x00", 10, 0, 2,
		      1000, runs, 2, &n), -E2BIG, "runs: more than max_runs");
	is_str(last_code(), "ntfs-limit", "runs: ... ntfs-limit");
}

/* ---- attribute lists ---- */

static void test_attr_list(void)
{
	uint8_t l[64];
	struct ntfs_attr_list_entry e;
	size_t pos = 0;

	reset();
	memset(l, 0, sizeof(l));
	put_le32(l, 0x10);
	put_le16(l + 4, 32);
	put_le64(l + 16, 5 | (uint64_t)5 << 48);
	put_le32(l + 32, 0x80);
	put_le16(l + 36, 32);
	l[38] = 2;
	l[39] = 26;
	put_le64(l + 40, 7);
	put_le64(l + 48, 99 | (uint64_t)3 << 48);
	put_le16(l + 58, 'x');
	is_int(ntfs_attr_list_next(l, 64, &pos, &e, &d), 1, "list: first");
	ok(e.type == 0x10 && e.mft == 5 && e.seq == 5 && !e.name,
	   "list: first entry's fields");
	is_int(ntfs_attr_list_next(l, 64, &pos, &e, &d), 1, "list: second");
	ok(e.type == 0x80 && e.mft == 99 && e.seq == 3 && e.lowest_vcn == 7 &&
	   e.name_len == 2 && e.name == l + 58, "list: second entry's fields");
	is_int(ntfs_attr_list_next(l, 64, &pos, &e, &d), 0, "list: end");
	pos = 0;
	put_le16(l + 36, 40);
	(void)ntfs_attr_list_next(l, 64, &pos, &e, &d);
	is_int(ntfs_attr_list_next(l, 64, &pos, &e, &d), -EINVAL,
	       "list: entry past the list");
	is_str(last_code(), "ntfs-attribute", "list: ... ntfs-attribute");
	pos = 0;
	put_le16(l + 4, 0);
	is_int(ntfs_attr_list_next(l, 64, &pos, &e, &d), -EINVAL,
	       "list: length 0");
	put_le16(l + 4, 32);
	put_le16(l + 36, 32);
	l[39] = 30;
	pos = 32;
	is_int(ntfs_attr_list_next(l, 64, &pos, &e, &d), -EINVAL,
	       "list: name past the entry");
	pos = 50;
	is_int(ntfs_attr_list_next(l, 64, &pos, &e, &d), -EINVAL,
	       "list: truncated entry");
}

/* ---- index entries ---- */

/* An index header and two entries: "Ab" (record 70, a sub-node at VCN
 * 4) and the end entry (sub-node at VCN 8). */
static size_t build_index(uint8_t *p)
{
	uint8_t *e;

	memset(p, 0, 256);
	put_le32(p, 16);
	e = p + 16;
	put_le64(e, 70 | (uint64_t)2 << 48);
	put_le16(e + 8, 16 + 72 + 8);
	put_le16(e + 10, 70);
	put_le16(e + 12, 1);
	put_le32(e + 16 + 56, 0x10000000);
	e[16 + 64] = 2;
	e[16 + 65] = 1;
	put_le16(e + 16 + 66, 'A');
	put_le16(e + 16 + 68, 'b');
	put_le64(e + 16 + 72, 4);
	e += 16 + 72 + 8;
	put_le16(e + 8, 24);
	put_le16(e + 12, 3);
	put_le64(e + 16, 8);
	e += 24;
	put_le32(p + 4, (uint32_t)(e - p));
	put_le32(p + 8, 256);
	return (size_t)(e - p);
}

static void test_index(void)
{
	uint8_t p[256];
	struct ntfs_index_entry e;
	size_t pos = 0;

	reset();
	build_index(p);
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), 1, "index: first");
	ok(e.mft == 70 && e.seq == 2 && e.name_len == 2 &&
	   get_le16(e.name) == 'A' && e.has_subnode && e.subnode_vcn == 4 &&
	   e.file_attributes == 0x10000000 && e.name_space == 1 && !e.last,
	   "index: the named entry");
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), 1, "index: last");
	ok(e.last && e.has_subnode && e.subnode_vcn == 8,
	   "index: the end entry and its sub-node");
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), 0, "index: done");

	build_index(p);
	put_le16(p + 16 + 8, 0);
	pos = 0;
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), -EINVAL,
	       "index: entry length 0");
	is_str(last_code(), "ntfs-index", "index: ... ntfs-index");
	build_index(p);
	put_le16(p + 16 + 8, 0x1000);
	pos = 0;
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), -EINVAL,
	       "index: entry past the node");
	build_index(p);
	put_le16(p + 16 + 10, 200);
	pos = 0;
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), -EINVAL,
	       "index: key past the entry");
	build_index(p);
	p[16 + 16 + 64] = 40;
	pos = 0;
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), -EINVAL,
	       "index: name past the key");
	build_index(p);
	put_le32(p + 4, 1000);
	pos = 0;
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), -EINVAL,
	       "index: index length past the node");
	build_index(p);
	put_le32(p, 12);
	pos = 0;
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), -EINVAL,
	       "index: entries inside the header");
	build_index(p);
	put_le16(p + 16 + 96 + 8, 16);
	pos = 0;
	(void)ntfs_index_next(p, 256, &pos, &e, &d);
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), -EINVAL,
	       "index: a node entry without room for its VCN");
	build_index(p);
	put_le16(p + 16 + 96 + 12, 0);
	pos = 0;
	(void)ntfs_index_next(p, 256, &pos, &e, &d);
	is_int(ntfs_index_next(p, 256, &pos, &e, &d), -EINVAL,
	       "index: no end entry before the node's end");
	is_str(last_code(), "ntfs-index", "index: ... ntfs-index");
}

/* ---- a whole volume in memory: ntfs_open refuses garbage ---- */

static void test_open(void)
{
	static uint8_t vol[1 << 16];
	struct iw_view v;
	struct ntfs_vol *nv = (struct ntfs_vol *)&v;

	reset();
	iw_view_init_mem(&v, vol, sizeof(vol));
	is_int(ntfs_open(&v, &d, &nv), -EINVAL, "open: zeros");
	ok(nv == NULL, "open: *ret cleared");
	is_str(last_code(), "ntfs-boot-sector", "open: ... ntfs-boot-sector");
	reset();
	make_boot(vol, 1, 127, -10, 16);
	is_int(ntfs_open(&v, &d, &nv), -EINVAL, "open: no $MFT");
	is_str(d.n ? iw_diag_code_name(d.e[0].code) : "", "ntfs-record",
	       "open: record 0 without FILE magic");
	is_str(last_code(), "ntfs-record", "open: ... ntfs-record");
}

int main(void)
{
	test_boot();
	test_fixups();
	test_attrs();
	test_runlists();
	test_attr_list();
	test_index();
	test_open();
	return tap_done();
}
