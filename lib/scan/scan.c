/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iw_scan: partitions -> filesystems -> NTFS -> Windows -> JSON.
 *
 * The order and the choices follow libguestfs inspection
 * (daemon/inspect.ml): every partition is looked at, MBR extended
 * containers and GPT-protective 0xEE entries are not volumes, and the
 * Windows installation reported is the first volume holding a system
 * root, preferring one whose SOFTWARE hive could be read (a recovery
 * partition may hold a \Windows without it).
 */
#include "scan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/part.h"
#include "../report.h"
#include "diag.h"
#include "fsid.h"
#include "ntfs.h"
#include "windows.h"

/* GPT attribute bits (UEFI 2.10 table 5.8; bits 60-63 as Microsoft
 * defines them for basic data partitions and the Discoverable
 * Partitions Specification for Linux ones: reported for every type, as
 * sgdisk and blkid do). */
#define GPT_ATTR_REQUIRED (UINT64_C(1) << 0)
#define GPT_ATTR_LEGACY_BIOS_BOOTABLE (UINT64_C(1) << 2)
#define GPT_ATTR_READ_ONLY (UINT64_C(1) << 60)
#define GPT_ATTR_HIDDEN (UINT64_C(1) << 62)
#define GPT_ATTR_NO_AUTOMOUNT (UINT64_C(1) << 63)
/* MBR types that are not volumes: extended containers (DOS, Windows
 * LBA, Linux) and the GPT protective entry. */
#define MBR_TYPE_GPT_PROTECTIVE 0xee

/* A budget this low means the scan stopped for it (the smallest read a
 * parser makes is a sector or two). */
#define SCAN_BUDGET_SPENT 4096

struct scan {
	const struct iw_view *disk;
	bool oom;
	bool hibernated;
	bool budget_hit;
	struct iw_diag disk_diag;
	/* the Windows installation reported, and where */
	bool have_windows;
	bool windows_has_software;
	unsigned windows_partition;
	struct win_info windows;
};

/* ---- JSON helpers: allocation failures set s->oom, checked once ---- */

static json_object *j_new(struct scan *s, json_object *o)
{
	if (!o)
		s->oom = true;
	return o;
}

static void j_add(struct scan *s, json_object *obj, const char *key,
		  json_object *val)
{
	if (!obj)
		return;
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		s->oom = true;
	}
}

static void j_push(struct scan *s, json_object *arr, json_object *val)
{
	if (!arr || !val) {
		json_object_put(val);
		if (!val)
			s->oom = true;
		return;
	}
	if (json_object_array_add(arr, val) < 0) {
		json_object_put(val);
		s->oom = true;
	}
}

/* A string from the guest: sanitised, or JSON null when empty. */
static json_object *j_guest_str(struct scan *s, const char *str)
{
	_cleanup_free_ char *clean = NULL;

	if (!str || !*str)
		return NULL;
	clean = iw_sanitize(str, strlen(str), NULL);
	if (!clean) {
		s->oom = true;
		return NULL;
	}
	return j_new(s, json_object_new_string(clean));
}

/* A string of our own making (hex, GUIDs, names from our tables). */
static json_object *j_str(struct scan *s, const char *str)
{
	if (!str)
		return NULL;
	return j_new(s, json_object_new_string(str));
}

static json_object *j_problems(struct scan *s, const struct iw_diag *d)
{
	json_object *arr = j_new(s, json_object_new_array());

	for (size_t i = 0; arr && i < d->n; i++) {
		const char *code = iw_diag_code_name(d->e[i].code);
		json_object *p;

		if (!code)
			continue;
		if (d->e[i].code == SCAN_E_READ_BUDGET)
			s->budget_hit = true;
		p = j_new(s, json_object_new_object());
		j_add(s, p, "code", j_str(s, code));
		j_add(s, p, "message", j_guest_str(s, d->e[i].message));
		j_push(s, arr, p);
	}
	return arr;
}

/* A failure a module returned without saying why in d. */
static void note_failure(struct scan *s, struct iw_diag *d, size_t before,
			 int ret, const char *what)
{
	if (ret == -E2BIG)
		s->budget_hit = true;
	if (d->n + d->dropped == before)
		(void)iw_diag_fail(d, ret, SCAN_E_IO, "%s: %s", what,
				   strerror(-ret));
}

