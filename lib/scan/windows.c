/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows inspection of one NTFS volume: the answer libguestfs'
 * inspection gives (daemon/inspect_fs_windows.ml), read natively through
 * ntfs.c and hive.c.
 *
 * The system root. Candidates, in libguestfs' order: \Windows, \WINNT,
 * \WIN32, \WIN, \REACTOS (matched case-insensitively against the root
 * directory's entries, so systemroot keeps the case the directory has),
 * then the [operating systems] entries of \boot.ini. libguestfs takes a
 * candidate when System32 and System32\config are directories and
 * System32\cmd.exe is a file. Our rule: System32\config must be a
 * directory, and it must hold a SOFTWARE or SYSTEM file or System32 a
 * cmd.exe. The hives are what we read; cmd.exe is not needed to boot, and
 * an image stripped of it is still a Windows that needs virtio drivers.
 * A config directory with neither hive nor cmd.exe (a copied tree, a
 * data disk named "Windows") is not a system root.
 *
 * SOFTWARE: Microsoft\Windows NT\CurrentVersion. The version is
 * CurrentMajorVersionNumber/CurrentMinorVersionNumber when both DWORDs
 * are there (Windows 10 and later keep CurrentVersion at "6.3"), else
 * CurrentVersion "M.N" parsed, as libguestfs does.
 *
 * SYSTEM: Select\Current names the control set (ControlSet00N; there is
 * no CurrentControlSet in a hive at rest, it is a volatile link). In it:
 * Control\Session Manager\Environment PROCESSOR_ARCHITECTURE for the
 * architecture; the host name from Services\Tcpip\Parameters Hostname
 * (what libguestfs reports), else Control\ComputerName\ComputerName;
 * Services\<driver> (its Start value) for each virtio driver, with
 * System32\drivers\<driver>.sys on the volume.
 *
 * The architecture when the registry does not say: System32\cmd.exe's PE
 * machine field (libguestfs reads only cmd.exe, through file(1), which
 * makes every PE32+ "x86_64", ARM64 Windows included; the registry value
 * is right there).
 *
 * Hibernation (any NTFS volume, Windows or not): \hiberfil.sys and the
 * first 4 bytes of its header page (PO_MEMORY_IMAGE's signature; libyal's
 * "Windows Hibernation File (hiberfil.sys) format", ReactOS' NDK po.h):
 *   "hibr"  an XP-era image the loader will resume;
 *   "HIBR"  a Vista+ image the loader will resume: a hibernated system or
 *           Windows 8+ Fast Startup ("shut down" into a hybrid image),
 *           whose resume assumes the volume is as it left it;
 *   "RSTR"  a resume was under way (an interrupted restore): the image is
 *           still the volume's owner;
 *   "link"  an XP-era pointer to an image on another partition;
 *   "wake"/"WAKE"  an image already resumed from, the system starts
 *           normally;
 *   zeros   hibernation enabled, shut down normally (Windows clears the
 *           header when it resumes or boots fresh).
 * hibernated is true for the first four, and when hiberfil.sys exists
 * but its header cannot be read (compressed, a broken runlist): writing
 * to the volume then (driver injection) corrupts it when Windows
 * resumes, and what we cannot read may be live. ntfs-3g refuses a
 * read-write mount on "hibr" (ntfs_volume_check_hiberfile); we are
 * stricter because Fast Startup's "HIBR" is the common case today.
 *
 * Every failure (an unreadable file, a broken hive) is a problem in d and
 * the inspection goes on with what it has; nothing is invented.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bytes.h"
#include "hive.h"
#include "windows.h"

static const char *const win_root_candidates[] = {
	"Windows", "WINNT", "WIN32", "WIN", "REACTOS",
};
#define WIN_N_CANDIDATES                                                       \
	(sizeof(win_root_candidates) / sizeof(win_root_candidates[0]))

/* boot.ini is a few hundred bytes; 64 KiB is more than any real one and
 * bounds what we read and scan. */
#define WIN_BOOT_INI_MAX (64 * 1024)
/* At most this many [operating systems] entries are tried (each costs a
 * few lookups); real files list one to four. */
#define WIN_BOOT_INI_MAX_ENTRIES 16
/* A control set number: ControlSet001..ControlSet999 (Windows keeps 1-3). */
#define WIN_MAX_CONTROL_SET 999
/* What we read of cmd.exe: the DOS header's e_lfanew must point inside
 * the first 4 KiB (every real PE header is within the first page). */
#define WIN_PE_HEAD 4096

/* ---- small helpers ------------------------------------------------- */

/* src: a NUL-terminated string of ours or from hive.c/ntfs.c */
static void win_copy(char *dst, size_t dst_len, const char *src)
{
	size_t n = strlen(src);

	if (n >= dst_len)
		n = dst_len - 1;

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Look a path up and tell what it is: 1 directory, 0 file, -ENOENT, or
 * another negative errno (the ntfs layer recorded the problem). */
static int win_path_kind(struct ntfs_vol *vol, const char *path,
			 uint64_t *ret_mft)
{
	struct ntfs_stat st;
	uint64_t mft;
	int ret;

	ret = ntfs_lookup(vol, path, &mft);
	if (ret < 0)
		return ret;
	ret = ntfs_stat(vol, mft, &st);
	if (ret < 0)
		return ret;
	if (ret_mft)
		*ret_mft = mft;
	return st.directory ? 1 : 0;
}

static bool win_is_file(struct ntfs_vol *vol, const char *path)
{
	return win_path_kind(vol, path, NULL) == 0;
}

/* ---- the system root ----------------------------------------------- */

static bool win_is_systemroot(struct ntfs_vol *vol, const char *root)
{
	char path[NTFS_NAME_MAX + 64];

	snprintf(path, sizeof(path), "%s\\System32\\config", root);
	if (win_path_kind(vol, path, NULL) != 1)
		return false;
	snprintf(path, sizeof(path), "%s\\System32\\config\\SOFTWARE", root);
	if (win_is_file(vol, path))
		return true;
	snprintf(path, sizeof(path), "%s\\System32\\config\\SYSTEM", root);
	if (win_is_file(vol, path))
		return true;
	snprintf(path, sizeof(path), "%s\\System32\\cmd.exe", root);
	return win_is_file(vol, path);
}

struct win_root_scan {
	/* the on-disk name of each candidate found in the root directory */
	char names[WIN_N_CANDIDATES][16];
};

static int win_root_entry(void *ud, const char *name, uint64_t mft,
			  bool is_directory)
{
	struct win_root_scan *rs = ud;

	(void)mft;
	if (!is_directory)
		return 0;
	for (size_t i = 0; i < WIN_N_CANDIDATES; i++)
		if (!rs->names[i][0] &&
		    strcasecmp(name, win_root_candidates[i]) == 0)
			win_copy(rs->names[i], sizeof(rs->names[i]), name);
	return 0;
}

/*
 * boot.ini: "[operating systems]" followed by lines
 * multi(0)disk(0)rdisk(0)partition(1)\WINDOWS="Microsoft Windows XP" ...
 * The path after the last ')' up to '=' is a system root (libguestfs
 * assumes it is on this partition, and so do we).
 */
static bool win_root_from_boot_ini(struct ntfs_vol *vol, struct win_info *out,
				   struct iw_diag *d)
{
	struct ntfs_file *f = NULL;
	const struct iw_view *v;
	char *buf = NULL, *line, *save = NULL;
	bool in_section = false, found = false;
	unsigned tried = 0;
	uint64_t mft;
	size_t len;
	int ret;

	ret = win_path_kind(vol, "boot.ini", &mft);
	if (ret != 0)
		return false;
	ret = ntfs_file_open(vol, mft, &f);
	if (ret < 0) {
		(void)iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				   "cannot open \\boot.ini: %s", strerror(-ret));
		return false;
	}
	v = ntfs_file_view(f);
	len = v->size < WIN_BOOT_INI_MAX ? (size_t)v->size : WIN_BOOT_INI_MAX;
	buf = malloc(len + 1);
	if (!buf) {
		ntfs_file_close(f);
		(void)iw_diag_fail(d, -ENOMEM, SCAN_E_NO_MEMORY, "boot.ini");
		return false;
	}
	ret = iw_view_read(v, buf, len, 0);
	ntfs_file_close(f);
	if (ret < 0) {
		(void)iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				   "cannot read \\boot.ini: %s", strerror(-ret));
		free(buf);
		return false;
	}
	buf[len] = '\0';

	for (line = strtok_r(buf, "\r\n", &save); line && !found;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *p, *eq, *close;

		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '[') {
			in_section = strncasecmp(line, "[operating systems]",
						 19) == 0;
			continue;
		}
		if (!in_section || (strncasecmp(line, "multi(", 6) != 0 &&
				    strncasecmp(line, "scsi(", 5) != 0))
			continue;
		if (++tried > WIN_BOOT_INI_MAX_ENTRIES)
			break;
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		close = strrchr(line, ')');
		if (!close)
			continue;
		p = close + 1;
		/* trailing blanks before '=' */
		for (char *e = eq; e > p && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		if (*p != '\\' || strlen(p) < 2 || strlen(p) >= sizeof(out->systemroot))
			continue;
		if (win_is_systemroot(vol, p + 1)) {
			win_copy(out->systemroot, sizeof(out->systemroot), p);
			found = true;
		}
	}
	free(buf);
	return found;
}

static bool win_find_systemroot(struct ntfs_vol *vol, struct win_info *out,
				struct iw_diag *d)
{
	struct win_root_scan rs;
	int ret;

	memset(&rs, 0, sizeof(rs));
	ret = ntfs_list_dir(vol, NTFS_MFT_RECORD_ROOT, win_root_entry, &rs);
	if (ret < 0)
		(void)iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				   "cannot list the root directory: %s",
				   strerror(-ret));
	for (size_t i = 0; i < WIN_N_CANDIDATES; i++) {
		if (!rs.names[i][0] || !win_is_systemroot(vol, rs.names[i]))
			continue;
		snprintf(out->systemroot, sizeof(out->systemroot), "\\%s",
			 rs.names[i]);
		return true;
	}
	return win_root_from_boot_ini(vol, out, d);
}

