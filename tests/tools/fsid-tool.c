/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: filesystem identification (lib/scan/fsid.h) on a file, or
 * on the window [OFFSET, OFFSET+SIZE) of it (a partition), printing what
 * `blkid -p -o export` prints, unescaped, so the tests can compare:
 *
 *   fsid-tool [--json] IMG [OFFSET [SIZE]]
 *   fsid-tool --mbr-names       fsid_mbr_type_name() of 0..255, as
 *                               `sfdisk -T --label dos` lists them
 *
 *   TYPE=ntfs            blkid's TYPE (and VERSION, LABEL, UUID,
 *   UUID=1A2B...         SUBSYSTEM when set, in that order)
 *   FSSIZE=N             the filesystem's own size, when it says
 *   FSBLOCKSIZE=N        its block / cluster size, when it says
 *   INVALID=1            the signature's superblock is impossible
 *   PROBLEM=code: text   each problem recorded
 *
 * --json prints the same as one JSON object. Exit 0 when something was
 * identified, 1 when nothing was, 2 on a read error or bad usage. Never
 * installed.
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

#include "scan/fsid.h"
#include "view-fd.h"

static void kv(const char *k, const char *v)
{
	if (v[0])
		printf("%s=%s\n", k, v);
}

static void jv(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v[0] ? json_object_new_string(v) : NULL);
}

int main(int argc, char **argv)
{
	struct iw_view file, part;
	struct iw_diag d = { 0 };
	struct fsid fs;
	struct stat st;
	uint64_t off = 0, size;
	bool json = false;
	int fd, r;

	if (argc == 2 && strcmp(argv[1], "--mbr-names") == 0) {
		for (unsigned t = 0; t < 256; t++)
			if (fsid_mbr_type_name((uint8_t)t))
				printf("%2x  %s\n", t,
				       fsid_mbr_type_name((uint8_t)t));
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--json") == 0) {
		json = true;
		argv++;
		argc--;
	}
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: fsid-tool [--json] IMG [OFFSET [SIZE]]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 2;
	}
	iw_view_init_fd(&file, fd, (uint64_t)st.st_size);
	if (argc > 2)
		off = strtoull(argv[2], NULL, 0);
	size = off <= file.size ? file.size - off : 0;
	if (argc > 3)
		size = strtoull(argv[3], NULL, 0);
	if (iw_view_init_sub(&part, &file, off, size) < 0) {
		fprintf(stderr, "fsid-tool: window outside the file\n");
		return 2;
	}
	r = fsid_probe(&part, &fs, &d);
	if (json) {
		json_object *o = json_object_new_object(), *p;

		jv(o, "type", fs.type);
		jv(o, "version", fs.version);
		jv(o, "label", fs.label);
		jv(o, "uuid", fs.uuid);
		jv(o, "subsystem", fs.subsystem);
		json_object_object_add(o, "size",
				       json_object_new_int64((int64_t)fs.size));
		json_object_object_add(o, "block-size",
				       json_object_new_int64(fs.block_size));
		json_object_object_add(o, "invalid",
				       json_object_new_boolean(fs.invalid));
		p = json_object_new_array();
		for (size_t i = 0; i < d.n; i++) {
			json_object *e = json_object_new_object();

			json_object_object_add(
				e, "code",
				json_object_new_string(
					iw_diag_code_name(d.e[i].code)));
			json_object_object_add(
				e, "message",
				json_object_new_string(d.e[i].message));
			json_object_array_add(p, e);
		}
		json_object_object_add(o, "problems", p);
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		kv("TYPE", fs.type);
		kv("VERSION", fs.version);
		kv("LABEL", fs.label);
		kv("UUID", fs.uuid);
		kv("SUBSYSTEM", fs.subsystem);
		if (fs.size)
			printf("FSSIZE=%" PRIu64 "\n", fs.size);
		if (fs.block_size)
			printf("FSBLOCKSIZE=%" PRIu32 "\n", fs.block_size);
		if (fs.invalid)
			printf("INVALID=1\n");
		for (size_t i = 0; i < d.n; i++)
			printf("PROBLEM=%s: %s\n",
			       iw_diag_code_name(d.e[i].code), d.e[i].message);
	}
	close(fd);
	if (r == 0)
		return 0;
	return r == -ENOENT ? 1 : 2;
}