/* ---- NTFS and Windows ---------------------------------------------- */

static bool win_has_software(const struct win_info *w)
{
	return w->product_name[0] || w->build[0] || w->major >= 0;
}

static json_object *scan_ntfs(struct scan *s, const struct iw_view *part,
			      unsigned index, struct iw_diag *d)
{
	struct ntfs_vol *vol = NULL;
	const struct ntfs_info *info;
	struct win_info *w;
	json_object *o;
	char buf[32];
	size_t before = d->n + d->dropped;
	int ret;

	ret = ntfs_open(part, d, &vol);
	if (ret < 0) {
		note_failure(s, d, before, ret, "cannot open the NTFS volume");
		return NULL;
	}
	info = ntfs_get_info(vol);
	w = calloc(1, sizeof(*w));
	if (!w) {
		ntfs_close(vol);
		(void)iw_diag_fail(d, -ENOMEM, SCAN_E_NO_MEMORY,
				   "no memory for the Windows inspection");
		return NULL;
	}
	before = d->n + d->dropped;
	ret = win_inspect(vol, w, d);
	if (ret < 0) {
		note_failure(s, d, before, ret, "Windows inspection failed");
		memset(w, 0, sizeof(*w));
	}

	o = j_new(s, json_object_new_object());
	if (info->have_volume_info) {
		snprintf(buf, sizeof(buf), "%u.%u", info->major, info->minor);
		j_add(s, o, "version", j_str(s, buf));
		j_add(s, o, "label", j_guest_str(s, info->label));
		j_add(s, o, "dirty", j_new(s, json_object_new_boolean(info->dirty)));
	} else {
		j_add(s, o, "version", NULL);
		j_add(s, o, "label", NULL);
		j_add(s, o, "dirty", NULL);
	}
	snprintf(buf, sizeof(buf), "%016" PRIX64, info->serial);
	j_add(s, o, "serial", j_str(s, buf));
	j_add(s, o, "cluster-size",
	      j_new(s, json_object_new_int64(info->cluster_size)));
	j_add(s, o, "mft-record-size",
	      j_new(s, json_object_new_int64(info->mft_record_size)));
	j_add(s, o, "hiberfil",
	      j_new(s, json_object_new_boolean(w->hibernation.hiberfil)));
	j_add(s, o, "hibernated",
	      j_new(s, json_object_new_boolean(w->hibernation.hibernated)));
	if (w->hibernation.hibernated)
		s->hibernated = true;

	/* the first system root, unless a later one has a readable
	 * SOFTWARE hive and the first had not */
	if (w->found && w->systemroot[0] &&
	    (!s->have_windows ||
			 (!s->windows_has_software && win_has_software(w)))) {
		s->have_windows = true;
		s->windows_has_software = win_has_software(w);
		s->windows_partition = index;
		s->windows = *w;
	}
	free(w);
	ntfs_close(vol);
	return o;
}