/* ---- hives ------------------------------------------------------------ */

struct win_hive {
	struct ntfs_file *file;
	struct hive *hive;
};

static void win_hive_close(struct win_hive *wh)
{
	if (wh->hive)
		hive_close(wh->hive);
	if (wh->file)
		ntfs_file_close(wh->file);
	wh->hive = NULL;
	wh->file = NULL;
}

/* Open <systemroot>\System32\config\<name> as a hive. 0, or a negative
 * errno with the problem recorded (windows-inspection, plus what the ntfs
 * or hive layer said). */
static int win_hive_open(struct ntfs_vol *vol, const struct win_info *w,
			 const char *name, struct win_hive *wh,
			 struct iw_diag *d)
{
	char path[sizeof(w->systemroot) + 32];
	uint64_t mft;
	int ret;

	memset(wh, 0, sizeof(*wh));
	snprintf(path, sizeof(path), "%s\\System32\\config\\%s",
		 w->systemroot + 1, name);
	ret = win_path_kind(vol, path, &mft);
	if (ret == 1)
		ret = -EISDIR;
	if (ret < 0) {
		if (ret == -ENOENT)
			return iw_diag_fail(d, ret, SCAN_E_WINDOWS,
					    "no %s hive in %s\\System32\\config",
					    name, w->systemroot);
		return iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				    "cannot find the %s hive: %s", name,
				    strerror(-ret));
	}
	ret = ntfs_file_open(vol, mft, &wh->file);
	if (ret < 0)
		return iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				    "cannot open the %s hive: %s", name,
				    strerror(-ret));
	ret = hive_open(ntfs_file_view(wh->file), d, &wh->hive);
	if (ret < 0) {
		wh->hive = NULL;
		win_hive_close(wh);
		return iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				    "the %s hive is unreadable: %s", name,
				    strerror(-ret));
	}
	return 0;
}

