/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward-inject: put virtio drivers into a Windows guest disk.
 *
 * fd 3: control socket; fd 4: the guest disk, read-write; fd 5: the
 * virtio-win tree (a directory with --virtio-dir, an ISO with
 * --virtio-iso); fd 6 (with --tools-dir): the virt-tools directory
 * holding rhsrvany.exe or pvvxsvc.exe. The Windows facts (partition,
 * system root, control set, version, architecture) come from the
 * broker's validated scan of the same disk.
 *
 * Nothing of the guest is parsed here. libguestfs runs its appliance, a
 * small qemu VM, and every guest filesystem and registry hive is opened
 * by the appliance's kernel and daemon (ntfs-3g, hivex), never by the
 * host. What this process and its qemu child can do on the host is
 * bounded by Landlock (read and run the system, read the virtio-win
 * tree, write only the disk, its private temporary directory and the
 * appliance cache) and by policy/seccomp/inject.policy; the broker adds
 * the namespaces (no network), rlimits and an unprivileged uid.
 * HACKING.md "The injector" says why libguestfs is driven directly
 * rather than through virt-v2v-in-place.
 *
 * The steps (README "Injecting drivers"):
 *   1. choose the driver files for the guest's version and architecture
 *      (lib/inject/virtio-win.c);
 *   2. launch the appliance with the disk (and the ISO) as drives;
 *   3. copy the files into <systemroot>\Drivers\VirtIO, and the block
 *      drivers into <systemroot>\System32\drivers;
 *   4. SYSTEM hive: the block drivers as boot-start services bound to
 *      their PCI ids (vw_registry_plan); SOFTWARE hive: DevicePath;
 *   5. a first-boot step that runs pnputil on the copied .inf files;
 *   6. unmount and shut the appliance down cleanly (this is what flushes
 *      the guest's writes: a failure here is a failed injection).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <guestfs.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"
#include "nbd-server.h"
#include "inject/virtio-win.h"

#define FD_DISK 4
#define FD_VIRTIO 5
#define FD_TOOLS 6

/* The administrator's virtio-win directory: the real one holds about
 * 5,000 files in a few hundred directories; these caps only stop a
 * runaway (a loop of bind mounts, a wrong directory). */
#define TREE_MAX_FILES 50000
#define TREE_MAX_DEPTH 8
#define TREE_MAX_PATH 512
/* One driver file: the real ones are kilobytes to a few MiB. */
#define FILE_MAX_BYTES (256ULL << 20)
/* Copied through the appliance's protocol in pieces well under its 4 MiB
 * message limit. */
#define COPY_CHUNK (1U << 20)
/* How far a qcow2 disk may grow while the drivers go in (new clusters,
 * L2 and refcount blocks): the NBD export is this much larger than the
 * file, and qcow2 allocates from its end. */
#define QCOW2_GROWTH (1ULL << 30)

/* The Windows facts, from the broker's validated scan. */
struct guest_facts {
	int partition;
	char systemroot[64];
	int control_set;
	struct vw_guest vw;
};

static guestfs_h *g;

/* Fail, but first stop the appliance: its qemu must not outlive us. */
_printf_(2, 3) _noreturn_ static void die(const char *code, const char *fmt,
					  ...)
{
	char message[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (g) {
		guestfs_h *h = g;

		g = NULL;
		guestfs_close(h);
	}
	iw_helper_fail(code, "%s", message);
}

/* libguestfs' last error, its first line only (the rest is advice to
 * set LIBGUESTFS_DEBUG, which means nothing to our caller) */
static const char *gerr(void)
{
	static char buf[300];
	const char *e = g ? guestfs_last_error(g) : NULL;

	snprintf(buf, sizeof(buf), "%s", e ? e : "unknown error");
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static void progress(const char *step, const char *what)
{
	json_object *m = json_object_new_object();

	if (!m)
		return;
	json_object_object_add(m, "type", json_object_new_string("progress"));
	json_object_object_add(m, "step", json_object_new_string(step));
	if (what)
		json_object_object_add(m, "message",
				       json_object_new_string(what));
	(void)iw_helper_send(m);
}

/* ---- the virtio-win directory, listed without following a link ---- */

struct tree {
	char **paths;
	size_t n, cap;
};

static int tree_add(struct tree *t, const char *path)
{
	if (t->n >= TREE_MAX_FILES)
		return -E2BIG;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		char **p = realloc(t->paths, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->paths = p;
		t->cap = cap;
	}
	t->paths[t->n] = strdup(path);
	if (!t->paths[t->n])
		return -ENOMEM;
	t->n++;
	return 0;
}

static int tree_walk(struct tree *t, int at, const char *prefix,
		     unsigned depth)
{
	DIR *d;
	struct dirent *e;
	int r = 0, fd;

	if (depth > TREE_MAX_DEPTH)
		return 0;
	fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while (r == 0 && (e = readdir(d))) {
		char path[TREE_MAX_PATH];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", prefix,
				     *prefix ? "/" : "", e->d_name) >= sizeof(path))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			r = tree_add(t, path);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);

			if (sub < 0)
				continue;
			r = tree_walk(t, sub, path, depth + 1);
			close(sub);
		}
		/* links and anything else: skipped, never followed */
	}
	closedir(d);
	return r;
}

