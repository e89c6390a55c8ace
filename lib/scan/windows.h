/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Is there a Windows installation on this NTFS volume, and which?
 *
 * The answer libguestfs inspection gives (daemon/inspect_fs_windows.ml),
 * without an appliance: the system root (\Windows, \WINNT, ... holding
 * System32\config), the SOFTWARE hive's Microsoft\Windows NT\
 * CurrentVersion (ProductName, CurrentMajorVersionNumber/
 * CurrentMinorVersionNumber or CurrentVersion, CurrentBuildNumber,
 * EditionID, InstallationType), the SYSTEM hive's current control set
 * (Select\Current), the architecture (Session Manager\Environment
 * PROCESSOR_ARCHITECTURE) and host name, whether virtio drivers are
 * installed (a service key and its .sys under System32\drivers), and
 * whether the volume is hibernated (hiberfil.sys and its header: Fast
 * Startup leaves the volume's metadata in Windows' memory image).
 *
 * Everything read from the guest is untrusted: strings are bounded here
 * and sanitised when they reach JSON.
 */
#ifndef IW_SCAN_WINDOWS_H
#define IW_SCAN_WINDOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "ntfs.h"

/* The virtio drivers reported, in this order: block (viostor), SCSI
 * (vioscsi), network (netkvm), then the others virt-v2v installs. */
#define WIN_VIRTIO_DRIVERS                                                     \
	{ "viostor", "vioscsi", "netkvm", "balloon", "vioser", "viorng",       \
	  "pvpanic", "fwcfg", "vioinput" }
#define WIN_N_VIRTIO 9

struct win_driver {
	const char *name;  /* "viostor", ... */
	bool service;	   /* SYSTEM\ControlSet00N\Services\<name> exists */
	int64_t start;	   /* its Start value, -1 if absent */
	bool file;	   /* System32\drivers\<name>.sys exists */
};

struct win_hibernation {
	bool hiberfil;	     /* \hiberfil.sys exists on this volume */
	char signature[5];   /* its first 4 bytes when printable ("hibr",
			      * "HIBR", "wake", "RSTR"...), else "" */
	bool hibernated;     /* the signature says a hibernation image or
			      * Fast Startup state is live */
};

struct win_info {
	bool found;		/* a system root was found */
	char systemroot[64];	/* "\\Windows", as the directory is named */
	char product_name[256]; /* "" when unknown */
	char edition[64];	/* EditionID */
	char installation_type[64]; /* "Client", "Server", "Server Core" */
	char current_version[16];   /* CurrentVersion, "6.3" */
	char build[32];		/* CurrentBuildNumber */
	int major, minor;	/* -1 when unknown */
	char arch[16];		/* libguestfs names: "x86_64", "i386",
				 * "aarch64"; "" when unknown */
	char hostname[64];
	unsigned control_set;	/* N of ControlSet00N, 0 when unknown */
	struct win_driver drivers[WIN_N_VIRTIO];
	struct win_hibernation hibernation;
};

/*
 * Inspect an opened NTFS volume. Returns 0 (out->found says whether a
 * system root was there; what could be read is filled in even when a
 * hive is broken, with the problem in d), or -ENOMEM. The hibernation
 * fields are filled for any NTFS volume, Windows or not.
 */
int win_inspect(struct ntfs_vol *vol, struct win_info *out,
		struct iw_diag *d);

#endif
