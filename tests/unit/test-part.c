/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Content readers in memory: mbr_parse()/gpt_parse() on hand-built disks
 * (exact partitions, CRC fallbacks), the iso9660/udf reports of a
 * hand-built bridge image, then thousands of random byte mutations and
 * truncations of each image through iw_probe(): every run must end with
 * a report (run under make check-sanitize / check-valgrind to catch
 * out-of-bounds reads).
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "formats/part.h"
#include "probe.h"
#include "tap.h"

#define SECTOR 512
#define DISK_SIZE (2u << 20)
#define DISK_SECTORS (DISK_SIZE / SECTOR)

static void mbr_put(uint8_t *s, unsigned i, uint8_t boot, uint8_t type,
		    uint32_t start, uint32_t sectors)
{
	uint8_t *e = s + 446 + 16 * i;

	e[0] = boot;
	e[4] = type;
	put_le32(e + 8, start);
	put_le32(e + 12, sectors);
	s[510] = 0x55;
	s[511] = 0xaa;
}

/* primary 1 (bootable 0x83), extended 2 holding three logicals */
static uint8_t *build_mbr(void)
{
	uint8_t *d = calloc(1, DISK_SIZE);

	mbr_put(d, 0, 0x80, 0x83, 63, 1000);
	mbr_put(d, 1, 0x00, 0x05, 1063, 3033);
	put_le32(d + 440, 0xdeadbeef);
	mbr_put(d + 1063 * SECTOR, 0, 0, 0x83, 1, 500);
	mbr_put(d + 1063 * SECTOR, 1, 0, 0x05, 600, 600);
	mbr_put(d + 1663 * SECTOR, 0, 0, 0x07, 1, 500);
	mbr_put(d + 1663 * SECTOR, 1, 0, 0x05, 1200, 1100);
	mbr_put(d + 2263 * SECTOR, 0, 0, 0x83, 1, 1000);
	return d;
}

static const uint8_t linux_fs[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84,
				      0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69,
				      0xd8, 0x47, 0x7d, 0xe4 };

static void gpt_header(uint8_t *h, uint64_t my, uint64_t alt, uint64_t elba,
		       uint32_t array_crc)
{
	memset(h, 0, SECTOR);
	memcpy(h, "EFI PART", 8);
	put_le32(h + 8, 0x10000);
	put_le32(h + 12, 92);
	put_le64(h + 24, my);
	put_le64(h + 32, alt);
	put_le64(h + 40, 34);
	put_le64(h + 48, DISK_SECTORS - 34);
	memset(h + 56, 0x11, 16);
	put_le64(h + 72, elba);
	put_le32(h + 80, 128);
	put_le32(h + 84, 128);
	put_le32(h + 88, array_crc);
	put_le32(h + 16, iw_crc32(0, h, 92));
}

/* partitions 34-1057 "EFI", 1058-2047, 2048-(last usable) */
static uint8_t *build_gpt(void)
{
	uint8_t *d = calloc(1, DISK_SIZE), *a = d + 2 * SECTOR;
	static const uint64_t ranges[3][2] = {
		{ 34, 1057 }, { 1058, 2047 }, { 2048, DISK_SECTORS - 34 }
	};
	uint32_t crc;

	mbr_put(d, 0, 0, 0xee, 1, DISK_SECTORS - 1);
	for (unsigned i = 0; i < 3; i++) {
		uint8_t *e = a + 128 * i;

		memcpy(e, linux_fs, 16);
		memset(e + 16, (int)i + 1, 16);
		put_le64(e + 32, ranges[i][0]);
		put_le64(e + 40, ranges[i][1]);
	}
	/* "EFI" in UTF-16LE, and a name with a surrogate pair (U+1F600) */
	a[56] = 'E', a[58] = 'F', a[60] = 'I';
	put_le16(a + 128 + 56, 0xd83d);
	put_le16(a + 128 + 58, 0xde00);
	crc = iw_crc32(0, a, 128 * 128);
	memcpy(d + (DISK_SECTORS - 33) * SECTOR, a, 128 * 128);
	gpt_header(d + SECTOR, 1, DISK_SECTORS - 1, 2, crc);
	gpt_header(d + (DISK_SECTORS - 1) * SECTOR, DISK_SECTORS - 1, 1,
		   DISK_SECTORS - 33, crc);
	return d;
}

static uint16_t crc_itu(const uint8_t *p, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int k = 0; k < 8; k++)
			crc = (uint16_t)(crc & 0x8000 ? crc << 1 ^ 0x1021
						      : crc << 1);
	}
	return crc;
}

