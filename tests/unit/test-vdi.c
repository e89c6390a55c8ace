/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdi.h's pure helpers, and a deterministic mutation run over the VDI,
 * LUKS, parallels, bochs, cloop and dmg readers: every mutated or
 * truncated header must still give a report (probe returns 0) and never
 * the "safe" verdict for a structure we broke on purpose. Run under
 * make check-sanitize / check-valgrind this is a small fuzzer.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "formats/vdi.h"
#include "probe.h"
#include "tap.h"

#define IMG_SIZE (64 * 1024)
#define MUTATIONS 3000

static uint8_t img[IMG_SIZE];

static void seed_vdi(uint8_t *b, size_t *len)
{
	memset(b, 0, IMG_SIZE);
	memcpy(b, "<<< QEMU VM Virtual Disk Image >>>\n", 35);
	put_le32(b + 0x40, VDI_SIGNATURE);
	put_le32(b + 0x44, VDI_VERSION_1_1);
	put_le32(b + 0x48, 0x180);
	put_le32(b + 0x4c, VDI_TYPE_DYNAMIC);
	put_le32(b + 0x154, 512);
	put_le32(b + 0x158, 1024);
	put_le32(b + 0x168, 512);
	put_le64(b + 0x170, 8 * MiB);
	put_le32(b + 0x178, VDI_DEFAULT_BLOCK_SIZE);
	put_le32(b + 0x180, 8);
	put_le32(b + 0x184, 0);
	b[0x188] = 1; /* image UUID */
	memset(b + 512, 0xff, 8 * 4);
	*len = 1024;
}

static void seed_luks1(uint8_t *b, size_t *len)
{
	memset(b, 0, IMG_SIZE);
	memcpy(b, "LUKS\xba\xbe\0\1", 8);
	strcpy((char *)b + 8, "aes");
	strcpy((char *)b + 40, "xts-plain64");
	strcpy((char *)b + 72, "sha256");
	put_be32(b + 104, 72); /* after 8 slots of 8 sectors */
	put_be32(b + 108, 1); /* 4000-byte split keys: 8 sectors */
	put_be32(b + 164, 1000);
	for (int i = 0; i < 8; i++) {
		uint8_t *s = b + 208 + 48 * i;
		put_be32(s, i == 0 ? 0x00ac71f3 : 0x0000dead);
		put_be32(s + 4, 1000);
		put_be32(s + 40, 8 + 8 * (uint32_t)i);
		put_be32(s + 44, 4000);
	}
	*len = IMG_SIZE;
}

static void seed_luks2(uint8_t *b, size_t *len)
{
	memset(b, 0, IMG_SIZE);
	memcpy(b, "LUKS\xba\xbe\0\2", 8);
	put_be64(b + 8, 16384);
	memcpy(b + 16384, "SKUL\xba\xbe\0\2", 8);
	*len = 32768;
}

static void seed_parallels(uint8_t *b, size_t *len)
{
	memset(b, 0, IMG_SIZE);
	memcpy(b, "WithouFreSpacExt", 16);
	put_le32(b + 16, 2);
	put_le32(b + 28, 2048);
	put_le32(b + 32, 4);
	put_le64(b + 36, 4 * 2048);
	*len = 4096;
}

static void seed_bochs(uint8_t *b, size_t *len)
{
	memset(b, 0, IMG_SIZE);
	strcpy((char *)b, "Bochs Virtual HD Image");
	strcpy((char *)b + 32, "Redolog");
	strcpy((char *)b + 48, "Growing");
	put_le32(b + 64, 0x20000);
	put_le32(b + 68, 512);
	put_le32(b + 72, 16);
	put_le32(b + 76, 512);
	put_le32(b + 80, 65536);
	put_le64(b + 88, 1 * MiB);
	memset(b + 512, 0xff, 64);
	*len = 576;
}

static void seed_cloop(uint8_t *b, size_t *len)
{
	memset(b, 0, IMG_SIZE);
	strcpy((char *)b, "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 "
			  "&& mount -r -t iso9660 /dev/cloop $1\n");
	put_be32(b + 128, 65536);
	put_be32(b + 132, 2);
	put_be64(b + 136, 160);
	put_be64(b + 144, 200);
	put_be64(b + 152, 240);
	*len = 240;
}

static void seed_dmg(uint8_t *b, size_t *len)
{
	uint8_t *t = b + 4096 - 512;

	memset(b, 0, IMG_SIZE);
	memcpy(t, "koly", 4);
	put_be32(t + 4, 4);
	put_be32(t + 8, 512);
	put_be64(t + 0x20, 1024);
	put_be64(t + 0xd8, 1024);
	put_be64(t + 0xe0, 100);
	put_be64(t + 0x1ec, 2048);
	*len = 4096;
}