/* Open a listed file beneath the tree, refusing links on the way. */
static int tree_open(const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, FD_VIRTIO, path, &how, sizeof(how));
}

/* ---- Landlock: what the appliance needs of the host ---- */

static void enter_sandbox(struct iw_helper *h, bool have_tools, bool iso)
{
	static const struct {
		const char *path;
		uint64_t access;
		bool optional;
	} sys[] = {
		/* programs and libraries: qemu, supermin, libguestfs' own */
		{ "/usr", IW_LL_READ_EXEC, false },
		{ "/lib", IW_LL_READ_EXEC, true },
		{ "/lib64", IW_LL_READ_EXEC, true },
		{ "/bin", IW_LL_READ_EXEC, true },
		{ "/sbin", IW_LL_READ_EXEC, true },
		/* ld.so.cache, libguestfs' and qemu's configuration, and
		 * what supermin copies into the appliance */
		{ "/etc", IW_LL_READ, false },
		/* the kernel supermin boots the appliance with */
		{ "/boot", IW_LL_READ, true },
		/* the package database supermin resolves the appliance's
		 * packages from (dpkg here, rpm or pacman elsewhere) */
		{ "/var/lib/dpkg", IW_LL_READ, true },
		{ "/var/lib/rpm", IW_LL_READ, true },
		{ "/var/lib/pacman", IW_LL_READ, true },
		/* qemu and glibc read their own /proc entries and the CPU
		 * topology from /sys */
		{ "/proc", IW_LL_READ, false },
		{ "/sys", IW_LL_READ, true },
		{ "/dev/null", IW_LL_READ_FILE | IW_LL_WRITE_FILE, false },
		{ "/dev/zero", IW_LL_READ_FILE, true },
		{ "/dev/urandom", IW_LL_READ_FILE, true },
		{ "/dev/random", IW_LL_READ_FILE, true },
		/* hardware virtualization where it works (the device's
		 * ioctls are KVM's, checked by the kernel) */
		{ "/dev/kvm", IW_LL_ALL_FS, true },
	};
	struct iw_landlock_rule rules[ARRAY_SIZE(sys) + 4];
	const char *tmp = getenv("TMPDIR");
	const char *cache = getenv("LIBGUESTFS_CACHEDIR");
	size_t n = 0;
	int r;

	if (!tmp || tmp[0] != '/' || !cache || cache[0] != '/')
		die("internal", "TMPDIR and LIBGUESTFS_CACHEDIR must be set by "
				"the broker");
	for (size_t i = 0; i < ARRAY_SIZE(sys); i++) {
		struct stat st;
		int fd = open(sys[i].path, O_PATH | O_CLOEXEC);

		if (fd < 0) {
			if (sys[i].optional)
				continue;
			die("sandbox-failed", "%s: %s", sys[i].path,
			    strerror(errno));
		}
		if (fstat(fd, &st) < 0)
			die("sandbox-failed", "%s: %s", sys[i].path,
			    strerror(errno));
		rules[n++] = (struct iw_landlock_rule){
			.fd = fd,
			.is_file = !S_ISDIR(st.st_mode),
			.access = sys[i].access,
		};
	}
	/* the private temporary directory (sockets, the overlay) and the
	 * appliance cache: everything beneath them */
	for (int i = 0; i < 2; i++) {
		const char *path = i == 0 ? tmp : cache;
		int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			die("sandbox-failed", "%s: %s", path, strerror(errno));
		rules[n++] = (struct iw_landlock_rule){ .fd = fd,
							.access = IW_LL_ALL_FS };
	}
	/* the virtio-win tree and the virt-tools directory: read (the disk
	 * and an ISO are served over NBD from their fds, never opened by
	 * name: lib/nbd-server.c) */
	if (!iso)
		rules[n++] = (struct iw_landlock_rule){ .fd = FD_VIRTIO,
							.access = IW_LL_READ };
	if (have_tools)
		rules[n++] = (struct iw_landlock_rule){ .fd = FD_TOOLS,
							.access = IW_LL_READ };

	/* no core dump of the helper: it holds guest bytes */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("sandbox-failed", "PR_SET_DUMPABLE: %s", strerror(errno));
	r = iw_landlock_restrict(rules, n, &h->landlock);
	if (r < 0)
		die("sandbox-failed", "Landlock: %s", strerror(-r));
	for (size_t i = 0; i < n; i++)
		if (rules[i].fd > FD_TOOLS)
			close(rules[i].fd);
	r = iw_seccomp_apply(&iw_policy_inject);
	if (r < 0)
		die("sandbox-failed", "seccomp: %s", strerror(-r));
	h->seccomp = true;
}

