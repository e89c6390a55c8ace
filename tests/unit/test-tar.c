/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tar and decompression helpers in memory: numeric fields (octal, GNU
 * base-256, overflow), pax records, name normalisation, the member
 * iterator on a hand-built archive, iw_decompress() stop reasons on a
 * gzip stream made with zlib, then random mutations of a tar and of a
 * gzip-wrapped tar through iw_probe(): every run must end with a report
 * (run under make check-sanitize to catch out-of-bounds reads).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "formats/decompress.h"
#include "formats/tar.h"
#include "probe.h"
#include "tap.h"

static void test_numbers(void)
{
	uint64_t v = 0;
	uint8_t b256[12] = { 0x80 };

	ok(tar_parse_number((const uint8_t *)"0000644\0", 8, &v) && v == 0644,
	   "octal with NUL terminator");
	ok(tar_parse_number((const uint8_t *)"   17 \0", 7, &v) && v == 15,
	   "octal with leading spaces");
	ok(tar_parse_number((const uint8_t *)"\0\0\0\0", 4, &v) && v == 0,
	   "an all-NUL field is zero");
	ok(!tar_parse_number((const uint8_t *)"0008", 4, &v),
	   "a non-octal digit is rejected");
	ok(!tar_parse_number((const uint8_t *)"12 3", 4, &v),
	   "digits after the terminator are rejected");
	ok(!tar_parse_number((const uint8_t *)"7777777777777777777777", 22,
			     &v),
	   "octal overflow is rejected");
	b256[10] = 0x03;
	b256[11] = 0xe8;
	ok(tar_parse_number(b256, 12, &v) && v == 1000, "base-256 1000");
	memset(b256, 0xff, sizeof(b256));
	ok(!tar_parse_number(b256, 12, &v), "negative base-256 is rejected");
	memset(b256, 0x7f, sizeof(b256));
	b256[0] = 0x80;
	ok(!tar_parse_number(b256, 12, &v), "base-256 overflow is rejected");
}

static bool pax(const char *s, struct tar_pax *p)
{
	return tar_parse_pax((const uint8_t *)s, strlen(s), p);
}

static void test_pax(void)
{
	struct tar_pax p;

	ok(pax("12 path=a/b\n19 linkpath=target\n", &p) && p.has_path &&
		   p.path_len == 3 && memcmp(p.path, "a/b", 3) == 0 &&
		   p.has_linkpath && p.linkpath_len == 6,
	   "path and linkpath records");
	ok(pax("16 size=1000000\n", &p) && p.has_size && p.size == 1000000,
	   "size record");
	ok(!pax("29 size=99999999999999999999\n", &p),
	   "a 20-digit size is rejected");
	ok(!pax("99 path=a\n", &p), "a record longer than the header");
	ok(!pax("9 patha\n", &p), "a record without '='");
	ok(!pax("2 \n", &p), "a record shorter than its own length field");
	ok(!pax("12 path=abcd", &p), "a record not ending in newline");
	ok(pax("22 GNU.sparse.major=1\n", &p) && p.sparse,
	   "GNU sparse records are noticed");
}

static void test_normalise(void)
{
	char out[64];
	size_t n = tar_normalise_name("./a//b/./c/", 11, out, sizeof(out));

	ok(n == 5 && memcmp(out, "a/b/c", 5) == 0, "./a//b/./c/ is a/b/c");
	n = tar_normalise_name("/etc/passwd", 11, out, sizeof(out));
	ok(n == 10 && memcmp(out, "etc/passwd", 10) == 0,
	   "a leading slash is dropped (as tar does on extraction)");
}

