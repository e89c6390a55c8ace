/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which virtio-win files suit a Windows guest, and the registry changes
 * that make its block drivers boot (virtio-win.h).
 *
 * The selection follows what virt-v2v does (libguestfs-common
 * mlcustomize/inject_virtio_win.ml: a file suits the guest when one
 * component of its path names the guest's architecture and one names its
 * OS), written for both layouts virtio-win ships: the ISO's
 * <driver>/<os>/<arch>/<file> and the RPM's drivers/by-os/<arch>/<os>/<file>.
 * Where virt-v2v takes only the exact OS directory, we also fall back,
 * per driver, to the newest older directory of the same line (Windows 11
 * takes w10's drivers when the tree has no w11, Server 2022 takes 2k19's):
 * virtio-win's own INF files declare those as compatible
 * (NTamd64.10.0...), and a missing exact directory is the common case
 * with an older ISO.
 */
#include "inject/virtio-win.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The real tree has about 5,000 files in paths of under 100 bytes; these
 * only stop a runaway listing. */
#define VW_MAX_PATHS 100000
#define VW_MAX_PATH 512
#define VW_MAX_COMPONENTS 16

/* OS directory names, newest first within each line. */
static const char *const server_dirs[] = { "2k25", "2k22", "2k19", "2k16",
					   "2k12r2", "2k12", "2k8r2", "2k8",
					   "2k3" };
static const char *const client_dirs[] = { "w11", "w10", "w8.1", "w8",
					   "w7", "vista", "xp" };

/* Where in its line the guest's own directory is: the index of the
 * first acceptable entry (older ones follow), or -1. Same NT major only:
 * a driver built for 6.x is not offered to 10.0, nor the reverse. */
static int os_start(const struct vw_guest *g, const char *const **ret_line,
		    size_t *ret_n, int *ret_last)
{
	const char *exact = NULL, *oldest = NULL;
	const char *const *line = g->server ? server_dirs : client_dirs;
	size_t n = g->server ? ARRAY_SIZE(server_dirs) : ARRAY_SIZE(client_dirs);
	int first = -1, last = -1;

	if (g->major == 10 && g->minor == 0) {
		if (g->server) {
			exact = g->build >= 26100   ? "2k25"
				: g->build >= 20348 ? "2k22"
				: g->build >= 17763 ? "2k19"
						    : "2k16";
			oldest = "2k16";
		} else {
			exact = g->build >= 22000 ? "w11" : "w10";
			oldest = "w10";
		}
	} else if (g->major == 6) {
		static const char *const srv[] = { "2k8", "2k8r2", "2k12",
						   "2k12r2" };
		static const char *const cli[] = { "vista", "w7", "w8", "w8.1" };

		if (g->minor < 0 || g->minor > 3)
			return -1;
		exact = g->server ? srv[g->minor] : cli[g->minor];
		oldest = g->server ? "2k8" : "vista";
	} else if (g->major == 5 && (g->minor == 1 || g->minor == 2)) {
		/* XP (5.1), XP x64 and Server 2003 (5.2) */
		exact = g->server ? "2k3" : "xp";
		oldest = exact;
	} else {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(line[i], exact) == 0)
			first = (int)i;
		if (strcmp(line[i], oldest) == 0)
			last = (int)i;
	}
	*ret_line = line;
	*ret_n = n;
	*ret_last = last;
	return first;
}

/* The tree's architecture directory names for the guest's arch. */
static bool arch_matches(const char *comp, const char *arch)
{
	if (strcmp(arch, "x86_64") == 0)
		return strcmp(comp, "amd64") == 0 || strcmp(comp, "x64") == 0;
	if (strcmp(arch, "i386") == 0)
		return strcmp(comp, "x86") == 0 || strcmp(comp, "i386") == 0;
	if (strcmp(arch, "aarch64") == 0)
		return strcmp(comp, "arm64") == 0 || strcmp(comp, "aarch64") == 0;
	return false;
}

static bool is_arch_name(const char *comp)
{
	static const char *const all[] = { "amd64", "x64", "x86", "i386",
					   "arm64", "aarch64" };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (strcmp(comp, all[i]) == 0)
			return true;
	return false;
}

/* What a driver package is made of; .pdb (debug symbols) and anything
 * else (readmes, licences, the guest tools' installers) stay out. */
static bool wanted_ext(const char *name)
{
	static const char *const exts[] = { ".sys", ".inf", ".cat", ".dll",
					    ".exe" };
	size_t len = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(exts); i++)
		if (len > 4 && strcmp(name + len - 4, exts[i]) == 0)
			return true;
	return false;
}

/* One candidate: a file of some driver for some OS directory, for the
 * guest's architecture. */
