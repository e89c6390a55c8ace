/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal NBD server (newstyle fixed handshake, simple replies) that
 * serves one of imgward-inject's fds to the appliance's qemu over a UNIX
 * socket in the helper's private directory (fuzz/fuzz-nbd.c drives it
 * with hostile clients).
 *
 * Why: the broker opened the disk (it may be root's file, or a block
 * device) and handed over the fd; the helper runs as an unprivileged uid.
 * libguestfs hands qemu a file *name*, and reopening the file by name,
 * even through /proc/self/fd/N, is checked against the helper's uid
 * again, so qemu could not open the disk it was given. Over NBD, qemu
 * reads and writes through the fd the broker opened and nothing else.
 *
 * The client is qemu, which runs the untrusted guest: every request is
 * bounded (length, offset, option sizes) and a malformed one ends the
 * connection. Protocol: the NBD project's doc/proto.md.
 */
#include "nbd-server.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define NBD_MAGIC 0x4e42444d41474943ULL	   /* "NBDMAGIC" */
#define NBD_IHAVEOPT 0x49484156454F5054ULL /* "IHAVEOPT" */
#define NBD_REP_MAGIC 0x3e889045565a9ULL
#define NBD_REQUEST_MAGIC 0x25609513U
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698U

#define NBD_FLAG_FIXED_NEWSTYLE 1
#define NBD_FLAG_NO_ZEROES 2
#define NBD_FLAG_C_NO_ZEROES 2

#define NBD_OPT_EXPORT_NAME 1
#define NBD_OPT_ABORT 2
#define NBD_OPT_INFO 6
#define NBD_OPT_GO 7

#define NBD_REP_ACK 1
#define NBD_REP_INFO 3
#define NBD_REP_ERR_UNSUP 0x80000001U
#define NBD_INFO_EXPORT 0

#define NBD_TFLAG_HAS_FLAGS (1 << 0)
#define NBD_TFLAG_READ_ONLY (1 << 1)
#define NBD_TFLAG_SEND_FLUSH (1 << 2)
#define NBD_TFLAG_SEND_FUA (1 << 3)

#define NBD_CMD_READ 0
#define NBD_CMD_WRITE 1
#define NBD_CMD_DISC 2
#define NBD_CMD_FLUSH 3
#define NBD_CMD_FLAG_FUA (1 << 0)

/* qemu's NBD client never asks for more than 32 MiB at once; an option
 * (an export name, info requests) is a few bytes. */
#define NBD_MAX_REQUEST (32U << 20)
#define NBD_MAX_OPTION 4096

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint16_t tflags(const struct nbd_export *e)
{
	return (uint16_t)(NBD_TFLAG_HAS_FLAGS |
			  (e->readonly ? NBD_TFLAG_READ_ONLY
				       : NBD_TFLAG_SEND_FLUSH | NBD_TFLAG_SEND_FUA));
}

static int opt_reply(int c, uint32_t opt, uint32_t type, const void *data,
		     uint32_t len)
{
	uint8_t h[20];
	uint64_t magic = htobe64(NBD_REP_MAGIC);
	uint32_t v;

	memcpy(h, &magic, 8);
	v = htobe32(opt);
	memcpy(h + 8, &v, 4);
	v = htobe32(type);
	memcpy(h + 12, &v, 4);
	v = htobe32(len);
	memcpy(h + 16, &v, 4);
	if (write_full(c, h, sizeof(h)) < 0)
		return -1;
	return len ? write_full(c, data, len) : 0;
}

