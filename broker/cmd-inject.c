/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward inject [--json] [-f FMT] [--virtio-win DIR|ISO] DISK
 *
 * 1. open DISK read-write and judge it with the sniffer: only a safe
 *    raw or qcow2 disk is modified;
 * 2. scan it (imgward-ntfs): the Windows facts the injector needs, and
 *    whether the drivers are already there (then nothing runs);
 * 3. inject_run(): imgward-inject, with the disk, the virtio-win tree or
 *    ISO and the virt-tools directory as fds, a private temporary
 *    directory and the appliance cache; its answer is validated.
 *
 * inject_run() is also the last step of `imgward import`. README
 * "Injecting drivers".
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inject.h"
#include "input.h"
#include "input-set.h"
#include "probe.h"
#include "validate.h"

/* Where virt-v2v looks when VIRTIO_WIN is not set (reference §3.2) */
#define VIRTIO_WIN_ISO "/usr/share/virtio-win/virtio-win.iso"
#define VIRTIO_WIN_DIR "/usr/share/virtio-win"
#define VIRT_TOOLS_DIR "/usr/share/virt-tools"
/* The appliance cache: libguestfs builds its appliance (supermin) once per
 * uid and reuses it; a private cache per job would cost a build (tens of
 * seconds) every time. */
#define APPLIANCE_CACHE_FMT "/var/tmp/imgward-appliance-%u"

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static json_object *skipped(const char *reason)
{
	json_object *r = json_object_new_object();

	if (r) {
		json_object_object_add(r, "action",
				       json_object_new_string("skipped"));
		json_object_object_add(r, "reason",
				       json_object_new_string(reason));
	}
	return r;
}

/* The virtio-win source as virt-v2v finds it: the caller's, VIRTIO_WIN
 * (or its old name VIRTIO_WIN_DIR), the ISO, the directory. It is the
 * administrator's, so links are followed (the packaged ISO is a link to
 * a versioned file). */
static int open_virtio_win(const char *given, bool *ret_iso, char *used,
			   size_t used_len, struct iw_failure *f)
{
	const char *cands[4];
	size_t n = 0;
	struct stat st;
	int fd;

	if (given)
		cands[n++] = given;
	else if (getenv("VIRTIO_WIN") && *getenv("VIRTIO_WIN"))
		cands[n++] = getenv("VIRTIO_WIN");
	else if (getenv("VIRTIO_WIN_DIR") && *getenv("VIRTIO_WIN_DIR"))
		cands[n++] = getenv("VIRTIO_WIN_DIR");
	else {
		cands[n++] = VIRTIO_WIN_ISO;
		cands[n++] = VIRTIO_WIN_DIR;
	}
	for (size_t i = 0; i < n; i++) {
		fd = open(cands[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 &&
		    (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
			*ret_iso = S_ISREG(st.st_mode);
			snprintf(used, used_len, "%s", cands[i]);
			return fd;
		}
		close(fd);
	}
	if (n == 1)
		iw_fail(f, IW_E_VIRTIO_WIN_UNAVAILABLE,
			"virtio-win: %s is not a readable directory or ISO",
			cands[0]);
	else
		iw_fail(f, IW_E_VIRTIO_WIN_UNAVAILABLE,
			"no virtio-win drivers: neither %s nor %s exists (set "
			"VIRTIO_WIN or --virtio-win to a directory or ISO)",
			VIRTIO_WIN_ISO, VIRTIO_WIN_DIR);
	return -1;
}

/* A directory only the helper's uid can write, created when missing;
 * anything else at that path (a link, someone else's directory: /var/tmp
 * is shared) is refused. */
static int own_dir(const char *path, uid_t uid, gid_t gid, bool chown_it,
		   struct iw_failure *f)
{
	struct stat st;

	if (mkdir(path, 0700) == 0 && chown_it && chown(path, uid, gid) < 0) {
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE, "chown %s: %s", path,
			strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0) {
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE, "%s: %s", path,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE,
			"%s is not a directory of uid %u writable only by it",
			path, (unsigned)uid);
		return -1;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* The job's temporary directory, gone with everything the helper left
 * (FTW_PHYS: links are removed, never followed). */
static void remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* The helper's answer: only what we asked for, in the types we expect. */
static json_object *validate_inject(json_object *result, struct iw_failure *f)
{
	static const char *const strings[] = { "os-dir", "arch-dir",
					       "control-set", "firstboot" };
	json_object *inj = jget(result, "inject"), *v, *out;

	if (!json_object_is_type(inj, json_type_object) ||
	    json_object_object_length(result) != 2 ||
	    !json_object_is_type(jget(inj, "action"), json_type_string) ||
	    strcmp(json_object_get_string(jget(inj, "action")), "injected") != 0)
		goto bad;
	out = json_object_new_object();
	if (!out)
		goto bad;
	json_object_object_add(out, "action", json_object_new_string("injected"));
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
		v = jget(inj, strings[i]);
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > 64) {
			json_object_put(out);
			goto bad;
		}
		json_add_clean(out, strings[i], json_object_get_string(v));
	}
	if (!json_object_is_type(jget(inj, "driver-database"),
				 json_type_boolean) ||
	    !json_object_is_type(jget(inj, "registry-values"), json_type_int)) {
		json_object_put(out);
		goto bad;
	}
	json_object_object_add(out, "driver-database",
			       json_object_get(jget(inj, "driver-database")));
	json_object_object_add(
		out, "registry-values",
		json_object_new_int64(json_object_get_int64(jget(inj, "registry-values"))));
	for (int k = 0; k < 2; k++) {
		const char *key = k == 0 ? "drivers" : "files";
		json_object *arr = jget(inj, key), *clean;

		if (!json_object_is_type(arr, json_type_array) ||
		    json_object_array_length(arr) > 4096) {
			json_object_put(out);
			goto bad;
		}
		clean = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *s = json_object_array_get_idx(arr, i);
			_cleanup_free_ char *c = NULL;

			if (!json_object_is_type(s, json_type_string) ||
			    json_object_get_string_len(s) > 255) {
				json_object_put(clean);
				json_object_put(out);
				goto bad;
			}
			c = iw_sanitize(json_object_get_string(s),
					(size_t)json_object_get_string_len(s), NULL);
			json_object_array_add(clean, json_object_new_string(c ? c : ""));
		}
		json_object_object_add(out, key, clean);
	}
	return out;
bad:
	iw_fail(f, IW_E_PROTOCOL_VIOLATION,
		"imgward-inject's result is not what was asked for");
	return NULL;
}