struct cand {
	size_t path;	/* index into paths */
	int os;		/* index into the guest's line */
	char driver[32];
	char name[128];
	char arch_dir[8];
	char os_dir[16];
};

static int parse(const char *path, const struct vw_guest *g,
		 const char *const *line, size_t n_line, struct cand *c)
{
	char buf[VW_MAX_PATH], orig[VW_MAX_PATH];
	char *comp[VW_MAX_COMPONENTS], *save = NULL, *p;
	size_t n = 0, len = strlen(path);
	int arch_at = -1, os_at = -1;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	/* a listing names files by relative paths without empty components;
	 * anything else ("a//b", "/a", "a/b.sys/") is not a file of the tree */
	if (path[0] == '/' || path[len - 1] == '/' || strstr(path, "//"))
		return -1;
	memcpy(orig, path, len + 1);
	for (size_t i = 0; i <= len; i++)
		buf[i] = (char)tolower((unsigned char)path[i]);
	for (p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (n == VW_MAX_COMPONENTS)
			return -1;
		comp[n++] = p;
	}
	if (n < 3)
		return -1;
	for (size_t i = 0; i + 1 < n; i++) {
		if (strcmp(comp[i], "sriov") == 0)
			return -1; /* SR-IOV virtual functions: not ours */
		if (is_arch_name(comp[i])) {
			if (!arch_matches(comp[i], g->arch))
				return -1;
			arch_at = (int)i;
		}
		for (size_t k = 0; k < n_line; k++)
			if (strcmp(comp[i], line[k]) == 0) {
				os_at = (int)i;
				c->os = (int)k;
			}
	}
	if (arch_at < 0 || os_at < 0 || !wanted_ext(comp[n - 1]) ||
	    strlen(comp[n - 1]) >= sizeof(c->name))
		return -1;
	/* the driver: the ISO's top directory; in the RPM's by-os layout
	 * there is none, and the file's stem names it */
	if (strcmp(comp[0], "drivers") == 0 || (int)0 == arch_at ||
	    (int)0 == os_at) {
		size_t stem = strcspn(comp[n - 1], ".");

		if (stem == 0 || stem >= sizeof(c->driver))
			return -1;
		memcpy(c->driver, comp[n - 1], stem);
		c->driver[stem] = '\0';
	} else {
		if (strlen(comp[0]) >= sizeof(c->driver))
			return -1;
		strcpy(c->driver, comp[0]);
	}
	strcpy(c->name, comp[n - 1]);
	/* the architecture and OS directories as the tree spells them */
	{
		size_t off = (size_t)(comp[arch_at] - buf);
		size_t alen = strlen(comp[arch_at]);
		size_t ooff = (size_t)(comp[os_at] - buf);
		size_t olen = strlen(comp[os_at]);

		if (alen >= sizeof(c->arch_dir) || olen >= sizeof(c->os_dir))
			return -1;
		memcpy(c->arch_dir, orig + off, alen);
		c->arch_dir[alen] = '\0';
		memcpy(c->os_dir, orig + ooff, olen);
		c->os_dir[olen] = '\0';
	}
	return 0;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int r = strcmp(x->driver, y->driver);

	if (r == 0)
		r = strcmp(x->name, y->name);
	return r;
}

void vw_selection_free(struct vw_selection *s)
{
	for (size_t i = 0; s->files && i < s->n_files; i++) {
		free(s->files[i].path);
		free(s->files[i].name);
		free(s->files[i].driver);
	}
	free(s->files);
	memset(s, 0, sizeof(*s));
}

bool vw_selection_has(const struct vw_selection *s, const char *driver,
		      const char *ext)
{
	for (size_t i = 0; i < s->n_files; i++) {
		const char *name = s->files[i].name;
		size_t dl = strlen(driver);

		if (strcmp(s->files[i].driver, driver) == 0 &&
		    strncmp(name, driver, dl) == 0 && name[dl] == '.' &&
		    strcmp(name + dl + 1, ext) == 0)
			return true;
	}
	return false;
}

int vw_select(const char *const *paths, size_t n, const struct vw_guest *g,
	      struct vw_selection *out)
{
	const char *const *line = NULL;
	size_t n_line = 0, n_c = 0;
	struct cand *c;
	int first, last, r = -ENOENT;

	memset(out, 0, sizeof(*out));
	if (!g->arch || n > VW_MAX_PATHS)
		return -EINVAL;
	first = os_start(g, &line, &n_line, &last);
	if (first < 0 || last < first)
		return -ENOENT;
	c = calloc(n ? n : 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct cand *x = &c[n_c];

		if (!paths[i] || parse(paths[i], g, line, n_line, x) < 0)
			continue;
		if (x->os < first || x->os > last)
			continue;
		x->path = i;
		n_c++;
	}
	qsort(c, n_c, sizeof(*c), cand_cmp);