/* ---- registry edits through the appliance's hivex ---- */

/* ASCII to a UTF-16LE NUL-terminated registry string (ours only: driver
 * names and paths we write). */
static uint8_t *utf16(const char *s, size_t *ret_len)
{
	size_t n = strlen(s);
	uint8_t *b = calloc(n + 1, 2);

	if (!b)
		die("resource-limit", "out of memory");
	for (size_t i = 0; i < n; i++)
		b[2 * i] = (uint8_t)s[i];
	*ret_len = 2 * (n + 1);
	return b;
}

/* The node at path (components separated by '\\') below root, created
 * as needed when create; 0 when absent and !create. */
static int64_t hive_key(int64_t root, const char *path, bool create)
{
	char buf[512], *save = NULL, *comp;
	int64_t node = root;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		die("internal", "registry path too long");
	for (comp = strtok_r(buf, "\\", &save); comp;
	     comp = strtok_r(NULL, "\\", &save)) {
		int64_t child = guestfs_hivex_node_get_child(g, node, comp);

		if (child < 0)
			die("inject-failed", "registry: %s: %s", path, gerr());
		if (child == 0) {
			if (!create)
				return 0;
			child = guestfs_hivex_node_add_child(g, node, comp);
			if (child <= 0)
				die("inject-failed", "registry: cannot add %s: %s",
				    path, gerr());
		}
		node = child;
	}
	return node;
}

static void hive_set(int64_t root, const char *key, const char *name,
		     int64_t type, const uint8_t *data, size_t len)
{
	int64_t node = hive_key(root, key, true);

	if (name && guestfs_hivex_node_set_value(g, node, name, type,
						 (const char *)data, len) < 0)
		die("inject-failed", "registry: cannot set %s\\%s: %s", key,
		    name, gerr());
}

static void hive_set_str(int64_t root, const char *key, const char *name,
			 int64_t type, const char *s)
{
	size_t len;
	uint8_t *b = utf16(s, &len);

	hive_set(root, key, name, type, b, len);
	free(b);
}

static void hive_set_dword(int64_t root, const char *key, const char *name,
			   uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	hive_set(root, key, name, VW_REG_DWORD, b, sizeof(b));
}

static int64_t hive_open(const char *path)
{
	int64_t root;

	if (guestfs_hivex_open(g, path, GUESTFS_HIVEX_OPEN_WRITE, 1, -1) < 0)
		die("inject-failed", "cannot open the hive %s: %s", path,
		    gerr());
	root = guestfs_hivex_root(g);
	if (root <= 0)
		die("inject-failed", "hive %s has no root: %s", path, gerr());
	return root;
}

static void hive_commit(const char *path)
{
	if (guestfs_hivex_commit(g, NULL) < 0 || guestfs_hivex_close(g) < 0)
		die("inject-failed", "cannot write the hive %s: %s", path,
		    gerr());
}

/* ---- guest paths ---- */

/* The guest's own spelling of path (NTFS is case-insensitive, the
 * appliance's ntfs-3g is not); the path as given when it does not exist
 * yet. */
static char *guest_path(const char *path)
{
	char *p = guestfs_case_sensitive_path(g, path);

	if (!p) {
		p = strdup(path);
		if (!p)
			die("resource-limit", "out of memory");
	}
	return p;
}

static char *path_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		die("resource-limit", "out of memory");
	return p;
}

/* ---- the steps ---- */

struct job {
	struct guest_facts facts;
	bool iso, tools;
	char *root;	   /* the system root in the appliance: /win/Windows */
	char *driver_dir;  /* <root>/Drivers/VirtIO */
	struct vw_selection sel;
	json_object *copied;
	const char *firstboot;
	bool driver_database;
	char control_set[32];
	size_t registry_values;
};

/* Serve fd over NBD on $TMPDIR/<name>.sock and add it as a drive. */
static void add_nbd_drive(struct nbd_export *e, const char *name,
			  const char *format)
{
	char sock[256], server[270];
	char *servers[] = { server, NULL };
	off_t end = lseek(e->fd, 0, SEEK_END);
	int r;

	if (end < 0)
		die("io-error", "cannot measure the %s: %s", name,
		    strerror(errno));
	e->size = (uint64_t)end;
	if (!e->readonly && strcmp(format, "qcow2") == 0)
		e->size += QCOW2_GROWTH;
	snprintf(sock, sizeof(sock), "%s/%s.sock", getenv("TMPDIR"), name);
	snprintf(server, sizeof(server), "unix:%s", sock);
	r = nbd_export_start(e, sock);
	if (r < 0)
		die("appliance-failed", "cannot serve the %s: %s", name,
		    strerror(-r));
	if (guestfs_add_drive_opts(g, "", GUESTFS_ADD_DRIVE_OPTS_FORMAT, format,
				   GUESTFS_ADD_DRIVE_OPTS_PROTOCOL, "nbd",
				   GUESTFS_ADD_DRIVE_OPTS_SERVER, servers,
				   GUESTFS_ADD_DRIVE_OPTS_READONLY,
				   (int)e->readonly, -1) < 0)
		die("appliance-failed", "cannot add the %s: %s", name, gerr());
}

