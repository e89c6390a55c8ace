/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mapper registry, the raw mapper, and unit decompression. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "map.h"

static const struct {
	const char *format;
	int (*open)(const struct iw_view *, struct iw_report *,
		    struct iw_map **);
} mappers[] = {
	{ "raw", iw_map_open_raw },   { "qcow2", iw_map_open_qcow2 },
	{ "vmdk", iw_map_open_vmdk }, { "vhd", iw_map_open_vhd },
	{ "vhdx", iw_map_open_vhdx }, { "vdi", iw_map_open_vdi },
};

int iw_map_open(const char *format, const struct iw_view *v,
		struct iw_report *r, struct iw_map **ret)
{
	for (size_t i = 0; i < sizeof(mappers) / sizeof(mappers[0]); i++)
		if (strcmp(mappers[i].format, format) == 0)
			return mappers[i].open(v, r, ret);
	return -EPROTONOSUPPORT;
}

void iw_map_free(struct iw_map *m)
{
	if (m)
		m->ops->free(m);
}

/* ---- raw: the file is the disk --------------------------------------- */

/* The file is the disk. (The engine skips the file's holes itself.) */
static int raw_next(struct iw_map *m, uint64_t offset, uint64_t max_length,
		    struct iw_extent *ret)
{
	if (offset >= m->virtual_size || max_length == 0)
		return -EINVAL;
	*ret = (struct iw_extent){
		.offset = offset,
		.length = MIN(max_length, m->virtual_size - offset),
		.type = IW_EXTENT_DATA,
		.host_offset = offset,
	};
	return 0;
}

static void raw_free(struct iw_map *m)
{
	free(m);
}

static const struct iw_map_ops raw_ops = {
	.next = raw_next,
	.free = raw_free,
};

int iw_map_open_raw(const struct iw_view *v, struct iw_report *r,
		    struct iw_map **ret)
{
	struct iw_map *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*m = (struct iw_map){ .ops = &raw_ops,
			      .virtual_size = v->size,
			      .view = v,
			      .report = r };
	*ret = m;
	return 0;
}

/* ---- decompression of one unit ----------------------------------------- */

static int inflate_unit(const void *in, size_t in_len, void *out,
			size_t out_len, int window_bits)
{
	z_stream z = { 0 };
	int r;

	if (in_len > UINT32_MAX || out_len > UINT32_MAX)
		return -EINVAL;
	if (inflateInit2(&z, window_bits) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)in_len;
	z.next_out = out;
	z.avail_out = (uInt)out_len;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	/* Z_STREAM_END: the stream ended; Z_BUF_ERROR with avail_out == 0:
	 * the unit is full and the rest is slack (qemu stops there too) */
	if (z.avail_out != 0)
		return -EBADMSG;
	if (r != Z_STREAM_END && r != Z_BUF_ERROR && r != Z_OK)
		return -EBADMSG;
	return 0;
}

static int zstd_unit(const void *in, size_t in_len, void *out, size_t out_len)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };
	size_t r;

	if (!d)
		return -ENOMEM;
	/* a unit is one cluster: refuse windows a cluster cannot need, so a
	 * frame cannot make the decoder allocate much */
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 23);
	do {
		r = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(r)) {
			ZSTD_freeDCtx(d);
			return -EBADMSG;
		}
	} while (ob.pos < ob.size && ib.pos < ib.size && r != 0);
	ZSTD_freeDCtx(d);
	return ob.pos == ob.size ? 0 : -EBADMSG;
}

int iw_decompress_unit(enum iw_codec codec, const void *in, size_t in_len,
		       void *out, size_t out_len)
{
	switch (codec) {
	case IW_CODEC_DEFLATE:
		return inflate_unit(in, in_len, out, out_len, -15);
	case IW_CODEC_ZLIB:
		return inflate_unit(in, in_len, out, out_len, 15);
	case IW_CODEC_ZSTD:
		return zstd_unit(in, in_len, out, out_len);
	case IW_CODEC_NONE:
		break;
	}
	return -EINVAL;
}