static void ignore_progress(json_object *msg, void *userdata)
{
	(void)msg;
	(void)userdata;
}

int inject_run(const struct inject_request *req, json_object **ret,
	       struct iw_failure *f)
{
	json_object *w = jget(req->scan, "windows");
	struct helper_outcome outcome = { 0 };
	struct helper_job job = { 0 };
	char tmp[PATH_MAX] = "", cache[PATH_MAX], used[PATH_MAX];
	char env_tmp[PATH_MAX + 16], env_xdg[PATH_MAX + 32],
		env_cache[PATH_MAX + 32], env_settings[128] = "";
	char part[16], cs[16], major[16], minor[16], build[16];
	const char *args[24], *env[8];
	const char *base, *arch, *inst;
	int fds[3], n_fds = 0, vfd = -1, tfd = -1, r = -1;
	bool iso = false, root = geteuid() == 0;
	size_t na = 0, ne = 0;

	*ret = NULL;
	if (!w) {
		*ret = skipped("no Windows installation found (only Windows "
			       "guests get virtio drivers; Linux kernels carry "
			       "theirs)");
		return *ret ? 0 : -1;
	}
	if (json_object_get_boolean(jget(w, "virtio-installed"))) {
		*ret = skipped("the virtio block drivers are already installed");
		return *ret ? 0 : -1;
	}
	if (json_object_get_boolean(jget(req->scan, "hibernated"))) {
		iw_fail(f, IW_E_GUEST_UNSUPPORTED,
			"%s: Windows is hibernated (or Fast Startup is on): its "
			"state is in hiberfil.sys, and changing the disk now "
			"would lose or corrupt it; shut Windows down fully first",
			req->disk_path);
		return -1;
	}
	if (jint(w, "partition") < 1 || jint(w, "control-set") < 1 ||
	    !jstr(w, "systemroot") || !jstr(w, "arch")) {
		iw_fail(f, IW_E_GUEST_UNSUPPORTED,
			"%s: the scan could not tell the Windows installation's "
			"partition, system root, control set and architecture",
			req->disk_path);
		return -1;
	}