/* The appliance's and libguestfs' log, last bytes only: when a launch
 * fails, libguestfs' own error is a generic "guestfs_launch failed"; the
 * reason (qemu's complaint, the kernel's panic) is in this log. */
#define LOG_TAIL 4096
static char log_tail[LOG_TAIL];
static size_t log_len;

static void on_log(guestfs_h *h, void *opaque, uint64_t event, int eh,
		   int flags, const char *buf, size_t len,
		   const uint64_t *array, size_t array_len)
{
	(void)h;
	(void)opaque;
	(void)event;
	(void)eh;
	(void)flags;
	(void)array;
	(void)array_len;
	if (len >= LOG_TAIL) {
		buf += len - (LOG_TAIL - 1);
		len = LOG_TAIL - 1;
	}
	if (log_len + len >= LOG_TAIL) {
		size_t drop = log_len + len - (LOG_TAIL - 1);

		memmove(log_tail, log_tail + drop, log_len - drop);
		log_len -= drop;
	}
	memcpy(log_tail + log_len, buf, len);
	log_len += len;
	log_tail[log_len] = '\0';
}

/* The last line of the log that says what went wrong, or "". */
static const char *log_reason(void)
{
	static const char *const marks[] = { "libguestfs: error",
					     "qemu-system", "Kernel panic",
					     "guestfsd: error", "cannot" };
	static char line[240];
	char *p, *end;

	for (size_t m = 0; m < ARRAY_SIZE(marks); m++) {
		p = NULL;
		for (char *q = strstr(log_tail, marks[m]); q;
		     q = strstr(q + 1, marks[m]))
			p = q;
		if (!p)
			continue;
		while (p > log_tail && p[-1] != '\n')
			p--;
		end = strchr(p, '\n');
		snprintf(line, sizeof(line), " (%.*s)",
			 (int)(end ? (size_t)(end - p) : strlen(p)), p);
		return line;
	}
	return "";
}

static struct nbd_export disk_export = { .fd = FD_DISK };
static struct nbd_export iso_export = { .fd = FD_VIRTIO, .readonly = true };

static void launch(const char *format, bool iso)
{
	g = guestfs_create_flags(GUESTFS_CREATE_NO_CLOSE_ON_EXIT);
	if (!g)
		iw_helper_fail("appliance-failed", "cannot create a libguestfs "
						   "handle");
	/* errors are read with guestfs_last_error, not printed */
	guestfs_set_error_handler(g, NULL, NULL);
	/* verbose, into our log tail only (on_log): the way to learn why a
	 * launch failed */
	if (guestfs_set_network(g, 0) < 0 || guestfs_set_verbose(g, 1) < 0 ||
	    guestfs_set_event_callback(g, on_log,
				       GUESTFS_EVENT_APPLIANCE |
					       GUESTFS_EVENT_LIBRARY |
					       GUESTFS_EVENT_WARNING,
				       0, NULL) < 0)
		die("appliance-failed", "%s", gerr());
	add_nbd_drive(&disk_export, "disk", format);
	if (iso)
		add_nbd_drive(&iso_export, "virtio-win", "raw");
}

static void start(struct job *j)
{
	char **devs;
	char dev[64];

	progress("launch", "starting the libguestfs appliance");
	if (guestfs_launch(g) < 0) {
		char why[300];

		snprintf(why, sizeof(why), "%s", gerr());
		die("appliance-failed", "cannot launch the libguestfs "
					"appliance: %s%s", why, log_reason());
	}
	devs = guestfs_list_devices(g);
	if (!devs || !devs[0] || (j->iso && !devs[1]))
		die("appliance-failed", "the appliance does not see the disks");
	if (guestfs_mkmountpoint(g, "/win") < 0 ||
	    (j->iso && guestfs_mkmountpoint(g, "/iso") < 0))
		die("appliance-failed", "mkmountpoint: %s", gerr());
	snprintf(dev, sizeof(dev), "%s%d", devs[0], j->facts.partition);
	progress("mount", "mounting the Windows volume");
	if (guestfs_mount(g, dev, "/win") < 0)
		die("guest-unsupported", "cannot mount the Windows volume %s "
					 "for writing: %s", dev, gerr());
	if (j->iso && guestfs_mount_ro(g, devs[1], "/iso") < 0)
		die("virtio-win-unavailable", "cannot mount the virtio-win "
					      "ISO: %s", gerr());
	for (size_t i = 0; devs[i]; i++)
		free(devs[i]);
	free(devs);
}

