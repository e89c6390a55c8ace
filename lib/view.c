/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int mem_read(const struct iw_view *v, void *buf, size_t len,
		    uint64_t off)
{
	memcpy(buf, (const uint8_t *)v->mem + off, len);
	return 0;
}

static int sub_read(const struct iw_view *v, void *buf, size_t len,
		    uint64_t off)
{
	/* off+len <= v->size and base+size <= parent->size were checked. */
	return v->parent->read(v->parent, buf, len, v->base + off);
}

void iw_view_init_mem(struct iw_view *v, const void *buf, size_t len)
{
	*v = (struct iw_view){
		.size = len,
		.read = mem_read,
		.mem = buf,
		.fd = -1,
		.own_budget = IW_VIEW_DEFAULT_BUDGET,
	};
	v->budget = &v->own_budget;
}

void iw_view_init_custom(struct iw_view *v, uint64_t size, iw_read_fn read_fn,
			 void *priv)
{
	*v = (struct iw_view){
		.size = size,
		.read = read_fn,
		.fd = -1,
		.priv = priv,
		.own_budget = IW_VIEW_DEFAULT_BUDGET,
	};
	v->budget = &v->own_budget;
}

int iw_view_init_sub(struct iw_view *v, const struct iw_view *parent,
		     uint64_t off, uint64_t len)
{
	if (!iw_view_contains(parent, off, len))
		return -ERANGE;
	*v = (struct iw_view){
		.size = len,
		.partial = parent->partial,
		.read = sub_read,
		.fd = -1,
		.parent = parent,
		.base = off,
		.budget = parent->budget,
	};
	return 0;
}

int iw_view_read(const struct iw_view *v, void *buf, size_t len, uint64_t off)
{
	if (len == 0)
		return 0;
	if (!iw_view_contains(v, off, len))
		return -ERANGE;
	if (*v->budget < len)
		return -E2BIG;
	*v->budget -= len;
	return v->read(v, buf, len, off);
}

int iw_view_read_upto(const struct iw_view *v, void *buf, size_t len,
		      uint64_t off, size_t *ret_got)
{
	size_t n = 0;
	int r;

	if (off < v->size)
		n = (size_t)MIN((uint64_t)len, v->size - off);
	r = iw_view_read(v, buf, n, off);
	if (r < 0)
		return r;
	*ret_got = n;
	return 0;
}

int iw_view_read_alloc(const struct iw_view *v, uint64_t off, size_t len,
		       void **ret_buf)
{
	_cleanup_free_ void *buf = NULL;
	int r;

	if (!iw_view_contains(v, off, len))
		return -ERANGE;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	r = iw_view_read(v, buf, len, off);
	if (r < 0)
		return r;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}
