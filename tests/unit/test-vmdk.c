/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmdk.h's pure parsers (descriptor grammar, header layout arithmetic),
 * and a deterministic mutation run over a sparse extent and a text
 * descriptor: every mutated or truncated input must still give a report,
 * and a descriptor that names a file is never "safe". Run under
 * make check-sanitize / check-valgrind this is a small fuzzer.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "formats/vmdk.h"
#include "probe.h"
#include "tap.h"

#define IMG_SIZE (128 * 1024)
#define MUTATIONS 3000

static uint8_t img[IMG_SIZE];

static const char qemu_desc[] =
	"# Disk DescriptorFile\n"
	"version=1\n"
	"CID=569cb394\n"
	"parentCID=ffffffff\n"
	"createType=\"monolithicSparse\"\n"
	"\n"
	"# Extent description\n"
	"RW 20480 SPARSE \"ms.vmdk\"\n"
	"\n"
	"# The Disk Data Base\n"
	"#DDB\n"
	"\n"
	"ddb.virtualHWVersion = \"4\"\n"
	"ddb.geometry.cylinders = \"20\"\r\n"
	"ddb.adapterType = \"ide\"\n";

static void parse(const char *text, struct vmdk_descriptor *d)
{
	vmdk_parse_descriptor(text, strlen(text), d);
}

static void test_descriptor(void)
{
	static struct vmdk_descriptor d;

	parse(qemu_desc, &d);
	is_int(d.n_bad_lines, 0, "qemu's descriptor follows the grammar");
	ok(d.has_version && d.version == 1, "version 1");
	is_int(d.cid, 0x569cb394, "CID");
	is_int(d.parent_cid, 0xffffffff, "parentCID");
	ok(d.create_type.p && d.create_type.len == 16 &&
		   memcmp(d.create_type.p, "monolithicSparse", 16) == 0,
	   "createType");
	is_int(d.n_extents, 1, "one extent");
	is_int(d.extents[0].sectors, 20480, "extent size");
	is_int(d.extents[0].type, VMDK_EXTENT_SPARSE, "extent type");
	ok(d.extents[0].name_len == 7 &&
		   memcmp(d.extents[0].name, "ms.vmdk", 7) == 0,
	   "extent name");

	parse("createType=\"monolithicFlat\"\nRW 10 FLAT \"a b\" 5\n"
	      "RDONLY 4 ZERO\nNOACCESS 6 VMFSRDM \"c\"\n",
	      &d);
	is_int(d.n_bad_lines, 0, "FLAT, ZERO and VMFSRDM extents parse");
	is_int(d.n_extents, 3, "three extents");
	is_int(d.total_sectors, 20, "sectors add up");
	ok(d.extents[0].has_offset && d.extents[0].offset == 5, "FLAT offset");
	ok(d.extents[1].name == NULL, "ZERO names no file");

	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "RW 10 FLAT \"a\"\n", "FLAT without offset" },
		{ "RW 10 SPARSE \"a\" 4\n", "offset on SPARSE" },
		{ "rw 10 FLAT \"a\" 0\n", "lowercase access" },
		{ "RW 10 flat \"a\" 0\n", "lowercase type" },
		{ "RW 10 FLAT \"a 0\n", "unterminated name" },
		{ "RW x FLAT \"a\" 0\n", "size not a number" },
		{ "RW 99999999999999999999999 FLAT \"a\" 0\n", "size overflow" },
		{ "RW 10 ZERO \"a\"\n", "ZERO with a name" },
		{ "createType=monolithicFlat\n", "unquoted createType" },
		{ "createType=\"a\"\ncreateType=\"b\"\n", "repeated createType" },
		{ "createtype=\"a\"\n", "wrongly cased key" },
		{ "version=4\n", "version 4" },
		{ "CID=123456789\n", "CID too long" },
		{ "CID=12\rRW 2 FLAT \"x\" 0\n", "lone CR" },
		{ "just words\n", "not a line of the grammar" },
		{ "key = \"v\" trailing\n", "text after the value" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		parse(bad[i].text, &d);
		ok(d.n_bad_lines > 0, "bad: %s", bad[i].why);
	}
	parse("rw 2 FLAT \"json:{\"x\":1}\" 0\n", &d);
	ok(d.n_salvaged == 1 && d.salvaged[0].len == 12 &&
		   memcmp(d.salvaged[0].p, "json:{\"x\":1}", 12) == 0,
	   "a malformed extent line's name is kept");

	/* bounded: more extents than kept are counted and summed */
	{
		static char many[VMDK_DESC_MAX_EXTENTS * 2 * 24];
		size_t n = 0;
		for (int i = 0; i < VMDK_DESC_MAX_EXTENTS * 2; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n,
					      "RW 1 SPARSE \"e%d\"\n", i);
		vmdk_parse_descriptor(many, n, &d);
		is_int(d.n_extents, VMDK_DESC_MAX_EXTENTS * 2,
		       "extents past the cap are counted");
		is_int(d.total_sectors, VMDK_DESC_MAX_EXTENTS * 2,
		       "and summed");
	}
}

