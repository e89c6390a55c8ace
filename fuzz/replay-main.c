/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run a libFuzzer harness without libFuzzer: feed it every file named on
 * the command line (directories: every regular file in them). `make
 * check` builds each harness with this and replays fuzz/regressions/ and
 * the generated seed corpus, so a fixed crash stays fixed (systemd's
 * fuzz-main pattern). Prints TAP.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int n;

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf;
	long len;

	if (!fp)
		return -errno;
	if (fseek(fp, 0, SEEK_END) < 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) < 0) {
		fclose(fp);
		return -EIO;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len) {
		free(buf);
		fclose(fp);
		return -EIO;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	printf("ok %d - %s\n", ++n, path);
	fflush(stdout);
	return 0;
}

static int run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		struct dirent **names;
		int count = scandir(path, &names, NULL, alphasort);

		if (count < 0)
			return -errno;
		for (int i = 0; i < count; i++) {
			char child[4096];

			if (names[i]->d_name[0] != '.' &&
			    (size_t)snprintf(child, sizeof(child), "%s/%s", path,
					     names[i]->d_name) < sizeof(child))
				run_path(child);
			free(names[i]);
		}
		free(names);
		return 0;
	}
	return S_ISREG(st.st_mode) ? run_file(path) : 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int r = run_path(argv[i]);
		if (r < 0) {
			printf("not ok %d - %s: %s\n", ++n, argv[i], strerror(-r));
			return 1;
		}
	}
	printf("1..%d\n", n);
	return 0;
}
