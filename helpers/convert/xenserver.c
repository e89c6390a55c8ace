/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "xenserver.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "formats/decompress.h"
#include "formats/tar.h"
#include "formats/vhd-chain-map.h"
#include "helper.h"
#include "input-set.h"
#include "probe.h"

#define XS_BLOCK 4096

/* how far the decompressor has read the archive: the unpack's progress
 * (reads are in order; one unpack per process) */
static _Atomic uint64_t read_end;

static int counting_read(const struct iw_view *v, void *buf, size_t len,
			 uint64_t off)
{
	int r = iw_pread_all(v->fd, buf, len, off);

	if (r == 0 && off + len > atomic_load(&read_end))
		atomic_store(&read_end, off + len);
	return r;
}

struct unpack {
	int fd;
	uint64_t pos;
	uint64_t in_size;
	void (*progress)(uint64_t done, uint64_t total, void *);
	void *userdata;
	int error; /* negative errno of a failed write */
	uint8_t block[XS_BLOCK];
	size_t fill; /* bytes in block (the output not yet written) */
};

static bool block_is_zero(const uint8_t *b, size_t len)
{
	return len == 0 || (b[0] == 0 && memcmp(b, b + 1, len - 1) == 0);
}

/* write one whole block (or the tail), leaving a hole for zeros */
static int flush_block(struct unpack *u)
{
	int r = 0;

	if (!block_is_zero(u->block, u->fill))
		r = iw_pwrite_all(u->fd, u->block, u->fill, (off_t)u->pos);
	u->pos += u->fill;
	u->fill = 0;
	return r;
}

static int unpack_sink(void *opaque, const void *buf, size_t len)
{
	struct unpack *u = opaque;
	const uint8_t *p = buf;

	while (len > 0) {
		size_t n = XS_BLOCK - u->fill;

		if (n > len)
			n = len;
		memcpy(u->block + u->fill, p, n);
		u->fill += n;
		p += n;
		len -= n;
		if (u->fill == XS_BLOCK) {
			int r = flush_block(u);
			if (r < 0)
				return u->error = r;
		}
	}
	if (u->progress)
		u->progress(atomic_load(&read_end), u->in_size, u->userdata);
	return 0;
}

uint64_t xs_unpack(const struct iw_view *in, int scratch_fd, uint64_t limit,
		   void (*progress)(uint64_t done, uint64_t total, void *),
		   void *userdata)
{
	static const enum iw_compression kinds[] = {
		IW_COMPRESSION_GZIP, IW_COMPRESSION_XZ, IW_COMPRESSION_ZSTD,
		IW_COMPRESSION_BZIP2,
	};
	static struct unpack u; /* 4 KiB block: off the stack */
	struct iw_view counted = *in;
	struct iw_decompress_limits lim = { .max_out = limit };
	struct iw_decompress_result res;
	uint8_t magic[16] = { 0 };
	size_t got = in->size < sizeof(magic) ? (size_t)in->size : sizeof(magic);
	int kind = -1, r;

	if (iw_view_read(in, magic, got, 0) < 0)
		iw_helper_fail("io-error", "cannot read the archive");
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (iw_decompress_is_magic(kinds[i], magic, got))
			kind = (int)kinds[i];
	if (kind < 0)
		iw_helper_fail("refused", "the archive is not compressed in a "
			       "format imgward decompresses");
	u = (struct unpack){ .fd = scratch_fd,
			     .in_size = in->size,
			     .progress = progress,
			     .userdata = userdata };
	counted.read = counting_read;
	counted.budget = &counted.own_budget;
	counted.own_budget = UINT64_MAX; /* the whole stream, once */
	r = iw_decompress(&counted, (enum iw_compression)kind, &lim,
			  unpack_sink, &u, &res);
	if (r == 0 && u.error == 0)
		r = flush_block(&u);
	if (r < 0 || u.error < 0)
		iw_helper_fail(r == -ENOMEM ? "resource-limit" : "io-error",
			       "cannot unpack the archive: %s",
			       strerror(-(r < 0 ? r : u.error)));
	switch (res.status) {
	case IW_DECOMPRESS_END:
		break;
	case IW_DECOMPRESS_OUTPUT_CAP:
		iw_helper_fail("resource-limit",
			       "the archive unpacks to more than %llu bytes",
			       (unsigned long long)limit);
	default:
		iw_helper_fail("refused", "the compressed archive is broken: %s",
			       res.message ? res.message : "cannot decompress");
	}
	if (res.trailing_bytes && !res.trailing_zero)
		iw_helper_fail("refused", "the compressed archive has data "
			       "after its last stream");
	/* the tail may be a hole: the file must still be this long */
	if (ftruncate(scratch_fd, (off_t)u.pos) < 0)
		iw_helper_fail("io-error", "cannot size the scratch file: %s",
			       strerror(errno));
	return u.pos;
}