static void seed_sparse(uint8_t *b, size_t *len)
{
	memset(b, 0, IMG_SIZE);
	put_be32(b, VMDK4_MAGIC);
	put_le32(b + 4, 1);
	put_le32(b + 8, VMDK4_FLAG_NL_DETECT | VMDK4_FLAG_RGD);
	put_le64(b + 12, 2048);	    /* 1 MiB */
	put_le64(b + 20, 128);	    /* 64 KiB grains */
	put_le64(b + 28, 1);
	put_le64(b + 36, 20);
	put_le32(b + 44, 512);
	put_le64(b + 48, 21);	    /* RGD */
	put_le64(b + 56, 22);	    /* GD */
	put_le64(b + 64, 32);	    /* overhead */
	memcpy(b + 73, "\n \r\n", 4);
	strcpy((char *)b + 512, "# Disk DescriptorFile\nversion=1\n"
				"CID=1\nparentCID=ffffffff\n"
				"createType=\"monolithicSparse\"\n"
				"RW 2048 SPARSE \"s.vmdk\"\n");
	put_le32(b + 21 * 512, 23); /* RGD[0] -> GT at 23 */
	put_le32(b + 22 * 512, 27); /* GD[0] -> GT at 27 */
	put_le32(b + 27 * 512, 32); /* grain 0 at sector 32 */
	*len = 32 * 512 + 64 * 1024;
}

static void seed_text(uint8_t *b, size_t *len)
{
	memset(b, 0, IMG_SIZE);
	strcpy((char *)b, "version=1\nCID=1\nparentCID=ffffffff\n"
			  "createType=\"monolithicFlat\"\n"
			  "RW 2 FLAT \"/etc/passwd\" 0\n");
	*len = strlen((char *)b);
}

static int probe(const uint8_t *b, size_t len, struct iw_report *r)
{
	struct iw_view v;

	iw_view_init_mem(&v, b, len);
	if (iw_report_init(r) < 0)
		return -ENOMEM;
	return iw_probe(&v, r);
}

static void test_layout(void)
{
	struct vmdk4_header h = { .capacity = 2048, .grain_size = 128,
				  .num_gtes_per_gt = 512, .gd_offset = 22 };
	struct vmdk4_layout l;

	is_int(vmdk4_layout(&h, &l), 0, "layout of a 1 MiB disk");
	is_int(l.gd_entries, 1, "one grain table");
	is_int(l.gd_offset, 22 * 512, "GD offset in bytes");
	h.capacity = UINT64_MAX;
	is_int(vmdk4_layout(&h, &l), -EOVERFLOW, "capacity overflows");
	h.capacity = 2048;
	h.grain_size = 0;
	is_int(vmdk4_layout(&h, &l), -EINVAL, "grain size 0");
	h.grain_size = 128;
	h.gd_offset = VMDK4_GD_AT_END;
	is_int(vmdk4_layout(&h, &l), -EOVERFLOW, "GD_AT_END is not a place");
}

static void test_mutations(void)
{
	void (*seeds[])(uint8_t *, size_t *) = { seed_sparse, seed_text };
	unsigned seed = 12345;
	struct iw_report r;
	size_t len;

	seed_sparse(img, &len);
	if (probe(img, len, &r) == 0)
		is_str(iw_verdict_name(r.verdict), "safe", "seed sparse is safe");
	iw_report_done(&r);
	seed_text(img, &len);
	if (probe(img, len, &r) == 0)
		is_str(iw_verdict_name(r.verdict), "unsafe",
		       "seed descriptor is unsafe");
	iw_report_done(&r);

	int failures = 0, text_safe = 0;
	for (int i = 0; i < MUTATIONS; i++) {
		int which = i % 2;

		seeds[which](img, &len);
		for (int k = 0; k < 1 + (int)(rand_r(&seed) % 8); k++) {
			size_t at = rand_r(&seed) % (which ? len : 1024);
			img[at] = (uint8_t)rand_r(&seed);
		}
		if (rand_r(&seed) % 5 == 0)
			len = rand_r(&seed) % (len + 1);
		if (probe(img, len, &r) != 0)
			failures++;
		/* a mutated descriptor that still names /etc/passwd, still
		 * reads as vmdk: never safe */
		else if (which && strcmp(r.format, "vmdk") == 0 &&
			 memmem(img, len, "/etc/passwd", 11) &&
			 r.verdict == IW_SAFE)
			text_safe++;
		iw_report_done(&r);
	}
	is_int(failures, 0, "every mutation gives a report");
	is_int(text_safe, 0, "no mutated descriptor naming a file is safe");
}

int main(void)
{
	test_descriptor();
	test_layout();
	test_mutations();
	return tap_done();
}
