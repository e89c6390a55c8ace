/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD and VHDX readers on images built in memory: the helpers (size rule,
 * UTF-16, checksums), a clean image of each, then every truncation and a
 * few thousand seeded mutations (with checksums repaired half the time so
 * they reach the deep checks). A mutation may give any verdict; it must
 * never crash, hang, or make probe() fail.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "formats/formats.h"
#include "formats/vhd.h"
#include "formats/vhdx.h"
#include "report.h"
#include "tap.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* probe buf[0..len) with one reader; returns probe()'s result, or 1 when
 * match() declined. *ret_verdict gets the verdict. */
static int run(const struct iw_format *f, const uint8_t *buf, size_t len,
	       bool partial, enum iw_verdict *ret_verdict,
	       int64_t *ret_vsize)
{
	struct iw_view v;
	struct iw_report r;
	int ret;

	iw_view_init_mem(&v, buf, len);
	v.partial = partial;
	if (!f->match(&v, buf, MIN(len, (size_t)IW_HEAD_SIZE)))
		return 1;
	if (iw_report_init(&r) < 0)
		return -ENOMEM;
	ret = f->probe(&v, buf, MIN(len, (size_t)IW_HEAD_SIZE), &r, NULL);
	if (ret_verdict)
		*ret_verdict = r.verdict;
	if (ret_vsize)
		*ret_vsize = r.virtual_size;
	iw_report_done(&r);
	return ret;
}

/* ---- VHD ---------------------------------------------------------------- */

/* dynamic disk: footer, header, BAT (4 entries), one 4 KiB block with its
 * 512-byte bitmap, footer */
#define VHD_IMG_SIZE (512 + 1024 + 512 + 512 + 4096 + 512)

static void vhd_fix(uint8_t *img, size_t len)
{
	put_be32(img + 64, vhd_checksum(img, 512, 64));
	put_be32(img + 512 + 36, vhd_checksum(img + 512, 1024, 36));
	memcpy(img + len - 512, img, 512);
}

static void vhd_build(uint8_t *img)
{
	memset(img, 0, VHD_IMG_SIZE);
	memcpy(img, "conectix", 8);
	put_be32(img + 8, 2);
	put_be32(img + 12, 0x00010000);
	put_be64(img + 16, 512);
	memcpy(img + 28, "win ", 4);
	memcpy(img + 36, "Wi2k", 4);
	put_be64(img + 40, 16384);
	put_be64(img + 48, 16384);
	img[56] = 0, img[57] = 1, img[58] = 4, img[59] = 17;
	put_be32(img + 60, VHD_TYPE_DYNAMIC);
	memcpy(img + 68, "0123456789abcdef", 16);
	memcpy(img + 512, "cxsparse", 8);
	put_be64(img + 512 + 8, UINT64_MAX);
	put_be64(img + 512 + 16, 1536);
	put_be32(img + 512 + 24, 0x00010000);
	put_be32(img + 512 + 28, 4);
	put_be32(img + 512 + 32, 4096);
	put_be32(img + 1536, 2048 / 512);
	for (int i = 1; i < 4; i++)
		put_be32(img + 1536 + 4 * i, VHD_BAT_UNALLOCATED);
	memset(img + 2048, 0xff, 512);
	memset(img + 2560, 0xab, 4096);
	vhd_fix(img, VHD_IMG_SIZE);
}