/* A REG_SZ into out (left "" when absent or broken: hive.c recorded
 * why when broken). */
static void win_string(struct hive *h, hive_node key, const char *name,
		       char *out, size_t out_len)
{
	if (hive_value_string(h, key, name, out, out_len) < 0)
		out[0] = '\0';
}

/* "6.3" -> 6, 3: digits only, each at most 3 of them. */
static bool win_parse_version(const char *s, int *major, int *minor)
{
	int m = 0, n = 0, digits = 0;

	for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
		m = m * 10 + (*s - '0');
	if (digits == 0 || digits > 3 || *s != '.')
		return false;
	s++;
	for (digits = 0; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
		n = n * 10 + (*s - '0');
	if (digits == 0 || digits > 3 || *s != '\0')
		return false;
	*major = m;
	*minor = n;
	return true;
}

static void win_read_software(struct ntfs_vol *vol, struct win_info *w,
			      struct iw_diag *d)
{
	struct win_hive wh;
	hive_node cv;
	uint32_t major, minor;
	int ret;

	if (win_hive_open(vol, w, "SOFTWARE", &wh, d) < 0)
		return;
	ret = hive_lookup(wh.hive, hive_root(wh.hive),
			  "Microsoft\\Windows NT\\CurrentVersion", &cv);
	if (ret < 0) {
		(void)iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				   "SOFTWARE: no Microsoft\\Windows NT\\CurrentVersion: %s",
				   strerror(-ret));
		win_hive_close(&wh);
		return;
	}
	win_string(wh.hive, cv, "ProductName", w->product_name,
		   sizeof(w->product_name));
	win_string(wh.hive, cv, "EditionID", w->edition, sizeof(w->edition));
	win_string(wh.hive, cv, "InstallationType", w->installation_type,
		   sizeof(w->installation_type));
	win_string(wh.hive, cv, "CurrentVersion", w->current_version,
		   sizeof(w->current_version));
	win_string(wh.hive, cv, "CurrentBuildNumber", w->build,
		   sizeof(w->build));
	if (!w->build[0])
		win_string(wh.hive, cv, "CurrentBuild", w->build,
			   sizeof(w->build));
	if (hive_value_dword(wh.hive, cv, "CurrentMajorVersionNumber",
			     &major) == 0 &&
	    hive_value_dword(wh.hive, cv, "CurrentMinorVersionNumber",
			     &minor) == 0 &&
	    major <= 0xffff && minor <= 0xffff) {
		w->major = (int)major;
		w->minor = (int)minor;
	} else if (w->current_version[0] &&
		   !win_parse_version(w->current_version, &w->major,
				      &w->minor)) {
		(void)iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_VALUE,
				   "SOFTWARE: CurrentVersion is not M.N");
	}
	win_hive_close(&wh);
}

