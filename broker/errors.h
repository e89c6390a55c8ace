/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The broker's stable error codes and exit statuses (README "Exit
 * status" and "Errors"). Every failure the broker reports carries one of
 * these codes, on stderr and, with --json, as {"error": {...}}.
 */
#ifndef IW_BROKER_ERRORS_H
#define IW_BROKER_ERRORS_H

#include <json-c/json.h>

#include "util.h"

/* exit statuses */
enum {
	IW_EXIT_SAFE = 0,
	IW_EXIT_UNSAFE = 1,
	IW_EXIT_INVALID = 2,
	IW_EXIT_UNSUPPORTED = 3,
	IW_EXIT_USAGE = 64,
	IW_EXIT_DATA = 65,
	IW_EXIT_INPUT = 66,
	IW_EXIT_SANDBOX = 69,
	IW_EXIT_HELPER = 70,
	IW_EXIT_INTERNAL = 71,
	IW_EXIT_OUTPUT = 73,
	IW_EXIT_CONFIG = 78,
};

#define IW_ERRORS(X)                                                           \
	X(USAGE, "usage", IW_EXIT_USAGE)                                       \
	X(NO_SUCH_FILE, "no-such-file", IW_EXIT_INPUT)                         \
	X(NOT_A_FILE, "not-a-file", IW_EXIT_INPUT)                             \
	X(SYMLINK, "symlink", IW_EXIT_INPUT)                                   \
	X(INPUT_ERROR, "input-error", IW_EXIT_INPUT)                           \
	X(SANDBOX_UNAVAILABLE, "sandbox-unavailable", IW_EXIT_SANDBOX)         \
	X(SPAWN_FAILED, "spawn-failed", IW_EXIT_SANDBOX)                       \
	X(POLICY_VIOLATION, "policy-violation", IW_EXIT_HELPER)                \
	X(TIMEOUT, "timeout", IW_EXIT_HELPER)                                  \
	X(RESOURCE_LIMIT, "resource-limit", IW_EXIT_HELPER)                    \
	X(HELPER_CRASH, "helper-crash", IW_EXIT_HELPER)                        \
	X(PROTOCOL_VIOLATION, "protocol-violation", IW_EXIT_HELPER)            \
	X(INTERNAL, "internal", IW_EXIT_INTERNAL)                              \
	X(CONVERSION_REFUSED, "conversion-refused", IW_EXIT_DATA)              \
	X(OUTPUT_ERROR, "output-error", IW_EXIT_OUTPUT)                        \
	X(TARGET_TOO_SMALL, "target-too-small", IW_EXIT_OUTPUT)                \
	X(SCAN_REFUSED, "scan-refused", IW_EXIT_DATA)                          \
	X(IMPORT_REFUSED, "import-refused", IW_EXIT_DATA)                      \
	X(INJECT_REFUSED, "inject-refused", IW_EXIT_DATA)                      \
	X(GUEST_UNSUPPORTED, "guest-unsupported", IW_EXIT_DATA)                \
	X(NO_DRIVERS, "no-drivers", IW_EXIT_CONFIG)                            \
	X(VIRTIO_WIN_UNAVAILABLE, "virtio-win-unavailable", IW_EXIT_CONFIG)    \
	X(APPLIANCE_FAILED, "appliance-failed", IW_EXIT_SANDBOX)               \
	X(INJECT_FAILED, "inject-failed", IW_EXIT_HELPER)

enum iw_error {
	IW_OK = 0,
#define X(id, name, exit) IW_E_##id,
	IW_ERRORS(X)
#undef X
};

const char *iw_error_name(enum iw_error e);
int iw_error_exit_status(enum iw_error e);

/* A failure with its code and a human message. */
struct iw_failure {
	enum iw_error code;
	char message[512];
};

void iw_fail(struct iw_failure *f, enum iw_error code, const char *fmt, ...)
	_printf_(3, 4);

/* Report f on stderr ("imgward: <message> [<code>]") and, when json is
 * set, as {"error": {"code", "message"}} on stdout; returns the exit
 * status for it. extra (may be NULL) is merged into the JSON object. */
int iw_report_failure(const struct iw_failure *f, bool json,
		      json_object *extra);

#endif
