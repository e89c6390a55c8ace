/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IW_BROKER_JOB_LIMITS_H
#define IW_BROKER_JOB_LIMITS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Per-helper resource limits (policy/limits/<helper>.conf). */
struct iw_limits {
	const char *helper;
	uint64_t address_space;	   /* RLIMIT_AS, bytes */
	uint64_t cpu_seconds;	   /* RLIMIT_CPU */
	uint64_t deadline_seconds; /* wall clock, enforced by the broker */
	uint64_t file_size;	   /* RLIMIT_FSIZE, bytes */
	uint64_t open_files;	   /* RLIMIT_NOFILE */
	uint64_t processes;	   /* RLIMIT_NPROC */
	uint64_t core;		   /* RLIMIT_CORE */
	uint64_t output_bytes;	   /* JSON accepted from the helper */
	const char *namespaces;	   /* "mount,pid,ipc,uts,cgroup,net" */
};

extern const struct iw_limits iw_default_limits[];
extern const size_t iw_default_limits_count;

/* Defaults for helper (NULL if none). */
const struct iw_limits *iw_limits_for(const char *helper);
/* l as {"address-space": ..., ..., "namespaces": "..."} (NULL: ENOMEM) */
json_object *iw_limits_to_json(const struct iw_limits *l);
/* Apply "name=value" (sizes with K/M/G) to l. 0 or -EINVAL. */
int iw_limits_set(struct iw_limits *l, const char *assignment);

#endif