static void list_iso(struct tree *t)
{
	char **all = guestfs_find(g, "/iso");

	if (!all)
		die("virtio-win-unavailable", "cannot list the ISO: %s", gerr());
	for (size_t i = 0; all[i]; i++) {
		/* find's names are relative but start with '/' */
		const char *rel = all[i] + strspn(all[i], "/");

		if (tree_add(t, rel) == -ENOMEM)
			die("resource-limit", "out of memory");
		free(all[i]);
	}
	free(all);
}

static void choose(struct job *j, struct tree *t)
{
	int r = vw_select((const char *const *)t->paths, t->n, &j->facts.vw,
			  &j->sel);

	if (r == -ENOENT)
		die("no-drivers", "virtio-win has no block driver for Windows "
				  "%d.%d build %u (%s, %s)",
		    j->facts.vw.major, j->facts.vw.minor, j->facts.vw.build,
		    j->facts.vw.server ? "server" : "client",
		    j->facts.vw.arch);
	if (r < 0)
		die(r == -ENOMEM ? "resource-limit" : "internal",
		    "choosing the drivers: %s", strerror(-r));
}

/* Copy an open host file into the guest, through the protocol: the
 * appliance never sees a host path, and nothing is reopened by name. */
static void upload_fd(int fd, const char *what, const char *dest)
{
	char *buf = malloc(COPY_CHUNK);
	uint64_t total = 0;
	bool first = true;

	if (!buf)
		die("resource-limit", "out of memory");
	for (;;) {
		ssize_t n = read(fd, buf, COPY_CHUNK);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("virtio-win-unavailable", "%s: %s", what,
			    strerror(errno));
		if (n == 0 && !first)
			break;
		total += (uint64_t)n;
		if (total > FILE_MAX_BYTES)
			die("virtio-win-unavailable", "%s: larger than %llu "
						      "bytes", what,
			    FILE_MAX_BYTES);
		r = first ? guestfs_write(g, dest, buf, (size_t)n)
			  : guestfs_write_append(g, dest, buf, (size_t)n);
		if (r < 0)
			die("inject-failed", "cannot copy %s: %s", what, gerr());
		first = false;
		if (n == 0)
			break;
	}
	free(buf);
}

static void copy_file(struct job *j, const struct vw_file *f,
		      const char *dest)
{
	if (j->iso) {
		char *src = path_join("/iso", f->path);

		if (guestfs_cp(g, src, dest) < 0)
			die("inject-failed", "cannot copy %s: %s", f->path,
			    gerr());
		free(src);
	} else {
		int fd = tree_open(f->path);

		if (fd < 0)
			die("virtio-win-unavailable", "%s: %s", f->path,
			    strerror(errno));
		upload_fd(fd, f->path, dest);
		close(fd);
	}
}

static void copy_drivers(struct job *j)
{
	char *drivers = NULL, *sysdrv, *root;

	root = path_join("/win", j->facts.systemroot);
	j->root = guestfs_case_sensitive_path(g, root);
	if (!j->root || guestfs_is_dir(g, j->root) != 1)
		die("guest-unsupported", "the system root %s is not on the "
					 "volume", j->facts.systemroot);
	free(root);
	drivers = guest_path(path_join(j->root, "Drivers"));
	j->driver_dir = path_join(drivers, "VirtIO");
	free(drivers);
	if (guestfs_mkdir_p(g, j->driver_dir) < 0)
		die("inject-failed", "cannot create %s: %s", j->driver_dir,
		    gerr());
	sysdrv = guest_path(path_join(j->root, "System32/drivers"));
	if (guestfs_is_dir(g, sysdrv) != 1 && guestfs_mkdir_p(g, sysdrv) < 0)
		die("inject-failed", "cannot create %s: %s", sysdrv, gerr());

	progress("copy", "copying the driver files");
	j->copied = json_object_new_array();
	for (size_t i = 0; i < j->sel.n_files; i++) {
		const struct vw_file *f = &j->sel.files[i];
		char *dest = path_join(j->driver_dir, f->name);

		copy_file(j, f, dest);
		json_object_array_add(j->copied, json_object_new_string(f->name));
		/* the block drivers also where their service's ImagePath
		 * points: they load before Plug and Play runs */
		if ((strcmp(f->driver, "viostor") == 0 ||
		     strcmp(f->driver, "vioscsi") == 0)) {
			char want[32];

			snprintf(want, sizeof(want), "%s.sys", f->driver);
			if (strcmp(f->name, want) == 0) {
				char *sys = path_join(sysdrv, f->name);

				if (guestfs_cp(g, dest, sys) < 0)
					die("inject-failed", "cannot copy %s: %s",
					    f->name, gerr());
				free(sys);
			}
		}
		free(dest);
	}
	free(sysdrv);
}

