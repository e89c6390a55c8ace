/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run every reader, pick the primary format, and record what else
 * matched. The decision rules (README "How the verdict is reached"):
 *
 *  - image formats, wrappers and archives are "containers": if more than
 *    one matches, that is multiple-formats (someone hid one header in
 *    another), whatever qemu would pick;
 *  - content structures (MBR, GPT, ISO 9660, UDF) describe raw disks and
 *    may coexist, but next to a container they are a polyglot unless the
 *    container's payload starts at offset 0 (a fixed VHD is a raw disk
 *    with a footer);
 *  - if qemu's own probe would pick a non-raw format that no reader
 *    accepted, the file is not what it looks like to qemu: unsafe.
 */
#include <errno.h>
#include <string.h>

#include "formats/formats.h"
#include "probe.h"

struct iw_probe_ctx {
	unsigned depth;
};

static int run_reader(const struct iw_format *f, const struct iw_view *v,
		      const uint8_t *head, size_t head_len,
		      struct iw_report *r, struct iw_probe_ctx *ctx)
{
	int ret;

	ret = f->probe(v, head, head_len, r, ctx);
	if (ret == -ENOSYS) {
		/* reader not built in this tree yet: say so, never "safe" */
		iw_finding(r, IW_F_UNSUPPORTED_FORMAT,
			   "%s is recognised but not inspected", f->name);
		ret = 0;
	}
	if (ret < 0)
		return ret;
	if (strcmp(r->format, "raw") == 0 && f->kind != IW_KIND_CONTENT)
		r->format = f->name;
	return 0;
}

/* The first IW_HEAD_SIZE bytes (fewer for a smaller file), which every
 * reader's match() looks at. *ret_head is malloc'd. */
static int read_head(const struct iw_view *v, uint8_t **ret_head,
		     size_t *ret_len)
{
	size_t len = (size_t)MIN(v->size, (uint64_t)IW_HEAD_SIZE);
	uint8_t *head = malloc(len ? len : 1);
	int ret;

	if (!head)
		return -ENOMEM;
	ret = iw_view_read(v, head, len, 0);
	if (ret < 0) {
		free(head);
		return ret;
	}
	*ret_head = head;
	*ret_len = len;
	return 0;
}

static int probe_view(struct iw_probe_ctx *ctx, const struct iw_view *v,
		      struct iw_report *r)
{
	const struct iw_format *containers[32], *contents[32];
	size_t n_containers = 0, n_contents = 0, head_len;
	const struct iw_format *primary = NULL;
	const struct iw_view *content_view = v;
	struct iw_view payload;
	_cleanup_free_ uint8_t *head = NULL;
	const char *qemu_pick;
	int ret;

	ret = read_head(v, &head, &head_len);
	if (ret < 0)
		return ret;

	r->qemu_probe = iw_qemu_probe(head, head_len, v->size);
	qemu_pick = iw_format_from_qemu(r->qemu_probe);

	for (size_t i = 0; i < iw_formats_count; i++) {
		const struct iw_format *f = iw_formats[i];

		if (!f->match(v, head, head_len))
			continue;
		iw_report_add_match(r, f->name);
		if (f->kind == IW_KIND_CONTENT) {
			if (n_contents < ARRAY_SIZE(contents))
				contents[n_contents++] = f;
		} else if (n_containers < ARRAY_SIZE(containers)) {
			containers[n_containers++] = f;
		}
	}

	for (size_t i = 0; i < n_containers; i++)
		if (strcmp(containers[i]->name, qemu_pick) == 0)
			primary = containers[i];
	if (!primary && n_containers > 0)
		primary = containers[0];

	if (primary) {
		ret = run_reader(primary, v, head, head_len, r, ctx);
		if (ret < 0)
			return ret;
	} else {
		r->format = "raw";
		/* a partial view (a decompressed head) is not the whole disk:
		 * its length says nothing about the real size */
		if (!v->partial)
			r->virtual_size = (int64_t)v->size;
	}

