/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test tool: the registry hive reader (lib/scan/hive.h) on a hive file,
 * printing what hivex's tools print so the tests can compare byte for
 * byte:
 *
 *   hive-tool get HIVE PATH VALUE   one value as `hivexget HIVE PATH VALUE`
 *                                   (hivexsh lsval: strings and numbers
 *                                   as text, other types raw)
 *   hive-tool string HIVE PATH VALUE   hive_value_string() + "\n"
 *   hive-tool dword HIVE PATH VALUE    hive_value_dword() in decimal
 *   hive-tool ls HIVE PATH          the subkeys' names, in list order
 *   hive-tool export HIVE [PATH]    as `hivexregedit --export HIVE PATH`
 *   hive-tool dump HIVE [PATH]      JSON: every key under PATH with its
 *                                   values (strings, numbers, hex)
 *   hive-tool bench HIVE PATH VALUE N   N times: look PATH up from the
 *                                   root and read VALUE as a DWORD; prints
 *                                   the microseconds per lookup
 *
 * PATH is relative to the root ("" or "\\" is the root). Exit 0; 1 when
 * the key or value does not exist; 2 on a problem, each printed to
 * stderr as "hive-tool: problem CODE: MESSAGE". Never installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bytes.h"
#include "scan/hive.h"
#include "view-fd.h"

/* the export/dump walk visits at most this many keys (hive_walk checks
 * the tree first: no loop, no DAG blowing up) */
#define TOOL_MAX_KEYS 1000000
#define TOOL_MAX_VALUE (8u << 20)

static struct iw_diag diag;

static int problems(int r)
{
	for (size_t i = 0; i < diag.n; i++)
		fprintf(stderr, "hive-tool: problem %s: %s\n",
			iw_diag_code_name(diag.e[i].code), diag.e[i].message);
	if (r == -ENOENT && diag.n == 0) {
		fprintf(stderr, "hive-tool: not found\n");
		return 1;
	}
	if (diag.n == 0)
		fprintf(stderr, "hive-tool: error %s\n", strerror(-r));
	return 2;
}

/* ---- get: hivexsh's lsval output for one value ---- */

static int print_value(uint32_t type, const uint8_t *data, size_t len)
{
	char *s;

	switch (type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
	case HIVE_REG_LINK:
		s = malloc(len * 2 + 2);
		if (!s)
			return -ENOMEM;
		hive_sz_to_utf8(data, len, s, len * 2 + 2);
		printf("%s\n", s);
		free(s);
		return 0;
	case HIVE_REG_DWORD:
	case HIVE_REG_DWORD_BIG_ENDIAN:
		if (len != 4)
			break;
		printf("%" PRIi32 "\n",
		       (int32_t)(type == HIVE_REG_DWORD ? get_le32(data)
							: get_be32(data)));
		return 0;
	case HIVE_REG_QWORD:
		if (len != 8)
			break;
		printf("%" PRIi64 "\n", (int64_t)get_le64(data));
		return 0;
	case HIVE_REG_MULTI_SZ: {
		size_t i = 0;

		s = malloc(len * 2 + 2);
		if (!s)
			return -ENOMEM;
		/* strings up to the empty one (or the end) */
		while (i + 1 < len && (data[i] || data[i + 1])) {
			size_t j = i;

			while (j + 1 < len && (data[j] || data[j + 1]))
				j += 2;
			hive_sz_to_utf8(data + i, j - i, s, len * 2 + 2);
			printf("%s\n", s);
			i = j + 2;
		}
		printf("\n");
		free(s);
		return 0;
	}
	default:
		break;
	}
	fwrite(data, 1, len, stdout);
	return 0;
}

/* ---- export: hivexregedit --export ---- */

struct named {
	char *name;
	size_t index;
	hive_node node;
	uint32_t type;
	uint8_t *data;
	size_t len;
};

struct list {
	struct named *v;
	size_t n, cap;
};

static struct named *list_add(struct list *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct named *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].name = strdup(name);
	l->v[l->n].index = l->n;
	if (!l->v[l->n].name)
		return NULL;
	return &l->v[l->n++];
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].data);
	}
	free(l->v);
}

/* Perl's sort { $a cmp $b }: code point order (= UTF-8 bytes), stable */
static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int add_value(void *ud, const char *name, uint32_t type,
		     const void *data, size_t len)
{
	struct named *e = list_add(ud, name);

	if (!e)
		return -ENOMEM;
	e->type = type;
	e->len = len;
	e->data = malloc(len ? len : 1);
	if (!e->data)
		return -ENOMEM;
	memcpy(e->data, data, len);
	return 0;
}