static json_object *j_windows(struct scan *s)
{
	static const char *const names[WIN_N_VIRTIO] = WIN_VIRTIO_DRIVERS;
	const struct win_info *w = &s->windows;
	json_object *o, *drivers;
	bool installed = false;

	o = j_new(s, json_object_new_object());
	j_add(s, o, "product-name", j_guest_str(s, w->product_name));
	j_add(s, o, "major",
	      w->major >= 0 ? j_new(s, json_object_new_int(w->major)) : NULL);
	j_add(s, o, "minor",
	      w->minor >= 0 ? j_new(s, json_object_new_int(w->minor)) : NULL);
	j_add(s, o, "build", j_guest_str(s, w->build));
	j_add(s, o, "current-version", j_guest_str(s, w->current_version));
	j_add(s, o, "edition", j_guest_str(s, w->edition));
	j_add(s, o, "installation-type", j_guest_str(s, w->installation_type));
	j_add(s, o, "arch", j_guest_str(s, w->arch));
	j_add(s, o, "hostname", j_guest_str(s, w->hostname));
	j_add(s, o, "systemroot", j_guest_str(s, w->systemroot));
	j_add(s, o, "partition",
	      j_new(s, json_object_new_int((int)s->windows_partition)));
	/* ControlSet001..999: anything else read from a hostile hive is
	 * unknown, not a value to pass on */
	j_add(s, o, "control-set",
	      w->control_set >= 1 && w->control_set <= 999
		      ? j_new(s, json_object_new_int((int)w->control_set))
		      : NULL);
	drivers = j_new(s, json_object_new_object());
	for (size_t i = 0; i < WIN_N_VIRTIO; i++) {
		/* by our table's names, whatever the module wrote */
		const struct win_driver *dr = &w->drivers[i];
		json_object *d = j_new(s, json_object_new_object());

		j_add(s, d, "service",
		      j_new(s, json_object_new_boolean(dr->service)));
		j_add(s, d, "start",
		      dr->start >= 0 && dr->start <= UINT32_MAX
			      ? j_new(s, json_object_new_int64(dr->start))
			      : NULL);
		j_add(s, d, "file", j_new(s, json_object_new_boolean(dr->file)));
		j_add(s, drivers, names[i], d);
		if ((strcmp(names[i], "viostor") == 0 ||
		     strcmp(names[i], "vioscsi") == 0) &&
		    dr->service && dr->file)
			installed = true;
	}
	j_add(s, o, "virtio-drivers", drivers);
	j_add(s, o, "virtio-installed",
	      j_new(s, json_object_new_boolean(installed)));
	return o;
}

/* ---- one volume: a partition, or the whole disk (pe == NULL) -------- */

static bool known_filesystem(const char *type)
{
	static const char *const names[] = IW_SCAN_FILESYSTEMS;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(type, names[i]) == 0)
			return true;
	return false;
}

static void j_flags(struct scan *s, json_object *arr,
		    const struct part_table *t, const struct part_entry *pe)
{
	if (!pe)
		return;
	if (t->scheme == PART_SCHEME_MBR) {
		if (pe->bootable)
			j_push(s, arr, j_str(s, "bootable"));
		if (pe->logical)
			j_push(s, arr, j_str(s, "logical"));
		return;
	}
	if (pe->attributes & GPT_ATTR_REQUIRED)
		j_push(s, arr, j_str(s, "required"));
	if (pe->attributes & GPT_ATTR_LEGACY_BIOS_BOOTABLE)
		j_push(s, arr, j_str(s, "legacy-bios-bootable"));
	if (pe->attributes & GPT_ATTR_READ_ONLY)
		j_push(s, arr, j_str(s, "read-only"));
	if (pe->attributes & GPT_ATTR_HIDDEN)
		j_push(s, arr, j_str(s, "hidden"));
	if (pe->attributes & GPT_ATTR_NO_AUTOMOUNT)
		j_push(s, arr, j_str(s, "no-automount"));
}