	/* Every other container that matched is reported alongside. */
	for (size_t i = 0; i < n_containers; i++) {
		struct iw_report alt;

		if (containers[i] == primary)
			continue;
		iw_finding(r, IW_F_MULTIPLE_FORMATS,
			   "the file matches both %s and %s", primary->name,
			   containers[i]->name);
		ret = iw_report_init(&alt);
		if (ret < 0)
			return ret;
		alt.depth = r->depth;
		ret = run_reader(containers[i], v, head, head_len, &alt, ctx);
		if (ret == 0)
			ret = iw_report_add_child(r, "alternative",
						  containers[i]->name, &alt);
		iw_report_done(&alt);
		if (ret < 0)
			return ret;
	}

	/* content readers look at the guest's bytes only (a fixed VHD's
	 * payload stops before its footer) */
	if (primary && r->payload_at_zero && r->payload_size > 0 &&
	    r->payload_size <= v->size) {
		ret = iw_view_init_sub(&payload, v, 0, r->payload_size);
		if (ret < 0)
			return ret;
		content_view = &payload;
	}
	for (size_t i = 0; i < n_contents; i++) {
		struct iw_report c;

		if (primary && !r->payload_at_zero)
			iw_finding(r, IW_F_MULTIPLE_FORMATS,
				   "the %s file also carries %s structures",
				   primary->name, contents[i]->name);
		ret = iw_report_init(&c);
		if (ret < 0)
			return ret;
		c.depth = r->depth;
		ret = run_reader(contents[i], content_view, head,
				 (size_t)MIN((uint64_t)head_len, content_view->size),
				 &c, ctx);
		if (ret == 0) {
			c.format = contents[i]->name;
			ret = iw_report_add_child(r, "content",
						  contents[i]->name, &c);
		}
		iw_report_done(&c);
		if (ret < 0)
			return ret;
	}

	if (strcmp(qemu_pick, "raw") != 0 &&
	    strcmp(qemu_pick, r->format) != 0) {
		bool seen = false;

		for (size_t i = 0; i < n_containers; i++)
			if (strcmp(containers[i]->name, qemu_pick) == 0)
				seen = true;
		if (!seen)
			iw_finding(r, IW_F_MULTIPLE_FORMATS,
				   "qemu would open this file as %s, which "
				   "imgward does not recognise in it",
				   r->qemu_probe);
	}
	if (strcmp(qemu_pick, r->format) != 0)
		iw_finding(r, IW_F_QEMU_PROBE_DIFFERS,
			   "qemu's auto-detection picks %s, not %s",
			   r->qemu_probe, r->format);
	return 0;
}

int iw_probe(const struct iw_view *v, struct iw_report *r)
{
	struct iw_probe_ctx ctx = { .depth = 0 };

	return probe_view(&ctx, v, r);
}

/*
 * One reader on its own, as probe_view() runs it when it is the primary
 * (or a content reader): for the per-reader fuzz harnesses, which would
 * otherwise reach a reader only when no other reader claims the input.
 */
int iw_probe_one(const char *reader, const struct iw_view *v,
		 struct iw_report *r)
{
	struct iw_probe_ctx ctx = { .depth = 0 };
	const struct iw_format *f = iw_format_by_name(reader);
	_cleanup_free_ uint8_t *head = NULL;
	size_t head_len;
	int ret;

	if (!f)
		return -ENOENT;
	ret = read_head(v, &head, &head_len);
	if (ret < 0)
		return ret;
	/* probe() may rely on what match() checked */
	if (!f->match(v, head, head_len))
		return -EMEDIUMTYPE;
	iw_report_add_match(r, f->name);
	ret = run_reader(f, v, head, head_len, r, &ctx);
	if (ret == 0 && f->kind == IW_KIND_CONTENT)
		r->format = f->name;
	return ret;
}

int iw_probe_nested(struct iw_probe_ctx *ctx, const struct iw_view *inner,
		    struct iw_report *child)
{
	int ret;

	if (ctx->depth + 1 > IW_MAX_NESTING)
		return -ELOOP;
	ctx->depth++;
	child->depth = ctx->depth;
	ret = probe_view(ctx, inner, child);
	ctx->depth--;
	return ret;
}