/* The first-boot step: pnputil installs every copied driver (netkvm,
 * balloon, ... are left to Plug and Play; the block drivers already boot
 * from their services). The script disables its own service (or is a
 * RunOnce entry, gone after one run). CRLF: it is a Windows batch file. */
#define FIRSTBOOT_NAME "imgward-firstboot"
#define FIRSTBOOT_CMD "%SystemRoot%\\Drivers\\VirtIO\\" FIRSTBOOT_NAME ".cmd"
static const char firstboot_script[] =
	"@echo off\r\n"
	"rem imgward: install the virtio drivers copied into\r\n"
	"rem %SystemRoot%\\Drivers\\VirtIO, once, at the first boot.\r\n"
	"set LOG=%SystemRoot%\\Drivers\\VirtIO\\" FIRSTBOOT_NAME ".log\r\n"
	"echo %DATE% %TIME% installing the virtio drivers >> \"%LOG%\"\r\n"
	"pnputil -i -a \"%SystemRoot%\\Drivers\\VirtIO\\*.inf\" >> \"%LOG%\" 2>&1\r\n"
	"sc config " FIRSTBOOT_NAME " start= disabled >> \"%LOG%\" 2>&1\r\n";

/* rhsrvany.exe or pvvxsvc.exe from the virt-tools directory (as
 * virt-v2v looks for them), or NULL. */
static const char *service_wrapper(void)
{
	static const char *const names[] = { "rhsrvany.exe", "pvvxsvc.exe" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct open_how how = {
			.flags = O_RDONLY | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
		};
		int fd = (int)syscall(SYS_openat2, FD_TOOLS, names[i], &how,
				      sizeof(how));

		if (fd >= 0) {
			close(fd);
			return names[i];
		}
	}
	return NULL;
}

static void firstboot(struct job *j, int64_t sys_root)
{
	const char *wrapper = j->tools ? service_wrapper() : NULL;
	char *script = path_join(j->driver_dir, FIRSTBOOT_NAME ".cmd");

	if (guestfs_write(g, script, firstboot_script,
			  sizeof(firstboot_script) - 1) < 0)
		die("inject-failed", "cannot write %s: %s", script, gerr());
	free(script);
	if (wrapper) {
		/* a service that runs at boot, as LocalSystem, before
		 * anyone logs on: virt-v2v's way */
		char key[128], image[160], *dest;
		int fd;
		struct open_how how = {
			.flags = O_RDONLY | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
		};

		fd = (int)syscall(SYS_openat2, FD_TOOLS, wrapper, &how,
				  sizeof(how));
		if (fd < 0)
			die("virtio-win-unavailable", "%s: %s", wrapper,
			    strerror(errno));
		dest = path_join(j->driver_dir, wrapper);
		upload_fd(fd, wrapper, dest);
		close(fd);
		free(dest);
		snprintf(key, sizeof(key), "%s\\Services\\" FIRSTBOOT_NAME,
			 j->control_set);
		snprintf(image, sizeof(image),
			 "%%SystemRoot%%\\Drivers\\VirtIO\\%s -s " FIRSTBOOT_NAME,
			 wrapper);
		hive_set_dword(sys_root, key, "Type", 0x10);
		hive_set_dword(sys_root, key, "Start", 2);
		hive_set_dword(sys_root, key, "ErrorControl", 1);
		hive_set_str(sys_root, key, "ImagePath", VW_REG_EXPAND_SZ, image);
		hive_set_str(sys_root, key, "DisplayName", VW_REG_SZ,
			     "imgward first boot (virtio drivers)");
		hive_set_str(sys_root, key, "ObjectName", VW_REG_SZ,
			     "LocalSystem");
		strncat(key, "\\Parameters", sizeof(key) - strlen(key) - 1);
		hive_set_str(sys_root, key, "CommandLine", VW_REG_EXPAND_SZ,
			     "cmd /c \"" FIRSTBOOT_CMD "\"");
		hive_set_str(sys_root, key, "PWD", VW_REG_EXPAND_SZ,
			     "%SystemRoot%\\Drivers\\VirtIO");
		j->firstboot = "service";
	} else {
		/* no service wrapper: the first administrator logon runs it
		 * (RunOnce, in the SOFTWARE hive: firstboot_runonce) */
		j->firstboot = "runonce";
	}
}

static void firstboot_runonce(int64_t soft_root)
{
	hive_set_str(soft_root, "Microsoft\\Windows\\CurrentVersion\\RunOnce",
		     FIRSTBOOT_NAME, VW_REG_EXPAND_SZ,
		     "cmd /c \"" FIRSTBOOT_CMD "\"");
}

/* DevicePath gets %SystemRoot%\Drivers\VirtIO, once: Plug and Play
 * looks there for drivers of new devices (as virt-v2v does). */
