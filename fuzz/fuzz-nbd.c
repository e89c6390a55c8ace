/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: imgward-inject's NBD server (lib/nbd-server.c), the
 * host-side code a compromised appliance qemu talks to. The input is the
 * client's whole byte stream (handshake, options, requests, write data),
 * fed through a UNIX socketpair to nbd_serve_connection() exactly as an
 * accepted connection; the replies are drained by a thread. The export is
 * a 64 KiB memfd: read-only, plain read-write, or read-write with room to
 * grow past the file's end (the qcow2 case), chosen by the first byte.
 * Checked afterwards: a read-only export is unchanged, and no write ever
 * landed past the export's size.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nbd-server.h"

/* A conversation of a few dozen requests; the socket's buffer must hold
 * all of it, since it is written before the server runs. */
#define MAX_INPUT (64 << 10)
#define EXPORT_SIZE (64 << 10)
#define GROWTH (16 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[16384];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t before[EXPORT_SIZE];
	struct nbd_export e = { 0 };
	int sv[2], sndbuf = 4 * MAX_INPUT;
	pthread_t t;
	off_t end;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	e.fd = memfd_create("nbd-export", MFD_CLOEXEC);
	if (e.fd < 0)
		abort();
	for (size_t i = 0; i < sizeof(before); i++)
		before[i] = (uint8_t)(i * 7);
	if (pwrite(e.fd, before, sizeof(before), 0) != (ssize_t)sizeof(before))
		abort();
	e.readonly = (data[0] & 3) == 0;
	e.size = EXPORT_SIZE + ((data[0] & 3) == 2 ? GROWTH : 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (write(sv[1], data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	shutdown(sv[1], SHUT_WR);
	if (pthread_create(&t, NULL, drain, &sv[1]) != 0)
		abort();
	if (nbd_serve_connection(&e, sv[0]) < 0)
		abort();
	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);

	end = lseek(e.fd, 0, SEEK_END);
	if (end < 0 || (uint64_t)end > e.size)
		abort(); /* a write past the export */
	if (e.readonly) {
		static uint8_t after[EXPORT_SIZE];

		if (end != EXPORT_SIZE ||
		    pread(e.fd, after, sizeof(after), 0) != (ssize_t)sizeof(after) ||
		    memcmp(before, after, sizeof(after)) != 0)
			abort(); /* a read-only export changed */
	}
	close(e.fd);
	return 0;
}