static const char *win_arch_from_processor(const char *p)
{
	static const struct {
		const char *reg, *arch;
	} map[] = {
		{ "AMD64", "x86_64" }, { "x86", "i386" },
		{ "ARM64", "aarch64" }, { "IA64", "ia64" },
		{ "ARM", "arm" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(p, map[i].reg) == 0)
			return map[i].arch;
	return NULL;
}

static void win_read_system(struct ntfs_vol *vol, struct win_info *w,
			    struct iw_diag *d)
{
	static const char *const drivers[WIN_N_VIRTIO] = WIN_VIRTIO_DRIVERS;
	struct win_hive wh;
	hive_node select, cs, node;
	uint32_t current;
	char name[32], buf[64];
	int ret;

	if (win_hive_open(vol, w, "SYSTEM", &wh, d) < 0)
		return;
	ret = hive_lookup(wh.hive, hive_root(wh.hive), "Select", &select);
	if (ret == 0)
		ret = hive_value_dword(wh.hive, select, "Current", &current);
	if (ret < 0) {
		(void)iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				   "SYSTEM: no Select\\Current: %s",
				   strerror(-ret));
		goto out;
	}
	if (current == 0 || current > WIN_MAX_CONTROL_SET) {
		(void)iw_diag_fail(d, -EINVAL, SCAN_E_HIVE_VALUE,
				   "SYSTEM: Select\\Current is %" PRIu32,
				   current);
		goto out;
	}
	snprintf(name, sizeof(name), "ControlSet%03" PRIu32, current);
	ret = hive_lookup(wh.hive, hive_root(wh.hive), name, &cs);
	if (ret < 0) {
		(void)iw_diag_fail(d, ret, SCAN_E_WINDOWS,
				   "SYSTEM: Select\\Current names %s: %s",
				   name, strerror(-ret));
		goto out;
	}
	w->control_set = current;

	if (hive_lookup(wh.hive, cs, "Control\\Session Manager\\Environment",
			&node) == 0) {
		win_string(wh.hive, node, "PROCESSOR_ARCHITECTURE", buf,
			   sizeof(buf));
		if (buf[0]) {
			const char *arch = win_arch_from_processor(buf);

			if (arch)
				win_copy(w->arch, sizeof(w->arch), arch);
			else
				(void)iw_diag_fail(d, -EINVAL,
						   SCAN_E_HIVE_VALUE,
						   "SYSTEM: unknown PROCESSOR_ARCHITECTURE");
		}
	}
	if (hive_lookup(wh.hive, cs, "Services\\Tcpip\\Parameters", &node) == 0)
		win_string(wh.hive, node, "Hostname", w->hostname,
			   sizeof(w->hostname));
	if (!w->hostname[0] &&
	    hive_lookup(wh.hive, cs, "Control\\ComputerName\\ComputerName",
			&node) == 0)
		win_string(wh.hive, node, "ComputerName", w->hostname,
			   sizeof(w->hostname));

	for (size_t i = 0; i < WIN_N_VIRTIO; i++) {
		struct win_driver *dr = &w->drivers[i];
		uint32_t start;

		snprintf(buf, sizeof(buf), "Services\\%s", drivers[i]);
		if (hive_lookup(wh.hive, cs, buf, &node) < 0)
			continue;
		dr->service = true;
		if (hive_value_dword(wh.hive, node, "Start", &start) == 0)
			dr->start = start;
	}
out:
	win_hive_close(&wh);
}