static json_object *scan_volume(struct scan *s, const struct part_table *t,
				const struct part_entry *pe)
{
	struct iw_diag d = { 0 };
	struct iw_view part;
	struct fsid fs;
	json_object *o, *flags, *ntfs = NULL;
	unsigned index = pe ? pe->index : 0;
	uint64_t start = pe ? pe->start : 0;
	uint64_t size = pe ? pe->size : s->disk->size;
	bool have_fs = false;
	char buf[PART_GUID_STRING_MAX];
	int ret;

	o = j_new(s, json_object_new_object());
	j_add(s, o, "index", j_new(s, json_object_new_int((int)index)));
	j_add(s, o, "start", j_new(s, json_object_new_int64((int64_t)start)));
	j_add(s, o, "size", j_new(s, json_object_new_int64((int64_t)size)));
	if (pe && t->scheme == PART_SCHEME_GPT) {
		part_guid_to_string(pe->type_guid, buf);
		j_add(s, o, "type", j_str(s, buf));
		j_add(s, o, "type-name",
		      j_str(s, part_gpt_type_name(pe->type_guid)));
		j_add(s, o, "name", j_guest_str(s, pe->name));
		part_guid_to_string(pe->guid, buf);
		j_add(s, o, "guid", j_str(s, buf));
	} else if (pe) {
		snprintf(buf, sizeof(buf), "0x%02x", pe->mbr_type);
		j_add(s, o, "type", j_str(s, buf));
		j_add(s, o, "type-name",
		      j_str(s, fsid_mbr_type_name(pe->mbr_type)));
		j_add(s, o, "name", NULL);
		j_add(s, o, "guid", NULL);
	} else {
		j_add(s, o, "type", NULL);
		j_add(s, o, "type-name", NULL);
		j_add(s, o, "name", NULL);
		j_add(s, o, "guid", NULL);
	}
	flags = j_new(s, json_object_new_array());
	j_flags(s, flags, t, pe);
	j_add(s, o, "flags", flags);

	/* a partition running past the disk's end is scanned as far as
	 * the disk goes (the sniffer reports the table itself) */
	if (start >= s->disk->size) {
		(void)iw_diag_fail(&d, -ERANGE, SCAN_E_PART_TABLE,
				   "partition %u starts past the end of the "
				   "disk",
				   index);
		size = 0;
	} else if (size > s->disk->size - start) {
		(void)iw_diag_fail(&d, -ERANGE, SCAN_E_PART_TABLE,
				   "partition %u ends past the end of the "
				   "disk: scanned up to it",
				   index);
		size = s->disk->size - start;
	}
	memset(&fs, 0, sizeof(fs));
	if (size > 0 && iw_view_init_sub(&part, s->disk, start, size) == 0) {
		size_t before = d.n + d.dropped;

		ret = fsid_probe(&part, &fs, &d);
		/* only names the broker knows (scan.h): anything else would
		 * make it refuse the whole answer */
		if (ret == 0)
			have_fs = fs.type[0] != '\0' && known_filesystem(fs.type);
		else if (ret != -ENOENT)
			note_failure(s, &d, before, ret,
				     "cannot identify the filesystem");
		if (have_fs && strcmp(fs.type, "ntfs") == 0 && !fs.invalid)
			ntfs = scan_ntfs(s, &part, index, &d);
	}
	j_add(s, o, "filesystem", have_fs ? j_guest_str(s, fs.type) : NULL);
	j_add(s, o, "filesystem-version",
	      have_fs ? j_guest_str(s, fs.version) : NULL);
	j_add(s, o, "label", have_fs ? j_guest_str(s, fs.label) : NULL);
	j_add(s, o, "uuid", have_fs ? j_guest_str(s, fs.uuid) : NULL);
	j_add(s, o, "ntfs", ntfs);
	j_add(s, o, "problems", j_problems(s, &d));
	return o;
}

/* ---- the disk ------------------------------------------------------ */

static json_object *j_table(struct scan *s, const struct part_table *t)
{
	json_object *o = j_new(s, json_object_new_object());
	char buf[PART_GUID_STRING_MAX];

	if (t->scheme == PART_SCHEME_GPT) {
		j_add(s, o, "type", j_str(s, "gpt"));
		part_guid_to_string(t->gpt.disk_guid, buf);
		j_add(s, o, "disk-guid", j_str(s, buf));
		j_add(s, o, "hybrid-mbr", j_new(s, json_object_new_boolean(
						   t->hybrid)));
		j_add(s, o, "backup-gpt-used",
		      j_new(s, json_object_new_boolean(t->gpt_used_backup)));
	} else {
		j_add(s, o, "type", j_str(s, "mbr"));
		snprintf(buf, sizeof(buf), "0x%08" PRIx32, t->disk_signature);
		j_add(s, o, "disk-signature", j_str(s, buf));
		j_add(s, o, "hybrid-mbr", j_new(s, json_object_new_boolean(false)));
		j_add(s, o, "backup-gpt-used",
		      j_new(s, json_object_new_boolean(false)));
	}
	return o;
}

/* The partition parser's findings about the table, as disk problems:
 * the sniffer judges them (an image with a broken table can still be
 * safe to open); the scan says what it read anyway. */
