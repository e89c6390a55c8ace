/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the MBR and GPT parsers (part.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../bytes.h"
#include "part.h"

void part_guid_to_string(const uint8_t *g, char *out)
{
	/* UEFI 2.10 appendix A: the first three fields are little-endian,
	 * the last eight bytes are stored in display order. */
	snprintf(out, PART_GUID_STRING_MAX,
		 "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		 get_le32(g), get_le16(g + 4), get_le16(g + 6), g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
}

static const struct {
	const char *guid;
	const char *name;
} gpt_types[] = {
	{ "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System" },
	{ "21686148-6449-6E6F-744E-656564454649", "BIOS boot" },
	{ "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data" },
	{ "E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved" },
	{ "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows recovery" },
	{ "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3", "Microsoft LDM metadata" },
	{ "AF9B60A0-1431-4F62-BC68-3311714A69AD", "Microsoft LDM data" },
	{ "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem" },
	{ "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap" },
	{ "E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM" },
	{ "A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID" },
	{ "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)" },
	{ "BC13C2FF-59E6-4262-A352-B275FD6F7172", "Linux extended boot" },
	{ "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux home" },
};

const char *part_gpt_type_name(const uint8_t *type_guid)
{
	char s[PART_GUID_STRING_MAX];

	part_guid_to_string(type_guid, s);
	for (size_t i = 0; i < ARRAY_SIZE(gpt_types); i++)
		if (strcmp(s, gpt_types[i].guid) == 0)
			return gpt_types[i].name;
	return NULL;
}

int part_parse(const struct iw_view *v, struct part_table *t,
	       struct iw_report *r)
{
	int ret = gpt_parse(v, t, r);

	if (ret != -ENOENT)
		return ret;
	return mbr_parse(v, t, r);
}

bool part_disk_has_iso9660(const struct iw_view *v)
{
	uint8_t id[5];

	return iw_view_read(v, id, sizeof(id), 32768 + 1) == 0 &&
	       memcmp(id, "CD001", sizeof(id)) == 0;
}

/* A hostile table can overlap every pair: a few examples tell the story. */
#define PART_MAX_OVERLAP_FINDINGS 8

static bool part_overlap_relevant(const struct part_table *t,
				  const struct part_entry *a,
				  const struct part_entry *b)
{
	if (a->size == 0 || b->size == 0)
		return false;
	if (t->isohybrid && (a->start == 0 || b->start == 0))
		return false;
	if (t->scheme == PART_SCHEME_MBR) {
		/* A hybrid MBR's 0xEE entry covers the GPT on purpose, and the
		 * hybrid entries mirror GPT partitions inside it. */
		if (a->mbr_type == 0xee || b->mbr_type == 0xee)
			return false;
		/* logical partitions live inside their container */
		if ((a->extended && b->logical) || (b->extended && a->logical))
			return false;
	}
	return true;
}

void part_check_overlaps(const struct part_table *t, struct iw_report *r)
{
	unsigned n_found = 0;

	for (size_t i = 0; i < t->n_entries; i++) {
		const struct part_entry *a = &t->entries[i];

		for (size_t j = i + 1; j < t->n_entries; j++) {
			const struct part_entry *b = &t->entries[j];

			if (!part_overlap_relevant(t, a, b))
				continue;
			/* sizes were range-checked by the parsers: start+size
			 * cannot wrap */
			if (a->start >= b->start + b->size ||
			    b->start >= a->start + a->size)
				continue;
			if (n_found++ >= PART_MAX_OVERLAP_FINDINGS)
				return;
			iw_finding(r, IW_F_TABLE_OVERLAP,
				   "partitions %u and %u overlap", a->index,
				   b->index);
		}
	}
}

void part_report_entries(const struct part_table *t, struct iw_report *r)
{
	json_object *fs = iw_report_fs(r), *arr;

	if (!fs)
		return;
	arr = json_object_new_array();
	if (!arr)
		return;
	for (size_t i = 0; i < t->n_entries; i++) {
		const struct part_entry *e = &t->entries[i];
		json_object *o = json_object_new_object();
		char buf[PART_GUID_STRING_MAX];

		if (!o)
			break;
		json_object_object_add(o, "index",
				       json_object_new_int64(e->index));
		json_object_object_add(o, "start",
				       json_object_new_int64((int64_t)e->start));
		json_object_object_add(o, "size",
				       json_object_new_int64((int64_t)e->size));
		if (t->scheme == PART_SCHEME_MBR) {
			snprintf(buf, sizeof(buf), "0x%02x", e->mbr_type);
			json_object_object_add(o, "type",
					       json_object_new_string(buf));
			json_object_object_add(
				o, "bootable",
				json_object_new_boolean(e->bootable));
			json_object_object_add(
				o, "logical",
				json_object_new_boolean(e->logical));
		} else {
			const char *tn = part_gpt_type_name(e->type_guid);
			_cleanup_free_ char *name = NULL;

			part_guid_to_string(e->type_guid, buf);
			json_object_object_add(o, "type",
					       json_object_new_string(buf));
			if (tn)
				json_object_object_add(
					o, "type-name",
					json_object_new_string(tn));
			part_guid_to_string(e->guid, buf);
			json_object_object_add(o, "guid",
					       json_object_new_string(buf));
			snprintf(buf, sizeof(buf), "0x%016llx",
				 (unsigned long long)e->attributes);
			json_object_object_add(o, "attributes",
					       json_object_new_string(buf));
			name = iw_sanitize(e->name, strlen(e->name), NULL);
			if (name)
				json_object_object_add(
					o, "name", json_object_new_string(name));
		}
		if (json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			break;
		}
	}
	json_object_object_add(fs, "partitions", arr);
}