/* cmd.exe's PE machine, when the registry did not name the arch. */
static void win_arch_from_cmd(struct ntfs_vol *vol, struct win_info *w)
{
	char path[sizeof(w->systemroot) + 32];
	struct ntfs_file *f = NULL;
	const struct iw_view *v;
	uint8_t head[WIN_PE_HEAD];
	size_t got;
	uint32_t pe;
	uint64_t mft;
	const char *arch = NULL;

	snprintf(path, sizeof(path), "%s\\System32\\cmd.exe",
		 w->systemroot + 1);
	if (win_path_kind(vol, path, &mft) != 0 ||
	    ntfs_file_open(vol, mft, &f) < 0)
		return;
	v = ntfs_file_view(f);
	if (iw_view_read_upto(v, head, sizeof(head), 0, &got) < 0 || got < 64 ||
	    head[0] != 'M' || head[1] != 'Z')
		goto out;
	pe = get_le32(head + 0x3c);
	if (pe > got - 6 || memcmp(head + pe, "PE\0\0", 4) != 0)
		goto out;
	switch (get_le16(head + pe + 4)) {
	case 0x014c: arch = "i386"; break;
	case 0x8664: arch = "x86_64"; break;
	case 0xaa64: arch = "aarch64"; break;
	case 0x0200: arch = "ia64"; break;
	case 0x01c4: arch = "arm"; break;
	}
	if (arch)
		win_copy(w->arch, sizeof(w->arch), arch);
out:
	ntfs_file_close(f);
}