static void test_vhd_helpers(void)
{
	struct vhd_footer f = { .cylinders = 100, .heads = 16,
				.sectors_per_track = 63,
				.current_size = 52428800 + 100 };
	char out[64];
	static const uint8_t be[] = { 0, 'C', 0, ':', 0xd8, 0x3d, 0xde, 0x00,
				      0xd8, 0x00, 0, 'x', 0, 0, 0, 'y' };

	memcpy(f.creator_app, "vpc ", 4);
	is_int(vhd_virtual_size(&f), 100 * 16 * 63 * 512, "vpc: CHS size");
	memcpy(f.creator_app, "qemu", 4);
	is_int(vhd_virtual_size(&f), 100 * 16 * 63 * 512, "qemu: CHS size");
	memcpy(f.creator_app, "win ", 4);
	is_int(vhd_virtual_size(&f), 52428800, "win: current_size, rounded");
	memcpy(f.creator_app, "tap\0", 4);
	is_int(vhd_virtual_size(&f), 52428800, "tap\\0: current_size");
	memcpy(f.creator_app, "tap ", 4);
	is_int(vhd_virtual_size(&f), 100 * 16 * 63 * 512, "\"tap \": CHS");
	memcpy(f.creator_app, "vpc ", 4);
	f.cylinders = 65535, f.heads = 16, f.sectors_per_track = 255;
	is_int(vhd_virtual_size(&f), 52428800, "max geometry: current_size");

	is_int(vhd_bitmap_size(2 * 1024 * 1024), 512, "bitmap of 2 MiB block");
	is_int(vhd_bitmap_size(4096), 512, "bitmap of 4 KiB block");
	is_int(vhd_bitmap_size(512), 0, "bitmap of 512 B block (qemu: 0)");
	is_int(vhd_bitmap_size(0x80000000u), 512 * 1024,
	       "bitmap of 2 GiB block");

	vhd_utf16_to_utf8(be, sizeof(be), true, out, sizeof(out));
	is_str(out, "C:\xf0\x9f\x98\x80\xef\xbf\xbdx",
	       "UTF-16BE: surrogate pair, lone surrogate, stop at NUL");
	vhd_utf16_to_utf8((const uint8_t *)"a\0b\0", 4, false, out,
			  sizeof(out));
	is_str(out, "ab", "UTF-16LE");
	vhd_utf16_to_utf8((const uint8_t *)"a\0\xe9\0", 4, false, out, 3);
	is_str(out, "a", "output bound: no partial character");
	vhd_utf16_to_utf8((const uint8_t *)"\x3d\xd8", 2, false, out,
			  sizeof(out));
	is_str(out, "\xef\xbf\xbd", "high surrogate at the end");
}

static void test_vhd_images(void)
{
	static uint8_t img[VHD_IMG_SIZE], mut[VHD_IMG_SIZE];
	enum iw_verdict verdict = IW_SAFE;
	int64_t vsize = -1;
	bool all_ok = true, all_invalid = true;

	vhd_build(img);
	is_int(run(&iw_format_vhd, img, sizeof(img), false, &verdict, &vsize),
	       0, "VHD: clean dynamic image probes");
	is_int(verdict, IW_SAFE, "VHD: clean dynamic image is safe");
	is_int(vsize, 16384, "VHD: virtual size");

	for (size_t len = 0; len < sizeof(img); len++) {
		int ret = run(&iw_format_vhd, img, len, false, &verdict, NULL);

		if (ret < 0)
			all_ok = false;
		/* 511 bytes is also an empty disk with a pre-2004 footer
		 * (our footer's last byte is 0, so its checksum holds):
		 * unsupported rather than invalid, never safe */
		if (ret == 0 && verdict != IW_INVALID &&
		    !(len == VHD_OLD_FOOTER_SIZE && verdict == IW_UNSUPPORTED))
			all_invalid = false;
		if (run(&iw_format_vhd, img, len, true, NULL, NULL) < 0)
			all_ok = false;
	}
	ok(all_ok, "VHD: every prefix probes without error");
	ok(all_invalid, "VHD: every truncation is invalid");

	all_ok = true;
	for (int i = 0; i < 20000; i++) {
		int n = 1 + rnd() % 4, ret;

		memcpy(mut, img, sizeof(img));
		for (int k = 0; k < n; k++) {
			/* mostly the structures, sometimes anywhere */
			size_t at = rnd() % 4 ? rnd() % 2048
					      : rnd() % sizeof(mut);
			mut[at] = rnd() % 3 ? (uint8_t)rnd() : 0xff;
		}
		if (rnd() % 2)
			vhd_fix(mut, sizeof(mut));
		ret = run(&iw_format_vhd, mut, sizeof(mut), rnd() % 8 == 0,
			  NULL, NULL);
		if (ret < 0) {
			printf("# mutation %d: probe returned %d\n", i, ret);
			all_ok = false;
		}
	}
	ok(all_ok, "VHD: 20000 mutations probe without error");
}