static int add_subkey(void *ud, const char *name, hive_node child)
{
	struct named *e = list_add(ud, name);

	if (!e)
		return -ENOMEM;
	e->node = child;
	return 0;
}

static void print_quoted(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static int export_key(struct hive *h, hive_node key, const char *path)
{
	struct list values = { 0 }, subkeys = { 0 };
	int r;

	printf("[%s]\n", path);
	r = hive_values(h, key, TOOL_MAX_VALUE, add_value, &values);
	if (r < 0)
		goto out;
	if (values.n)
		qsort(values.v, values.n, sizeof(values.v[0]), named_cmp);
	for (size_t i = 0; i < values.n; i++) {
		const struct named *e = &values.v[i];

		if (e->name[0])
			print_quoted(e->name);
		else
			putchar('@');
		putchar('=');
		if (e->type == HIVE_REG_DWORD && e->len == 4) {
			printf("dword:%08" PRIx32 "\n", get_le32(e->data));
			continue;
		}
		printf("hex(%" PRIx32 "):", e->type);
		for (size_t j = 0; j < e->len; j++)
			printf(j ? ",%02x" : "%02x", e->data[j]);
		putchar('\n');
	}
	putchar('\n');
	r = hive_subkeys(h, key, add_subkey, &subkeys);
	if (r < 0)
		goto out;
	if (subkeys.n)
		qsort(subkeys.v, subkeys.n, sizeof(subkeys.v[0]), named_cmp);
	for (size_t i = 0; i < subkeys.n; i++) {
		char *sub;

		if (asprintf(&sub, "%s%s%s", path, strcmp(path, "\\") ? "\\" : "",
			     subkeys.v[i].name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		r = export_key(h, subkeys.v[i].node, sub);
		free(sub);
		if (r < 0)
			goto out;
	}
out:
	list_free(&values);
	list_free(&subkeys);
	return r;
}

static int count_key(void *ud, const char *name, hive_node node,
		     unsigned depth)
{
	(*(size_t *)ud)++;
	return 0;
}

/* ---- dump: JSON ---- */

struct dump {
	struct hive *h;
	const char *top; /* PATH as given */
	json_object *keys;
	/* the path of each depth's key, to name the keys */
	char *path[513];
};

static int dump_value(void *ud, const char *name, uint32_t type,
		      const void *data, size_t len)
{
	json_object *v = json_object_new_object(), *j;
	const uint8_t *b = data;

	json_object_object_add(v, "name", json_object_new_string(name));
	json_object_object_add(v, "type", json_object_new_int64(type));
	json_object_object_add(v, "size", json_object_new_int64((int64_t)len));
	if ((type == HIVE_REG_SZ || type == HIVE_REG_EXPAND_SZ)) {
		char *s = malloc(len * 2 + 2);

		if (!s)
			return -ENOMEM;
		hive_sz_to_utf8(data, len, s, len * 2 + 2);
		j = json_object_new_string(s);
		free(s);
	} else if ((type == HIVE_REG_DWORD) && len == 4) {
		j = json_object_new_int64(get_le32(b));
	} else if (type == HIVE_REG_QWORD && len == 8) {
		j = json_object_new_int64((int64_t)get_le64(b));
	} else {
		char *hex = malloc(len * 2 + 1);

		if (!hex)
			return -ENOMEM;
		for (size_t i = 0; i < len; i++)
			sprintf(hex + 2 * i, "%02x", b[i]);
		hex[2 * len] = '\0';
		j = json_object_new_string(hex);
		free(hex);
	}
	json_object_object_add(v, "data", j);
	json_object_array_add(ud, v);
	return 0;
}

static int dump_key(void *ud, const char *name, hive_node node,
		    unsigned depth)
{
	struct dump *dm = ud;
	json_object *k = json_object_new_object(), *values;
	char *p;

	if (depth >= 512)
		return -E2BIG;
	if (depth == 0)
		p = asprintf(&p, "\\%s", dm->top + (dm->top[0] == '\\')) < 0
			    ? NULL : p;
	else if (asprintf(&p, "%s%s%s", dm->path[depth - 1],
			  depth > 1 ? "\\" : "", name) < 0)
		p = NULL;
	if (!p)
		return -ENOMEM;
	free(dm->path[depth]);
	dm->path[depth] = p;
	json_object_object_add(k, "path", json_object_new_string(p));
	values = json_object_new_array();
	json_object_object_add(k, "values", values);
	json_object_array_add(dm->keys, k);
	return hive_values(dm->h, node, TOOL_MAX_VALUE, dump_value, values);
}

int main(int argc, char **argv)
{
	struct hive *h = NULL;
	hive_node key = 0;
	struct iw_view v;
	struct stat st;
	const char *cmd, *path;
	int fd, r;

	if (argc < 3)
		goto usage;
	cmd = argv[1];
	path = argc > 3 ? argv[3] : "";
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[2]);
		return 2;
	}
	iw_view_init_fd(&v, fd, (uint64_t)st.st_size);
	r = hive_open(&v, &diag, &h);
	if (r < 0)
		return problems(r);
	r = hive_lookup(h, hive_root(h), path, &key);
	if (r < 0)
		goto fail;

	if (strcmp(cmd, "get") == 0 && argc == 5) {
		uint32_t type;
		void *data;
		size_t len;

		r = hive_value(h, key, argv[4], TOOL_MAX_VALUE, &type, &data,
			       &len);
		if (r < 0)
			goto fail;
		r = print_value(type, data, len);
		free(data);
	} else if (strcmp(cmd, "bench") == 0 && argc == 6) {
		long n = strtol(argv[5], NULL, 10);
		struct timespec t0, t1;
		uint32_t d;

		/* a benchmark reads the same pages again and again */
		v.own_budget = UINT64_MAX;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long i = 0; r == 0 && i < n; i++) {
			r = hive_lookup(h, hive_root(h), path, &key);
			if (r == 0)
				r = hive_value_dword(h, key, argv[4], &d);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (r == 0 && n > 0)
			printf("%.1f\n", ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
					  (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
						 (double)n);
	} else if (strcmp(cmd, "string") == 0 && argc == 5) {
		char s[256];

		r = hive_value_string(h, key, argv[4], s, sizeof(s));
		if (r == 0)
			printf("%s\n", s);
	} else if (strcmp(cmd, "dword") == 0 && argc == 5) {
		uint32_t d;

		r = hive_value_dword(h, key, argv[4], &d);
		if (r == 0)
			printf("%" PRIu32 "\n", d);
	} else if (strcmp(cmd, "ls") == 0 && argc == 4) {
		struct list l = { 0 };

		r = hive_subkeys(h, key, add_subkey, &l);
		for (size_t i = 0; r == 0 && i < l.n; i++)
			printf("%s\n", l.v[i].name);
		list_free(&l);
	} else if (strcmp(cmd, "export") == 0 && argc <= 4) {
		size_t n = 0;
		char *p;

		r = hive_walk(h, key, TOOL_MAX_KEYS, count_key, &n);
		if (r < 0)
			goto fail;
		/* the key's canonical path, as hivex prints it */
		if (asprintf(&p, "\\%s", path + (path[0] == '\\')) < 0)
			return 2;
		printf("Windows Registry Editor Version 5.00\n\n");
		r = export_key(h, key, p);
		free(p);
	} else if (strcmp(cmd, "dump") == 0 && argc <= 4) {
		struct dump *dm = calloc(1, sizeof(*dm));

		if (!dm)
			return 2;
		dm->h = h;
		dm->top = path;
		dm->keys = json_object_new_array();
		r = hive_walk(h, key, TOOL_MAX_KEYS, dump_key, dm);
		if (r == 0) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "dirty",
					       json_object_new_boolean(hive_dirty(h)));
			json_object_object_add(o, "keys", dm->keys);
			printf("%s\n", json_object_to_json_string_ext(
					       o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		} else {
			json_object_put(dm->keys);
		}
		for (size_t i = 0; i < 513; i++)
			free(dm->path[i]);
		free(dm);
	} else {
		hive_close(h);
		goto usage;
	}
fail:
	hive_close(h);
	if (fflush(stdout) != 0)
		return 2;
	return r < 0 ? problems(r) : 0;

usage:
	fprintf(stderr, "usage: hive-tool get|string|dword HIVE PATH VALUE\n"
			"       hive-tool ls HIVE PATH\n"
			"       hive-tool export|dump HIVE [PATH]\n"
			"       hive-tool bench HIVE PATH VALUE N\n");
	return 64;
}