static void device_path(int64_t soft_root)
{
	static const char add[] = "%SystemRoot%\\Drivers\\VirtIO";
	const char *key = "Microsoft\\Windows\\CurrentVersion";
	int64_t node = hive_key(soft_root, key, true), val;
	char cur[2048] = "", *ascii;
	size_t len = 0;

	val = guestfs_hivex_node_get_value(g, node, "DevicePath");
	if (val > 0) {
		char *data = guestfs_hivex_value_value(g, val, &len);

		/* the UTF-16 value, kept only when it is plain ASCII: a
		 * value we cannot read back exactly is replaced rather than
		 * mangled */
		if (data) {
			size_t k = 0;

			for (size_t i = 0; i + 1 < len && k + 1 < sizeof(cur);
			     i += 2) {
				if (data[i + 1] != 0 || (data[i] & 0x80))
					break;
				if (data[i] == 0) {
					cur[k] = '\0';
					break;
				}
				cur[k++] = data[i];
			}
			cur[k] = '\0';
			free(data);
		}
	}
	if (strcasestr(cur, add))
		return;
	if (asprintf(&ascii, "%s%s%s", cur, *cur ? ";" : "", add) < 0)
		die("resource-limit", "out of memory");
	hive_set_str(soft_root, key, "DevicePath", VW_REG_EXPAND_SZ, ascii);
	free(ascii);
}

static void registry(struct job *j)
{
	struct vw_reg_context ctx;
	struct vw_reg_plan plan = { 0 };
	char *config, *system, *software;
	int64_t sys_root, soft_root;
	int r;

	progress("registry", "registering the drivers");
	config = guest_path(path_join(j->root, "System32/config"));
	system = guest_path(path_join(config, "SYSTEM"));
	software = guest_path(path_join(config, "SOFTWARE"));
	free(config);

	/* libguestfs keeps one hive open at a time: SYSTEM first */
	sys_root = hive_open(system);
	snprintf(j->control_set, sizeof(j->control_set), "ControlSet%03d",
		 j->facts.control_set);
	if (hive_key(sys_root, j->control_set, false) == 0)
		die("guest-unsupported", "the SYSTEM hive has no %s",
		    j->control_set);
	j->driver_database = hive_key(sys_root, "DriverDatabase", false) > 0;
	ctx = (struct vw_reg_context){ .control_set = j->control_set,
				       .driver_database = j->driver_database };
	r = vw_registry_plan(&j->sel, &j->facts.vw, &ctx, &plan);
	if (r == -ENOENT)
		die("no-drivers", "virtio-win has no viostor or vioscsi .sys "
				  "file for this guest");
	if (r < 0)
		die("resource-limit", "registry plan: %s", strerror(-r));
	for (size_t i = 0; i < plan.n_ops; i++) {
		const struct vw_reg_op *op = &plan.ops[i];

		if (op->hive != VW_HIVE_SYSTEM)
			die("internal", "a registry change outside SYSTEM");
		hive_set(sys_root, op->key, op->name, op->type, op->data,
			 op->len);
	}
	j->registry_values = plan.n_ops;
	vw_reg_plan_free(&plan);
	firstboot(j, sys_root);
	hive_commit(system);

	soft_root = hive_open(software);
	device_path(soft_root);
	if (strcmp(j->firstboot, "runonce") == 0)
		firstboot_runonce(soft_root);
	hive_commit(software);
	free(system);
	free(software);
}

static void finish(struct job *j)
{
	json_object *msg, *res, *drivers;
	guestfs_h *h = g;

	progress("shutdown", "writing the changes back");
	/* unmounting flushes ntfs-3g; shutdown waits for qemu to write
	 * everything to the disk: only then is the injection done */
	if (guestfs_umount_all(g) < 0 || guestfs_shutdown(g) < 0)
		die("inject-failed", "the appliance did not shut down cleanly "
				     "(the disk may be incomplete): %s", gerr());
	g = NULL;
	guestfs_close(h);

	drivers = json_object_new_array();
	for (size_t i = 0; i < j->sel.n_files; i++) {
		const char *d = j->sel.files[i].driver;
		bool seen = false;

		for (size_t k = 0; k < json_object_array_length(drivers); k++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(
					   drivers, k)), d) == 0)
				seen = true;
		if (!seen)
			json_object_array_add(drivers, json_object_new_string(d));
	}
	res = json_object_new_object();
	msg = json_object_new_object();
	if (!res || !msg || !drivers)
		iw_helper_fail("resource-limit", "out of memory");
	json_object_object_add(res, "action", json_object_new_string("injected"));
	json_object_object_add(res, "drivers", drivers);
	json_object_object_add(res, "files", j->copied);
	json_object_object_add(res, "os-dir", json_object_new_string(j->sel.os_dir));
	json_object_object_add(res, "arch-dir",
			       json_object_new_string(j->sel.arch_dir));
	json_object_object_add(res, "control-set",
			       json_object_new_string(j->control_set));
	json_object_object_add(res, "driver-database",
			       json_object_new_boolean(j->driver_database));
	json_object_object_add(res, "registry-values",
			       json_object_new_int64((int64_t)j->registry_values));
	json_object_object_add(res, "firstboot",
			       json_object_new_string(j->firstboot));
	json_object_object_add(msg, "type", json_object_new_string("result"));
	json_object_object_add(msg, "inject", res);
	if (iw_helper_send(msg) < 0)
		_exit(1);
}