int xs_open_map(struct iw_view *tarv, struct iw_report *r, struct iw_map **ret)
{
	static struct iw_view views[IW_VHD_CHAIN_MAX_LAYERS];
	const struct iw_view *vp[IW_VHD_CHAIN_MAX_LAYERS];
	json_object *reports[IW_VHD_CHAIN_MAX_LAYERS];
	uint64_t bases[IW_VHD_CHAIN_MAX_LAYERS];
	json_object *rep, *tar = NULL, *fs, *data, *chain, *linked, *order;
	struct iw_report probe;
	struct iw_map *inner;
	const char *why = NULL;
	char msg[512];
	size_t n;
	int ret2;

	if (iw_report_init(&probe) < 0)
		iw_helper_fail("resource-limit", "out of memory");
	ret2 = iw_probe(tarv, &probe);
	if (ret2 < 0)
		iw_helper_fail(ret2 == -ENOMEM ? "resource-limit" : "io-error",
			       "cannot read the archive: %s", strerror(-ret2));
	rep = iw_report_to_json(&probe);
	iw_report_done(&probe);
	if (!rep)
		iw_helper_fail("resource-limit", "out of memory");
	/* the whole archive, every member, judged now that it can be read
	 * at random (the broker's sniffer saw only a compressed stream's
	 * head) */
	if (iw_input_verdict(rep, IW_ROLE_XENSERVER, NULL, &tar, &why) !=
	    IW_SAFE)
		iw_helper_fail("refused", "the archive is refused (%s)",
			       why ? why : "?");
	if (!json_object_object_get_ex(tar, "format-specific", &fs) ||
	    !json_object_object_get_ex(fs, "data", &data) ||
	    !json_object_object_get_ex(data, "xenserver-chain", &chain) ||
	    !json_object_object_get_ex(chain, "linked", &linked) ||
	    !json_object_get_boolean(linked) ||
	    !json_object_object_get_ex(chain, "order", &order) ||
	    !json_object_is_type(order, json_type_array))
		iw_helper_fail("refused", "the archive's VHD chain does not "
			       "link up (chain-broken; see imgward probe)");
	n = json_object_array_length(order);
	if (n == 0 || n > IW_VHD_CHAIN_MAX_LAYERS)
		iw_helper_fail("refused", "the archive's chain has %zu members "
			       "(1 to %d)", n, IW_VHD_CHAIN_MAX_LAYERS);
	for (size_t i = 0; i < n; i++) {
		const char *name =
			json_object_get_string(json_object_array_get_idx(order, i));
		json_object *child =
			name ? iw_report_child(tar, NULL, name, NULL) : NULL;
		const char *cv = child ? iw_json_str(child, "verdict") : NULL;

		if (!cv || strcmp(cv, "safe") != 0)
			iw_helper_fail("refused", "chain member %s is not safe",
				       name ? name : "?");
		reports[i] = child;
	}
	/* the sniffer linked them; check again the way --chain does */
	if (iw_vhd_chain_check(reports, n, msg, sizeof(msg)) < 0)
		iw_helper_fail("refused", "chain-broken: %s", msg);

	tarv->own_budget = UINT64_MAX; /* converting reads what it must */
	for (size_t i = 0; i < n; i++) {
		const char *name =
			json_object_get_string(json_object_array_get_idx(order, i));
		uint64_t size = 0;

		ret2 = tar_find_member(tarv, name, &bases[i], &size, &why);
		if (ret2 == -ENOENT || ret2 == -EINVAL)
			iw_helper_fail("refused", "chain member %s: %s", name,
				       why ? why : "not in the archive");
		if (ret2 < 0)
			iw_helper_fail("io-error", "cannot read the archive: %s",
				       strerror(-ret2));
		if (iw_view_init_sub(&views[i], tarv, bases[i], size) < 0)
			iw_helper_fail("refused", "chain member %s runs past "
				       "the archive's end", name);
		vp[i] = &views[i];
	}
	json_object_put(rep);
	ret2 = iw_map_open_vhd_chain(vp, n, r, &inner);
	if (ret2 < 0)
		return ret2;
	return iw_map_shift_files(inner, bases, n, ret);
}