/* ---- VHDX --------------------------------------------------------------- */

#define MiB_ (1024 * 1024)
#define VHDX_IMG_SIZE (5 * MiB_)

static const uint8_t g_bat[16] = { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00,
				   0x42, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd,
				   0x4a, 0x08 };
static const uint8_t g_meta[16] = { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47,
				    0x9a, 0x4b, 0xb8, 0xfe, 0x57, 0x5f,
				    0x05, 0x0f, 0x88, 0x6e };
static const uint8_t g_items[5][16] = {
	{ 0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d, 0xb3, 0xb6, 0x33,
	  0xf0, 0xaa, 0x44, 0xe7, 0x6b },
	{ 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48, 0xb2, 0x11, 0x5d,
	  0xbe, 0xd8, 0x3b, 0xf4, 0xb8 },
	{ 0xab, 0x12, 0xca, 0xbe, 0xe6, 0xb2, 0x23, 0x45, 0x93, 0xef, 0xc3,
	  0x09, 0xe0, 0x00, 0xc7, 0x46 },
	{ 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47, 0xba, 0x47, 0xf2,
	  0x33, 0xa8, 0xfa, 0xab, 0x5f },
	{ 0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44, 0x9c, 0xc9, 0xe9,
	  0x88, 0x52, 0x51, 0xc5, 0x56 },
};

static void vhdx_fix(uint8_t *img)
{
	static const uint32_t hdr[] = { VHDX_HEADER1_OFFSET,
					VHDX_HEADER2_OFFSET };
	static const uint32_t rt[] = { VHDX_REGION_TABLE1_OFFSET,
				       VHDX_REGION_TABLE2_OFFSET };

	for (int i = 0; i < 2; i++) {
		put_le32(img + hdr[i] + 4,
			 vhdx_checksum(img + hdr[i], VHDX_HEADER_SIZE, 4));
		put_le32(img + rt[i] + 4,
			 vhdx_checksum(img + rt[i], VHDX_REGION_TABLE_SIZE, 4));
	}
}

static void vhdx_build(uint8_t *img)
{
	uint8_t *md = img + 3 * MiB_;

	memset(img, 0, VHDX_IMG_SIZE);
	memcpy(img, "vhdxfile", 8);
	for (int i = 0; i < 2; i++) {
		uint8_t *h = img + (i ? VHDX_HEADER2_OFFSET
				      : VHDX_HEADER1_OFFSET);
		uint8_t *t = img + (i ? VHDX_REGION_TABLE2_OFFSET
				      : VHDX_REGION_TABLE1_OFFSET);

		memcpy(h, "head", 4);
		put_le64(h + 8, 1 + i);
		put_le16(h + 66, 1);
		put_le32(h + 68, MiB_);
		put_le64(h + 72, MiB_);
		memcpy(t, "regi", 4);
		put_le32(t + 8, 2);
		memcpy(t + 16, g_bat, 16);
		put_le64(t + 32, 2 * MiB_);
		put_le32(t + 40, MiB_);
		put_le32(t + 44, 1);
		memcpy(t + 48, g_meta, 16);
		put_le64(t + 64, 3 * MiB_);
		put_le32(t + 72, MiB_);
		put_le32(t + 76, 1);
	}
	memcpy(md, "metadata", 8);
	put_le16(md + 10, 5);
	for (int i = 0; i < 5; i++) {
		uint8_t *e = md + 32 + 32 * i;

		memcpy(e, g_items[i], 16);
		put_le32(e + 16, 65536 + 64 * i);
		put_le32(e + 20, i == 2 ? 16 : 8);
		put_le32(e + 24, 4 | (i ? 2 : 0));
	}
	put_le32(md + 65536, MiB_);		/* block size */
	put_le64(md + 65536 + 64, 4 * MiB_);	/* virtual disk size */
	put_le32(md + 65536 + 192, 512);
	put_le32(md + 65536 + 256, 512);
	/* 4 payload entries (+ (4 - 1) / 4096 bitmap entries = 0): block 0
	 * present at 4 MiB, block 2 zero */
	put_le64(img + 2 * MiB_, 4 * MiB_ | VHDX_PAYLOAD_FULLY_PRESENT);
	put_le64(img + 2 * MiB_ + 16, VHDX_PAYLOAD_ZERO);
	memset(img + 4 * MiB_, 0xab, MiB_);
	vhdx_fix(img);
}