static int parse_int(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		iw_helper_fail("internal", "bad number: %s", s);
	return (int)v;
}

int main(int argc, char **argv)
{
	enum { OPT_PART = 0x100, OPT_ROOT, OPT_CS, OPT_MAJOR, OPT_MINOR,
	       OPT_BUILD, OPT_SERVER, OPT_ARCH, OPT_DIR, OPT_ISO, OPT_TOOLS };
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, OPT_PART },
		{ "systemroot", required_argument, NULL, OPT_ROOT },
		{ "control-set", required_argument, NULL, OPT_CS },
		{ "major", required_argument, NULL, OPT_MAJOR },
		{ "minor", required_argument, NULL, OPT_MINOR },
		{ "build", required_argument, NULL, OPT_BUILD },
		{ "server", no_argument, NULL, OPT_SERVER },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "virtio-dir", no_argument, NULL, OPT_DIR },
		{ "virtio-iso", no_argument, NULL, OPT_ISO },
		{ "tools-dir", no_argument, NULL, OPT_TOOLS },
		{ 0 },
	};
	struct iw_helper h = { .name = "inject" };
	struct job j = { .facts = { .partition = -1, .control_set = -1,
				    .vw = { .major = -1, .minor = -1 } } };
	struct tree t = { 0 };
	const char *format = NULL;
	bool dir = false;
	int opt, flags, r;

	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			format = optarg;
			break;
		case OPT_PART:
			j.facts.partition = parse_int(optarg, 1, 128);
			break;
		case OPT_ROOT:
			snprintf(j.facts.systemroot, sizeof(j.facts.systemroot),
				 "%s", optarg);
			break;
		case OPT_CS:
			j.facts.control_set = parse_int(optarg, 1, 999);
			break;
		case OPT_MAJOR:
			j.facts.vw.major = parse_int(optarg, 0, 1000);
			break;
		case OPT_MINOR:
			j.facts.vw.minor = parse_int(optarg, 0, 1000);
			break;
		case OPT_BUILD:
			j.facts.vw.build = (unsigned)parse_int(optarg, 0, 1000000);
			break;
		case OPT_SERVER:
			j.facts.vw.server = true;
			break;
		case OPT_ARCH:
			j.facts.vw.arch = optarg;
			break;
		case OPT_DIR:
			dir = true;
			break;
		case OPT_ISO:
			j.iso = true;
			break;
		case OPT_TOOLS:
			j.tools = true;
			break;
		default:
			iw_helper_fail("internal", "bad arguments");
		}
	}
	if (!format || (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0) ||
	    optind != argc || j.facts.partition < 0 || !j.facts.systemroot[0] ||
	    j.facts.control_set < 0 || !j.facts.vw.arch || dir == j.iso)
		iw_helper_fail("internal", "usage: imgward-inject -f raw|qcow2 "
					   "--partition N --systemroot PATH "
					   "--control-set N --major N --minor N "
					   "[--build N] [--server] --arch A "
					   "--virtio-dir|--virtio-iso [--tools-dir]");
	/* the system root as a path below the volume: \Windows -> Windows */
	for (char *p = j.facts.systemroot; *p; p++)
		if (*p == '\\')
			*p = '/';

	/* the fds must be what the broker promised */
	flags = fcntl(FD_DISK, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) != O_RDWR)
		iw_helper_fail("internal", "fd %d is not a read-write disk",
			       FD_DISK);
	if (fcntl(FD_VIRTIO, F_GETFL) < 0 ||
	    (j.tools && fcntl(FD_TOOLS, F_GETFL) < 0))
		iw_helper_fail("internal", "the virtio-win fds are missing");
	iw_helper_warm_up();
	enter_sandbox(&h, j.tools, j.iso);
	if (iw_helper_ready(&h) < 0)
		_exit(1);

	/* the administrator's tree: chosen before the appliance starts, so
	 * that a missing driver costs no launch */
	if (dir) {
		r = tree_walk(&t, FD_VIRTIO, "", 0);
		if (r == -ENOMEM)
			iw_helper_fail("resource-limit", "out of memory");
		if (r < 0)
			iw_helper_fail("virtio-win-unavailable",
				       "cannot list the virtio-win directory: %s",
				       strerror(-r));
		choose(&j, &t);
	}
	launch(format, j.iso);
	start(&j);
	if (j.iso) {
		list_iso(&t);
		choose(&j, &t);
	}
	copy_drivers(&j);
	registry(&j);
	finish(&j);
	return 0;
}
