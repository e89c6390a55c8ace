/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IW_NBD_SERVER_H
#define IW_NBD_SERVER_H

#include <stdbool.h>
#include <stdint.h>

struct nbd_export {
	int fd;		 /* what is served (pread/pwrite) */
	uint64_t size;	 /* the export's size: the file's, or more for a
			  * qcow2 that may grow (reads past the file's end
			  * are zeros, writes extend it) */
	bool readonly;
	int listen_fd;
	/* counters, written by the server thread only */
	uint64_t bytes_written;
	uint64_t errors;
};

/* Listen on sock_path (a UNIX socket) and serve e from a thread, one
 * connection at a time, until the process exits. 0 or -errno. */
int nbd_export_start(struct nbd_export *e, const char *sock_path);

/* Serve one connected client c until it disconnects or breaks the
 * protocol (then the connection is just dropped). 0, or -ENOMEM. */
int nbd_serve_connection(struct nbd_export *e, int c);

#endif