static void test_vhdx_images(void)
{
	static const size_t areas[][2] = {
		{ 0, 1024 },
		{ VHDX_HEADER1_OFFSET, 128 },
		{ VHDX_HEADER2_OFFSET, 128 },
		{ VHDX_REGION_TABLE1_OFFSET, 128 },
		{ VHDX_REGION_TABLE2_OFFSET, 128 },
		{ 3 * MiB_, 256 },
		{ 3 * MiB_ + 65536, 512 },
		{ 2 * MiB_, 64 },
	};
	uint8_t *img = malloc(VHDX_IMG_SIZE), *mut = malloc(VHDX_IMG_SIZE);
	enum iw_verdict verdict = IW_SAFE;
	int64_t vsize = -1;
	bool all_ok = true, all_invalid = true;

	if (!img || !mut) {
		ok(0, "VHDX: memory");
		return;
	}
	vhdx_build(img);
	is_int(run(&iw_format_vhdx, img, VHDX_IMG_SIZE, false, &verdict,
		   &vsize),
	       0, "VHDX: clean image probes");
	is_int(verdict, IW_SAFE, "VHDX: clean image is safe");
	is_int(vsize, 4 * MiB_, "VHDX: virtual size");

	for (size_t len = 0; len < VHDX_IMG_SIZE; len += 4093) {
		int ret = run(&iw_format_vhdx, img, len, false, &verdict, NULL);

		if (ret < 0)
			all_ok = false;
		if (ret == 0 && verdict != IW_INVALID)
			all_invalid = false;
		if (run(&iw_format_vhdx, img, len, true, NULL, NULL) < 0)
			all_ok = false;
	}
	ok(all_ok, "VHDX: prefixes probe without error");
	ok(all_invalid, "VHDX: every truncation is invalid");

	all_ok = true;
	for (int i = 0; i < 1500; i++) {
		int n = 1 + rnd() % 4, ret;

		memcpy(mut, img, VHDX_IMG_SIZE);
		for (int k = 0; k < n; k++) {
			const size_t *a = areas[rnd() % ARRAY_SIZE(areas)];

			mut[a[0] + rnd() % a[1]] =
				rnd() % 3 ? (uint8_t)rnd() : 0xff;
		}
		if (rnd() % 4)
			vhdx_fix(mut);
		ret = run(&iw_format_vhdx, mut, VHDX_IMG_SIZE, rnd() % 8 == 0,
			  NULL, NULL);
		if (ret < 0) {
			printf("# mutation %d: probe returned %d\n", i, ret);
			all_ok = false;
		}
	}
	ok(all_ok, "VHDX: 1500 mutations probe without error");
	free(img);
	free(mut);
}

int main(void)
{
	test_vhd_helpers();
	test_vhd_images();
	test_vhdx_images();
	return tap_done();
}