	out->files = calloc(n_c ? n_c : 1, sizeof(*out->files));
	if (!out->files) {
		free(c);
		return -ENOMEM;
	}
	/* per driver: the best OS directory it has files in, then those
	 * files; a name already taken by an earlier driver is skipped (one
	 * flat directory in the guest) */
	for (size_t i = 0; i < n_c;) {
		size_t j = i;
		int best = INT32_MAX;

		while (j < n_c && strcmp(c[j].driver, c[i].driver) == 0) {
			if (c[j].os < best)
				best = c[j].os;
			j++;
		}
		for (size_t k = i; k < j; k++) {
			bool dup = false;

			if (c[k].os != best)
				continue;
			for (size_t m = 0; m < out->n_files; m++)
				if (strcmp(out->files[m].name, c[k].name) == 0)
					dup = true;
			if (dup)
				continue;
			out->files[out->n_files].path = strdup(paths[c[k].path]);
			out->files[out->n_files].name = strdup(c[k].name);
			out->files[out->n_files].driver = strdup(c[k].driver);
			out->n_files++;
			if (!out->files[out->n_files - 1].path ||
			    !out->files[out->n_files - 1].name ||
			    !out->files[out->n_files - 1].driver) {
				r = -ENOMEM;
				goto fail;
			}
			if (strcmp(c[k].driver, "viostor") == 0 ||
			    strcmp(c[k].driver, "vioscsi") == 0 ||
			    !out->os_dir[0]) {
				snprintf(out->os_dir, sizeof(out->os_dir), "%s",
					 c[k].os_dir);
				snprintf(out->arch_dir, sizeof(out->arch_dir),
					 "%s", c[k].arch_dir);
			}
		}
		i = j;
	}
	free(c);
	if (!vw_selection_has(out, "viostor", "sys") &&
	    !vw_selection_has(out, "vioscsi", "sys")) {
		vw_selection_free(out);
		return -ENOENT;
	}
	return 0;
fail:
	free(c);
	vw_selection_free(out);
	return r;
}

/* ---- the registry plan ---- */

/* Windows' class of SCSI and RAID controllers */
#define SCSI_ADAPTER_CLASS "{4D36E97B-E325-11CE-BFC1-08002BE10318}"

struct blockdrv {
	const char *name;
	const char *ids[2]; /* the legacy and the modern (virtio 1.0) device */
};

static const struct blockdrv blockdrvs[] = {
	{ "viostor",
	  { "VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00",
	    "VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01" } },
	{ "vioscsi",
	  { "VEN_1AF4&DEV_1004&SUBSYS_00081AF4&REV_00",
	    "VEN_1AF4&DEV_1048&SUBSYS_11001AF4&REV_01" } },
};

