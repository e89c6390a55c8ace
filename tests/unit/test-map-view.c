/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The map view (lib/scan/map-view.c) against the raw disk it should
 * read as: a patterned raw file (zero blocks, random blocks, compressible
 * text) is converted by qemu-img to qcow2 (plain, zlib, zstd), VMDK
 * (monolithicSparse, streamOptimized), VHD, VHDX and VDI; random reads
 * and a sector-by-sector walk through each image's map view must equal
 * pread() of the raw file. Skipped without qemu-img.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/map.h"
#include "report.h"
#include "scan/map-view.h"
#include "tap.h"
#include "view-fd.h"

#define DISK_SIZE (24u << 20)
#define BLOCK 65536u

static char dir[] = "/tmp/imgward-map-view.XXXXXX";
static uint8_t *raw;

/* xorshift: the same pattern every run */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void make_raw(const char *path)
{
	FILE *f;

	raw = calloc(1, DISK_SIZE);
	if (!raw)
		exit(2);
	for (size_t b = 0; b < DISK_SIZE / BLOCK; b++) {
		uint8_t *p = raw + b * BLOCK;

		switch (b % 5) {
		case 0: /* zeros: holes, zero clusters */
			break;
		case 1: /* incompressible: stored as is even with -c */
			for (size_t i = 0; i < BLOCK; i++)
				p[i] = (uint8_t)rnd();
			break;
		case 3: /* half zeros, half text: a partly zero cluster */
			for (size_t i = 0; i < BLOCK / 2; i += 64)
				snprintf((char *)p + i, 64,
					 "block %zu offset %zu ..........", b,
					 i);
			break;
		default: /* compressible text */
			for (size_t i = 0; i < BLOCK; i += 32)
				snprintf((char *)p + i, 32, "b%zu o%zu xxxxxxxx",
					 b, i);
		}
	}
	f = fopen(path, "w");
	if (!f || fwrite(raw, 1, DISK_SIZE, f) != DISK_SIZE || fclose(f))
		exit(2);
}

static void check_image(const char *name, const char *fmt, const char *args)
{
	char cmd[1024], path[256], rawp[256];
	struct iw_map_view_stats st;
	struct iw_map_view *mv = NULL;
	struct iw_map *map = NULL;
	struct iw_report r;
	struct iw_view img, *v;
	struct stat sb;
	uint8_t *buf;
	unsigned bad = 0;
	int fd, ret;

	snprintf(rawp, sizeof(rawp), "%s/raw", dir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd),
		 "qemu-img convert -q -f raw -O %s %s '%s' '%s' 2>&1", fmt, args,
		 rawp, path);
	if (system(cmd) != 0) {
		ok(1, "# SKIP %s: qemu-img cannot write it", name);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		ok(0, "%s: open", name);
		return;
	}
	iw_view_init_fd(&img, fd, (uint64_t)sb.st_size);
	img.own_budget = UINT64_MAX;
	if (iw_report_init(&r) < 0)
		exit(2);
	ret = iw_map_open(strcmp(fmt, "vpc") == 0 ? "vhd" : fmt, &img, &r,
			  &map);
	if (!is_int(ret, 0, "%s: map opens", name))
		goto out;
	ok(map->virtual_size >= DISK_SIZE, "%s: virtual size %llu", name,
	   (unsigned long long)map->virtual_size);
	ret = iw_map_view_new(map, &mv);
	if (!is_int(ret, 0, "%s: map view", name))
		goto out;
	v = iw_map_view_get(mv);
	v->own_budget = UINT64_MAX;
	buf = malloc(3 * BLOCK);
	if (!buf)
		exit(2);

	/* random reads of any length at any offset, across extents */
	for (unsigned i = 0; i < 3000; i++) {
		size_t len = 1 + (size_t)(rnd() % (i % 10 == 0 ? 3 * BLOCK : 4096));
		uint64_t off = rnd() % (DISK_SIZE - len + 1);

		ret = iw_view_read(v, buf, len, off);
		if (ret < 0 || memcmp(buf, raw + off, len) != 0) {
			if (bad++ < 3)
				printf("#   %s: read %zu at %llu: %d\n", name, len,
				       (unsigned long long)off, ret);
		}
	}
	ok(bad == 0, "%s: 3000 random reads equal the raw disk", name);

	/* the scanner's pattern: sector after sector through a region */
	bad = 0;
	for (uint64_t off = 5 * BLOCK - 1024; off < 12 * BLOCK; off += 512)
		if (iw_view_read(v, buf, 512, off) < 0 ||
		    memcmp(buf, raw + off, 512) != 0)
			bad++;
	ok(bad == 0, "%s: sector walk equals the raw disk", name);
	iw_map_view_stats(mv, &st);
	printf("#   %s: %llu map calls, %llu units inflated\n", name,
	       (unsigned long long)st.map_calls,
	       (unsigned long long)st.units_decompressed);

	is_int(iw_view_read(v, buf, 512, map->virtual_size - 256), -ERANGE,
	       "%s: a read past the end is -ERANGE", name);
	free(buf);
