/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Driver injection from the broker's side (cmd-inject.c): run
 * imgward-inject on an opened guest disk and take back its (validated)
 * answer. `imgward inject` and `imgward import --conversion ...,virtio`
 * both come through here.
 */
#ifndef IW_BROKER_INJECT_H
#define IW_BROKER_INJECT_H

#include <json-c/json.h>

#include "commands.h"
#include "errors.h"

struct inject_request {
	int disk_fd;		 /* the guest disk, opened read-write */
	const char *format;	 /* "raw" or "qcow2" (the sniffer's verdict) */
	const char *disk_path;	 /* for messages only */
	json_object *scan;	 /* the disk's validated scan report (cmd-scan's
				  * "scan" object), or NULL: the helper needs
				  * the Windows facts from it */
	const char *virtio_win;	 /* directory or ISO; NULL: $VIRTIO_WIN,
				  * then /usr/share/virtio-win/virtio-win.iso,
				  * then /usr/share/virtio-win */
	const struct common_options *opts; /* for imgward-inject */
	void (*on_progress)(json_object *msg, void *userdata);
	void *userdata;
};

/*
 * Inject virtio drivers into the guest of req->disk_fd.
 * 0 with *ret the result object:
 *   {"action": "injected"|"skipped", "reason": "..." (skipped),
 *    "drivers": ["viostor", ...], "files": N, "firstboot": "..."}
 * or -1 with f set (no-drivers, virtio-win-unavailable, appliance-failed,
 * guest-unsupported, inject-failed, or a sandbox/helper failure).
 * When the guest already has the drivers (scan: virtio-installed), no
 * helper runs: the result says "skipped".
 */
int inject_run(const struct inject_request *req, json_object **ret,
	       struct iw_failure *f);

#endif
