/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2_parse_header() on small synthetic images (the API the converter
 * uses), partial views, and a deterministic mutation run over the qcow2,
 * qcow and QED readers: every mutated or truncated image must still give
 * a report (probe returns 0) and never crash, hang or read out of bounds.
 * Run under make check-sanitize / check-valgrind this is a small fuzzer.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "formats/qcow2.h"
#include "probe.h"
#include "tap.h"

#define CLUSTER 4096
#define IMG_SIZE (8 * CLUSTER)
#define VSIZE (16 * MiB)
#define MUTATIONS 4000

static uint8_t img[IMG_SIZE];
static uint8_t work[IMG_SIZE];

/* bytes.h has no big-endian 16-bit writer */
static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * A qcow2 v3 image with 4 KiB clusters and a 16 MiB disk:
 *   0x0000 header (112 bytes), a feature name table, end of extensions
 *   0x1000 refcount table -> 0x2000 refcount block
 *   0x3000 L1 table (8 entries) -> L2 table at 0x4000
 *   0x5000 snapshot table (1 snapshot, L1 at 0x6000)
 *   0x7000 one data cluster
 */
static size_t seed_qcow2(uint8_t *b, unsigned version)
{
	memset(b, 0, IMG_SIZE);
	put_be32(b, QCOW2_MAGIC);
	put_be32(b + 4, version);
	put_be32(b + 20, 12);
	put_be64(b + 24, VSIZE);
	put_be32(b + 36, 8);
	put_be64(b + 40, 0x3000);
	put_be64(b + 48, 0x1000);
	put_be32(b + 56, 1);
	put_be32(b + 60, 1);
	put_be64(b + 64, 0x5000);
	if (version == 3) {
		put_be32(b + 96, 4);
		put_be32(b + 100, 112);
		put_be32(b + 112, 0x6803f857); /* feature name table */
		put_be32(b + 116, 48);
		b[120] = 0;
		b[121] = 0;
		strcpy((char *)b + 122, "dirty bit");
	}
	for (int i = 0; i < 8; i++) /* refcount block: clusters 0..7 used */
		put_be16(b + 0x2000 + 2 * i, 1);
	put_be64(b + 0x1000, 0x2000);
	put_be64(b + 0x3000, 0x8000000000004000ULL);
	put_be64(b + 0x4000, 0x8000000000007000ULL);
	/* snapshot: L1 at 0x6000 (8 entries), id "1", name "snap" */
	put_be64(b + 0x5000, 0x6000);
	put_be32(b + 0x5008, 8);
	put_be16(b + 0x500c, 1);
	put_be16(b + 0x500e, 4);
	put_be32(b + 0x5024, 0);
	memcpy(b + 0x5028, "1snap", 5);
	memcpy(b + 0x7000, "guest data", 10);
	return IMG_SIZE;
}

static bool has_code(const struct iw_report *r, const char *code)
{
	for (size_t i = 0; i < json_object_array_length(r->findings); i++) {
		json_object *f = json_object_array_get_idx(r->findings, i), *c;

		if (json_object_object_get_ex(f, "code", &c) &&
		    strcmp(json_object_get_string(c), code) == 0)
			return true;
	}
	return false;
}

static int parse(const uint8_t *b, size_t len, bool partial,
		 struct qcow2_header *h, struct iw_report *r)
{
	struct iw_view v;

	iw_view_init_mem(&v, b, len);
	v.partial = partial;
	if (iw_report_init(r) < 0)
		abort();
	return qcow2_parse_header(&v, h, r);
}

static void test_parse_clean(void)
{
	struct qcow2_header h;
	struct iw_report r;

	seed_qcow2(img, 3);
	is_int(parse(img, IMG_SIZE, false, &h, &r), 0, "v3: header usable");
	is_int(h.cluster_size, CLUSTER, "v3: cluster size");
	is_int(h.size, VSIZE, "v3: size");
	is_int(h.l1_table_offset, 0x3000, "v3: L1 offset");
	is_int(h.l1_needed, 8, "v3: 8 L1 entries map 16 MiB");
	is_int(h.l2_bits, 9, "v3: 512 L2 entries per table");
	ok(h.l1_ok && h.refcount_table_ok && h.snapshots_ok,
	   "v3: table positions validated");
	is_int(r.verdict, IW_SAFE, "v3: no finding");
	iw_report_done(&r);

	seed_qcow2(img, 2);
	is_int(parse(img, IMG_SIZE, false, &h, &r), 0, "v2: header usable");
	is_int(h.header_length, 72, "v2: header length 72");
	is_int(h.refcount_order, 4, "v2: 16-bit refcounts");
	iw_report_done(&r);
}