	vfd = open_virtio_win(req->virtio_win, &iso, used, sizeof(used), f);
	if (vfd < 0)
		return -1;
	tfd = open(getenv("VIRT_TOOLS_DATA_DIR") && *getenv("VIRT_TOOLS_DATA_DIR")
			   ? getenv("VIRT_TOOLS_DATA_DIR")
			   : VIRT_TOOLS_DIR,
		   O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* the helper's private directories */
	base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmp, sizeof(tmp), "%s/imgward-inject-XXXXXX", base);
	if (!mkdtemp(tmp)) {
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE, "mkdtemp %s: %s", tmp,
			strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if (root && chown(tmp, req->opts->uid, req->opts->gid) < 0) {
		iw_fail(f, IW_E_SANDBOX_UNAVAILABLE, "chown %s: %s", tmp,
			strerror(errno));
		goto out;
	}
	if (getenv("IMGWARD_APPLIANCE_CACHE") && *getenv("IMGWARD_APPLIANCE_CACHE"))
		snprintf(cache, sizeof(cache), "%s",
			 getenv("IMGWARD_APPLIANCE_CACHE"));
	else
		snprintf(cache, sizeof(cache), APPLIANCE_CACHE_FMT,
			 (unsigned)(root ? req->opts->uid : getuid()));
	if (own_dir(cache, root ? req->opts->uid : getuid(),
		    root ? req->opts->gid : getgid(), root, f) < 0)
		goto out;

	/* the Windows facts, from the validated scan */
	snprintf(part, sizeof(part), "%" PRId64, jint(w, "partition"));
	snprintf(cs, sizeof(cs), "%" PRId64, jint(w, "control-set"));
	snprintf(major, sizeof(major), "%" PRId64,
		 jint(w, "major") >= 0 ? jint(w, "major") : 0);
	snprintf(minor, sizeof(minor), "%" PRId64,
		 jint(w, "minor") >= 0 ? jint(w, "minor") : 0);
	snprintf(build, sizeof(build), "%ld",
		 jstr(w, "build") ? strtol(jstr(w, "build"), NULL, 10) : 0L);
	arch = jstr(w, "arch");
	inst = jstr(w, "installation-type");
	args[na++] = "-f";
	args[na++] = req->format;
	args[na++] = "--partition";
	args[na++] = part;
	args[na++] = "--systemroot";
	args[na++] = jstr(w, "systemroot");
	args[na++] = "--control-set";
	args[na++] = cs;
	args[na++] = "--major";
	args[na++] = major;
	args[na++] = "--minor";
	args[na++] = minor;
	args[na++] = "--build";
	args[na++] = build;
	args[na++] = "--arch";
	args[na++] = arch;
	if (inst && strncmp(inst, "Server", 6) == 0)
		args[na++] = "--server";
	args[na++] = iso ? "--virtio-iso" : "--virtio-dir";
	if (tfd >= 0)
		args[na++] = "--tools-dir";
	args[na] = NULL;

	snprintf(env_tmp, sizeof(env_tmp), "TMPDIR=%s", tmp);
	snprintf(env_xdg, sizeof(env_xdg), "XDG_RUNTIME_DIR=%s", tmp);
	snprintf(env_cache, sizeof(env_cache), "LIBGUESTFS_CACHEDIR=%s", cache);
	env[ne++] = env_tmp;
	env[ne++] = env_xdg;
	env[ne++] = env_cache;
	env[ne++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	env[ne++] = "LIBGUESTFS_BACKEND=direct";
	/* force_tcg where KVM cannot run (nested KVM here): passed on only
	 * when it is one of libguestfs' plain settings */
	if (getenv("LIBGUESTFS_BACKEND_SETTINGS") &&
	    strspn(getenv("LIBGUESTFS_BACKEND_SETTINGS"),
		   "abcdefghijklmnopqrstuvwxyz_:,0123456789") ==
		    strlen(getenv("LIBGUESTFS_BACKEND_SETTINGS")) &&
	    strlen(getenv("LIBGUESTFS_BACKEND_SETTINGS")) < 64) {
		snprintf(env_settings, sizeof(env_settings),
			 "LIBGUESTFS_BACKEND_SETTINGS=%s",
			 getenv("LIBGUESTFS_BACKEND_SETTINGS"));
		env[ne++] = env_settings;
	}
	env[ne] = NULL;

	fds[n_fds++] = req->disk_fd;
	fds[n_fds++] = vfd;
	if (tfd >= 0)
		fds[n_fds++] = tfd;
	common_options_job(req->opts, "inject", &job);
	job.args = args;
	job.env = env;
	job.fds = fds;
	job.n_fds = (size_t)n_fds;
	/* the injector reports its steps; a caller without a use for them
	 * still accepts them (spawn.c treats unasked progress as a protocol
	 * violation) */
	job.on_progress = req->on_progress ? req->on_progress : ignore_progress;
	job.userdata = req->userdata;
	if (helper_run(&job, &outcome, f) < 0)
		goto out;
	*ret = validate_inject(outcome.result, f);
	if (!*ret)
		goto out;
	json_add_clean(*ret, "virtio-win", used);
	json_object_object_add(*ret, "seconds",
			       json_object_new_double(outcome.seconds));
	json_object_object_add(*ret, "sandbox", json_object_get(outcome.sandbox));
	r = 0;
out:
	helper_outcome_done(&outcome);
	if (tmp[0])
		remove_tree(tmp);
	if (vfd >= 0)
		close(vfd);
	if (tfd >= 0)
		close(tfd);
	return r;
}

static void help(FILE *out)
{
	fprintf(out,
		"Usage: imgward inject [OPTIONS] DISK\n"
		"\n"
		"Install the virtio drivers into the Windows guest on DISK (raw\n"
		"or qcow2, modified in place), in the sandboxed injector: the\n"
		"guest's filesystems and registry are opened inside the\n"
		"libguestfs appliance, never by the host. DISK is first judged\n"
		"by the sniffer and scanned; a guest that already has the\n"
		"drivers, or that is not Windows, is left alone (\"skipped\").\n"
		"\n"
		"Options:\n"
		"      --json              print one JSON object\n"
		"  -f, --format FMT        what DISK is expected to be (raw or\n"
		"                          qcow2); anything else is refused\n"
		"      --virtio-win PATH   the virtio-win directory or ISO\n"
		"                          (default: $VIRTIO_WIN, then\n"
		"                          " VIRTIO_WIN_ISO ",\n"
		"                          then " VIRTIO_WIN_DIR ")\n"
		"  -h, --help              this text\n"
		"\n"
		"Environment: VIRT_TOOLS_DATA_DIR (default " VIRT_TOOLS_DIR "):\n"
		"where rhsrvany.exe or pvvxsvc.exe is, for a first-boot service;\n"
		"without one the first-boot step runs at the first logon\n"
		"(RunOnce). LIBGUESTFS_BACKEND_SETTINGS=force_tcg where KVM\n"
		"cannot be used. IMGWARD_APPLIANCE_CACHE: the appliance cache\n"
		"(default /var/tmp/imgward-appliance-UID, UID the helper's).\n"
		"\n%s\n%s",
		common_options_help, exit_status_help);
}

static void print_inject(const char *path, json_object *res)
{
	json_object *drivers = jget(res, "drivers");

	put_clean(stdout, path);
	if (strcmp(jstr(res, "action"), "skipped") == 0) {
		fputs(": nothing injected: ", stdout);
		put_clean(stdout, jstr(res, "reason"));
		fputc('\n', stdout);
		return;
	}
	fputs(": injected ", stdout);
	for (size_t i = 0; i < json_object_array_length(drivers); i++) {
		if (i)
			fputs(", ", stdout);
		put_clean(stdout, json_object_get_string(
					  json_object_array_get_idx(drivers, i)));
	}
	printf(" (%zu files from ", json_object_array_length(jget(res, "files")));
	put_clean(stdout, jstr(res, "os-dir"));
	fputc('/', stdout);
	put_clean(stdout, jstr(res, "arch-dir"));
	fputs("); first boot: ", stdout);
	put_clean(stdout, jstr(res, "firstboot"));
	fputc('\n', stdout);
}

int cmd_inject(int argc, char **argv)
{
	enum { OPT_JSON = 0x2000, OPT_VIRTIO_WIN };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, 'f' },
		{ "virtio-win", required_argument, NULL, OPT_VIRTIO_WIN },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{ 0 },
	};
	struct common_options sniff_opts, scan_opts, inject_opts;
	struct input_file in = { .fd = -1 }, ro = { .fd = -1 };
	struct iw_failure f = { 0 };
	struct inject_request req = { 0 };
	const char *expect = NULL, *path, *format, *why = NULL,
		   *virtio_win = NULL;
	json_object *probe = NULL, *extra = NULL, *scan = NULL, *res = NULL;
	enum iw_verdict v;
	bool json = false;
	int opt, status;

