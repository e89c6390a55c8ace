/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/inject/virtio-win.c: the files chosen for each kind of guest in both
 * layouts (with the decoys left out), the fallbacks to older directories,
 * nothing for a guest virtio-win does not cover, and the registry plan's
 * exact keys, types and bytes before and from Windows 8.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject/virtio-win.h"
#include "tap.h"

#define MAX_TREE 4096

struct tree {
	char *p[MAX_TREE];
	size_t n;
};

static void add(struct tree *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct tree *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (t->n < MAX_TREE)
		t->p[t->n++] = strdup(buf);
}

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->p[i]);
	t->n = 0;
}

static const char *const drivers[][2] = {
	{ "viostor", "viostor" }, { "vioscsi", "vioscsi" },
	{ "NetKVM", "netkvm" },	  { "Balloon", "balloon" },
	{ "vioserial", "vioser" },
};

/* the ISO's layout (or the RPM's) for the given OS directories */
static void make_tree(struct tree *t, bool rpm, const char *const *oses,
		      size_t n_os)
{
	static const char *const arches[] = { "x86", "amd64", "ARM64" };
	static const char *const exts[] = { "sys", "inf", "cat", "pdb" };

	for (size_t d = 0; d < sizeof(drivers) / sizeof(drivers[0]); d++)
		for (size_t o = 0; o < n_os; o++)
			for (size_t a = 0; a < 3; a++)
				for (size_t e = 0; e < 4; e++) {
					if (rpm)
						add(t, "drivers/by-os/%s/%s/%s.%s",
						    arches[a], oses[o], drivers[d][1],
						    exts[e]);
					else
						add(t, "%s/%s/%s/%s.%s", drivers[d][0],
						    oses[o], arches[a], drivers[d][1],
						    exts[e]);
				}
	add(t, "NetKVM/sriov/2k19/amd64/vioprot.sys");
	add(t, "README.txt");
	add(t, "NetKVM/2k19/amd64/netkvmco.dll");
}

static const char *const all_os[] = { "xp",  "2k3",  "2k8",    "2k8R2",
				      "w7",  "w8",   "w8.1",   "2k12",
				      "2k12R2", "w10", "2k16", "2k19",
				      "w11", "2k22" };

static bool has_file(const struct vw_selection *s, const char *name,
		     const char *path_part)
{
	for (size_t i = 0; i < s->n_files; i++)
		if (strcmp(s->files[i].name, name) == 0 &&
		    (!path_part || strstr(s->files[i].path, path_part)))
			return true;
	return false;
}

static bool has_ext(const struct vw_selection *s, const char *ext)
{
	for (size_t i = 0; i < s->n_files; i++) {
		const char *dot = strrchr(s->files[i].name, '.');

		if (dot && strcmp(dot + 1, ext) == 0)
			return true;
	}
	return false;
}

static void check_guest(struct tree *t, const char *what, int major,
			int minor, unsigned build, bool server, const char *arch,
			const char *want_os, const char *want_arch)
{
	struct vw_guest g = { major, minor, build, server, arch };
	struct vw_selection s;
	char path[64];
	int r = vw_select((const char *const *)t->p, t->n, &g, &s);

	if (!is_int(r, 0, "%s: selected", what))
		return;
	is_str(s.os_dir, want_os, "%s: OS directory", what);
	is_str(s.arch_dir, want_arch, "%s: arch directory", what);
	snprintf(path, sizeof(path), "/%s/", want_os);
	ok(has_file(&s, "viostor.sys", NULL) && has_file(&s, "viostor.inf", NULL) &&
		   has_file(&s, "viostor.cat", NULL),
	   "%s: viostor .sys/.inf/.cat", what);
	ok(has_file(&s, "vioscsi.sys", NULL) && has_file(&s, "netkvm.sys", NULL) &&
		   has_file(&s, "balloon.inf", NULL),
	   "%s: vioscsi, netkvm, balloon too", what);
	ok(!has_ext(&s, "pdb"), "%s: no .pdb", what);
	ok(!has_file(&s, "vioprot.sys", NULL), "%s: nothing from sriov/", what);
	ok(!has_file(&s, "readme.txt", NULL), "%s: no README", what);
	ok(vw_selection_has(&s, "viostor", "sys") &&
		   !vw_selection_has(&s, "viostor", "pdb"),
	   "%s: vw_selection_has", what);
	vw_selection_free(&s);
}