static const struct {
	const char *format;
	void (*seed)(uint8_t *b, size_t *len);
} seeds[] = {
	{ "vdi", seed_vdi },		 { "luks", seed_luks1 },
	{ "luks", seed_luks2 },		 { "parallels", seed_parallels },
	{ "bochs", seed_bochs },	 { "cloop", seed_cloop },
	{ "dmg", seed_dmg },
};

/* xorshift: the same mutations on every run */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int sniff(const uint8_t *b, size_t len, bool partial,
		 struct iw_report *r)
{
	struct iw_view v;

	iw_view_init_mem(&v, b, len);
	v.partial = partial;
	if (iw_report_init(r) < 0)
		return -1;
	return iw_probe(&v, r);
}

static void test_seeds(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
		struct iw_report r;
		size_t len;

		seeds[i].seed(img, &len);
		is_int(sniff(img, len, false, &r), 0, "seed %zu probes", i);
		is_str(r.format, seeds[i].format, "seed %zu is %s", i,
		       seeds[i].format);
		ok(r.verdict == (strcmp(seeds[i].format, "vdi") == 0
					 ? IW_SAFE
					 : IW_UNSUPPORTED),
		   "seed %zu verdict %s", i, iw_verdict_name(r.verdict));
		iw_report_done(&r);
	}
}

static void test_mutations(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
		unsigned failures = 0, safe_truncated = 0;

		for (int m = 0; m < MUTATIONS; m++) {
			struct iw_report r;
			size_t len, span;
			int n_flips = 1 + (int)(rng() % 8);
			bool truncate = rng() % 4 == 0, partial = rng() % 8 == 0;

			seeds[i].seed(img, &len);
			/* mutate the header area (and the dmg trailer) */
			span = len < 1024 ? len : 1024;
			for (int k = 0; k < n_flips; k++) {
				size_t at = (size_t)(rng() % span);
				if (strcmp(seeds[i].format, "dmg") == 0)
					at = len - 512 + at % 512;
				img[at] = (uint8_t)rng();
			}
			if (truncate)
				len = (size_t)(rng() % len);
			if (sniff(img, len, partial, &r) != 0)
				failures++;
			else if (truncate && !partial &&
				 strcmp(r.format, seeds[i].format) == 0 &&
				 r.verdict == IW_SAFE &&
				 strcmp(seeds[i].format, "vdi") == 0 &&
				 len < 512)
				safe_truncated++;
			iw_report_done(&r);
		}
		is_int(failures, 0, "%s seed %zu: %d mutations all probe",
		       seeds[i].format, i, MUTATIONS);
		is_int(safe_truncated, 0,
		       "%s seed %zu: no truncated header is safe",
		       seeds[i].format, i);
	}
}

static void test_helpers(void)
{
	struct vdi_header h;
	char uuid[VDI_UUID_STRING_SIZE];
	uint64_t x;
	size_t len;

	seed_vdi(img, &len);
	put_le64(img + 0x170, 1000);
	memcpy(img + 0x1b8,
	       "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd"
	       "\xef",
	       16);
	vdi_parse_header(img, &h);
	is_int(h.signature, VDI_SIGNATURE, "signature");
	is_int(h.version, VDI_VERSION_1_1, "version");
	is_int(h.offset_bmap, 512, "block map offset");
	is_int(h.offset_data, 1024, "data offset");
	is_int(h.blocks_in_image, 8, "blocks in image");
	ok(vdi_virtual_size(&h, &x) && x == 1024,
	   "odd disk size rounds up to a sector");
	vdi_uuid_format(h.uuid_parent, uuid);
	is_str(uuid, "67452301-ab89-efcd-0123-456789abcdef",
	       "UUIDs print as VirtualBox does");
	ok(vdi_block_offset(&h, 3, &x) && x == 1024 + 3 * MiB,
	   "block offset");
	h.offset_data = 0xffffffff;
	ok(vdi_block_offset(&h, 0xfffffffd, &x),
	   "the largest block offset fits in 64 bits");
	h.disk_size = UINT64_MAX;
	ok(!vdi_virtual_size(&h, &x), "overflowing disk size is refused");
	ok(vdi_entry_allocated(0) && !vdi_entry_allocated(VDI_BLOCK_DISCARDED) &&
		   !vdi_entry_allocated(VDI_BLOCK_UNALLOCATED),
	   "allocated entries");
}

int main(void)
{
	test_helpers();
	test_seeds();
	test_mutations();
	return tap_done();
}
