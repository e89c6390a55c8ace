/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: the Windows inspection (win_inspect) on a raw disk or
 * volume, with no sandbox, no broker and no other scanner module in the
 * way: `win-inspect IMG [PARTITION_OFFSET]`.
 *
 * Without an offset, the partitions part_parse() finds (or the whole
 * file when it has no partition table) are each tried with ntfs_open;
 * with one, only the volume at that byte offset (to the end of the
 * file). Prints one JSON line:
 *
 *   {"windows": {<the "windows" object of imgward scan>} | null,
 *    "hibernated": bool,
 *    "volumes": [{"index", "start", "hiberfil", "hibernated",
 *                 "hiberfil-signature", "found", "problems": [...]}]}
 *
 * "windows" is the first volume with a system root (a later one wins
 * when only it has a readable SOFTWARE hive), as iw_scan chooses. Never
 * install this.
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

#include "formats/part.h"
#include "report.h"
#include "scan/diag.h"
#include "scan/ntfs.h"
#include "scan/windows.h"
#include "view-fd.h"

static json_object *guest_str(const char *s)
{
	char *clean;
	json_object *o;

	if (!s || !*s)
		return NULL;
	clean = iw_sanitize(s, strlen(s), NULL);
	if (!clean)
		abort();
	o = json_object_new_string(clean);
	free(clean);
	return o;
}

static json_object *problems(const struct iw_diag *d)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->n; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "code",
				       json_object_new_string(
					       iw_diag_code_name(d->e[i].code)));
		json_object_object_add(p, "message",
				       guest_str(d->e[i].message));
		json_object_array_add(arr, p);
	}
	return arr;
}

static json_object *windows_json(const struct win_info *w, unsigned index)
{
	json_object *o = json_object_new_object(), *drivers;
	bool installed = false;

	json_object_object_add(o, "product-name", guest_str(w->product_name));
	json_object_object_add(o, "major", w->major >= 0 ?
				       json_object_new_int(w->major) : NULL);
	json_object_object_add(o, "minor", w->minor >= 0 ?
				       json_object_new_int(w->minor) : NULL);
	json_object_object_add(o, "build", guest_str(w->build));
	json_object_object_add(o, "current-version",
			       guest_str(w->current_version));
	json_object_object_add(o, "edition", guest_str(w->edition));
	json_object_object_add(o, "installation-type",
			       guest_str(w->installation_type));
	json_object_object_add(o, "arch", guest_str(w->arch));
	json_object_object_add(o, "hostname", guest_str(w->hostname));
	json_object_object_add(o, "systemroot", guest_str(w->systemroot));
	json_object_object_add(o, "partition", json_object_new_int((int)index));
	json_object_object_add(o, "control-set", w->control_set ?
				       json_object_new_int((int)w->control_set) :
				       NULL);
	drivers = json_object_new_object();
	for (size_t i = 0; i < WIN_N_VIRTIO; i++) {
		const struct win_driver *dr = &w->drivers[i];
		json_object *d = json_object_new_object();

		json_object_object_add(d, "service",
				       json_object_new_boolean(dr->service));
		json_object_object_add(d, "start", dr->start >= 0 ?
					       json_object_new_int64(dr->start) :
					       NULL);
		json_object_object_add(d, "file",
				       json_object_new_boolean(dr->file));
		json_object_object_add(drivers, dr->name, d);
		if ((strcmp(dr->name, "viostor") == 0 ||
		     strcmp(dr->name, "vioscsi") == 0) &&
		    dr->service && dr->file)
			installed = true;
	}
	json_object_object_add(o, "virtio-drivers", drivers);
	json_object_object_add(o, "virtio-installed",
			       json_object_new_boolean(installed));
	return o;
}

struct state {
	json_object *volumes;
	bool hibernated;
	bool have_windows, windows_has_software;
	unsigned windows_index;
	struct win_info windows;
};

static void inspect_volume(struct state *s, const struct iw_view *disk,
			   unsigned index, uint64_t start, uint64_t size)
{
	struct iw_diag d = { 0 };
	struct iw_view part;
	struct ntfs_vol *vol = NULL;
	struct win_info *w;
	json_object *o;
	int ret;

	if (iw_view_init_sub(&part, disk, start, size) < 0)
		return;
	if (ntfs_open(&part, &d, &vol) < 0)
		return; /* not NTFS (or broken): not ours to report */
	w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	ret = win_inspect(vol, w, &d);
	o = json_object_new_object();
	json_object_object_add(o, "index", json_object_new_int((int)index));
	json_object_object_add(o, "start",
			       json_object_new_int64((int64_t)start));
	json_object_object_add(o, "return", json_object_new_int(ret));
	json_object_object_add(o, "found", json_object_new_boolean(w->found));
	json_object_object_add(o, "hiberfil",
			       json_object_new_boolean(w->hibernation.hiberfil));
	json_object_object_add(o, "hibernated",
			       json_object_new_boolean(w->hibernation.hibernated));
	json_object_object_add(o, "hiberfil-signature",
			       guest_str(w->hibernation.signature));
	json_object_object_add(o, "problems", problems(&d));
	json_object_array_add(s->volumes, o);
	if (w->hibernation.hibernated)
		s->hibernated = true;
	if (w->found) {
		bool has_sw = w->product_name[0] || w->build[0] || w->major >= 0;

		if (!s->have_windows || (!s->windows_has_software && has_sw)) {
			s->have_windows = true;
			s->windows_has_software = has_sw;
			s->windows_index = index;
			s->windows = *w;
		}
	}
	free(w);
	ntfs_close(vol);
}

int main(int argc, char **argv)
{
	struct state s = { 0 };
	struct iw_view disk;
	struct iw_report r;
	struct part_table *t;
	struct stat st;
	json_object *out;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s IMAGE [PARTITION_OFFSET]\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 2;
	}
	iw_view_init_fd(&disk, fd, (uint64_t)st.st_size);
	disk.own_budget = 1ULL << 30;
	s.volumes = json_object_new_array();

	if (argc == 3) {
		uint64_t off = strtoull(argv[2], NULL, 0);

		if (off >= (uint64_t)st.st_size) {
			fprintf(stderr, "offset past the end of the file\n");
			return 2;
		}
		inspect_volume(&s, &disk, 0, off, (uint64_t)st.st_size - off);
	} else {
		t = calloc(1, sizeof(*t));
		if (!t || iw_report_init(&r) < 0)
			abort();
		if (part_parse(&disk, t, &r) == 0) {
			for (size_t i = 0; i < t->n_entries; i++) {
				const struct part_entry *pe = &t->entries[i];

				if (pe->extended || (t->scheme == PART_SCHEME_MBR &&
						     pe->mbr_type == 0xee))
					continue;
				inspect_volume(&s, &disk, pe->index, pe->start,
					       pe->size);
			}
		} else {
			inspect_volume(&s, &disk, 0, 0, (uint64_t)st.st_size);
		}
		iw_report_done(&r);
		free(t);
	}

	out = json_object_new_object();
	json_object_object_add(out, "windows", s.have_windows ?
				       windows_json(&s.windows, s.windows_index) :
				       NULL);
	json_object_object_add(out, "hibernated",
			       json_object_new_boolean(s.hibernated));
	json_object_object_add(out, "volumes", s.volumes);
	printf("%s\n", json_object_to_json_string_ext(
			       out, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	close(fd);
	return 0;
}