static void udf_tag(uint8_t *d, uint16_t id, uint32_t loc)
{
	uint8_t sum = 0;

	put_le16(d, id);
	put_le16(d + 2, 2);
	put_le16(d + 10, 496);
	put_le16(d + 8, crc_itu(d + 16, 496));
	put_le32(d + 12, loc);
	for (int i = 0; i < 16; i++)
		if (i != 4)
			sum = (uint8_t)(sum + d[i]);
	d[4] = sum;
}

static void iso_both32(uint8_t *p, uint32_t v)
{
	put_le32(p, v);
	put_be32(p + 4, v);
}

static void iso_both16(uint8_t *p, uint16_t v)
{
	put_le16(p, v);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ISO 9660 (PVD, El Torito, Joliet, terminator) + UDF bridge, 1 MiB */
static uint8_t *build_iso(void)
{
	uint8_t *d = calloc(1, 1u << 20), *s;
	uint16_t sum = 0;

	s = d + 16 * 2048;
	s[0] = 1, memcpy(s + 1, "CD001", 5), s[6] = 1;
	memset(s + 8, ' ', 64);
	memcpy(s + 8, "LINUX", 5);
	memcpy(s + 40, "FUZZ", 4);
	iso_both32(s + 80, 512);
	iso_both16(s + 120, 1);
	iso_both16(s + 124, 1);
	iso_both16(s + 128, 2048);
	iso_both32(s + 132, 10);
	put_le32(s + 140, 30);
	s[156] = 34;
	iso_both32(s + 158, 31);
	iso_both32(s + 166, 2048);
	s = d + 17 * 2048;
	s[0] = 0, memcpy(s + 1, "CD001", 5), s[6] = 1;
	memcpy(s + 7, "EL TORITO SPECIFICATION", 23);
	put_le32(s + 0x47, 40);
	s = d + 40 * 2048;
	s[0] = 1, s[30] = 0x55, s[31] = 0xaa;
	for (int i = 0; i < 32; i += 2)
		sum = (uint16_t)(sum + get_le16(s + i));
	put_le16(s + 28, (uint16_t)-sum);
	s[32] = 0x88;
	s = d + 18 * 2048;
	s[0] = 2, memcpy(s + 1, "CD001", 5), s[6] = 1;
	memcpy(s + 88, "%/E", 3);
	s = d + 19 * 2048;
	s[0] = 255, memcpy(s + 1, "CD001", 5), s[6] = 1;
	memcpy(d + 20 * 2048 + 1, "BEA01", 5);
	memcpy(d + 21 * 2048 + 1, "NSR03", 5);
	memcpy(d + 22 * 2048 + 1, "TEA01", 5);
	s = d + 256 * 2048;
	put_le32(s + 16, 16 * 2048);
	put_le32(s + 20, 32);
	udf_tag(s, 2, 256);
	s = d + 32 * 2048;
	s[24] = 8, memcpy(s + 25, "FUZZ", 4), s[24 + 31] = 5;
	udf_tag(s, 1, 32);
	s = d + 33 * 2048;
	memcpy(s + 217, "*OSTA UDF Compliant", 19);
	put_le16(s + 240, 0x0250);
	udf_tag(s, 6, 33);
	udf_tag(d + 34 * 2048, 8, 34);
	return d;
}

/* the content child `format` of a probe report, or NULL */
static json_object *content_child(json_object *j, const char *format)
{
	json_object *children, *c, *f;

	if (!json_object_object_get_ex(j, "children", &children))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(children); i++) {
		c = json_object_array_get_idx(children, i);
		if (json_object_object_get_ex(c, "format", &f) &&
		    strcmp(json_object_get_string(f), format) == 0)
			return c;
	}
	return NULL;
}