/* The handshake: 0 when transmission begins, -1 to hang up. */
static int handshake(const struct nbd_export *e, int c)
{
	uint8_t greet[18], opt[NBD_MAX_OPTION];
	uint64_t v64;
	uint32_t cflags;
	uint16_t v16;

	v64 = htobe64(NBD_MAGIC);
	memcpy(greet, &v64, 8);
	v64 = htobe64(NBD_IHAVEOPT);
	memcpy(greet + 8, &v64, 8);
	v16 = htobe16(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	memcpy(greet + 16, &v16, 2);
	if (write_full(c, greet, sizeof(greet)) < 0 ||
	    read_full(c, &cflags, 4) < 0)
		return -1;
	cflags = be32toh(cflags);
	if (!(cflags & NBD_FLAG_FIXED_NEWSTYLE))
		return -1;

	for (unsigned round = 0; round < 32; round++) {
		uint8_t h[16];
		uint32_t o, len;

		if (read_full(c, h, sizeof(h)) < 0)
			return -1;
		memcpy(&v64, h, 8);
		memcpy(&o, h + 8, 4);
		memcpy(&len, h + 12, 4);
		o = be32toh(o);
		len = be32toh(len);
		if (be64toh(v64) != NBD_IHAVEOPT || len > sizeof(opt) ||
		    read_full(c, opt, len) < 0)
			return -1;
		switch (o) {
		case NBD_OPT_EXPORT_NAME: {
			uint8_t r[10 + 124] = { 0 };
			size_t rl = (cflags & NBD_FLAG_C_NO_ZEROES) ? 10 : sizeof(r);

			v64 = htobe64(e->size);
			memcpy(r, &v64, 8);
			v16 = htobe16(tflags(e));
			memcpy(r + 8, &v16, 2);
			return write_full(c, r, rl);
		}
		case NBD_OPT_INFO:
		case NBD_OPT_GO: {
			uint8_t info[12];

			/* any export name is this export */
			v16 = htobe16(NBD_INFO_EXPORT);
			memcpy(info, &v16, 2);
			v64 = htobe64(e->size);
			memcpy(info + 2, &v64, 8);
			v16 = htobe16(tflags(e));
			memcpy(info + 10, &v16, 2);
			if (opt_reply(c, o, NBD_REP_INFO, info, sizeof(info)) < 0 ||
			    opt_reply(c, o, NBD_REP_ACK, NULL, 0) < 0)
				return -1;
			if (o == NBD_OPT_GO)
				return 0;
			break;
		}
		case NBD_OPT_ABORT:
			(void)opt_reply(c, o, NBD_REP_ACK, NULL, 0);
			return -1;
		default:
			/* structured replies, meta contexts, TLS, lists: not
			 * offered; qemu falls back to simple replies */
			if (opt_reply(c, o, NBD_REP_ERR_UNSUP, NULL, 0) < 0)
				return -1;
		}
	}
	return -1;
}

static int reply(int c, uint64_t cookie, uint32_t err, const void *data,
		 size_t len)
{
	uint8_t h[16];
	uint32_t v = htobe32(NBD_SIMPLE_REPLY_MAGIC);

	memcpy(h, &v, 4);
	v = htobe32(err);
	memcpy(h + 4, &v, 4);
	memcpy(h + 8, &cookie, 8); /* opaque: echoed as received */
	if (write_full(c, h, sizeof(h)) < 0)
		return -1;
	return len ? write_full(c, data, len) : 0;
}

/* Reads past the end of the file, inside the export (a growable qcow2),
 * are zeros. */
static int do_read(const struct nbd_export *e, uint8_t *buf, uint64_t off,
		   uint32_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(e->fd, buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0) {
			memset(buf + done, 0, len - done);
			break;
		}
		done += (size_t)n;
	}
	return 0;
}

static int do_write(const struct nbd_export *e, const uint8_t *buf,
		    uint64_t off, uint32_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(e->fd, buf + done, len - done,
				   (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		done += (size_t)n;
	}
	return 0;
}

static void transmit(struct nbd_export *e, int c, uint8_t *buf)
{
	for (;;) {
		uint8_t h[28];
		uint32_t magic, len, err = 0;
		uint16_t flags, type;
		uint64_t cookie, off;

		if (read_full(c, h, sizeof(h)) < 0)
			return;
		memcpy(&magic, h, 4);
		memcpy(&flags, h + 4, 2);
		memcpy(&type, h + 6, 2);
		memcpy(&cookie, h + 8, 8);
		memcpy(&off, h + 16, 8);
		memcpy(&len, h + 24, 4);
		flags = be16toh(flags);
		type = be16toh(type);
		off = be64toh(off);
		len = be32toh(len);
		if (be32toh(magic) != NBD_REQUEST_MAGIC)
			return;
		switch (type) {
		case NBD_CMD_DISC:
			return;
		case NBD_CMD_FLUSH:
			if (!e->readonly && fdatasync(e->fd) < 0)
				err = (uint32_t)errno;
			if (reply(c, cookie, err, NULL, 0) < 0)
				return;
			break;
		case NBD_CMD_READ:
		case NBD_CMD_WRITE:
			if (len > NBD_MAX_REQUEST)
				return; /* cannot even skip a write's data */
			if (type == NBD_CMD_WRITE && read_full(c, buf, len) < 0)
				return;
			if (off > e->size || len > e->size - off)
				err = EINVAL;
			else if (type == NBD_CMD_WRITE && e->readonly)
				err = EPERM;
			else if (type == NBD_CMD_READ)
				err = (uint32_t)do_read(e, buf, off, len);
			else if ((err = (uint32_t)do_write(e, buf, off, len)) == 0 &&
				 (flags & NBD_CMD_FLAG_FUA) && fdatasync(e->fd) < 0)
				err = (uint32_t)errno;
			/* errno values are Linux's, as the protocol's are */
			if (err)
				e->errors++;
			else if (type == NBD_CMD_WRITE)
				e->bytes_written += len;
			if (reply(c, cookie, err, buf,
				  type == NBD_CMD_READ && !err ? len : 0) < 0)
				return;
			break;
		default:
			if (reply(c, cookie, EINVAL, NULL, 0) < 0)
				return;
		}
	}
}

int nbd_serve_connection(struct nbd_export *e, int c)
{
	uint8_t *buf = malloc(NBD_MAX_REQUEST);

	if (!buf)
		return -ENOMEM;
	if (handshake(e, c) == 0)
		transmit(e, c, buf);
	free(buf);
	return 0;
}

static void *serve(void *arg)
{
	struct nbd_export *e = arg;

	for (;;) {
		int c = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		(void)nbd_serve_connection(e, c);
		close(c);
	}
	return NULL;
}

int nbd_export_start(struct nbd_export *e, const char *sock_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;
	int r;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock_path);
	e->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e->listen_fd < 0)
		return -errno;
	if (bind(e->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(e->listen_fd, 4) < 0) {
		r = -errno;
		close(e->listen_fd);
		return r;
	}
	r = pthread_create(&t, NULL, serve, e);
	if (r != 0) {
		close(e->listen_fd);
		return -r;
	}
	pthread_detach(t);
	return 0;
}