	if (common_options_init(&sniff_opts, "sniff", &f) < 0 ||
	    common_options_init(&scan_opts, "ntfs", &f) < 0 ||
	    common_options_init(&inject_opts, "inject", &f) < 0)
		return iw_report_failure(&f, false, NULL);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = true;
			break;
		case 'f':
			expect = optarg;
			if (strcmp(expect, "raw") != 0 &&
			    strcmp(expect, "qcow2") != 0) {
				iw_fail(&f, IW_E_USAGE,
					"--format %s: inject modifies raw and "
					"qcow2 disks only", expect);
				return iw_report_failure(&f, json, NULL);
			}
			break;
		case OPT_VIRTIO_WIN:
			virtio_win = optarg;
			break;
		case 'h':
			help(stdout);
			return 0;
		case '?':
			help(stderr);
			return IW_EXIT_USAGE;
		default:
			if (common_options_parse(&sniff_opts, opt, optarg, &f) < 0 ||
			    common_options_parse(&scan_opts, opt, optarg, &f) < 0 ||
			    common_options_parse(&inject_opts, opt, optarg, &f) < 0)
				return iw_report_failure(&f, json, NULL);
		}
	}
	if (optind != argc - 1) {
		iw_fail(&f, IW_E_USAGE, "inject takes exactly one DISK");
		fprintf(stderr, "Run 'imgward inject --help' for usage.\n");
		return iw_report_failure(&f, json, NULL);
	}
	path = argv[optind];
	extra = json_object_new_object();
	json_add_clean(extra, "filename", path);
	if (input_open_mode(path, O_RDWR, &in, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	/* the sniffer and the scanner get the same file read-only (they
	 * refuse anything else); the injector gets the read-write fd */
	if (input_reopen_rdonly(&in, &ro, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	/* 1. only a safe raw or qcow2 disk is modified */
	if (probe_input(&sniff_opts, &ro, expect, NULL, &probe, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}
	v = iw_input_verdict(probe, IW_ROLE_SINGLE, NULL, NULL, &why);
	format = jstr(probe, "format");
	if (v != IW_SAFE) {
		print_findings(stderr, probe, "  ");
		json_object_object_add(extra, "probe", json_object_get(probe));
		iw_fail(&f, IW_E_INJECT_REFUSED, "%s is %s (%s); not modifying it",
			path, iw_verdict_name(v), why ? why : "?");
		iw_report_failure(&f, json, extra);
		status = verdict_exit(v);
		goto out;
	}
	if (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0) {
		iw_fail(&f, IW_E_INJECT_REFUSED,
			"%s is %s: inject modifies raw and qcow2 disks only "
			"(convert it first, or use imgward import)", path, format);
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	/* 2. what is in it */
	if (scan_run(&scan_opts, ro.fd, format, &scan, NULL, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}

	/* 3. the injector */
	req = (struct inject_request){
		.disk_fd = in.fd,
		.format = format,
		.disk_path = path,
		.scan = scan,
		.virtio_win = virtio_win,
		.opts = &inject_opts,
	};
	if (inject_run(&req, &res, &f) < 0) {
		status = iw_report_failure(&f, json, extra);
		goto out;
	}
	if (json) {
		json_object_object_add(extra, "format",
				       json_object_new_string(format));
		json_object_object_add(extra, "inject", json_object_get(res));
		printf("%s\n", json_object_to_json_string_ext(
				       extra, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		print_inject(path, res);
	}
	status = 0;
	if (fflush(stdout) != 0) {
		iw_fail(&f, IW_E_INTERNAL, "cannot write the result: %s",
			strerror(errno));
		status = iw_report_failure(&f, false, NULL);
	}
out:
	json_object_put(res);
	json_object_put(scan);
	json_object_put(probe);
	json_object_put(extra);
	if (in.fd >= 0)
		close(in.fd);
	if (ro.fd >= 0)
		close(ro.fd);
	return status;
}
