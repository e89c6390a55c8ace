/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "job-limits.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const struct iw_limits *iw_limits_for(const char *helper)
{
	for (size_t i = 0; i < iw_default_limits_count; i++)
		if (strcmp(iw_default_limits[i].helper, helper) == 0)
			return &iw_default_limits[i];
	return NULL;
}

static int parse_size(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;
	unsigned shift = 0;

	if (strcmp(s, "unlimited") == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'K')
		shift = 10, end++;
	else if (*end == 'M')
		shift = 20, end++;
	else if (*end == 'G')
		shift = 30, end++;
	else if (*end == 'T')
		shift = 40, end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*ret = (uint64_t)v << shift;
	return 0;
}

/* the numeric limits by their names in policy/limits and --limit */
static const struct {
	const char *name;
	size_t offset;
} fields[] = {
	{ "address-space", offsetof(struct iw_limits, address_space) },
	{ "cpu-seconds", offsetof(struct iw_limits, cpu_seconds) },
	{ "deadline-seconds", offsetof(struct iw_limits, deadline_seconds) },
	{ "file-size", offsetof(struct iw_limits, file_size) },
	{ "open-files", offsetof(struct iw_limits, open_files) },
	{ "processes", offsetof(struct iw_limits, processes) },
	{ "core", offsetof(struct iw_limits, core) },
	{ "output-bytes", offsetof(struct iw_limits, output_bytes) },
};

static uint64_t *field(struct iw_limits *l, size_t i)
{
	return (uint64_t *)(void *)((char *)l + fields[i].offset);
}

json_object *iw_limits_to_json(const struct iw_limits *l)
{
	json_object *o = json_object_new_object();
	struct iw_limits copy = *l;

	for (size_t i = 0; o && i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t v = *field(&copy, i);
		json_object_object_add(o, fields[i].name,
				       v == UINT64_MAX
					       ? json_object_new_string("unlimited")
					       : json_object_new_int64((int64_t)v));
	}
	if (o)
		json_object_object_add(o, "namespaces",
				       json_object_new_string(l->namespaces));
	return o;
}

int iw_limits_set(struct iw_limits *l, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	uint64_t v;

	if (!eq || parse_size(eq + 1, &v) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strlen(fields[i].name) == (size_t)(eq - assignment) &&
		    strncmp(fields[i].name, assignment,
			    (size_t)(eq - assignment)) == 0) {
			/* a helper needs fds 0-4 at least; a zero deadline or
			 * output cap would fail every run */
			if ((fields[i].offset ==
				     offsetof(struct iw_limits, open_files) &&
			     v < 5) ||
			    (fields[i].offset ==
				     offsetof(struct iw_limits, deadline_seconds) &&
			     (v == 0 || v > 86400)) ||
			    (fields[i].offset ==
				     offsetof(struct iw_limits, output_bytes) &&
			     (v < 4096 || v > (256ULL << 20))))
				return -ERANGE;
			*field(l, i) = v;
			return 0;
		}
	}
	return -EINVAL;
}