static void expect_none(struct tree *t, const char *what, int major,
			int minor, unsigned build, bool server, const char *arch,
			int want)
{
	struct vw_guest g = { major, minor, build, server, arch };
	struct vw_selection s;

	is_int(vw_select((const char *const *)t->p, t->n, &g, &s), want,
	       "%s: nothing selected", what);
	ok(s.n_files == 0 && s.files == NULL, "%s: empty selection", what);
}

static void test_selection(void)
{
	struct tree t = { 0 };
	static const char *const only_w7[] = { "w7" };
	static const char *const no_new[] = { "w7", "w10", "2k16", "2k19" };

	for (int rpm = 0; rpm < 2; rpm++) {
		make_tree(&t, rpm, all_os, sizeof(all_os) / sizeof(all_os[0]));
		printf("# %s layout\n", rpm ? "RPM" : "ISO");
		check_guest(&t, "Server 2019", 10, 0, 17763, true, "x86_64", "2k19",
			    "amd64");
		check_guest(&t, "Server 2022", 10, 0, 20348, true, "x86_64", "2k22",
			    "amd64");
		check_guest(&t, "Server 2016", 10, 0, 14393, true, "x86_64", "2k16",
			    "amd64");
		check_guest(&t, "Windows 10", 10, 0, 19045, false, "x86_64", "w10",
			    "amd64");
		check_guest(&t, "Windows 11", 10, 0, 22631, false, "x86_64", "w11",
			    "amd64");
		check_guest(&t, "Windows 10 x86", 10, 0, 19045, false, "i386", "w10",
			    "x86");
		check_guest(&t, "Windows 11 arm64", 10, 0, 22631, false, "aarch64",
			    "w11", "ARM64");
		check_guest(&t, "Windows 7 x86", 6, 1, 7601, false, "i386", "w7",
			    "x86");
		check_guest(&t, "Server 2008 R2", 6, 1, 7601, true, "x86_64",
			    "2k8R2", "amd64");
		check_guest(&t, "Server 2012 R2", 6, 3, 9600, true, "x86_64",
			    "2k12R2", "amd64");
		check_guest(&t, "Windows 8.1", 6, 3, 9600, false, "x86_64", "w8.1",
			    "amd64");
		check_guest(&t, "Windows XP", 5, 1, 2600, false, "i386", "xp", "x86");
		expect_none(&t, "NT 4.0", 4, 0, 1381, false, "i386", -ENOENT);
		expect_none(&t, "Windows 12?", 11, 0, 30000, false, "x86_64", -ENOENT);
		expect_none(&t, "a mips guest", 10, 0, 19045, false, "mips", -ENOENT);
		expect_none(&t, "no arch", 10, 0, 19045, false, NULL, -EINVAL);
		tree_free(&t);
	}
	{
		struct vw_selection s;
		struct vw_guest g = { 10, 0, 19045, false, "x86_64" };

		make_tree(&t, false, all_os, sizeof(all_os) / sizeof(all_os[0]));
		is_int(vw_select((const char *const *)t.p, t.n, &g, &s), 0,
		       "ISO: Windows 10 selected");
		ok(has_file(&s, "netkvmco.dll", "NetKVM/2k19") == false,
		   "netkvmco.dll of 2k19 is not a Windows 10 file");
		is_str(s.files[0].driver, "balloon",
		       "files sorted by driver, drivers lower-cased");
		vw_selection_free(&s);
		g = (struct vw_guest){ 10, 0, 17763, true, "x86_64" };
		is_int(vw_select((const char *const *)t.p, t.n, &g, &s), 0,
		       "ISO: Server 2019 selected");
		ok(has_file(&s, "netkvmco.dll", "NetKVM/2k19/amd64"),
		   "NetKVM's co-installer (.dll) is copied");
		vw_selection_free(&s);
		tree_free(&t);
	}

	/* fallbacks: the newest older directory of the same line */
	make_tree(&t, false, no_new, 4);
	check_guest(&t, "Windows 11 on a tree without w11", 10, 0, 22631, false,
		    "x86_64", "w10", "amd64");
	check_guest(&t, "Server 2022 on a tree without 2k22", 10, 0, 20348, true,
		    "x86_64", "2k19", "amd64");
	check_guest(&t, "Server 2025 on a tree without 2k25/2k22", 10, 0, 26100,
		    true, "x86_64", "2k19", "amd64");
	expect_none(&t, "Server 2012 R2 (6.3) never takes 10.0's drivers", 6, 3,
		    9600, true, "x86_64", -ENOENT);
	check_guest(&t, "Server 2016 keeps 2k16 next to a newer 2k19", 10, 0,
		    14393, true, "x86_64", "2k16", "amd64");
	tree_free(&t);

	make_tree(&t, false, only_w7, 1);
	expect_none(&t, "Server 2019 on a Windows 7-only tree", 10, 0, 17763,
		    true, "x86_64", -ENOENT);
	expect_none(&t, "Windows 10 on a Windows 7-only tree", 10, 0, 19045,
		    false, "x86_64", -ENOENT);
	tree_free(&t);

	/* no block driver: netkvm alone is not enough */
	add(&t, "NetKVM/2k19/amd64/netkvm.sys");
	add(&t, "NetKVM/2k19/amd64/netkvm.inf");
	expect_none(&t, "a tree with netkvm only", 10, 0, 17763, true, "x86_64",
		    -ENOENT);
	tree_free(&t);

	/* one flat directory in the guest: a name two drivers share is
	 * copied once; an absurd path is ignored */
	{
		struct vw_selection s;
		struct vw_guest g = { 10, 0, 17763, true, "x86_64" };
		char longp[600];
		size_t n = 0;

		add(&t, "viostor/2k19/amd64/viostor.sys");
		add(&t, "viostor/2k19/amd64/WdfCoInstaller01011.dll");
		add(&t, "vioscsi/2k19/amd64/vioscsi.sys");
		add(&t, "vioscsi/2k19/amd64/WdfCoInstaller01011.dll");
		memset(longp, 'a', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		memcpy(longp, "viostor/2k19/amd64/", 19);
		add(&t, "%s.sys", longp);
		/* not a listed file: empty components */
		add(&t, "viostor/2k19/amd64/viostor.inf/");
		add(&t, "/viostor/2k19/amd64/viostor.cat");
		add(&t, "viostor//2k19/amd64/viostor.pdb");
		is_int(vw_select((const char *const *)t.p, t.n, &g, &s), 0,
		       "shared file names: selected");
		for (size_t i = 0; i < s.n_files; i++)
			if (strcmp(s.files[i].name, "wdfcoinstaller01011.dll") == 0)
				n++;
		is_int(n, 1, "a name two drivers share is copied once");
		is_int(s.n_files, 3,
		       "the overlong path and paths with empty components are ignored");
		vw_selection_free(&s);
		tree_free(&t);
	}
}

/* ---- the registry plan ---- */

static const struct vw_reg_op *find_op(const struct vw_reg_plan *p,
				       const char *key, const char *name)
{
	for (size_t i = 0; i < p->n_ops; i++)
		if (strcmp(p->ops[i].key, key) == 0 && p->ops[i].name &&
		    strcmp(p->ops[i].name, name) == 0)
			return &p->ops[i];
	return NULL;
}

/* an ASCII string from a UTF-16LE value, checking the terminator(s) */
static bool utf16_is(const struct vw_reg_op *op, const char *want, bool multi)
{
	size_t n = strlen(want);

	if (!op || op->len != 2 * (n + 1) + (multi ? 2 : 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if (op->data[2 * i] != (uint8_t)want[i] || op->data[2 * i + 1])
			return false;
	for (size_t i = 2 * n; i < op->len; i++)
		if (op->data[i])
			return false;
	return true;
}

static bool dword_is(const struct vw_reg_op *op, uint32_t v)
{
	return op && op->type == VW_REG_DWORD && op->len == 4 &&
	       op->data[0] == (uint8_t)v && op->data[1] == (uint8_t)(v >> 8) &&
	       op->data[2] == (uint8_t)(v >> 16) && op->data[3] == (uint8_t)(v >> 24);
}

static void test_plan(void)
{
	struct tree t = { 0 };
	struct vw_selection s;
	struct vw_reg_plan p;
	struct vw_guest g = { 6, 1, 7601, false, "x86_64" };
	struct vw_reg_context ctx = { "ControlSet002", false };
	const struct vw_reg_op *op;
	const char *cdd = "ControlSet002\\Control\\CriticalDeviceDatabase\\"
			  "pci#ven_1af4&dev_1001&subsys_00021af4&rev_00";

	make_tree(&t, false, all_os, sizeof(all_os) / sizeof(all_os[0]));
	is_int(vw_select((const char *const *)t.p, t.n, &g, &s), 0,
	       "plan: Windows 7 selection");
	is_int(vw_registry_plan(&s, &g, &ctx, &p), 0, "plan: before Windows 8");
	op = find_op(&p, "ControlSet002\\Services\\viostor", "Start");
	ok(dword_is(op, 0), "Services\\viostor Start = 0 (boot), in the control set given");
	ok(dword_is(find_op(&p, "ControlSet002\\Services\\viostor", "Type"), 1),
	   "Type = 1 (kernel driver)");
	ok(dword_is(find_op(&p, "ControlSet002\\Services\\viostor", "ErrorControl"), 1),
	   "ErrorControl = 1");
	op = find_op(&p, "ControlSet002\\Services\\viostor", "ImagePath");
	ok(op && op->type == VW_REG_EXPAND_SZ &&
		   utf16_is(op, "system32\\drivers\\viostor.sys", false),
	   "ImagePath (REG_EXPAND_SZ, UTF-16LE, NUL-terminated)");
	op = find_op(&p, "ControlSet002\\Services\\vioscsi", "Group");
	ok(op && op->type == VW_REG_SZ && utf16_is(op, "SCSI miniport", false),
	   "vioscsi's Group is SCSI miniport");
	op = find_op(&p, cdd, "Service");
	ok(utf16_is(op, "viostor", false), "CriticalDeviceDatabase: virtio-blk -> viostor");
	ok(utf16_is(find_op(&p, cdd, "ClassGUID"),
		    "{4D36E97B-E325-11CE-BFC1-08002BE10318}", false),
	   "CriticalDeviceDatabase: the SCSI adapter class");
	ok(find_op(&p, "ControlSet002\\Control\\CriticalDeviceDatabase\\"
		       "pci#ven_1af4&dev_1048&subsys_11001af4&rev_01",
		   "Service") != NULL,
	   "CriticalDeviceDatabase: the modern virtio-scsi id too");
	for (size_t i = 0; i < p.n_ops; i++)
		if (strncmp(p.ops[i].key, "DriverDatabase", 14) == 0 ||
		    p.ops[i].hive != VW_HIVE_SYSTEM) {
			ok(0, "before Windows 8: no DriverDatabase, SYSTEM only");
			break;
		}
	vw_reg_plan_free(&p);
	vw_selection_free(&s);

	g = (struct vw_guest){ 10, 0, 17763, true, "x86_64" };
	ctx = (struct vw_reg_context){ "ControlSet001", true };
	is_int(vw_select((const char *const *)t.p, t.n, &g, &s), 0,
	       "plan: Server 2019 selection");
	is_int(vw_registry_plan(&s, &g, &ctx, &p), 0, "plan: Windows 8 and later");
	op = find_op(&p, "DriverDatabase\\DriverInfFiles\\viostor.inf", "");
	ok(op && op->type == VW_REG_MULTI_SZ &&
		   utf16_is(op, "viostor.inf_amd64_imgward", true),
	   "DriverInfFiles: the package (REG_MULTI_SZ, double NUL)");
	op = find_op(&p, "DriverDatabase\\DeviceIds\\PCI\\"
			 "VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01",
		     "viostor.inf");
	ok(op && op->type == VW_REG_BINARY && op->len == 4,
	   "DeviceIds: the modern virtio-blk id names viostor.inf");
	ok(utf16_is(find_op(&p, "DriverDatabase\\DriverPackages\\viostor.inf_amd64_"
				"imgward\\Configurations\\viostor_inst",
			    "Service"),
		    "viostor", false),
	   "DriverPackages: the configuration installs the viostor service");
	ok(find_op(&p, "ControlSet001\\Control\\CriticalDeviceDatabase\\"
		       "pci#ven_1af4&dev_1001&subsys_00021af4&rev_00",
		   "Service") == NULL,
	   "Windows 8 and later: no CriticalDeviceDatabase");
	ok(dword_is(find_op(&p, "ControlSet001\\Services\\vioscsi", "Start"), 0),
	   "the services in both cases");
	vw_reg_plan_free(&p);
	vw_selection_free(&s);
	tree_free(&t);

	/* no block driver in the selection: nothing to plan */
	{
		char path[] = "NetKVM/2k19/amd64/netkvm.sys", name[] = "netkvm.sys",
		     drv[] = "netkvm";
		struct vw_file f = { path, name, drv };
		struct vw_selection only = { .files = &f, .n_files = 1 };

		is_int(vw_registry_plan(&only, &g, &ctx, &p), -ENOENT,
		       "plan: netkvm alone gives -ENOENT");
	}
	ctx.control_set = NULL;
	is_int(vw_registry_plan(&s, &g, &ctx, &p), -EINVAL,
	       "plan: no control set is -EINVAL");
}

int main(void)
{
	test_selection();
	test_plan();
	return tap_done();
}