static void test_parse_bad(void)
{
	struct qcow2_header h;
	struct iw_report r;

	seed_qcow2(img, 3);
	put_be32(img + 4, 4);
	is_int(parse(img, IMG_SIZE, false, &h, &r), -ENOTSUP, "v4: ENOTSUP");
	ok(has_code(&r, "unsupported-version"), "v4: unsupported-version");
	iw_report_done(&r);

	seed_qcow2(img, 3);
	put_be32(img + 20, 31);
	is_int(parse(img, IMG_SIZE, false, &h, &r), -EINVAL,
	       "cluster_bits 31: EINVAL");
	ok(has_code(&r, "bad-field"), "cluster_bits 31: bad-field");
	iw_report_done(&r);

	seed_qcow2(img, 3);
	put_be64(img + 72, UINT64_C(1) << 12);
	is_int(parse(img, IMG_SIZE, false, &h, &r), -ENOTSUP,
	       "unknown bit: ENOTSUP");
	ok(has_code(&r, "unknown-features"), "unknown bit: unknown-features");
	iw_report_done(&r);

	/* backing file: usable header, reported, never followed */
	seed_qcow2(img, 3);
	put_be64(img + 8, 0x200);
	put_be32(img + 16, 11);
	memcpy(img + 0x200, "/etc/passwd", 11);
	is_int(parse(img, IMG_SIZE, false, &h, &r), 0, "backing: usable");
	ok(has_code(&r, "backing-file"), "backing: backing-file");
	is_str(r.backing_filename, "/etc/passwd", "backing: name");
	is_int(h.ext_end, 0x200, "backing: extensions end at the name");
	iw_report_done(&r);

	/* an extension longer than the extension area */
	seed_qcow2(img, 3);
	put_be32(img + 116, CLUSTER);
	is_int(parse(img, IMG_SIZE, false, &h, &r), -EINVAL,
	       "long extension: EINVAL");
	ok(has_code(&r, "bad-extension"), "long extension: bad-extension");
	iw_report_done(&r);
}

static void test_partial(void)
{
	struct qcow2_header h;
	struct iw_report r;

	/* a prefix of a bigger object: the tables are "not inspected",
	 * not "past EOF" */
	seed_qcow2(img, 3);
	is_int(parse(img, 0x1000, true, &h, &r), 0, "partial view: usable");
	ok(!has_code(&r, "table-past-eof") && !has_code(&r, "truncated"),
	   "partial view: nothing reported past the end");
	iw_report_done(&r);

	is_int(parse(img, 0x1000, false, &h, &r), -EINVAL,
	       "short file: EINVAL");
	ok(has_code(&r, "table-past-eof"), "short file: table-past-eof");
	iw_report_done(&r);

	is_int(parse(img, 50, false, &h, &r), -EINVAL, "50 bytes: EINVAL");
	ok(has_code(&r, "truncated"), "50 bytes: truncated");
	iw_report_done(&r);
}

static void test_probe_clean(void)
{
	struct iw_report r;
	struct iw_view v;

	seed_qcow2(img, 3);
	iw_view_init_mem(&v, img, IMG_SIZE);
	if (iw_report_init(&r) < 0)
		abort();
	is_int(iw_probe(&v, &r), 0, "probe: returns 0");
	is_str(r.format, "qcow2", "probe: qcow2");
	is_int(r.virtual_size, VSIZE, "probe: virtual size");
	is_int(r.verdict, IW_SAFE, "probe: safe with an internal snapshot");
	ok(has_code(&r, "internal-snapshots"), "probe: internal-snapshots");
	iw_report_done(&r);
}

static size_t seed_qcow(uint8_t *b)
{
	memset(b, 0, IMG_SIZE);
	put_be32(b, QCOW2_MAGIC);
	put_be32(b + 4, 1);
	put_be64(b + 24, VSIZE);
	b[32] = 12;
	b[33] = 9;
	put_be64(b + 40, 0x200);
	put_be64(b + 0x200, 0x1000);
	return 3 * CLUSTER;
}

static size_t seed_qed(uint8_t *b)
{
	memset(b, 0, IMG_SIZE);
	put_le32(b, 0x00444551);
	put_le32(b + 4, CLUSTER);
	put_le32(b + 8, 2);
	put_le32(b + 12, 1);
	put_le64(b + 40, CLUSTER);
	put_le64(b + 48, VSIZE);
	put_le64(b + CLUSTER, 3 * CLUSTER);
	return 5 * CLUSTER;
}

static size_t seed_qcow2_v3(uint8_t *b)
{
	return seed_qcow2(b, 3);
}

static size_t seed_qcow2_v2(uint8_t *b)
{
	return seed_qcow2(b, 2);
}

/* xorshift: deterministic, so a failure replays */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void mutate_run(const char *name, size_t (*seed)(uint8_t *))
{
	unsigned failures = 0;
	size_t len = seed(img);

	for (int i = 0; i < MUTATIONS; i++) {
		struct iw_report r;
		struct iw_view v;
		size_t n = len;
		int edits = 1 + (int)(rnd() % 6);

		memcpy(work, img, len);
		for (int k = 0; k < edits; k++) {
			/* mostly the header, sometimes the tables; keep the
			 * magic and version so the same reader runs */
			size_t at = rnd() % 4 ? 8 + rnd() % 248
					      : 8 + rnd() % (len - 8);
			work[at] = (uint8_t)rnd();
		}
		if (rnd() % 8 == 0)
			n = 8 + rnd() % (len - 8);
		iw_view_init_mem(&v, work, n);
		v.partial = rnd() % 16 == 0;
		if (iw_report_init(&r) < 0)
			abort();
		if (iw_probe(&v, &r) != 0 || strcmp(r.format, name) != 0)
			failures++;
		iw_report_done(&r);
	}
	is_int(failures, 0, "%s: %d mutated images all give a %s report",
	       name, MUTATIONS, name);
}

int main(void)
{
	test_parse_clean();
	test_parse_bad();
	test_partial();
	test_probe_clean();
	mutate_run("qcow2", seed_qcow2_v3);
	mutate_run("qcow2", seed_qcow2_v2);
	mutate_run("qcow", seed_qcow);
	mutate_run("qed", seed_qed);
	return tap_done();
}
