/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imgward: the broker. It opens files and judges helpers; it does not
 * parse images. One subcommand per job kind (commands[] below); each
 * parses its own options with the shared sandbox options from
 * options.c and runs one or more helpers through helper_run().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "errors.h"

static const struct command commands[] = {
	{ "probe", cmd_probe,
	  "identify an image and judge whether it is safe to open" },
	{ "convert", cmd_convert,
	  "convert an image to raw (or qcow2) in the sandboxed converter" },
	{ "scan", cmd_scan,
	  "list partitions and filesystems, find Windows, in the sandboxed "
	  "scanner" },
	{ "inject", cmd_inject,
	  "install virtio drivers into a Windows disk, in the sandboxed "
	  "injector (libguestfs)" },
	{ "import", cmd_import,
	  "probe, convert into a target, and inject virtio drivers: LXD's "
	  "import flow, sandboxed" },
	/* serve slots in here */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: imgward [--version] [--help] COMMAND [OPTIONS] ARGS\n"
		"\n"
		"Inspect untrusted VM disk images inside a sandbox.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out,
		"\n"
		"Run 'imgward COMMAND --help' for a command's options.\n"
		"\n%s",
		exit_status_help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return IW_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("imgward %s\n", IMGWARD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "imgward: unknown command '%s' [usage]\n", argv[1]);
	usage(stderr);
	return IW_EXIT_USAGE;
}
