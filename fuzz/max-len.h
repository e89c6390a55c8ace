/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For harnesses whose useful inputs are bigger than 1 MiB (VHDX, VDI):
 * libFuzzer caps the inputs it loads and makes at 1 MiB unless -max_len
 * is given, which would cut every seed of these formats before its first
 * data block. FUZZ_DEFAULT_MAX_LEN(n) adds -max_len=n to the command line
 * unless the caller gave one. (The replay build never calls it.)
 */
#ifndef IW_FUZZ_MAX_LEN_H
#define IW_FUZZ_MAX_LEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_DEFAULT_MAX_LEN(n)                                                \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                      \
	{                                                                      \
		static char arg[32];                                           \
		static char **args; /* kept: libFuzzer holds on to argv */     \
									       \
		for (int i = 1; i < *argc; i++)                                \
			if (strncmp((*argv)[i], "-max_len=", 9) == 0)          \
				return 0;                                      \
		args = calloc((size_t)*argc + 2, sizeof(*args));               \
		if (!args)                                                     \
			return 0;                                              \
		memcpy(args, *argv, (size_t)*argc * sizeof(*args));            \
		snprintf(arg, sizeof(arg), "-max_len=%zu", (size_t)(n));       \
		args[(*argc)++] = arg;                                         \
		*argv = args;                                                  \
		return 0;                                                      \
	}

#endif