static void table_problems(struct scan *s, const struct iw_report *r,
			   const struct part_table *t)
{
	size_t n = r->findings ? json_object_array_length(r->findings) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *fi = json_object_array_get_idx(r->findings, i);
		json_object *c, *dt;
		int code;

		if (!json_object_object_get_ex(fi, "code", &c) ||
		    !json_object_object_get_ex(fi, "detail", &dt))
			continue;
		code = iw_code_from_name(json_object_get_string(c));
		if (code < 0 || iw_code_class((enum iw_code)code) == IW_CLASS_INFO)
			continue;
		(void)iw_diag_fail(&s->disk_diag, -EINVAL, SCAN_E_PART_TABLE,
				   "%s: %s", json_object_get_string(c),
				   json_object_get_string(dt));
	}
	if (t->incomplete)
		(void)iw_diag_fail(&s->disk_diag, -E2BIG, SCAN_E_PART_TABLE,
				   "more than %d partitions: only the first "
				   "are listed",
				   PART_MAX_ENTRIES);
}

int iw_scan(const struct iw_view *disk, json_object **ret)
{
	_cleanup_free_ struct part_table *t = NULL;
	_cleanup_free_ struct scan *s = NULL;
	struct iw_report r;
	json_object *out, *parts;
	bool have_table = false;
	int pret;

	s = calloc(1, sizeof(*s));
	t = calloc(1, sizeof(*t));
	if (!s || !t)
		return -ENOMEM;
	s->disk = disk;
	/* the whole scan's work is bounded by one budget (scan.h) */
	if (*disk->budget > IW_SCAN_READ_BUDGET)
		*disk->budget = IW_SCAN_READ_BUDGET;

	out = json_object_new_object();
	parts = json_object_new_array();
	if (!out || !parts || iw_report_init(&r) < 0) {
		json_object_put(out);
		json_object_put(parts);
		return -ENOMEM;
	}

	pret = part_parse(disk, t, &r);
	if (pret == 0) {
		have_table = true;
		table_problems(s, &r, t);
	} else if (pret != -ENOENT) {
		if (pret == -E2BIG)
			s->budget_hit = true;
		(void)iw_diag_fail(&s->disk_diag, pret == -ENOMEM ? -ENOMEM : pret,
				   pret == -ENOMEM ? SCAN_E_NO_MEMORY : SCAN_E_IO,
				   "cannot read the partition table: %s",
				   strerror(-pret));
	}
	iw_report_done(&r);

	if (have_table) {
		j_add(s, out, "partition-table", j_table(s, t));
		for (size_t i = 0; i < t->n_entries && i < PART_MAX_ENTRIES; i++) {
			const struct part_entry *pe = &t->entries[i];

			/* containers, not volumes (libguestfs skips them
			 * too): the logical partitions are listed on
			 * their own */
			if (pe->extended ||
			    (t->scheme == PART_SCHEME_MBR &&
			     pe->mbr_type == MBR_TYPE_GPT_PROTECTIVE))
				continue;
			j_push(s, parts, scan_volume(s, t, pe));
		}
	} else {
		j_add(s, out, "partition-table", NULL);
		/* a filesystem on the whole disk: one entry, index 0, when
		 * something is recognised */
		if (pret == -ENOENT) {
			json_object *whole = scan_volume(s, t, NULL);
			json_object *fs = NULL;

			if (whole && json_object_object_get_ex(whole, "filesystem",
							       &fs) &&
			    fs)
				j_push(s, parts, whole);
			else if (whole && json_object_object_get_ex(
						  whole, "problems", &fs) &&
				 json_object_array_length(fs) > 0)
				j_push(s, parts, whole);
			else
				json_object_put(whole);
		}
	}
	j_add(s, out, "partitions", parts);
	j_add(s, out, "windows", s->have_windows ? j_windows(s) : NULL);
	j_add(s, out, "hibernated",
	      j_new(s, json_object_new_boolean(s->hibernated)));

	if (s->budget_hit || *disk->budget < SCAN_BUDGET_SPENT)
		(void)iw_diag_fail(&s->disk_diag, -E2BIG, SCAN_E_READ_BUDGET,
				   "the scan read its budget of %llu bytes "
				   "and stopped: the results are partial",
				   (unsigned long long)IW_SCAN_READ_BUDGET);
	j_add(s, out, "problems", j_problems(s, &s->disk_diag));
	if (s->oom) {
		json_object_put(out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}
