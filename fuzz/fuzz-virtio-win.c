/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: lib/inject/virtio-win.c. The first 8 bytes are the
 * guest (major, minor, build, server, arch: the facts imgward-inject gets
 * from the scan of an untrusted image), the rest a newline-separated
 * listing of a virtio-win tree. vw_select() then vw_registry_plan() on
 * its answer; checked: every chosen file is one of the listed paths, its
 * name is that path's lower-cased basename, no name is chosen twice, a
 * success has a block driver, and every registry value is well formed
 * (strings UTF-16LE NUL-terminated, DWORDs 4 bytes).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inject/virtio-win.h"

#define MAX_INPUT (256 << 10)
#define MAX_PATHS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const arches[] = { "x86_64", "i386", "aarch64", "ppc64" };

static void check_plan(const struct vw_reg_plan *p)
{
	for (size_t i = 0; i < p->n_ops; i++) {
		const struct vw_reg_op *op = &p->ops[i];

		if (!op->key || !op->key[0])
			abort();
		if (op->type == VW_REG_DWORD && op->len != 4)
			abort();
		if ((op->type == VW_REG_SZ || op->type == VW_REG_EXPAND_SZ ||
		     op->type == VW_REG_MULTI_SZ) &&
		    (op->len < 2 || op->len % 2 || op->data[op->len - 1] ||
		     op->data[op->len - 2]))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *paths[MAX_PATHS];
	struct vw_guest g;
	struct vw_selection s;
	struct vw_reg_plan p;
	struct vw_reg_context ctx = { "ControlSet001", false };
	char *text;
	size_t n = 0;
	int r;

	if (size < 8 || size > MAX_INPUT)
		return 0;
	g.major = data[0] % 12;
	g.minor = data[1] % 5;
	g.build = (unsigned)data[2] << 8 | data[3];
	g.build *= 2; /* reaches 22000, 26100 */
	g.server = data[4] & 1;
	g.arch = arches[data[5] % 4];
	ctx.driver_database = data[6] & 1;
	text = malloc(size - 8 + 1);
	if (!text)
		return 0;
	memcpy(text, data + 8, size - 8);
	text[size - 8] = '\0';
	for (char *line = text, *nl; line && n < MAX_PATHS; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		paths[n++] = line;
	}
	r = vw_select((const char *const *)paths, n, &g, &s);
	if (r != 0 && r != -ENOENT && r != -ENOMEM)
		abort();
	if (r == 0) {
		if (!vw_selection_has(&s, "viostor", "sys") &&
		    !vw_selection_has(&s, "vioscsi", "sys"))
			abort();
		for (size_t i = 0; i < s.n_files; i++) {
			const char *base;
			bool listed = false;

			for (size_t k = 0; k < n; k++)
				if (strcmp(paths[k], s.files[i].path) == 0)
					listed = true;
			if (!listed)
				abort();
			base = strrchr(s.files[i].path, '/');
			if (!base || strcasecmp(base + 1, s.files[i].name) != 0)
				abort();
			for (size_t k = 0; k < i; k++)
				if (strcmp(s.files[k].name, s.files[i].name) == 0)
					abort();
		}
		r = vw_registry_plan(&s, &g, &ctx, &p);
		if (r != 0 && r != -ENOMEM)
			abort();
		if (r == 0) {
			check_plan(&p);
			vw_reg_plan_free(&p);
		}
		vw_selection_free(&s);
	}
	free(text);
	return 0;
}