static void tar_header(uint8_t *h, const char *name, char type,
		       uint64_t size)
{
	unsigned sum = 0;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	h[156] = (uint8_t)type;
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* member a.img (600 bytes of 'A'), symlink l -> /etc, end marker */
static size_t build_tar(uint8_t *buf)
{
	size_t off = 0;

	tar_header(buf, "a.img", '0', 600);
	memset(buf + 512, 'A', 600);
	off = 512 + 1024;
	tar_header(buf + off, "l", '2', 0);
	memcpy(buf + off + 157, "/etc", 4);
	/* recompute the checksum after the link name */
	{
		unsigned sum = 0;

		memset(buf + off + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += buf[off + i];
		snprintf((char *)buf + off + 148, 8, "%06o", sum);
	}
	off += 512;
	memset(buf + off, 0, 1024);
	return off + 1024;
}

static void test_iterator(void)
{
	static uint8_t buf[8192];
	size_t len = build_tar(buf);
	struct tar_cursor c = { 0 };
	struct tar_member m;
	struct iw_view v;

	iw_view_init_mem(&v, buf, len);
	is_int(tar_next(&v, &c, &m), TAR_NEXT_MEMBER, "first member");
	ok(m.type == TAR_TYPE_REGULAR && m.size == 600 &&
		   m.data_offset == 512 && strcmp(m.name, "a.img") == 0,
	   "a.img, 600 bytes at 512");
	tar_member_done(&m);
	is_int(tar_next(&v, &c, &m), TAR_NEXT_MEMBER, "second member");
	ok(m.type == TAR_TYPE_SYMLINK && strcmp(m.link, "/etc") == 0,
	   "symlink to /etc");
	tar_member_done(&m);
	is_int(tar_next(&v, &c, &m), TAR_NEXT_END, "end-of-archive");

	buf[0] ^= 1;
	c = (struct tar_cursor){ 0 };
	is_int(tar_next(&v, &c, &m), TAR_NEXT_BAD, "bad checksum");
	buf[0] ^= 1;
	iw_view_init_mem(&v, buf, 1000);
	c = (struct tar_cursor){ 0 };
	is_int(tar_next(&v, &c, &m), TAR_NEXT_MEMBER,
	       "member whose data is cut short is still returned");
	tar_member_done(&m);
	is_int(tar_next(&v, &c, &m), TAR_NEXT_TRUNCATED,
	       "the next header is past the end");
	v.partial = true;
	c = (struct tar_cursor){ .pos = 1536 };
	is_int(tar_next(&v, &c, &m), TAR_NEXT_INCOMPLETE,
	       "...but only not inspected in a partial view");
}

static size_t gzip_of(const uint8_t *in, size_t in_len, uint8_t *out,
		      size_t out_len)
{
	z_stream z = { 0 };

	deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)in_len;
	z.next_out = out;
	z.avail_out = (uInt)out_len;
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return out_len - z.avail_out;
}

static int count_sink(void *opaque, const void *buf, size_t len)
{
	*(uint64_t *)opaque += len;
	return 0;
}

static void test_decompress(void)
{
	static uint8_t plain[4 << 20], gz[1 << 20];
	struct iw_decompress_limits limits = { .max_out = 1 << 20 };
	struct iw_decompress_result res;
	struct iw_view v;
	uint64_t got = 0;
	size_t len;

	len = gzip_of(plain, sizeof(plain), gz, sizeof(gz));
	iw_view_init_mem(&v, gz, len);
	iw_decompress(&v, IW_COMPRESSION_GZIP, &limits, count_sink, &got,
		      &res);
	ok(res.status == IW_DECOMPRESS_OUTPUT_CAP && got == 1 << 20,
	   "4 MiB of zeros stops at the 1 MiB cap");
	limits.max_out = 0;
	got = 0;
	iw_decompress(&v, IW_COMPRESSION_GZIP, &limits, count_sink, &got,
		      &res);
	ok(res.status == IW_DECOMPRESS_END && got == sizeof(plain) &&
		   res.streams == 1 && res.trailing_bytes == 0,
	   "without a cap the stream ends cleanly");
	limits.max_ratio = 100;
	got = 0;
	iw_decompress(&v, IW_COMPRESSION_GZIP, &limits, count_sink, &got,
		      &res);
	ok(res.status == IW_DECOMPRESS_RATIO_CAP,
	   "zeros exceed a 100:1 ratio cap");
	limits.max_ratio = 0;
	iw_view_init_mem(&v, gz, len - 10);
	iw_decompress(&v, IW_COMPRESSION_GZIP, &limits, count_sink, &got,
		      &res);
	ok(res.status == IW_DECOMPRESS_TRUNCATED, "cut stream: truncated");
	gz[len - 3] ^= 0xff; /* ISIZE */
	iw_view_init_mem(&v, gz, len);
	iw_decompress(&v, IW_COMPRESSION_GZIP, &limits, count_sink, &got,
		      &res);
	ok(res.status == IW_DECOMPRESS_CORRUPT, "bad ISIZE: corrupt");
	gz[len - 3] ^= 0xff;
	memcpy(gz + len, "junk", 4);
	iw_view_init_mem(&v, gz, len + 4);
	iw_decompress(&v, IW_COMPRESSION_GZIP, &limits, count_sink, &got,
		      &res);
	ok(res.status == IW_DECOMPRESS_END && res.trailing_bytes == 4 &&
		   res.trailing_offset == len && !res.trailing_zero,
	   "junk after the stream: trailing");
}

static void probe_mem(const uint8_t *buf, size_t len, unsigned *reports)
{
	struct iw_report r;
	struct iw_view v;

	iw_view_init_mem(&v, buf, len);
	if (iw_report_init(&r) < 0)
		return;
	if (iw_probe(&v, &r) == 0)
		(*reports)++;
	iw_report_done(&r);
}

static void test_mutations(void)
{
	static uint8_t tar[8192], mut[8192], gz[16384];
	size_t tar_len = build_tar(tar), gz_len;
	unsigned reports = 0, runs = 0;

	srand(1);
	for (int i = 0; i < 3000; i++, runs++) {
		size_t len = tar_len;

		memcpy(mut, tar, tar_len);
		for (int k = rand() % 8 + 1; k > 0; k--)
			mut[rand() % 2048] = (uint8_t)rand();
		if (rand() % 4 == 0)
			len = (size_t)rand() % tar_len;
		probe_mem(mut, len, &reports);
	}
	ok(reports == runs, "%u mutated tars: a report every time", runs);

	reports = runs = 0;
	for (int i = 0; i < 2000; i++, runs++) {
		size_t len;

		memcpy(mut, tar, tar_len);
		for (int k = rand() % 8 + 1; k > 0; k--)
			mut[rand() % 2048] = (uint8_t)rand();
		gz_len = gzip_of(mut, tar_len, gz, sizeof(gz));
		len = gz_len;
		for (int k = rand() % 3; k > 0; k--)
			gz[rand() % gz_len] = (uint8_t)rand();
		if (rand() % 4 == 0)
			len = (size_t)rand() % gz_len;
		probe_mem(gz, len, &reports);
	}
	ok(reports == runs, "%u mutated tgz: a report every time", runs);
}

int main(void)
{
	test_numbers();
	test_pax();
	test_normalise();
	test_iterator();
	test_decompress();
	test_mutations();
	return tap_done();
}