static const char *child_str(json_object *c, const char *key)
{
	json_object *fs, *data, *v;

	if (!c || !json_object_object_get_ex(c, "format-specific", &fs) ||
	    !json_object_object_get_ex(fs, "data", &data) ||
	    !json_object_object_get_ex(data, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static json_object *probe_json(const uint8_t *buf, size_t len)
{
	struct iw_report r;
	struct iw_view v;
	json_object *j = NULL;

	iw_view_init_mem(&v, buf, len);
	if (iw_report_init(&r) < 0)
		return NULL;
	if (iw_probe(&v, &r) == 0)
		j = iw_report_to_json(&r);
	iw_report_done(&r);
	return j;
}

static void test_mbr(void)
{
	_cleanup_free_ uint8_t *d = build_mbr();
	_cleanup_free_ struct part_table *t = calloc(1, sizeof(*t));
	static const struct {
		unsigned index;
		uint64_t start, sectors;
		bool logical;
	} want[] = {
		{ 1, 63, 1000, false },	  { 2, 1063, 3033, false },
		{ 5, 1064, 500, true },	  { 6, 1664, 500, true },
		{ 7, 2264, 1000, true },
	};
	struct iw_report r;
	struct iw_view v;

	iw_view_init_mem(&v, d, DISK_SIZE);
	iw_report_init(&r);
	is_int(mbr_parse(&v, t, &r), 0, "mbr_parse: parses");
	is_int(r.verdict, IW_SAFE, "mbr_parse: no findings");
	is_int(t->n_entries, ARRAY_SIZE(want), "mbr_parse: 2 primaries, 3 logicals");
	for (size_t i = 0; i < ARRAY_SIZE(want) && i < t->n_entries; i++) {
		const struct part_entry *e = &t->entries[i];
		ok(e->index == want[i].index && e->start == want[i].start * SECTOR &&
			   e->size == want[i].sectors * SECTOR &&
			   e->logical == want[i].logical,
		   "mbr_parse: partition %u at %llu, %llu bytes", e->index,
		   (unsigned long long)e->start, (unsigned long long)e->size);
	}
	ok(t->entries[0].bootable && t->entries[1].extended,
	   "mbr_parse: boot flag and extended container");
	is_int(t->disk_signature, 0xdeadbeef, "mbr_parse: disk signature");
	iw_report_done(&r);

	/* the third EBR links back to the first: the walk ends */
	mbr_put(d + 2263 * SECTOR, 1, 0, 0x05, 0, 600);
	iw_report_init(&r);
	is_int(mbr_parse(&v, t, &r), 0, "mbr_parse: EBR loop ends");
	is_int(t->n_entries, 5, "mbr_parse: EBR loop lists each logical once");
	is_int(r.verdict, IW_INVALID, "mbr_parse: EBR loop is a finding");
	iw_report_done(&r);

	iw_report_init(&r);
	is_int(part_parse(&v, t, &r), 0, "part_parse: MBR disk");
	is_int(t->scheme, PART_SCHEME_MBR, "part_parse: scheme mbr");
	iw_report_done(&r);

	d[446] = 0x12;
	iw_report_init(&r);
	is_int(mbr_parse(&v, t, &r), -ENOENT,
	       "mbr_parse: boot flag 0x12 is no MBR");
	is_int(part_parse(&v, t, &r), -ENOENT,
	       "part_parse: nor is it a partitioned disk");
	iw_report_done(&r);
}

static void test_gpt(void)
{
	_cleanup_free_ uint8_t *d = build_gpt();
	_cleanup_free_ struct part_table *t = calloc(1, sizeof(*t));
	struct iw_report r;
	struct iw_view v;
	char guid[PART_GUID_STRING_MAX];

	iw_view_init_mem(&v, d, DISK_SIZE);
	iw_report_init(&r);
	is_int(gpt_parse(&v, t, &r), 0, "gpt_parse: parses");
	is_int(r.verdict, IW_SAFE, "gpt_parse: no findings");
	is_int(t->n_entries, 3, "gpt_parse: 3 partitions");
	is_int(t->entries[2].start, 2048 * SECTOR, "gpt_parse: partition 3 start");
	is_int(t->entries[2].size, (DISK_SECTORS - 34 - 2048 + 1) * SECTOR,
	       "gpt_parse: partition 3 size");
	is_str(t->entries[0].name, "EFI", "gpt_parse: UTF-16 name");
	is_str(t->entries[1].name, "\xf0\x9f\x98\x80",
	       "gpt_parse: surrogate pair name");
	is_str(part_gpt_type_name(t->entries[0].type_guid), "Linux filesystem",
	       "gpt_parse: type name");
	part_guid_to_string(t->entries[0].type_guid, guid);
	is_str(guid, "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "GUID layout");
	is_str(t->gpt_pmbr, "protective", "gpt_parse: protective MBR");
	iw_report_done(&r);

	iw_report_init(&r);
	is_int(part_parse(&v, t, &r), 0, "part_parse: GPT disk");
	ok(t->scheme == PART_SCHEME_GPT && t->n_entries == 3,
	   "part_parse: the GPT wins over its protective MBR");
	iw_report_done(&r);

	/* damaged primary array: the backup's partitions are used */
	d[2 * SECTOR + 56] = 'X';
	iw_report_init(&r);
	is_int(gpt_parse(&v, t, &r), 0, "gpt_parse: damaged array");
	is_int(r.verdict, IW_INVALID, "gpt_parse: array CRC is a finding");
	ok(t->gpt_used_backup && strcmp(t->entries[0].name, "EFI") == 0,
	   "gpt_parse: falls back to the backup");
	iw_report_done(&r);
}

static void test_iso(void)
{
	_cleanup_free_ uint8_t *d = build_iso();
	json_object *j = probe_json(d, 1u << 20), *iso, *udf, *v;

	ok(j != NULL, "iso: probed");
	iso = content_child(j, "iso9660");
	udf = content_child(j, "udf");
	ok(iso && udf, "iso: iso9660 and udf children");
	is_str(child_str(iso, "volume-id"), "FUZZ", "iso: volume id");
	is_str(child_str(iso, "el-torito"), "true", "iso: El Torito");
	is_str(child_str(iso, "joliet"), "true", "iso: Joliet");
	is_str(child_str(udf, "nsr"), "NSR03", "udf: NSR03");
	is_str(child_str(udf, "volume-id"), "FUZZ", "udf: volume id");
	is_str(child_str(udf, "udf-revision"), "2.50", "udf: revision");
	ok(iso && json_object_object_get_ex(iso, "verdict", &v) &&
		   strcmp(json_object_get_string(v), "safe") == 0 && udf &&
		   json_object_object_get_ex(udf, "verdict", &v) &&
		   strcmp(json_object_get_string(v), "safe") == 0,
	   "iso: both children safe");
	json_object_put(j);
}

/* xorshift: reproducible mutations */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#define FUZZ_ROUNDS 5000
#define FUZZ_MAX_BYTES 24

/* Mutate bytes inside the given regions, probe, put the bytes back. */
static void fuzz(const char *name, uint8_t *d, size_t len,
		 const uint64_t (*regions)[2], size_t n_regions)
{
	unsigned failures = 0;

	for (unsigned round = 0; round < FUZZ_ROUNDS; round++) {
		size_t offs[FUZZ_MAX_BYTES];
		uint8_t old[FUZZ_MAX_BYTES];
		unsigned n = 1 + (unsigned)(rnd() % FUZZ_MAX_BYTES);
		size_t view_len = len;
		json_object *j;

		for (unsigned i = 0; i < n; i++) {
			const uint64_t *reg = regions[rnd() % n_regions];
			size_t off = (size_t)(reg[0] + rnd() % (reg[1] - reg[0]));

			offs[i] = off;
			old[i] = d[off];
			/* small values and 0xff make counts and sizes go
			 * to their edges more often than uniform bytes */
			switch (rnd() % 4) {
			case 0: d[off] = 0; break;
			case 1: d[off] = 0xff; break;
			case 2: d[off] ^= (uint8_t)(1u << (rnd() % 8)); break;
			default: d[off] = (uint8_t)rnd(); break;
			}
		}
		if (rnd() % 8 == 0)
			view_len = (size_t)(rnd() % len);
		j = probe_json(d, view_len);
		if (!j)
			failures++;
		json_object_put(j);
		for (unsigned i = n; i-- > 0;)
			d[offs[i]] = old[i];
	}
	is_int(failures, 0, "%s: %d mutated images, each probed to a report",
	       name, FUZZ_ROUNDS);
}

int main(void)
{
	test_mbr();
	test_gpt();
	test_iso();

	{
		_cleanup_free_ uint8_t *d = build_mbr();
		static const uint64_t regions[][2] = {
			{ 0, 512 },
			{ 1063 * SECTOR + 440, 1064 * SECTOR },
			{ 1663 * SECTOR + 440, 1664 * SECTOR },
			{ 2263 * SECTOR + 440, 2264 * SECTOR },
		};
		fuzz("mbr", d, DISK_SIZE, regions, ARRAY_SIZE(regions));
	}
	{
		_cleanup_free_ uint8_t *d = build_gpt();
		static const uint64_t regions[][2] = {
			{ 0, 3 * SECTOR },
			{ SECTOR, SECTOR + 96 },
			{ DISK_SIZE - 33 * SECTOR, DISK_SIZE - 33 * SECTOR + 384 },
			{ DISK_SIZE - SECTOR, DISK_SIZE - SECTOR + 96 },
		};
		fuzz("gpt", d, DISK_SIZE, regions, ARRAY_SIZE(regions));
	}
	{
		_cleanup_free_ uint8_t *d = build_iso();
		static const uint64_t regions[][2] = {
			{ 16 * 2048, 16 * 2048 + 200 },
			{ 16 * 2048 + 800, 23 * 2048 },
			{ 40 * 2048, 40 * 2048 + 64 },
			{ 256 * 2048, 256 * 2048 + 32 },
			{ 32 * 2048, 32 * 2048 + 64 },
			{ 33 * 2048 + 200, 33 * 2048 + 256 },
		};
		fuzz("iso/udf", d, 1u << 20, regions, ARRAY_SIZE(regions));
	}
	return tap_done();
}