static void win_driver_files(struct ntfs_vol *vol, struct win_info *w)
{
	static const char *const drivers[WIN_N_VIRTIO] = WIN_VIRTIO_DRIVERS;
	char path[sizeof(w->systemroot) + 64];

	for (size_t i = 0; i < WIN_N_VIRTIO; i++) {
		snprintf(path, sizeof(path), "%s\\System32\\drivers\\%s.sys",
			 w->systemroot + 1, drivers[i]);
		w->drivers[i].file = win_is_file(vol, path);
	}
}

/* ---- hibernation ------------------------------------------------------- */

static void win_hibernation(struct ntfs_vol *vol, struct win_hibernation *hb,
			    struct iw_diag *d)
{
	static const char *const live[] = { "hibr", "rstr", "link" };
	struct ntfs_file *f = NULL;
	uint8_t sig[4];
	uint64_t mft;
	int ret;

	ret = win_path_kind(vol, "hiberfil.sys", &mft);
	if (ret == -ENOENT)
		return;
	if (ret < 0) {
		(void)iw_diag_fail(d, ret, SCAN_E_HIBERNATION,
				   "cannot look \\hiberfil.sys up: %s",
				   strerror(-ret));
		return;
	}
	if (ret == 1)
		return; /* a directory of that name is no hibernation file */
	hb->hiberfil = true;
	ret = ntfs_file_open(vol, mft, &f);
	if (ret < 0) {
		/* a header we cannot read may be live: as ntfs-3g, which
		 * refuses a read-write mount when it cannot check it */
		hb->hibernated = true;
		(void)iw_diag_fail(d, ret, SCAN_E_HIBERNATION,
				   "cannot open \\hiberfil.sys: %s",
				   strerror(-ret));
		return;
	}
	if (ntfs_file_view(f)->size < sizeof(sig)) {
		ntfs_file_close(f);
		return; /* empty: nothing to resume */
	}
	ret = iw_view_read(ntfs_file_view(f), sig, sizeof(sig), 0);
	ntfs_file_close(f);
	if (ret < 0) {
		hb->hibernated = true;
		(void)iw_diag_fail(d, ret, SCAN_E_HIBERNATION,
				   "cannot read \\hiberfil.sys's header: %s",
				   strerror(-ret));
		return;
	}
	for (size_t i = 0; i < sizeof(sig); i++)
		if (sig[i] < 0x21 || sig[i] > 0x7e)
			return; /* zeroed (or not a signature): not live */
	memcpy(hb->signature, sig, sizeof(sig));
	hb->signature[sizeof(sig)] = '\0';
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (strcasecmp(hb->signature, live[i]) == 0)
			hb->hibernated = true;
}

/* ---- entry point -------------------------------------------------------- */

int win_inspect(struct ntfs_vol *vol, struct win_info *out, struct iw_diag *d)
{
	static const char *const drivers[WIN_N_VIRTIO] = WIN_VIRTIO_DRIVERS;

	memset(out, 0, sizeof(*out));
	out->major = out->minor = -1;
	for (size_t i = 0; i < WIN_N_VIRTIO; i++) {
		out->drivers[i].name = drivers[i];
		out->drivers[i].start = -1;
	}

	win_hibernation(vol, &out->hibernation, d);
	if (!win_find_systemroot(vol, out, d))
		return 0;
	out->found = true;
	win_read_software(vol, out, d);
	win_read_system(vol, out, d);
	if (!out->arch[0])
		win_arch_from_cmd(vol, out);
	win_driver_files(vol, out);
	return 0;
}
