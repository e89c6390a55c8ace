/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-win: which driver files of a virtio-win tree (the directory or
 * ISO Red Hat/Fedora ship) suit a Windows guest, and which registry
 * changes make the block drivers load at boot. Pure: the caller lists the
 * tree (imgward-inject, inside its sandbox) and applies the changes (in
 * the libguestfs appliance); this file only decides.
 *
 * The tree is the administrator's (VIRTIO_WIN), not the image's, but the
 * guest facts come from the untrusted image: every string is bounded and
 * nothing here trusts a version number to index anything.
 */
#ifndef IW_INJECT_VIRTIO_WIN_H
#define IW_INJECT_VIRTIO_WIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the scanner found (lib/scan/windows.h names). */
struct vw_guest {
	int major, minor;  /* NT version: 10.0, 6.3, 6.1, ...; -1 unknown */
	unsigned build;	   /* CurrentBuild, 0 unknown: 22000+ is Windows 11
			    * (client), 17763 Server 2019, 20348 Server 2022 */
	bool server;	   /* InstallationType "Server" or "Server Core" */
	const char *arch;  /* "x86_64", "i386" or "aarch64" */
};

/* One file to copy into the guest's Windows\Drivers\VirtIO. */
struct vw_file {
	char *path;   /* relative to the tree's root, '/'-separated, as listed */
	char *name;   /* its basename, lower-cased: the name in the guest */
	char *driver; /* the driver it belongs to, lower-case: "viostor" */
};

struct vw_selection {
	struct vw_file *files;
	size_t n_files;
	char os_dir[16];   /* the OS directory that matched: "2k19", "w10" */
	char arch_dir[8];  /* "amd64", "x86", "ARM64" as spelt in the tree */
};

/*
 * Choose the files for guest g among paths[0..n) (every regular file of
 * the tree, relative). Both layouts are understood: the ISO's
 * <driver>/<os>/<arch>/<file> and the RPM's
 * drivers/by-os/<arch>/<os>/<file> (and by-driver). Files of the best
 * OS directory for the guest are taken per driver (the newest directory
 * not newer than the guest); .pdb files and the sriov drivers are skipped.
 * Returns 0, -ENOENT when nothing suits the guest (no block driver for
 * its version and architecture), -EINVAL for an impossible guest,
 * -ENOMEM.
 */
int vw_select(const char *const *paths, size_t n, const struct vw_guest *g,
	      struct vw_selection *out);
void vw_selection_free(struct vw_selection *s);
/* Is there a file "<driver>.<ext>" for driver in the selection? */
bool vw_selection_has(const struct vw_selection *s, const char *driver,
		      const char *ext);

/* hivex's / Windows' value type numbers */
enum {
	VW_REG_SZ = 1,
	VW_REG_EXPAND_SZ = 2,
	VW_REG_BINARY = 3,
	VW_REG_DWORD = 4,
	VW_REG_MULTI_SZ = 7,
};

enum vw_hive { VW_HIVE_SYSTEM, VW_HIVE_SOFTWARE };

/* Set one value (creating every missing key on the way), or only make
 * sure a key exists (name == NULL). */
struct vw_reg_op {
	enum vw_hive hive;
	char *key;     /* from the hive's root, '\\'-separated:
			* "ControlSet001\\Services\\viostor" */
	char *name;    /* value name, "" for the default value, NULL: key only */
	int type;      /* VW_REG_* */
	uint8_t *data; /* as Windows stores it: UTF-16LE NUL-terminated
			* strings, little-endian DWORDs */
	size_t len;
};

struct vw_reg_plan {
	struct vw_reg_op *ops;
	size_t n_ops;
};

struct vw_reg_context {
	const char *control_set; /* "ControlSet001": Select\Current's */
	bool driver_database;	 /* SYSTEM has DriverDatabase (Windows 8+) */
};

/*
 * The SYSTEM hive changes that make the selected block drivers (viostor,
 * vioscsi) boot-start services bound to their PCI ids, as virt-v2v does:
 * Services\<drv> (Type 1, Start 0, ErrorControl 1, Group "SCSI miniport",
 * ImagePath system32\drivers\<drv>.sys); before Windows 8 the
 * CriticalDeviceDatabase entries, from Windows 8 the DriverDatabase ones.
 * netkvm and the others are left to Plug and Play (the first-boot step).
 * Returns 0, -ENOENT when the selection has no block driver, -ENOMEM.
 */
int vw_registry_plan(const struct vw_selection *sel, const struct vw_guest *g,
		     const struct vw_reg_context *ctx,
		     struct vw_reg_plan *out);
void vw_reg_plan_free(struct vw_reg_plan *p);

#endif
