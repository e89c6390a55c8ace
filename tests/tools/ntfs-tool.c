/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: the NTFS reader (lib/scan/ntfs.c) on a volume in a file,
 * with no sandbox and nothing else of the scanner in the way.
 *
 *   ntfs-tool info IMG [OFFSET]        one JSON line: the boot sector's
 *                                      geometry and $Volume's label,
 *                                      version, flags
 *   ntfs-tool ls IMG PATH [OFFSET]     one line per entry: "d NAME" or
 *                                      "f NAME" (ntfs_list_dir order)
 *   ntfs-tool cat IMG PATH [OFFSET]    the file's bytes on stdout
 *   ntfs-tool stat IMG PATH [OFFSET]   one JSON line (ntfs_stat)
 *   ntfs-tool lookup IMG PATH [OFFSET] the record number
 *
 * OFFSET: where the volume starts in IMG (bytes; default 0); it runs
 * to the end of the file. Problems are printed on stderr, one
 * "problem: CODE: MESSAGE" line each, and the exit status is 1 when
 * the command failed (2 for usage). Never install this.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "report.h"
#include "scan/diag.h"
#include "scan/ntfs.h"
#include "view-fd.h"

static struct iw_diag diag;

static void print_problems(void)
{
	for (size_t i = 0; i < diag.n; i++)
		fprintf(stderr, "problem: %s: %s\n",
			iw_diag_code_name(diag.e[i].code), diag.e[i].message);
	if (diag.dropped)
		fprintf(stderr, "problem: (%zu more)\n", diag.dropped);
}

static json_object *str_or_null(const char *s)
{
	char *clean;
	json_object *o;

	clean = iw_sanitize(s, strlen(s), NULL);
	if (!clean)
		abort();
	o = json_object_new_string(clean);
	free(clean);
	return o;
}

static int cmd_info(struct ntfs_vol *vol)
{
	const struct ntfs_info *i = ntfs_get_info(vol);
	json_object *o = json_object_new_object();
	char buf[32];

	json_object_object_add(o, "sector-size",
			       json_object_new_int64(i->sector_size));
	json_object_object_add(o, "cluster-size",
			       json_object_new_int64(i->cluster_size));
	json_object_object_add(o, "mft-record-size",
			       json_object_new_int64(i->mft_record_size));
	json_object_object_add(o, "index-record-size",
			       json_object_new_int64(i->index_record_size));
	json_object_object_add(o, "total-size",
			       json_object_new_int64((int64_t)i->total_size));
	json_object_object_add(o, "mft-offset",
			       json_object_new_int64((int64_t)i->mft_offset));
	snprintf(buf, sizeof(buf), "%016" PRIX64, i->serial);
	json_object_object_add(o, "serial", json_object_new_string(buf));
	if (i->have_volume_info) {
		snprintf(buf, sizeof(buf), "%u.%u", i->major, i->minor);
		json_object_object_add(o, "version",
				       json_object_new_string(buf));
		json_object_object_add(o, "label", str_or_null(i->label));
		json_object_object_add(o, "dirty",
				       json_object_new_boolean(i->dirty));
		json_object_object_add(o, "volume-flags",
				       json_object_new_int(i->volume_flags));
	} else {
		json_object_object_add(o, "version", NULL);
		json_object_object_add(o, "label", NULL);
		json_object_object_add(o, "dirty", NULL);
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return 0;
}

static int ls_cb(void *ud, const char *name, uint64_t mft, bool is_dir)
{
	(void)ud;
	(void)mft;
	printf("%c %s\n", is_dir ? 'd' : 'f', name);
	return 0;
}

static int cmd_cat(struct ntfs_vol *vol, uint64_t mft)
{
	struct ntfs_file *f = NULL;
	const struct iw_view *v;
	static uint8_t buf[1 << 16];
	int ret;

	ret = ntfs_file_open(vol, mft, &f);
	if (ret < 0)
		return ret;
	v = ntfs_file_view(f);
	for (uint64_t off = 0; off < v->size;) {
		size_t n = v->size - off < sizeof(buf) ? (size_t)(v->size - off)
						       : sizeof(buf);

		ret = iw_view_read(v, buf, n, off);
		if (ret < 0)
			break;
		if (fwrite(buf, 1, n, stdout) != n) {
			ret = -EIO;
			break;
		}
		off += n;
	}
	ntfs_file_close(f);
	return ret;
}

static int cmd_stat(struct ntfs_vol *vol, uint64_t mft)
{
	struct ntfs_stat st;
	json_object *o;
	int ret = ntfs_stat(vol, mft, &st);

	if (ret < 0)
		return ret;
	o = json_object_new_object();
	json_object_object_add(o, "mft", json_object_new_int64((int64_t)st.mft));
	json_object_object_add(o, "directory",
			       json_object_new_boolean(st.directory));
	json_object_object_add(o, "size",
			       json_object_new_int64((int64_t)st.size));
	json_object_object_add(o, "resident",
			       json_object_new_boolean(st.resident));
	json_object_object_add(o, "compressed",
			       json_object_new_boolean(st.compressed));
	json_object_object_add(o, "encrypted",
			       json_object_new_boolean(st.encrypted));
	json_object_object_add(o, "sparse", json_object_new_boolean(st.sparse));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return 0;
}

static _noreturn_ void usage(void)
{
	fprintf(stderr, "usage: ntfs-tool info IMG [OFFSET]\n"
			"       ntfs-tool ls|cat|stat|lookup IMG PATH "
			"[OFFSET]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct iw_view file, part;
	struct ntfs_vol *vol = NULL;
	const char *cmd, *path = NULL;
	uint64_t offset = 0, mft;
	struct stat sb;
	int fd, ret, argi;

	if (argc < 3)
		usage();
	cmd = argv[1];
	argi = 3;
	if (strcmp(cmd, "info") != 0) {
		if (argc < 4)
			usage();
		path = argv[3];
		argi = 4;
	}
	if (argc > argi + 1)
		usage();
	if (argc == argi + 1)
		offset = strtoull(argv[argi], NULL, 0);
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		perror(argv[2]);
		return 1;
	}
	iw_view_init_fd(&file, fd, (uint64_t)sb.st_size);
	if (iw_view_init_sub(&part, &file, offset,
			     (uint64_t)sb.st_size - offset) < 0) {
		fprintf(stderr, "offset past the end\n");
		return 1;
	}
	ret = ntfs_open(&part, &diag, &vol);
	if (ret < 0)
		goto out;
	if (strcmp(cmd, "info") == 0) {
		ret = cmd_info(vol);
		goto out;
	}
	ret = ntfs_lookup(vol, path, &mft);
	if (ret < 0)
		goto out;
	if (strcmp(cmd, "lookup") == 0) {
		printf("%" PRIu64 "\n", mft);
	} else if (strcmp(cmd, "ls") == 0) {
		ret = ntfs_list_dir(vol, mft, ls_cb, NULL);
	} else if (strcmp(cmd, "cat") == 0) {
		ret = cmd_cat(vol, mft);
	} else if (strcmp(cmd, "stat") == 0) {
		ret = cmd_stat(vol, mft);
	} else {
		ntfs_close(vol);
		usage();
	}
out:
	fflush(stdout);
	print_problems();
	if (ret < 0)
		fprintf(stderr, "ntfs-tool: %s: %s\n", cmd, strerror(-ret));
	ntfs_close(vol);
	close(fd);
	return ret < 0 ? 1 : 0;
}