out:
	iw_map_view_free(mv);
	iw_map_free(map);
	iw_report_done(&r);
	close(fd);
	unlink(path);
}

/* A tiny budget: spent reads fail with -E2BIG, also through the unit
 * cache (inflating is charged at the unit size). */
static void check_budget(void)
{
	char cmd[1024], path[256];
	struct iw_map_view *mv = NULL;
	struct iw_map *map = NULL;
	struct iw_report r;
	struct iw_view img, *v;
	struct stat sb;
	uint8_t buf[512];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/budget.qcow2", dir);
	snprintf(cmd, sizeof(cmd),
		 "qemu-img convert -q -c -f raw -O qcow2 '%s/raw' '%s'", dir,
		 path);
	if (system(cmd) != 0 || (fd = open(path, O_RDONLY)) < 0 ||
	    fstat(fd, &sb) < 0) {
		ok(0, "budget: qcow2 -c image");
		return;
	}
	iw_view_init_fd(&img, fd, (uint64_t)sb.st_size);
	if (iw_report_init(&r) < 0 || iw_map_open("qcow2", &img, &r, &map) < 0 ||
	    iw_map_view_new(map, &mv) < 0) {
		ok(0, "budget: map view");
		goto out;
	}
	v = iw_map_view_get(mv);
	v->own_budget = 256 * 1024;
	/* every 5th block is text, compressed: each read inflates a unit */
	for (unsigned i = 0; i < 64 && ret == 0; i++)
		ret = iw_view_read(v, buf, sizeof(buf),
				   (uint64_t)(5 * i + 2) * BLOCK);
	is_int(ret, -E2BIG, "budget: inflating units spends the budget");
out:
	iw_map_view_free(mv);
	iw_map_free(map);
	iw_report_done(&r);
	close(fd);
	unlink(path);
}

int main(void)
{
	char rawp[256];

	if (system("qemu-img --version >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP qemu-img is not installed\n");
		return 77;
	}
	if (!mkdtemp(dir))
		return 2;
	snprintf(rawp, sizeof(rawp), "%s/raw", dir);
	make_raw(rawp);

	check_image("copy.raw", "raw", "");
	check_image("plain.qcow2", "qcow2", "");
	check_image("small-clusters.qcow2", "qcow2", "-o cluster_size=4096");
	check_image("zlib.qcow2", "qcow2", "-c");
	check_image("zstd.qcow2", "qcow2",
		    "-c -o compression_type=zstd,cluster_size=2M");
	check_image("sparse.vmdk", "vmdk", "");
	check_image("stream.vmdk", "vmdk", "-o subformat=streamOptimized");
	check_image("dynamic.vhd", "vpc", "-o force_size=on");
	check_image("fixed.vhd", "vpc", "-o subformat=fixed,force_size=on");
	check_image("disk.vhdx", "vhdx", "");
	check_image("disk.vdi", "vdi", "");
	check_budget();

	unlink(rawp);
	rmdir(dir);
	free(raw);
	return tap_done();
}