static int push(struct vw_reg_plan *p, size_t *cap, enum vw_hive hive,
		const char *key, const char *name, int type,
		const uint8_t *data, size_t len)
{
	struct vw_reg_op *op;

	if (p->n_ops == *cap) {
		size_t ncap = *cap ? 2 * *cap : 32;
		struct vw_reg_op *n = realloc(p->ops, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->ops = n;
		*cap = ncap;
	}
	op = &p->ops[p->n_ops];
	memset(op, 0, sizeof(*op));
	op->hive = hive;
	op->type = type;
	op->key = strdup(key);
	op->name = name ? strdup(name) : NULL;
	op->data = len ? malloc(len) : NULL;
	p->n_ops++;
	if (!op->key || (name && !op->name) || (len && !op->data))
		return -ENOMEM;
	if (len)
		memcpy(op->data, data, len);
	op->len = len;
	return 0;
}

static int push_str(struct vw_reg_plan *p, size_t *cap, const char *key,
		    const char *name, int type, const char *s)
{
	size_t n = strlen(s);
	/* MULTI_SZ: one string, then the list's own terminator */
	size_t len = 2 * (n + 1) + (type == VW_REG_MULTI_SZ ? 2 : 0);
	uint8_t *b = calloc(1, len);
	int r;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		b[2 * i] = (uint8_t)s[i]; /* ASCII only: names we chose */
	r = push(p, cap, VW_HIVE_SYSTEM, key, name, type, b, len);
	free(b);
	return r;
}

static int push_dword(struct vw_reg_plan *p, size_t *cap, const char *key,
		      const char *name, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	return push(p, cap, VW_HIVE_SYSTEM, key, name, VW_REG_DWORD, b, 4);
}

void vw_reg_plan_free(struct vw_reg_plan *p)
{
	for (size_t i = 0; p->ops && i < p->n_ops; i++) {
		free(p->ops[i].key);
		free(p->ops[i].name);
		free(p->ops[i].data);
	}
	free(p->ops);
	memset(p, 0, sizeof(*p));
}

#define TRY(x)                                                                 \
	do {                                                                   \
		if ((r = (x)) < 0)                                             \
			goto fail;                                             \
	} while (0)

int vw_registry_plan(const struct vw_selection *sel, const struct vw_guest *g,
		     const struct vw_reg_context *ctx, struct vw_reg_plan *out)
{
	const char *arch = strcmp(g->arch, "x86_64") == 0   ? "amd64"
			   : strcmp(g->arch, "aarch64") == 0 ? "arm64"
							     : "x86";
	size_t cap = 0;
	bool any = false;
	int r;

	memset(out, 0, sizeof(*out));
	if (!ctx->control_set || strlen(ctx->control_set) > 32)
		return -EINVAL;
	for (size_t d = 0; d < ARRAY_SIZE(blockdrvs); d++) {
		const struct blockdrv *b = &blockdrvs[d];
		char key[256], val[128], pkg[96];

		if (!vw_selection_has(sel, b->name, "sys"))
			continue;
		any = true;
		/* the boot-start service */
		snprintf(key, sizeof(key), "%s\\Services\\%s", ctx->control_set,
			 b->name);
		snprintf(val, sizeof(val), "system32\\drivers\\%s.sys", b->name);
		TRY(push_dword(out, &cap, key, "Type", 1));
		TRY(push_dword(out, &cap, key, "Start", 0));
		TRY(push_dword(out, &cap, key, "ErrorControl", 1));
		TRY(push_str(out, &cap, key, "Group", VW_REG_SZ, "SCSI miniport"));
		TRY(push_str(out, &cap, key, "ImagePath", VW_REG_EXPAND_SZ, val));

		if (!ctx->driver_database) {
			/* before Windows 8: the PCI ids straight to the
			 * service */
			for (size_t i = 0; i < 2; i++) {
				char id[96];

				snprintf(id, sizeof(id), "pci#%s", b->ids[i]);
				for (char *p = id; *p; p++)
					*p = (char)tolower((unsigned char)*p);
				snprintf(key, sizeof(key),
					 "%s\\Control\\CriticalDeviceDatabase\\%s",
					 ctx->control_set, id);
				TRY(push_str(out, &cap, key, "Service", VW_REG_SZ,
					     b->name));
				TRY(push_str(out, &cap, key, "ClassGUID", VW_REG_SZ,
					     SCSI_ADAPTER_CLASS));
			}
			continue;
		}
		/* Windows 8 and later: the driver store's database. The
		 * package name is the INF's, as the store would name it. */
		snprintf(pkg, sizeof(pkg), "%s.inf_%s_imgward", b->name, arch);
		snprintf(key, sizeof(key), "DriverDatabase\\DriverInfFiles\\%s.inf",
			 b->name);
		TRY(push_str(out, &cap, key, "", VW_REG_MULTI_SZ, pkg));
		TRY(push_str(out, &cap, key, "Active", VW_REG_SZ, pkg));
		for (size_t i = 0; i < 2; i++) {
			/* rank: 0xff00 "signed, exact hardware id" */
			static const uint8_t rank[4] = { 0x01, 0xff, 0x00, 0x00 };

			snprintf(key, sizeof(key), "DriverDatabase\\DeviceIds\\PCI\\%s",
				 b->ids[i]);
			snprintf(val, sizeof(val), "%s.inf", b->name);
			TRY(push(out, &cap, VW_HIVE_SYSTEM, key, val, VW_REG_BINARY,
				 rank, sizeof(rank)));
		}
		snprintf(key, sizeof(key), "DriverDatabase\\DriverPackages\\%s", pkg);
		snprintf(val, sizeof(val), "%s.inf", b->name);
		TRY(push_str(out, &cap, key, "", VW_REG_SZ, val));
		TRY(push_str(out, &cap, key, "Provider", VW_REG_SZ, "Red Hat, Inc."));
		snprintf(key, sizeof(key),
			 "DriverDatabase\\DriverPackages\\%s\\Configurations\\%s_inst",
			 pkg, b->name);
		TRY(push_str(out, &cap, key, "Service", VW_REG_SZ, b->name));
		TRY(push_dword(out, &cap, key, "ConfigScope", 7));
		for (size_t i = 0; i < 2; i++) {
			snprintf(key, sizeof(key),
				 "DriverDatabase\\DriverPackages\\%s\\Descriptors\\PCI\\%s",
				 pkg, b->ids[i]);
			snprintf(val, sizeof(val), "%s_inst", b->name);
			TRY(push_str(out, &cap, key, "Configuration", VW_REG_SZ, val));
		}
	}
	if (!any)
		return -ENOENT;
	return 0;
fail:
	vw_reg_plan_free(out);
	return r;
}
